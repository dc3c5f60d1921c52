#define BOOST_TEST_MODULE ngram_bag
#include <boost/test/unit_test.hpp>

#include "test_helpers.h"

#include "gradient_check.h"
#include "textcnn/core/error.h"
#include "textcnn/core/runtime.h"
#include "textcnn/nn/architecture.h"
#include "textcnn/nn/model_file.h"
#include "textcnn/nn/ngram_bag.h"
#include "textcnn/nn/optimizer.h"
#include "textcnn/nn/parallel.h"
#include "textcnn/nn/trainer.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

using namespace textcnn;

namespace {

using textcnn::testing::error_of;

LayerSpec bag_spec(std::size_t vocab, std::size_t dim, std::size_t ngrams, std::size_t buckets,
                   const std::string& reduce = "sum", const std::string& binary = "true") {
    return LayerSpec{"ngram_bag",
                     "bag",
                     {{"vocab", std::to_string(vocab)},
                      {"dim", std::to_string(dim)},
                      {"ngrams", std::to_string(ngrams)},
                      {"buckets", std::to_string(buckets)},
                      {"reduce", reduce},
                      {"binary", binary}},
                     {}};
}

LayerSpec layer(std::string type, std::string name = "", std::map<std::string, std::string> settings = {}) {
    return LayerSpec{std::move(type), std::move(name), std::move(settings), {}};
}

// The plain reference: every n-gram (n = 1..ngrams) of the nonzero runs, written out by hand
// with nested loops, its column by the documented rule, then counted (once when binary) and
// summed (or averaged) column by column in double precision.
std::vector<double> reference(const std::vector<std::uint32_t>& ids, const std::vector<float>& table, std::size_t dim,
                              std::size_t vocab, std::size_t ngrams, std::size_t buckets, bool binary, bool mean) {
    std::map<std::uint32_t, int> counts;
    for (std::size_t n = 1; n <= ngrams; ++n)
        for (std::size_t start = 0; start + n <= ids.size(); ++start) {
            bool has_padding = false;
            for (std::size_t j = start; j < start + n; ++j) has_padding = has_padding || ids[j] == 0;
            if (has_padding) continue;
            std::uint32_t column = ids[start];
            if (n >= 2) {
                std::vector<std::uint32_t> gram(ids.begin() + start, ids.begin() + start + n);
                column = static_cast<std::uint32_t>(vocab + NgramBagLayer::ngram_hash(gram) % buckets);
            }
            counts[column] += 1;
        }
    std::vector<double> out(dim, 0.0);
    double total = 0.0;
    for (auto [column, count] : counts) {
        const double weight = binary ? 1.0 : count;
        total += weight;
        for (std::size_t d = 0; d < dim; ++d) out[d] += weight * table[column * dim + d];
    }
    if (mean && total > 0)
        for (double& v : out) v /= total;
    return out;
}

// Random texts of ids in [0, vocab) with some padding ids inside (they end n-grams).
std::vector<std::vector<std::uint32_t>> random_texts(std::size_t count, std::size_t vocab, std::uint64_t seed) {
    Rng rng(seed);
    std::vector<std::vector<std::uint32_t>> texts(count);
    for (auto& t : texts) {
        t.resize(rng.below(9));
        for (auto& id : t) id = rng.below(8) == 0 ? 0 : static_cast<std::uint32_t>(1 + rng.below(vocab - 1));
    }
    return texts;
}

// Texts packed end to end with `gap` zeros before, between and after them (tensor.h).
Tensor packed(const std::vector<std::vector<std::uint32_t>>& texts, std::size_t gap = 1) {
    std::size_t total = gap;
    for (const auto& t : texts) total += t.size() + gap;
    Tensor in(Shape{1, 1, total});
    auto offset = static_cast<std::uint32_t>(gap);
    for (const auto& t : texts) {
        in.spans.push_back({offset, static_cast<std::uint32_t>(t.size())});
        for (std::size_t p = 0; p < t.size(); ++p) in[offset + p] = static_cast<float>(t[p]);
        offset += static_cast<std::uint32_t>(t.size() + gap);
    }
    return in;
}

}  // namespace

