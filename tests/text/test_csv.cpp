#define BOOST_TEST_MODULE csv
#include <boost/test/unit_test.hpp>

#include "textcnn/text/csv.h"
#include "textcnn/core/error.h"

#include <random>
#include <sstream>
#include <utility>

using namespace textcnn;

namespace {

using Fields = std::vector<std::string>;

struct Parsed {
    std::vector<Fields> records;
    std::vector<std::size_t> lines;
};

Parsed parse(const std::string& text, CsvOptions options = {}, std::size_t expected_fields = 0) {
    std::istringstream in(text);
    CsvReader reader(in, "data.csv", options);
    reader.expect_fields(expected_fields);
    Parsed parsed;
    CsvRecord record;
    while (reader.next(record)) {
        parsed.records.push_back(record.fields);
        parsed.lines.push_back(record.line);
    }
    return parsed;
}

std::string error_of(const std::string& text, std::size_t expected_fields = 0, CsvOptions options = {}) {
    try {
        parse(text, options, expected_fields);
    } catch (const InputError& e) {
        return e.what();
    }
    return "no error";
}

}  // namespace

BOOST_AUTO_TEST_CASE(plain_records_and_their_lines) {
    const auto p = parse("label,text\npos,good\nneg,bad\n");
    BOOST_TEST(p.records == (std::vector<Fields>{{"label", "text"}, {"pos", "good"}, {"neg", "bad"}}));
    BOOST_TEST(p.lines == (std::vector<std::size_t>{1, 2, 3}));
}

BOOST_AUTO_TEST_CASE(quoted_fields_with_delimiters_quotes_and_newlines) {
    const auto p = parse("a,\"x, y\"\n\"he said \"\"hi\"\"\",2\n\"two\nlines\",3\nafter,4\n");
    BOOST_TEST(p.records == (std::vector<Fields>{{"a", "x, y"}, {"he said \"hi\"", "2"}, {"two\nlines", "3"}, {"after", "4"}}));
    BOOST_TEST(p.lines == (std::vector<std::size_t>{1, 2, 3, 5}));
}

BOOST_AUTO_TEST_CASE(crlf_line_ends_and_crlf_inside_quotes) {
    const auto p = parse("a,b\r\n\"x\r\ny\",z\r\nlast,one\r\n");
    BOOST_TEST(p.records == (std::vector<Fields>{{"a", "b"}, {"x\r\ny", "z"}, {"last", "one"}}));
    BOOST_TEST(p.lines == (std::vector<std::size_t>{1, 2, 4}));
}

BOOST_AUTO_TEST_CASE(lone_cr_ends_a_record) {
    const auto p = parse("a,b\rc,d\r");
    BOOST_TEST(p.records == (std::vector<Fields>{{"a", "b"}, {"c", "d"}}));
    BOOST_TEST(p.lines == (std::vector<std::size_t>{1, 2}));
}

BOOST_AUTO_TEST_CASE(byte_order_mark_is_dropped) {
    const auto p = parse("\xEF\xBB\xBFtext,label\nhi,x\n");
    BOOST_TEST(p.records == (std::vector<Fields>{{"text", "label"}, {"hi", "x"}}));
}

BOOST_AUTO_TEST_CASE(last_record_without_line_end) {
    const auto p = parse("a,b\nc,\"d\"");
    BOOST_TEST(p.records == (std::vector<Fields>{{"a", "b"}, {"c", "d"}}));
}

BOOST_AUTO_TEST_CASE(empty_fields_blank_lines_and_spaces) {
    const auto p = parse("a,b,\n,\n\"\"\n\n\r\n  x , y \n");
    BOOST_TEST(p.records == (std::vector<Fields>{{"a", "b", ""}, {"", ""}, {""}, {"  x ", " y "}}));
    BOOST_TEST(p.lines == (std::vector<std::size_t>{1, 2, 3, 6}));
}

