#include "output_fields.h"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>

namespace cli_common {

namespace {

// The length of the valid UTF-8 sequence that starts at s[i] (a byte of 0x80 or more), or 0
// when none does: a stray continuation byte, a cut sequence, an overlong form, a surrogate,
// beyond U+10FFFF.
std::size_t utf8_sequence_at(std::string_view s, std::size_t i) {
    const auto b = [&](std::size_t k) { return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0u; };
    const unsigned lead = b(0);
    const std::size_t length = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 0;
    if (length == 0 || lead > 0xf4 || lead == 0xc0 || lead == 0xc1) return 0;
    for (std::size_t k = 1; k < length; ++k)
        if ((b(k) & 0xc0) != 0x80) return 0;
    if (lead == 0xe0 && b(1) < 0xa0) return 0;   // overlong
    if (lead == 0xed && b(1) >= 0xa0) return 0;  // surrogate
    if (lead == 0xf0 && b(1) < 0x90) return 0;   // overlong
    if (lead == 0xf4 && b(1) >= 0x90) return 0;  // beyond U+10FFFF
    return length;
}

// tsv_field(), or with `layout` terminal_text(): backslash, tab and newline left as they are.
std::string escaped(std::string_view s, bool layout) {
    const auto plain = [layout](unsigned char c) {
        return (c >= 0x20 && c < 0x7f && (layout || c != '\\')) || (layout && (c == '\n' || c == '\t'));
    };
    if (std::all_of(s.begin(), s.end(), plain)) return std::string(s);
    std::string out;
    for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (plain(c)) {
            out += static_cast<char>(c);
            ++i;
            continue;
        }
        if (c == '\\') out += "\\\\";
        else if (c == '\t') out += "\\t";
        else if (c == '\n') out += "\\n";
        else if (c == '\r') out += "\\r";
        else if (c < 0x80) out += fmt::format("\\x{:02x}", c);  // C0 and DEL
        if (c < 0x80) {
            ++i;
            continue;
        }
        const std::size_t length = utf8_sequence_at(s, i);
        if (length == 0) {  // a stray byte (a file name of Latin-1): 0x9b is CSI on an 8-bit terminal
            out += fmt::format("\\x{:02x}", c);
            ++i;
            continue;
        }
        const auto next = static_cast<unsigned char>(s[i + 1]);
        if (c == 0xc2 && next <= 0x9f)  // C1 controls, U+0085 (next line) among them
            out += fmt::format("\\u{:04x}", next);
        else if (c == 0xe2 && next == 0x80 && (static_cast<unsigned char>(s[i + 2]) & 0xfe) == 0xa8)  // U+2028, U+2029
            out += fmt::format("\\u{:04x}", 0x2000 + static_cast<unsigned char>(s[i + 2]) - 0x80);
        else
            out.append(s, i, length);
        i += length;
    }
    return out;
}

}  // namespace

std::string tsv_field(const std::string& s) { return escaped(s, false); }
std::string terminal_text(std::string_view s) { return escaped(s, true); }

std::string csv_field(const std::string& s, char delimiter) {
    if (s.find_first_of("\"\r\n") == std::string::npos && s.find(delimiter) == std::string::npos) return s;
    std::string quoted = "\"";
    for (char c : s) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
    return quoted + "\"";
}

char output_delimiter(const std::string& format) { return format == "csv" ? ',' : '\t'; }

std::string output_field(const std::string& format, const std::string& s) {
    return format == "csv" ? csv_field(s) : tsv_field(s);
}

std::string probability_text(float p) { return fmt::format("{:.6g}", p); }

std::vector<std::size_t> ranked_labels(std::span<const float> probabilities, std::optional<std::size_t> decision,
                                       std::size_t top) {
    std::vector<std::size_t> order(probabilities.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        if (decision && (a == *decision) != (b == *decision)) return a == *decision;
        return probabilities[a] > probabilities[b];
    });
    if (top && top < order.size()) order.resize(top);
    return order;
}

void warn_top_beyond_labels(std::size_t top, std::size_t labels) {
    if (top > labels)
        cli_common::print_stderr("warning: --top {}, but the model has only {} labels: each line lists {}\n", top, labels, labels);
}

}  // namespace cli_common
