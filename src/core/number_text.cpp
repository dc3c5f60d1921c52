#include "textcnn/core/number_text.h"

#include <fmt/format.h>

namespace textcnn {

std::string with_thousands_separators(std::uint64_t n) {
    const std::string digits = std::to_string(n);
    std::string out;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
        out.push_back(digits[i]);
    }
    return out;
}

std::string byte_size_text(std::uint64_t bytes) {
    if (bytes < 1000) return fmt::format("{} bytes", bytes);
    // The unit whose figure, rounded to one decimal, stays below 1000 (999,999 bytes: "1.0 MB").
    double value = static_cast<double>(bytes) / 1e3;
    for (const char* unit : {"kB", "MB"}) {
        if (value < 999.95) return fmt::format("{:.1f} {}", value, unit);
        value /= 1e3;
    }
    return fmt::format("{:.1f} GB", value);
}


}  // namespace textcnn
