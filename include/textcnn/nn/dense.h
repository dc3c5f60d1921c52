// Dense (fully connected) layer: (N, in_units) -> (N, units), y = W^T x + b.
//
// Settings: units (required, > 0), bias (true|false, default true), in_units (filled in by
// make_layer from the input shape). A rank-3/4 input is a ShapeError that tells the user to
// add a flatten (or global pooling) layer first; the layer never flattens implicitly.
//
// Parameters: "weights" in_units x units, column-major, so column j is output unit j's weight
// vector (max_norm_columns: Kim's max-norm constraint is per column); "bias" units x 1.
// Initialisation (layer.h): glorot_uniform with fan_in = in_units, fan_out = units;
// he_uniform with fan_in; torch_default U(+-1/sqrt(in_units)) for weights and bias;
// uniform U(+-scale). Weights are drawn in storage order, then the bias.
//
// The whole batch is one GEMM: Y (units x N) = W^T X, X being the input viewed as
// in_units x N (tensor.h). BLAS threads, no TBB.
#pragma once

#include "textcnn/nn/layer.h"

namespace textcnn {

class DenseLayer : public Layer {
public:
    explicit DenseLayer(const LayerSpec& spec);

    std::size_t in_units() const { return in_units_; }
    std::size_t units() const { return units_; }
    bool has_bias() const { return has_bias_; }

    Shape output_shape(const Shape& input) const override;
    std::string details() const override;
    std::vector<ParameterInfo> parameters() const override;
    void bind(std::span<const ParameterBinding> bindings) override;
    void initialize(const Initializer& init, Rng& rng) override;
    void forward(const Tensor& in, Tensor& out, LayerState& state, const RunContext& ctx) const override;
    void backward(const Tensor& in, const Tensor& out, const Tensor& d_out, Tensor* d_in, LayerState& state,
                  const RunContext& ctx) const override;

private:
    std::size_t in_units_ = 0;
    std::size_t units_ = 0;
    bool has_bias_ = true;
    ParameterBinding weights_;
    ParameterBinding bias_;
};

}  // namespace textcnn
