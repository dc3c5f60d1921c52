// check_labelled_documents (data_checks.h): each oddity of a labelled data set is said, with
// the lines or labels it concerns, and hopeless data is refused before training.
#define BOOST_TEST_MODULE data_checks
#include <boost/test/unit_test.hpp>

#include <algorithm>

#include "test_helpers.h"

#include "textcnn/core/error.h"
#include "textcnn/text/data_checks.h"

#include <string>
#include <vector>

using namespace textcnn;
using textcnn::testing::error_of;

namespace {

// Rows (label, text) as documents on lines 2, 3, ... (line 1 is the header).
std::vector<Document> docs(const std::vector<std::pair<std::string, std::string>>& rows) {
    std::vector<Document> out;
    std::size_t line = 2;
    for (const auto& [label, text] : rows) out.push_back(Document{label, text, line++});
    return out;
}

// n documents alternating between two labels, with ordinary sentences.
std::vector<std::pair<std::string, std::string>> ordinary(std::size_t n, const std::string& a = "pos",
                                                          const std::string& b = "neg") {
    std::vector<std::pair<std::string, std::string>> rows;
    for (std::size_t i = 0; i < n; ++i)
        rows.emplace_back(i % 2 ? b : a, "the parcel number " + std::to_string(i) + " came on time");
    return rows;
}

DataCheckOptions named(const std::string& source) {
    DataCheckOptions o;
    o.source = source;
    return o;
}

// The first warning about `rows` as "t.csv" ("" when there is none).
std::string first_warning(const std::vector<std::pair<std::string, std::string>>& rows) {
    auto d = docs(rows);
    const auto w = check_labelled_documents(d, named("t.csv"));
    return w.empty() ? "" : w[0];
}

std::size_t check_labelled_documents_warnings_with(const std::vector<std::pair<std::string, std::string>>& rows,
                                                   const std::string& part) {
    auto d = docs(rows);
    const auto w = check_labelled_documents(d, named("t.csv"));
    return static_cast<std::size_t>(
        std::count_if(w.begin(), w.end(), [&](const std::string& s) { return s.find(part) != std::string::npos; }));
}

}  // namespace

BOOST_AUTO_TEST_CASE(ordinary_data_passes_without_a_word) {
    auto d = docs(ordinary(20));
    BOOST_TEST(check_labelled_documents(d, named("t.csv")).empty());
}

BOOST_AUTO_TEST_CASE(labels_are_trimmed_and_the_change_counted) {
    auto rows = ordinary(20);
    rows[0].first = "pos ";
    rows[2].first = " pos";
    rows[4].first = "\tpos\r";
    rows[6].first = "\xC2\xA0pos\xC2\xA0";  // no-break spaces, as spreadsheets leave them
    rows[8].first = "po s";                 // inner space: a different label, left alone
    // Any Unicode white space or invisible code point around it: ideographic and thin spaces,
    // a line separator, NEL, a byte-order mark, a zero-width space, a variation selector.
    rows[10].first = "\u3000pos\u2009";
    rows[12].first = "pos\u2028\u0085";
    rows[14].first = "\uFEFF\u200Bpos\uFE0F";
    auto d = docs(rows);
    const auto w = check_labelled_documents(d, named("t.csv"));
    BOOST_REQUIRE(!w.empty());
    BOOST_TEST(w[0] == "t.csv: 7 labels had white space or invisible characters (zero-width spaces, byte-order "
                       "marks...) around them and were trimmed (first: line 2)");
    for (std::size_t i : {0u, 2u, 4u, 6u, 10u, 12u, 14u}) BOOST_TEST(*d[i].label == "pos");
    BOOST_TEST(*d[8].label == "po s");
    BOOST_TEST(trimmed_label("\u200Bpo\xFF") == "po\xFF");  // an invalid byte ends the trimming at that end
    // Such a label trained, saved, and made a model that did not load (labels are UTF-8 there):
    // refused with its line (found by a new-user run of the library).
    rows[16].first = "\u200Bpo\xFF";
    auto bad = docs(rows);
    BOOST_TEST(error_of<InputError>([&] { check_labelled_documents(bad, named("t.csv")); }) ==
               "t.csv:18: the label is not valid UTF-8 (byte 3)");
    BOOST_TEST(trimmed_label("\t\u3000neg\u00AD ") == "neg");
}

