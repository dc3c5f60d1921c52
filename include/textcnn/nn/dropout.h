// Inverted dropout: in Mode::training each element is kept with probability 1 - rate and
// scaled by 1 / (1 - rate), else zeroed; in Mode::inference the layer is the identity, so
// no rescaling is needed at prediction time.
//
// Setting: rate in [0, 1), default 0.5 (ConfigError otherwise). Any shape, packed or not (gaps are 0 and
// stay 0).
//
// The mask is a pure function of (ctx.seed, ctx.layer_index, ctx.step, element index):
// element i is kept iff unit_float(random_bits(seed, 0xD0 + layer_index, step * 2^32 + i)) >=
// rate. So training is bit-identical whatever the thread count, and a gradient check can
// replay the same mask by reusing the RunContext.
#pragma once

#include "textcnn/nn/layer.h"

#include <cstdint>

namespace textcnn {

class DropoutLayer : public Layer {
public:
    explicit DropoutLayer(const LayerSpec& spec);

    float rate() const { return rate_; }
    /// Stream of rng.h used for the masks of the layer at `layer_index`.
    static std::uint64_t mask_stream(std::uint32_t layer_index) { return 0xD0 + std::uint64_t{layer_index}; }

    Shape output_shape(const Shape& input) const override;
    std::string details() const override;
    std::unique_ptr<LayerState> make_state() const override;
    void forward(const Tensor& in, Tensor& out, LayerState& state, const RunContext& ctx) const override;
    void backward(const Tensor& in, const Tensor& out, const Tensor& d_out, Tensor* d_in, LayerState& state,
                  const RunContext& ctx) const override;

private:
    float rate_ = 0.5f;
};

}  // namespace textcnn
