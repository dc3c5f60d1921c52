// Pooling layers, shared by the text path (1D) and the image path (2D).
//
// PoolLayer ("max_pool", "avg_pool"): windows over the spatial axes of an ordinary
// (batch, channels, length) or (batch, channels, height, width) input.
//   window   "2" (1D) or "2,2" (2D; the number of sizes must match the input's spatial rank)
//   stride   default = window
//   padding  valid (default) | same. `same` gives ceil(m / stride) outputs; the padded
//            positions are ignored by max and excluded from the average's count (as TF does).
// Packed input is refused (use a global pool for variable-length text).
//
// GlobalPoolLayer ("global_max_pool", "global_avg_pool"): (N, C, spatial...) -> (N, C); a
// packed (1, C, total) input -> (spans.size(), C), each span pooled on its own (an empty span
// is a ShapeError). Max keeps the arg-max position per (sample, channel) for backward; ties go
// to the first position.
#pragma once

#include "textcnn/nn/layer.h"

#include <cstddef>
#include <string>
#include <vector>

namespace textcnn {

class PoolLayer : public Layer {
public:
    explicit PoolLayer(const LayerSpec& spec);

    Shape output_shape(const Shape& input) const override;
    std::unique_ptr<LayerState> make_state() const override;
    void forward(const Tensor& in, Tensor& out, LayerState& state, const RunContext& ctx) const override;
    void backward(const Tensor& in, const Tensor& out, const Tensor& d_out, Tensor* d_in, LayerState& state,
                  const RunContext& ctx) const override;

    bool is_max() const { return max_; }
    const std::vector<std::size_t>& window() const { return window_; }
    const std::vector<std::size_t>& stride() const { return stride_; }
    bool same_padding() const { return same_; }
    /// "2x2, stride 2, valid"
    std::string details() const override;

private:
    bool max_ = true;
    bool same_ = false;
    std::vector<std::size_t> window_, stride_;
};

class GlobalPoolLayer : public Layer {
public:
    explicit GlobalPoolLayer(const LayerSpec& spec);

    Shape output_shape(const Shape& input) const override;
    std::unique_ptr<LayerState> make_state() const override;
    void forward(const Tensor& in, Tensor& out, LayerState& state, const RunContext& ctx) const override;
    void backward(const Tensor& in, const Tensor& out, const Tensor& d_out, Tensor* d_in, LayerState& state,
                  const RunContext& ctx) const override;

    /// Global max pooling takes part in the sparse gradient chain (layer.h): the input gradient's
    /// non-zeros are d_out's non-zeros, each at its (sample, channel)'s argmax.
    bool list_input_gradient(const Tensor& in, const Tensor& out, const Tensor& d_out, LayerState& state,
                             std::vector<GradientEntry>& entries) const override;

    bool is_max() const { return max_; }

private:
    bool max_ = true;
};

}  // namespace textcnn
