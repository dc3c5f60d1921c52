// What a spam model reads from one raw e-mail (RFC 5322, MIME RFC 2045-2049): a short text of
// chosen header facts and the visible body text, built with GMime (MIME structure, transfer
// encodings, RFC 2047 encoded words, charsets) and gumbo (HTML). Part of the separate
// textcnn_mail library: link textcnn::textcnn_mail; the core library does not need GMime.
//
// The text, one item per line, in this order (received always, 0 included; the others only
// when the message has them):
//
//     subject: <Subject, unfolded, encoded words decoded>
//     from: <domain of the first From address, lower case>
//     reply-to: <domain of the first Reply-To address, lower case>
//     message-id: <domain of the Message-ID (after its '@'), lower case>
//     received: <number of Received header fields>
//     received-hosts: <the dotted host names after "from" in the Received fields, lower
//                      case, each once, in header order, the first 32; the "by" hosts are
//                      the receiving site's own and left out>
//     x-mailer: <X-Mailer, unfolded, decoded>
//     user-agent: <User-Agent, unfolded, decoded>
//     x-priority: <X-Priority>
//     content-type: <type/subtype of the message, lower case>
//     attachment: <type/subtype> <file name>      (one line per attachment, in message order)
//     <empty line>
//     <body text>
//
// Encoded words (RFC 2047, Q and B) and 8-bit bytes in those header fields are converted by the
// body's charset rules below, each word by its own charset; white space between two encoded
// words is dropped. Each header line holds at most 1,000 bytes of its value (cut at a character boundary). The
// message's header block is read up to its 100,000th line or 1 MiB-th byte, whichever comes
// first (GMime keeps about 500 bytes per line and up to 45 bytes per byte of a long field); the
// fields after it are dropped, the body is read.
//
// The body text is the text of every text/plain and text/html part that is not an attachment
// (in multipart/alternative, mixed, related, nested multiparts and attached messages), in
// message order, parts separated by an empty line, after its transfer encoding (base64,
// quoted-printable, uuencode, 7bit/8bit) is undone and its charset converted to UTF-8: as the
// WHATWG Encoding Standard does, us-ascii and iso-8859-1 are read as their superset
// windows-1252; text without a charset, with one that says it is unknown (x-unknown, unknown,
// unknown-8bit, x-user-defined, default) or with one iconv does not know, is kept when it is
// valid UTF-8 and else read as windows-1252; bytes invalid in their charset become U+FFFD.
// Within a part, runs of spaces and tabs become one space, lines are trimmed and empty lines
// dropped. HTML is reduced to its visible text: script, style, head, template and comments
// dropped, block elements and table cells end a line, and after the text of each link
// (<a href="scheme://...">) its host name, lower case, as a word of its own: "Click here
// www.example.com"; markup after a part's 10,000th tag is not read. Multiparts are followed to
// any depth, but a message is cut so that at most 1,000 "boundary" words come before the cut
// (GMime's time grows with the nesting).
// Attachments (a Content-Disposition of attachment, or a part that is not text/plain or
// text/html) are never decoded: only their type and name are counted.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace textcnn::mail {

/// Bounds on the work and the text per message, so that a huge part costs no more than a
/// small one: a part's decoded text beyond these sizes is not read.
struct MailTextOptions {
    /// Body text kept per message (UTF-8 bytes, cut at a character boundary); 0 = no limit.
    std::size_t max_body_bytes = 16 * 1024;
    /// HTML source read per text/html part before parsing (bytes, decoded); 0 = no limit.
    std::size_t max_html_bytes = 256 * 1024;
};

/// The text described above of the message `raw` (its bytes as received; an mbox "From "
/// line before the headers is allowed). Always valid UTF-8 (bytes that are not become
/// U+FFFD). Throws InputError when the bytes hold no message GMime can parse (they do not
/// start with a header field: empty input, a body without headers), or more than 4 GiB.
/// Damage GMime reads past (a broken boundary, bad base64, an unknown charset, NUL bytes) is
/// not an error. Lines may end in LF, CRLF, or bare CR (old Mac OS mail, CRs and no LF at
/// all: such a message is read from a copy with LF line ends). `raw` is copied only when it
/// must be changed to be read (bare CRs, a header block beyond its bounds, an overlong field
/// name). Thread-safe: any number of threads may extract at once.
std::string extract_mail_text(std::string_view raw, const MailTextOptions& options = {});

}  // namespace textcnn::mail
