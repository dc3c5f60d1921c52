#define BOOST_TEST_MODULE utf8
#include <boost/test/unit_test.hpp>

#include "textcnn/core/error.h"
#include "textcnn/text/utf8.h"

#include <unicode/ustring.h>

#include <random>
#include <sstream>

using namespace textcnn;

namespace {

const std::string replacement = "\xEF\xBF\xBD";

/// ICU's own substitution of ill-formed UTF-8 (u_strFromUTF8WithSub), back to UTF-8: an
/// independent implementation of the same "maximal subpart" practice.
std::string icu_repair(const std::string& bytes) {
    std::vector<UChar> utf16(bytes.size() + 1);
    int32_t length = 0;
    int32_t substitutions = 0;
    UErrorCode status = U_ZERO_ERROR;
    u_strFromUTF8WithSub(utf16.data(), static_cast<int32_t>(utf16.size()), &length, bytes.data(),
                         static_cast<int32_t>(bytes.size()), 0xFFFD, &substitutions, &status);
    BOOST_REQUIRE(U_SUCCESS(status));
    std::string out(bytes.size() * 3 + 4, '\0');
    int32_t out_length = 0;
    u_strToUTF8(out.data(), static_cast<int32_t>(out.size()), &out_length, utf16.data(), length, &status);
    BOOST_REQUIRE(U_SUCCESS(status));
    out.resize(static_cast<std::size_t>(out_length));
    return out;
}

std::string read_everything(Utf8Reader& reader) {
    std::string all;
    for (auto chunk = reader.next_chunk(); !chunk.empty(); chunk = reader.next_chunk()) {
        BOOST_TEST(is_valid_utf8(chunk));
        all += chunk;
    }
    return all;
}

std::string error_of(const std::string& bytes, std::size_t chunk = 1 << 16) {
    std::istringstream in(bytes);
    Utf8Reader reader(in, "t.txt", InvalidUtf8::error, chunk);
    try {
        read_everything(reader);
    } catch (const InputError& e) {
        return e.what();
    }
    return "no error";
}

}  // namespace

BOOST_AUTO_TEST_CASE(ascii_detection) {
    BOOST_TEST(is_ascii(""));
    BOOST_TEST(is_ascii("plain text with 0123456789 and punctuation!"));
    BOOST_TEST(!is_ascii("caf\xC3\xA9"));
    BOOST_TEST(!is_ascii(std::string(37, 'a') + "\x80"));  // past the 8-byte blocks
    BOOST_TEST(!is_ascii("\xFF" + std::string(20, 'a')));
}

BOOST_AUTO_TEST_CASE(first_invalid_offset) {
    BOOST_TEST(!find_invalid_utf8("abc").has_value());
    BOOST_TEST(!find_invalid_utf8("\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x8D \xF4\x8F\xBF\xBF").has_value());
    BOOST_TEST(find_invalid_utf8("abc\xC3\x28").value() == 3u);          // lead without continuation
    BOOST_TEST(find_invalid_utf8("\xC0\xAF").value() == 0u);             // overlong '/'
    BOOST_TEST(find_invalid_utf8("\xE0\x80\xAF").value() == 0u);         // overlong 3-byte
    BOOST_TEST(find_invalid_utf8("x\xED\xA0\x80").value() == 1u);        // surrogate D800
    BOOST_TEST(find_invalid_utf8("\xF4\x90\x80\x80").value() == 0u);     // above U+10FFFF
    BOOST_TEST(find_invalid_utf8("\xF8\x88\x80\x80\x80").value() == 0u); // 5-byte form
    BOOST_TEST(find_invalid_utf8("ab\xE2\x82").value() == 2u);           // cut at the end
    BOOST_TEST(find_invalid_utf8("ok\x80").value() == 2u);               // lone continuation
    BOOST_TEST(find_invalid_utf8(std::string(100, 'a') + "\xFF").value() == 100u);
}

BOOST_AUTO_TEST_CASE(repair_follows_maximal_subparts) {
    // The example of the Unicode Standard, section 3.9 (U+FFFD substitution).
    const std::string bytes = "\x61\xF1\x80\x80\xE1\x80\xC2\x62\x80\x63\x80\xBF\x64";
    const std::string expected = "a" + replacement + replacement + replacement + "b" + replacement + "c" +
                                 replacement + replacement + "d";
    BOOST_TEST(repair_utf8(bytes) == expected);
    std::string out = "prefix:";
    BOOST_TEST(append_repaired_utf8(bytes, out) == 6u);
    BOOST_TEST(out == "prefix:" + expected);
    BOOST_TEST(repair_utf8("\xED\xA0\x80") == replacement + replacement + replacement);
    BOOST_TEST(repair_utf8("\xF4\x90\x80\x80") == replacement + replacement + replacement + replacement);
    BOOST_TEST(repair_utf8("valid \xC3\xA9") == "valid \xC3\xA9");
}

