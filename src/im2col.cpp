#include "im2col.h"

#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_for.h>

#include <algorithm>
#include <cstddef>

namespace textcnn::detail {

namespace {

using index = std::ptrdiff_t;

// Calls visit(column pointer, input row pointer or null, first valid tap, end of valid taps,
// input x of tap 0) for every kernel row of every window of sample n. Shared by im2col and
// col2im so both walk exactly the same positions.
template <typename Visit>
void for_each_window_row(const ConvGeometry& g, std::size_t n, Visit&& visit) {
    const std::size_t window = g.window();
    const auto in_h = static_cast<index>(g.in_h);
    const auto in_w = static_cast<index>(g.in_w);
    const auto k_w = static_cast<index>(g.k_w);
    const auto d_w = static_cast<index>(g.d_w);
    for (std::size_t oy = 0; oy < g.out_h; ++oy) {
        for (std::size_t ox = 0; ox < g.out_w; ++ox) {
            const std::size_t column = (n * g.out_h + oy) * g.out_w + ox;
            const index x0 = static_cast<index>(ox * g.s_w) - static_cast<index>(g.pad_left);
            // Taps j with 0 <= x0 + j * d_w < in_w.
            index j_lo = x0 >= 0 ? 0 : (-x0 + d_w - 1) / d_w;
            index j_hi = x0 >= in_w ? 0 : std::min(k_w, (in_w - x0 + d_w - 1) / d_w);
            if (j_hi < j_lo) j_hi = j_lo;
            for (std::size_t i = 0; i < g.k_h; ++i) {
                const index y = static_cast<index>(oy * g.s_h + i * g.d_h) - static_cast<index>(g.pad_top);
                const std::size_t row_offset = column * window + i * g.k_w * g.channels;
                if (y < 0 || y >= in_h) {
                    visit(row_offset, static_cast<std::size_t>(-1), j_lo, j_lo, x0);
                } else {
                    visit(row_offset, (n * g.in_h + static_cast<std::size_t>(y)) * g.in_w, j_lo, j_hi, x0);
                }
            }
        }
    }
}

}  // namespace

void im2col(const ConvGeometry& g, const float* input, float* columns) {
    const std::size_t C = g.channels;
    const std::size_t row_len = g.k_w * C;
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, g.batch), [&](const tbb::blocked_range<std::size_t>& r) {
        for (std::size_t n = r.begin(); n != r.end(); ++n) {
            for_each_window_row(g, n, [&](std::size_t row_offset, std::size_t in_row, index j_lo, index j_hi,
                                          index x0) {
                float* dst = columns + row_offset;
                if (j_lo == j_hi) {
                    std::fill_n(dst, row_len, 0.0f);
                    return;
                }
                const float* src_row = input + in_row * C;
                std::fill_n(dst, static_cast<std::size_t>(j_lo) * C, 0.0f);
                if (g.d_w == 1) {
                    // The valid taps are contiguous in memory: one copy.
                    const float* src = src_row + static_cast<std::size_t>(x0 + j_lo) * C;
                    std::copy_n(src, static_cast<std::size_t>(j_hi - j_lo) * C, dst + j_lo * C);
                } else {
                    for (index j = j_lo; j < j_hi; ++j) {
                        const float* src = src_row + static_cast<std::size_t>(x0 + j * static_cast<index>(g.d_w)) * C;
                        std::copy_n(src, C, dst + j * C);
                    }
                }
                std::fill(dst + j_hi * C, dst + row_len, 0.0f);
            });
        }
    });
}

void col2im_add(const ConvGeometry& g, const float* columns, float* d_input) {
    const std::size_t C = g.channels;
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, g.batch), [&](const tbb::blocked_range<std::size_t>& r) {
        for (std::size_t n = r.begin(); n != r.end(); ++n) {
            for_each_window_row(g, n, [&](std::size_t row_offset, std::size_t in_row, index j_lo, index j_hi,
                                          index x0) {
                if (j_lo == j_hi) return;
                const float* src = columns + row_offset;
                float* dst_row = d_input + in_row * C;
                for (index j = j_lo; j < j_hi; ++j) {
                    float* dst = dst_row + static_cast<std::size_t>(x0 + j * static_cast<index>(g.d_w)) * C;
                    const float* s = src + j * C;
                    for (std::size_t c = 0; c < C; ++c) dst[c] += s[c];
                }
            });
        }
    });
}

}  // namespace textcnn::detail