BOOST_AUTO_TEST_CASE(labels_differing_only_in_case_are_named) {
    auto rows = ordinary(30);
    rows[5].first = "Pos";
    rows[7].first = "POS";
    BOOST_TEST(first_warning(rows) == "t.csv: labels 'POS', 'Pos', 'pos' differ only in letter case and are trained as 3 different "
                       "classes (first lines: 9, 7, 2)");
}

// Found by a new-user run: composed and decomposed accents, full-width letters and doubled
// spaces made classes of their own without a word.
BOOST_AUTO_TEST_CASE(labels_that_look_alike_are_named) {
    auto rows = ordinary(30);
    rows[5].first = "ｐｏｓ";  // full-width
    BOOST_TEST(first_warning(rows) == "t.csv: labels 'pos', 'ｐｏｓ' look alike (they differ in Unicode form, character "
                                      "width or spacing) and are trained as 2 different classes (first lines: 2, 7)");
    auto accents = ordinary(30);
    for (std::size_t i = 0; i < accents.size(); ++i)
        if (accents[i].first == "pos") accents[i].first = i == 4 ? "cafe\u0301" : "caf\u00E9";
    BOOST_TEST(first_warning(accents).find("look alike") != std::string::npos);
    auto spaced = ordinary(30);
    for (std::size_t i = 0; i < spaced.size(); ++i)
        if (spaced[i].first == "pos") spaced[i].first = i == 4 ? "very  good" : "very good";
    BOOST_TEST(first_warning(spaced).find("labels 'very  good', 'very good' look alike") != std::string::npos);
    // Letter case alone is said once, by its own warning.
    auto cased = ordinary(30);
    cased[5].first = "Pos";
    BOOST_TEST(first_warning(cased).find("differ only in letter case") != std::string::npos);
    BOOST_TEST(check_labelled_documents_warnings_with(cased, "look alike") == 0u);
}

BOOST_AUTO_TEST_CASE(labels_differing_only_in_characters_that_do_not_show_are_named) {
    auto rows = ordinary(30);
    rows[5].first = "p\u200Bos";  // a zero-width space
    rows[7].first = "po\u2060s";  // a word joiner
    rows[9].first = "p\u00ADos";  // a soft hyphen
    BOOST_TEST(first_warning(rows) ==
               "t.csv: labels 'pos', 'po<U+2060>s', 'p<U+00AD>os', 'p<U+200B>os' differ only in characters that do not "
               "show (zero-width spaces, joiners, soft hyphens, byte-order marks...) or in the kind of white space and "
               "are trained as 4 different classes (first lines: 2, 9, 11, 7)");
    // A no-break or ideographic space inside a label reads as a space.
    auto spaces = ordinary(30, "very good", "bad");
    spaces[5].first = "very\u00A0good";
    spaces[7].first = "very\u3000good";
    BOOST_TEST(first_warning(spaces) ==
               "t.csv: labels 'very good', 'very<U+00A0>good', 'very<U+3000>good' differ only in characters that do "
               "not show (zero-width spaces, joiners, soft hyphens, byte-order marks...) or in the kind of white space "
               "and are trained as 3 different classes (first lines: 2, 7, 9)");
}

BOOST_AUTO_TEST_CASE(hopeless_data_is_refused_with_what_to_change) {
    std::vector<std::pair<std::string, std::string>> rows;
    for (int i = 0; i < 6; ++i) rows.emplace_back("the text number " + std::to_string(i), "pos");
    auto distinct = docs(rows);
    BOOST_TEST(error_of<InputError>([&] { check_labelled_documents(distinct, named("t.csv")); }) ==
               "t.csv: every one of the 6 documents has a label of its own (first: 'the text number 0'): the label "
               "column does not seem to hold class labels; check which column is the label");
    auto empty_label = docs({{"pos", "fine"}, {"  ", "blank label"}, {"neg", "bad"}});
    BOOST_TEST(error_of<InputError>([&] { check_labelled_documents(empty_label, named("t.csv")); }) ==
               "t.csv:3: the label is empty");
    // A dev set may be small: two documents with two labels are fine there.
    auto dev = docs({{"pos", "fine"}, {"neg", "bad"}, {"neu", "so so"}});
    DataCheckOptions o = named("dev.csv");
    o.training = false;
    BOOST_TEST(check_labelled_documents(dev, o).empty());
}

