// The fields of the programs' tsv, csv and JSON output (apps/common/output_fields.h): whatever a
// label, an id or a file name holds, a record stays one line and no control character or stray
// byte reaches a terminal through tsv; JSON output never fails on a name that is not UTF-8.
#define BOOST_TEST_MODULE output_fields
#include <boost/test/unit_test.hpp>

#include "output_fields.h"

#include <nlohmann/json.hpp>

#include <string>
#include <utility>
#include <vector>

using cli_common::csv_field;
using cli_common::json_text;
using cli_common::terminal_text;
using cli_common::tsv_field;

BOOST_AUTO_TEST_CASE(tsv_fields_escape_line_ends_tabs_controls_and_stray_bytes) {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"plain text, with punctuation!", "plain text, with punctuation!"},
        {"", ""},
        {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"},  // é € 😀 kept
        {"a\tb\nc\rd\\e", "a\\tb\\nc\\rd\\\\e"},
        {"\x1b[31mred", "\\x1b[31mred"},
        {std::string("nul\0byte", 8), "nul\\x00byte"},
        {"bell\x07 del\x7f", "bell\\x07 del\\x7f"},
        {"next\xc2\x85line csi\xc2\x9b", "next\\u0085line csi\\u009b"},           // C1 controls
        {"\xc2\xa0no-break", "\xc2\xa0no-break"},                                  // U+00A0 is no control
        {"line\xe2\x80\xa8para\xe2\x80\xa9", "line\\u2028para\\u2029"},
        {"latin1 caf\xe9", "latin1 caf\\xe9"},                                      // stray bytes
        {"raw\x9b" "2J", "raw\\x9b2J"},
        {"cut \xe2\x82", "cut \\xe2\\x82"},                                         // a cut sequence
        {"overlong \xc0\xaf \xe0\x80\xaf", "overlong \\xc0\\xaf \\xe0\\x80\\xaf"},
        {"surrogate \xed\xa0\x80", "surrogate \\xed\\xa0\\x80"},
        {"beyond \xf4\x90\x80\x80", "beyond \\xf4\\x90\\x80\\x80"},
    };
    for (const auto& [field, written] : cases) {
        BOOST_TEST_CONTEXT(written) {
            BOOST_CHECK_EQUAL(tsv_field(field), written);
            for (const char c : tsv_field(field)) {
                const auto b = static_cast<unsigned char>(c);
                BOOST_CHECK(b >= 0x20 && b != 0x7f);
            }
        }
    }
}

// Messages on stderr: the controls and stray bytes of the data they name escaped as in tsv,
// their own layout (newline, tab) and backslashes (a Windows path) kept.
BOOST_AUTO_TEST_CASE(terminal_text_escapes_what_the_data_brings_and_keeps_the_layout) {
    BOOST_CHECK_EQUAL(terminal_text("two lines\n\tindented, C:\\data"), "two lines\n\tindented, C:\\data");
    BOOST_CHECK_EQUAL(terminal_text("mail/\x1b]0;owned\x07.eml: cannot open"), "mail/\\x1b]0;owned\\x07.eml: cannot open");
    BOOST_CHECK_EQUAL(terminal_text("cr\rover latin1 caf\xe9 csi\xc2\x9b"), "cr\\rover latin1 caf\\xe9 csi\\u009b");
    BOOST_CHECK_EQUAL(terminal_text(std::string("nul\0", 4)), "nul\\x00");
    BOOST_CHECK_EQUAL(terminal_text("caf\xc3\xa9"), "caf\xc3\xa9");
}

BOOST_AUTO_TEST_CASE(csv_fields_are_quoted_as_rfc_4180_says) {
    BOOST_CHECK_EQUAL(csv_field("plain"), "plain");
    BOOST_CHECK_EQUAL(csv_field("a,b"), "\"a,b\"");
    BOOST_CHECK_EQUAL(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    BOOST_CHECK_EQUAL(csv_field("two\nlines"), "\"two\nlines\"");
    BOOST_CHECK_EQUAL(csv_field("a\tb", '\t'), "\"a\tb\"");
}

BOOST_AUTO_TEST_CASE(json_text_replaces_bytes_that_are_not_utf8) {
    nlohmann::ordered_json line;
    line["input"] = "raw\x9b" "2J\xff.pgm";
    line["label"] = "caf\xc3\xa9";
    BOOST_CHECK_THROW((void)line.dump(), nlohmann::json::type_error);  // what the programs did before
    const std::string text = json_text(line);
    BOOST_CHECK_EQUAL(text, "{\"input\":\"raw\xef\xbf\xbd" "2J\xef\xbf\xbd.pgm\",\"label\":\"caf\xc3\xa9\"}");
    BOOST_CHECK_EQUAL(nlohmann::json::parse(text).at("label").get<std::string>(), "caf\xc3\xa9");
    BOOST_CHECK_EQUAL(json_text(nlohmann::json{{"a", 1}}, 2), "{\n  \"a\": 1\n}");
}
