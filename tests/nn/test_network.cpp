#define BOOST_TEST_MODULE network
#include <boost/test/unit_test.hpp>

#include "textcnn/core/checked.h"
#include "textcnn/core/error.h"
#include "textcnn/nn/network.h"

#include "gradient_check.h"

#include <cmath>
#include <thread>

using namespace textcnn;

namespace {

LayerSpec layer(std::string type, std::string name = "", std::map<std::string, std::string> settings = {}) {
    return LayerSpec{std::move(type), std::move(name), std::move(settings), {}};
}

ModelSpec kim_spec() {
    auto branch = [](const std::string& width) {
        return std::vector<LayerSpec>{layer("conv", "conv_" + width, {{"filters", "3"}, {"kernel", width}}), layer("relu"),
                                      layer("global_max_pool")};
    };
    LayerSpec parallel = layer("parallel", "convs");
    parallel.branches = {branch("2"), branch("3")};
    return {layer("embedding", "emb", {{"vocab", "20"}, {"dim", "4"}}), parallel, layer("dropout", "", {{"rate", "0.5"}}),
            layer("dense", "output", {{"units", "2"}})};
}

ModelSpec image_spec() {
    return {layer("conv", "conv_1", {{"filters", "2"}, {"kernel", "3,3"}}), layer("tanh"),
            layer("max_pool", "pool", {{"window", "2,2"}}), layer("flatten"), layer("dense", "output", {{"units", "3"}})};
}

Tensor kim_input() { return Tensor(Shape{2, 1, 7}, {2, 5, 9, 13, 1, 0, 0, 19, 3, 3, 7, 11, 17, 4}); }

bool message_is(const Error& e, const std::string& expected) {
    if (e.what() == expected) return true;
    BOOST_TEST_MESSAGE("got: " << e.what());
    return false;
}

// L = sum(logits * weights): dL/dlogits = weights.
double objective(const Network& net, const Tensor& input, const Tensor& weights, const RunContext& ctx) {
    auto ws = net.make_workspace();
    const Tensor& out = net.forward(input, ws, ctx);
    double s = 0.0;
    for (std::size_t i = 0; i < out.size(); ++i) s += double(out[i]) * weights[i];
    return s;
}

}  // namespace

// The checked size arithmetic every size read from a file goes through (core/checked.h).
BOOST_AUTO_TEST_CASE(checked_arithmetic_throws_instead_of_wrapping) {
    constexpr std::size_t big = std::size_t{1} << 32;
    BOOST_TEST(checked_mul(big - 1, big + 1, "x") == big * big - 1);
    BOOST_TEST(checked_add(~std::size_t{0} - 1, 1, "x") == ~std::size_t{0});
    BOOST_CHECK_EXCEPTION(checked_mul(big, big, "embedding table"), ShapeError, [](const ShapeError& e) {
        return std::string(e.what()) == "embedding table: 4294967296 x 4294967296 overflows";
    });
    BOOST_CHECK_EXCEPTION(checked_add(~std::size_t{0}, 1, "total"), ShapeError, [](const ShapeError& e) {
        return std::string(e.what()) == "total: 18446744073709551615 + 1 overflows";
    });
    BOOST_CHECK_EXCEPTION(checked_limit(5, 4, "filters"), ShapeError, [](const ShapeError& e) {
        return std::string(e.what()) == "filters is 5, above the limit of 4";
    });
    // A shape whose element count would wrap cannot be made; nor can a parameter's size.
    BOOST_CHECK_THROW(Shape({big, big, 2}), ShapeError);
    BOOST_CHECK_THROW(Shape({0, big, big, 2}), ShapeError);
    BOOST_CHECK_THROW((ParameterInfo{"w", big, big}.size()), ShapeError);
}

// Network::parameter_count() checks what the constructor checks, without allocating.
BOOST_AUTO_TEST_CASE(parameter_count_without_allocating) {
    const ModelSpec spec = {{"embedding", "emb", {{"vocab", "1000"}, {"dim", "1048576"}}, {}},
                            {"global_max_pool", "", {}, {}}, {"dense", "out", {{"units", "2"}}, {}}};
    BOOST_TEST(Network::parameter_count(spec, Shape{1, 1, 5}) == 1000u * 1048576u + 1048576u * 2u + 2u);
    const ModelSpec too_many = {{"embedding", "emb", {{"vocab", "65536"}, {"dim", "65536"}}, {}}};
    BOOST_CHECK_EXCEPTION(Network::parameter_count(too_many, Shape{1, 1, 5}), ShapeError, [](const ShapeError& e) {
        return std::string(e.what()) ==
               "network: the parameter count up to embedding 'emb' is 4294967296, above the limit of 1073741824";
    });
    BOOST_CHECK_THROW(Network(too_many, Shape{1, 1, 5}), ShapeError);
}

