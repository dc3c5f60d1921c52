#include "textcnn/nn/pooling.h"

#include "nn/sizes_text.h"

#include "textcnn/core/checked.h"
#include "textcnn/core/error.h"
#include "textcnn/nn/limits.h"

#include <fmt/format.h>
#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_for.h>

#include <algorithm>
#include <cstdint>

namespace textcnn {

namespace {



// Where the windows of one axis lie: output o covers input [o * stride - before, + window).
struct PoolAxis {
    std::size_t in = 1, out = 1, window = 1, stride = 1, before = 0;
};

PoolAxis pool_axis(std::size_t in, std::size_t window, std::size_t stride, bool same) {
    PoolAxis a{in, 0, window, stride, 0};
    if (same) {
        a.out = (in + stride - 1) / stride;
        const std::size_t needed = (a.out - 1) * stride + window;
        a.before = needed > in ? (needed - in) / 2 : 0;
    } else {
        a.out = in < window ? 0 : (in - window) / stride + 1;
    }
    return a;
}

struct PoolState final : LayerState {
    PoolAxis h, w;
    std::vector<std::uint32_t> argmax;  // per output element: input position within its sample
};

struct GlobalPoolState final : LayerState {
    std::vector<std::uint32_t> argmax;  // per (sample, channel): input position (stream position when packed)
    std::vector<std::uint32_t> position_start;  // list_input_gradient: each sample's first entry
};

// Calls visit(first, end) of the valid input range along an axis for output o.
inline void clipped(const PoolAxis& a, std::size_t o, std::size_t& first, std::size_t& end) {
    const std::ptrdiff_t start = static_cast<std::ptrdiff_t>(o * a.stride) - static_cast<std::ptrdiff_t>(a.before);
    const std::ptrdiff_t stop = start + static_cast<std::ptrdiff_t>(a.window);
    first = static_cast<std::size_t>(std::max<std::ptrdiff_t>(start, 0));
    end = static_cast<std::size_t>(std::min<std::ptrdiff_t>(stop, static_cast<std::ptrdiff_t>(a.in)));
}

}  // namespace

PoolLayer::PoolLayer(const LayerSpec& spec) : Layer(spec) {
    if (spec.type == "max_pool") max_ = true;
    else if (spec.type == "avg_pool") max_ = false;
    else throw ConfigError(spec.label() + ": pool layer type must be max_pool or avg_pool");
    const std::vector<long> window = spec.get_ints("window", {});
    if (window.empty()) (void)spec.require_string("window");
    if (window.size() > 2)
        throw ConfigError(spec.label() + ": setting 'window' takes 1 (length) or 2 (height,width) sizes, got '" +
                          spec.get_string("window", "") + "'");
    window_ = spec.axis_sizes("window", window, window.size());
    stride_ = spec.has("stride") ? spec.axis_sizes("stride", spec.get_ints("stride", {}), window_.size()) : window_;
    const std::string padding = spec.get_string("padding", "valid");
    if (padding == "same") same_ = true;
    else if (padding != "valid")
        throw ConfigError(spec.label() + ": setting 'padding' must be valid or same, got '" + padding + "'");
}

std::string PoolLayer::details() const {
    return "window " + join_sizes(window_, "x") + ", stride " + compact_sizes(stride_) + (same_ ? ", same" : ", valid");
}

Shape PoolLayer::output_shape(const Shape& input) const {
    if (input.rank() != 3 && input.rank() != 4)
        throw ShapeError(label() + ": input " + input.str() +
                         " must be (batch, channels, length) or (batch, channels, height, width)");
    if (input.spatial_rank() != window_.size())
        throw ShapeError(label() + ": input " + input.str() + " is " + std::to_string(input.spatial_rank()) +
                         "D but window '" + join_sizes(window_, ",") + "' is " + std::to_string(window_.size()) +
                         "D; give one size per spatial axis");
    std::vector<std::size_t> dims{input.batch(), input.channels()};
    for (std::size_t a = 0; a < window_.size(); ++a) {
        const std::size_t out = input.spatial(a) == 0 ? 0 : pool_axis(input.spatial(a), window_[a], stride_[a], same_).out;
        if (out < 1)
            throw ShapeError(label() + ": input " + input.str() + " is too small for window " + join_sizes(window_, "x") +
                             " (padding " + (same_ ? "same" : "valid") + "): output size would be < 1");
        dims.push_back(out);
    }
    // Each output reads its window (clipped to the input): a window far larger than the input
    // under 'same' padding passes every size bound yet reads the whole input per output (a
    // 1 KB model of one 4096x4096 max_pool: 15 s per 256x256 image). Bounded per sample.
    std::size_t reads = input.channels();
    for (std::size_t a = 0; a < window_.size(); ++a)
        reads = checked_mul(reads, checked_mul(dims[2 + a], std::min(window_[a], input.spatial(a)), label()), label());
    if (reads > limits::max_pool_reads)
        throw ShapeError(fmt::format("{}: windows {} over input {} read {} values per sample, above the limit of {} "
                                     "(a window as large as the input is global pooling: global_max_pool, "
                                     "global_avg_pool)",
                                     label(), join_sizes(window_, "x"), input.str(), reads, limits::max_pool_reads));
    return Shape(std::move(dims));
}

std::unique_ptr<LayerState> PoolLayer::make_state() const { return std::make_unique<PoolState>(); }

void PoolLayer::forward(const Tensor& in, Tensor& out, LayerState& state_base, const RunContext& ctx) const {
    auto& state = static_cast<PoolState&>(state_base);
    if (in.packed())
        throw ShapeError(label() + ": packed sequences are not supported (input " + in.shape().str() +
                         "); use global_max_pool or global_avg_pool");
    const Shape out_shape = output_shape(in.shape());
    if (in.shape().elements() == 0) throw ShapeError(label() + ": empty input " + in.shape().str());
    const bool two_d = window_.size() == 2;
    const Shape& s = in.shape();
    state.h = two_d ? pool_axis(s.spatial(0), window_[0], stride_[0], same_) : PoolAxis{};
    state.w = pool_axis(s.spatial(two_d ? 1 : 0), window_.back(), stride_.back(), same_);
    out.resize(out_shape);
    out.spans.clear();
    const std::size_t N = s.batch();
    const std::size_t C = s.channels();
    const PoolAxis h = state.h;
    const PoolAxis w = state.w;
    const std::size_t out_per_sample = out_shape.per_sample();
    // Only backward reads the argmax: an inference forward does not record it.
    const bool record_argmax = max_ && ctx.mode == Mode::training;
    if (record_argmax) state.argmax.resize(out.size());
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, N), [&](const tbb::blocked_range<std::size_t>& r) {
        for (std::size_t n = r.begin(); n != r.end(); ++n) {
            const float* x = in.sample(n);
            float* y = out.sample(n);
            std::uint32_t* arg = record_argmax ? state.argmax.data() + n * out_per_sample : nullptr;
            for (std::size_t oy = 0; oy < h.out; ++oy) {
                std::size_t y0, y1;
                clipped(h, oy, y0, y1);
                for (std::size_t ox = 0; ox < w.out; ++ox) {
                    std::size_t x0, x1;
                    clipped(w, ox, x0, x1);
                    float* dst = y + (oy * w.out + ox) * C;
                    if (max_) {
                        // Selects rather than branches (the comparisons are unpredictable; the
                        // loops vectorise). Strict '>': ties keep the first position, and
                        // with or without the argmax the values are the same.
                        const std::size_t first = y0 * w.in + x0;
                        std::copy_n(x + first * C, C, dst);
                        if (arg) {
                            std::uint32_t* a = arg + (oy * w.out + ox) * C;
                            std::fill_n(a, C, static_cast<std::uint32_t>(first));
                            for (std::size_t iy = y0; iy < y1; ++iy)
                                for (std::size_t ix = x0; ix < x1; ++ix) {
                                    const std::size_t p = iy * w.in + ix;
                                    const float* v = x + p * C;
                                    for (std::size_t c = 0; c < C; ++c) {
                                        const bool greater = v[c] > dst[c];
                                        dst[c] = greater ? v[c] : dst[c];
                                        a[c] = greater ? static_cast<std::uint32_t>(p) : a[c];
                                    }
                                }
                        } else {
                            // Eight channels at a time in a local block (a fixed trip count the
                            // compiler keeps in one vector register), then the rest.
                            constexpr std::size_t lanes = 8;
                            std::size_t c0 = 0;
                            for (; c0 + lanes <= C; c0 += lanes) {
                                float m[lanes];
                                for (std::size_t l = 0; l < lanes; ++l) m[l] = dst[c0 + l];
                                for (std::size_t iy = y0; iy < y1; ++iy)
                                    for (std::size_t ix = x0; ix < x1; ++ix) {
                                        const float* v = x + (iy * w.in + ix) * C + c0;
                                        for (std::size_t l = 0; l < lanes; ++l) m[l] = v[l] > m[l] ? v[l] : m[l];
                                    }
                                for (std::size_t l = 0; l < lanes; ++l) dst[c0 + l] = m[l];
                            }
                            for (std::size_t iy = y0; iy < y1; ++iy)
                                for (std::size_t ix = x0; ix < x1; ++ix) {
                                    const float* v = x + (iy * w.in + ix) * C;
                                    for (std::size_t c = c0; c < C; ++c) dst[c] = v[c] > dst[c] ? v[c] : dst[c];
                                }
                        }
                    } else {
                        std::fill_n(dst, C, 0.0f);
                        for (std::size_t iy = y0; iy < y1; ++iy)
                            for (std::size_t ix = x0; ix < x1; ++ix) {
                                const float* v = x + (iy * w.in + ix) * C;
                                for (std::size_t c = 0; c < C; ++c) dst[c] += v[c];
                            }
                        // Padding positions are excluded from the count (TF).
                        const float inv = 1.0f / static_cast<float>((y1 - y0) * (x1 - x0));
                        for (std::size_t c = 0; c < C; ++c) dst[c] *= inv;
                    }
                }
            }
        }
    });
}

