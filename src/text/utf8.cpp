#include "textcnn/text/utf8.h"

#include "textcnn/core/error.h"

#include <fmt/format.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>

#include <algorithm>
#include <array>
#include <utility>
#include <cstring>

namespace textcnn {
namespace {

constexpr std::uint64_t high_bits = 0x8080808080808080ULL;

bool is_continuation(unsigned char b) { return (b & 0xC0) == 0x80; }

/// Second-byte range of a multi-byte sequence (Table 3-7 of the Unicode standard).
struct SecondByteRange {
    unsigned char lo = 0x80, hi = 0xBF;
};

SecondByteRange second_byte_range(unsigned char lead) {
    switch (lead) {
    case 0xE0: return {0xA0, 0xBF};  // no overlong 3-byte forms
    case 0xED: return {0x80, 0x9F};  // no surrogates
    case 0xF0: return {0x90, 0xBF};  // no overlong 4-byte forms
    case 0xF4: return {0x80, 0x8F};  // nothing above U+10FFFF
    default: return {};
    }
}

/// Sequence length announced by a lead byte, or 0 for a byte that cannot start one.
std::size_t announced_length(unsigned char lead) {
    if (lead < 0x80) return 1;
    if (lead < 0xC2) return 0;
    if (lead < 0xE0) return 2;
    if (lead < 0xF0) return 3;
    if (lead < 0xF5) return 4;
    return 0;
}

/// Number of bytes at text[pos] that form one maximal invalid subpart (>= 1), assuming the
/// sequence there is not valid.
std::size_t invalid_subpart_length(std::string_view text, std::size_t pos) {
    const auto lead = static_cast<unsigned char>(text[pos]);
    const std::size_t want = announced_length(lead);
    if (want <= 1) return 1;
    std::size_t n = 1;
    const SecondByteRange range = second_byte_range(lead);
    if (pos + n < text.size()) {
        const auto b = static_cast<unsigned char>(text[pos + n]);
        if (b < range.lo || b > range.hi) return n;
        ++n;
    }
    while (n < want && pos + n < text.size() && is_continuation(static_cast<unsigned char>(text[pos + n]))) ++n;
    return n;
}

/// Index of the first byte that is not ASCII, or text.size().
std::size_t ascii_prefix(std::string_view text, std::size_t pos) {
    const char* p = text.data();
    const std::size_t n = text.size();
    while (pos + 8 <= n) {
        std::uint64_t word;
        std::memcpy(&word, p + pos, 8);
        if (word & high_bits) break;
        pos += 8;
    }
    while (pos < n && static_cast<unsigned char>(p[pos]) < 0x80) ++pos;
    return pos;
}

}  // namespace

std::string to_string(InvalidUtf8 policy) { return policy == InvalidUtf8::error ? "error" : "replace"; }

InvalidUtf8 parse_invalid_utf8(std::string_view text) {
    if (text == "error") return InvalidUtf8::error;
    if (text == "replace") return InvalidUtf8::replace;
    throw ConfigError(fmt::format("invalid-utf8: unknown policy '{}' (expected error or replace)", text));
}

bool is_ascii(std::string_view text) { return ascii_prefix(text, 0) == text.size(); }

std::size_t utf8_sequence_length(std::string_view text, std::size_t pos) {
    const auto lead = static_cast<unsigned char>(text[pos]);
    const std::size_t want = announced_length(lead);
    if (want <= 1) return want;
    if (pos + want > text.size()) return 0;
    const SecondByteRange range = second_byte_range(lead);
    const auto second = static_cast<unsigned char>(text[pos + 1]);
    if (second < range.lo || second > range.hi) return 0;
    for (std::size_t i = 2; i < want; ++i)
        if (!is_continuation(static_cast<unsigned char>(text[pos + i]))) return 0;
    return want;
}

char32_t decode_utf8(std::string_view text, std::size_t pos, std::size_t length) {
    const auto byte = [&](std::size_t i) { return static_cast<char32_t>(static_cast<unsigned char>(text[pos + i])); };
    switch (length) {
    case 1: return byte(0);
    case 2: return ((byte(0) & 0x1F) << 6) | (byte(1) & 0x3F);
    case 3: return ((byte(0) & 0x0F) << 12) | ((byte(1) & 0x3F) << 6) | (byte(2) & 0x3F);
    default: return ((byte(0) & 0x07) << 18) | ((byte(1) & 0x3F) << 12) | ((byte(2) & 0x3F) << 6) | (byte(3) & 0x3F);
    }
}

void append_utf8(char32_t c, std::string& out) {
    if (c < 0x80) {
        out.push_back(static_cast<char>(c));
    } else if (c < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (c >> 6)));
        out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else if (c < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (c >> 12)));
        out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (c >> 18)));
        out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    }
}

