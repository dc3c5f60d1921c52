#define BOOST_TEST_MODULE document_reader
#include <boost/test/unit_test.hpp>

#include "textcnn/text/document_reader.h"
#include "textcnn/core/error.h"

#include <random>
#include <tuple>
#include <sstream>

using namespace textcnn;

namespace {

const std::string fixtures = std::string(TEXTCNN_SOURCE_DIR) + "/tests/fixtures/text/";

struct Doc {
    std::string label;  // "-" for none
    std::string text;
    std::size_t line;
    bool operator==(const Doc&) const = default;
};

std::vector<Doc> all_of(DocumentReader& reader) {
    std::vector<Doc> docs;
    Document d;
    while (reader.next(d)) docs.push_back({d.label ? *d.label : "-", d.text, d.line});
    return docs;
}

std::vector<Doc> read_text(const std::string& text, const std::string& source, DocumentReaderOptions options = {}) {
    std::istringstream in(text);
    DocumentReader reader(in, source, options);
    return all_of(reader);
}

template <class E = InputError>
std::string error_of(const std::string& text, const std::string& source, DocumentReaderOptions options = {}) {
    try {
        read_text(text, source, options);
    } catch (const E& e) {
        return e.what();
    }
    return "no error";
}

}  // namespace

BOOST_AUTO_TEST_CASE(format_from_extension_and_names) {
    BOOST_TEST((format_from_extension("a/b/train.CSV") == InputFormat::csv));
    BOOST_TEST((format_from_extension("x.tsv") == InputFormat::tsv));
    BOOST_TEST((format_from_extension("x.tab") == InputFormat::tsv));
    BOOST_TEST((format_from_extension("x.ft") == InputFormat::fasttext));
    BOOST_TEST((format_from_extension("x.fasttext") == InputFormat::fasttext));
    BOOST_TEST((format_from_extension("x.txt") == InputFormat::plain));
    BOOST_TEST((format_from_extension("dir.csv/file") == InputFormat::plain));
    BOOST_TEST((format_from_extension("-") == InputFormat::plain));
    BOOST_TEST(to_string(parse_input_format("fasttext")) == "fasttext");
    BOOST_CHECK_EXCEPTION(parse_input_format("json"), ConfigError, [](const ConfigError& e) {
        return std::string(e.what()) == "format: unknown input format 'json' (expected auto, csv, tsv, fasttext or plain)";
    });
}

BOOST_AUTO_TEST_CASE(csv_fixture_by_column_names) {
    DocumentReader reader(fixtures + "reviews.csv");
    BOOST_TEST((reader.format() == InputFormat::csv));
    BOOST_TEST(reader.text_column() == 1u);
    BOOST_TEST(reader.label_column().value() == 2u);
    const auto docs = all_of(reader);
    BOOST_TEST((docs == std::vector<Doc>{{"positive", "A fine, funny film", 2},
                                         {"negative", "Dull \"and\" long", 3},
                                         {"negative", "", 4}}));
    BOOST_TEST(reader.report().warnings().empty());
}

BOOST_AUTO_TEST_CASE(csv_columns_by_position) {
    DocumentReaderOptions options;
    options.text_column = "1";
    options.label_column = "3";
    const auto docs = read_text("a,b,c\nhello,x,pos\n", "d.csv", options);
    BOOST_TEST((docs == std::vector<Doc>{{"pos", "hello", 2}}));
}

BOOST_AUTO_TEST_CASE(csv_missing_columns) {
    BOOST_TEST(error_of("label,body\npos,x\n", "d.csv") == "d.csv:1: no column 'text' (columns: 'label', 'body')");
    DocumentReaderOptions options;
    options.require_label = true;
    BOOST_TEST(error_of("id,text\n1,x\n", "d.csv", options) == "d.csv:1: no label column 'label' (columns: 'id', 'text')");
    options.text_column = "7";
    BOOST_TEST(error_of("label,text\npos,x\n", "d.csv", options) == "d.csv:1: no column '7' (columns: 'label', 'text')");
    BOOST_TEST(error_of("", "d.csv") == "d.csv: the file is empty: expected a header row");
}