void PoolLayer::backward(const Tensor& in, const Tensor& out, const Tensor& d_out, Tensor* d_in,
                         LayerState& state_base, const RunContext& ctx) const {
    if (!d_in) return;
    auto& state = static_cast<PoolState&>(state_base);
    if (d_out.shape() != out.shape())
        throw ShapeError(label() + ": gradient " + d_out.shape().str() + " does not match output " + out.shape().str());
    const std::size_t N = in.shape().batch();
    const std::size_t C = in.shape().channels();
    const PoolAxis h = state.h;
    const PoolAxis w = state.w;
    const std::size_t out_per_sample = out.shape().per_sample();
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, N), [&](const tbb::blocked_range<std::size_t>& r) {
        for (std::size_t n = r.begin(); n != r.end(); ++n) {
            const float* dy = d_out.sample(n);
            float* dx = d_in->sample(n);
            if (max_) {
                const std::uint32_t* arg = state.argmax.data() + n * out_per_sample;
                for (std::size_t o = 0; o < h.out * w.out; ++o)
                    for (std::size_t c = 0; c < C; ++c) dx[std::size_t{arg[o * C + c]} * C + c] += dy[o * C + c];
                continue;
            }
            for (std::size_t oy = 0; oy < h.out; ++oy) {
                std::size_t y0, y1;
                clipped(h, oy, y0, y1);
                for (std::size_t ox = 0; ox < w.out; ++ox) {
                    std::size_t x0, x1;
                    clipped(w, ox, x0, x1);
                    const float inv = 1.0f / static_cast<float>((y1 - y0) * (x1 - x0));
                    const float* g = dy + (oy * w.out + ox) * C;
                    for (std::size_t iy = y0; iy < y1; ++iy)
                        for (std::size_t ix = x0; ix < x1; ++ix) {
                            float* dst = dx + (iy * w.in + ix) * C;
                            for (std::size_t c = 0; c < C; ++c) dst[c] += g[c] * inv;
                        }
                }
            }
        }
    });
}

