#include "gradient_check.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>

namespace textcnn::testing {

Tensor random_tensor(const Shape& shape, std::uint64_t seed) {
    Tensor t(shape);
    Rng rng(seed);
    for (std::size_t i = 0; i < t.size(); ++i) t[i] = rng.uniform(-1.0f, 1.0f);
    return t;
}

BoundParameters bind_fresh(Layer& layer) {
    BoundParameters b;
    const auto infos = layer.parameters();
    b.values.resize(infos.size());
    b.gradients.resize(infos.size());
    b.touched.resize(infos.size());
    std::vector<ParameterBinding> bindings(infos.size());
    for (std::size_t i = 0; i < infos.size(); ++i) {
        b.values[i].assign(infos[i].size(), 0.0f);
        b.gradients[i].assign(infos[i].size(), 0.0f);
        bindings[i] = {b.values[i].data(), b.gradients[i].data(), &b.touched[i]};
    }
    layer.bind(bindings);
    return b;
}

namespace {

double objective(const Layer& layer, const Tensor& input, const Tensor& weights, LayerState& state,
                 const RunContext& ctx) {
    Tensor out;
    layer.forward(input, out, state, ctx);
    double sum = 0.0;
    for (std::size_t i = 0; i < out.size(); ++i) sum += static_cast<double>(out[i]) * weights[i];
    return sum;
}

// Indices to check: all of them when few, otherwise an even sample.
std::vector<std::size_t> sample_indices(std::size_t n, std::size_t max_checks) {
    std::vector<std::size_t> idx;
    if (n <= max_checks) {
        for (std::size_t i = 0; i < n; ++i) idx.push_back(i);
    } else {
        for (std::size_t k = 0; k < max_checks; ++k) idx.push_back(k * n / max_checks);
    }
    return idx;
}

}  // namespace

GradientCheckResult check_gradients(Layer& layer, const Tensor& input, const GradientCheckOptions& options) {
    GradientCheckResult result;
    BoundParameters params = bind_fresh(layer);
    Rng init_rng(options.seed);
    layer.initialize(Initializer{Initializer::Kind::uniform, 0.5f}, init_rng);
    // Biases are zero under Kind::uniform; give them values so their role is exercised.
    for (std::size_t p = 0; p < params.values.size(); ++p)
        for (float& v : params.values[p])
            if (v == 0.0f) v = init_rng.uniform(-0.5f, 0.5f);

    // Training mode (dropout masks etc.) with a fixed step: the same mask in every forward.
    RunContext ctx{Mode::training, options.seed, 3, 0};
    auto state = layer.make_state();
    Tensor out;
    layer.forward(input, out, *state, ctx);
    Tensor weights = random_tensor(out.shape(), options.seed + 1);
    weights.spans = out.spans;
    Tensor d_in(input.shape());
    d_in.spans = input.spans;
    layer.backward(input, out, weights, options.check_input ? &d_in : nullptr, *state, ctx);

    auto scaled_error = [](double analytic, double numeric) {
        return std::abs(analytic - numeric) / std::max({1.0, std::abs(analytic), std::abs(numeric)});
    };
    auto record = [&](double err, const std::string& where) {
        ++result.checked;
        if (err > result.worst_error) {
            result.worst_error = err;
            result.worst_where = where;
        }
    };

    const double h = options.step;
    if (options.check_input) {
        Tensor probe = input;
        for (std::size_t i : sample_indices(input.size(), options.max_checks)) {
            const float saved = probe[i];
            probe[i] = saved + static_cast<float>(h);
            const double plus = objective(layer, probe, weights, *state, ctx);
            probe[i] = saved - static_cast<float>(h);
            const double minus = objective(layer, probe, weights, *state, ctx);
            probe[i] = saved;
            record(scaled_error(d_in[i], (plus - minus) / (2 * h)), "input[" + std::to_string(i) + "]");
        }
    }
    const auto infos = layer.parameters();
    // Sparse-column gradients: untouched columns must hold zero, which the comparison checks.
    std::vector<std::vector<float>> analytic = params.gradients;
    for (std::size_t p = 0; p < infos.size(); ++p) {
        if (!infos[p].trainable) continue;
        for (std::size_t i : sample_indices(params.values[p].size(), options.max_checks)) {
            float& v = params.values[p][i];
            const float saved = v;
            v = saved + static_cast<float>(h);
            const double plus = objective(layer, input, weights, *state, ctx);
            v = saved - static_cast<float>(h);
            const double minus = objective(layer, input, weights, *state, ctx);
            v = saved;
            record(scaled_error(analytic[p][i], (plus - minus) / (2 * h)),
                   infos[p].name + "[" + std::to_string(i) + "]");
        }
    }
    result.passed = result.worst_error <= options.tolerance;
    return result;
}

}  // namespace textcnn::testing
