#define BOOST_TEST_MODULE dropout
#include <boost/test/unit_test.hpp>

#include "test_helpers.h"

#include "gradient_check.h"
#include "textcnn/nn/dropout.h"
#include "textcnn/core/error.h"
#include "textcnn/core/runtime.h"

using namespace textcnn;

namespace {

using textcnn::testing::error_of;

DropoutLayer make(const std::string& rate) { return DropoutLayer(LayerSpec{"dropout", "drop", {{"rate", rate}}, {}}); }

Tensor run(const DropoutLayer& layer, const Tensor& in, const RunContext& ctx) {
    auto state = layer.make_state();
    Tensor out;
    layer.forward(in, out, *state, ctx);
    return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(shapes_and_identity_in_inference) {
    const DropoutLayer layer = make("0.5");
    BOOST_TEST(layer.rate() == 0.5f);
    BOOST_TEST(layer.parameters().empty());
    BOOST_TEST(layer.output_shape(Shape{3, 4, 5}).str() == "(3, 4, 5)");
    const Tensor in = testing::random_tensor(Shape{3, 4, 5}, 1);
    const Tensor out = run(layer, in, RunContext{Mode::inference, 1, 2, 3});
    for (std::size_t i = 0; i < in.size(); ++i) BOOST_TEST(out[i] == in[i]);
    // Rate 0 keeps everything even in training.
    const Tensor kept = run(make("0"), in, RunContext{Mode::training, 1, 2, 3});
    for (std::size_t i = 0; i < in.size(); ++i) BOOST_TEST(kept[i] == in[i]);
    BOOST_TEST(DropoutLayer(LayerSpec{"dropout", "", {}, {}}).rate() == 0.5f);
}

BOOST_AUTO_TEST_CASE(training_mask_follows_the_counter_based_formula) {
    const DropoutLayer layer = make("0.3");
    Tensor in(Shape{10, 1000});
    in.fill(2.0f);
    const RunContext ctx{Mode::training, 42, 7, 5};
    const Tensor out = run(layer, in, ctx);
    std::size_t dropped = 0;
    for (std::size_t i = 0; i < in.size(); ++i) {
        const bool keep = unit_float(random_bits(42, 0xD0 + 5, (std::uint64_t{7} << 32) + i)) >= 0.3f;
        BOOST_TEST(out[i] == (keep ? 2.0f / 0.7f : 0.0f));
        dropped += out[i] == 0.0f;
    }
    // 10,000 Bernoulli(0.3) draws: 3000 +- 4.5 sd.
    BOOST_TEST(dropped > 2800u);
    BOOST_TEST(dropped < 3200u);

    // Another step or layer index gives another mask; the same context the same one.
    const Tensor same = run(layer, in, ctx);
    BOOST_TEST(std::equal(out.data(), out.data() + out.size(), same.data()));
    const Tensor next_step = run(layer, in, RunContext{Mode::training, 42, 8, 5});
    const Tensor other_layer = run(layer, in, RunContext{Mode::training, 42, 7, 6});
    BOOST_TEST(!std::equal(out.data(), out.data() + out.size(), next_step.data()));
    BOOST_TEST(!std::equal(out.data(), out.data() + out.size(), other_layer.data()));
}

BOOST_AUTO_TEST_CASE(identical_whatever_the_thread_count) {
    const DropoutLayer layer = make("0.5");
    const Tensor in = testing::random_tensor(Shape{4, 50, 1000}, 9);  // 200k elements: many TBB chunks
    const RunContext ctx{Mode::training, 3, 11, 2};
    Tensor one, two;
    {
        ThreadLimit limit(1);
        one = run(layer, in, ctx);
    }
    {
        ThreadLimit limit(2);
        two = run(layer, in, ctx);
    }
    BOOST_TEST(std::equal(one.data(), one.data() + one.size(), two.data()));
}

BOOST_AUTO_TEST_CASE(backward_uses_the_mask_and_accumulates) {
    const DropoutLayer layer = make("0.5");
    const Tensor in = testing::random_tensor(Shape{2, 3, 10}, 4);
    const RunContext ctx{Mode::training, 1, 0, 0};
    auto state = layer.make_state();
    Tensor out;
    layer.forward(in, out, *state, ctx);
    Tensor d_out(in.shape());
    d_out.fill(1.0f);
    Tensor d_in(in.shape());
    d_in.fill(0.5f);
    layer.backward(in, out, d_out, &d_in, *state, ctx);
    for (std::size_t i = 0; i < in.size(); ++i) {
        const bool kept = out[i] != 0.0f;
        BOOST_TEST(d_in[i] == (kept ? 0.5f + 2.0f : 0.5f));
    }

    DropoutLayer checked = make("0.4");
    const auto r = testing::check_gradients(checked, testing::random_tensor(Shape{3, 4, 6}, 2));
    BOOST_TEST_INFO("worst " << r.worst_error << " at " << r.worst_where);
    BOOST_TEST(r.passed);
    BOOST_TEST(r.worst_error < 1e-3);
}

BOOST_AUTO_TEST_CASE(packed_input_keeps_zero_gaps) {
    const DropoutLayer layer = make("0.5");
    Tensor in(Shape{1, 2, 8});
    in.spans = {{0, 3}, {4, 4}};
    for (std::size_t p : {0, 1, 2, 4, 5, 6, 7}) in[2 * p] = in[2 * p + 1] = 1.0f;
    const Tensor out = run(layer, in, RunContext{Mode::training, 1, 1, 1});
    BOOST_TEST((out.spans == in.spans));
    BOOST_TEST(out[6] == 0.0f);
    BOOST_TEST(out[7] == 0.0f);
}

BOOST_AUTO_TEST_CASE(bad_use) {
    BOOST_TEST(error_of<ConfigError>([] { make("1"); }) == "dropout 'drop': rate must be in [0, 1), got 1");
    BOOST_TEST(error_of<ConfigError>([] { make("-0.1"); }) == "dropout 'drop': rate must be in [0, 1), got -0.1");
    BOOST_TEST(error_of<ConfigError>([] { make("half"); }) ==
               "dropout 'drop': setting 'rate' must be a number, got 'half'");
    BOOST_TEST(error_of<ConfigError>([] { DropoutLayer(LayerSpec{"dropout", "", {{"p", "0.5"}}, {}}); }) ==
               "dropout: unknown setting 'p' (known: rate)");
    const DropoutLayer layer = make("0.5");
    BOOST_TEST(error_of<ShapeError>([&] { layer.output_shape(Shape{3}); }) ==
               "dropout 'drop': input (3) needs (batch, channels, ...)");
}