// Each layer's output below the per-sample bound is not enough: the whole forward pass of one
// sample is bounded, scratch included, before anything is allocated. Three 2x2 convolutions
// of dilation 4095 with full padding grow a 28x28 image to 12313x12313 (a 1.5 KB model file
// that took 4.6 GB and 17 s per image).
BOOST_AUTO_TEST_CASE(one_sample_forward_pass_is_bounded) {
    const auto dilated = [](const std::string& name) {
        return layer("conv", name, {{"filters", "1"}, {"kernel", "2,2"}, {"dilation", "4095,4095"}, {"padding", "full"}});
    };
    ModelSpec spec = {dilated("c1")};
    // One such layer is within the bound: 4123x4123 outputs, four times as many im2col columns.
    BOOST_TEST(Network::parameter_count(spec, Shape{1, 1, 28, 28}) == 5u);
    spec.push_back(dilated("c2"));
    spec.push_back(dilated("c3"));
    BOOST_CHECK_EXCEPTION(Network::parameter_count(spec, Shape{1, 1, 28, 28}), ShapeError, [](const ShapeError& e) {
        return std::string(e.what()) ==
               "network: one sample's forward pass up to conv 'c2' needs 354677533 floats (84535437 for the layers' "
               "outputs, 270142096 for the scratch of conv 'c2'), above the limit of 268435456 (1 GiB)";
    });
    // The same inside a parallel layer's branch, whose outputs are held until concatenated.
    const ModelSpec branched = {{"parallel", "p", {}, {{dilated("b1"), dilated("b2")}}}};
    BOOST_CHECK_THROW(Network::parameter_count(branched, Shape{1, 1, 28, 28}), ShapeError);
    // A 1D convolution may run over distinct columns, whose products are taps x filters per
    // column: counted, as a text network's cost per token (2000 maps of width 100 on a
    // 1-dimensional embedding: 200,000 floats per token, where im2col says 100).
    const ModelSpec text = {{"embedding", "e", {{"vocab", "50"}, {"dim", "1"}}, {}},
                            layer("conv", "c", {{"filters", "2000"}, {"kernel", "100"}, {"padding", "full"}})};
    const std::size_t per_token =
        (Network::activation_elements(text, Shape{1, 1, 1001}) - Network::activation_elements(text, Shape{1, 1, 1})) / 1000;
    BOOST_TEST(per_token >= 100u * 2000u);
    // A wide but ordinary network passes: 64 maps of 512x512 in two layers.
    const ModelSpec wide = {layer("conv", "a", {{"filters", "64"}, {"kernel", "3,3"}, {"padding", "same"}}),
                            layer("conv", "b", {{"filters", "64"}, {"kernel", "3,3"}, {"padding", "same"}})};
    BOOST_TEST(Network::parameter_count(wide, Shape{1, 3, 512, 512}) == 64u * 27u + 64u + 64u * 576u + 64u);
}

BOOST_AUTO_TEST_CASE(parameter_count_follows_the_article) {
    // 8 filters of 3x3x3 plus one bias each: 8 * 27 + 8 = 224.
    Network net({layer("conv", "conv_1", {{"filters", "8"}, {"kernel", "3,3"}})}, Shape{1, 3, 28, 28});
    BOOST_TEST(net.parameter_count() == 224u);
    BOOST_TEST(net.trainable_parameter_count() == 224u);
    BOOST_TEST((net.output_shape(5) == Shape{5, 8, 26, 26}));
    const auto rows = net.summary();
    BOOST_REQUIRE_EQUAL(rows.size(), 1u);
    BOOST_TEST(rows[0].parameters == 224u);
    BOOST_TEST((rows[0].output_shape == Shape{0, 8, 26, 26}));
    BOOST_TEST(rows[0].details == "8 filters 3x3, stride 1, valid");
    const std::string table = net.summary_table();
    BOOST_TEST_MESSAGE("\n" << table);
    BOOST_TEST(table.find(" conv 'conv_1'   (None, 8, 26, 26)       224   8 filters 3x3, stride 1, valid\n") != std::string::npos);
    BOOST_TEST(table.find("Total params: 224 (896 B)\nTrainable params: 224 (896 B)\nNon-trainable params: 0 (0 B)\n") !=
               std::string::npos);
    // Described without its weights (a quantized model's architecture): no trainable counts.
    const std::string described = net.summary_table(Network::Weights::not_stored);
    BOOST_TEST(described.find("Params of the architecture: 224 (896 B as floats; not stored in this model)\n") !=
               std::string::npos, described);
    BOOST_TEST(described.find("Trainable") == std::string::npos, described);
}

