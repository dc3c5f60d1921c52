// Sizes as layers name them in messages and summaries: kernel, window, stride and dilation lists.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>
#include <vector>

namespace textcnn {

/// {5, 3} with "x" -> "5x3"; with "," -> "5,3" (the form an architecture file takes).
inline std::string join_sizes(const std::vector<std::size_t>& sizes, const char* separator) {
    std::string s;
    for (std::size_t i = 0; i < sizes.size(); ++i) s += (i ? separator : "") + std::to_string(sizes[i]);
    return s;
}

/// One number when every axis has the same size ({2, 2} -> "2"), else "2x1".
inline std::string compact_sizes(const std::vector<std::size_t>& sizes) {
    if (!sizes.empty() && std::all_of(sizes.begin(), sizes.end(), [&](std::size_t s) { return s == sizes[0]; }))
        return std::to_string(sizes[0]);
    return join_sizes(sizes, "x");
}

}  // namespace textcnn
