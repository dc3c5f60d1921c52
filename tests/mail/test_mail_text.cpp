// extract_mail_text() on messages written here, each asserting the exact text the model reads:
// multipart/alternative, nested multiparts with an attachment, base64 and quoted-printable,
// ISO-8859-1 and Windows-1252 bodies, RFC 2047 subjects, HTML-only mail with scripts,
// unknown and missing charsets, an mbox "From " line, and input that is no message at all.
#define BOOST_TEST_MODULE mail_text
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <chrono>

#include "test_helpers.h"

#include "textcnn/core/error.h"
#include "textcnn/mail/mail_text.h"

#include <string>

using textcnn::mail::extract_mail_text;

BOOST_AUTO_TEST_CASE(alternative_with_both_parts_gives_both_texts_and_the_header_lines) {
    const std::string message =
        "From: Ada Lovelace <ada@Example.ORG>\n"
        "To: bob@example.net\n"
        "Subject: Lunch on\n"
        " Friday\n"
        "Received: from a.example.org by b.example.net; Mon, 1 Jan 2024 10:00:00 +0000\n"
        "Received: from c.example.org (helo [10.0.0.1])\n"
        "\tby a.example.org; Mon, 1 Jan 2024 09:59:00 +0000\n"
        "Received: from A.Example.ORG by c.example.org; Mon, 1 Jan 2024 09:58:00 +0000\n"
        "X-Mailer: Quill 2.1\n"
        "User-Agent: Quill/2.1 (X11)\n"
        "X-Priority: 3 (Normal)\n"
        "Reply-To: Lunch Club <club@Lists.Example.org>\n"
        "Message-ID: <20240101.abc@mx1.example.ORG>\n"
        "MIME-Version: 1.0\n"
        "Content-Type: multipart/alternative; boundary=\"b1\"\n"
        "\n"
        "--b1\n"
        "Content-Type: text/plain; charset=us-ascii\n"
        "\n"
        "Shall we meet at noon?\n"
        "See   you\tthere.  \n"
        "\n"
        "--b1\n"
        "Content-Type: text/html; charset=us-ascii\n"
        "\n"
        "<html><head><title>Lunch</title><style>p{color:red}</style></head><body>"
        "<p>Shall we meet at <b>noon</b>?</p><p>Menu: <a href=\"https://Menu.Example.com/today?x=1\">today&#39;s "
        "menu</a></p></body></html>\n"
        "--b1--\n";
    BOOST_TEST(extract_mail_text(message) ==
               "subject: Lunch on Friday\n"
               "from: example.org\n"
               "reply-to: lists.example.org\n"
               "message-id: mx1.example.org\n"
               "received: 3\n"
               "received-hosts: a.example.org c.example.org\n"
               "x-mailer: Quill 2.1\n"
               "user-agent: Quill/2.1 (X11)\n"
               "x-priority: 3 (Normal)\n"
               "content-type: multipart/alternative\n"
               "\n"
               "Shall we meet at noon?\n"
               "See you there.\n"
               "\n"
               "Shall we meet at noon?\n"
               "Menu: today's menu menu.example.com\n");
}

BOOST_AUTO_TEST_CASE(nested_multipart_decodes_quoted_printable_and_base64_and_counts_attachments) {
    const std::string message =
        "From: reports@example.com\n"
        "Subject: Quarterly numbers\n"
        "Content-Type: multipart/mixed; boundary=outer\n"
        "\n"
        "preamble nobody reads\n"
        "--outer\n"
        "Content-Type: multipart/alternative; boundary=inner\n"
        "\n"
        "--inner\n"
        "Content-Type: text/plain; charset=utf-8\n"
        "Content-Transfer-Encoding: quoted-printable\n"
        "\n"
        "Caf=C3=A9 prices went up=\n"
        " by 10%.\n"
        "--inner\n"
        "Content-Type: text/html; charset=utf-8\n"
        "Content-Transfer-Encoding: base64\n"
        "\n"
        "PGRpdj5DYWYmZWFjdXRlOyA8c2NyaXB0PmFsZXJ0KDEpPC9zY3JpcHQ+bmV3czwvZGl2Pg==\n"
        "--inner--\n"
        "--outer\n"
        "Content-Type: application/pdf; name=\"report.pdf\"\n"
        "Content-Disposition: attachment; filename=\"report.pdf\"\n"
        "Content-Transfer-Encoding: base64\n"
        "\n"
        "JVBERi0xLjQK\n"
        "--outer\n"
        "Content-Type: image/png\n"
        "Content-Transfer-Encoding: base64\n"
        "\n"
        "iVBORw0KGgo=\n"
        "--outer\n"
        "Content-Type: text/plain; name=notes.txt\n"
        "Content-Disposition: attachment; filename=notes.txt\n"
        "\n"
        "an attached text file is not body text\n"
        "--outer--\n";
    BOOST_TEST(extract_mail_text(message) ==
               "subject: Quarterly numbers\n"
               "from: example.com\n"
               "received: 0\n"
               "content-type: multipart/mixed\n"
               "attachment: application/pdf report.pdf\n"
               "attachment: image/png\n"
               "attachment: text/plain notes.txt\n"
               "\n"
               "Café prices went up by 10%.\n"
               "\n"
               "Café news\n");
}

