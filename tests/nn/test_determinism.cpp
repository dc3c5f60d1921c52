#define BOOST_TEST_MODULE determinism
#include <boost/test/unit_test.hpp>

#include "textcnn/core/runtime.h"
#include "textcnn/nn/trainer.h"

using namespace textcnn;

// USERS.md theme 4: one seed drives initialisation, shuffling and dropout, and the weights after
// training are bit-identical for a seed whatever the thread count.

namespace {

LayerSpec layer(std::string type, std::string name = "", std::map<std::string, std::string> settings = {}) {
    return LayerSpec{std::move(type), std::move(name), std::move(settings), {}};
}

// embedding -> parallel of two conv widths (relu, max over time) -> dropout -> dense.
ModelSpec kim_spec(const std::string& dim = "64", const std::string& mode = "non-static") {
    auto branch = [](const std::string& width) {
        return std::vector<LayerSpec>{layer("conv", "conv_" + width, {{"filters", "32"}, {"kernel", width}}),
                                      layer("relu"), layer("global_max_pool")};
    };
    LayerSpec parallel = layer("parallel", "convs");
    parallel.branches = {branch("3"), branch("4")};
    return {layer("embedding", "emb", {{"vocab", "2000"}, {"dim", dim}, {"mode", mode}}), parallel, layer("dropout", "", {{"rate", "0.5"}}),
            layer("dense", "output", {{"units", "3"}})};
}

// conv -> max_pool -> flatten -> dense (with dropout, so masks are exercised too).
ModelSpec image_spec() {
    return {layer("conv", "conv_1", {{"filters", "16"}, {"kernel", "3,3"}, {"padding", "same"}}), layer("relu"),
            layer("max_pool", "pool", {{"window", "2,2"}}), layer("flatten"), layer("dropout", "", {{"rate", "0.25"}}),
            layer("dense", "output", {{"units", "3"}})};
}

// conv -> max_pool -> flatten (392 features) -> dense 10, trained in batches of 128: the dense
// products (10 x 128 x 392) are a shape OpenBLAS sums differently on 1 and 2 threads.
ModelSpec wide_dense_spec() {
    return {layer("conv", "conv_1", {{"filters", "2"}, {"kernel", "3,3"}, {"padding", "same"}}), layer("relu"),
            layer("max_pool", "pool", {{"window", "2,2"}}), layer("flatten"), layer("dense", "output", {{"units", "10"}})};
}

// Multichannel embeddings of 200 dimensions: the convolutions' inner dimension is 400, where
// OpenBLAS blocks differently on 1 and 2 threads (gemm.h).
enum class Case { text, image, wide_dense, multichannel };
const char* name_of(Case c) {
    switch (c) {
        case Case::text: return "text";
        case Case::image: return "image";
        case Case::wide_dense: return "wide dense";
        case Case::multichannel: return "multichannel text";
    }
    return "?";
}

struct Data {
    std::vector<std::vector<float>> samples;
    std::vector<std::uint32_t> labels;
};

Data text_data() {
    Data d;
    Rng rng(100);
    for (int i = 0; i < 256; ++i) {
        std::vector<float> ids(10 + rng.below(21));
        for (auto& id : ids) id = static_cast<float>(1 + rng.below(1999));
        d.samples.push_back(std::move(ids));
        d.labels.push_back(static_cast<std::uint32_t>(rng.below(3)));
    }
    return d;
}

Data image_data() {
    Data d;
    Rng rng(200);
    for (int i = 0; i < 192; ++i) {
        std::vector<float> px(28 * 28);
        for (auto& v : px) v = rng.uniform();
        d.samples.push_back(std::move(px));
        d.labels.push_back(static_cast<std::uint32_t>(rng.below(3)));
    }
    return d;
}

BatchSource packed_source(const Data& data) {
    return [&data](std::span<const std::size_t> indices, Tensor& input, std::vector<std::uint32_t>& labels) {
        std::size_t total = 0;
        for (std::size_t i : indices) total += data.samples[i].size() + 1;
        input.resize(Shape{1, 1, total}, true);
        input.spans.clear();
        std::uint32_t offset = 0;
        for (std::size_t i : indices) {
            const auto& s = data.samples[i];
            input.spans.push_back({offset, static_cast<std::uint32_t>(s.size())});
            std::copy(s.begin(), s.end(), input.data() + offset);
            offset += static_cast<std::uint32_t>(s.size()) + 1;
            labels.push_back(data.labels[i]);
        }
    };
}

BatchSource image_source(const Data& data) {
    return [&data](std::span<const std::size_t> indices, Tensor& input, std::vector<std::uint32_t>& labels) {
        input.resize(Shape{indices.size(), 1, 28, 28});
        for (std::size_t b = 0; b < indices.size(); ++b) {
            std::copy(data.samples[indices[b]].begin(), data.samples[indices[b]].end(), input.sample(b));
            labels.push_back(data.labels[indices[b]]);
        }
    };
}

std::vector<float> train(Case kind, std::size_t threads, std::uint64_t seed) {
    ThreadLimit limit(threads);
    static const Data texts = text_data(), images = image_data();
    const bool text = kind == Case::text || kind == Case::multichannel;
    Network net(kind == Case::text           ? kim_spec()
                : kind == Case::multichannel ? kim_spec("200", "multichannel")
                : kind == Case::image        ? image_spec()
                                             : wide_dense_spec(),
                text ? Shape{1, 1, 30} : Shape{1, 1, 28, 28});
    net.initialize({}, seed);
    TrainerSettings s;
    s.epochs = 2;
    s.batch_size = kind == Case::wide_dense ? 128 : 32;
    s.seed = seed;
    s.optimizer = OptimizerSettings::defaults_for(text ? "adadelta" : "adam");
    if (text) {
        s.max_norm = 3.0f;
        s.max_norm_groups = output_weight_groups(net);
    }
    Trainer trainer(net, s);
    trainer.set_training_data(text ? texts.labels.size() : images.labels.size(),
                              text ? packed_source(texts) : image_source(images));
    trainer.run();
    return {net.parameters().begin(), net.parameters().end()};
}

}  // namespace

BOOST_AUTO_TEST_CASE(same_seed_same_weights) {
    for (const Case kind : {Case::text, Case::image}) {
        BOOST_TEST_CONTEXT(name_of(kind)) {
            const auto a = train(kind, 2, 7), b = train(kind, 2, 7), c = train(kind, 2, 8);
            BOOST_TEST((a == b));
            BOOST_TEST((a != c));
        }
    }
}

BOOST_AUTO_TEST_CASE(thread_count_does_not_change_the_weights) {
    for (const Case kind : {Case::text, Case::image, Case::wide_dense, Case::multichannel}) {
        BOOST_TEST_CONTEXT(name_of(kind)) {
            const auto one = train(kind, 1, 7), two = train(kind, 2, 7);
            BOOST_TEST((one == two));
            std::size_t differ = 0;
            for (std::size_t i = 0; i < one.size(); ++i) differ += one[i] != two[i];
            BOOST_TEST_MESSAGE(name_of(kind) << ": " << differ << " of " << one.size()
                                             << " parameters differ between 1 and 2 threads");
        }
    }
}
