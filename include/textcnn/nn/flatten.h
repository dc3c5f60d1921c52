// Flatten: (N, C, spatial...) -> (N, C * positions), the bridge from convolution/pooling
// outputs to dense layers. Storage is channels-innermost, so feature index p * C + c of the
// output is element (c, p) of the sample: the values are copied in the same order.
// Packed (text) input is rejected: sentences of different lengths have no common flat size
// (use global pooling instead).
#pragma once

#include "textcnn/nn/layer.h"

namespace textcnn {

class FlattenLayer : public Layer {
public:
    explicit FlattenLayer(const LayerSpec& spec);

    Shape output_shape(const Shape& input) const override;
    void forward(const Tensor& in, Tensor& out, LayerState& state, const RunContext& ctx) const override;
    void backward(const Tensor& in, const Tensor& out, const Tensor& d_out, Tensor* d_in, LayerState& state,
                  const RunContext& ctx) const override;
};

}  // namespace textcnn
