// The GMime glue of extract_mail_text(): parse, walk the MIME tree, decode text parts (capped),
// convert charsets, reduce HTML (html_text.cpp), then assemble the documented text.
#include "textcnn/mail/mail_text.h"

#include "html_text.h"
#include "line_ends.h"
#include "textcnn/core/error.h"
#include "textcnn/text/utf8.h"

#include <gmime/gmime.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_set>
#include <vector>

namespace textcnn::mail {
namespace {

struct ObjectUnref {
    void operator()(gpointer p) const {
        if (p) g_object_unref(p);
    }
};
template <class T>
using GObjectPtr = std::unique_ptr<T, ObjectUnref>;

struct GFree {
    void operator()(gpointer p) const { g_free(p); }
};
using GCharPtr = std::unique_ptr<char, GFree>;

void init_gmime() {
    static std::once_flag once;
    std::call_once(once, [] { g_mime_init(); });
}

// A GMime memory stream over `raw` without copying it: a GByteArray that borrows raw's bytes
// (its data and len are public fields; the stream is not the owner and nothing here writes to
// it). The parser's parts are substreams of this stream, so they must go before it.
class BorrowedStream {
public:
    explicit BorrowedStream(std::string_view raw) : array_(g_byte_array_new()) {
        array_->data = reinterpret_cast<guint8*>(const_cast<char*>(raw.data()));
        array_->len = static_cast<guint>(raw.size());
        stream_ = g_mime_stream_mem_new_with_byte_array(array_);
        g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(stream_), FALSE);
    }
    ~BorrowedStream() {
        g_object_unref(stream_);
        array_->data = nullptr;
        array_->len = 0;
        g_byte_array_free(array_, TRUE);
    }
    BorrowedStream(const BorrowedStream&) = delete;
    BorrowedStream& operator=(const BorrowedStream&) = delete;
    GMimeStream* get() const { return stream_; }

private:
    GByteArray* array_;
    GMimeStream* stream_ = nullptr;
};

std::string lower_ascii(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(g_ascii_tolower(c)); });
    return s;
}

// Runs of spaces and tabs become one space, lines are trimmed, empty lines dropped; invalid
// UTF-8 repaired and U+00A0 read as a space.
std::string tidy(std::string_view text) {
    std::string repaired = repair_utf8(text), out, line;
    auto end_line = [&] {
        while (!line.empty() && line.back() == ' ') line.pop_back();
        if (!line.empty()) out += line + '\n';
        line.clear();
    };
    for (std::size_t i = 0; i < repaired.size(); ++i) {
        const char c = repaired[i];
        const bool nbsp = c == '\xC2' && i + 1 < repaired.size() && repaired[i + 1] == '\xA0';
        if (c == '\n') {
            end_line();
        } else if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v' || nbsp || c == '\0') {
            if (!line.empty() && line.back() != ' ') line += ' ';
            i += nbsp;
        } else {
            line += c;
        }
    }
    end_line();
    return out;
}

// One header value on one line (GMime unfolds and decodes; stray line ends go too).
std::string one_line(const char* value) {
    std::string line = value ? tidy(value) : std::string();
    std::replace(line.begin(), line.end(), '\n', ' ');
    while (!line.empty() && line.back() == ' ') line.pop_back();
    return line;
}

std::string convert(std::string_view bytes, iconv_t cd) {
    std::string out;
    out.reserve(bytes.size() + bytes.size() / 2);
    char* in = const_cast<char*>(bytes.data());
    std::size_t in_left = bytes.size();
    char buffer[4096];
    bool flushing = false;
    while (in_left > 0 || !flushing) {
        flushing = in_left == 0;
        char* o = buffer;
        std::size_t o_left = sizeof buffer;
        const std::size_t r = flushing ? iconv(cd, nullptr, nullptr, &o, &o_left) : iconv(cd, &in, &in_left, &o, &o_left);
        out.append(buffer, o - buffer);
        if (r != static_cast<std::size_t>(-1)) continue;
        if (errno == E2BIG) {
            flushing = false;
            continue;
        }
        if (flushing) break;
        out += "\xEF\xBF\xBD";  // EILSEQ, or EINVAL (a sequence cut by the end): U+FFFD, skip a byte
        ++in;
        --in_left;
        iconv(cd, nullptr, nullptr, nullptr, nullptr);
    }
    return out;
}

