#include "textcnn/mail/header_insertion.h"

#include "line_ends.h"

#include <algorithm>

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

enum class LineKind { mbox_from, field, continuation };

// Calls visit(line, offset, kind) for each line of the header block, an mbox "From " line
// before it included; returns the offset just past the block.
template <class Visit>
std::size_t walk_header_block(std::string_view raw, char line_end, Visit visit) {
    std::size_t pos = 0, block_end = 0;
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
        visit(line, pos, mbox_line ? LineKind::mbox_from : continuation ? LineKind::continuation : LineKind::field);
        block_end = pos = end;
    }
    return block_end;
}

// Lines end in LF (or CRLF), or in a bare CR in a message with no LF at all.
char line_end_of(std::string_view raw) { return detail::has_bare_cr_line_ends(raw) ? '\r' : '\n'; }

bool equal_ignoring_ascii_case(std::string_view a, std::string_view b) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [&](char x, char y) { return lower(x) == lower(y); });
}

}  // namespace

HeaderInsertion find_header_insertion(std::string_view raw) {
    HeaderInsertion at;
    const char line_end = line_end_of(raw);
    if (line_end == '\r') at.newline = "\r";
    at.offset = walk_header_block(raw, line_end, [&](std::string_view line, std::size_t, LineKind) {
        at.needs_line_end_first = !line.ends_with(line_end);
        // An unterminated last line says nothing about the message's line ends: the line
        // before it does.
        if (!at.needs_line_end_first && line_end == '\n') at.newline = line.ends_with("\r\n") ? "\r\n" : "\n";
    });
    return at;
}

std::vector<std::size_t> find_header_fields(std::string_view raw, const std::vector<std::string_view>& names) {
    std::vector<std::size_t> found;
    walk_header_block(raw, line_end_of(raw), [&](std::string_view line, std::size_t offset, LineKind kind) {
        if (kind != LineKind::field) return;
        std::string_view name = line.substr(0, line.find(':'));
        while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
        if (std::any_of(names.begin(), names.end(), [&](std::string_view n) { return equal_ignoring_ascii_case(name, n); }))
            found.push_back(offset);
    });
    return found;
}

std::string header_lines(const HeaderInsertion& at, const std::vector<std::pair<std::string, std::string>>& fields) {
    std::string lines = at.needs_line_end_first ? std::string(at.newline) : std::string();
    for (const auto& [name, value] : fields) lines += name + ": " + value + std::string(at.newline);
    return lines;
}

}  // namespace textcnn::mail
