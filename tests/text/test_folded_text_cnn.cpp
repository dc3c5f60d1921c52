// The folded text CNN (src/text/folded_text_cnn.h) against the network it was folded from: the
// same logits up to float rounding for every text length (shorter than the filters, empty,
// longer than a block of tokens),
// every activation, multichannel and static embeddings, dilation, no bias, several dropouts;
// and fold() refusing every network it cannot reproduce.
#define BOOST_TEST_MODULE folded_text_cnn
#include <boost/test/unit_test.hpp>

#include "text/folded_text_cnn.h"
#include "test_helpers.h"

#include "textcnn/text/batching.h"
#include "textcnn/core/error.h"
#include "textcnn/core/rng.h"
#include "textcnn/nn/network.h"
#include "textcnn/text/text_classifier.h"

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

using namespace textcnn;
using detail::FoldedTextCnn;
using testing::error_of;

namespace {

constexpr std::size_t vocab = 40;

Network make_network(const ModelSpec& spec, std::uint64_t seed) {
    Network network(spec, Shape{1, 1, 1});
    // PyTorch's default draws the biases too, so the bias path is exercised.
    network.initialize(Initializer{Initializer::Kind::torch_default}, seed);
    return network;
}

std::vector<std::vector<std::uint32_t>> random_texts(std::uint64_t seed) {
    Rng rng(seed);
    std::vector<std::vector<std::uint32_t>> texts;
    for (std::size_t length = 0; length <= 12; ++length)
        for (int copy = 0; copy < 3; ++copy) {
            std::vector<std::uint32_t> ids;
            for (std::size_t i = 0; i < length; ++i) ids.push_back(static_cast<std::uint32_t>(rng.below(vocab)));
            texts.push_back(ids);
        }
    texts.push_back({0, 0, 5, 0});  // padding ids inside a text read as zero vectors
    // Texts of more than one block of tokens (their outputs pooled a block at a time).
    constexpr std::size_t block = FoldedTextCnn::block_tokens;
    for (std::size_t length : {block - 1, block, block + 1, 2 * block + 37}) {
        std::vector<std::uint32_t> ids;
        for (std::size_t i = 0; i < length; ++i) ids.push_back(static_cast<std::uint32_t>(rng.below(vocab)));
        texts.push_back(ids);
    }
    return texts;
}

std::size_t widest_full_padding(const Layer& layer) {
    std::size_t widest = 0;
    if (layer.spec().type == "conv") {
        const auto k = layer.spec().get_ints("kernel", {1});
        const auto d = layer.spec().get_ints("dilation", {1});
        widest = static_cast<std::size_t>(d.front() * (k.front() - 1));
    }
    for (const Layer* child : layer.children()) widest = std::max(widest, widest_full_padding(*child));
    return widest;
}

std::size_t widest_full_padding(const Network& network) {
    std::size_t widest = 0;
    for (std::size_t i = 0; i < network.layer_count(); ++i) widest = std::max(widest, widest_full_padding(network.layer(i)));
    return widest;
}

// Every text through the network one at a time (packed, as TextClassifier does) and through the fold.
void check_fold_matches(const ModelSpec& spec, std::uint64_t seed) {
    const Network network = make_network(spec, seed);
    const auto folded = FoldedTextCnn::fold(network, std::size_t{1} << 30);
    BOOST_REQUIRE(folded.has_value());
    BOOST_CHECK_EQUAL(folded->table_bytes(), FoldedTextCnn::table_bytes(network));
    const std::size_t classes = folded->classes();
    BOOST_REQUIRE_EQUAL(classes, network.output_shape(1).channels());
    Network::Workspace ws = network.make_workspace();
    Tensor packed;
    std::vector<float> scratch, logits(classes);
    const std::size_t gap = widest_full_padding(network);
    double worst = 0.0;
    for (const auto& ids : random_texts(seed + 100)) {
        pack_sequences(std::span(&ids, 1), PackOptions{gap, 1, 0}, packed);
        const Tensor& expected = network.forward(packed, ws, RunContext{Mode::inference});
        folded->logits(ids, logits.data(), scratch);
        for (std::size_t c = 0; c < classes; ++c) {
            const double difference = std::abs(double{logits[c]} - double{expected[c]});
            worst = std::max(worst, difference);
            BOOST_CHECK_MESSAGE(difference <= 1e-5 * (1.0 + std::abs(expected[c])),
                                "text of " << ids.size() << " ids, class " << c << ": folded " << logits[c]
                                           << ", network " << expected[c]);
        }
    }
    BOOST_TEST_MESSAGE("largest logit difference " << worst);
}

TextModelSettings small_settings() {
    TextModelSettings s;
    s.embedding_dim = 12;
    s.maps = 5;
    return s;
}

}  // namespace