// Decoded bytes of a part in `charset` -> UTF-8 (the rules in mail_text.h).
std::string to_utf8(std::string_view bytes, const char* declared) {
    std::string charset = declared ? lower_ascii(declared) : std::string();
    const char* canonical = charset.empty() ? "" : g_mime_charset_canon_name(charset.c_str());
    charset = canonical ? lower_ascii(canonical) : charset;
    if (charset == "utf-8" || charset == "utf8") return repair_utf8(bytes);
    // Labels that say "unknown" are no charset (iconv opened "x-unknown" and made U+FFFD of
    // every 8-bit byte).
    const bool unknown = charset == "x-unknown" || charset == "unknown" || charset == "unknown-8bit" ||
                         charset == "x-user-defined" || charset == "default";
    const bool plain = charset.empty() || unknown || charset == "us-ascii" || charset == "ascii";
    if (plain && is_valid_utf8(bytes)) return std::string(bytes);
    if (plain || charset == "iso-8859-1" || charset == "latin1") charset = "windows-1252";
    iconv_t cd = g_mime_iconv_open("UTF-8", charset.c_str());
    if (cd == reinterpret_cast<iconv_t>(-1)) {
        if (is_valid_utf8(bytes)) return std::string(bytes);
        cd = g_mime_iconv_open("UTF-8", "windows-1252");
        if (cd == reinterpret_cast<iconv_t>(-1)) return repair_utf8(bytes);
    }
    std::string text = convert(bytes, cd);
    g_mime_iconv_close(cd);
    return repair_utf8(text);
}

// The bytes of an RFC 2047 "Q" encoded word's text: '_' is a space, "=XX" a byte; anything
// else (a stray '=') is kept as it is.
std::string q_decoded(std::string_view text) {
    const auto hex = [](char c) {
        return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    };
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '_') {
            out += ' ';
        } else if (text[i] == '=' && i + 2 < text.size() && hex(text[i + 1]) >= 0 && hex(text[i + 2]) >= 0) {
            out += static_cast<char>(hex(text[i + 1]) * 16 + hex(text[i + 2]));
            i += 2;
        } else {
            out += text[i];
        }
    }
    return out;
}

// The bytes of a "B" encoded word's text, by GMime's base64 decoder (characters outside the
// alphabet skipped).
std::string b_decoded(std::string_view text) {
    std::string out(text.size() * 3 / 4 + 3, '\0');
    int state = 0;
    guint32 save = 0;
    out.resize(g_mime_encoding_base64_decode_step(reinterpret_cast<const unsigned char*>(text.data()), text.size(),
                                                  reinterpret_cast<unsigned char*>(out.data()), &state, &save));
    return out;
}

// A raw header value with its RFC 2047 encoded words ("=?charset?Q|B?text?=") decoded, every
// run of bytes converted to UTF-8 by to_utf8's rules, the body's: an encoded word's by its
// charset, the bytes between by none (UTF-8 when valid, else windows-1252). White space between
// two encoded words is dropped (RFC 2047, 6.2). GMime's own decoding turned a byte invalid in
// a declared us-ascii, or in a charset iconv does not know, into '?', and dropped some.
std::string decoded_words(std::string_view raw) {
    std::string out, between;  // `between`: the bytes since the last encoded word
    bool after_word = false;
    std::size_t i = 0;
    while (i < raw.size()) {
        const std::size_t start = raw.find("=?", i);
        std::size_t q1 = std::string_view::npos, end = std::string_view::npos;
        if (start != std::string_view::npos) {
            q1 = raw.find('?', start + 2);
            if (q1 != std::string_view::npos && q1 > start + 2 && q1 + 2 < raw.size() && raw[q1 + 2] == '?' &&
                std::strchr("QqBb", raw[q1 + 1]) != nullptr)
                end = raw.find("?=", q1 + 3);
        }
        if (end == std::string_view::npos) {  // no (further) encoded word: the rest is text
            between.append(raw.substr(i, start == std::string_view::npos ? std::string_view::npos : start + 2 - i));
            i = start == std::string_view::npos ? raw.size() : start + 2;
            if (between.find_first_not_of(" \t\r\n") != std::string::npos) after_word = false;
            continue;
        }
        between.append(raw.substr(i, start - i));
        const bool blank = between.find_first_not_of(" \t\r\n") == std::string::npos;
        if (!(after_word && blank)) out += to_utf8(between, nullptr);
        between.clear();
        std::string charset(raw.substr(start + 2, q1 - start - 2));
        charset = charset.substr(0, charset.find('*'));  // RFC 2231 language: "utf-8*en"
        const std::string_view text = raw.substr(q1 + 3, end - q1 - 3);
        out += to_utf8(raw[q1 + 1] == 'Q' || raw[q1 + 1] == 'q' ? q_decoded(text) : b_decoded(text), charset.c_str());
        after_word = true;
        i = end + 2;
    }
    out += to_utf8(between, nullptr);
    return out;
}

