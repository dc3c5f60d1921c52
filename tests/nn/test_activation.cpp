#define BOOST_TEST_MODULE activation
#include <boost/test/unit_test.hpp>

#include "test_helpers.h"

#include "gradient_check.h"
#include "textcnn/nn/activation.h"
#include "textcnn/core/error.h"

#include <cmath>

using namespace textcnn;

namespace {

using textcnn::testing::error_of;

ActivationLayer make(const std::string& type) { return ActivationLayer(LayerSpec{type, "", {}, {}}); }

Tensor run(const ActivationLayer& layer, const Tensor& in) {
    auto state = layer.make_state();
    Tensor out;
    layer.forward(in, out, *state, RunContext{});
    return out;
}

// Moves values away from 0 so relu's kink does not fall inside a finite-difference step.
Tensor away_from_zero(Tensor t) {
    for (float& v : t.values()) v = v >= 0.0f ? v + 0.1f : v - 0.1f;
    return t;
}

}  // namespace

BOOST_AUTO_TEST_CASE(shapes_and_no_parameters) {
    for (const char* type : {"relu", "tanh", "sigmoid", "identity"}) {
        const ActivationLayer layer = make(type);
        BOOST_TEST(layer.parameters().empty());
        BOOST_TEST(layer.output_shape(Shape{2, 3, 4, 5}).str() == "(2, 3, 4, 5)");
        BOOST_TEST(layer.output_shape(Shape{7, 3}).str() == "(7, 3)");
    }
    BOOST_TEST(static_cast<int>(make("tanh").kind()) == static_cast<int>(ActivationLayer::Kind::tanh));
}

