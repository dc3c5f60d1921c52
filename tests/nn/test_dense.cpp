#define BOOST_TEST_MODULE dense
#include <boost/test/unit_test.hpp>

#include "test_helpers.h"

#include "gradient_check.h"
#include "textcnn/nn/dense.h"
#include "textcnn/core/error.h"

#include <algorithm>
#include <cmath>

using namespace textcnn;

namespace {

using textcnn::testing::error_of;

LayerSpec dense_spec(std::size_t in, std::size_t units, bool bias = true) {
    return LayerSpec{"dense", "out",
                     {{"units", std::to_string(units)}, {"in_units", std::to_string(in)}, {"bias", bias ? "true" : "false"}},
                     {}};
}

float max_abs(const std::vector<float>& v) {
    float m = 0.0f;
    for (float x : v) m = std::max(m, std::abs(x));
    return m;
}

}  // namespace

BOOST_AUTO_TEST_CASE(shapes_and_parameter_counts) {
    const DenseLayer layer(dense_spec(4, 3));
    BOOST_TEST(layer.output_shape(Shape{5, 4}).str() == "(5, 3)");
    const auto params = layer.parameters();
    BOOST_REQUIRE(params.size() == 2u);
    BOOST_TEST(params[0].name == "weights");
    BOOST_TEST(params[0].rows == 4u);
    BOOST_TEST(params[0].cols == 3u);
    BOOST_TEST(params[0].max_norm_columns);
    BOOST_TEST(!params[0].sparse_columns);
    BOOST_TEST(params[0].trainable);
    BOOST_TEST(params[1].name == "bias");
    BOOST_TEST(params[1].size() == 3u);
    BOOST_TEST(!params[1].max_norm_columns);

    const DenseLayer no_bias(dense_spec(4, 3, false));
    BOOST_TEST(no_bias.parameters().size() == 1u);
    BOOST_TEST(no_bias.parameters()[0].size() == 12u);
}

