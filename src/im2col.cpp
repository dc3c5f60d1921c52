#include "im2col.h"

#include <algorithm>
#include <cstddef>

namespace textcnn::detail {

namespace {

using index = std::ptrdiff_t;

// Copies and fills for the short rows of small-channel images (5 floats for a 5x5 kernel on
// one channel): a library memcpy/memset call per row costs more than the copy, so GCC must
// not turn these loops back into calls.
#if defined(__GNUC__) && !defined(__clang__)
#define TEXTCNN_NO_LIBCALLS __attribute__((optimize("no-tree-loop-distribute-patterns")))
#else
#define TEXTCNN_NO_LIBCALLS
#endif

TEXTCNN_NO_LIBCALLS inline __attribute__((always_inline)) void copy_short(const float* src, std::size_t n, float* dst) {
    if (n >= 64) {
        std::copy_n(src, n, dst);
        return;
    }
    for (std::size_t i = 0; i < n; ++i) dst[i] = src[i];
}

TEXTCNN_NO_LIBCALLS inline __attribute__((always_inline)) void zero_short(float* dst, std::size_t n) {
    if (n >= 64) {
        std::fill_n(dst, n, 0.0f);
        return;
    }
    for (std::size_t i = 0; i < n; ++i) dst[i] = 0.0f;
}

}  // namespace

TEXTCNN_NO_LIBCALLS void im2col(const ConvGeometry& g, const float* input, float* columns, std::size_t n_begin,
                                std::size_t n_end) {
    const std::size_t C = g.channels;
    const std::size_t K = g.window();
    const std::size_t row_len = g.k_w * C;
    const auto in_h = static_cast<index>(g.in_h);
    const auto in_w = static_cast<index>(g.in_w);
    const auto k_w = static_cast<index>(g.k_w);
    const auto d_w = static_cast<index>(g.d_w);
    for (std::size_t n = n_begin; n != n_end; ++n) {
        for (std::size_t oy = 0; oy < g.out_h; ++oy) {
            // Kernel row i of every window of output row oy reads input row y (or padding).
            float* row_columns = columns + (n * g.out_h + oy) * g.out_w * K;
            for (std::size_t i = 0; i < g.k_h; ++i) {
                const index y = static_cast<index>(oy * g.s_h + i * g.d_h) - static_cast<index>(g.pad_top);
                float* dst = row_columns + i * row_len;
                if (y < 0 || y >= in_h) {
                    for (std::size_t ox = 0; ox < g.out_w; ++ox, dst += K) zero_short(dst, row_len);
                    continue;
                }
                const float* src_row = input + (n * g.in_h + static_cast<std::size_t>(y)) * g.in_w * C;
                for (std::size_t ox = 0; ox < g.out_w; ++ox, dst += K) {
                    const index x0 = static_cast<index>(ox * g.s_w) - static_cast<index>(g.pad_left);
                    if (x0 >= 0 && x0 + (k_w - 1) * d_w < in_w && d_w == 1) {
                        copy_short(src_row + static_cast<std::size_t>(x0) * C, row_len, dst);  // interior
                        continue;
                    }
                    for (index j = 0; j < k_w; ++j) {
                        const index x = x0 + j * d_w;
                        if (x < 0 || x >= in_w) zero_short(dst + j * C, C);
                        else copy_short(src_row + static_cast<std::size_t>(x) * C, C, dst + j * C);
                    }
                }
            }
        }
    }
}

void col2im_add(const ConvGeometry& g, const float* columns, float* d_input, std::size_t n_begin, std::size_t n_end) {
    // The same walk as im2col, adding instead of copying.
    const std::size_t C = g.channels;
    const std::size_t K = g.window();
    const std::size_t row_len = g.k_w * C;
    const auto in_h = static_cast<index>(g.in_h);
    const auto in_w = static_cast<index>(g.in_w);
    const auto k_w = static_cast<index>(g.k_w);
    const auto d_w = static_cast<index>(g.d_w);
    for (std::size_t n = n_begin; n != n_end; ++n) {
        for (std::size_t oy = 0; oy < g.out_h; ++oy) {
            const float* row_columns = columns + (n * g.out_h + oy) * g.out_w * K;
            for (std::size_t i = 0; i < g.k_h; ++i) {
                const index y = static_cast<index>(oy * g.s_h + i * g.d_h) - static_cast<index>(g.pad_top);
                if (y < 0 || y >= in_h) continue;
                const float* src = row_columns + i * row_len;
                float* dst_row = d_input + (n * g.in_h + static_cast<std::size_t>(y)) * g.in_w * C;
                for (std::size_t ox = 0; ox < g.out_w; ++ox, src += K) {
                    const index x0 = static_cast<index>(ox * g.s_w) - static_cast<index>(g.pad_left);
                    if (x0 >= 0 && x0 + (k_w - 1) * d_w < in_w && d_w == 1) {
                        float* dst = dst_row + static_cast<std::size_t>(x0) * C;  // interior
                        for (std::size_t r = 0; r < row_len; ++r) dst[r] += src[r];
                        continue;
                    }
                    for (index j = 0; j < k_w; ++j) {
                        const index x = x0 + j * d_w;
                        if (x < 0 || x >= in_w) continue;
                        float* dst = dst_row + static_cast<std::size_t>(x) * C;
                        const float* s = src + j * C;
                        for (std::size_t c = 0; c < C; ++c) dst[c] += s[c];
                    }
                }
            }
        }
    }
}

}  // namespace textcnn::detail