BOOST_AUTO_TEST_CASE(repair_agrees_with_icu_on_random_bytes) {
    std::mt19937 rng(7);
    const unsigned char interesting[] = {0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2,
                                         0xDF, 0xE0, 0xE1, 0xEC, 0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xFF};
    for (int trial = 0; trial < 20000; ++trial) {
        std::string bytes;
        const int length = static_cast<int>(rng() % 12);
        for (int i = 0; i < length; ++i) bytes.push_back(static_cast<char>(interesting[rng() % sizeof interesting]));
        const std::string repaired = repair_utf8(bytes);
        BOOST_TEST_REQUIRE(repaired == icu_repair(bytes));
        BOOST_TEST_REQUIRE(is_valid_utf8(repaired));
        BOOST_TEST_REQUIRE(find_invalid_utf8(bytes).has_value() == (repaired != bytes));
    }
}

BOOST_AUTO_TEST_CASE(encode_decode_round_trip) {
    for (const char32_t c : {U'A', U'\u00E9', U'\u20AC', U'\U0001F60D', U'\U0010FFFF'}) {
        std::string s;
        append_utf8(c, s);
        BOOST_TEST(utf8_sequence_length(s, 0) == s.size());
        BOOST_TEST(static_cast<std::uint32_t>(decode_utf8(s, 0, s.size())) == static_cast<std::uint32_t>(c));
    }
}

BOOST_AUTO_TEST_CASE(reader_passes_valid_text_through_any_chunking) {
    std::string text = "\xEF\xBB\xBF";  // byte-order mark, dropped
    for (int i = 0; i < 300; ++i) text += "line " + std::to_string(i) + " caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x8D\n";
    for (const std::size_t chunk : {16, 17, 19, 64, 1000, 1 << 16}) {
        std::istringstream in(text);
        Utf8Reader reader(in, "t.txt", InvalidUtf8::error, chunk);
        BOOST_TEST(read_everything(reader) == text.substr(3));
        BOOST_TEST(reader.bytes_read() == text.size());
    }
}

BOOST_AUTO_TEST_CASE(reader_names_line_and_byte_of_invalid_utf8) {
    BOOST_TEST(error_of("first\nsecond\nab\xFF\ncd") == "t.txt:3: invalid UTF-8 at byte 15 (0xff 0x0a)");
    BOOST_TEST(error_of("a\r\nb\rc\xC3\x28") == "t.txt:3: invalid UTF-8 at byte 6 (0xc3 0x28)");
    BOOST_TEST(error_of("ab\n\xE2\x82") == "t.txt:2: invalid UTF-8 at byte 3 (0xe2 0x82)");  // cut at the end
    // The byte offset counts a byte-order mark; the error sits across a chunk boundary.
    const std::string long_line = "\xEF\xBB\xBF" + std::string(20, 'x') + "\xE2\x82" + "y";
    BOOST_TEST(error_of(long_line, 16) == "t.txt:1: invalid UTF-8 at byte 23 (0xe2 0x82 0x79)");
}

BOOST_AUTO_TEST_CASE(reader_replaces_when_asked_across_chunk_boundaries) {
    std::mt19937 rng(3);
    for (int trial = 0; trial < 200; ++trial) {
        std::string bytes;
        const int length = static_cast<int>(rng() % 200);
        for (int i = 0; i < length; ++i) {
            const auto r = rng() % 10;
            if (r < 5) bytes.push_back(static_cast<char>('a' + rng() % 26));
            else if (r < 7) bytes += "\xE2\x82\xAC";
            else if (r < 8) bytes.push_back('\n');
            else bytes.push_back(static_cast<char>(0x80 + rng() % 128));
        }
        std::string expected;
        const std::size_t replacements = append_repaired_utf8(bytes, expected);
        std::istringstream in(bytes);
        Utf8Reader reader(in, "t.txt", InvalidUtf8::replace, 16 + rng() % 8);
        BOOST_TEST_REQUIRE(read_everything(reader) == expected);
        BOOST_TEST_REQUIRE(reader.replacements() == replacements);
    }
}