BOOST_AUTO_TEST_CASE(rare_classes_and_too_many_labels_are_warned_about) {
    auto rows = ordinary(40);
    rows.emplace_back("spam", "win a prize now");
    rows.emplace_back("spam", "claim your prize");
    rows.emplace_back("eggs", "boiled for four minutes");
    auto d = docs(rows);
    const auto w = check_labelled_documents(d, named("t.csv"));
    BOOST_REQUIRE_EQUAL(w.size(), 1u);
    BOOST_TEST(w[0] == "t.csv: 2 labels with fewer than 5 documents: 'eggs' (1), 'spam' (2)");

    std::vector<std::pair<std::string, std::string>> many;
    for (int i = 0; i < 12; ++i) many.emplace_back("c" + std::to_string(i % 7), "a sentence about item " + std::to_string(i));
    auto m = docs(many);
    const auto wm = check_labelled_documents(m, named("t.csv"));
    BOOST_REQUIRE(!wm.empty());
    BOOST_TEST(wm[0] == "t.csv: 7 labels for 12 documents: fewer than 2 documents per label on average is too little "
                        "to learn from");
}

BOOST_AUTO_TEST_CASE(empty_texts_are_counted_not_taken_for_labels) {
    auto rows = ordinary(20);
    for (std::size_t i : {3u, 4u, 9u}) rows[i].second = " ";
    auto d = docs(rows);
    const auto w = check_labelled_documents(d, named("t.csv"));
    BOOST_REQUIRE_EQUAL(w.size(), 1u);
    BOOST_TEST(w[0] == "t.csv: 3 of 20 texts are empty (first: line 5)");
    std::vector<std::pair<std::string, std::string>> all_empty;
    for (int i = 0; i < 12; ++i) all_empty.emplace_back(i % 2 ? "a" : "b", "");
    auto e = docs(all_empty);
    const auto we = check_labelled_documents(e, named("t.csv"));
    BOOST_REQUIRE_EQUAL(we.size(), 1u);
    BOOST_TEST(we[0] == "t.csv: 12 of 12 texts are empty (first: line 2)");
    // Documents that are not lines of one file are named as the caller names them.
    DataCheckOptions by_file = named("maildir");
    by_file.document_name = [](std::size_t line) { return "ham/" + std::to_string(line) + ".eml"; };
    auto f = docs(rows);
    const auto wf = check_labelled_documents(f, by_file);
    BOOST_REQUIRE_EQUAL(wf.size(), 1u);
    BOOST_TEST(wf[0] == "maildir: 3 of 20 texts are empty (first: ham/5.eml)");
    BOOST_TEST(document_at({}, 7) == "line 7");
    BOOST_TEST(documents_at({}, {3, 9}) == "lines 3, 9");
    BOOST_TEST(documents_at(by_file.document_name, {3, 9}) == "ham/3.eml, ham/9.eml");
}

// Found by a new-user run: `split` named identical texts under different labels, `train` said
// nothing. Repeats under one label, and empty texts (said above), are not named.
BOOST_AUTO_TEST_CASE(identical_texts_under_different_labels_are_named) {
    auto rows = ordinary(20);
    rows[3].second = rows[0].second;   // pos, then neg: a conflict
    rows[5].second = rows[0].second;   // the same text again: counted once
    rows[6].second = rows[2].second;   // pos twice: a plain repeat
    rows[9].second = std::string(59, 'x') + "\u00e9 and more";  // neg; byte 60 is inside the \u00e9
    rows[10].second = rows[9].second;  // pos: cut at 60 bytes, on a code point
    auto d = docs(rows);
    const auto w = check_labelled_documents(d, named("t.csv"));
    BOOST_REQUIRE_EQUAL(w.size(), 1u);
    BOOST_TEST(w[0] == "t.csv: 2 texts appear under different labels, e.g. 'the parcel number 0 came on time' (lines 2, "
                       "5: 'pos', 'neg'); '" + std::string(59, 'x') +
                           "...' (lines 11, 12: 'neg', 'pos'): no model can tell such documents apart");
    std::vector<std::pair<std::string, std::string>> many = ordinary(20);
    for (std::size_t i = 0; i + 1 < many.size(); i += 2) many[i + 1].second = many[i].second;
    BOOST_TEST(first_warning(many).starts_with("t.csv: 10 texts appear under different labels, e.g. 'the parcel number "
                                               "0 came on time' (lines 2, 3: 'pos', 'neg'); "));
}

