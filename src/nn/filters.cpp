#include "textcnn/nn/filters.h"

#include "textcnn/core/error.h"

#include <array>
#include <utility>

namespace textcnn {

namespace {

struct NamedFilter {
    const char* name;
    std::array<float, 9> weights;  // row-major 3x3
};

constexpr float g16 = 1.0f / 16.0f;

const std::array<NamedFilter, 4>& filter_table() {
    static const std::array<NamedFilter, 4> table{{
        {"sobel-x", {1, 0, -1, 2, 0, -2, 1, 0, -1}},
        {"sobel-y", {1, 2, 1, 0, 0, 0, -1, -2, -1}},
        {"laplace", {0, 1, 0, 1, -4, 1, 0, 1, 0}},
        {"gaussian", {1 * g16, 2 * g16, 1 * g16, 2 * g16, 4 * g16, 2 * g16, 1 * g16, 2 * g16, 1 * g16}},
    }};
    return table;
}

}  // namespace

std::vector<std::string> predefined_filter_names() {
    std::vector<std::string> names;
    for (const auto& f : filter_table()) names.emplace_back(f.name);
    return names;
}

std::vector<float> predefined_filter(const std::string& name) {
    for (const auto& f : filter_table())
        if (name == f.name) return {f.weights.begin(), f.weights.end()};
    std::string known;
    for (const auto& n : predefined_filter_names()) known += (known.empty() ? "" : ", ") + n;
    throw ConfigError("filter '" + name + "': unknown predefined filter (known: " + known + ")");
}

}  // namespace textcnn
