// Private: geometry of one convolution call and the im2col / col2im transforms of the
// generic (2D, or strided 1D) convolution path. 1D is 2D with in_h = k_h = 1.
//
// Column layout: column ((n * out_h + oy) * out_w + ox) holds the window of output (oy, ox) of
// sample n, row (i * k_w + j) * channels + c = input channel c at kernel tap (i, j): the same
// order as the conv weight rows, so out = W^T * columns.
#pragma once

#include <cstddef>

namespace textcnn::detail {

struct ConvGeometry {
    std::size_t batch = 0;
    std::size_t channels = 0;
    std::size_t filters = 0;
    std::size_t in_h = 1, in_w = 1;
    std::size_t out_h = 1, out_w = 1;
    std::size_t k_h = 1, k_w = 1;
    std::size_t s_h = 1, s_w = 1;
    std::size_t d_h = 1, d_w = 1;
    std::size_t pad_top = 0, pad_left = 0;

    std::size_t taps() const { return k_h * k_w; }
    /// Rows of the weight and column matrices.
    std::size_t window() const { return taps() * channels; }
    std::size_t in_positions() const { return in_h * in_w; }
    std::size_t out_positions() const { return out_h * out_w; }
    std::size_t columns() const { return batch * out_positions(); }
    /// Input positions one (dilated) kernel row spans.
    std::size_t extent_w() const { return d_w * (k_w - 1) + 1; }
};

/// Writes every window of samples [n_begin, n_end) as columns of `columns` (the buffer of
/// the whole batch: window() x columns(), sample n's columns start at n * out_positions()),
/// zeros where a window reaches into the padding. Serial: callers parallelise over samples.
void im2col(const ConvGeometry& g, const float* input, float* columns, std::size_t n_begin, std::size_t n_end);

/// The adjoint of im2col for samples [n_begin, n_end): adds every column back onto the input
/// positions its window covers, in a fixed order (deterministic). Serial.
void col2im_add(const ConvGeometry& g, const float* columns, float* d_input, std::size_t n_begin, std::size_t n_end);

}  // namespace textcnn::detail
