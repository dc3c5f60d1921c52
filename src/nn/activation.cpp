#include "textcnn/nn/activation.h"

#include "textcnn/core/error.h"

#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_for.h>

#include <algorithm>
#include <cmath>

namespace textcnn {

namespace {

ActivationLayer::Kind kind_from_type(const LayerSpec& spec) {
    if (spec.type == "relu") return ActivationLayer::Kind::relu;
    if (spec.type == "tanh") return ActivationLayer::Kind::tanh;
    if (spec.type == "sigmoid") return ActivationLayer::Kind::sigmoid;
    if (spec.type == "identity") return ActivationLayer::Kind::identity;
    throw ConfigError(spec.label() + ": not an activation (expected relu, tanh, sigmoid or identity)");
}

// Calls f(begin, end) over the element ranges that hold data: the whole tensor in TBB
// chunks, or for a packed tensor (1, C, L) the ranges of its spans, several spans per task.
// The work is element-wise, so the partition does not change the result.
template <typename F>
void for_each_live_range(const Tensor& t, F&& f) {
    constexpr std::size_t grain = 16384;
    if (!t.packed()) {
        const std::size_t n = t.size();
        if (n <= grain) {
            f(std::size_t{0}, n);
            return;
        }
        tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n, grain),
                          [&](const tbb::blocked_range<std::size_t>& r) { f(r.begin(), r.end()); });
        return;
    }
    const std::size_t channels = t.shape().channels();
    auto run_spans = [&](std::size_t first, std::size_t last) {
        for (std::size_t s = first; s < last; ++s) {
            const SequenceSpan& span = t.spans[s];
            f(span.offset * channels, (std::size_t{span.offset} + span.length) * channels);
        }
    };
    if (t.size() <= grain) {
        run_spans(0, t.spans.size());
        return;
    }
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, t.spans.size(), 4),
                      [&](const tbb::blocked_range<std::size_t>& r) { run_spans(r.begin(), r.end()); });
}

void check_spans_fit(const Layer& layer, const Tensor& in) {
    if (!in.packed()) return;
    const Shape& shape = in.shape();
    if (shape.rank() != 3 || shape.batch() != 1)
        throw ShapeError(layer.label() + ": packed input must have shape (1, channels, length), got " + shape.str());
    // Spans in order and disjoint (as the batcher lays them out): each element is then
    // visited once, which backward's accumulation needs.
    std::size_t previous_end = 0;
    for (const SequenceSpan& s : in.spans) {
        const std::string span = "span [" + std::to_string(s.offset) + ", " + std::to_string(s.offset + s.length) + ")";
        if (std::size_t{s.offset} + s.length > shape.spatial(0))
            throw ShapeError(layer.label() + ": " + span + " lies outside input " + shape.str());
        if (s.offset < previous_end)
            throw ShapeError(layer.label() + ": " + span + " overlaps or precedes the previous span in input " +
                             shape.str());
        previous_end = std::size_t{s.offset} + s.length;
    }
}

}  // namespace

ActivationLayer::ActivationLayer(const LayerSpec& spec) : Layer(spec), kind_(kind_from_type(spec)) {
    if (!spec.settings.empty())
        throw ConfigError(spec.label() + ": takes no settings, got '" + spec.settings.begin()->first + "'");
}

Shape ActivationLayer::output_shape(const Shape& input) const {
    if (input.rank() < 2) throw ShapeError(label() + ": input " + input.str() + " needs (batch, channels, ...)");
    return input;
}

