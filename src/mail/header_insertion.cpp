#include "textcnn/mail/header_insertion.h"

#include "line_ends.h"

namespace textcnn::mail {
namespace {

// "name:" as a lenient parser reads it (GMime goes on past such lines): RFC 5322 wants a name
// of printable ASCII other than ':' (and obsolete syntax allows blanks before the colon), but
// real mail also has 8-bit bytes, a spaced name or a byte-order mark there. Any bytes but
// control characters and ':', not starting with a blank (a continuation line).
bool is_field_line(std::string_view line) {
    std::size_t i = 0;
    while (i < line.size() && line[i] != ':' &&
           (static_cast<unsigned char>(line[i]) >= ' ' || line[i] == '\t') && line[i] != 127)
        ++i;
    return i > 0 && i < line.size() && line[i] == ':' && line[0] != ' ' && line[0] != '\t';
}

}  // namespace

HeaderInsertion find_header_insertion(std::string_view raw) {
    HeaderInsertion at;
    // Lines end in LF (or CRLF), or in a bare CR in a message with no LF at all.
    const char line_end = detail::has_bare_cr_line_ends(raw) ? '\r' : '\n';
    if (line_end == '\r') at.newline = "\r";
    std::size_t pos = 0;
    bool first = true, in_block = false;
    while (pos < raw.size()) {
        const std::size_t newline = raw.find(line_end, pos);
        const std::size_t end = newline == std::string_view::npos ? raw.size() : newline + 1;
        const std::string_view line = raw.substr(pos, end - pos);
        const bool mbox_line = first && line.starts_with("From ");
        const bool continuation = in_block && (line[0] == ' ' || line[0] == '\t');
        first = false;
        if (!mbox_line && !continuation && !is_field_line(line)) break;
        in_block = in_block || !mbox_line;
        at.offset = end;
        at.needs_line_end_first = newline == std::string_view::npos;
        // An unterminated last line says nothing about the message's line ends: the line
        // before it does.
        if (!at.needs_line_end_first && line_end == '\n') at.newline = line.ends_with("\r\n") ? "\r\n" : "\n";
        pos = end;
    }
    return at;
}

std::string header_lines(const HeaderInsertion& at, const std::vector<std::pair<std::string, std::string>>& fields) {
    std::string lines = at.needs_line_end_first ? std::string(at.newline) : std::string();
    for (const auto& [name, value] : fields) lines += name + ": " + value + std::string(at.newline);
    return lines;
}

}  // namespace textcnn::mail