GlobalPoolLayer::GlobalPoolLayer(const LayerSpec& spec) : Layer(spec) {
    if (spec.type == "global_max_pool") max_ = true;
    else if (spec.type == "global_avg_pool") max_ = false;
    else throw ConfigError(spec.label() + ": global pool layer type must be global_max_pool or global_avg_pool");
}

Shape GlobalPoolLayer::output_shape(const Shape& input) const {
    if (input.rank() != 3 && input.rank() != 4)
        throw ShapeError(label() + ": input " + input.str() +
                         " must be (batch, channels, length) or (batch, channels, height, width)");
    if (input.positions() == 0) throw ShapeError(label() + ": input " + input.str() + " has no positions to pool");
    return Shape{input.batch(), input.channels()};
}

std::unique_ptr<LayerState> GlobalPoolLayer::make_state() const { return std::make_unique<GlobalPoolState>(); }

namespace {

// Pools positions [first, first + count) of a channels-innermost block into one C-vector.
void pool_range(const float* x, std::size_t first, std::size_t count, std::size_t C, bool max, float* dst,
                std::uint32_t* arg) {
    if (max) {
        std::copy_n(x + first * C, C, dst);
        std::fill_n(arg, C, static_cast<std::uint32_t>(first));
        for (std::size_t p = first + 1; p < first + count; ++p) {
            const float* v = x + p * C;
            const auto position = static_cast<std::uint32_t>(p);
            // Selects rather than branches, so the loop vectorizes; the same comparisons.
            for (std::size_t c = 0; c < C; ++c) {
                const bool greater = v[c] > dst[c];  // strict: ties (and NaN) keep the first position
                dst[c] = greater ? v[c] : dst[c];
                arg[c] = greater ? position : arg[c];
            }
        }
        return;
    }
    std::fill_n(dst, C, 0.0f);
    for (std::size_t p = first; p < first + count; ++p) {
        const float* v = x + p * C;
        for (std::size_t c = 0; c < C; ++c) dst[c] += v[c];
    }
    const float inv = 1.0f / static_cast<float>(count);
    for (std::size_t c = 0; c < C; ++c) dst[c] *= inv;
}

}  // namespace