BOOST_AUTO_TEST_CASE(kim_network_folds_to_the_same_logits) {
    check_fold_matches(text_cnn_spec(small_settings(), vocab, 3), 1);
}

BOOST_AUTO_TEST_CASE(word_dropout_is_training_only_and_folds) {
    TextModelSettings s = small_settings();
    BOOST_TEST(!text_cnn_spec(s, vocab, 2).front().has("word_dropout"));  // absent unless used
    s.word_dropout = 0.2f;
    const ModelSpec spec = text_cnn_spec(s, vocab, 2);
    BOOST_TEST(spec.front().get_string("word_dropout", "") == "0.2");
    check_fold_matches(spec, 3);
}

BOOST_AUTO_TEST_CASE(every_activation_and_embedding_mode) {
    for (const std::string activation : {"relu", "tanh", "sigmoid", "identity"})
        for (const std::string mode : {"non-static", "static", "multichannel"}) {
            BOOST_TEST_CONTEXT(activation << ", " << mode) {
                TextModelSettings s = small_settings();
                s.activation = activation;
                s.embedding_mode = mode;
                s.widths = {1, 2, 7};  // 7: wider than most of the texts
                check_fold_matches(text_cnn_spec(s, vocab, 2), 7);
            }
        }
}

BOOST_AUTO_TEST_CASE(dilation_no_bias_no_activation_and_several_dropouts) {
    ModelSpec spec;
    spec.push_back({"embedding", "embedding", {{"vocab", std::to_string(vocab)}, {"dim", "6"}}, {}});
    LayerSpec parallel{"parallel", "widths", {}, {}};
    parallel.branches.push_back({{"conv", "dilated", {{"filters", "4"}, {"kernel", "3"}, {"dilation", "2"}, {"padding", "full"}}, {}},
                                 {"relu", "relu_dilated", {}, {}},
                                 {"global_max_pool", "max_dilated", {}, {}}});
    parallel.branches.push_back({{"conv", "unbiased", {{"filters", "3"}, {"kernel", "2"}, {"padding", "full"}, {"bias", "false"}}, {}},
                                 {"global_max_pool", "max_unbiased", {}, {}}});
    // A receptive extent wider than a block of tokens: partial sums carried over whole blocks.
    parallel.branches.push_back({{"conv", "wide", {{"filters", "2"}, {"kernel", "3"}, {"dilation", "300"}, {"padding", "full"}}, {}},
                                 {"global_max_pool", "max_wide", {}, {}}});
    spec.push_back(parallel);
    spec.push_back({"dropout", "dropout_1", {{"rate", "0.5"}}, {}});
    spec.push_back({"dropout", "dropout_2", {{"rate", "0.2"}}, {}});
    spec.push_back({"dense", "output", {{"units", "4"}, {"bias", "false"}}, {}});
    check_fold_matches(spec, 3);
}

BOOST_AUTO_TEST_CASE(networks_the_fold_cannot_reproduce_are_refused) {
    const ModelSpec kim = text_cnn_spec(small_settings(), vocab, 2);
    {  // 'same' padding: windows at the edges are cut differently
        ModelSpec spec = kim;
        spec[1].branches[0][0].settings["padding"] = "same";
        const Network network = make_network(spec, 1);
        BOOST_CHECK(!FoldedTextCnn::fold(network, std::size_t{1} << 30));
        BOOST_CHECK_EQUAL(FoldedTextCnn::table_bytes(network), 0u);
    }
    {  // stride 2
        ModelSpec spec = kim;
        spec[1].branches[1][0].settings["stride"] = "2";
        BOOST_CHECK(!FoldedTextCnn::fold(make_network(spec, 1), std::size_t{1} << 30));
    }
    {  // a hidden dense layer after the pooling
        ModelSpec spec = kim;
        spec.insert(spec.end() - 1, LayerSpec{"dense", "hidden", {{"units", "7"}}, {}});
        BOOST_CHECK(!FoldedTextCnn::fold(make_network(spec, 1), std::size_t{1} << 30));
    }
    {  // a table larger than allowed: vocab x (3 + 4 + 5) x 5 maps x 4 bytes
        const Network network = make_network(kim, 1);
        const std::size_t bytes = vocab * 12 * 5 * sizeof(float);
        BOOST_CHECK_EQUAL(FoldedTextCnn::table_bytes(network), bytes);
        BOOST_CHECK(!FoldedTextCnn::fold(network, bytes - 1));
        BOOST_CHECK(FoldedTextCnn::fold(network, bytes));
    }
}

