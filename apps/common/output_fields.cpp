#include "output_fields.h"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>

namespace cli_common {

std::string tsv_field(const std::string& s) {
    if (s.find_first_of("\\\t\n\r") == std::string::npos) return s;
    std::string out;
    for (char c : s) {
        switch (c) {
        case '\\': out += "\\\\"; break;
        case '\t': out += "\\t"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        default: out += c;
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