BOOST_AUTO_TEST_CASE(base64_body_and_rfc2047_subject_are_decoded) {
    const std::string message =
        "Subject: =?ISO-8859-1?Q?R=E9union_demain?=\n"
        " at =?UTF-8?B?Y2Fmw6k=?=\n"
        "From: \"=?UTF-8?Q?Zo=C3=A9?=\" <zoe@mail.example.fr>\n"
        "Content-Type: text/plain; charset=utf-8\n"
        "Content-Transfer-Encoding: base64\n"
        "\n"
        "SGVsbG8gZnJvbSBiYXNlNjQKc2Vjb25kIGxpbmU=\n";
    BOOST_TEST(extract_mail_text(message) ==
               "subject: Réunion demain at café\n"
               "from: mail.example.fr\n"
               "received: 0\n"
               "content-type: text/plain\n"
               "\n"
               "Hello from base64\n"
               "second line\n");
}

// Encoded words follow the body's charset rules (found by a new-user run: GMime made '?' of a
// byte invalid in a declared us-ascii or an "x-unknown" charset, and dropped one of a B word):
// us-ascii and unknown labels read as windows-1252 unless valid UTF-8, invalid UTF-8 as U+FFFD,
// space between two encoded words dropped, undeclared 8-bit text by the same rule.
BOOST_AUTO_TEST_CASE(encoded_words_follow_the_charset_rules_of_the_body) {
    const auto subject = [](const std::string& field) {
        const std::string text = extract_mail_text("Subject: " + field + "\nFrom: a@b.example\n\nbody\n");
        return text.substr(0, text.find('\n'));
    };
    BOOST_TEST(subject("=?us-ascii?Q?caf=E9?=") == "subject: café");
    BOOST_TEST(subject("=?x-unknown?Q?caf=E9_cr=E8me?=") == "subject: café crème");
    BOOST_TEST(subject("=?x-unknown?B?Y2Fm6Q==?= end") == "subject: café end");
    BOOST_TEST(subject("=?utf-8?B?Y2Fm6Q==?= end") == "subject: caf\xEF\xBF\xBD end");
    BOOST_TEST(subject("=?bogus?Q?caf=C3=A9?=") == "subject: café");  // unknown to iconv, valid UTF-8
    BOOST_TEST(subject("=?utf-8?q?a?=  \n =?utf-8?q?b?= c =?iso-8859-1*fr?Q?=E0?=") == "subject: ab c à");
    BOOST_TEST(subject("caf\xE9 =?broken?X?no?= 100% =?") == "subject: café =?broken?X?no?= 100% =?");
    BOOST_TEST(subject("=?windows-1252?Q?=80_5?=") == "subject: € 5");
}

// Lines ended by bare CRs (old Mac OS mail) are read as lines: before, GMime saw one header
// field holding the whole message, and the model read "from: example.org" and nothing else.
BOOST_AUTO_TEST_CASE(bare_cr_line_ends_are_read_as_lines) {
    const std::string message =
        "From: Marguerite <marguerite@orchard.example>\r"
        "Subject: Apple harvest\r"
        "Content-Type: text/plain; charset=us-ascii\r"
        "\r"
        "The ladders are in the barn.\r"
        "Bring gloves.\r";
    BOOST_TEST(extract_mail_text(message) ==
               "subject: Apple harvest\n"
               "from: orchard.example\n"
               "received: 0\n"
               "content-type: text/plain\n"
               "\n"
               "The ladders are in the barn.\n"
               "Bring gloves.\n");
    // The same message with LF and with CRLF line ends reads the same.
    std::string lf = message, crlf;
    for (char& c : lf)
        if (c == '\r') c = '\n';
    for (const char c : lf) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
    BOOST_TEST(extract_mail_text(lf) == extract_mail_text(message));
    BOOST_TEST(extract_mail_text(crlf) == extract_mail_text(message));
}

