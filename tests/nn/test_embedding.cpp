#define BOOST_TEST_MODULE embedding
#include <boost/test/unit_test.hpp>

#include "test_helpers.h"

#include "gradient_check.h"
#include "textcnn/nn/embedding.h"
#include "textcnn/core/error.h"
#include "textcnn/core/runtime.h"

#include <cmath>
#include <limits>

using namespace textcnn;

namespace {

using textcnn::testing::error_of;

LayerSpec spec(std::size_t vocab, std::size_t dim, const std::string& mode = "non-static") {
    return LayerSpec{"embedding", "emb", {{"vocab", std::to_string(vocab)}, {"dim", std::to_string(dim)}, {"mode", mode}},
                     {}};
}

// Table value of (word, d) in the hand-made tables below: easy to recognise.
float cell(std::size_t word, std::size_t d) { return static_cast<float>(word) + 0.1f * static_cast<float>(d); }

void fill_tables(testing::BoundParameters& p, std::size_t dim) {
    for (std::size_t t = 0; t < p.values.size(); ++t)
        for (std::size_t i = 0; i < p.values[t].size(); ++i)
            p.values[t][i] = (t == 0 ? 1.0f : -1.0f) * cell(i / dim, i % dim);
}

Tensor ids(const Shape& shape, std::vector<float> values) { return Tensor(shape, std::move(values)); }

}  // namespace

BOOST_AUTO_TEST_CASE(shapes_and_parameters) {
    const EmbeddingLayer layer(spec(10, 4));
    BOOST_TEST(layer.output_shape(Shape{2, 1, 5}).str() == "(2, 4, 5)");
    auto params = layer.parameters();
    BOOST_REQUIRE(params.size() == 1u);
    BOOST_TEST(params[0].name == "table");
    BOOST_TEST(params[0].rows == 4u);
    BOOST_TEST(params[0].cols == 10u);
    BOOST_TEST(params[0].sparse_columns);
    BOOST_TEST(!params[0].max_norm_columns);
    BOOST_TEST(params[0].trainable);

    const EmbeddingLayer frozen(spec(10, 4, "static"));
    BOOST_TEST(!frozen.parameters()[0].trainable);
    const EmbeddingLayer untrainable(LayerSpec{"embedding", "", {{"vocab", "3"}, {"dim", "2"}, {"trainable", "false"}}, {}});
    BOOST_TEST(!untrainable.parameters()[0].trainable);

    const EmbeddingLayer multi(spec(10, 4, "multichannel"));
    BOOST_TEST(multi.output_shape(Shape{2, 1, 5}).str() == "(2, 8, 5)");
    params = multi.parameters();
    BOOST_REQUIRE(params.size() == 2u);
    BOOST_TEST(params[0].name == "table");
    BOOST_TEST(params[0].trainable);
    BOOST_TEST(params[1].name == "static_table");
    BOOST_TEST(!params[1].trainable);
    BOOST_TEST(params[1].sparse_columns);
    BOOST_TEST(params[1].size() == 40u);

    // What a summary shows: the values in use, one line.
    BOOST_TEST(layer.details() == "vocab 10, dim 4, non-static");
    BOOST_TEST(frozen.details() == "vocab 10, dim 4, static");
    BOOST_TEST(untrainable.details() == "vocab 3, dim 2, non-static, frozen");
    BOOST_TEST(multi.details() == "vocab 10, dim 4, multichannel");
    LayerSpec dropping = spec(10, 4);
    dropping.settings["word_dropout"] = "0.25";
    BOOST_TEST(EmbeddingLayer(dropping).details() == "vocab 10, dim 4, non-static, word dropout 0.25");
}