BOOST_AUTO_TEST_CASE(wide_and_deep_network_folds_to_the_same_logits) {
    for (const std::size_t ngrams : {1, 2, 3})
        for (const std::string reduce : {"sum", "mean"})
            for (const std::string mode : {"non-static", "multichannel"}) {
                BOOST_TEST_CONTEXT(ngrams << "-grams, " << reduce << ", " << mode) {
                    TextModelSettings s = small_settings();
                    s.word_ngrams = ngrams;
                    s.ngram_buckets = 50;
                    s.ngram_dim = 4;
                    s.ngram_reduce = reduce;
                    s.embedding_mode = mode;
                    check_fold_matches(text_cnn_spec(s, vocab, 3), 3);
                }
            }
    TextModelSettings s = small_settings();
    s.word_ngrams = 2;
    s.ngram_buckets = 50;
    s.ngram_dim = 4;
    const ModelSpec wide = text_cnn_spec(s, vocab, 2);
    {  // the tables: vocab x (3 + 4 + 5) x 5 maps, and (vocab + 50 buckets) x 2 classes
        const Network network = make_network(wide, 1);
        const std::size_t bytes = (vocab * 12 * 5 + (vocab + 50) * 2) * sizeof(float);
        BOOST_CHECK_EQUAL(FoldedTextCnn::table_bytes(network), bytes);
        BOOST_CHECK(!FoldedTextCnn::fold(network, bytes - 1));
        BOOST_CHECK(FoldedTextCnn::fold(network, bytes));
    }
    {  // a nonlinearity after the bag: not a linear branch any more
        ModelSpec spec = wide;
        spec[0].branches[1].push_back(LayerSpec{"relu", "", {}, {}});
        BOOST_CHECK(!FoldedTextCnn::fold(make_network(spec, 1), std::size_t{1} << 30));
    }
    {  // a bag over another vocabulary than the embedding's
        ModelSpec spec = wide;
        spec[0].branches[1][0].settings["vocab"] = std::to_string(vocab + 1);
        BOOST_CHECK(!FoldedTextCnn::fold(make_network(spec, 1), std::size_t{1} << 30));
    }
}

BOOST_AUTO_TEST_CASE(an_id_outside_the_vocabulary_is_an_input_error) {
    const auto folded = FoldedTextCnn::fold(make_network(text_cnn_spec(small_settings(), vocab, 2), 1), 1 << 20);
    BOOST_REQUIRE(folded);
    std::vector<float> scratch, logits(2);
    const std::vector<std::uint32_t> ids = {3, 4, vocab};
    const auto message = error_of<InputError>([&] { folded->logits(ids, logits.data(), scratch); });
    BOOST_CHECK_EQUAL(message, "folded text CNN: token id 40 at position 2 is not in [0, 40)");
}

// dense_logits (several classes' sums at once, products made a chunk at a time, eight partial
// sums per class) against the order it documents written plainly, one class after the other,
// each product rounded on its own (volatile): the same bits for every class count and feature
// count around the chunk size (64) and the lane count (8).
BOOST_AUTO_TEST_CASE(dense_logits_equal_the_plain_loop_bit_for_bit) {
    std::mt19937 rng(3);
    std::uniform_real_distribution<float> value(-2.0f, 2.0f);
    for (std::size_t classes : {1u, 2u, 3u, 4u, 5u, 7u, 9u})
        for (std::size_t n : {0u, 1u, 5u, 7u, 8u, 9u, 63u, 64u, 65u, 300u}) {
            const std::size_t stride = n + 3;  // the wide branch's inputs follow the features
            std::vector<float> weights(classes * stride), bias(classes), features(n);
            for (float& v : weights) v = value(rng);
            for (float& v : bias) v = value(rng);
            for (float& v : features) v = value(rng);
            std::vector<float> got(classes, -1.0f);
            FoldedTextCnn::dense_logits(weights.data(), stride, bias.data(), classes, features.data(), n, got.data());
            for (std::size_t c = 0; c < classes; ++c) {
                float lane[8] = {};
                for (std::size_t i = 0; i < n; ++i) {
                    volatile float product = weights[c * stride + i] * features[i];
                    lane[i % 8] += product;
                }
                const float z = bias[c] + (((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7])));
                BOOST_TEST_REQUIRE(std::memcmp(&got[c], &z, sizeof z) == 0,
                                   "class " << c << " of " << classes << ", " << n << " features: " << got[c] << " vs " << z);
            }
        }
}