std::optional<std::size_t> find_invalid_utf8(std::string_view text) {
    std::size_t pos = 0;
    while (true) {
        pos = ascii_prefix(text, pos);
        if (pos == text.size()) return std::nullopt;
        const std::size_t length = utf8_sequence_length(text, pos);
        if (length == 0) return pos;
        pos += length;
    }
}

std::size_t append_repaired_utf8(std::string_view text, std::string& out) {
    std::size_t replacements = 0;
    std::size_t run_start = 0;  // start of the valid bytes not yet copied
    std::size_t pos = 0;
    while (true) {
        pos = ascii_prefix(text, pos);
        if (pos == text.size()) break;
        const std::size_t length = utf8_sequence_length(text, pos);
        if (length > 0) {
            pos += length;
            continue;
        }
        out.append(text.substr(run_start, pos - run_start));
        out.append("\xEF\xBF\xBD");
        ++replacements;
        pos += invalid_subpart_length(text, pos);
        run_start = pos;
    }
    out.append(text.substr(run_start));
    return replacements;
}

std::string repair_utf8(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    append_repaired_utf8(text, out);
    return out;
}

Utf8Reader::Utf8Reader(std::istream& in, std::string source, InvalidUtf8 policy, std::size_t chunk_bytes)
    : in_(&in), source_(std::move(source)), policy_(policy), chunk_bytes_(std::max<std::size_t>(chunk_bytes, 16)) {}

void Utf8Reader::count_lines(std::string_view bytes) {
    // A line ends at LF, CRLF (counted once) or a lone CR.
    for (const char c : bytes) {
        if (c == '\n') {
            if (!previous_was_cr_) ++line_;
            previous_was_cr_ = false;
        } else if (c == '\r') {
            ++line_;
            previous_was_cr_ = true;
        } else {
            previous_was_cr_ = false;
        }
    }
}

// Up to `capacity` bytes, stopping after the first LF or CR: one byte at a time from the stream's
// buffer, so a pipe's read returns with what the writer has sent so far.
std::size_t Utf8Reader::read_line(char* out, std::size_t capacity) {
    using traits = std::char_traits<char>;
    std::streambuf& buffer = *in_->rdbuf();
    std::size_t n = 0;
    while (n < capacity) {
        const traits::int_type c = buffer.sbumpc();
        if (traits::eq_int_type(c, traits::eof())) {
            at_end_ = true;
            break;
        }
        out[n] = traits::to_char_type(c);
        if (out[n++] == '\n') break;
        if (out[n - 1] == '\r') {
            // The LF of a CRLF goes with its CR when it has arrived, so that a line's end never
            // looks like the start of the next line still on its way.
            if (n < capacity && buffer.in_avail() > 0 && traits::eq_int_type(buffer.sgetc(), '\n'))
                out[n++] = traits::to_char_type(buffer.sbumpc());
            break;
        }
    }
    return n;
}