BOOST_AUTO_TEST_CASE(shapes_and_parameter_counts) {
    const NgramBagLayer bag(bag_spec(50, 4, 2, 100));
    BOOST_TEST(bag.output_shape(Shape{3, 1, 7}).str() == "(3, 4)");
    const auto params = bag.parameters();
    BOOST_REQUIRE(params.size() == 1u);
    BOOST_TEST(params[0].name == "ngram_table");
    BOOST_TEST(params[0].rows == 4u);
    BOOST_TEST(params[0].cols == 150u);  // 50 words + 100 buckets
    BOOST_TEST(params[0].sparse_columns);
    BOOST_TEST(!params[0].max_norm_columns);
    BOOST_TEST(params[0].trainable);
    BOOST_TEST(NgramBagLayer(bag_spec(50, 4, 1, 0)).parameters()[0].cols == 50u);  // unigrams need no buckets

    LayerSpec frozen = bag_spec(5, 2, 1, 0);
    frozen.settings["trainable"] = "false";
    BOOST_TEST(!NgramBagLayer(frozen).parameters()[0].trainable);
    BOOST_TEST(NgramBagLayer(frozen).details() == "1..1-grams, vocab 5 + 0 buckets, dim 2, sum of binary, frozen");
    BOOST_TEST(NgramBagLayer(bag_spec(5, 2, 2, 7, "mean", "false")).details() ==
               "1..2-grams, vocab 5 + 7 buckets, dim 2, mean of counts");

    // Through the factory and a network: the table counts in the parameter block.
    Network net({bag_spec(50, 4, 3, 100), layer("dense", "out", {{"units", "2"}})}, Shape{1, 1, 9});
    BOOST_TEST(net.parameter_count() == 4u * 150u + 4u * 2u + 2u);
    BOOST_TEST(net.output_shape(5).str() == "(5, 2)");
    BOOST_TEST(net.summary_table().find("1..3-grams, vocab 50 + 100 buckets, dim 4, sum of binary") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(bad_settings_and_inputs_name_the_layer) {
    BOOST_TEST(error_of<ConfigError>([] { NgramBagLayer(bag_spec(10, 2, 2, 0)); }) ==
               "ngram_bag 'bag': ngrams 2 needs buckets > 0 to hash the n-grams of n >= 2 into");
    BOOST_TEST(error_of<ConfigError>([] { NgramBagLayer(bag_spec(10, 2, 9, 5)); }) ==
               "ngram_bag 'bag': setting 'ngrams' must be at most 8, got 9");
    BOOST_TEST(error_of<ConfigError>([] { NgramBagLayer(bag_spec(10, 2, 1, 0, "max")); }) ==
               "ngram_bag 'bag': reduce must be sum or mean, got 'max'");
    BOOST_TEST(error_of<ConfigError>([] { NgramBagLayer(LayerSpec{"ngram_bag", "", {{"vocab", "3"}}, {}}); }) ==
               "ngram_bag: missing setting 'dim'");
    BOOST_TEST(error_of<ConfigError>([] {
                   NgramBagLayer(LayerSpec{"ngram_bag", "", {{"vocab", "3"}, {"dim", "2"}, {"size", "2"}}, {}});
               }) == "ngram_bag: unknown setting 'size' (known: vocab, dim, ngrams, buckets, reduce, binary, trainable)");
    BOOST_TEST(error_of<ShapeError>([] { NgramBagLayer(bag_spec(10, 2, 1, 0)).output_shape(Shape{2, 3, 4}); }) ==
               "ngram_bag 'bag': input (2, 3, 4) must hold token ids as (batch, 1, length)");

    NgramBagLayer bag(bag_spec(10, 2, 2, 4));
    auto p = testing::bind_fresh(bag);
    auto state = bag.make_state();
    Tensor out;
    BOOST_TEST(error_of<InputError>([&] { bag.forward(Tensor(Shape{2, 1, 2}, {1, 2, 3, 10}), out, *state, {}); }) ==
               "ngram_bag 'bag': token id 10 at sample 1, position 1 is not an integer in [0, 10)");
    Tensor gap = packed({{1, 2}, {3}});
    gap[3] = 4;  // [0, 1, 2, 0, 3, 0]: position 3 lies between the sentences
    BOOST_TEST(error_of<InputError>([&] { bag.forward(gap, out, *state, {}); }) ==
               "ngram_bag 'bag': token id 4 at position 3 between sentences; gaps between packed sentences must be 0");
    gap[3] = 0;
    gap[0] = 5;
    BOOST_TEST(error_of<InputError>([&] { bag.forward(gap, out, *state, {}); }) ==
               "ngram_bag 'bag': token id 5 at position 0 between sentences; gaps between packed sentences must be 0");
}

BOOST_AUTO_TEST_CASE(ngram_columns_follow_the_documented_rule) {
    // Unigrams are their ids; bigrams hash into [vocab, vocab + buckets); padding ends n-grams.
    std::vector<std::uint32_t> cols;
    NgramBagLayer::ngram_columns(std::vector<std::uint32_t>{3, 4, 0, 5, 3, 4}, 2, 10, 1000, false, cols);
    const std::vector<std::uint32_t> gram{3, 4}, other{5, 3};
    const auto b34 = static_cast<std::uint32_t>(10 + NgramBagLayer::ngram_hash(gram) % 1000);
    const auto b53 = static_cast<std::uint32_t>(10 + NgramBagLayer::ngram_hash(other) % 1000);
    BOOST_TEST((cols == std::vector<std::uint32_t>{3, 4, 5, 3, 4, b34, b53, b34}));
    cols.clear();
    NgramBagLayer::ngram_columns(std::vector<std::uint32_t>{3, 4, 0, 5, 3, 4}, 2, 10, 1000, true, cols);
    std::set<std::uint32_t> distinct{3, 4, 5, b34, b53};
    BOOST_TEST((cols == std::vector<std::uint32_t>(distinct.begin(), distinct.end())));
    // n-grams of different n and order differ.
    BOOST_TEST(NgramBagLayer::ngram_hash(std::vector<std::uint32_t>{3, 4}) !=
               NgramBagLayer::ngram_hash(std::vector<std::uint32_t>{4, 3}));
    BOOST_TEST(NgramBagLayer::ngram_hash(std::vector<std::uint32_t>{3}) !=
               NgramBagLayer::ngram_hash(std::vector<std::uint32_t>{3, 0}));
}

BOOST_AUTO_TEST_CASE(forward_matches_reference_loops) {
    const std::size_t vocab = 30, dim = 5, buckets = 17;
    const auto texts = random_texts(40, vocab, 3);
    for (std::size_t ngrams : {1, 2, 3})
        for (const std::string reduce : {"sum", "mean"})
            for (const std::string binary : {"true", "false"}) {
                BOOST_TEST_CONTEXT("ngrams " << ngrams << ", " << reduce << ", binary " << binary) {
                    NgramBagLayer bag(bag_spec(vocab, dim, ngrams, ngrams == 1 ? 0 : buckets, reduce, binary));
                    auto p = testing::bind_fresh(bag);
                    Rng rng(11);
                    bag.initialize({}, rng);
                    for (std::size_t i = 0; i < dim; ++i) BOOST_TEST(p.values[0][i] == 0.0f);  // padding column
                    for (float v : p.values[0]) BOOST_TEST(std::abs(v) <= 1.0f / dim);
                    auto state = bag.make_state();

                    // Packed input: one row per span.
                    Tensor out;
                    bag.forward(packed(texts), out, *state, RunContext{});
                    BOOST_REQUIRE(out.shape().str() == "(40, 5)");
                    BOOST_TEST(!out.packed());
                    for (std::size_t n = 0; n < texts.size(); ++n) {
                        const auto expected = reference(texts[n], p.values[0], dim, vocab, ngrams, buckets,
                                                        binary == "true", reduce == "mean");
                        for (std::size_t d = 0; d < dim; ++d)
                            BOOST_TEST(std::abs(out[n * dim + d] - expected[d]) <= 2e-6);  // float sums of <= 24 terms
                    }

                    // Ordinary (N, 1, L) input padded with zeros: the same rows.
                    Tensor padded(Shape{texts.size(), 1, 8});
                    for (std::size_t n = 0; n < texts.size(); ++n)
                        for (std::size_t q = 0; q < texts[n].size(); ++q) padded[n * 8 + q] = static_cast<float>(texts[n][q]);
                    Tensor out2;
                    bag.forward(padded, out2, *state, RunContext{});
                    BOOST_TEST(out2.shape().str() == out.shape().str());
                    for (std::size_t i = 0; i < out.size(); ++i) BOOST_TEST(out2[i] == out[i]);
                }
            }
}

BOOST_AUTO_TEST_CASE(gradient_checks) {
    const auto texts = random_texts(6, 12, 5);
    for (const std::string reduce : {"sum", "mean"})
        for (const std::string binary : {"true", "false"}) {
            BOOST_TEST_CONTEXT(reduce << ", binary " << binary) {
                NgramBagLayer bag(bag_spec(12, 3, 3, 7, reduce, binary));
                testing::GradientCheckOptions o;
                o.check_input = false;  // ids are not differentiable
                const auto result = testing::check_gradients(bag, packed(texts), o);
                BOOST_TEST(result.passed, result.worst_where << ": " << result.worst_error);
                BOOST_TEST(result.checked > 0u);
            }
        }
}

BOOST_AUTO_TEST_CASE(sparse_gradient_lists_touched_columns_and_zeroes_the_previous_ones) {
    NgramBagLayer bag(bag_spec(10, 2, 2, 5));
    auto p = testing::bind_fresh(bag);
    Rng rng(1);
    bag.initialize({}, rng);
    auto state = bag.make_state();
    const RunContext train{Mode::training};
    Tensor out, d_out;
    auto step = [&](const std::vector<std::vector<std::uint32_t>>& texts) {
        const Tensor in = packed(texts);
        bag.forward(in, out, *state, train);
        d_out = Tensor(out.shape());
        d_out.fill(1.0f);
        bag.backward(in, out, d_out, nullptr, *state, train);
    };
    step({{1, 2}, {2}});
    const auto b12 = static_cast<std::uint32_t>(10 + NgramBagLayer::ngram_hash(std::vector<std::uint32_t>{1, 2}) % 5);
    std::vector<std::uint32_t> expected{1, 2, b12};
    std::sort(expected.begin(), expected.end());
    BOOST_TEST(p.touched[0] == expected);
    BOOST_TEST(p.gradients[0][2 * 2] == 2.0f);  // word 2 is in both texts
    BOOST_TEST(p.gradients[0][1 * 2] == 1.0f);
    step({{3}});
    BOOST_TEST((p.touched[0] == std::vector<std::uint32_t>{3}));
    for (std::size_t c = 0; c < 15; ++c)
        for (std::size_t d = 0; d < 2; ++d) BOOST_TEST(p.gradients[0][c * 2 + d] == (c == 3 ? 1.0f : 0.0f));
}

namespace {

// Wide and deep: token ids go to an embedding + convolution branch and to an n-gram bag branch,
// side by side in one parallel layer; their features meet in one dense output layer.
ModelSpec wide_and_deep_spec(std::size_t vocab) {
    LayerSpec widths = layer("parallel", "widths");
    for (const std::string w : {"2", "3"})
        widths.branches.push_back({layer("conv", "conv_" + w, {{"filters", "6"}, {"kernel", w}, {"padding", "full"}}),
                                   layer("relu"), layer("global_max_pool")});
    LayerSpec both = layer("parallel", "wide_and_deep");
    both.branches = {{layer("embedding", "emb", {{"vocab", std::to_string(vocab)}, {"dim", "8"}}), widths,
                      layer("dropout", "", {{"rate", "0.5"}})},
                     {bag_spec(vocab, 4, 2, 64)}};
    return {both, layer("dense", "output", {{"units", "3"}})};
}

struct TextData {
    std::vector<std::vector<std::uint32_t>> texts;
    std::vector<std::uint32_t> labels;
};

TextData text_data(std::size_t vocab) {
    TextData d;
    d.texts = random_texts(200, vocab, 21);
    for (auto& t : d.texts) {
        std::replace(t.begin(), t.end(), 0u, 1u);  // no padding inside training texts
        if (t.empty()) t.push_back(1);
        d.labels.push_back(t.empty() ? 0 : t.front() % 3);
    }
    return d;
}

BatchSource packed_source(const TextData& data) {
    return [&data](std::span<const std::size_t> indices, Tensor& input, std::vector<std::uint32_t>& labels) {
        std::vector<std::vector<std::uint32_t>> texts;
        for (std::size_t i : indices) {
            texts.push_back(data.texts[i]);
            labels.push_back(data.labels[i]);
        }
        input = packed(texts, 2);  // gaps of two zeros: the widest 'full' padding (width 3)
    };
}

std::vector<float> train_wide_and_deep(std::size_t threads, std::uint64_t seed, const std::string& optimizer) {
    ThreadLimit limit(threads);
    static const TextData data = text_data(40);
    Network net(wide_and_deep_spec(40), Shape{1, 1, 10});
    net.initialize({}, seed);
    TrainerSettings s;
    s.epochs = 2;
    s.batch_size = 16;
    s.seed = seed;
    s.optimizer = OptimizerSettings::defaults_for(optimizer);
    s.max_norm = 1.5f;
    s.max_norm_groups = output_weight_groups(net);
    Trainer trainer(net, s);
    trainer.set_training_data(data.labels.size(), packed_source(data));
    trainer.run();
    return {net.parameters().begin(), net.parameters().end()};
}

}  // namespace

BOOST_AUTO_TEST_CASE(wide_and_deep_network_trains_and_round_trips) {
    const std::size_t vocab = 40;
    Network net(wide_and_deep_spec(vocab), Shape{1, 1, 10});
    BOOST_TEST(net.output_shape(1).str() == "(1, 3)");
    const auto& dense = net.groups()[net.groups().size() - 2];
    BOOST_TEST(dense.info.rows == 12u + 4u);  // 2 widths x 6 maps, then 4 bag features
    // The bag table is a sparse group; max-norm finds the output layer, not the bag.
    std::size_t bag_group = 0;
    for (std::size_t g = 0; g < net.groups().size(); ++g)
        if (net.groups()[g].layer_label == "ngram_bag 'bag'") bag_group = g;
    BOOST_TEST(net.groups()[bag_group].info.sparse_columns);
    BOOST_TEST((output_weight_groups(net) == std::vector<std::size_t>{net.groups().size() - 2}));

    // Training moves only the bag columns the data touches; the rest keep their start values.
    net.initialize({}, 3);
    const std::vector<float> start(net.parameters().begin(), net.parameters().end());
    const auto trained = train_wide_and_deep(2, 3, "adadelta");
    const auto& bag = net.groups()[bag_group];
    std::set<std::uint32_t> used;
    for (const auto& t : text_data(vocab).texts) {
        std::vector<std::uint32_t> cols;
        NgramBagLayer::ngram_columns(t, 2, vocab, 64, true, cols);
        used.insert(cols.begin(), cols.end());
    }
    std::size_t moved = 0, untouched_moved = 0;
    for (std::size_t c = 0; c < bag.info.cols; ++c)
        for (std::size_t d = 0; d < bag.info.rows; ++d) {
            const std::size_t i = bag.offset + c * bag.info.rows + d;
            if (trained[i] == start[i]) continue;
            (used.count(static_cast<std::uint32_t>(c)) ? moved : untouched_moved) += 1;
        }
    BOOST_TEST(moved > 0u);
    BOOST_TEST(untouched_moved == 0u);

    // Save -> load: the same parameters and the same outputs.
    std::copy(trained.begin(), trained.end(), net.parameters().begin());
    const std::string path = testing::scratch_path("test_ngram_bag_files", "wide_and_deep.net");
    write_network(path, net);
    const Network loaded = read_network(path);
    BOOST_TEST(loaded.spec() == net.spec());
    BOOST_TEST((std::vector<float>(loaded.parameters().begin(), loaded.parameters().end()) == trained));
    const Tensor in = packed({{1, 2, 3}, {4}, {5, 6, 7, 8, 9}, {7}}, 2);
    auto ws1 = net.make_workspace();
    auto ws2 = loaded.make_workspace();
    const Tensor& a = net.forward(in, ws1, RunContext{});
    const Tensor& b = loaded.forward(in, ws2, RunContext{});
    BOOST_TEST(a.shape().str() == "(4, 3)");
    BOOST_TEST((std::vector<float>(a.values().begin(), a.values().end()) ==
                std::vector<float>(b.values().begin(), b.values().end())));
}

BOOST_AUTO_TEST_CASE(thread_count_does_not_change_the_weights) {
    for (const std::string optimizer : {"adadelta", "sgd"}) {
        BOOST_TEST_CONTEXT(optimizer) {
            const auto one = train_wide_and_deep(1, 7, optimizer), two = train_wide_and_deep(2, 7, optimizer);
            BOOST_TEST((one == two));
            BOOST_TEST((one != train_wide_and_deep(2, 8, optimizer)));
        }
    }
}

BOOST_AUTO_TEST_CASE(bag_alone_learns_a_planted_bigram) {
    // Label 1 iff the bigram (5, 6) occurs; both words occur in every text, in random order,
    // so no unigram tells the label: only the bigram does.
    TextData data;
    Rng rng(9);
    for (int i = 0; i < 400; ++i) {
        std::vector<std::uint32_t> t;
        for (int k = 0; k < 6; ++k) t.push_back(static_cast<std::uint32_t>(7 + rng.below(20)));
        const bool planted = rng.below(2) == 1;
        const std::size_t at = rng.below(5);
        t[at] = planted ? 5 : 6;
        t[at + 1] = planted ? 6 : 5;
        data.texts.push_back(t);
        data.labels.push_back(planted ? 1 : 0);
    }
    for (std::size_t ngrams : {1, 2}) {
        Network net({bag_spec(27, 4, ngrams, ngrams == 1 ? 0 : 1000), layer("dense", "output", {{"units", "2"}})},
                    Shape{1, 1, 6});
        net.initialize({}, 1);
        TrainerSettings s;
        s.epochs = 15;
        s.batch_size = 20;
        s.seed = 1;
        s.optimizer = OptimizerSettings::defaults_for("adadelta");
        Trainer trainer(net, s);
        trainer.set_training_data(data.labels.size(), packed_source(data));
        trainer.run();
        const Evaluation e = evaluate(net, data.labels.size(), packed_source(data), 50);
        BOOST_TEST_MESSAGE("ngrams " << ngrams << ": training accuracy " << e.accuracy);
        if (ngrams == 2) BOOST_TEST(e.accuracy >= 0.99);
        else BOOST_TEST(e.accuracy <= 0.75);  // unigrams cannot see the order
    }
}

BOOST_AUTO_TEST_CASE(architecture_files_describe_a_wide_and_deep_network) {
    const std::string json = R"({
      "name": "wide_and_deep",
      "input": [1, 10],
      "layers": [
        {"type": "parallel", "name": "wide_and_deep", "branches": [
          [{"type": "embedding", "vocab": 40, "dim": 8},
           {"type": "conv", "filters": 6, "kernel": 3, "padding": "full"},
           {"type": "relu"},
           {"type": "global_max_pool"}],
          [{"type": "ngram_bag", "vocab": 40, "dim": 4, "ngrams": 2, "buckets": 64, "reduce": "mean", "binary": false}]
        ]},
        {"type": "dense", "units": "classes"}
      ]
    })";
    Architecture arch = parse_architecture(json, "wide.json");
    bind_class_count(arch.layers, 3);
    const LayerSpec& bag = arch.layers[0].branches[1][0];
    BOOST_TEST(bag.type == "ngram_bag");
    BOOST_TEST(bag.get_string("binary", "") == "false");
    BOOST_TEST(parse_architecture(serialise_architecture(arch), "again.json").layers == arch.layers);
    Network net(arch.layers, Shape{1, 1, 10});
    BOOST_TEST(net.output_shape(2).str() == "(2, 3)");
    BOOST_TEST(net.parameter_count() == 40u * 8u + (3u * 8u * 6u + 6u) + 4u * (40u + 64u) + (10u * 3u + 3u));
    BOOST_TEST(error_of<ConfigError>([&] {
                   parse_architecture(R"({"layers": [{"type": "ngram_bag", "vocab": 4, "dim": 2, "n": 2}]})", "bad.json");
               }).find("unknown key 'n' for a ngram_bag layer") != std::string::npos);
}