// Found by a hostile-mail run: bounds per message, not per part.
BOOST_AUTO_TEST_CASE(attachments_html_parts_and_field_names_are_bounded_per_message) {
    // 30,000 attachments with long names made 30 MB of text: 100 lines, then a count.
    std::string many = "Subject: files\nContent-Type: multipart/mixed; boundary=b\n\n";
    for (int i = 0; i < 150; ++i) many += "--b\nContent-Type: application/x-thing; name=\"f" + std::to_string(i) + ".bin\"\n\nxx\n";
    many += "--b--\n";
    const std::string text = extract_mail_text(many);
    BOOST_TEST(text.find("attachment: application/x-thing f99.bin\n") != std::string::npos);
    BOOST_TEST(text.find("f100.bin") == std::string::npos);
    BOOST_TEST(text.find("more-attachments: 50\n") != std::string::npos);
    // 200 HTML parts of 9,000 unclosed <div> took 66 s (10,000 tags per part): the parts now
    // share 20,000, so the text of the part after them is still read, and fast.
    std::string html = "Subject: pages\nContent-Type: multipart/mixed; boundary=b\n\n";
    for (int i = 0; i < 50; ++i) {
        html += "--b\nContent-Type: text/html\n\n";
        for (int k = 0; k < 9000; ++k) html += "<div>";
        html += "\n";
    }
    html += "--b\nContent-Type: text/plain\n\nplain words at the end\n--b--\n";
    const auto started = std::chrono::steady_clock::now();
    BOOST_TEST(extract_mail_text(html).find("plain words at the end") != std::string::npos);
    BOOST_TEST(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count() < 10.0);
    // A field name longer than a line may be made GMime find no header at all: it is dropped.
    const std::string long_name = "From: a@b.example\nX-" + std::string(5000, 'N') + ": v\n cont\nSubject: still read\n\nbody\n";
    BOOST_TEST(extract_mail_text(long_name) == "subject: still read\nfrom: b.example\nreceived: 0\ncontent-type: text/plain\n\nbody\n");
}

BOOST_AUTO_TEST_CASE(iso_8859_1_and_windows_1252_bodies_become_utf8) {
    const std::string latin1 =
        "Subject: Greetings\n"
        "Content-Type: text/plain; charset=ISO-8859-1\n"
        "Content-Transfer-Encoding: quoted-printable\n"
        "\n"
        "Gr=FC=DFe aus K=F6ln\n";
    BOOST_TEST(extract_mail_text(latin1) == "subject: Greetings\nreceived: 0\ncontent-type: text/plain\n\nGrüße aus Köln\n");
    const std::string cp1252 =
        "Subject: Prices\n"
        "Content-Type: text/plain; charset=windows-1252\n"
        "Content-Transfer-Encoding: 8bit\n"
        "\n"
        "\x93Smart quotes\x94 cost \x80 5\n";
    BOOST_TEST(extract_mail_text(cp1252) ==
               "subject: Prices\nreceived: 0\ncontent-type: text/plain\n\n\u201CSmart quotes\u201D cost \u20AC 5\n");
    // Declared ISO-8859-1 but written on Windows: read as windows-1252, as browsers do.
    const std::string declared_latin1 =
        "Subject: Prices\n"
        "Content-Type: text/plain; charset=iso-8859-1\n"
        "\n"
        "only \x80 3 \xE0 emporter\n";
    BOOST_TEST(extract_mail_text(declared_latin1) ==
               "subject: Prices\nreceived: 0\ncontent-type: text/plain\n\nonly \u20AC 3 \u00E0 emporter\n");
}