// Noticed in session 18: a blank line between rows was skipped unsaid, so a one-column CSV
// scored by predict gave fewer output lines than it has lines, and a join by position broke.
BOOST_AUTO_TEST_CASE(blank_lines_before_a_record_are_counted_those_at_the_end_are_not) {
    const auto blanks = [](const std::string& text) {
        std::istringstream in(text);
        CsvReader reader(in, "data.csv", {});
        CsvRecord record;
        while (reader.next(record)) {
        }
        return std::pair{reader.blank_lines(), reader.first_blank_line()};
    };
    BOOST_TEST((blanks("a\nb\n") == std::pair<std::size_t, std::size_t>{0, 0}));
    BOOST_TEST((blanks("a\n\nb\n\r\n\r\nc\n") == std::pair<std::size_t, std::size_t>{3, 2}));
    BOOST_TEST((blanks("\na\n") == std::pair<std::size_t, std::size_t>{1, 1}));
    BOOST_TEST((blanks("a\nb\n\n\n") == std::pair<std::size_t, std::size_t>{0, 0}));  // trailing: no row moves
    // Inside a quoted field a blank line is text, not a blank line.
    BOOST_TEST((blanks("\"x\n\ny\"\nb\n") == std::pair<std::size_t, std::size_t>{0, 0}));
}

BOOST_AUTO_TEST_CASE(quote_inside_an_unquoted_field_is_literal) {
    const auto p = parse("5\" screen,ok\n");
    BOOST_TEST(p.records == (std::vector<Fields>{{"5\" screen", "ok"}}));
}

BOOST_AUTO_TEST_CASE(tab_delimiter) {
    CsvOptions options;
    options.delimiter = '\t';
    const auto p = parse("label\ttext\npos\t\"a\tquoted, tab\"\nneg\tcomma, kept\n", options);
    BOOST_TEST(p.records == (std::vector<Fields>{{"label", "text"}, {"pos", "a\tquoted, tab"}, {"neg", "comma, kept"}}));
}

BOOST_AUTO_TEST_CASE(unbalanced_quote_names_the_line_where_it_opened) {
    BOOST_TEST(error_of("label,text\npos,fine\nneg,\"never closed\nmore\nand more\n") ==
               "data.csv:3: unbalanced quote: the quoted field 2 that opens on line 3 is still open at the end of the "
               "file");
}

BOOST_AUTO_TEST_CASE(unbalanced_quote_is_fatal_even_when_skipping) {
    CsvOptions options;
    options.skip_bad_rows = true;
    BOOST_TEST(error_of("a,b\n\"x,y\n", 2, options) ==
               "data.csv:2: unbalanced quote: the quoted field 1 that opens on line 2 is still open at the end of the "
               "file");
}

BOOST_AUTO_TEST_CASE(wrong_field_count) {
    BOOST_TEST(error_of("label,text\npos,a\nneg,b,c\n", 2) == "data.csv:3: expected 2 fields, found 3");
    BOOST_TEST(error_of("label,text\npos,a\n\nneg\n", 2) == "data.csv:4: expected 2 fields, found 1");
}

BOOST_AUTO_TEST_CASE(text_after_closing_quote) {
    BOOST_TEST(error_of("a,b\n\"say \"hi\" now\",x\n") ==
               "data.csv:2: field 1: unexpected text after a closing quote (a quote inside a quoted field must be "
               "doubled)");
    // An unbalanced quote in mid-file runs on to the next quote: the error names both lines.
    BOOST_TEST(error_of("label,text\npos,\"great film\nneg,\"bad\" one\npos,fine\n") ==
               "data.csv:3: field 2: unexpected text after a closing quote (a quote inside a quoted field must be "
               "doubled); the quoted field opened on line 2");
}

