#define BOOST_TEST_MODULE flatten
#include <boost/test/unit_test.hpp>

#include "test_helpers.h"

#include "gradient_check.h"
#include "textcnn/core/error.h"
#include "textcnn/nn/flatten.h"

using namespace textcnn;

namespace {

using textcnn::testing::error_of;

FlattenLayer make() { return FlattenLayer(LayerSpec{"flatten", "flat", {}, {}}); }

}  // namespace

BOOST_AUTO_TEST_CASE(shapes) {
    const FlattenLayer layer = make();
    BOOST_TEST(layer.parameters().empty());
    BOOST_TEST(layer.output_shape(Shape{2, 3, 4, 5}).str() == "(2, 60)");
    BOOST_TEST(layer.output_shape(Shape{2, 3, 7}).str() == "(2, 21)");
    BOOST_TEST(layer.output_shape(Shape{2, 3}).str() == "(2, 3)");
    BOOST_TEST(layer.output_shape(Shape{0, 8, 2, 2}).str() == "(0, 32)");
}

BOOST_AUTO_TEST_CASE(forward_keeps_storage_order) {
    // (n, c, y, x) is stored at (((n*H + y)*W + x)*C + c): feature (y*W + x)*C + c.
    const FlattenLayer layer = make();
    const Tensor in = testing::random_tensor(Shape{2, 3, 2, 2}, 3);
    auto state = layer.make_state();
    Tensor out;
    layer.forward(in, out, *state, RunContext{});
    BOOST_TEST(out.shape().str() == "(2, 12)");
    BOOST_TEST(!out.packed());
    // Element (n=1, c=2, y=1, x=0) is feature (1*2 + 0)*3 + 2 = 8 of sample 1.
    BOOST_TEST(out.sample(1)[8] == in[((1 * 2 + 1) * 2 + 0) * 3 + 2]);
    for (std::size_t i = 0; i < in.size(); ++i) BOOST_TEST(out[i] == in[i]);
}

BOOST_AUTO_TEST_CASE(gradient_check_and_accumulation) {
    FlattenLayer layer = make();
    const auto r = testing::check_gradients(layer, testing::random_tensor(Shape{2, 3, 4, 5}, 8));
    BOOST_TEST_INFO("worst " << r.worst_error << " at " << r.worst_where);
    BOOST_TEST(r.passed);
    BOOST_TEST(r.worst_error < 1e-4);

    const Tensor in(Shape{1, 2, 2}, {1, 2, 3, 4});
    auto state = layer.make_state();
    Tensor out;
    layer.forward(in, out, *state, RunContext{Mode::training});
    const Tensor d_out(Shape{1, 4}, {1, 1, 1, 1});
    Tensor d_in(Shape{1, 2, 2}, {5, 5, 5, 5});
    layer.backward(in, out, d_out, &d_in, *state, RunContext{Mode::training});
    for (std::size_t i = 0; i < 4; ++i) BOOST_TEST(d_in[i] == 6.0f);
}

BOOST_AUTO_TEST_CASE(bad_use) {
    const FlattenLayer layer = make();
    Tensor packed(Shape{1, 4, 10});
    packed.spans = {{0, 4}, {5, 5}};
    auto state = layer.make_state();
    Tensor out;
    BOOST_TEST(error_of<ShapeError>([&] { layer.forward(packed, out, *state, RunContext{}); }) ==
               "flatten 'flat': cannot flatten packed sequences (1, 4, 10) with 2 spans; use global pooling for text");
    BOOST_TEST(error_of<ShapeError>([&] { layer.output_shape(Shape{5}); }) ==
               "flatten 'flat': input (5) needs (batch, channels, ...)");
    BOOST_TEST(error_of<ConfigError>([] { FlattenLayer(LayerSpec{"flatten", "", {{"axis", "1"}}, {}}); }) ==
               "flatten: takes no settings, got 'axis'");
}
