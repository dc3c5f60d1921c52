#include "nn/im2col.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <utility>
#include <vector>
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

// Interior windows of one kernel row: `count` copies of N floats, source and destination
// advancing by their own steps. N is a constant, so each copy compiles to a few vector moves
// (a loop over a run-time length of 5 or 24 floats ran one scalar store per float).
template <std::size_t N>
void copy_windows_fixed(const float* src, std::size_t src_step, float* dst, std::size_t dst_step, std::size_t count) {
    for (std::size_t k = 0; k < count; ++k, src += src_step, dst += dst_step) std::memcpy(dst, src, N * sizeof(float));
}

TEXTCNN_NO_LIBCALLS void copy_windows_any(const float* src, std::size_t n, std::size_t src_step, float* dst,
                                          std::size_t dst_step, std::size_t count) {
    for (std::size_t k = 0; k < count; ++k, src += src_step, dst += dst_step) copy_short(src, n, dst);
}

using CopyWindows = void (*)(const float*, std::size_t, float*, std::size_t, std::size_t);

template <std::size_t... N>
constexpr std::array<CopyWindows, sizeof...(N)> make_copy_table(std::index_sequence<N...>) {
    return {&copy_windows_fixed<N>...};
}

// Fixed-length copies for rows of up to 64 floats (k_w * channels: 5 for 5x5 on one channel,
// 24 for 3x3 on eight).
constexpr std::size_t fixed_copy_limit = 64;
constexpr auto copy_table = make_copy_table(std::make_index_sequence<fixed_copy_limit + 1>{});

void copy_windows(const float* src, std::size_t n, std::size_t src_step, float* dst, std::size_t dst_step,
                  std::size_t count) {
    if (n <= fixed_copy_limit) copy_table[n](src, src_step, dst, dst_step, count);
    else copy_windows_any(src, n, src_step, dst, dst_step, count);
}

}  // namespace

namespace {

// Undilated rows (d_w == 1), the common case: each input row, zero-padded to the width the
// windows span, is laid out once in a small buffer; then every window of the output row is
// one fixed-length copy from it (rows outside the image copy from a zero row). The padding
// needs no branch per window.
TEXTCNN_NO_LIBCALLS void im2col_undilated(const ConvGeometry& g, const float* input, float* columns,
                                          std::size_t n_begin, std::size_t n_end) {
    const std::size_t C = g.channels;
    const std::size_t K = g.window();
    const std::size_t row_len = g.k_w * C;
    const std::size_t padded_w = (g.out_w - 1) * g.s_w + g.k_w;  // positions the windows span
    // Buffer position t holds input column t - pad_left: the valid ones are [lo, hi).
    const std::size_t lo = std::min(g.pad_left, padded_w);
    const std::size_t hi = std::min(padded_w, g.pad_left + g.in_w);
    thread_local std::vector<float> row_buffer, zero_row;
    row_buffer.resize(padded_w * C);
    if (zero_row.size() < row_len) zero_row.assign(row_len, 0.0f);
    float* row = row_buffer.data();
    std::fill(row, row + lo * C, 0.0f);
    std::fill(row + hi * C, row + padded_w * C, 0.0f);
    const auto in_h = static_cast<index>(g.in_h);
    for (std::size_t n = n_begin; n != n_end; ++n) {
        for (std::size_t oy = 0; oy < g.out_h; ++oy) {
            // Kernel row i of every window of output row oy reads input row y (or padding).
            float* row_columns = columns + (n * g.out_h + oy) * g.out_w * K;
            for (std::size_t i = 0; i < g.k_h; ++i) {
                const index y = static_cast<index>(oy * g.s_h + i * g.d_h) - static_cast<index>(g.pad_top);
                float* dst = row_columns + i * row_len;
                if (y < 0 || y >= in_h) {
                    copy_windows(zero_row.data(), row_len, 0, dst, K, g.out_w);
                    continue;
                }
                const float* src_row = input + (n * g.in_h + static_cast<std::size_t>(y)) * g.in_w * C;
                if (hi > lo) std::copy(src_row + (lo - g.pad_left) * C, src_row + (hi - g.pad_left) * C, row + lo * C);
                copy_windows(row, row_len, g.s_w * C, dst, K, g.out_w);
            }
        }
    }
}

}  // namespace

TEXTCNN_NO_LIBCALLS void im2col(const ConvGeometry& g, const float* input, float* columns, std::size_t n_begin,
                                std::size_t n_end) {
    if (g.d_w == 1) {
        im2col_undilated(g, input, columns, n_begin, n_end);
        return;
    }
    const std::size_t C = g.channels;
    const std::size_t K = g.window();
    const std::size_t row_len = g.k_w * C;
    const auto in_h = static_cast<index>(g.in_h);
    const auto in_w = static_cast<index>(g.in_w);
    const auto k_w = static_cast<index>(g.k_w);
    const auto d_w = static_cast<index>(g.d_w);
    for (std::size_t n = n_begin; n != n_end; ++n) {
        for (std::size_t oy = 0; oy < g.out_h; ++oy) {
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
