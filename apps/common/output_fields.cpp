#include "output_fields.h"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>

namespace cli_common {

std::string tsv_field(const std::string& s) {
    const auto plain = [](unsigned char c) { return c >= 0x20 && c != 0x7f && c != '\\' && c != 0xc2 && c != 0xe2; };
    if (std::all_of(s.begin(), s.end(), plain)) return s;
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        const auto next = [&](std::size_t k) { return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0; };
        if (c == '\\') out += "\\\\";
        else if (c == '\t') out += "\\t";
        else if (c == '\n') out += "\\n";
        else if (c == '\r') out += "\\r";
        else if (c < 0x20 || c == 0x7f) out += fmt::format("\\x{:02x}", c);
        else if (c == 0xc2 && next(1) >= 0x80 && next(1) <= 0x9f) {  // C1 controls, U+0085 (next line) among them
            out += fmt::format("\\u{:04x}", next(1));
            ++i;
        } else if (c == 0xe2 && next(1) == 0x80 && (next(2) == 0xa8 || next(2) == 0xa9)) {  // U+2028, U+2029
            out += fmt::format("\\u{:04x}", 0x2000 + next(2) - 0x80);
            i += 2;
        } else {
            out += static_cast<char>(c);
        }
    }
    return out;
}

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
        fmt::print(stderr, "warning: --top {}, but the model has only {} labels: each line lists {}\n", top, labels, labels);
}

}  // namespace cli_common