std::string_view Utf8Reader::next_chunk() {
    while (true) {
        // Bring the bytes of a code point cut by the previous chunk boundary to the front.
        if (tail_size_ > 0) std::memmove(raw_.data(), raw_.data() + tail_begin_, tail_size_);
        std::size_t size = tail_size_;
        tail_size_ = 0;
        if (at_end_ && size == 0) return {};
        if (!at_end_) {
            raw_.resize(size + chunk_bytes_);
            if (line_at_a_time_) {
                size += read_line(raw_.data() + size, chunk_bytes_);
            } else {
                in_->read(raw_.data() + size, static_cast<std::streamsize>(chunk_bytes_));
                if (in_->bad()) throw IoError(fmt::format("{}: read error after byte {}", source_, offset_ + size));
                const auto got = static_cast<std::size_t>(in_->gcount());
                size += got;
                if (got < chunk_bytes_) at_end_ = true;
            }
        }
        std::size_t begin = 0;
        if (at_start_) {
            // read() fills the whole request unless the stream ends, so the first chunk holds
            // at least three bytes whenever the stream does (a line at a time: the first line,
            // which holds the whole mark).
            at_start_ = false;
            if (size >= 3 && std::memcmp(raw_.data(), "\xEF\xBB\xBF", 3) == 0) begin = 3;
        }
        // Keep a code point cut by the chunk boundary for the next round.
        std::size_t split = size;
        if (!at_end_) {
            std::size_t back = 0;
            while (back < 3 && back < size - begin && is_continuation(static_cast<unsigned char>(raw_[size - 1 - back])))
                ++back;
            if (back < size - begin) {
                const std::size_t lead_pos = size - 1 - back;
                if (announced_length(static_cast<unsigned char>(raw_[lead_pos])) > back + 1) split = lead_pos;
            }
        }
        tail_begin_ = split;
        tail_size_ = size - split;
        const std::string_view data(raw_.data() + begin, split - begin);
        const std::uint64_t data_offset = offset_ + begin;
        offset_ += split;

        std::string_view result = data;
        if (const auto invalid = find_invalid_utf8(data)) {
            if (policy_ == InvalidUtf8::error) {
                count_lines(data.substr(0, *invalid));
                std::string bytes;
                const std::size_t shown =
                    std::min<std::size_t>(invalid_subpart_length(data, *invalid) + 1, data.size() - *invalid);
                for (std::size_t i = 0; i < shown; ++i)
                    bytes += fmt::format("{}0x{:02x}", i ? " " : "", static_cast<unsigned char>(data[*invalid + i]));
                throw InputError(
                    fmt::format("{}:{}: invalid UTF-8 at byte {} ({})", source_, line_, data_offset + *invalid, bytes));
            }
            repaired_.clear();
            replacements_ += append_repaired_utf8(data, repaired_);
            result = repaired_;
        }
        count_lines(data);
        if (!result.empty()) return result;
        // Nothing to hand out (a chunk that held only a byte-order mark or a cut code point).
    }
}

std::optional<ControlCharacter> find_control_character(std::string_view text) {
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto b = static_cast<unsigned char>(text[i]);
        if (b < 0x20 || b == 0x7f) return ControlCharacter{i, b};
        if (i + 1 < text.size() && b == 0xc2) {  // U+0080..U+00BF: C1 controls up to U+009F
            const auto c = static_cast<unsigned char>(text[i + 1]);
            if (c >= 0x80 && c <= 0x9f) return ControlCharacter{i, c};
        }
        if (i + 2 < text.size() && b == 0xe2 && static_cast<unsigned char>(text[i + 1]) == 0x80) {
            const auto c = static_cast<unsigned char>(text[i + 2]);
            if (c == 0xa8 || c == 0xa9) return ControlCharacter{i, static_cast<char32_t>(0x2000 + c - 0x80)};
        }
    }
    return std::nullopt;
}

