// find_header_insertion() and header_lines(): where a filter's header fields go in a raw
// message, for well-formed and damaged messages (no body, no headers, CRLF, NUL bytes), and
// split_mbox().
#define BOOST_TEST_MODULE header_insertion
#include <boost/test/unit_test.hpp>

#include "textcnn/mail/header_insertion.h"
#include "textcnn/mail/mail_sources.h"

#include <string>
#include <vector>

using textcnn::mail::find_header_insertion;

namespace {
std::string with_flag(const std::string& message) {
    const auto at = find_header_insertion(message);
    return message.substr(0, at.offset) + textcnn::mail::header_lines(at, {{"X-Flag", "YES"}}) + message.substr(at.offset);
}
}  // namespace

BOOST_AUTO_TEST_CASE(fields_go_after_the_last_header_line) {
    BOOST_TEST(with_flag("A: 1\nB: 2\n\nbody\n") == "A: 1\nB: 2\nX-Flag: YES\n\nbody\n");
    BOOST_TEST(with_flag("A: 1\nSubject: long\n\tcontinued\n\nbody: not a header\n") ==
               "A: 1\nSubject: long\n\tcontinued\nX-Flag: YES\n\nbody: not a header\n");
    BOOST_TEST(with_flag("From x@y Mon Jan 1 2024\nA: 1\n\nb\n") == "From x@y Mon Jan 1 2024\nA: 1\nX-Flag: YES\n\nb\n");
    BOOST_TEST(with_flag("Obsolete-Syntax : 1\n\nb") == "Obsolete-Syntax : 1\nX-Flag: YES\n\nb");
}

// The fields a filter would add that a message already carries, found where a mail client
// reads them: in the header block only, by name whatever its letter case.
BOOST_AUTO_TEST_CASE(fields_of_given_names_are_found_in_the_header_block_only) {
    using textcnn::mail::find_header_fields;
    const std::string m = "From x@y Mon\nX-Spam-Flag: NO\nSubject: a\n\tx-spam-flag: folded\nx-spam-score : 0\n"
                          "X-Spam-Flagged: other\n\nX-Spam-Flag: in the body\n";
    BOOST_TEST(find_header_fields(m, {"X-Spam-Flag", "X-Spam-Score"}) == (std::vector<std::size_t>{13, 61}));
    BOOST_TEST(find_header_fields("A: 1\r\nX-SPAM-FLAG: YES\r\n\r\n", {"X-Spam-Flag"}) == std::vector<std::size_t>{6});
    BOOST_TEST(find_header_fields("X-Spam-Flag: NO\rA: 1\r\rb", {"X-Spam-Flag"}) == std::vector<std::size_t>{0});
    BOOST_TEST(find_header_fields("no header\nX-Spam-Flag: NO\n", {"X-Spam-Flag"}).empty());
    BOOST_TEST(find_header_fields("", {"X-Spam-Flag"}).empty());
}

BOOST_AUTO_TEST_CASE(crlf_messages_get_crlf_lines) {
    BOOST_TEST(with_flag("A: 1\r\nB: 2\r\n\r\nbody\r\n") == "A: 1\r\nB: 2\r\nX-Flag: YES\r\n\r\nbody\r\n");
    // Ending inside its last header line: the line end of the lines before.
    BOOST_TEST(with_flag("A: 1\r\nB: cut") == "A: 1\r\nB: cut\r\nX-Flag: YES\r\n");
}