// A header field of `object` (the first of that name), unfolded, decoded as decoded_words() does.
std::string header_text(GMimeObject* object, const char* name) {
    GMimeHeader* header = g_mime_header_list_get_header(g_mime_object_get_header_list(object), name);
    const char* raw = header ? g_mime_header_get_raw_value(header) : nullptr;
    return raw ? one_line(decoded_words(raw).c_str()) : std::string();
}

// The decoded content of a part, at most `limit` bytes (0 = all): only what is kept is read.
std::string decoded_content(GMimePart* part, std::size_t limit) {
    GMimeDataWrapper* content = g_mime_part_get_content(part);
    if (!content) return {};
    GMimeStream* source = g_mime_data_wrapper_get_stream(content);
    if (!source) return {};
    g_mime_stream_reset(source);
    GObjectPtr<GMimeStream> filtered(g_mime_stream_filter_new(source));
    const GMimeContentEncoding encoding = g_mime_data_wrapper_get_encoding(content);
    if (encoding == GMIME_CONTENT_ENCODING_BASE64 || encoding == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE ||
        encoding == GMIME_CONTENT_ENCODING_UUENCODE) {
        GObjectPtr<GMimeFilter> decoder(g_mime_filter_basic_new(encoding, FALSE));
        g_mime_stream_filter_add(GMIME_STREAM_FILTER(filtered.get()), decoder.get());
    }
    std::string bytes;
    char buffer[16384];
    while (limit == 0 || bytes.size() < limit) {
        const gssize n = g_mime_stream_read(filtered.get(), buffer, sizeof buffer);
        if (n <= 0) break;
        bytes.append(buffer, static_cast<std::size_t>(n));
    }
    if (limit && bytes.size() > limit) bytes.resize(limit);
    return bytes;
}

// The length of `text`'s longest prefix of at most `max` bytes that ends at a character
// boundary (UTF-8).
std::size_t prefix_at_character(std::string_view text, std::size_t max) {
    if (text.size() <= max) return text.size();
    std::size_t cut = max;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    return cut;
}

// Bounds of the header lines (mail_text.h): a forged header block costs what a real one does.
constexpr std::size_t max_received_hosts = 32;
constexpr std::size_t max_header_value_bytes = 1000;

// Attachment lines kept per message; the rest are counted on one line ("more-attachments:
// 29900"): 30,000 parts with 990-byte names made 30 MB of text, and the network's working
// memory grows with it (5.1 GB).
constexpr std::size_t max_attachment_lines = 100;

struct Walk {
    const MailTextOptions& options;
    std::string attachments;  // "attachment: ..." lines
    std::string body;
    std::size_t attachment_lines = 0, more_attachments = 0;
    std::size_t html_tags_left = max_message_html_tags;  // shared by the message's HTML parts
    bool body_full() const { return options.max_body_bytes && body.size() >= options.max_body_bytes; }
};

// The part's type/subtype, lower case. A Content-Type field without a '/' is not one (";;;=",
// "text"): RFC 2045 5.2 then assumes text/plain, as for a part without the field, where GMime
// would read application/octet-stream and the text would be taken for an attachment.
std::string mime_type(GMimeObject* object) {
    const char* given = g_mime_object_get_header(object, "Content-Type");
    if (given && !std::strchr(given, '/')) return "text/plain";
    GMimeContentType* type = g_mime_object_get_content_type(object);
    if (!type) return "text/plain";
    GCharPtr text(g_mime_content_type_get_mime_type(type));
    return text ? lower_ascii(text.get()) : std::string("text/plain");
}