BOOST_AUTO_TEST_CASE(policy_names) {
    BOOST_TEST(to_string(parse_invalid_utf8("replace")) == "replace");
    BOOST_TEST(to_string(parse_invalid_utf8("error")) == "error");
    BOOST_CHECK_EXCEPTION(parse_invalid_utf8("ignore"), ConfigError, [](const ConfigError& e) {
        return std::string(e.what()) == "invalid-utf8: unknown policy 'ignore' (expected error or replace)";
    });
}

// Line at a time (predict behind a pipe): each chunk ends at the first line end, a CRLF whose LF
// has arrived stays whole, and the bytes are those of whole-chunk reading.
BOOST_AUTO_TEST_CASE(reader_line_at_a_time_stops_at_each_line_end) {
    const std::string text = "\xEF\xBB\xBFone\ntwo\r\nthree\rfour \xC3\xA9t\xC3\xA9\n\nlast";
    std::istringstream in(text);
    textcnn::Utf8Reader reader(in, "pipe", textcnn::InvalidUtf8::error, 16);
    reader.set_line_at_a_time(true);
    std::vector<std::string> chunks;
    for (auto c = reader.next_chunk(); !c.empty(); c = reader.next_chunk()) chunks.emplace_back(c);
    const std::vector<std::string> expected = {"one\n", "two\r\n", "three\r", "four \xC3\xA9t\xC3\xA9\n", "\n", "last"};
    BOOST_TEST(chunks == expected, boost::test_tools::per_element());
    // A line longer than the chunk is cut between code points, never inside one.
    std::istringstream long_line(std::string(15, 'x') + "\xC3\xA9" + "yz\n");
    textcnn::Utf8Reader cut(long_line, "pipe", textcnn::InvalidUtf8::error, 16);
    cut.set_line_at_a_time(true);
    BOOST_TEST(std::string(cut.next_chunk()) == std::string(15, 'x'));
    BOOST_TEST(std::string(cut.next_chunk()) == "\xC3\xA9yz\n");
}

// UAX #15's stream-safe format: a joiner (U+034F) after every 30 non-starters in a row,
// counted in NFKD decompositions; text without such runs is left alone.
BOOST_AUTO_TEST_CASE(stream_safe_text_bounds_runs_of_combining_marks) {
    const std::string acute = "\u0301", below = "\u0316", cgj = "\u034F";
    const auto repeat = [](const std::string& s, std::size_t n) {
        std::string out;
        for (std::size_t i = 0; i < n; ++i) out += s;
        return out;
    };
    std::string out = "untouched";
    BOOST_TEST(stream_safe_utf8("a" + repeat(acute, 30) + "b" + repeat(below, 30), out) == 0u);
    BOOST_TEST(out == "untouched");
    BOOST_TEST(stream_safe_utf8("plain ascii, caf\u00E9 \u4E2D\u6587", out) == 0u);
    BOOST_TEST(stream_safe_utf8("a" + repeat(acute, 31), out) == 1u);
    BOOST_TEST(out == "a" + repeat(acute, 30) + cgj + acute);
    // A precomposed letter's decomposition ends in a non-starter (U+00C0 is A + U+0300).
    BOOST_TEST(stream_safe_utf8("\u00C0" + repeat(acute, 30), out) == 1u);
    BOOST_TEST(out == "\u00C0" + repeat(acute, 29) + cgj + acute);
    // U+0F73 has combining class 0 but decomposes into two non-starters (0F71 0F72).
    BOOST_TEST(stream_safe_utf8(repeat("\u0F73", 16), out) == 1u);
    BOOST_TEST(out == repeat("\u0F73", 15) + cgj + "\u0F73");
    // U+FF9E (half-width voiced mark) is a non-starter under NFKD only (U+3099).
    BOOST_TEST(stream_safe_utf8(repeat("\uFF9E", 61), out) == 2u);
    BOOST_TEST(out == repeat("\uFF9E", 30) + cgj + repeat("\uFF9E", 30) + cgj + "\uFF9E");
    // 100,000 marks: a joiner after each 30, in one linear pass.
    const std::string long_run = "a" + repeat(acute + below, 50000);
    BOOST_TEST(stream_safe_utf8(long_run, out) == 3333u);
    BOOST_TEST(out.size() == long_run.size() + 3333 * cgj.size());
}
