// Element-wise activations: relu, tanh, sigmoid, identity. One class, chosen by the layer
// type; no parameters. Accepts any shape, packed or not.
//
// Packed inputs keep their spans, and positions outside the spans stay 0 in the output even
// when f(0) != 0 (sigmoid): the packed-tensor invariant of tensor.h is what lets the next
// convolution treat the gaps as zero padding. The gaps are constants, so they pass no
// gradient back either.
#pragma once

#include "textcnn/nn/layer.h"

namespace textcnn {

class ActivationLayer : public Layer {
public:
    enum class Kind { relu, tanh, sigmoid, identity };

    /// spec.type is one of "relu", "tanh", "sigmoid", "identity" (ConfigError otherwise);
    /// no settings.
    explicit ActivationLayer(const LayerSpec& spec);

    Kind kind() const { return kind_; }
    Shape output_shape(const Shape& input) const override;
    void forward(const Tensor& in, Tensor& out, LayerState& state, const RunContext& ctx) const override;
    void backward(const Tensor& in, const Tensor& out, const Tensor& d_out, Tensor* d_in, LayerState& state,
                  const RunContext& ctx) const override;

    /// ReLU and identity take part in the sparse gradient chain (layer.h): ReLU keeps the
    /// entries whose input is positive (what backward() passes), identity keeps them all.
    bool map_gradient_entries(const Tensor& in, const Tensor& out, std::vector<GradientEntry>& entries) const override;

private:
    Kind kind_;
};

}  // namespace textcnn
