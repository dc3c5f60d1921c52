#include "textcnn/nn/dense.h"

#include "nn/blas_single_thread.h"

#include "textcnn/core/error.h"

#include <cmath>

namespace textcnn {

namespace {

void check_known_settings(const LayerSpec& spec, std::initializer_list<const char*> known) {
    for (const auto& [key, value] : spec.settings) {
        bool found = false;
        std::string list;
        for (const char* k : known) {
            found = found || key == k;
            list += list.empty() ? k : std::string(", ") + k;
        }
        if (!found) throw ConfigError(spec.label() + ": unknown setting '" + key + "' (known: " + list + ")");
    }
}


std::size_t positive(const LayerSpec& spec, const std::string& key) {
    const long value = spec.require_int(key);
    if (value <= 0) throw ConfigError(spec.label() + ": setting '" + key + "' must be > 0, got " + std::to_string(value));
    return static_cast<std::size_t>(value);
}

}  // namespace

DenseLayer::DenseLayer(const LayerSpec& spec) : Layer(spec) {
    check_known_settings(spec, {"units", "bias", "in_units"});
    units_ = positive(spec, "units");
    in_units_ = positive(spec, "in_units");
    has_bias_ = spec.get_bool("bias", true);
}

std::string DenseLayer::details() const {
    return std::to_string(units_) + (units_ == 1 ? " unit" : " units") + (has_bias_ ? "" : ", no bias");
}

Shape DenseLayer::output_shape(const Shape& input) const {
    if (input.rank() != 2)
        throw ShapeError(label() + ": input " + input.str() + " is not (batch, features); add a flatten or " +
                         "global pooling layer before " + label());
    if (input.channels() != in_units_)
        throw ShapeError(label() + ": input " + input.str() + " has " + std::to_string(input.channels()) +
                         " features, layer expects " + std::to_string(in_units_));
    return Shape{input.batch(), units_};
}

std::vector<ParameterInfo> DenseLayer::parameters() const {
    std::vector<ParameterInfo> infos;
    infos.push_back({"weights", in_units_, units_, false, true, true});
    if (has_bias_) infos.push_back({"bias", units_, 1, false, false, true});
    return infos;
}

void DenseLayer::bind(std::span<const ParameterBinding> bindings) {
    if (bindings.size() != (has_bias_ ? 2u : 1u))
        throw ConfigError(label() + ": bind() got " + std::to_string(bindings.size()) + " bindings for " +
                          std::to_string(has_bias_ ? 2 : 1) + " parameters");
    weights_ = bindings[0];
    if (has_bias_) bias_ = bindings[1];
}

void DenseLayer::initialize(const Initializer& init, Rng& rng) {
    const float fan_in = static_cast<float>(in_units_);
    const float fan_out = static_cast<float>(units_);
    float weight_limit = 0.0f;
    float bias_limit = 0.0f;
    switch (init.kind) {
    case Initializer::Kind::glorot_uniform: weight_limit = std::sqrt(6.0f / (fan_in + fan_out)); break;
    case Initializer::Kind::he_uniform: weight_limit = std::sqrt(6.0f / fan_in); break;
    case Initializer::Kind::torch_default: weight_limit = bias_limit = 1.0f / std::sqrt(fan_in); break;
    case Initializer::Kind::uniform: weight_limit = init.scale; break;
    }
    for (std::size_t i = 0, n = in_units_ * units_; i < n; ++i)
        weights_.value[i] = rng.uniform(-weight_limit, weight_limit);
    if (has_bias_)
        for (std::size_t i = 0; i < units_; ++i)
            bias_.value[i] = bias_limit > 0.0f ? rng.uniform(-bias_limit, bias_limit) : 0.0f;
}

void DenseLayer::forward(const Tensor& in, Tensor& out, LayerState& state, const RunContext& ctx) const {
    const Shape out_shape = output_shape(in.shape());
    out.resize(out_shape);
    out.spans.clear();
    const std::size_t n = in.shape().batch();
    // One BLAS thread: OpenBLAS sums some of these shapes in another order with 2 threads than
    // with 1 (measured: 10 x 128 x 392 forward, 392 x 10 x 1000 weight gradient), and results
    // must not depend on --threads. Dense products here are small next to the convolutions.
    detail::BlasSingleThreadScope single_thread;
    const arma::fmat x(const_cast<float*>(in.data()), in_units_, n, false, true);
    const arma::fmat w(weights_.value, in_units_, units_, false, true);
    arma::fmat y(out.data(), units_, n, false, true);
    y = w.t() * x;
    if (has_bias_) {
        const arma::fvec b(bias_.value, units_, false, true);
        y.each_col() += b;
    }
}

void DenseLayer::backward(const Tensor& in, const Tensor& out, const Tensor& d_out, Tensor* d_in,
                          LayerState& state, const RunContext& ctx) const {
    const std::size_t n = in.shape().batch();
    if (d_out.shape() != Shape({n, units_}) || (d_in && d_in->shape() != in.shape()))
        throw ShapeError(label() + ": backward got d_out " + d_out.shape().str() +
                         (d_in ? " and d_in " + d_in->shape().str() : std::string()) + " for input " +
                         in.shape().str());
    detail::BlasSingleThreadScope single_thread;  // as in forward(): the same sums whatever --threads
    const arma::fmat x(const_cast<float*>(in.data()), in_units_, n, false, true);
    const arma::fmat dy(const_cast<float*>(d_out.data()), units_, n, false, true);
    arma::fmat dw(weights_.gradient, in_units_, units_, false, true);
    dw = x * dy.t();
    if (has_bias_) {
        arma::fvec db(bias_.gradient, units_, false, true);
        db = arma::sum(dy, 1);
    }
    if (d_in) {
        const arma::fmat w(weights_.value, in_units_, units_, false, true);
        arma::fmat dx(d_in->data(), in_units_, n, false, true);
        dx += w * dy;
    }
}

}  // namespace textcnn