// Old Mac OS mail ends lines in a bare CR (and has no LF at all): the fields go after its
// header block, ended the same way (before: the whole message read as one line, the fields
// after the body).
BOOST_AUTO_TEST_CASE(bare_cr_messages_get_cr_lines) {
    BOOST_TEST(with_flag("A: 1\rB: 2\r\rbody\rmore: text\r") == "A: 1\rB: 2\rX-Flag: YES\r\rbody\rmore: text\r");
    BOOST_TEST(with_flag("From a@b Mon\rA: 1\r\rb") == "From a@b Mon\rA: 1\rX-Flag: YES\r\rb");
    BOOST_TEST(with_flag("A: 1\rB: cut") == "A: 1\rB: cut\rX-Flag: YES\r");
    // Found by a hostile-mail run: a CR in the first line of an LF message made the whole
    // message one line, the verdict went after the body and a forged flag stayed the only one.
    BOOST_TEST(with_flag("X-Spam-Flag: NO\rX-Pad: 1\nSubject: s\n\nbody\n") ==
               "X-Spam-Flag: NO\rX-Pad: 1\nSubject: s\nX-Flag: YES\n\nbody\n");
    BOOST_TEST(with_flag("Received: from x\r\r\nFrom: a@b\r\n\r\nb\r\n") ==
               "Received: from x\r\r\nFrom: a@b\r\nX-Flag: YES\r\n\r\nb\r\n");
    // A message whose first line ends in LF or CRLF is read by LF: a CR inside a line stays in it.
    BOOST_TEST(with_flag("A: 1\nB: x\ry\n\nb") == "A: 1\nB: x\ry\nX-Flag: YES\n\nb");
    BOOST_TEST(with_flag("A: 1\r\nB: x\ry\r\n\r\nb") == "A: 1\r\nB: x\ry\r\nX-Flag: YES\r\n\r\nb");
}

// Names RFC 5322 does not allow but a lenient parser (GMime) reads past: 8-bit bytes, a space,
// a byte-order mark before the first. The fields still go after the whole block.
BOOST_AUTO_TEST_CASE(lenient_field_names_do_not_end_the_block) {
    BOOST_TEST(with_flag("A: 1\nX-\xC3\x9Cnicode: v\nB: 2\n\nbody\n") == "A: 1\nX-\xC3\x9Cnicode: v\nB: 2\nX-Flag: YES\n\nbody\n");
    BOOST_TEST(with_flag("A: 1\nBad Name: v\nB: 2\n\nb\n") == "A: 1\nBad Name: v\nB: 2\nX-Flag: YES\n\nb\n");
    BOOST_TEST(with_flag("\xEF\xBB\xBF" "From: a@b\nB: 2\n\nb\n") == "\xEF\xBB\xBF" "From: a@b\nB: 2\nX-Flag: YES\n\nb\n");
    BOOST_TEST(with_flag("A: 1\n: no name\n\nb\n") == "A: 1\nX-Flag: YES\n: no name\n\nb\n");
}

BOOST_AUTO_TEST_CASE(damaged_messages_keep_every_byte) {
    BOOST_TEST(with_flag("A: 1\nB: 2\n") == "A: 1\nB: 2\nX-Flag: YES\n");  // no body
    BOOST_TEST(with_flag("\nbody only\n") == "X-Flag: YES\n\nbody only\n");  // no headers
    BOOST_TEST(with_flag("hello world\n") == "X-Flag: YES\nhello world\n");
    BOOST_TEST(with_flag("") == "X-Flag: YES\n");
    const std::string nul("A: 1\n\nx\0y\n", 10);
    BOOST_TEST(with_flag(nul) == std::string("A: 1\nX-Flag: YES\n\nx\0y\n", 22));
    const std::string nul_in_header("A: \0\nB\0: 2\n\nb", 13);  // "B\0" is no field name: the block ends
    BOOST_TEST(with_flag(nul_in_header) == std::string("A: \0\nX-Flag: YES\nB\0: 2\n\nb", 25));
}

BOOST_AUTO_TEST_CASE(a_message_ending_inside_its_header_gets_a_line_end_first) {
    const auto at = find_header_insertion("A: 1\nB: 2");
    BOOST_TEST(at.needs_line_end_first);
    BOOST_TEST(at.offset == 9u);
    BOOST_TEST(with_flag("A: 1\nB: 2") == "A: 1\nB: 2\nX-Flag: YES\n");
}

BOOST_AUTO_TEST_CASE(mbox_messages_start_at_from_lines_after_empty_lines) {
    const std::string mbox = "From a@b Mon\nS: 1\n\nFrom the start of a body line\n\nFrom c@d Tue\nS: 2\n\nbody\n";
    const auto messages = textcnn::mail::split_mbox(mbox);
    BOOST_TEST_REQUIRE(messages.size() == 3u);  // "From the start..." follows an empty line: mboxo reads it so
    BOOST_TEST(messages[0] == "From a@b Mon\nS: 1\n\n");
    BOOST_TEST(messages[2] == "From c@d Tue\nS: 2\n\nbody\n");
    BOOST_TEST(textcnn::mail::split_mbox("no from line\n").empty());
}