void ActivationLayer::forward(const Tensor& in, Tensor& out, LayerState& state, const RunContext& ctx) const {
    output_shape(in.shape());
    check_spans_fit(*this, in);
    out.resize(in.shape());
    out.spans = in.spans;
    const float* x = in.data();
    float* y = out.data();
    // Gaps of a packed tensor must read 0 afterwards: the positions outside the spans are
    // zeroed, the live ranges below write every element of theirs.
    if (in.packed()) {
        const std::size_t channels = in.shape().channels();
        std::size_t previous_end = 0;
        for (const SequenceSpan& s : in.spans) {
            std::fill(y + previous_end * channels, y + std::size_t{s.offset} * channels, 0.0f);
            previous_end = std::size_t{s.offset} + s.length;
        }
        std::fill(y + previous_end * channels, y + in.size(), 0.0f);
    }
    switch (kind_) {
    case Kind::relu:
        for_each_live_range(in, [&](std::size_t b, std::size_t e) {
            for (std::size_t i = b; i < e; ++i) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
        });
        break;
    case Kind::tanh:
        for_each_live_range(in, [&](std::size_t b, std::size_t e) {
            for (std::size_t i = b; i < e; ++i) y[i] = std::tanh(x[i]);
        });
        break;
    case Kind::sigmoid:
        // 1 / (1 + e^-x) overflows harmlessly to 0 for x << 0 (e^-x = inf).
        for_each_live_range(in, [&](std::size_t b, std::size_t e) {
            for (std::size_t i = b; i < e; ++i) y[i] = 1.0f / (1.0f + std::exp(-x[i]));
        });
        break;
    case Kind::identity:
        for_each_live_range(in, [&](std::size_t b, std::size_t e) { std::copy(x + b, x + e, y + b); });
        break;
    }
}

bool ActivationLayer::map_gradient_entries(const Tensor& in, const Tensor& out,
                                           std::vector<GradientEntry>& entries) const {
    // tanh and sigmoid would compute each value as backward() does, whose rounding (a fused
    // multiply-add or not) the compiler picks per loop: they stay dense.
    if (kind_ != Kind::relu && kind_ != Kind::identity) return false;
    if (kind_ == Kind::identity) return true;
    if (out.shape() != in.shape())
        throw ShapeError(label() + ": output " + out.shape().str() + " does not match input " + in.shape().str());
    const std::size_t C = in.shape().channels();
    const float* x = in.data();
    const std::size_t size = in.size();
    std::size_t kept = 0;
    for (const GradientEntry& e : entries) {
        const std::size_t i = std::size_t{e.position} * C + e.channel;
        if (e.channel >= C || i >= size)
            throw ShapeError(label() + ": gradient entry (position " + std::to_string(e.position) + ", channel " +
                             std::to_string(e.channel) + ") lies outside input " + in.shape().str());
        if (x[i] > 0.0f) entries[kept++] = e;
    }
    entries.resize(kept);
    return true;
}

void ActivationLayer::backward(const Tensor& in, const Tensor& out, const Tensor& d_out, Tensor* d_in,
                               LayerState& state, const RunContext& ctx) const {
    if (!d_in) return;
    check_spans_fit(*this, in);
    if (d_out.shape() != out.shape() || d_in->shape() != in.shape())
        throw ShapeError(label() + ": backward got d_out " + d_out.shape().str() + " and d_in " +
                         d_in->shape().str() + " for input " + in.shape().str() + " and output " +
                         out.shape().str());
    const float* x = in.data();
    const float* y = out.data();
    const float* dy = d_out.data();
    float* dx = d_in->data();
    switch (kind_) {
    case Kind::relu:
        for_each_live_range(in, [&](std::size_t b, std::size_t e) {
            // A select over local pointers, not a branch: the sign of x is a coin toss, and a
            // mispredicted branch per element (with the captured pointers reloaded after every
            // store) cost 10 % of a Kim CNN's training step (issue 13). Same values (up to the sign of a zero).
            const float* __restrict xr = x;
            const float* __restrict dyr = dy;
            float* __restrict dxr = dx;
            for (std::size_t i = b; i < e; ++i) dxr[i] += xr[i] > 0.0f ? dyr[i] : 0.0f;
        });
        break;
    case Kind::tanh:
        for_each_live_range(in, [&](std::size_t b, std::size_t e) {
            for (std::size_t i = b; i < e; ++i) dx[i] += dy[i] * (1.0f - y[i] * y[i]);
        });
        break;
    case Kind::sigmoid:
        for_each_live_range(in, [&](std::size_t b, std::size_t e) {
            for (std::size_t i = b; i < e; ++i) dx[i] += dy[i] * y[i] * (1.0f - y[i]);
        });
        break;
    case Kind::identity:
        for_each_live_range(in, [&](std::size_t b, std::size_t e) {
            for (std::size_t i = b; i < e; ++i) dx[i] += dy[i];
        });
        break;
    }
}

}  // namespace textcnn
