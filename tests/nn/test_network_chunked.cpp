#define BOOST_TEST_MODULE network_chunked
#include <boost/test/unit_test.hpp>

#include "textcnn/nn/architecture.h"
#include "textcnn/core/error.h"
#include "textcnn/nn/network.h"
#include "textcnn/core/rng.h"
#include "textcnn/core/runtime.h"

#include <algorithm>
#include <cmath>
#include <cstring>

// Network::forward_chunked() against Network::forward() on the whole batch.
//
// What is exact and what is not: convolution (im2col + GEMM per sample chunk), pooling,
// activations and flatten compute every sample with the same arithmetic whatever the batch
// around it, so everything up to the input of the first dense layer is bit-identical (checked
// below on a network without a dense layer). The dense layer is one OpenBLAS sgemm over the
// batch, and OpenBLAS picks its kernel path by the matrix size (the small-matrix kernels and
// the tail of the column blocking sum in another order), so a logit may move in its last bits
// when the batch around the sample changes: plain forward() already does this between batch
// 100 and batch 1000. Those logits are checked within 1e-5 of the largest logit (a float
// holds 24 bits; a dense sum over a few hundred products reordered moves by a few ulps of the
// sum's largest terms), and the predicted classes are checked identical. The chunking depends
// on the batch size only, so the thread count changes nothing: checked bit for bit.

using namespace textcnn;

namespace {

LayerSpec layer(std::string type, std::string name = "", std::map<std::string, std::string> settings = {}) {
    return LayerSpec{std::move(type), std::move(name), std::move(settings), {}};
}

Tensor random_images(std::size_t n, std::uint64_t seed) {
    Tensor t(Shape{n, 1, 28, 28});
    Rng rng(seed);
    for (float& v : t.values()) v = rng.uniform(0.0f, 1.0f);
    return t;
}

Network image_network(const std::string& name) {
    Architecture arch = builtin_architecture(name);
    bind_class_count(arch.layers, 10);
    Network net(arch.layers, Shape{1, 1, 28, 28});
    net.initialize(Initializer{}, 3);
    return net;
}

std::vector<float> plain_forward(const Network& net, const Tensor& input) {
    auto ws = net.make_workspace();
    const Tensor& out = net.forward(input, ws, RunContext{Mode::inference});
    return {out.values().begin(), out.values().end()};
}

std::vector<float> chunked_forward(const Network& net, const Tensor& input, std::size_t max_chunk) {
    auto ws = net.make_chunked_workspace();
    const Tensor& out = net.forward_chunked(input, ws, max_chunk);
    BOOST_TEST((out.shape() == net.output_shape(input.samples())));
    return {out.values().begin(), out.values().end()};
}

std::size_t first_difference(const std::vector<float>& a, const std::vector<float>& b) {
    if (a.size() != b.size()) return 0;
    return static_cast<std::size_t>(std::mismatch(a.begin(), a.end(), b.begin()).first - a.begin());
}

// Logits within 1e-5 of the largest one, and the same argmax per row of `classes`.
void check_close(const std::vector<float>& expected, const std::vector<float>& got, std::size_t classes) {
    BOOST_REQUIRE_EQUAL(expected.size(), got.size());
    float scale = 0.0f;
    for (float v : expected) scale = std::max(scale, std::abs(v));
    BOOST_REQUIRE(scale > 0.0f);
    float worst = 0.0f;
    for (std::size_t i = 0; i < expected.size(); ++i) worst = std::max(worst, std::abs(expected[i] - got[i]));
    BOOST_TEST(worst <= 1e-5f * scale, "largest difference " << worst << " against largest logit " << scale);
    for (std::size_t row = 0; row < expected.size() / classes; ++row) {
        const auto a = expected.begin() + row * classes, b = got.begin() + row * classes;
        const auto best_expected = std::max_element(a, a + classes) - a;
        const auto best_got = std::max_element(b, b + classes) - b;
        BOOST_TEST(best_expected == best_got, "row " << row);
    }
}

}  // namespace

BOOST_AUTO_TEST_CASE(conv_and_pool_stack_is_bit_identical_whatever_the_chunking) {
    // The cnn_1_with_pooling stack without its dense layer: output (N, 392).
    const ModelSpec spec{layer("conv", "conv_1", {{"filters", "8"}, {"kernel", "5,5"}, {"padding", "same"}}),
                         layer("relu"),
                         layer("max_pool", "pool_1", {{"window", "2,2"}, {"padding", "same"}}),
                         layer("conv", "conv_2", {{"filters", "8"}, {"kernel", "3,3"}, {"padding", "same"}}),
                         layer("relu"),
                         layer("max_pool", "pool_2", {{"window", "2,2"}, {"padding", "same"}}),
                         layer("flatten")};
    Network net(spec, Shape{1, 1, 28, 28});
    net.initialize(Initializer{}, 5);
    ThreadLimit limit(2);
    const Tensor images = random_images(37, 11);
    const auto expected = plain_forward(net, images);
    BOOST_REQUIRE_EQUAL(expected.size(), 37u * 392u);
    for (std::size_t max_chunk : {1u, 2u, 4u, 5u, 16u, 36u, 37u, 100u}) {
        const auto got = chunked_forward(net, images, max_chunk);
        BOOST_TEST(first_difference(expected, got) == expected.size(), "max chunk " << max_chunk);
    }
}

