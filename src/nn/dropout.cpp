#include "textcnn/nn/dropout.h"

#include "textcnn/core/error.h"
#include "textcnn/core/rng.h"

#include <fmt/format.h>
#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_for.h>

#include <algorithm>
#include <vector>

namespace textcnn {

namespace {

struct DropoutState : LayerState {
    /// Per element: 0 (dropped) or 1 / (1 - rate) (kept), from the last training forward.
    std::vector<float> mask;
};

// Element-wise loop over [0, n), split into TBB chunks for large tensors; the order does not
// matter because every element is independent. Kim's dropout sees batch x 300 features (15,000
// for a batch of 50): with a grain of 16,384 it ran on one thread while the other waited, 2 %
// of a 2-thread training step (each mask value is a hash of seed, step and index).
template <typename F>
void for_elements(std::size_t n, F&& f) {
    constexpr std::size_t grain = 2048;
    if (n <= grain) {
        f(std::size_t{0}, n);
        return;
    }
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n, grain),
                      [&](const tbb::blocked_range<std::size_t>& r) { f(r.begin(), r.end()); });
}

}  // namespace

DropoutLayer::DropoutLayer(const LayerSpec& spec) : Layer(spec) {
    for (const auto& [key, value] : spec.settings)
        if (key != "rate") throw ConfigError(spec.label() + ": unknown setting '" + key + "' (known: rate)");
    const double rate = spec.get_double("rate", 0.5);
    if (!(rate >= 0.0 && rate < 1.0))
        throw ConfigError(spec.label() + ": rate must be in [0, 1), got " + spec.get_string("rate", ""));
    rate_ = static_cast<float>(rate);
}

std::string DropoutLayer::details() const { return fmt::format("rate {:g}", rate_); }

Shape DropoutLayer::output_shape(const Shape& input) const {
    if (input.rank() < 2) throw ShapeError(label() + ": input " + input.str() + " needs (batch, channels, ...)");
    return input;
}

std::unique_ptr<LayerState> DropoutLayer::make_state() const { return std::make_unique<DropoutState>(); }

void DropoutLayer::forward(const Tensor& in, Tensor& out, LayerState& state, const RunContext& ctx) const {
    output_shape(in.shape());
    out.resize(in.shape());
    out.spans = in.spans;
    const std::size_t n = in.size();
    const float* x = in.data();
    float* y = out.data();
    if (ctx.mode == Mode::inference || rate_ == 0.0f) {
        std::copy(x, x + n, y);
        return;
    }
    auto& mask = static_cast<DropoutState&>(state).mask;
    mask.resize(n);
    const float keep_scale = 1.0f / (1.0f - rate_);
    const std::uint64_t stream = mask_stream(ctx.layer_index);
    const std::uint64_t base = ctx.step << 32;
    for_elements(n, [&](std::size_t begin, std::size_t end) {
        for (std::size_t i = begin; i < end; ++i) {
            const bool keep = unit_float(random_bits(ctx.seed, stream, base + i)) >= rate_;
            mask[i] = keep ? keep_scale : 0.0f;
            y[i] = x[i] * mask[i];
        }
    });
}

void DropoutLayer::backward(const Tensor& in, const Tensor& out, const Tensor& d_out, Tensor* d_in,
                            LayerState& state, const RunContext& ctx) const {
    if (!d_in) return;
    if (d_out.shape() != in.shape() || d_in->shape() != in.shape())
        throw ShapeError(label() + ": backward got d_out " + d_out.shape().str() + " and d_in " +
                         d_in->shape().str() + " for input " + in.shape().str());
    const std::size_t n = in.size();
    const float* dy = d_out.data();
    float* dx = d_in->data();
    if (ctx.mode == Mode::inference || rate_ == 0.0f) {
        for_elements(n, [&](std::size_t b, std::size_t e) {
            for (std::size_t i = b; i < e; ++i) dx[i] += dy[i];
        });
        return;
    }
    const auto& mask = static_cast<const DropoutState&>(state).mask;
    if (mask.size() != n)
        throw ShapeError(label() + ": backward without a matching training forward for input " + in.shape().str());
    for_elements(n, [&](std::size_t b, std::size_t e) {
        for (std::size_t i = b; i < e; ++i) dx[i] += dy[i] * mask[i];
    });
}

}  // namespace textcnn