BOOST_AUTO_TEST_CASE(skip_bad_rows_counts_and_keeps_the_first_reason) {
    std::istringstream in("label,text\npos,a\nneg,b,c\n\"x\"y,z\nneg,d\npos\n");
    CsvOptions options;
    options.skip_bad_rows = true;
    CsvReader reader(in, "data.csv", options);
    CsvRecord record;
    BOOST_TEST_REQUIRE(reader.next(record));
    reader.expect_fields(record.fields.size());
    std::vector<Fields> kept;
    std::vector<std::size_t> lines;
    while (reader.next(record)) {
        kept.push_back(record.fields);
        lines.push_back(record.line);
    }
    BOOST_TEST(kept == (std::vector<Fields>{{"pos", "a"}, {"neg", "d"}}));
    BOOST_TEST(lines == (std::vector<std::size_t>{2, 5}));
    BOOST_TEST(reader.skipped_rows() == 3u);
    BOOST_TEST(reader.first_skip_reason() == "data.csv:3: expected 2 fields, found 3");
}

BOOST_AUTO_TEST_CASE(invalid_utf8_is_an_error_or_replaced) {
    BOOST_TEST(error_of("a,b\nok,\"bad \xC3\x28\"\n") == "data.csv:2: invalid UTF-8 at byte 12 (0xc3 0x28)");
    CsvOptions options;
    options.invalid_utf8 = InvalidUtf8::replace;
    std::istringstream in("a,b\nok,\"bad \xC3\x28\"\n");
    CsvReader reader(in, "data.csv", options);
    CsvRecord record;
    BOOST_TEST_REQUIRE(reader.next(record));
    BOOST_TEST_REQUIRE(reader.next(record));
    BOOST_TEST(record.fields == (Fields{"ok", "bad \xEF\xBF\xBD("}));
    BOOST_TEST(reader.utf8_replacements() == 1u);
}

BOOST_AUTO_TEST_CASE(overlong_record_is_an_error) {
    CsvOptions options;
    options.max_record_bytes = 100;
    BOOST_TEST(error_of("a,b\n\"" + std::string(200, 'x'), 0, options) ==
               "data.csv:2: record is longer than 100 bytes (an unbalanced quote?)");
}

BOOST_AUTO_TEST_CASE(many_records_across_read_chunks) {
    // More than one 64 KiB read, with CRLFs, quotes and embedded newlines at every offset.
    std::string text = "id,text\r\n";
    std::vector<Fields> expected;
    for (int i = 0; i < 20000; ++i) {
        const std::string id = std::to_string(i);
        Fields f{id, std::string(static_cast<std::size_t>(i % 7), 'x') + "\"q\",\n" + id};
        expected.push_back(f);
        text += id + ",\"" + std::string(static_cast<std::size_t>(i % 7), 'x') + "\"\"q\"\",\n" + id + "\"\r\n";
    }
    const auto p = parse(text, {}, 0);
    BOOST_TEST_REQUIRE(p.records.size() == expected.size() + 1);
    for (std::size_t i = 0; i < expected.size(); ++i) {
        BOOST_TEST_REQUIRE(p.records[i + 1] == expected[i]);
        BOOST_TEST_REQUIRE(p.lines[i + 1] == 2 + 2 * i);
    }
}

BOOST_AUTO_TEST_CASE(quote_as_delimiter_is_refused) {
    CsvOptions options;
    options.delimiter = '"';
    std::istringstream in("");
    BOOST_CHECK_THROW(CsvReader(in, "data.csv", options), ConfigError);
}