BOOST_AUTO_TEST_CASE(forward_gathers_columns_and_zeroes_padding) {
    EmbeddingLayer layer(spec(6, 3));
    auto p = testing::bind_fresh(layer);
    fill_tables(p, 3);  // column 0 is nonzero on purpose: id 0 must still give zeros
    const Tensor in = ids(Shape{2, 1, 3}, {3, 1, 0, 5, 5, 2});
    auto state = layer.make_state();
    Tensor out;
    layer.forward(in, out, *state, RunContext{});
    BOOST_TEST(out.shape().str() == "(2, 3, 3)");
    const float words[] = {3, 1, 0, 5, 5, 2};
    for (std::size_t q = 0; q < 6; ++q)
        for (std::size_t d = 0; d < 3; ++d)
            BOOST_TEST(out[q * 3 + d] == (words[q] == 0 ? 0.0f : cell(static_cast<std::size_t>(words[q]), d)));
}

BOOST_AUTO_TEST_CASE(multichannel_is_frozen_then_trainable) {
    EmbeddingLayer layer(spec(4, 2, "multichannel"));
    auto p = testing::bind_fresh(layer);
    fill_tables(p, 2);  // table = +cell, static_table = -cell
    const Tensor in = ids(Shape{1, 1, 2}, {2, 0});
    auto state = layer.make_state();
    Tensor out;
    layer.forward(in, out, *state, RunContext{});
    BOOST_TEST(out.shape().str() == "(1, 4, 2)");
    const std::vector<float> expected{-cell(2, 0), -cell(2, 1), cell(2, 0), cell(2, 1), 0, 0, 0, 0};
    BOOST_TEST(std::vector<float>(out.values().begin(), out.values().end()) == expected,
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(packed_input) {
    EmbeddingLayer layer(spec(6, 2));
    auto p = testing::bind_fresh(layer);
    fill_tables(p, 2);
    Tensor in = ids(Shape{1, 1, 7}, {0, 4, 2, 0, 0, 5, 0});
    in.spans = {{1, 2}, {5, 1}};
    auto state = layer.make_state();
    Tensor out;
    layer.forward(in, out, *state, RunContext{});
    BOOST_TEST(out.shape().str() == "(1, 2, 7)");
    BOOST_TEST((out.spans == in.spans));
    BOOST_TEST(out[2] == cell(4, 0));
    BOOST_TEST(out[11] == cell(5, 1));
    for (std::size_t q : {0, 3, 4, 6}) BOOST_TEST(out[2 * q] == 0.0f);
}

BOOST_AUTO_TEST_CASE(sparse_backward_by_hand) {
    EmbeddingLayer layer(spec(8, 2));
    auto p = testing::bind_fresh(layer);
    fill_tables(p, 2);
    const RunContext ctx{Mode::training};
    auto state = layer.make_state();
    // Word 3 at (0,0), (0,2), (1,2); word 1 at (0,1); word 5 at (1,1); padding at (1,0).
    const Tensor in = ids(Shape{2, 1, 3}, {3, 1, 3, 0, 5, 3});
    Tensor out;
    layer.forward(in, out, *state, ctx);
    Tensor d_out(out.shape());
    for (std::size_t i = 0; i < d_out.size(); ++i) d_out[i] = static_cast<float>(i + 1);  // position q: (2q+1, 2q+2)
    layer.backward(in, out, d_out, nullptr, *state, ctx);
    BOOST_TEST(p.touched[0] == std::vector<std::uint32_t>({1, 3, 5}), boost::test_tools::per_element());
    const auto& g = p.gradients[0];
    BOOST_TEST(g[3 * 2 + 0] == 1.0f + 5.0f + 11.0f);  // positions 0, 2, 5
    BOOST_TEST(g[3 * 2 + 1] == 2.0f + 6.0f + 12.0f);
    BOOST_TEST(g[1 * 2 + 0] == 3.0f);
    BOOST_TEST(g[5 * 2 + 1] == 10.0f);
    for (std::size_t w : {0, 2, 4, 6, 7}) BOOST_TEST((g[w * 2] == 0.0f && g[w * 2 + 1] == 0.0f));

    // The next batch: last time's columns go back to 0, only the new ones are set.
    const Tensor next = ids(Shape{1, 1, 3}, {2, 2, 0});
    layer.forward(next, out, *state, ctx);
    d_out.resize(out.shape());
    d_out.fill(1.0f);
    Tensor d_in(next.shape());
    layer.backward(next, out, d_out, &d_in, *state, ctx);
    BOOST_TEST(p.touched[0] == std::vector<std::uint32_t>({2}), boost::test_tools::per_element());
    for (std::size_t i = 0; i < g.size(); ++i) BOOST_TEST(g[i] == (i / 2 == 2 ? 2.0f : 0.0f));
    for (float v : d_in.values()) BOOST_TEST(v == 0.0f);  // ids are not differentiable
}

BOOST_AUTO_TEST_CASE(frozen_tables_get_no_gradient) {
    EmbeddingLayer layer(spec(5, 2, "static"));
    auto p = testing::bind_fresh(layer);
    const RunContext ctx{Mode::training};
    auto state = layer.make_state();
    const Tensor in = ids(Shape{1, 1, 2}, {1, 4});
    Tensor out;
    layer.forward(in, out, *state, ctx);
    Tensor d_out(out.shape());
    d_out.fill(1.0f);
    layer.backward(in, out, d_out, nullptr, *state, ctx);
    BOOST_TEST(p.touched[0].empty());
    for (float v : p.gradients[0]) BOOST_TEST(v == 0.0f);
}

BOOST_AUTO_TEST_CASE(gradient_checks) {
    const Tensor in = ids(Shape{3, 1, 5}, {1, 2, 3, 0, 0, 4, 4, 7, 2, 0, 9, 1, 1, 1, 5});
    for (const char* mode : {"non-static", "multichannel"}) {
        EmbeddingLayer layer(spec(10, 3, mode));
        testing::GradientCheckOptions options;
        options.check_input = false;
        const auto r = testing::check_gradients(layer, in, options);
        BOOST_TEST_INFO(mode << ": worst " << r.worst_error << " at " << r.worst_where);
        BOOST_TEST(r.passed);
        BOOST_TEST(r.worst_error < 1e-3);
        BOOST_TEST(r.checked == 30u);  // every table cell, untouched columns included (they must be 0)
    }
    Tensor packed = ids(Shape{1, 1, 8}, {0, 3, 3, 0, 6, 1, 2, 0});
    packed.spans = {{1, 2}, {4, 3}};
    EmbeddingLayer layer(spec(7, 2));
    testing::GradientCheckOptions options;
    options.check_input = false;
    const auto r = testing::check_gradients(layer, packed, options);
    BOOST_TEST_INFO("packed: worst " << r.worst_error << " at " << r.worst_where);
    BOOST_TEST(r.passed);
}

BOOST_AUTO_TEST_CASE(backward_is_identical_whatever_the_thread_count) {
    // 64 x 100 positions over a vocabulary of 50: many repeats per id, many TBB chunks.
    Tensor in(Shape{64, 1, 100});
    Rng rng(3);
    for (float& v : in.values()) v = static_cast<float>(rng.below(50));
    const Tensor d_out = testing::random_tensor(Shape{64, 16, 100}, 4);
    std::vector<std::vector<float>> gradients;
    for (std::size_t threads : {1, 2}) {
        ThreadLimit limit(threads);
        EmbeddingLayer layer(spec(50, 16));
        auto p = testing::bind_fresh(layer);
        Rng init(1);
        layer.initialize(Initializer{}, init);
        auto state = layer.make_state();
        Tensor out;
        layer.forward(in, out, *state, RunContext{Mode::training});
        layer.backward(in, out, d_out, nullptr, *state, RunContext{Mode::training});
        gradients.push_back(p.gradients[0]);
    }
    BOOST_TEST(gradients[0] == gradients[1]);
}

BOOST_AUTO_TEST_CASE(initialization) {
    EmbeddingLayer layer(spec(100, 8, "multichannel"));
    auto p = testing::bind_fresh(layer);
    Rng rng(2);
    layer.initialize(Initializer{Initializer::Kind::glorot_uniform}, rng);
    float largest = 0.0f;
    for (std::size_t i = 0; i < p.values[0].size(); ++i) {
        const float v = p.values[0][i];
        if (i < 8) BOOST_TEST(v == 0.0f);  // padding column
        largest = std::max(largest, std::abs(v));
    }
    BOOST_TEST(largest <= 0.25f);
    BOOST_TEST(largest > 0.24f);
    BOOST_TEST(p.values[1] == p.values[0]);  // the frozen copy starts equal

    layer.initialize(Initializer{Initializer::Kind::uniform, 0.05f}, rng);
    largest = 0.0f;
    for (float v : p.values[0]) largest = std::max(largest, std::abs(v));
    BOOST_TEST(largest <= 0.05f);
    BOOST_TEST(largest > 0.04f);
}

BOOST_AUTO_TEST_CASE(load_vectors) {
    std::vector<float> table(3 * 4, 0.0f);
    const std::vector<float> v{1, 2, 3};
    load_embedding_columns(table.data(), 3, 2, v);
    BOOST_TEST(table == std::vector<float>({0, 0, 0, 0, 0, 0, 1, 2, 3, 0, 0, 0}), boost::test_tools::per_element());
    load_embedding_columns(std::span<float>(table), 3, 3, v);
    BOOST_TEST(table[9] == 1.0f);
    BOOST_TEST(error_of<ShapeError>([&] { load_embedding_columns(table.data(), 4, 2, v); }) ==
               "load_embedding_columns: vector for id 2 has 3 values, table dim is 4");
    BOOST_TEST(error_of<ConfigError>([&] { load_embedding_columns(table.data(), 3, 0, v); }) ==
               "load_embedding_columns: id 0 is the padding vector and stays zero");
    BOOST_TEST(error_of<ShapeError>([&] { load_embedding_columns(std::span<float>(table), 3, 4, v); }) ==
               "load_embedding_columns: id 4 lies outside a table of 4 columns of dim 3");
}

BOOST_AUTO_TEST_CASE(bad_use) {
    EmbeddingLayer layer(spec(10, 2));
    auto p = testing::bind_fresh(layer);
    auto state = layer.make_state();
    Tensor out;
    auto forward = [&](const Tensor& in) { layer.forward(in, out, *state, RunContext{}); };
    BOOST_TEST(error_of<InputError>([&] { forward(ids(Shape{2, 1, 3}, {1, 2, 3, 4, 5, 10})); }) ==
               "embedding 'emb': token id 10 at sample 1, position 2 is not an integer in [0, 10)");
    BOOST_TEST(error_of<InputError>([&] { forward(ids(Shape{1, 1, 2}, {2.5f, 1})); }) ==
               "embedding 'emb': token id 2.5 at sample 0, position 0 is not an integer in [0, 10)");
    BOOST_TEST(error_of<InputError>([&] { forward(ids(Shape{1, 1, 2}, {1, -1})); }) ==
               "embedding 'emb': token id -1 at sample 0, position 1 is not an integer in [0, 10)");
    BOOST_TEST(error_of<InputError>([&] {
                   forward(ids(Shape{1, 1, 2}, {1, std::numeric_limits<float>::quiet_NaN()}));
               }) == "embedding 'emb': token id nan at sample 0, position 1 is not an integer in [0, 10)");
    Tensor packed = ids(Shape{1, 1, 6}, {0, 1, 2, 0, 12, 0});
    packed.spans = {{1, 2}, {4, 1}};
    BOOST_TEST(error_of<InputError>([&] { forward(packed); }) ==
               "embedding 'emb': token id 12 at sentence 1, position 0 is not an integer in [0, 10)");
    packed[5] = 3;
    packed[4] = 1;
    BOOST_TEST(error_of<InputError>([&] { forward(packed); }) ==
               "embedding 'emb': token id 3 at position 5 between sentences; gaps between packed sentences must be 0");
    BOOST_TEST(error_of<ShapeError>([&] { forward(Tensor(Shape{2, 3, 4})); }) ==
               "embedding 'emb': input (2, 3, 4) must hold token ids as (batch, 1, length)");

    BOOST_TEST(error_of<ConfigError>([] { EmbeddingLayer(spec(10, 2, "dynamic")); }) ==
               "embedding 'emb': mode must be non-static, static or multichannel, got 'dynamic'");
    BOOST_TEST(error_of<ConfigError>([] { EmbeddingLayer(LayerSpec{"embedding", "", {{"dim", "2"}}, {}}); }) ==
               "embedding: missing setting 'vocab'");
    BOOST_TEST(error_of<ConfigError>([] {
                   EmbeddingLayer(LayerSpec{"embedding", "", {{"vocab", "5"}, {"dim", "2"}, {"size", "2"}}, {}});
               }) == "embedding: unknown setting 'size' (known: vocab, dim, mode, trainable, word_dropout)");
    BOOST_TEST(error_of<ConfigError>([] {
                   EmbeddingLayer(
                       LayerSpec{"embedding", "", {{"vocab", "5"}, {"dim", "2"}, {"word_dropout", "1"}}, {}});
               }) == "embedding: word_dropout must be in [0, 1), got 1");
    BOOST_TEST(error_of<ConfigError>([] {
                   LayerSpec s = spec(5, 2, "static");
                   s.settings["word_dropout"] = "0.1";
                   EmbeddingLayer{s};
               }) == "embedding 'emb': word_dropout needs a trainable table (mode non-static or multichannel)");
}

BOOST_AUTO_TEST_CASE(word_dropout_trains_the_unknown_vector) {
    LayerSpec s = spec(8, 2);
    s.settings["word_dropout"] = "0.25";
    EmbeddingLayer layer(s);
    BOOST_TEST(layer.word_dropout() == 0.25f);
    auto p = testing::bind_fresh(layer);
    fill_tables(p, 2);
    auto state = layer.make_state();
    // 4,000 positions of word 5, then padding, then the unknown word itself.
    const std::size_t words = 4000;
    std::vector<float> values(words, 5.0f);
    values.push_back(0.0f);
    values.push_back(1.0f);
    const Tensor in = ids(Shape{1, 1, words + 2}, values);
    Tensor out;

    // Inference reads every id as given.
    layer.forward(in, out, *state, RunContext{});
    for (std::size_t q = 0; q < words; ++q) BOOST_TEST_REQUIRE(out[q * 2] == cell(5, 0));

    // Training: about a quarter of the known words read as id 1; padding and id 1 stay.
    const RunContext step7{Mode::training, 3, 7, 0};
    layer.forward(in, out, *state, step7);
    std::vector<bool> dropped(words);
    std::size_t count = 0;
    for (std::size_t q = 0; q < words; ++q) {
        BOOST_TEST_REQUIRE((out[q * 2] == cell(5, 0) || out[q * 2] == cell(1, 0)));
        dropped[q] = out[q * 2] == cell(1, 0);
        count += dropped[q];
    }
    BOOST_TEST(count > 900u);  // 1,000 expected; sd 27
    BOOST_TEST(count < 1100u);
    BOOST_TEST(out[words * 2] == 0.0f);
    BOOST_TEST(out[(words + 1) * 2] == cell(1, 0));

    // The backward sends each position's gradient to the id it was read as.
    Tensor d_out(out.shape());
    d_out.fill(1.0f);
    layer.backward(in, out, d_out, nullptr, *state, step7);
    BOOST_TEST(p.touched[0] == std::vector<std::uint32_t>({1, 5}), boost::test_tools::per_element());
    BOOST_TEST(p.gradients[0][1 * 2] == static_cast<float>(count + 1));
    BOOST_TEST(p.gradients[0][5 * 2] == static_cast<float>(words - count));

    // The draws are a function of (seed, step, position): the same again, others at another step.
    layer.forward(in, out, *state, step7);
    std::size_t same = 0;
    for (std::size_t q = 0; q < words; ++q) same += dropped[q] == (out[q * 2] == cell(1, 0));
    BOOST_TEST(same == words);
    layer.forward(in, out, *state, RunContext{Mode::training, 3, 8, 0});
    same = 0;
    for (std::size_t q = 0; q < words; ++q) same += dropped[q] == (out[q * 2] == cell(1, 0));
    BOOST_TEST(same < words - 200);
}