void add_part(GMimePart* part, Walk& walk) {
    GMimeObject* object = GMIME_OBJECT(part);
    const std::string type = mime_type(object);
    if ((type == "text/plain" || type == "text/html") && !g_mime_part_is_attachment(part)) {
        if (walk.body_full()) return;
        const bool html = type == "text/html";
        const std::size_t limit = html ? walk.options.max_html_bytes : walk.options.max_body_bytes;
        std::string text = to_utf8(decoded_content(part, limit), g_mime_object_get_content_type_parameter(object, "charset"));
        text = tidy(html ? html_visible_text(text, walk.html_tags_left) : text);
        if (text.empty()) return;
        if (!walk.body.empty()) walk.body += '\n';
        walk.body += text;
        return;
    }
    if (walk.attachment_lines == max_attachment_lines) {
        ++walk.more_attachments;
        return;
    }
    ++walk.attachment_lines;
    walk.attachments += "attachment: ";
    walk.attachments.append(type, 0, prefix_at_character(type, max_header_value_bytes));
    const std::string name = one_line(g_mime_part_get_filename(part));
    if (!name.empty()) {
        walk.attachments += ' ';
        walk.attachments.append(name, 0, prefix_at_character(name, max_header_value_bytes));
    }
    walk.attachments += '\n';
}

// Every leaf part in message order, however deep (an explicit stack: nesting is the sender's
// choice, and text hidden 65 levels down must still be read; the boundary bound below keeps
// the depth GMime builds in check).
void walk_parts(GMimeObject* root, Walk& walk) {
    std::vector<GMimeObject*> stack{root};
    while (!stack.empty()) {
        GMimeObject* object = stack.back();
        stack.pop_back();
        if (!object) continue;
        if (GMIME_IS_MESSAGE_PART(object)) {
            GMimeMessage* inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(object));
            if (inner) stack.push_back(g_mime_message_get_mime_part(inner));
        } else if (GMIME_IS_MULTIPART(object)) {
            GMimeMultipart* multipart = GMIME_MULTIPART(object);
            for (int i = g_mime_multipart_get_count(multipart); i-- > 0;)
                stack.push_back(g_mime_multipart_get_part(multipart, i));
        } else if (GMIME_IS_PART(object)) {
            add_part(GMIME_PART(object), walk);
        }
    }
}

// GMime's parse time grows with the nesting of multiparts (each line is checked against every
// open boundary: 20,000 levels took 1.2 s, 80,000 5.7 s). A message is cut so that at most
// max_boundaries "boundary" words (either case of the first letter, as real mail writes them)
// come before the cut: two linear scans, one per spelling, the second counting on from the
// first, so the bound holds whatever the mix; a real message has a few.
constexpr std::size_t max_boundaries = 1000;

std::string_view up_to_boundary_bound(std::string_view raw) {
    std::size_t cut = raw.size(), seen = 0;
    for (std::string_view word : {std::string_view("oundary"), std::string_view("OUNDARY")}) {
        for (std::size_t at = raw.find(word); at != std::string_view::npos && at < cut; at = raw.find(word, at + 1))
            if (++seen == max_boundaries) {
                cut = at;
                break;
            }
    }
    return raw.substr(0, cut);
}

// GMime keeps about 1.3 kB per MIME part and 500 bytes per header line of a part (a 25 MB
// message of 5 million empty parts took 5.8 GB and was aborted, the mail lost): a message is
// cut before its max_message_lines-th line and before its max_delimiter_lines-th line that
// starts with "--" (a boundary delimiter or a signature marker), whichever comes first. A real
// message, a 10 MB attachment included, has far fewer; text after the cut is not read.
constexpr std::size_t max_message_lines = 200'000;
constexpr std::size_t max_delimiter_lines = 10'000;

std::string_view up_to_line_bound(std::string_view raw) {
    std::size_t lines = 0, delimiters = 0;
    for (std::size_t pos = 0; pos < raw.size();) {
        if (++lines == max_message_lines ||
            (raw.compare(pos, 2, "--") == 0 && ++delimiters == max_delimiter_lines))
            return raw.substr(0, pos);
        const std::size_t end = raw.find('\n', pos);
        if (end == std::string_view::npos) break;
        pos = end + 1;
    }
    return raw;
}

// A field name longer than a line may be (RFC 5322: 998 bytes) is dropped from the header
// block with its continuation lines: GMime found no header at all in a message with a 4,300-byte
// name (UNKNOWN, "it starts with no header field"), a way for spam to escape a verdict. A copy
// is made in `storage` only when there is one.
constexpr std::size_t max_field_name_bytes = 998;

