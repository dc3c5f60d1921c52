#include "textcnn/nn/flatten.h"

#include "textcnn/core/error.h"

#include <algorithm>

namespace textcnn {

FlattenLayer::FlattenLayer(const LayerSpec& spec) : Layer(spec) {
    if (!spec.settings.empty())
        throw ConfigError(spec.label() + ": takes no settings, got '" + spec.settings.begin()->first + "'");
}

Shape FlattenLayer::output_shape(const Shape& input) const {
    if (input.rank() < 2) throw ShapeError(label() + ": input " + input.str() + " needs (batch, channels, ...)");
    return Shape{input.batch(), input.per_sample()};
}

void FlattenLayer::forward(const Tensor& in, Tensor& out, LayerState& state, const RunContext& ctx) const {
    if (in.packed())
        throw ShapeError(label() + ": cannot flatten packed sequences " + in.shape().str() + " with " +
                         std::to_string(in.spans.size()) + " spans; use global pooling for text");
    out.resize(output_shape(in.shape()));
    out.spans.clear();
    std::copy(in.data(), in.data() + in.size(), out.data());
}

void FlattenLayer::backward(const Tensor& in, const Tensor& out, const Tensor& d_out, Tensor* d_in,
                            LayerState& state, const RunContext& ctx) const {
    if (!d_in) return;
    if (d_out.size() != in.size() || d_in->shape() != in.shape())
        throw ShapeError(label() + ": backward got d_out " + d_out.shape().str() + " and d_in " +
                         d_in->shape().str() + " for input " + in.shape().str());
    const float* dy = d_out.data();
    float* dx = d_in->data();
    for (std::size_t i = 0, n = in.size(); i < n; ++i) dx[i] += dy[i];
}

}  // namespace textcnn