BOOST_AUTO_TEST_CASE(csv_without_label_column_gives_unlabelled_documents) {
    const auto docs = read_text("text\nsome text\n\"\"\n", "d.csv");
    BOOST_TEST((docs == std::vector<Doc>{{"-", "some text", 2}, {"-", "", 3}}));
    // A label column named on purpose must exist even where labels are optional (predict,
    // tokenize): a misspelt name was taken as "no labels", unsaid.
    DocumentReaderOptions options;
    options.label_column = "sentiment";
    options.label_column_named = true;
    BOOST_TEST(error_of("label,text\npos,x\n", "d.csv", options) ==
               "d.csv:1: no label column 'sentiment' (columns: 'label', 'text')");
    BOOST_TEST((read_text("sentiment,text\npos,x\n", "d.csv", options) == std::vector<Doc>{{"pos", "x", 2}}));
}

BOOST_AUTO_TEST_CASE(csv_bad_rows_error_or_skip) {
    const std::string text = "label,text\npos,good\nneg,too,many\n,no label\nneg,fine\n";
    DocumentReaderOptions options;
    options.require_label = true;
    BOOST_TEST(error_of(text, "d.csv", options) == "d.csv:3: expected 2 fields, found 3");
    options.skip_bad_rows = true;
    std::istringstream in(text);
    DocumentReader reader(in, "d.csv", options);
    const auto docs = all_of(reader);
    BOOST_TEST((docs == std::vector<Doc>{{"pos", "good", 2}, {"neg", "fine", 5}}));
    const auto report = reader.report();
    BOOST_TEST(report.skipped_rows == 2u);
    BOOST_TEST(report.warnings() ==
               std::vector<std::string>{"d.csv: skipped 2 bad rows (first: d.csv:3: expected 2 fields, found 3)"});
}

BOOST_AUTO_TEST_CASE(tsv_fixture) {
    DocumentReader reader(fixtures + "reviews.tsv");
    BOOST_TEST((reader.format() == InputFormat::tsv));
    BOOST_TEST((all_of(reader) == std::vector<Doc>{{"positive", "great acting", 2}, {"negative", "tab\tinside", 3}}));
}

BOOST_AUTO_TEST_CASE(fasttext_fixture_takes_first_label_and_says_so) {
    DocumentReader reader(fixtures + "messages.ft");
    BOOST_TEST((reader.format() == InputFormat::fasttext));
    BOOST_TEST((all_of(reader) == std::vector<Doc>{{"spam", "Win a prize now", 1},
                                                   {"ham", "see you at 5", 2},
                                                   {"ham", "spaced   text", 3}}));
    BOOST_TEST(reader.report().warnings() ==
               std::vector<std::string>{fixtures + "messages.ft:2: 1 line has several labels (the first here); the first label of each was used"});
}

BOOST_AUTO_TEST_CASE(fasttext_lines_without_labels) {
    BOOST_TEST((read_text("no label here\n__label__x  text __label__y\n", "m.ft") ==
                std::vector<Doc>{{"-", "no label here", 1}, {"x", "text __label__y", 2}}));
    DocumentReaderOptions options;
    options.require_label = true;
    BOOST_TEST(error_of("__label__a fine\nno label\n", "m.ft", options) ==
               "m.ft:2: no label: the line does not start with '__label__'");
    BOOST_TEST(error_of("__label__ empty\n", "m.ft", options) == "m.ft:1: empty label '__label__'");
    options.skip_bad_rows = true;
    BOOST_TEST((read_text("__label__a fine\nno label\n__label__b ok\n", "m.ft", options) ==
                std::vector<Doc>{{"a", "fine", 1}, {"b", "ok", 3}}));
}