BOOST_AUTO_TEST_CASE(random_records_round_trip) {
    // Records written the RFC 4180 way (fields quoted when needed, or at random) read back
    // exactly, whatever their content, line ends and delimiter.
    std::mt19937 rng(9);
    const std::vector<std::string> pieces = {"a", "b c", ",", "\t", "\"", "\"\"", "\n", "\r", "\r\n", "é", "😀", " ", ""};
    for (int trial = 0; trial < 300; ++trial) {
        CsvOptions options;
        options.delimiter = trial % 2 ? ',' : '\t';
        const std::string line_end = trial % 3 == 0 ? "\r\n" : "\n";
        const std::size_t columns = 1 + rng() % 4;
        std::vector<Fields> records;
        std::string text;
        for (int r = static_cast<int>(rng() % 20); r > 0; --r) {
            Fields record;
            for (std::size_t c = 0; c < columns; ++c) {
                std::string field;
                for (int k = static_cast<int>(rng() % 4); k > 0; --k) field += pieces[rng() % pieces.size()];
                const bool needs_quotes = field.find_first_of(std::string("\"\r\n") + options.delimiter) != std::string::npos ||
                                          (columns == 1 && field.empty());
                if (c) text += options.delimiter;
                if (needs_quotes || rng() % 4 == 0) {
                    text += '"';
                    for (const char ch : field) text += ch == '"' ? std::string("\"\"") : std::string(1, ch);
                    text += '"';
                } else {
                    text += field;
                }
                record.push_back(field);
            }
            records.push_back(record);
            text += line_end;
        }
        if (!text.empty() && rng() % 2) text.resize(text.size() - line_end.size());  // no final line end
        const auto parsed = parse(text, options, columns);
        BOOST_TEST_REQUIRE(parsed.records == records, "input: " << text);
    }
}

BOOST_AUTO_TEST_CASE(random_bytes_only_ever_raise_input_errors) {
    std::mt19937 rng(10);
    const std::string alphabet = ",\"\r\n\tab \xC3\xA9\xFF\x80";
    for (int trial = 0; trial < 3000; ++trial) {
        std::string text;
        for (int k = static_cast<int>(rng() % 40); k > 0; --k) text += alphabet[rng() % alphabet.size()];
        CsvOptions options;
        options.skip_bad_rows = rng() % 2;
        options.invalid_utf8 = rng() % 2 ? InvalidUtf8::replace : InvalidUtf8::error;
        std::istringstream in(text);
        CsvReader reader(in, "fuzz.csv", options);
        reader.expect_fields(rng() % 3);
        CsvRecord record;
        try {
            while (reader.next(record))
                for (const auto& field : record.fields) BOOST_TEST_REQUIRE(is_valid_utf8(field));
        } catch (const InputError& e) {
            BOOST_TEST_REQUIRE(std::string(e.what()).rfind("fuzz.csv:", 0) == 0u, e.what());
        }
    }
}

// Issue 15: a 60 MB line of commas took 2.1 GB (one std::string per empty field) before
// "expected 2 fields". Fields beyond the expected count are counted, not stored.
BOOST_AUTO_TEST_CASE(fields_beyond_the_expected_count_are_not_stored) {
    std::istringstream in("label,text\npos," + std::string(1000000, ',') + "\nneg,fine\n");
    CsvOptions options;
    options.skip_bad_rows = true;
    CsvReader reader(in, "data.csv", options);
    CsvRecord record;
    BOOST_TEST_REQUIRE(reader.next(record));
    reader.expect_fields(record.fields.size());
    BOOST_TEST_REQUIRE(reader.next(record));
    BOOST_TEST(record.fields == (Fields{"neg", "fine"}));
    BOOST_TEST(record.fields.capacity() < 100u);  // the skipped row's million fields were never stored
    BOOST_TEST(reader.first_skip_reason() == "data.csv:2: expected 2 fields, found 1000002");
    BOOST_TEST(error_of("label,text\npos," + std::string(1000000, ',') + "\n", 2) ==
               "data.csv:2: expected 2 fields, found 1000002");
    // Without an expected count (a header row), max_fields bounds the record.
    options.skip_bad_rows = false;
    options.max_fields = 10;
    BOOST_TEST(error_of(std::string(20, ',') + "\n", 0, options) == "data.csv:1: more than 10 fields");
    BOOST_TEST(parse(std::string(9, ',') + "\n", options).records.at(0).size() == 10u);
}