BOOST_AUTO_TEST_CASE(groups_cover_the_block_in_layer_order) {
    Network net(kim_spec(), Shape{1, 1, 7});
    // table 4 x 20; conv_2 (2*4) x 3 + 3; conv_3 (3*4) x 3 + 3; dense 6 x 2 + 2.
    BOOST_TEST(net.parameter_count() == 80u + 27u + 39u + 14u);
    const auto& g = net.groups();
    BOOST_REQUIRE_EQUAL(g.size(), 7u);
    std::size_t offset = 0;
    for (const auto& group : g) {
        BOOST_TEST(group.offset == offset);
        offset += group.info.size();
    }
    BOOST_TEST(offset == net.parameter_count());
    BOOST_TEST(g[0].layer_label == "embedding 'emb'");
    BOOST_TEST(g[0].info.sparse_columns);
    BOOST_TEST(g[1].layer_label == "parallel 'convs'");  // children's parameters come through the parent
    BOOST_TEST(g[1].info.rows == 8u);
    BOOST_TEST(g[3].info.rows == 12u);
    BOOST_TEST(g[5].layer_label == "dense 'output'");
    BOOST_TEST(g[5].info.max_norm_columns);
    BOOST_TEST((net.output_shape(2) == Shape{2, 2}));
    // layer_groups(i): the slice of groups() that belongs to top-level layer i.
    const std::vector<std::size_t> first = {0, 1, 5, 5}, count = {1, 4, 0, 2};
    BOOST_REQUIRE_EQUAL(net.layer_count(), 4u);  // embedding, parallel, dropout, dense
    for (std::size_t i = 0; i < net.layer_count(); ++i) {
        const auto slice = net.layer_groups(i);
        BOOST_TEST(slice.size() == count[i]);
        if (!slice.empty()) BOOST_TEST(&slice.front() == &g[first[i]]);
    }
}