std::string describe_code_point(char32_t code_point) {
    const char* name = code_point == '\n'     ? "line feed"
                       : code_point == '\r'   ? "carriage return"
                       : code_point == '\t'   ? "tab"
                       : code_point == 0      ? "NUL"
                       : code_point == 0x85   ? "next line"
                       : code_point == 0x2028 ? "line separator"
                       : code_point == 0x2029 ? "paragraph separator"
                                              : "a control character";
    return fmt::format("U+{:04X} ({})", static_cast<std::uint32_t>(code_point), name);
}

namespace {

// Leading and trailing non-starters of a code point's NFKD decomposition, and whether it is
// made of non-starters only (UAX #15, section 13's algorithm).
struct NonStarters {
    std::size_t leading = 0, trailing = 0;
    bool only = false;
};

NonStarters non_starters(const icu::Normalizer2& nfkd, char32_t c) {
    icu::UnicodeString decomposition;
    if (!nfkd.getDecomposition(static_cast<UChar32>(c), decomposition)) {
        const bool non_starter = u_getCombiningClass(static_cast<UChar32>(c)) != 0;
        return {non_starter, non_starter, non_starter};
    }
    // Leading: the non-starters before the first starter; trailing: those after the last.
    NonStarters n;
    bool starter_seen = false;
    for (std::int32_t i = 0; i < decomposition.length();) {
        const UChar32 d = decomposition.char32At(i);
        i += U16_LENGTH(d);
        if (u_getCombiningClass(d) != 0) {
            ++(starter_seen ? n.trailing : n.leading);
            continue;
        }
        starter_seen = true;
        n.trailing = 0;
    }
    n.only = !starter_seen;
    if (n.only) n.trailing = n.leading;
    return n;
}

}  // namespace

std::size_t stream_safe_utf8(std::string_view text, std::string& out, std::string_view joiner) {
    UErrorCode status = U_ZERO_ERROR;
    const icu::Normalizer2* nfkd = icu::Normalizer2::getNFKDInstance(status);
    if (U_FAILURE(status)) throw Error(fmt::format("stream-safe text: ICU NFKD instance failed: {}", u_errorName(status)));
    std::size_t run = 0, inserted = 0, copied = 0;
    for (std::size_t pos = 0; pos < text.size();) {
        const auto byte = static_cast<unsigned char>(text[pos]);
        if (byte < 0x80) {  // ASCII: starters with no decomposition
            run = 0;
            ++pos;
            continue;
        }
        const std::size_t valid = utf8_sequence_length(text, pos), length = std::max<std::size_t>(1, valid);
        const char32_t c = valid ? decode_utf8(text, pos, length) : U'\uFFFD';
        // Starters NFKD leaves alone or splits into starters only: CJK ideographs and Hangul
        // syllables (whose jamo are starters) by range, the rest by one lookup.
        const bool ideograph_or_hangul = (c >= 0x3400 && c <= 0x9FFF) || (c >= 0xAC00 && c <= 0xD7A3);
        if (ideograph_or_hangul || nfkd->isInert(static_cast<UChar32>(c))) {
            run = 0;
            pos += length;
            continue;
        }
        // Accented letters and the like: their counts, remembered (a text uses few of them).
        thread_local std::array<std::pair<char32_t, NonStarters>, 256> seen{};
        auto& slot = seen[(c ^ (c >> 8)) & 0xFF];
        if (slot.first != c + 1) slot = {c + 1, non_starters(*nfkd, c)};  // + 1: an empty slot holds 0
        const NonStarters n = slot.second;
        if (run + n.leading > max_non_starter_run) {
            if (inserted++ == 0) out.clear();
            out.append(text.substr(copied, pos - copied));
            out += joiner;  // U+034F COMBINING GRAPHEME JOINER unless told otherwise
            copied = pos;
            run = 0;
        }
        run = n.only ? run + n.leading : n.trailing;
        pos += length;
    }
    if (inserted) out.append(text.substr(copied));
    return inserted;
}

}  // namespace textcnn