BOOST_AUTO_TEST_CASE(forward_and_backward_by_hand) {
    DenseLayer layer(dense_spec(2, 2));
    auto p = testing::bind_fresh(layer);
    // W (in x units) column-major: unit 0's weights (1, 2), unit 1's (3, 4).
    p.values[0] = {1, 2, 3, 4};
    p.values[1] = {0.5f, -0.5f};
    const Tensor in(Shape{2, 2}, {1, -1, 2, 1});
    auto state = layer.make_state();
    Tensor out;
    const RunContext ctx{Mode::training};
    layer.forward(in, out, *state, ctx);
    BOOST_TEST(out.shape().str() == "(2, 2)");
    // y = W^T x + b: sample 0: (1 - 2 + 0.5, 3 - 4 - 0.5); sample 1: (2 + 2 + 0.5, 6 + 4 - 0.5).
    const std::vector<float> expected{-0.5f, -1.5f, 4.5f, 9.5f};
    BOOST_TEST(std::vector<float>(out.values().begin(), out.values().end()) == expected,
               boost::test_tools::per_element());

    // Parameter gradients are assigned (stale values are overwritten), d_in accumulates.
    std::fill(p.gradients[0].begin(), p.gradients[0].end(), 99.0f);
    std::fill(p.gradients[1].begin(), p.gradients[1].end(), 99.0f);
    const Tensor d_out(Shape{2, 2}, {1, 1, 1, 1});
    Tensor d_in(Shape{2, 2}, {1, 1, 1, 1});
    layer.backward(in, out, d_out, &d_in, *state, ctx);
    // dW = X dY^T: row i = sum over samples of x_i = (3, 0) for both units.
    BOOST_TEST(p.gradients[0] == std::vector<float>({3, 0, 3, 0}), boost::test_tools::per_element());
    BOOST_TEST(p.gradients[1] == std::vector<float>({2, 2}), boost::test_tools::per_element());
    // dX = W dY = (1 + 3, 2 + 4) per sample, plus the 1 already there.
    BOOST_TEST(std::vector<float>(d_in.values().begin(), d_in.values().end()) == std::vector<float>({5, 7, 5, 7}),
               boost::test_tools::per_element());
    // Twice: still assigned, not accumulated.
    layer.backward(in, out, d_out, nullptr, *state, ctx);
    BOOST_TEST(p.gradients[0] == std::vector<float>({3, 0, 3, 0}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(initializers) {
    DenseLayer layer(dense_spec(40, 20));
    auto p = testing::bind_fresh(layer);
    Rng rng(1);
    layer.initialize(Initializer{Initializer::Kind::glorot_uniform}, rng);
    const float glorot = std::sqrt(6.0f / 60.0f);
    BOOST_TEST(max_abs(p.values[0]) <= glorot);
    BOOST_TEST(max_abs(p.values[0]) > 0.95f * glorot);
    BOOST_TEST(max_abs(p.values[1]) == 0.0f);

    layer.initialize(Initializer{Initializer::Kind::he_uniform}, rng);
    BOOST_TEST(max_abs(p.values[0]) <= std::sqrt(6.0f / 40.0f));
    BOOST_TEST(max_abs(p.values[0]) > 0.95f * std::sqrt(6.0f / 40.0f));

    layer.initialize(Initializer{Initializer::Kind::torch_default}, rng);
    const float torch = 1.0f / std::sqrt(40.0f);
    BOOST_TEST(max_abs(p.values[0]) <= torch);
    BOOST_TEST(max_abs(p.values[1]) <= torch);
    BOOST_TEST(max_abs(p.values[1]) > 0.5f * torch);

    layer.initialize(Initializer{Initializer::Kind::uniform, 0.01f}, rng);
    BOOST_TEST(max_abs(p.values[0]) <= 0.01f);
    BOOST_TEST(max_abs(p.values[1]) == 0.0f);

    // Same seed, same values.
    DenseLayer again(dense_spec(40, 20));
    auto q = testing::bind_fresh(again);
    Rng a(5), b(5);
    layer.initialize(Initializer{}, a);
    again.initialize(Initializer{}, b);
    BOOST_TEST(p.values[0] == q.values[0]);
}

BOOST_AUTO_TEST_CASE(gradient_checks) {
    for (bool bias : {true, false}) {
        DenseLayer layer(dense_spec(7, 5, bias));
        const auto r = testing::check_gradients(layer, testing::random_tensor(Shape{4, 7}, 21));
        BOOST_TEST_INFO("bias " << bias << ": worst " << r.worst_error << " at " << r.worst_where);
        BOOST_TEST(r.passed);
        BOOST_TEST(r.checked == 4u * 7 + 7 * 5 + (bias ? 5 : 0));
    }
}

BOOST_AUTO_TEST_CASE(bad_use) {
    const DenseLayer layer(dense_spec(300, 2));
    BOOST_TEST(error_of<ShapeError>([&] { layer.output_shape(Shape{50, 100, 3}); }) ==
               "dense 'out': input (50, 100, 3) is not (batch, features); add a flatten or global pooling layer "
               "before dense 'out'");
    BOOST_TEST(error_of<ShapeError>([&] { layer.output_shape(Shape{50, 299}); }) ==
               "dense 'out': input (50, 299) has 299 features, layer expects 300");
    auto state = layer.make_state();
    Tensor out;
    BOOST_TEST(error_of<ShapeError>([&] { layer.forward(Tensor(Shape{2, 5}), out, *state, RunContext{}); }) ==
               "dense 'out': input (2, 5) has 5 features, layer expects 300");

    BOOST_TEST(error_of<ConfigError>([] { DenseLayer(LayerSpec{"dense", "", {{"in_units", "3"}}, {}}); }) ==
               "dense: missing setting 'units'");
    BOOST_TEST(error_of<ConfigError>([] {
                   DenseLayer(LayerSpec{"dense", "", {{"in_units", "3"}, {"units", "0"}}, {}});
               }) == "dense: setting 'units' must be > 0, got 0");
    BOOST_TEST(error_of<ConfigError>([] {
                   DenseLayer(LayerSpec{"dense", "", {{"in_units", "3"}, {"units", "2"}, {"bias", "yes"}}, {}});
               }) == "dense: setting 'bias' must be true or false, got 'yes'");
    BOOST_TEST(error_of<ConfigError>([] {
                   DenseLayer(LayerSpec{"dense", "", {{"in_units", "3"}, {"unit", "2"}}, {}});
               }) == "dense: unknown setting 'unit' (known: units, bias, in_units)");
}