BOOST_AUTO_TEST_CASE(plain_text_every_line_is_a_document) {
    DocumentReader reader(fixtures + "lines.txt");
    BOOST_TEST((reader.format() == InputFormat::plain));
    BOOST_TEST((all_of(reader) == std::vector<Doc>{{"-", "first line", 1},
                                                   {"-", "", 2},
                                                   {"-", "  third line  ", 3},
                                                   {"-", "last line without newline", 4}}));
    BOOST_TEST((read_text("", "x.txt").empty()));
    BOOST_TEST((read_text("\n", "x.txt") == std::vector<Doc>{{"-", "", 1}}));
    BOOST_TEST((read_text("a\r\n\r\nb\rc\n", "x.txt") ==
                std::vector<Doc>{{"-", "a", 1}, {"-", "", 2}, {"-", "b", 3}, {"-", "c", 4}}));
    BOOST_TEST((read_text("\xEF\xBB\xBFwith BOM\n", "x.txt") == std::vector<Doc>{{"-", "with BOM", 1}}));
}

BOOST_AUTO_TEST_CASE(plain_text_across_read_chunks) {
    std::string text;
    std::vector<Doc> expected;
    for (std::size_t i = 0; i < 30000; ++i) {
        const std::string line = "line " + std::to_string(i) + " " + std::string(i % 9, 'x') + "\xE2\x82\xAC";
        expected.push_back({"-", line, i + 1});
        text += line + (i % 3 == 0 ? "\r\n" : "\n");
    }
    BOOST_TEST_REQUIRE((read_text(text, "big.txt") == expected));
}

BOOST_AUTO_TEST_CASE(plain_text_cannot_be_labelled_data) {
    DocumentReaderOptions options;
    options.require_label = true;
    BOOST_TEST(error_of<ConfigError>("a\n", "x.txt", options) ==
               "x.txt: plain text has no labels; labelled data must be csv, tsv or fasttext");
}

BOOST_AUTO_TEST_CASE(explicit_format_overrides_the_extension) {
    DocumentReaderOptions options;
    options.format = InputFormat::csv;
    BOOST_TEST((read_text("text,label\nhi,x\n", "data.txt", options) == std::vector<Doc>{{"x", "hi", 2}}));
}

BOOST_AUTO_TEST_CASE(invalid_utf8_in_every_format) {
    BOOST_CHECK_EXCEPTION(read_all(fixtures + "invalid_utf8.csv"), InputError, [](const InputError& e) {
        return std::string(e.what()) == fixtures + "invalid_utf8.csv:3: invalid UTF-8 at byte 33 (0xff 0x20)";
    });
    BOOST_TEST(error_of("__label__a ok\n__label__b \xC0\xAF\n", "m.ft") == "m.ft:2: invalid UTF-8 at byte 25 (0xc0 0xaf)");
    BOOST_TEST(error_of("ok\nbad\xED\xA0\x80\n", "x.txt") == "x.txt:2: invalid UTF-8 at byte 6 (0xed 0xa0)");
    BOOST_TEST(error_of("text\tlabel\n\xFE\tx\n", "x.tsv") == "x.tsv:2: invalid UTF-8 at byte 11 (0xfe 0x09)");

    DocumentReaderOptions options;
    options.invalid_utf8 = InvalidUtf8::replace;
    const auto set = read_all(fixtures + "invalid_utf8.csv", options);
    BOOST_TEST_REQUIRE(set.documents.size() == 2u);
    BOOST_TEST(set.documents[0].text == "caf\xC3\xA9 ok");
    BOOST_TEST(set.documents[1].text == "bad \xEF\xBF\xBD byte");
    BOOST_TEST(set.report.warnings() ==
               std::vector<std::string>{fixtures + "invalid_utf8.csv: replaced 1 invalid UTF-8 sequence with U+FFFD"});
    BOOST_TEST((read_text("bad\xED\xA0\x80\n", "x.txt", options) ==
                std::vector<Doc>{{"-", "bad\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD", 1}}));
}