BOOST_AUTO_TEST_CASE(header_rows_and_swapped_columns_are_named) {
    auto rows = ordinary(20);
    rows.insert(rows.begin() + 10, {"label", "text"});
    auto d = docs(rows);
    DataCheckOptions o = named("t.csv");
    o.label_column = "label";
    o.text_column = "text";
    const auto w = check_labelled_documents(d, o);
    BOOST_REQUIRE_EQUAL(w.size(), 2u);
    BOOST_TEST(w[0] == "t.csv: 1 label with fewer than 5 documents: 'label' (1)");
    BOOST_TEST(w[1] == "t.csv: 1 row repeats the header ('label', 'text') and is read as data (first: line 12)");

    // Columns swapped: labels are sentences, texts are the class names.
    std::vector<std::pair<std::string, std::string>> swapped;
    for (int i = 0; i < 20; ++i)
        swapped.emplace_back("the parcel came " + std::string(i % 2 ? "late" : "on time") + " again, sadly", i % 2 ? "neg" : "pos");
    auto s = docs(swapped);
    const auto ws = check_labelled_documents(s, named("t.csv"));
    BOOST_REQUIRE_EQUAL(ws.size(), 1u);
    BOOST_TEST(ws[0] == "t.csv: 20 labels look like texts (4 words or more; first: line 2): are the label and text "
                        "columns swapped?");

    // Texts that look like labels: one-word texts, few of them, against more labels.
    std::vector<std::pair<std::string, std::string>> short_texts;
    for (int i = 0; i < 30; ++i) short_texts.emplace_back("id" + std::to_string(i % 10), i % 2 ? "yes" : "no");
    auto t = docs(short_texts);
    const auto wt = check_labelled_documents(t, named("t.csv"));
    BOOST_REQUIRE(!wt.empty());
    BOOST_TEST(wt.back() == "t.csv: 30 of 30 texts are one of only 2 single words, fewer than the 10 labels: are the "
                            "label and text columns swapped?");
}

BOOST_AUTO_TEST_CASE(a_label_column_named_like_a_label_is_questioned) {
    // A file without a header read with one: its first document ("neg", "...") became the names.
    auto d = docs(ordinary(20));
    DataCheckOptions o = named("t.csv");
    o.label_column = "neg";
    o.text_column = "the parcel number 99 came on time";
    const auto w = check_labelled_documents(d, o);
    BOOST_REQUIRE_EQUAL(w.size(), 1u);
    BOOST_TEST(w[0] == "t.csv: the label column's name in the header, 'neg', is also the label of 10 documents: is the "
                       "header row a document?");
}

BOOST_AUTO_TEST_CASE(a_header_repeated_in_another_letter_case_is_named) {
    auto rows = ordinary(20);
    rows.insert(rows.begin() + 4, {"Label", "TEXT"});
    rows.insert(rows.begin() + 9, {"LABEL", "Text"});
    auto d = docs(rows);
    DataCheckOptions o = named("t.csv");
    o.label_column = "label";
    o.text_column = "text";
    const auto w = check_labelled_documents(d, o);
    BOOST_TEST(std::count(w.begin(), w.end(),
                          "t.csv: 2 rows repeat the header ('label', 'text') and are read as data (first: line 6)") == 1);
}

BOOST_AUTO_TEST_CASE(labels_holding_line_ends_tabs_or_other_control_characters_are_refused) {
    for (const auto& [label, named_as] : std::vector<std::pair<std::string, std::string>>{
             {"spam\nspam", "U+000A (line feed) at byte 5"},
             {"sp\ram", "U+000D (carriage return) at byte 3"},
             {"go\tod", "U+0009 (tab) at byte 3"},
             {std::string("nu\0l", 4), "U+0000 (NUL) at byte 3"},
             {"a\x7f", "U+007F (a control character) at byte 2"},
             {"next\xc2\x85line", "U+0085 (next line) at byte 5"},
             {"line\xe2\x80\xa8sep", "U+2028 (line separator) at byte 5"}}) {
        auto rows = ordinary(10);
        rows[3].first = label;
        auto d = docs(rows);
        const std::string error = error_of<InputError>([&] { check_labelled_documents(d, named("t.csv")); });
        BOOST_TEST_CONTEXT(named_as) {
            BOOST_TEST(error.find("t.csv:5: the label holds " + named_as +
                                  ": a label is one line of text without control characters") == 0);
            BOOST_TEST((error.find("(a quoted CSV field that runs across lines?)") != std::string::npos) ==
                       (named_as.starts_with("U+000A") || named_as.starts_with("U+000D")));
        }
    }
    // Printable non-ASCII labels are labels like any other.
    auto fine = docs(ordinary(10, "très bien", "ÜBEL"));
    BOOST_TEST(check_labelled_documents(fine, named("t.csv")).empty());
}

