#define BOOST_TEST_MODULE parallel
#include <boost/test/unit_test.hpp>

#include <cstring>

#include "test_helpers.h"

#include "gradient_check.h"
#include "textcnn/core/error.h"
#include "textcnn/nn/parallel.h"

using namespace textcnn;

namespace {

using textcnn::testing::error_of;

LayerSpec layer(const std::string& type, std::map<std::string, std::string> settings = {}) {
    return LayerSpec{type, "", std::move(settings), {}};
}

LayerSpec parallel(std::vector<std::vector<LayerSpec>> branches) {
    LayerSpec spec{"parallel", "p", {}, {}};
    spec.branches = std::move(branches);
    return spec;
}

LayerSpec conv(std::size_t filters, std::size_t kernel, const std::string& padding = "valid") {
    return layer("conv", {{"filters", std::to_string(filters)}, {"kernel", std::to_string(kernel)}, {"padding", padding}});
}

Tensor run(const Layer& l, const Tensor& in, LayerState& state, const RunContext& ctx = {}) {
    Tensor out;
    l.forward(in, out, state, ctx);
    return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(shapes_parameters_and_children) {
    ParallelLayer p(parallel({{layer("dense", {{"units", "3"}}), layer("tanh")}, {layer("dense", {{"units", "2"}})}}),
                    Shape{0, 4});
    BOOST_TEST(p.output_shape(Shape{6, 4}).str() == "(6, 5)");
    BOOST_TEST(p.branch_count() == 2u);
    BOOST_TEST(p.branch(0).size() == 2u);
    BOOST_TEST(p.children().size() == 3u);
    BOOST_TEST(p.children()[2]->spec().settings.at("in_units") == "4");  // filled in by make_layer
    const auto params = p.parameters();
    BOOST_REQUIRE(params.size() == 4u);
    std::size_t total = 0;
    for (const auto& info : params) total += info.size();
    BOOST_TEST(total == 4u * 3 + 3 + 4 * 2 + 2);
    BOOST_TEST(params[2].rows == 4u);
    BOOST_TEST(params[2].cols == 2u);
    BOOST_TEST(ParallelLayer::child_index(2, 1) == 3001u);
}

BOOST_AUTO_TEST_CASE(concatenates_branch_outputs_in_order) {
    // Kim's shape: two convolution widths, each max-pooled over time.
    const LayerSpec spec = parallel({{conv(3, 2), layer("relu"), layer("global_max_pool")},
                                     {conv(2, 3), layer("global_max_pool")}});
    ParallelLayer p(spec, Shape{0, 4, 7});
    auto bound = testing::bind_fresh(p);
    Rng rng(4);
    p.initialize(Initializer{}, rng);
    BOOST_TEST(p.output_shape(Shape{2, 4, 7}).str() == "(2, 5)");
    const Tensor in = testing::random_tensor(Shape{2, 4, 7}, 3);
    auto state = p.make_state();
    const Tensor out = run(p, in, *state);
    BOOST_TEST(out.shape().str() == "(2, 5)");

    // Each branch on its own, with the same weights, gives the matching channels.
    std::size_t channel = 0;
    for (std::size_t b = 0; b < 2; ++b) {
        Tensor x = in;
        for (const Layer* l : p.branch(b)) {
            auto s = l->make_state();
            x = run(*l, x, *s);
        }
        for (std::size_t n = 0; n < 2; ++n)
            for (std::size_t c = 0; c < x.shape().channels(); ++c)
                BOOST_TEST(out[n * 5 + channel + c] == x[n * x.shape().channels() + c]);
        channel += x.shape().channels();
    }
}

BOOST_AUTO_TEST_CASE(two_branch_gradient_checks) {
    {
        ParallelLayer p(parallel({{layer("dense", {{"units", "3"}}), layer("tanh")}, {layer("dense", {{"units", "2"}})}}),
                        Shape{0, 4});
        const auto r = testing::check_gradients(p, testing::random_tensor(Shape{3, 4}, 5));
        BOOST_TEST_INFO("dense branches: worst " << r.worst_error << " at " << r.worst_where);
        BOOST_TEST(r.passed);
        BOOST_TEST(r.checked == 3u * 4 + 25);
    }
    {
        ParallelLayer p(parallel({{conv(3, 2), layer("tanh"), layer("global_avg_pool")},
                                  {conv(2, 3, "same"), layer("sigmoid"), layer("global_avg_pool")}}),
                        Shape{0, 4, 7});
        const auto r = testing::check_gradients(p, testing::random_tensor(Shape{2, 4, 7}, 6));
        BOOST_TEST_INFO("conv branches: worst " << r.worst_error << " at " << r.worst_where);
        BOOST_TEST(r.passed);
    }
}

BOOST_AUTO_TEST_CASE(input_gradient_is_the_sum_of_the_branches) {
    ParallelLayer p(parallel({{layer("identity")}, {layer("identity")}}), Shape{0, 2});
    const Tensor in(Shape{1, 2}, {1, 2});
    auto state = p.make_state();
    const RunContext ctx{Mode::training};
    const Tensor out = run(p, in, *state, ctx);
    BOOST_TEST(std::vector<float>(out.values().begin(), out.values().end()) == std::vector<float>({1, 2, 1, 2}),
               boost::test_tools::per_element());
    const Tensor d_out(Shape{1, 4}, {10, 20, 30, 40});
    Tensor d_in(Shape{1, 2}, {1, 1});
    p.backward(in, out, d_out, &d_in, *state, ctx);
    BOOST_TEST(d_in[0] == 41.0f);
    BOOST_TEST(d_in[1] == 61.0f);
}

BOOST_AUTO_TEST_CASE(children_get_their_own_dropout_streams) {
    ParallelLayer p(parallel({{layer("dropout", {{"rate", "0.5"}})}, {layer("dropout", {{"rate", "0.5"}})}}),
                    Shape{0, 64});
    Tensor in(Shape{1, 64});
    in.fill(1.0f);
    auto state = p.make_state();
    const Tensor out = run(p, in, *state, RunContext{Mode::training, 1, 0, 0});
    BOOST_TEST(!std::equal(out.data(), out.data() + 64, out.data() + 64));
    // Branch 1's mask is the one of a dropout layer at index child_index(0, 1).
    for (std::size_t i = 0; i < 64; ++i) {
        const bool keep = unit_float(random_bits(1, 0xD0 + ParallelLayer::child_index(0, 1), i)) >= 0.5f;
        BOOST_TEST(out[64 + i] == (keep ? 2.0f : 0.0f));
    }
}

BOOST_AUTO_TEST_CASE(packed_input) {
    // Two sentences of lengths 4 and 3, packed with a gap of 2.
    Tensor in = testing::random_tensor(Shape{1, 3, 11}, 8);
    in.spans = {{1, 4}, {7, 3}};
    for (std::size_t q : {0, 5, 6, 10})
        for (std::size_t c = 0; c < 3; ++c) in[q * 3 + c] = 0.0f;
    ParallelLayer p(parallel({{conv(2, 2), layer("global_max_pool")}, {conv(3, 3), layer("global_max_pool")}}),
                    Shape{0, 3, 11});
    auto bound = testing::bind_fresh(p);
    Rng rng(1);
    p.initialize(Initializer{}, rng);
    auto state = p.make_state();
    const Tensor out = run(p, in, *state);
    BOOST_TEST(out.shape().str() == "(2, 5)");
    BOOST_TEST(!out.packed());

    // Packed branch outputs with different spans cannot be concatenated.
    ParallelLayer mismatch(parallel({{conv(2, 2, "same")}, {conv(2, 3, "same")}}), Shape{0, 3, 11});
    auto bound2 = testing::bind_fresh(mismatch);
    auto state2 = mismatch.make_state();
    BOOST_TEST(error_of<ShapeError>([&] { run(mismatch, in, *state2); }) ==
               "parallel 'p': branch outputs for input (1, 3, 11) cannot be concatenated along channels (they need the "
               "same batch, spatial shape and spans): branch 0 gives (1, 2, 11) with 2 spans, branch 1 gives (1, 2, 11) "
               "with 2 spans");
}

BOOST_AUTO_TEST_CASE(bad_use) {
    BOOST_TEST(error_of<ShapeError>([] { ParallelLayer(parallel({{conv(2, 3)}, {conv(2, 2)}}), Shape{0, 4, 6}); }) ==
               "parallel 'p': branch outputs cannot be concatenated along channels (they need the same batch and "
               "spatial shape) for input (0, 4, 6): branch 0 gives (0, 2, 4), branch 1 gives (0, 2, 5)");
    BOOST_TEST(error_of<ConfigError>([] { ParallelLayer(parallel({}), Shape{0, 4}); }) ==
               "parallel 'p': needs at least one branch");
    BOOST_TEST(error_of<ConfigError>([] { ParallelLayer(parallel({{layer("relu")}, {}}), Shape{0, 4}); }) ==
               "parallel 'p': branch 1 is empty");
    LayerSpec with_settings = parallel({{layer("relu")}});
    with_settings.settings["axis"] = "1";
    BOOST_TEST(error_of<ConfigError>([&] { ParallelLayer(with_settings, Shape{0, 4}); }) ==
               "parallel 'p': takes no settings (only branches), got 'axis'");
    // Errors inside a branch come from the child.
    BOOST_TEST(error_of<ShapeError>([] { ParallelLayer(parallel({{layer("dense", {{"units", "2"}})}}), Shape{0, 4, 6}); }) ==
               "dense: input (0, 4, 6) is not (batch, features); add a flatten or global pooling layer before dense");
}

namespace {

// Backward of two copies of `spec` with the same weights, one passing gradients after
// max-over-time pooling down as their non-zeros (the default), one dense: d_in and every
// parameter gradient must agree bit for bit.
void check_sparse_chain_matches_dense(const LayerSpec& spec, const Tensor& in, std::uint64_t seed) {
    BOOST_TEST_CONTEXT("input " << in.shape().str() << (in.packed() ? " packed" : "") << ", seed " << seed) {
        ParallelLayer chained(spec, in.shape()), dense(spec, in.shape());
        dense.set_sparse_chain(false);
        auto bound_chained = testing::bind_fresh(chained), bound_dense = testing::bind_fresh(dense);
        Rng rng_a(seed), rng_b(seed);
        chained.initialize(Initializer{}, rng_a);
        dense.initialize(Initializer{}, rng_b);
        const RunContext ctx{Mode::training, seed, 0, 0};
        auto state_chained = chained.make_state(), state_dense = dense.make_state();
        const Tensor out = run(chained, in, *state_chained, ctx);
        BOOST_TEST(out.values().size() == run(dense, in, *state_dense, ctx).values().size());
        // A gradient with dropout's zeros in it.
        Tensor d_out = testing::random_tensor(out.shape(), seed + 1);
        for (std::size_t i = 0; i < d_out.size(); i += 3) d_out[i] = 0.0f;
        Tensor d_in_chained(in.shape()), d_in_dense(in.shape());
        d_in_chained.fill(0.5f);  // accumulated into, as the layer contract says
        d_in_dense.fill(0.5f);
        chained.backward(in, out, d_out, &d_in_chained, *state_chained, ctx);
        dense.backward(in, out, d_out, &d_in_dense, *state_dense, ctx);
        BOOST_TEST(std::memcmp(d_in_chained.data(), d_in_dense.data(), in.size() * sizeof(float)) == 0);
        BOOST_REQUIRE(bound_chained.gradients.size() == bound_dense.gradients.size());
        for (std::size_t g = 0; g < bound_dense.gradients.size(); ++g) {
            BOOST_TEST_INFO("parameter " << g);
            BOOST_TEST(bound_chained.gradients[g] == bound_dense.gradients[g], boost::test_tools::per_element());
        }
    }
}

}  // namespace

BOOST_AUTO_TEST_CASE(sparse_gradient_chain_equals_the_dense_pass) {
    // Kim's branches (conv -> relu -> max over time), a branch without activation, one whose
    // tanh takes no part (the entries are written out dense there), identity in between, and
    // average pooling (dense throughout).
    const LayerSpec spec = parallel({{conv(4, 2, "full"), layer("relu"), layer("global_max_pool")},
                                     {conv(3, 3, "full"), layer("global_max_pool")},
                                     {conv(2, 2, "full"), layer("tanh"), layer("global_max_pool")},
                                     {conv(3, 3, "full"), layer("relu"), layer("identity"), layer("global_max_pool")},
                                     {conv(2, 2), layer("relu"), layer("global_avg_pool")}});
    // Long texts (the convolution's sparse path) and short ones (under 8 outputs per text, so
    // the convolution finds the gradient too dense and works dense).
    for (std::size_t length : {3, 4, 12, 40})
        check_sparse_chain_matches_dense(spec, testing::random_tensor(Shape{5, 6, length}, length), length);

    // Packed texts of lengths 9, 14 and 2 with gaps of 2 (the widest padding).
    Tensor packed(Shape{1, 6, 33});
    packed.spans = {{2, 9}, {13, 14}, {29, 2}};
    const Tensor values = testing::random_tensor(packed.shape(), 21);
    for (const SequenceSpan& s : packed.spans)
        std::copy_n(values.data() + s.offset * 6, s.length * 6, packed.data() + s.offset * 6);
    check_sparse_chain_matches_dense(spec, packed, 7);
}
