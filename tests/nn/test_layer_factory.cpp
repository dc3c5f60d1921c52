#define BOOST_TEST_MODULE layer_factory
#include <boost/test/unit_test.hpp>

#include "test_helpers.h"

#include "textcnn/nn/activation.h"
#include "textcnn/nn/conv.h"
#include "textcnn/nn/dense.h"
#include "textcnn/nn/dropout.h"
#include "textcnn/nn/embedding.h"
#include "textcnn/core/error.h"
#include "textcnn/nn/flatten.h"
#include "textcnn/nn/parallel.h"
#include "textcnn/nn/pooling.h"

using namespace textcnn;

namespace {

using textcnn::testing::error_of;

LayerSpec layer(const std::string& type, std::map<std::string, std::string> settings = {}) {
    return LayerSpec{type, "", std::move(settings), {}};
}

template <typename T>
bool builds(const LayerSpec& spec, const Shape& input) {
    return dynamic_cast<T*>(make_layer(spec, input).get()) != nullptr;
}

}  // namespace

BOOST_AUTO_TEST_CASE(every_type_builds_its_class) {
    const Shape image{0, 3, 8, 8};
    const Shape features{0, 10};
    BOOST_TEST(builds<ConvLayer>(layer("conv", {{"filters", "4"}, {"kernel", "3,3"}}), image));
    BOOST_TEST(builds<PoolLayer>(layer("max_pool", {{"window", "2,2"}}), image));
    BOOST_TEST(builds<PoolLayer>(layer("avg_pool", {{"window", "2,2"}}), image));
    BOOST_TEST(builds<GlobalPoolLayer>(layer("global_max_pool"), image));
    BOOST_TEST(builds<GlobalPoolLayer>(layer("global_avg_pool"), image));
    BOOST_TEST(builds<DenseLayer>(layer("dense", {{"units", "2"}}), features));
    BOOST_TEST(builds<FlattenLayer>(layer("flatten"), image));
    BOOST_TEST(builds<DropoutLayer>(layer("dropout", {{"rate", "0.5"}}), features));
    for (const char* type : {"relu", "tanh", "sigmoid", "identity"}) BOOST_TEST(builds<ActivationLayer>(layer(type), image));
    BOOST_TEST(builds<EmbeddingLayer>(layer("embedding", {{"vocab", "100"}, {"dim", "8"}}), Shape{0, 1, 20}));
    LayerSpec par = layer("parallel");
    par.branches = {{layer("relu")}, {layer("tanh")}};
    BOOST_TEST(builds<ParallelLayer>(par, image));
}

BOOST_AUTO_TEST_CASE(derived_settings_come_from_the_input_shape) {
    const auto dense = make_layer(layer("dense", {{"units", "2"}}), Shape{0, 300});
    BOOST_TEST(dense->spec().settings.at("in_units") == "300");
    BOOST_TEST(dense->parameters()[0].rows == 300u);
    BOOST_TEST(dense->output_shape(Shape{5, 300}).str() == "(5, 2)");

    const auto conv = make_layer(layer("conv", {{"filters", "100"}, {"kernel", "3"}}), Shape{0, 50, 20});
    BOOST_TEST(conv->spec().settings.at("in_channels") == "50");
    BOOST_TEST(conv->parameters()[0].rows == 150u);  // 3 positions x 50 channels
    BOOST_TEST(conv->output_shape(Shape{1, 50, 20}).str() == "(1, 100, 18)");

    // A stale value (e.g. from an edited architecture file) is replaced.
    const auto again = make_layer(layer("dense", {{"units", "2"}, {"in_units", "7"}}), Shape{0, 9});
    BOOST_TEST(again->spec().settings.at("in_units") == "9");

    // Recursively inside parallel branches, each from its own predecessor's output.
    LayerSpec par = layer("parallel");
    par.branches = {{layer("conv", {{"filters", "6"}, {"kernel", "2"}}), layer("global_max_pool"),
                     layer("dense", {{"units", "3"}})}};
    const auto p = make_layer(par, Shape{0, 5, 9});
    BOOST_TEST(p->children()[0]->spec().settings.at("in_channels") == "5");
    BOOST_TEST(p->children()[2]->spec().settings.at("in_units") == "6");
    BOOST_TEST(p->output_shape(Shape{4, 5, 9}).str() == "(4, 3)");
}

BOOST_AUTO_TEST_CASE(bad_use) {
    BOOST_TEST(error_of<ConfigError>([] { make_layer(LayerSpec{"lstm", "rnn", {}, {}}, Shape{0, 4}); }) ==
               "lstm 'rnn': unknown layer type 'lstm' (known types: conv, max_pool, avg_pool, global_max_pool, "
               "global_avg_pool, dense, flatten, dropout, relu, tanh, sigmoid, identity, embedding, ngram_bag, parallel)");
    BOOST_TEST(error_of<ShapeError>([] { make_layer(LayerSpec{"dense", "out", {{"units", "2"}}, {}}, Shape{0, 8, 4, 4}); }) ==
               "dense 'out': input (0, 8, 4, 4) is not (batch, features); add a flatten or global pooling layer "
               "before dense 'out'");
    LayerSpec relu = layer("relu");
    relu.branches = {{layer("tanh")}};
    BOOST_TEST(error_of<ConfigError>([&] { make_layer(relu, Shape{0, 4}); }) == "relu: only parallel layers have branches");
    // Shape errors surface when the layer is built, not at the first batch.
    BOOST_TEST(error_of<ShapeError>([] {
                   make_layer(layer("embedding", {{"vocab", "10"}, {"dim", "2"}}), Shape{0, 3, 5});
               }) == "embedding: input (0, 3, 5) must hold token ids as (batch, 1, length)");
    BOOST_TEST(error_of<ShapeError>([] { make_layer(layer("conv", {{"filters", "2"}, {"kernel", "5"}}), Shape{0, 3, 4}); })
                   .starts_with("conv: input (0, 3, 4) is too small for kernel 5"));
}