BOOST_AUTO_TEST_CASE(labels_that_are_one_number_written_differently_are_named) {
    auto rows = ordinary(30, "1", "0");
    rows[5].first = "1.0";
    rows[7].first = "01";
    rows[8].first = "0.0";
    auto d = docs(rows);
    const auto w = check_labelled_documents(d, named("t.csv"));
    BOOST_TEST(std::count(w.begin(), w.end(),
                          "t.csv: labels '0', '0.0' are the same number written differently and are trained as 2 "
                          "different classes (first lines: 3, 10)") == 1);
    BOOST_TEST(std::count(w.begin(), w.end(),
                          "t.csv: labels '01', '1', '1.0' are the same number written differently and are trained as 3 "
                          "different classes (first lines: 9, 2, 7)") == 1);
    // Different numbers, and words, are different classes without a word.
    BOOST_TEST(first_warning(ordinary(20, "1", "2")).empty());
    BOOST_TEST(first_warning(ordinary(20, "1e", "e1")).empty());
}

BOOST_AUTO_TEST_CASE(a_label_that_reads_like_a_missing_value_is_named) {
    auto rows = ordinary(30);
    rows[4].first = "NaN";
    rows[9].first = "NaN";
    rows[12].first = "nan";
    auto d = docs(rows);
    const auto w = check_labelled_documents(d, named("t.csv"));
    BOOST_TEST(std::count(w.begin(), w.end(),
                          "t.csv: 2 documents are labelled 'NaN' (first: line 6), which reads like a missing value "
                          "written out by the tool that made the file, trained as a class") == 1);
    BOOST_TEST(std::count(w.begin(), w.end(),
                          "t.csv: 1 document is labelled 'nan' (first: line 14), which reads like a missing value "
                          "written out by the tool that made the file, trained as a class") == 1);
    BOOST_TEST(check_labelled_documents_warnings_with(ordinary(20, "none", "some"), "missing value") == 0u);
}

BOOST_AUTO_TEST_CASE(texts_that_are_numbers_question_the_text_column) {
    std::vector<std::pair<std::string, std::string>> rows;
    for (int i = 0; i < 20; ++i) rows.emplace_back(i % 2 ? "pos" : "neg", std::to_string(1000 + i));
    rows[3].second = "a real text";
    auto d = docs(rows);
    const auto w = check_labelled_documents(d, named("t.csv"));
    BOOST_TEST(std::count(w.begin(), w.end(),
                          "t.csv: 19 of 20 texts are a number and nothing else (first: line 2): is the text column the "
                          "right one?") == 1);
    // A few numbers among texts are texts.
    auto mostly_words = ordinary(20);
    for (int i = 0; i < 5; ++i) mostly_words[i].second = std::to_string(i);
    BOOST_TEST(check_labelled_documents_warnings_with(mostly_words, "text column") == 0u);
}

// A warning names a label, it does not reproduce it: a 320 KB label was printed whole, twice.
BOOST_AUTO_TEST_CASE(long_labels_are_shown_cut) {
    BOOST_TEST(shown_label(std::string(100, 'a')) == std::string(100, 'a'));
    const std::string long_label = std::string(79, 'x') + "\u00E9" + std::string(300000, 'y');  // é on bytes 80-81
    BOOST_TEST(shown_label(long_label) == std::string(79, 'x') + "... (300081 bytes)");  // never half a code point
    BOOST_TEST(shown_label("\u200B" + std::string(200, 'z')) == "<U+200B>" + std::string(77, 'z') + "... (203 bytes)");
    // A model file's labels are untrusted: no control character or stray byte reaches a terminal.
    using namespace std::string_literals;
    BOOST_TEST(shown_label("ne\0g\x1B[31m\x7F\u0085\xFF"s) == "ne<U+0000>g<U+001B>[31m<U+007F><U+0085><0xFF>");
    auto rows = ordinary(30);
    rows[5].first = std::string(5000, 'P');
    rows[7].first = std::string(5000, 'p');
    const std::string w = first_warning(rows);
    BOOST_TEST(w.find("differ only in letter case") != std::string::npos, w);
    BOOST_TEST(w.size() < 400u, w);
    BOOST_TEST(w.find(std::string(80, 'P') + "... (5000 bytes)") != std::string::npos, w);
}