void GlobalPoolLayer::forward(const Tensor& in, Tensor& out, LayerState& state_base, const RunContext& ctx) const {
    auto& state = static_cast<GlobalPoolState&>(state_base);
    const Shape& s = in.shape();
    (void)output_shape(s);
    const std::size_t C = s.channels();
    if (in.packed()) {
        if (s.rank() != 3 || s.batch() != 1)
            throw ShapeError(label() + ": a packed input must be (1, channels, total_length), got " + s.str());
        const std::size_t total = s.spatial(0);
        std::size_t previous_end = 0;
        for (std::size_t i = 0; i < in.spans.size(); ++i) {
            const SequenceSpan& sp = in.spans[i];
            const auto name = [&] {
                return "packed sequence " + std::to_string(i) + " (offset " + std::to_string(sp.offset) +
                       ", length " + std::to_string(sp.length) + ")";
            };
            if (sp.length == 0) throw ShapeError(label() + ": " + name() + " is empty (input " + s.str() + ")");
            if (std::size_t{sp.offset} + sp.length > total)
                throw ShapeError(label() + ": " + name() + " runs past the end of the input " + s.str());
            // Sorted, disjoint spans: backward writes each span's positions from its own task.
            if (sp.offset < previous_end)
                throw ShapeError(label() + ": " + name() + " overlaps the previous sequence or is out of order (input " +
                                 s.str() + ")");
            previous_end = std::size_t{sp.offset} + sp.length;
        }
    } else if (s.elements() == 0) {
        throw ShapeError(label() + ": empty input " + s.str());
    }
    const std::size_t samples = in.samples();
    out.resize(Shape{samples, C});
    out.spans.clear();
    if (max_) state.argmax.resize(samples * C);
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, samples), [&](const tbb::blocked_range<std::size_t>& r) {
        for (std::size_t n = r.begin(); n != r.end(); ++n) {
            std::uint32_t* arg = max_ ? state.argmax.data() + n * C : nullptr;
            if (in.packed())
                pool_range(in.data(), in.spans[n].offset, in.spans[n].length, C, max_, out.data() + n * C, arg);
            else
                pool_range(in.sample(n), 0, s.positions(), C, max_, out.data() + n * C, arg);
        }
    });
}