BOOST_AUTO_TEST_CASE(builtin_image_networks_match_the_plain_forward) {
    ThreadLimit limit(2);
    const Tensor images = random_images(45, 12);
    for (const std::string& name : builtin_architecture_names()) {
        BOOST_TEST_CONTEXT("architecture " << name) {
            const Network net = image_network(name);
            const auto expected = plain_forward(net, images);
            for (std::size_t max_chunk : {0u, 3u, 7u, 16u, 45u}) {
                BOOST_TEST_CONTEXT("max chunk " << max_chunk) { check_close(expected, chunked_forward(net, images, max_chunk), 10); }
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(chunked_forward_is_bit_identical_whatever_the_thread_count) {
    const Network net = image_network("cnn_1_with_pooling");
    const Tensor images = random_images(203, 13);
    std::vector<float> one, two, four;
    {
        ThreadLimit limit(1);
        one = chunked_forward(net, images, 0);
    }
    {
        ThreadLimit limit(2);
        two = chunked_forward(net, images, 0);
    }
    {
        ThreadLimit limit(4);
        four = chunked_forward(net, images, 0);
    }
    BOOST_TEST(first_difference(one, two) == one.size());
    BOOST_TEST(first_difference(one, four) == one.size());
}

BOOST_AUTO_TEST_CASE(a_workspace_is_reused_across_batch_sizes_moves_and_networks) {
    ThreadLimit limit(2);
    const Network a = image_network("cnn_1_with_pooling");
    const Network b = image_network("cnn_1");
    const Tensor big = random_images(150, 14), small = random_images(9, 15);
    auto ws = a.make_chunked_workspace();
    const std::vector<float> big_once(a.forward_chunked(big, ws).values().begin(), a.forward_chunked(big, ws).values().end());
    BOOST_TEST(first_difference(big_once, chunked_forward(a, big, 0)) == big_once.size());
    // A smaller batch after a larger one: the output is resized, not stale.
    const Tensor& small_out = a.forward_chunked(small, ws);
    BOOST_TEST((small_out.shape() == Shape{9, 10}));
    BOOST_TEST(first_difference({small_out.values().begin(), small_out.values().end()}, chunked_forward(a, small, 0)) ==
               90u);
    // Moved, then used with another network: it starts afresh for that network.
    auto moved = std::move(ws);
    const Tensor& other = b.forward_chunked(small, moved);
    BOOST_TEST(first_difference({other.values().begin(), other.values().end()}, chunked_forward(b, small, 0)) == 90u);
    // The moved-from workspace still works.
    const Tensor& again = a.forward_chunked(small, ws);
    BOOST_TEST(first_difference({again.values().begin(), again.values().end()}, chunked_forward(a, small, 0)) == 90u);
}

BOOST_AUTO_TEST_CASE(a_bad_input_gets_the_error_of_forward) {
    const Network net = image_network("cnn_1_with_pooling");
    auto ws = net.make_chunked_workspace();
    const Tensor wrong(Shape{20, 3, 28, 28});
    BOOST_CHECK_EXCEPTION(net.forward_chunked(wrong, ws), ShapeError, [](const ShapeError& e) {
        const std::string expected =
            "conv 'conv_1': input shape (20, 3, 28, 28) does not fit the model's sample shape (None, 1, 28, 28)";
        BOOST_TEST_MESSAGE("got: " << e.what());
        return e.what() == expected;
    });
    // An error inside a chunk (the image is too narrow for the dense layer) reaches the caller.
    const Tensor narrow(Shape{20, 1, 28, 20});
    BOOST_CHECK_THROW(net.forward_chunked(narrow, ws), ShapeError);
    // The workspace is still usable afterwards.
    const Tensor images = random_images(20, 16);
    const Tensor& out = net.forward_chunked(images, ws);
    BOOST_TEST((out.shape() == Shape{20, 10}));
}

BOOST_AUTO_TEST_CASE(text_batches_ordinary_and_packed) {
    // Kim's network on token ids: an ordinary (N, 1, L) batch is chunked; a packed one runs as
    // one forward() (bit-identical).
    auto branch = [](const std::string& width) {
        return std::vector<LayerSpec>{layer("conv", "conv_" + width, {{"filters", "6"}, {"kernel", width}}), layer("relu"),
                                      layer("global_max_pool")};
    };
    LayerSpec parallel = layer("parallel", "convs");
    parallel.branches = {branch("3"), branch("4"), branch("5")};
    const ModelSpec spec{layer("embedding", "emb", {{"vocab", "50"}, {"dim", "8"}}), parallel,
                         layer("dropout", "", {{"rate", "0.5"}}), layer("dense", "output", {{"units", "3"}})};
    Network net(spec, Shape{1, 1, 12});
    net.initialize(Initializer{}, 6);
    ThreadLimit limit(2);
    Rng rng(17);
    Tensor ordinary(Shape{30, 1, 12});
    for (float& v : ordinary.values()) v = static_cast<float>(rng.below(50));
    check_close(plain_forward(net, ordinary), chunked_forward(net, ordinary, 4), 3);

    // Three sentences of lengths 5, 7 and 6 laid end to end with zero gaps of 4.
    Tensor packed(Shape{1, 1, 4 + 5 + 4 + 7 + 4 + 6 + 4});
    packed.spans = {{4, 5}, {13, 7}, {24, 6}};
    for (const SequenceSpan& s : packed.spans)
        for (std::uint32_t i = 0; i < s.length; ++i) packed[s.offset + i] = static_cast<float>(2 + rng.below(48));
    const auto expected = plain_forward(net, packed);
    BOOST_REQUIRE_EQUAL(expected.size(), 9u);
    BOOST_TEST(first_difference(expected, chunked_forward(net, packed, 1)) == 9u);
}