BOOST_AUTO_TEST_CASE(html_only_mail_drops_scripts_styles_and_comments_and_keeps_link_hosts) {
    const std::string message =
        "Subject: You won\n"
        "From: <promo@prize.example.net>\n"
        "Content-Type: text/html\n"
        "\n"
        "<html><head><script>var hidden = 'in the head';</script></head><body>"
        "<script type=\"text/javascript\">document.write('not shown')</script>"
        "<h1>Win&nbsp;a prize</h1><p>Visit <a href='http://user@Prize.Example.net:8080/claim'>our site</a> now"
        "<!-- a comment --></p><style>.x { display: none }</style>"
        "<a href=\"mailto:someone@example.org\">write</a> <a href=\"/relative\">here</a></body></html>\n";
    BOOST_TEST(extract_mail_text(message) ==
               "subject: You won\n"
               "from: prize.example.net\n"
               "received: 0\n"
               "content-type: text/html\n"
               "\n"
               "Win a prize\n"
               "Visit our site prize.example.net now\n"
               "write here\n");
}

// Spam is laid out in tables: each cell is a word of its own, not glued to the next.
BOOST_AUTO_TEST_CASE(table_cells_are_separate_words) {
    const std::string raw = "From: a@shop.example\nSubject: s\nContent-Type: text/html\n\n"
                            "<table><tr><td>Cheap</td><td>Offer</td></tr><tr><th>Act</th><th>Now</th></tr></table>"
                            "<select><option>one</option><option>two</option></select>"
                            "<nav>menu</nav><aside>side</aside><figure>pic</figure><figcaption>caption</figcaption>\n";
    const std::string text = extract_mail_text(raw);
    BOOST_TEST(text.substr(text.find("\n\n") + 2) == "Cheap\nOffer\nAct\nNow\none\ntwo\nmenu\nside\npic\ncaption\n");
}

