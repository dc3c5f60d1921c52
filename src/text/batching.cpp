#include "textcnn/text/batching.h"

#include "textcnn/core/error.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

namespace textcnn {
namespace {

constexpr std::uint32_t max_exact_id = 1u << 24;

void check_options(const PackOptions& options) {
    if (options.min_length == 0) throw ConfigError("batching: min_length must be at least 1");
    if (options.max_length != 0 && options.min_length > options.max_length)
        throw ConfigError(fmt::format("batching: min_length {} exceeds max_length {}", options.min_length,
                                      options.max_length));
}

/// Length of the span a sequence of `length` ids gets, and whether it was cut.
std::size_t span_length(std::size_t length, const PackOptions& options, std::size_t& truncated) {
    if (options.max_length != 0 && length > options.max_length) {
        ++truncated;
        length = options.max_length;
    }
    return std::max(length, options.min_length);
}

/// Writes the first `count` ids of `ids` as floats (the rest of the span is already 0).
void write_ids(const std::vector<std::uint32_t>& ids, std::size_t count, std::size_t sequence, float* out) {
    for (std::size_t k = 0; k < count; ++k) {
        if (ids[k] >= max_exact_id)
            throw InputError(fmt::format("batching: sequence {} position {}: id {} does not fit a float exactly (>= 2^24)",
                                         sequence, k, ids[k]));
        out[k] = static_cast<float>(ids[k]);
    }
}

template <class Source>
std::size_t pack(std::size_t n, Source source, const PackOptions& options, Tensor& out) {
    check_options(options);
    std::size_t truncated_probe = 0;
    std::size_t total = options.gap;
    for (std::size_t i = 0; i < n; ++i) total += span_length(source(i).size(), options, truncated_probe) + options.gap;
    if (total > std::numeric_limits<std::uint32_t>::max())
        throw ShapeError(fmt::format("batching: packed length {} exceeds the 2^32 positions a span can address", total));
    out.resize(Shape{1, 1, total}, true);
    out.spans.clear();
    std::size_t truncated = 0;
    std::size_t offset = options.gap;
    float* values = out.data();
    for (std::size_t i = 0; i < n; ++i) {
        const auto& ids = source(i);
        const std::size_t length = span_length(ids.size(), options, truncated);
        write_ids(ids, std::min(ids.size(), length), i, values + offset);
        out.spans.push_back({static_cast<std::uint32_t>(offset), static_cast<std::uint32_t>(length)});
        offset += length + options.gap;
    }
    return truncated;
}

void check_indices(std::size_t size, std::span<const std::size_t> indices) {
    for (std::size_t k = 0; k < indices.size(); ++k)
        if (indices[k] >= size)
            throw ConfigError(fmt::format("batching: index {} (position {}) is out of range for {} sequences",
                                          indices[k], k, size));
}

}  // namespace

std::size_t pack_sequences(std::span<const std::vector<std::uint32_t>> sequences, const PackOptions& options,
                           Tensor& out) {
    return pack(sequences.size(), [&](std::size_t i) -> const std::vector<std::uint32_t>& { return sequences[i]; },
                options, out);
}

std::size_t pack_sequences(std::span<const std::vector<std::uint32_t>> sequences,
                           std::span<const std::size_t> indices, const PackOptions& options, Tensor& out) {
    check_indices(sequences.size(), indices);
    return pack(indices.size(),
                [&](std::size_t i) -> const std::vector<std::uint32_t>& { return sequences[indices[i]]; }, options,
                out);
}

std::size_t pad_sequences(std::span<const std::vector<std::uint32_t>> sequences, std::span<const std::size_t> indices,
                          const PackOptions& options, Tensor& out) {
    check_options(options);
    check_indices(sequences.size(), indices);
    std::size_t truncated_probe = 0;
    std::size_t width = options.min_length;
    for (const std::size_t index : indices)
        width = std::max(width, span_length(sequences[index].size(), options, truncated_probe));
    out.resize(Shape{indices.size(), 1, width}, true);
    out.spans.clear();
    std::size_t truncated = 0;
    for (std::size_t row = 0; row < indices.size(); ++row) {
        const auto& ids = sequences[indices[row]];
        const std::size_t length = span_length(ids.size(), options, truncated);
        write_ids(ids, std::min(ids.size(), length), row, out.sample(row));
    }
    return truncated;
}

}  // namespace textcnn