// A NUL byte is kept in the text (the tokenizer reads it as a word separator) and counted,
// in every format: it was read so without a word.
BOOST_AUTO_TEST_CASE(nul_bytes_are_counted_in_every_format) {
    using namespace std::string_literals;
    for (const auto& [text, source, first] : std::vector<std::tuple<std::string, std::string, std::size_t>>{
             {"label,text\npos,clean\npos,a\0b\nneg,\"c\0\0\nd\"\n"s, "n.csv", 3},
             {"text\tlabel\nclean\tx\na\0b\tx\nc\0\td\n"s, "n.tsv", 3},
             {"__label__a clean\n__label__a a\0b\n__label__b c\0\n"s, "n.ft", 2},
             {"clean\na\0b\nc\0\n"s, "n.txt", 2}}) {
        std::istringstream in(text);
        DocumentReader reader(in, source);
        const auto docs = all_of(reader);
        BOOST_TEST_REQUIRE(docs.size() == 3u);
        BOOST_TEST(docs[1].text == "a\0b"s);
        const ReaderReport r = reader.report();
        BOOST_TEST(r.nul_documents == 2u);
        BOOST_TEST(r.first_nul_line == first);
        BOOST_TEST(r.warnings() == std::vector<std::string>{source + ":" + std::to_string(first) +
                                                            ": 2 documents hold NUL bytes (the first here), read as "
                                                            "word separators"});
    }
    BOOST_TEST(read_all(fixtures + "reviews.csv").report.nul_documents == 0u);
}

BOOST_AUTO_TEST_CASE(missing_file) {
    BOOST_CHECK_EXCEPTION(DocumentReader(fixtures + "no_such_file.csv"), IoError, [](const IoError& e) {
        return std::string(e.what()) == fixtures + "no_such_file.csv: cannot open: No such file or directory";
    });
    // A directory used to read as an empty file ("the file is empty: expected a header row").
    const std::string dir = fixtures.substr(0, fixtures.size() - 1);
    BOOST_CHECK_EXCEPTION(DocumentReader{dir}, IoError, [&](const IoError& e) {
        return std::string(e.what()) == dir + ": is a directory, not a data file";
    });
}

BOOST_AUTO_TEST_CASE(read_all_returns_documents_and_report) {
    DocumentReaderOptions options;
    options.require_label = true;
    const auto set = read_all(fixtures + "messages.ft", options);
    BOOST_TEST(set.documents.size() == 3u);
    BOOST_TEST(set.report.multi_label_lines == 1u);
    BOOST_TEST(set.documents[1].label.value() == "ham");
}

BOOST_AUTO_TEST_CASE(random_bytes_in_every_format) {
    // Whatever the bytes, a reader yields valid UTF-8 documents or an InputError naming the
    // source; under InvalidUtf8::replace and skip_bad_rows, only an unbalanced quote or a
    // missing column can stop it.
    std::mt19937 rng(12);
    const std::string alphabet = ",\"\r\n\t ab_\xC3\xA9\xFF";
    const std::vector<std::string> starts = {"text,label\n", "label\ttext\n", "__label__x ", ""};
    for (int trial = 0; trial < 2000; ++trial) {
        const auto format = std::vector<InputFormat>{InputFormat::csv, InputFormat::tsv, InputFormat::fasttext,
                                                     InputFormat::plain}[trial % 4];
        std::string text = starts[static_cast<std::size_t>(trial % 4)];
        for (int k = static_cast<int>(rng() % 40); k > 0; --k) text += alphabet[rng() % alphabet.size()];
        DocumentReaderOptions options;
        options.format = format;
        options.skip_bad_rows = rng() % 2;
        options.invalid_utf8 = rng() % 2 ? InvalidUtf8::replace : InvalidUtf8::error;
        try {
            std::istringstream in(text);
            DocumentReader reader(in, "fuzz", options);
            Document d;
            std::size_t documents = 0;
            while (reader.next(d)) {
                BOOST_TEST_REQUIRE(is_valid_utf8(d.text));
                if (d.label) BOOST_TEST_REQUIRE(is_valid_utf8(*d.label));
                ++documents;
            }
            if (format == InputFormat::plain && options.invalid_utf8 == InvalidUtf8::replace) {
                // One document per line, wherever the line ends.
                std::size_t lines = 0;
                for (std::size_t i = 0; i < text.size(); ++i)
                    if (text[i] == '\n' || (text[i] == '\r' && (i + 1 == text.size() || text[i + 1] != '\n'))) ++lines;
                const bool unterminated = !text.empty() && text.back() != '\n' && text.back() != '\r';
                BOOST_TEST_REQUIRE(documents == lines + (unterminated ? 1 : 0), "input: " << text);
            }
        } catch (const InputError& e) {
            BOOST_TEST_REQUIRE(std::string(e.what()).rfind("fuzz", 0) == 0u, e.what());
        }
    }
}