BOOST_AUTO_TEST_CASE(summary_indents_children_with_their_shapes) {
    Network net(kim_spec(), Shape{1, 1, 7});
    const auto rows = net.summary();
    BOOST_REQUIRE_EQUAL(rows.size(), 10u);
    BOOST_TEST(rows[0].label == "embedding 'emb'");
    BOOST_TEST((rows[0].output_shape == Shape{0, 4, 7}));
    BOOST_TEST(rows[0].details == "vocab 20, dim 4, non-static");
    BOOST_TEST(rows[1].label == "parallel 'convs'");
    BOOST_TEST(rows[1].parameters == 66u);
    BOOST_TEST((rows[1].output_shape == Shape{0, 6}));
    BOOST_TEST(rows[2].depth == 1);
    BOOST_TEST(rows[2].label == "conv 'conv_2'");
    BOOST_TEST((rows[2].output_shape == Shape{0, 3, 6}));
    BOOST_TEST(rows[2].parameters == 27u);
    BOOST_TEST((rows[4].output_shape == Shape{0, 3}));
    BOOST_TEST(rows[5].label == "conv 'conv_3'");
    BOOST_TEST((rows[5].output_shape == Shape{0, 3, 5}));
    BOOST_TEST(rows[1].details == "2 branches, concatenated");
    BOOST_TEST(rows[8].details == "rate 0.5");
    BOOST_TEST(rows[9].depth == 0);
    BOOST_TEST(rows[9].details == "2 units");
    const std::string table = net.summary_table();
    BOOST_TEST_MESSAGE("\n" << table);
    BOOST_TEST(table.find("\n   conv 'conv_3'     (None, 3, 5)        39   3 filters of width 3, stride 1, valid\n") != std::string::npos);
    BOOST_TEST(table.find("Total params: 160 (640 B)\n") != std::string::npos);

    ModelSpec frozen = kim_spec();
    frozen[0].settings["mode"] = "static";
    const Network static_net(frozen, Shape{1, 1, 7});
    BOOST_TEST(static_net.trainable_parameter_count() == 80u);
    BOOST_TEST(static_net.summary_table().find("Non-trainable params: 80 (320 B)\n") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(initialisation_is_seeded) {
    Network a(kim_spec(), Shape{1, 1, 7}), b(kim_spec(), Shape{1, 1, 7});
    a.initialize({}, 5);
    b.initialize({}, 5);
    BOOST_TEST(std::equal(a.parameters().begin(), a.parameters().end(), b.parameters().begin()));
    b.initialize({}, 6);
    BOOST_TEST(!std::equal(a.parameters().begin(), a.parameters().end(), b.parameters().begin()));
    // Padding id 0 stays a zero vector.
    for (std::size_t r = 0; r < 4; ++r) BOOST_TEST(a.parameters()[r] == 0.0f);
    // Every layer draws from its own stream: the dense weights do not depend on the table size.
    ModelSpec bigger = kim_spec();
    bigger[0].settings["vocab"] = "30";
    Network c(bigger, Shape{1, 1, 7});
    c.initialize({}, 5);
    const auto& ga = a.groups()[5];
    const auto& gc = c.groups()[5];
    BOOST_TEST(std::equal(a.parameters().begin() + long(ga.offset), a.parameters().begin() + long(ga.offset + ga.info.size()),
                          c.parameters().begin() + long(gc.offset)));
}

// Network-level finite differences: the stack's forward/backward, input gradient included.
BOOST_AUTO_TEST_CASE(backward_matches_finite_differences) {
    Network net(image_spec(), Shape{1, 1, 6, 6});
    net.initialize({Initializer::Kind::uniform, 0.5f}, 11);
    for (std::size_t i = 0; i < net.parameter_count(); ++i)
        if (net.parameters()[i] == 0.0f) net.parameters()[i] = 0.1f * float(i % 7) - 0.3f;  // biases
    const Tensor input = testing::random_tensor(Shape{2, 1, 6, 6}, 3);
    const RunContext ctx{Mode::training, 1, 0, 0};
    auto ws = net.make_workspace();
    const Tensor& out = net.forward(input, ws, ctx);
    const Tensor weights = testing::random_tensor(out.shape(), 4);
    net.backward(input, weights, ws, ctx, true);
    const std::vector<float> grads(net.gradients().begin(), net.gradients().end());
    const Tensor d_input = ws.d_input;
    BOOST_TEST((d_input.shape() == input.shape()));

    const float h = 1e-2f;
    double worst = 0.0;
    auto scaled_error = [](double a, double n) { return std::abs(a - n) / std::max({1.0, std::abs(a), std::abs(n)}); };
    for (std::size_t i = 0; i < net.parameter_count(); ++i) {
        const float saved = net.parameters()[i];
        net.parameters()[i] = saved + h;
        const double plus = objective(net, input, weights, ctx);
        net.parameters()[i] = saved - h;
        const double minus = objective(net, input, weights, ctx);
        net.parameters()[i] = saved;
        worst = std::max(worst, scaled_error(grads[i], (plus - minus) / (2 * h)));
    }
    Tensor probe = input;
    for (std::size_t i = 0; i < input.size(); ++i) {
        const float saved = probe[i];
        probe[i] = saved + h;
        const double plus = objective(net, probe, weights, ctx);
        probe[i] = saved - h;
        const double minus = objective(net, probe, weights, ctx);
        probe[i] = saved;
        worst = std::max(worst, scaled_error(d_input[i], (plus - minus) / (2 * h)));
    }
    BOOST_TEST(worst < 2e-2);

    // A second backward assigns the same gradients: input gradients do not pile up across calls.
    net.backward(input, weights, ws, ctx, true);
    BOOST_TEST(std::equal(grads.begin(), grads.end(), net.gradients().begin()));
    BOOST_TEST(std::equal(d_input.values().begin(), d_input.values().end(), ws.d_input.values().begin()));
}

BOOST_AUTO_TEST_CASE(kim_network_forward_backward) {
    Network net(kim_spec(), Shape{1, 1, 7});
    net.initialize({}, 1);
    auto ws = net.make_workspace();
    const Tensor input = kim_input();
    const RunContext ctx{Mode::training, 9, 3, 0};
    const Tensor& out = net.forward(input, ws, ctx);
    BOOST_TEST((out.shape() == Shape{2, 2}));
    Tensor d(out.shape());
    d.fill(1.0f);
    net.backward(input, d, ws, ctx);
    // The table gradient is assigned in the columns of the ids in the batch only.
    BOOST_TEST((net.groups()[0].touched_columns == std::vector<std::uint32_t>{1, 2, 3, 4, 5, 7, 9, 11, 13, 17, 19}));
    BOOST_TEST(ws.d_input.size() == 0u);  // not asked for
    double dense_norm = 0.0;
    for (std::size_t i = net.groups()[5].offset; i < net.parameter_count(); ++i) dense_norm += std::abs(net.gradients()[i]);
    BOOST_TEST(dense_norm > 0.0);
}

BOOST_AUTO_TEST_CASE(moved_network_keeps_its_bindings) {
    Network a(image_spec(), Shape{1, 1, 6, 6});
    a.initialize({}, 3);
    const Tensor input = testing::random_tensor(Shape{1, 1, 6, 6}, 8);
    auto ws = a.make_workspace();
    const Tensor before = a.forward(input, ws, {});
    Network b = std::move(a);
    auto ws_b = b.make_workspace();
    const Tensor after = b.forward(input, ws_b, {});
    BOOST_TEST(std::equal(before.values().begin(), before.values().end(), after.values().begin()));
    std::fill(b.parameters().begin(), b.parameters().end(), 0.0f);
    const Tensor zero = b.forward(input, ws_b, {});
    for (float v : zero.values()) BOOST_TEST(v == 0.0f);
}

BOOST_AUTO_TEST_CASE(inference_from_many_threads) {
    Network net(kim_spec(), Shape{1, 1, 7});
    net.initialize({}, 2);
    const Tensor input = kim_input();
    auto ws = net.make_workspace();
    const Tensor expected = net.forward(input, ws, {});
    std::vector<Tensor> results(4);
    std::vector<std::thread> threads;
    for (std::size_t t = 0; t < results.size(); ++t)
        threads.emplace_back([&, t] {
            auto own = net.make_workspace();
            for (int k = 0; k < 20; ++k) results[t] = net.forward(input, own, {});
        });
    for (auto& t : threads) t.join();
    for (const auto& r : results) BOOST_TEST(std::equal(r.values().begin(), r.values().end(), expected.values().begin()));
}

BOOST_AUTO_TEST_CASE(bad_use_names_the_layer_and_the_shapes) {
    BOOST_CHECK_EXCEPTION(Network({}, Shape{1, 3}), ConfigError,
                          [](const ConfigError& e) { return message_is(e, "network: the model has no layers"); });
    BOOST_CHECK_EXCEPTION(Network(image_spec(), Shape{1, 1, 0, 6}), ShapeError, [](const ShapeError& e) {
        return message_is(e, "conv 'conv_1': input shape (None, 1, 0, 6) is empty");
    });
    // dense straight after a convolution: the factory asks for a flatten.
    BOOST_CHECK_EXCEPTION(Network({layer("conv", "c", {{"filters", "2"}, {"kernel", "3,3"}}), layer("dense", "d", {{"units", "2"}})},
                                  Shape{1, 1, 6, 6}),
                          ShapeError, [](const ShapeError& e) { return std::string(e.what()).starts_with("dense 'd'"); });
    Network net(image_spec(), Shape{1, 1, 6, 6});
    auto ws = net.make_workspace();
    BOOST_CHECK_EXCEPTION(net.forward(Tensor(Shape{2, 3, 6, 6}), ws, {}), ShapeError, [](const ShapeError& e) {
        return message_is(e, "conv 'conv_1': input shape (2, 3, 6, 6) does not fit the model's sample shape (None, 1, 6, 6)");
    });
    BOOST_CHECK_EXCEPTION(net.forward(Tensor(Shape{0, 1, 6, 6}), ws, {}), ShapeError, [](const ShapeError& e) {
        return message_is(e, "conv 'conv_1': empty input of shape (0, 1, 6, 6) (model sample shape (None, 1, 6, 6))");
    });
    const RunContext training{Mode::training, 1, 0, 0};
    const Tensor input(Shape{2, 1, 6, 6});
    net.forward(input, ws, training);
    BOOST_CHECK_EXCEPTION(net.backward(input, Tensor(Shape{2, 4}), ws, training), ShapeError, [](const ShapeError& e) {
        return message_is(e, "dense 'output': output gradient shape (2, 4) differs from the output shape (2, 3)");
    });
    Network other(kim_spec(), Shape{1, 1, 7});
    auto other_ws = other.make_workspace();
    BOOST_CHECK_THROW(net.forward(input, other_ws, {}), ConfigError);
}