std::string_view without_overlong_field_names(std::string_view raw, std::string& storage) {
    const auto overlong = [](std::string_view line) {
        if (line.empty() || line[0] == ' ' || line[0] == '\t') return false;
        const std::size_t colon = line.find(':');
        return (colon == std::string_view::npos ? line.size() : colon) > max_field_name_bytes;
    };
    std::vector<std::pair<std::size_t, std::size_t>> kept;  // byte ranges of the header block kept
    std::size_t pos = 0, kept_from = 0;
    bool dropping = false, any = false;
    while (pos < raw.size()) {
        const std::size_t end = std::min(raw.find('\n', pos), raw.size() - 1) + 1;
        const std::string_view line = raw.substr(pos, end - pos);
        if (line == "\n" || line == "\r\n") break;
        const bool continuation = line[0] == ' ' || line[0] == '\t';
        if (overlong(line) || (dropping && continuation)) {
            if (!dropping) kept.emplace_back(kept_from, pos);
            dropping = any = true;
        } else if (dropping) {
            dropping = false;
            kept_from = pos;
        }
        pos = end;
    }
    if (!any) return raw;
    if (!dropping) kept.emplace_back(kept_from, pos);
    storage.clear();
    for (const auto& [from, to] : kept) storage.append(raw.substr(from, to - from));
    storage.append(raw.substr(pos));
    return storage;
}

// GMime keeps about 500 bytes per header line (3 million lines took 1.6 GB) and 30-45 bytes
// per byte of a long Subject, From or Content-Type field (one Subject line of 45 MB took
// 1.4 GB): the message's header block is read up to its max_header_lines-th line or its
// max_header_bytes-th byte, whichever comes first (a field cut there ends its line); the rest
// of the block is dropped, the body kept. A real header block has tens of lines and a few
// kilobytes; the Received count of a longer block stops at the cut.
constexpr std::size_t max_header_lines = 100'000;
constexpr std::size_t max_header_bytes = std::size_t{1} << 20;

// `raw` with its header block cut as above; a copy is made in `storage` only when the block is
// longer.
std::string_view with_bounded_header(std::string_view raw, std::string& storage) {
    const auto is_blank = [](std::string_view line) { return line == "\n" || line == "\r\n"; };
    const auto next_line = [&](std::size_t at) {
        const std::size_t end = raw.find('\n', at);
        return end == std::string_view::npos ? raw.size() : end + 1;
    };
    std::size_t pos = 0, lines = 0;
    while (pos < raw.size()) {
        const std::size_t next = next_line(pos);
        if (is_blank(raw.substr(pos, next - pos))) return raw;  // the block ended within the bounds
        if (++lines > max_header_lines || next > max_header_bytes) {
            const std::size_t keep = lines > max_header_lines ? pos : max_header_bytes;
            std::size_t body = raw.size();  // the blank line that ends the block, if any
            for (std::size_t line = pos, end = 0; line < raw.size(); line = end) {
                end = next_line(line);
                if (is_blank(raw.substr(line, end - line))) {
                    body = line;
                    break;
                }
            }
            storage.assign(raw.substr(0, keep));
            if (keep != pos) storage += '\n';  // the field cut at the byte bound ends its line
            storage.append(raw.substr(body));
            return storage;
        }
        pos = next;
    }
    return raw;
}

std::string domain_of(const std::string& address) {
    const auto at = address.rfind('@');
    if (at == std::string::npos || at + 1 >= address.size()) return {};
    std::string domain = address.substr(at + 1);
    domain = domain.substr(0, domain.find('>'));
    return one_line(lower_ascii(domain).c_str());
}

// The domain of the first mailbox of an address list (From, Reply-To).
std::string first_domain(InternetAddressList* list) {
    for (int i = 0; list && i < internet_address_list_length(list); ++i) {
        InternetAddress* address = internet_address_list_get_address(list, i);
        if (!INTERNET_ADDRESS_IS_MAILBOX(address)) continue;
        const char* addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(address));
        const std::string domain = domain_of(addr ? addr : "");
        if (!domain.empty()) return domain;
    }
    return {};
}