BOOST_AUTO_TEST_CASE(csv_without_header_row) {
    DocumentReaderOptions o;
    o.header = false;
    o.label_column = "1";
    o.text_column = "2";
    const std::vector<Doc> expected = {{"pos", "a fine day, all told", 1}, {"neg", "rain again", 2}};
    BOOST_TEST((read_text("pos,\"a fine day, all told\"\nneg,rain again\n", "h.csv", o) == expected));
    // The first row fixes the field count, as a header would.
    BOOST_TEST(error_of("pos,a,b\nneg,rain\n", "h.csv", o) == "h.csv:2: expected 3 fields, found 2");
    // An empty file is no documents, not "expected a header row".
    BOOST_TEST(read_text("", "h.csv", o).empty());
    // Columns go by number only.
    o.text_column = "text";
    BOOST_TEST(error_of<ConfigError>("pos,x\n", "h.csv", o) ==
               "h.csv: without a header row columns are chosen by number (1 = the first), not by name ('text')");
    o.text_column = "3";
    BOOST_TEST(error_of("pos\tx\n", "h.tsv", o) == "h.tsv:1: no column '3' (columns: '1', '2')");
    // TSV, and the same column order written the other way round.
    o.text_column = "1";
    o.label_column = "2";
    const std::vector<Doc> tsv = {{"yes", "is it done", 1}};
    BOOST_TEST((read_text("is it done\tyes\n", "h.tsv", o) == tsv));
}

// Found by a new-user run: a stray quote merged rows 6 to 9 of a TSV into one document, silently
// (predict printed 27 lines for 30 rows); and a header read as a document under "no header".
BOOST_AUTO_TEST_CASE(rows_a_stray_quote_may_have_merged_and_a_header_read_as_data_are_said) {
    const auto report_of = [](const std::string& text, const std::string& name, DocumentReaderOptions options) {
        std::istringstream in(text);
        DocumentReader reader(in, name, options);
        const std::size_t documents = all_of(reader).size();
        return std::pair{documents, reader.report()};
    };
    const std::string tsv = "label\ttext\na\tone\nb\t\"Hello there\na\tsome text\nb\tgoodbye now\"\na\tlast\n";
    const auto [documents, r] = report_of(tsv, "s.tsv", {});
    BOOST_TEST(documents == 3u);
    BOOST_TEST(r.merged_records == 1u);
    BOOST_TEST(r.warnings().front() == "s.tsv:3: a quoted field runs from line 3 to line 5 over lines that hold the "
                                       "delimiter (1 such record): if the quote belongs to the text rather than quoting "
                                       "it, those rows were read as one document");
    // A text of several lines, quoted as it should be, with no delimiter on its inner lines: nothing said.
    BOOST_TEST(report_of("label,text\npos,\"first line\nsecond line\"\n", "ok.csv", {}).second.merged_records == 0u);
    // Nor when a later quoted field of the same record holds the delimiter on its own line (it
    // was taken for a merge "from line 3 to line 3"); a real merge before such a field keeps
    // its own lines.
    BOOST_TEST(report_of("label,text,note\npos,\"first line\nsecond line\",\"x, y\"\n", "ok.csv", {}).second.merged_records ==
               0u);
    const auto [merged, m] = report_of("label,text,note\na,\"one\ntwo,three\",\"x, y\"\n", "m.csv", {});
    BOOST_TEST(merged == 1u);
    BOOST_TEST(m.merged_records == 1u);
    BOOST_TEST(m.first_merged_lines.first == 2u);
    BOOST_TEST(m.first_merged_lines.second == 3u);
    // Blank lines between rows: counted and said, with the first one's line.
    const auto [kept, b] = report_of("text\nhello there\n\nworld\n\n\n", "b.csv", {});
    BOOST_TEST(kept == 2u);
    BOOST_TEST(b.blank_lines == 1u);
    BOOST_TEST(b.warnings().back() == "b.csv:3: skipped 1 blank line between rows (the first here): a blank line is "
                                      "no record, so the rows after it are not one per line (an empty text is "
                                      "written as \"\")");
    // Without a header row, a first row that names the chosen columns is a header read as a document.
    DocumentReaderOptions no_header;
    no_header.header = false;
    no_header.label_column = "1";
    no_header.text_column = "2";
    const auto [rows, h] = report_of("label,text\npos,fine\n", "h.csv", no_header);
    BOOST_TEST(rows == 2u);
    BOOST_REQUIRE_EQUAL(h.header_notes.size(), 1u);
    BOOST_TEST(h.header_notes[0] == "h.csv:1: the first row looks like a header ('label', 'text'), yet the file is read "
                                    "without one: the row is read as a document");
}

