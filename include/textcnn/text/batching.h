// Token-id sequences -> the tensors the Embedding layer reads (ids travel as floats, exact
// below 2^24; id 0 is padding).
//
// Packed layout (tensor.h): shape (1, 1, total) with one span per sequence, laid out as
//     [gap zeros] seq 0 [gap zeros] seq 1 ... seq n-1 [gap zeros]
// so total = gap + sum(length_i + gap). The caller passes gap = widest filter - 1: each
// sentence then convolves exactly as if it were alone and zero-padded.
//
// Short and empty sequences. A span is never shorter than min_length (default 1): a shorter
// sequence is extended with padding ids (0) at its end, so an empty document still becomes
// one span of length 1 holding id 0 and produces exactly one output row downstream (users
// expect one prediction per input line). Kim's implementation pads every sentence to at
// least the widest filter; pass min_length = widest filter to get that for convolutions
// without "full" padding.
//
// Long sequences are never cut silently: with max_length > 0 a longer sequence keeps its
// first max_length ids and the call returns how many sequences were cut, for a warning.
//
// Hot path: `out` is resized in place (Tensor::resize keeps its allocation), its spans
// vector is cleared and refilled: no allocation once the buffers have grown.
#pragma once

#include "textcnn/nn/tensor.h"

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace textcnn {

struct PackOptions {
    std::size_t gap = 0;         ///< padding positions before, between and after sequences
    std::size_t min_length = 1;  ///< shorter sequences are padded with id 0 up to this (>= 1)
    std::size_t max_length = 0;  ///< longer sequences are truncated; 0 = no limit
};

/// Packs all `sequences` into `out`. Returns the number of sequences truncated by max_length.
/// Throws ConfigError on min_length 0 or min_length > max_length, InputError on an id >= 2^24,
/// ShapeError when the packed length would not fit a span offset (2^32).
std::size_t pack_sequences(std::span<const std::vector<std::uint32_t>> sequences, const PackOptions& options,
                           Tensor& out);

/// Packs sequences[indices[0]], sequences[indices[1]], ... in that order (a shuffled
/// mini-batch) without copying the sources. Throws ConfigError on an index out of range.
std::size_t pack_sequences(std::span<const std::vector<std::uint32_t>> sequences,
                           std::span<const std::size_t> indices, const PackOptions& options, Tensor& out);

/// Padded layout instead: shape (n, 1, L) with L = the longest (truncated) length, at least
/// min_length; each row holds its ids followed by zeros; no spans. Same options (gap unused)
/// and return value.
std::size_t pad_sequences(std::span<const std::vector<std::uint32_t>> sequences, std::span<const std::size_t> indices,
                          const PackOptions& options, Tensor& out);

}  // namespace textcnn