// The Received headers: how many, and the sending hosts: the dotted names after their "from"
// words (lower case, each once, in header order). The "by" hosts are the receiver's own
// machines: the same for every message a site receives, and so no evidence.
struct ReceivedHops {
    std::size_t count = 0;
    std::string hosts;
};

ReceivedHops received_hops(GMimeMessage* message) {
    GMimeHeaderList* headers = g_mime_object_get_header_list(GMIME_OBJECT(message));
    ReceivedHops hops;
    std::unordered_set<std::string> seen;
    for (int i = 0; headers && i < g_mime_header_list_get_count(headers); ++i) {
        GMimeHeader* header = g_mime_header_list_get_header_at(headers, i);
        if (g_ascii_strcasecmp(g_mime_header_get_name(header), "Received") != 0) continue;
        ++hops.count;
        const std::string value = lower_ascii(one_line(g_mime_header_get_value(header)));
        std::string previous;
        std::size_t pos = 0;
        while (pos < value.size()) {
            const std::size_t end = std::min(value.find(' ', pos), value.size());
            const std::string word = value.substr(pos, end - pos);
            if (previous == "from" && word.find('.') != std::string::npos && seen.size() < max_received_hosts &&
                seen.insert(word).second)
                hops.hosts += (hops.hosts.empty() ? "" : " ") + word;
            previous = word;
            pos = end + 1;
        }
    }
    return hops;
}

// An mbox "From " line before the headers is not a header: GMime would stop there.
std::string_view without_mbox_line(std::string_view raw) {
    if (!raw.starts_with("From ")) return raw;
    const auto end = raw.find('\n');
    return end == std::string_view::npos ? std::string_view() : raw.substr(end + 1);
}

}  // namespace

std::string extract_mail_text(std::string_view raw, const MailTextOptions& options) {
    init_gmime();
    std::string lf_message;  // a message whose lines end in bare CRs, with LFs
    if (detail::has_bare_cr_line_ends(raw)) raw = lf_message = detail::with_lf_line_ends(raw);
    std::string bounded;  // holds the message when its header block is cut
    std::string named;  // holds the message when a field name is dropped
    raw = up_to_boundary_bound(
        up_to_line_bound(without_overlong_field_names(with_bounded_header(without_mbox_line(raw), bounded), named)));
    if (raw.size() > static_cast<std::size_t>(G_MAXUINT))
        throw InputError("message of " + std::to_string(raw.size()) + " bytes: larger than GMime's 4 GiB limit");
    BorrowedStream stream(raw);
    GObjectPtr<GMimeParser> parser(g_mime_parser_new_with_stream(stream.get()));
    GObjectPtr<GMimeMessage> message(g_mime_parser_construct_message(parser.get(), nullptr));
    if (!message) throw InputError("not an RFC 5322 message: it starts with no header field");
    if (g_mime_header_list_get_count(g_mime_object_get_header_list(GMIME_OBJECT(message.get()))) == 0)
        throw InputError("not an RFC 5322 message: it starts with no header field");

    std::string text;
    auto line = [&](const char* name, const std::string& value) {
        if (!value.empty())
            text += std::string(name) + ": " + value.substr(0, prefix_at_character(value, max_header_value_bytes)) + '\n';
    };
    GMimeObject* top = GMIME_OBJECT(message.get());
    line("subject", header_text(top, "Subject"));
    line("from", first_domain(g_mime_message_get_from(message.get())));
    line("reply-to", first_domain(g_mime_message_get_reply_to(message.get())));
    const char* message_id = g_mime_message_get_message_id(message.get());
    line("message-id", domain_of(message_id ? message_id : ""));
    const ReceivedHops hops = received_hops(message.get());
    line("received", std::to_string(hops.count));
    line("received-hosts", hops.hosts);
    line("x-mailer", header_text(top, "X-Mailer"));
    line("user-agent", header_text(top, "User-Agent"));
    line("x-priority", header_text(top, "X-Priority"));
    GMimeObject* body = g_mime_message_get_mime_part(message.get());
    if (body) line("content-type", mime_type(body));
    Walk walk{options, {}, {}};
    walk_parts(body, walk);
    if (walk.more_attachments) walk.attachments += "more-attachments: " + std::to_string(walk.more_attachments) + '\n';
    if (options.max_body_bytes) walk.body.resize(prefix_at_character(walk.body, options.max_body_bytes));
    text += walk.attachments + '\n' + walk.body;
    return text;
}

}  // namespace textcnn::mail