// Max pooling's input gradient is g[c] at the argmax of each (sample, channel), zero elsewhere:
// listed sample by sample, each sample's entries ordered by position (a counting sort over
// its positions), then channel.
bool GlobalPoolLayer::list_input_gradient(const Tensor& in, const Tensor& out, const Tensor& d_out,
                                          LayerState& state_base, std::vector<GradientEntry>& entries) const {
    if (!max_) return false;
    auto& state = static_cast<GlobalPoolState&>(state_base);
    if (d_out.shape() != out.shape())
        throw ShapeError(label() + ": gradient " + d_out.shape().str() + " does not match output " + out.shape().str());
    const std::size_t C = in.shape().channels();
    const std::size_t samples = out.shape().batch();
    // Samples side by side (on one thread this was 2 % of a 2-thread Kim CNN training step): each
    // sample's count of non-zero gradients, their offsets in `entries`, then each sample's
    // entries in position order (counting sort), the same list whatever the threads.
    std::vector<std::uint32_t>& offsets = state.position_start;
    offsets.assign(samples + 1, 0);
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, samples, 8), [&](const tbb::blocked_range<std::size_t>& r) {
        for (std::size_t n = r.begin(); n != r.end(); ++n) {
            const float* g = d_out.data() + n * C;
            offsets[n + 1] = static_cast<std::uint32_t>(std::count_if(g, g + C, [](float v) { return v != 0.0f; }));
        }
    });
    for (std::size_t n = 0; n < samples; ++n) offsets[n + 1] += offsets[n];
    entries.resize(offsets[samples]);
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, samples, 8), [&](const tbb::blocked_range<std::size_t>& r) {
        std::vector<std::uint32_t> position_start;
        for (std::size_t n = r.begin(); n != r.end(); ++n) {
            const float* g = d_out.data() + n * C;
            const std::uint32_t* arg = state.argmax.data() + n * C;
            // Positions of sample n: its span of a packed input (argmax holds stream positions),
            // or n * positions + the argmax of an ordinary batch.
            const std::size_t first = in.packed() ? in.spans[n].offset : 0;
            const std::size_t count = in.packed() ? in.spans[n].length : in.shape().positions();
            const std::size_t base = in.packed() ? 0 : n * count;
            position_start.assign(count + 1, 0);
            for (std::size_t c = 0; c < C; ++c)
                if (g[c] != 0.0f) ++position_start[arg[c] - first + 1];
            for (std::size_t p = 0; p < count; ++p) position_start[p + 1] += position_start[p];
            GradientEntry* sample_entries = entries.data() + offsets[n];
            for (std::size_t c = 0; c < C; ++c)
                if (g[c] != 0.0f)
                    sample_entries[position_start[arg[c] - first]++] = {static_cast<std::uint32_t>(base + arg[c]),
                                                                        static_cast<std::uint32_t>(c), g[c]};
        }
    });
    return true;
}

void GlobalPoolLayer::backward(const Tensor& in, const Tensor& out, const Tensor& d_out, Tensor* d_in,
                               LayerState& state_base, const RunContext& ctx) const {
    if (!d_in) return;
    auto& state = static_cast<GlobalPoolState&>(state_base);
    if (d_out.shape() != out.shape())
        throw ShapeError(label() + ": gradient " + d_out.shape().str() + " does not match output " + out.shape().str());
    const std::size_t C = in.shape().channels();
    const std::size_t samples = out.shape().batch();
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, samples), [&](const tbb::blocked_range<std::size_t>& r) {
        for (std::size_t n = r.begin(); n != r.end(); ++n) {
            const float* g = d_out.data() + n * C;
            float* base = in.packed() ? d_in->data() : d_in->sample(n);
            if (max_) {
                const std::uint32_t* arg = state.argmax.data() + n * C;
                for (std::size_t c = 0; c < C; ++c) base[std::size_t{arg[c]} * C + c] += g[c];
                continue;
            }
            const std::size_t first = in.packed() ? in.spans[n].offset : 0;
            const std::size_t count = in.packed() ? in.spans[n].length : in.shape().positions();
            const float inv = 1.0f / static_cast<float>(count);
            for (std::size_t p = first; p < first + count; ++p) {
                float* dst = base + p * C;
                for (std::size_t c = 0; c < C; ++c) dst[c] += g[c] * inv;
            }
        }
    });
}

}  // namespace textcnn