BOOST_AUTO_TEST_CASE(forward_values) {
    const Tensor in(Shape{1, 5}, {-2.0f, -0.5f, 0.0f, 0.5f, 100.0f});
    const Tensor relu = run(make("relu"), in);
    const std::vector<float> relu_expected{0.0f, 0.0f, 0.0f, 0.5f, 100.0f};
    BOOST_TEST(std::vector<float>(relu.values().begin(), relu.values().end()) == relu_expected,
               boost::test_tools::per_element());

    const Tensor th = run(make("tanh"), in);
    BOOST_TEST(th[0] == -0.96402758f, boost::test_tools::tolerance(1e-6f));
    BOOST_TEST(th[1] == -0.46211716f, boost::test_tools::tolerance(1e-6f));
    BOOST_TEST(th[2] == 0.0f);
    BOOST_TEST(th[4] == 1.0f);

    const Tensor sg = run(make("sigmoid"), in);
    BOOST_TEST(sg[0] == 0.11920292f, boost::test_tools::tolerance(1e-6f));
    BOOST_TEST(sg[2] == 0.5f);
    BOOST_TEST(sg[3] == 0.62245933f, boost::test_tools::tolerance(1e-6f));
    BOOST_TEST(sg[4] == 1.0f);
    // Very negative inputs saturate to 0 without NaN.
    const Tensor low = run(make("sigmoid"), Tensor(Shape{1, 1}, {-1000.0f}));
    BOOST_TEST(low[0] == 0.0f);

    const Tensor id = run(make("identity"), in);
    BOOST_TEST(std::vector<float>(id.values().begin(), id.values().end()) ==
                   std::vector<float>(in.values().begin(), in.values().end()),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(packed_input_keeps_spans_and_zero_gaps) {
    // (1, 2, 6): span {1, 2} covers positions 1-2, span {4, 1} position 4.
    Tensor in(Shape{1, 2, 6});
    in.spans = {{1, 2}, {4, 1}};
    for (std::size_t p : {1, 2, 4})
        for (std::size_t c = 0; c < 2; ++c) in[p * 2 + c] = 0.25f * static_cast<float>(p + c) - 0.5f;
    const Tensor out = run(make("sigmoid"), in);
    BOOST_TEST(out.shape().str() == "(1, 2, 6)");
    BOOST_TEST((out.spans == in.spans));
    for (std::size_t p = 0; p < 6; ++p)
        for (std::size_t c = 0; c < 2; ++c) {
            const bool live = p == 1 || p == 2 || p == 4;
            const float expected = live ? 1.0f / (1.0f + std::exp(-in[p * 2 + c])) : 0.0f;
            BOOST_TEST(out[p * 2 + c] == expected, boost::test_tools::tolerance(1e-6f));
        }
    // Input (p=2, c=0) is 0 inside a span: not a gap, so sigmoid gives 0.5 there.
    BOOST_TEST(in[2 * 2 + 0] == 0.0f);
    BOOST_TEST(out[2 * 2 + 0] == 0.5f);
    // An output tensor reused from an earlier batch (every value 7): its gaps read 0 again.
    const ActivationLayer layer = make("sigmoid");
    auto state = layer.make_state();
    Tensor reused(Shape{1, 2, 6}, std::vector<float>(12, 7.0f));
    layer.forward(in, reused, *state, RunContext{Mode::training});
    for (std::size_t i = 0; i < 12; ++i) BOOST_TEST(reused[i] == out[i]);
}

BOOST_AUTO_TEST_CASE(backward_accumulates_into_d_in) {
    const ActivationLayer layer = make("tanh");
    const Tensor in(Shape{1, 2}, {0.5f, -1.0f});
    auto state = layer.make_state();
    Tensor out;
    const RunContext ctx{Mode::training};
    layer.forward(in, out, *state, ctx);
    const Tensor d_out(Shape{1, 2}, {1.0f, 2.0f});
    Tensor d_in(Shape{1, 2}, {10.0f, 20.0f});
    layer.backward(in, out, d_out, &d_in, *state, ctx);
    const float t0 = std::tanh(0.5f), t1 = std::tanh(-1.0f);
    BOOST_TEST(d_in[0] == 10.0f + (1.0f - t0 * t0), boost::test_tools::tolerance(1e-6f));
    BOOST_TEST(d_in[1] == 20.0f + 2.0f * (1.0f - t1 * t1), boost::test_tools::tolerance(1e-6f));
    layer.backward(in, out, d_out, nullptr, *state, ctx);  // d_in may be null
}

BOOST_AUTO_TEST_CASE(large_packed_batch_matches_element_wise_values) {
    // 40 sentences of 150 positions x 8 channels, gaps of 2: several TBB tasks.
    const std::size_t channels = 8, length = 150, gap = 2, sentences = 40;
    Tensor in(Shape{1, channels, sentences * (length + gap)});
    for (std::size_t s = 0; s < sentences; ++s) {
        const auto offset = static_cast<std::uint32_t>(s * (length + gap));
        in.spans.push_back({offset, static_cast<std::uint32_t>(length)});
        for (std::size_t i = offset * channels; i < (offset + length) * channels; ++i)
            in[i] = std::sin(static_cast<float>(i));
    }
    const Tensor out = run(make("sigmoid"), in);
    for (std::size_t i = 0; i < in.size(); ++i) {
        const bool live = (i / channels) % (length + gap) < length;
        BOOST_TEST_REQUIRE(out[i] == (live ? 1.0f / (1.0f + std::exp(-in[i])) : 0.0f), boost::test_tools::tolerance(1e-6f));
    }
}

BOOST_AUTO_TEST_CASE(gradient_checks) {
    const Tensor image = testing::random_tensor(Shape{2, 3, 4, 5}, 11);
    for (const char* type : {"tanh", "sigmoid", "identity"}) {
        ActivationLayer layer = make(type);
        const auto r = testing::check_gradients(layer, image);
        BOOST_TEST_INFO(type << ": worst " << r.worst_error << " at " << r.worst_where);
        BOOST_TEST(r.passed);
        BOOST_TEST(r.checked == image.size());
    }
    ActivationLayer relu = make("relu");
    const auto r = testing::check_gradients(relu, away_from_zero(image));
    BOOST_TEST_INFO("relu: worst " << r.worst_error << " at " << r.worst_where);
    BOOST_TEST(r.passed);
    BOOST_TEST(r.worst_error < 1e-3);
}

BOOST_AUTO_TEST_CASE(packed_gradient_check) {
    Tensor in = testing::random_tensor(Shape{1, 3, 9}, 5);
    in.spans = {{1, 3}, {6, 2}};
    for (std::size_t p : {0, 4, 5, 8})
        for (std::size_t c = 0; c < 3; ++c) in[p * 3 + c] = 0.0f;
    for (const char* type : {"tanh", "sigmoid"}) {
        ActivationLayer layer = make(type);
        const auto r = testing::check_gradients(layer, in);
        BOOST_TEST_INFO(type << ": worst " << r.worst_error << " at " << r.worst_where);
        BOOST_TEST(r.passed);
    }
}

BOOST_AUTO_TEST_CASE(bad_use) {
    BOOST_TEST(error_of<ConfigError>([] { make("softmax"); }) ==
               "softmax: not an activation (expected relu, tanh, sigmoid or identity)");
    BOOST_TEST(error_of<ConfigError>([] { ActivationLayer(LayerSpec{"relu", "r1", {{"rate", "1"}}, {}}); }) ==
               "relu 'r1': takes no settings, got 'rate'");
    const ActivationLayer layer(LayerSpec{"relu", "r1", {}, {}});
    BOOST_TEST(error_of<ShapeError>([&] { run(layer, Tensor(Shape{4})); }) ==
               "relu 'r1': input (4) needs (batch, channels, ...)");
    Tensor packed(Shape{1, 2, 4});
    packed.spans = {{2, 3}};
    BOOST_TEST(error_of<ShapeError>([&] { run(layer, packed); }) ==
               "relu 'r1': span [2, 5) lies outside input (1, 2, 4)");
    packed.spans = {{2, 2}, {1, 1}};
    BOOST_TEST(error_of<ShapeError>([&] { run(layer, packed); }) ==
               "relu 'r1': span [1, 2) overlaps or precedes the previous span in input (1, 2, 4)");
}