// A table saved under a .txt name is read a line at a time: its header is scored as a
// document, each row with its label (found by a new-user run: said by nothing).
BOOST_AUTO_TEST_CASE(plain_text_that_reads_like_a_table_is_said) {
    const auto report_for = [](const std::string& text) {
        std::istringstream in(text);
        DocumentReader reader(in, "reviews.txt", {});
        all_of(reader);
        return reader.report();
    };
    for (const std::string header : {"label,text", "id\tsentence\tlabel", "\"Label\",\"Text\"", "Label, Text",
                                     "category,body", "a,b,c,d,e,f,g,h,i,text"}) {
        const ReaderReport r = report_for(header + "\npos,a fine film\n");
        BOOST_TEST(r.plain_text_looks_like_table, header);
        BOOST_REQUIRE_EQUAL(r.header_notes.size(), 1u);
        BOOST_TEST(r.header_notes[0].starts_with("reviews.txt:1: the first line looks like a CSV or TSV header ('" + header +
                                                 "'), yet the file is read as plain text"));
    }
    // Sentences, one word, or a header on a later line: nothing to say.
    for (const std::string text : {"text\nmore text\n", "the text, in short, was fine\n", "a,b\n",
                                   "first line\nlabel,text\n", "text,\n", "text, in brief\n",
                                   "label,text,extra junk here and more words\n", "Title: text\n"})
        BOOST_TEST(!report_for(text).plain_text_looks_like_table, text);
}

BOOST_AUTO_TEST_CASE(odd_headers_are_said) {
    auto notes = [](const std::string& text) {
        std::istringstream in(text);
        DocumentReader reader(in, "o.csv", {});
        all_of(reader);
        return reader.report();
    };
    // Duplicate names: the first column of that name is used, and it is said.
    ReaderReport r = notes("label,text,id,text\npos,first,1,second\n");
    BOOST_REQUIRE_EQUAL(r.header_notes.size(), 1u);
    BOOST_TEST(r.header_notes[0] == "o.csv:1: columns 2 and 4 are both named 'text'; the first of them is used");
    BOOST_TEST(!r.header_looks_like_data);
    BOOST_TEST(r.warnings().back() == r.header_notes[0]);
    // A header that is a document: a number, or a sentence, as a chosen column's name.
    DocumentReaderOptions by_position;
    by_position.label_column = "1";
    by_position.text_column = "2";
    std::istringstream in("1,the film was a quiet delight\n0,dull\n");
    DocumentReader reader(in, "o.csv", by_position);
    all_of(reader);
    const ReaderReport d = reader.report();
    BOOST_TEST(d.header_looks_like_data);
    BOOST_REQUIRE_EQUAL(d.header_notes.size(), 1u);
    BOOST_TEST(d.header_notes[0] == "o.csv:1: the header row looks like data (column names 'the film was a quiet "
                                    "delight', '1'): if the file has no header row, its first document is being read "
                                    "as column names");
    // A headerless file read by name: the missing-column error says why.
    BOOST_TEST(error_of("spam,win a prize today\nham,see you at lunch\n", "o.csv") ==
               "o.csv:1: no column 'text' (columns: 'spam', 'win a prize today'); the first row looks like data, not "
               "column names: if the file has no header row, read it without one");
    // Ordinary names say nothing; nor do odd names of columns not used.
    BOOST_TEST(notes("label,text,3.5\npos,fine,x\n").header_notes.empty());
}