// Forged structure costs what a real message costs: 100,000 unclosed elements (gumbo's time
// grows with their depth; its error records copied the open elements each time: minutes and
// gigabytes), 100,000 Received fields (their hosts were looked up in a list) and 30,000 nested
// multiparts.
BOOST_AUTO_TEST_CASE(deep_html_and_endless_received_fields_are_bounded) {
    std::string html = "From: a@b.example\nSubject: s\nContent-Type: text/html\n\n";
    for (int i = 0; i < 100'000; ++i) html += "<div>x";
    const auto started = std::chrono::steady_clock::now();
    const std::string text = extract_mail_text(html, {0, 0});
    const std::string body = text.substr(text.find("\n\n") + 2);
    BOOST_TEST(std::count(body.begin(), body.end(), 'x') == 9'999);  // up to the 10,000th tag
    // One tag with 60,000 attributes (gumbo compares each with the ones before).
    std::string attributes = "From: a@b.example\nSubject: s\nContent-Type: text/html\n\n<p";
    for (int i = 0; i < 30'000; ++i) attributes += " a" + std::to_string(i) + "=1 b" + std::to_string(i);
    BOOST_TEST(extract_mail_text(attributes + ">text</p>\n", {0, 0}).starts_with("subject: s\n"));
    std::string received = "Subject: s\n";
    for (int i = 0; i < 100'000; ++i) received += "Received: from h" + std::to_string(i) + ".example by mx\n";
    const std::string hops = extract_mail_text(received + "\nbody\n");
    // The header block is read up to its 1 MiB-th byte: the Received fields that start before it.
    std::size_t fields_read = 0;
    for (std::size_t at = received.find("\nReceived"); at != std::string::npos && at + 1 < (std::size_t{1} << 20);
         at = received.find("\nReceived", at + 1))
        ++fields_read;
    BOOST_TEST(fields_read > 20'000u);
    BOOST_TEST(hops.find("received: " + std::to_string(fields_read) + "\n") != std::string::npos);
    const auto line = hops.find("received-hosts: ");
    BOOST_TEST(hops.substr(line, hops.find('\n', line) - line) ==
               "received-hosts: h0.example h1.example h2.example h3.example h4.example h5.example h6.example "
               "h7.example h8.example h9.example h10.example h11.example h12.example h13.example h14.example "
               "h15.example h16.example h17.example h18.example h19.example h20.example h21.example h22.example "
               "h23.example h24.example h25.example h26.example h27.example h28.example h29.example h30.example "
               "h31.example");
    // Seconds before; well under one now (the bound leaves room for a slow machine).
    BOOST_TEST(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count() < 10.0);
    // Text hidden 100 multiparts down is read; 30,000 levels (GMime checks each line against
    // every open boundary) are cut after at most 1,000 boundary words.
    const auto nested = [](int levels) {
        std::string m = "From: a@b.example\nSubject: deep\nMIME-Version: 1.0\n";
        for (int i = 0; i < levels; ++i)
            m += "Content-Type: multipart/mixed; boundary=\"b" + std::to_string(i) + "\"\n\n--b" + std::to_string(i) + "\n";
        m += "Content-Type: text/plain\n\nhidden words\n";
        for (int i = levels; i-- > 0;) m += "--b" + std::to_string(i) + "--\n";
        return m;
    };
    const std::string hundred = extract_mail_text(nested(100));
    BOOST_TEST(hundred.substr(hundred.find("\n\n") + 2) == "hidden words\n");
    BOOST_TEST(extract_mail_text(nested(30'000)).starts_with("subject: deep\nfrom: b.example\n"));
    // A header block of 150,000 lines (GMime keeps about 500 bytes per line) is read up to its
    // 100,000th line: the fields after it are dropped, the body is read.
    std::string long_block = "Subject: kept\r\n";
    for (int i = 0; i < 150'000; ++i) long_block += "X-Filler: " + std::to_string(i) + "\r\n";
    const std::string cut_block = extract_mail_text(long_block + "X-Mailer: dropped\r\n\r\nthe body\r\n");
    BOOST_TEST(cut_block.starts_with("subject: kept\n"));
    BOOST_TEST(cut_block.find("dropped") == std::string::npos);
    BOOST_TEST(cut_block.substr(cut_block.find("\n\n") + 2) == "the body\n");
    BOOST_TEST(extract_mail_text(long_block).starts_with("subject: kept\n"));  // no body at all
    // One Subject field of 20 MB (GMime takes 30-45 bytes per byte of it) is read up to the
    // block's 1 MiB-th byte; the fields after it are dropped, the body is read.
    const std::string huge_subject =
        extract_mail_text("From: a@b.example\nSubject: " + std::string(20'000'000, 's') + "\nX-Mailer: gone\n\nbody\n");
    BOOST_TEST(huge_subject.starts_with("subject: " + std::string(1000, 's') + "\nfrom: b.example\n"));
    BOOST_TEST(huge_subject.find("gone") == std::string::npos);
    BOOST_TEST(huge_subject.substr(huge_subject.find("\n\n") + 2) == "body\n");
    const std::string long_subject = extract_mail_text("Subject: " + std::string(5000, 'w') + "\n\nb\n");
    BOOST_TEST(long_subject.substr(0, long_subject.find('\n')).size() == std::string("subject: ").size() + 1000);
}

BOOST_AUTO_TEST_CASE(missing_and_unknown_charsets_keep_utf8_and_read_other_bytes_as_windows_1252) {
    auto body_of = [](const std::string& content_type, const std::string& body) {
        const std::string text = extract_mail_text("Subject: s\nContent-Type: " + content_type + "\n\n" + body + "\n");
        return text.substr(text.find("\n\n") + 2);
    };
    BOOST_TEST(body_of("text/plain", "na\xC3\xAFve") == "na\u00EFve\n");
    BOOST_TEST(body_of("text/plain", "na\xEFve") == "na\u00EFve\n");
    BOOST_TEST(body_of("text/plain; charset=x-no-such-charset", "na\xC3\xAFve") == "na\u00EFve\n");
    BOOST_TEST(body_of("text/plain; charset=x-no-such-charset", "na\xEFve") == "na\u00EFve\n");
    // Bytes invalid in their declared charset become U+FFFD; the rest is kept.
    BOOST_TEST(body_of("text/plain; charset=utf-8", "a\xFF" "b") == "a\uFFFDb\n");
}

BOOST_AUTO_TEST_CASE(an_mbox_from_line_is_skipped_and_the_body_limit_cuts_at_a_character) {
    const std::string message = "From someone@example.com Mon Jan  1 00:00:00 2024\nSubject: Cut\n\nabc\u00E9def\n";
    textcnn::mail::MailTextOptions options;
    options.max_body_bytes = 4;  // "abc" and the first byte of "é": cut before the "é"
    BOOST_TEST(extract_mail_text(message, options) == "subject: Cut\nreceived: 0\ncontent-type: text/plain\n\nabc");
}

BOOST_AUTO_TEST_CASE(bytes_that_hold_no_message_are_an_input_error) {
    using textcnn::testing::error_of;
    BOOST_TEST(error_of<textcnn::InputError>([] { extract_mail_text(""); }) ==
               "not an RFC 5322 message: it starts with no header field");
    BOOST_TEST(error_of<textcnn::InputError>([] { extract_mail_text("just words, no header at all\n"); }) ==
               "not an RFC 5322 message: it starts with no header field");
}
