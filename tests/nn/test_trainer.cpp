#define BOOST_TEST_MODULE trainer
#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include "textcnn/core/error.h"
#include "textcnn/nn/trainer.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <cstdio>
#include <filesystem>
#include <unistd.h>

using namespace textcnn;
namespace fs = std::filesystem;

// Named, not anonymous: BOOST_DATA_TEST_CASE instantiates templates whose lambdas capture these
// types, and GCC warns (-Wsubobject-linkage) when such a type has internal linkage.
namespace trainer_test {

LayerSpec layer(std::string type, std::string name = "", std::map<std::string, std::string> settings = {}) {
    return LayerSpec{std::move(type), std::move(name), std::move(settings), {}};
}

// Kim-like: embedding -> conv widths 2 and 3 (relu, max over time) -> dropout -> dense.
ModelSpec kim_spec(std::size_t vocab, std::size_t dim, std::size_t filters) {
    auto branch = [&](const std::string& width) {
        return std::vector<LayerSpec>{
            layer("conv", "conv_" + width, {{"filters", std::to_string(filters)}, {"kernel", width}}), layer("relu"),
            layer("global_max_pool")};
    };
    LayerSpec parallel = layer("parallel", "convs");
    parallel.branches = {branch("2"), branch("3")};
    return {layer("embedding", "emb", {{"vocab", std::to_string(vocab)}, {"dim", std::to_string(dim)}}), parallel,
            layer("dropout", "", {{"rate", "0.5"}}), layer("dense", "output", {{"units", "2"}})};
}

// Random token sequences (ids 2..vocab-1, lengths 6..13); label 1 when the bigram (5, 7) is
// planted, and no negative contains it.
struct TextData {
    std::vector<std::vector<std::uint32_t>> sequences;
    std::vector<std::uint32_t> labels;
};

TextData planted_bigram_data(std::size_t n, std::uint64_t seed, std::size_t vocab = 30) {
    TextData d;
    Rng rng(seed);
    for (std::size_t i = 0; i < n; ++i) {
        const std::size_t length = 6 + rng.below(8);
        std::vector<std::uint32_t> s(length);
        for (auto& id : s) id = static_cast<std::uint32_t>(2 + rng.below(vocab - 2));
        const std::uint32_t label = static_cast<std::uint32_t>(i % 2);
        for (std::size_t t = 0; t + 1 < length; ++t)
            if (s[t] == 5 && s[t + 1] == 7) s[t + 1] = 8;
        if (label == 1) {
            const std::size_t at = rng.below(length - 1);
            s[at] = 5;
            s[at + 1] = 7;
        }
        d.sequences.push_back(std::move(s));
        d.labels.push_back(label);
    }
    return d;
}

// Packs the chosen sequences end to end with one zero between them (tensor.h).
BatchSource packed_source(const TextData& data) {
    return [&data](std::span<const std::size_t> indices, Tensor& input, std::vector<std::uint32_t>& labels) {
        std::size_t total = 1;
        for (std::size_t i : indices) total += data.sequences[i].size() + 1;
        input.resize(Shape{1, 1, total}, true);
        input.spans.clear();
        std::uint32_t offset = 1;
        for (std::size_t i : indices) {
            const auto& s = data.sequences[i];
            input.spans.push_back({offset, static_cast<std::uint32_t>(s.size())});
            for (std::size_t t = 0; t < s.size(); ++t) input[offset + t] = static_cast<float>(s[t]);
            offset += static_cast<std::uint32_t>(s.size()) + 1;
            labels.push_back(data.labels[i]);
        }
    };
}

// 8x8 images: a vertical bar (class 0) or a horizontal bar (class 1) at a random place, plus noise.
struct ImageData {
    std::vector<std::vector<float>> images;
    std::vector<std::uint32_t> labels;
};

ImageData bars_data(std::size_t n, std::uint64_t seed) {
    ImageData d;
    Rng rng(seed);
    for (std::size_t i = 0; i < n; ++i) {
        std::vector<float> img(64);
        for (auto& v : img) v = rng.uniform(0.0f, 0.3f);
        const std::uint32_t label = static_cast<std::uint32_t>(rng.below(2));
        const std::size_t at = rng.below(8);
        for (std::size_t k = 0; k < 8; ++k) img[label == 0 ? k * 8 + at : at * 8 + k] += 1.0f;
        d.images.push_back(std::move(img));
        d.labels.push_back(label);
    }
    return d;
}

BatchSource image_source(const ImageData& data) {
    return [&data](std::span<const std::size_t> indices, Tensor& input, std::vector<std::uint32_t>& labels) {
        input.resize(Shape{indices.size(), 1, 8, 8});
        for (std::size_t b = 0; b < indices.size(); ++b) {
            std::copy(data.images[indices[b]].begin(), data.images[indices[b]].end(), input.sample(b));
            labels.push_back(data.labels[indices[b]]);
        }
    };
}

ModelSpec image_spec() {
    // "same" padding: a bar on the border row is seen by the kernel's centre, not only its edge.
    return {layer("conv", "conv_1", {{"filters", "4"}, {"kernel", "3,3"}, {"padding", "same"}}), layer("relu"),
            layer("max_pool", "pool", {{"window", "2,2"}}), layer("flatten"), layer("dense", "output", {{"units", "2"}})};
}

TrainerSettings kim_settings() {
    TrainerSettings s;
    s.epochs = 4;
    s.batch_size = 16;
    s.seed = 77;
    s.optimizer = OptimizerSettings::defaults_for("adadelta");
    s.max_norm = 3.0f;
    s.max_norm_groups = {5};  // dense weights
    return s;
}

// The set-up of the validation tests: the bars network from seed 1, plain SGD in batches of 10.
Network bars_network() {
    Network net(image_spec(), Shape{1, 1, 8, 8});
    net.initialize({}, 1);
    return net;
}

TrainerSettings sgd_settings(std::size_t epochs) {
    TrainerSettings s;
    s.epochs = epochs;
    s.batch_size = 10;
    s.optimizer = OptimizerSettings::defaults_for("sgd");
    return s;
}

struct TempDir {
    fs::path path;
    TempDir() {
        path = fs::temp_directory_path() / ("textcnn_trainer_" + std::to_string(::getpid()));
        fs::create_directories(path);
    }
    ~TempDir() { fs::remove_all(path); }
};

// The bars network from seed 4, trained with Adam (rate 0.01, batches of 20, seed 9) for
// `epochs`; its evaluation on the training data.
Evaluation train_bars_with_adam(const ImageData& data, std::size_t epochs, double label_smoothing) {
    Network net(image_spec(), Shape{1, 1, 8, 8});
    net.initialize({}, 4);
    TrainerSettings s;
    s.epochs = epochs;
    s.batch_size = 20;
    s.seed = 9;
    s.optimizer = OptimizerSettings::defaults_for("adam");
    s.optimizer.learning_rate = 0.01f;
    s.label_smoothing = label_smoothing;
    Trainer trainer(net, s);
    trainer.set_training_data(data.labels.size(), image_source(data));
    trainer.run();
    return evaluate(net, data.labels.size(), image_source(data), 50);
}

bool message_is(const Error& e, const std::string& expected) {
    if (e.what() == expected) return true;
    BOOST_TEST_MESSAGE("got: " << e.what());
    return false;
}

}  // namespace trainer_test

using namespace trainer_test;

BOOST_AUTO_TEST_CASE(learns_a_planted_bigram) {
    const TextData data = planted_bigram_data(400, 1);
    Network net(kim_spec(30, 8, 8), Shape{1, 1, 13});
    net.initialize({}, 3);
    TrainerSettings s = kim_settings();
    s.epochs = 12;
    Trainer trainer(net, s);
    trainer.set_training_data(data.labels.size(), packed_source(data));
    const TrainResult r = trainer.run();
    BOOST_TEST((r.reason == StopReason::completed));
    BOOST_TEST(r.history.size() == 12u);
    const Evaluation e = evaluate(net, data.labels.size(), packed_source(data), 64);
    BOOST_TEST_MESSAGE("planted bigram: training accuracy " << e.accuracy << ", loss " << e.loss
                                                            << ", last epoch's training loss "
                                                            << r.history.back().train_loss);
    BOOST_TEST(e.accuracy >= 0.99);
    // Held-out data from the same process: the rule, not the samples, was learnt.
    const TextData fresh = planted_bigram_data(200, 2);
    BOOST_TEST(evaluate(net, fresh.labels.size(), packed_source(fresh), 64).accuracy >= 0.95);
}

BOOST_AUTO_TEST_CASE(learns_a_separable_image_pattern) {
    const ImageData data = bars_data(300, 5);
    const Evaluation e = train_bars_with_adam(data, 10, 0.0);
    BOOST_TEST_MESSAGE("bars: training accuracy " << e.accuracy << ", loss " << e.loss);
    BOOST_TEST(e.accuracy >= 0.99);
    BOOST_TEST(e.probabilities.size() == 600u);
    for (std::size_t i = 0; i < 300; ++i)
        BOOST_TEST(e.probabilities[2 * i] + e.probabilities[2 * i + 1] == 1.0f, boost::test_tools::tolerance(1e-6f));
}

// Label smoothing e trains towards p(true) = 1 - e + e / K, not 1: on the separable bars (K = 2,
// e = 0.2: 0.9) the smoothed network stays right but stops short of certainty, while the plain
// one goes on towards it.
BOOST_AUTO_TEST_CASE(label_smoothing_keeps_the_network_from_certainty) {
    const ImageData data = bars_data(300, 5);
    auto train = [&](double smoothing) {
        const Evaluation e = train_bars_with_adam(data, 20, smoothing);
        double mean_true = 0.0;
        for (std::size_t i = 0; i < data.labels.size(); ++i) mean_true += e.probabilities[2 * i + data.labels[i]];
        mean_true /= static_cast<double>(data.labels.size());
        BOOST_TEST_MESSAGE("label smoothing " << smoothing << ": accuracy " << e.accuracy << ", mean p(true) " << mean_true);
        BOOST_TEST(e.accuracy >= 0.99);
        return mean_true;
    };
    const double plain = train(0.0), smoothed = train(0.2);
    BOOST_TEST(plain > 0.97);
    BOOST_TEST(smoothed > 0.85);
    BOOST_TEST(smoothed < 0.93);

    TrainerSettings bad;
    bad.label_smoothing = 1.0;
    Network net(image_spec(), Shape{1, 1, 8, 8});
    BOOST_CHECK_EXCEPTION(Trainer(net, bad), ConfigError,
                          [](const ConfigError& e) { return message_is(e, "trainer: label smoothing must be in [0, 1), got 1"); });
    // Found by a new-user run of the library: NaN max-norm, 0 epochs, 0 validations per epoch
    // and a decay after the last epoch were taken (as "off", an untrained network, 1, nothing).
    const auto refused = [&](auto change, const std::string& message) {
        TrainerSettings s;
        change(s);
        BOOST_CHECK_EXCEPTION(Trainer(net, s), ConfigError, [&](const ConfigError& e) { return message_is(e, message); });
    };
    refused([](TrainerSettings& s) { s.max_norm = std::nanf(""); },
            "trainer: max-norm must be a finite number >= 0 (0 = off), got nan");
    BOOST_CHECK_EXCEPTION(net.initialize(Initializer{Initializer::Kind::uniform, std::nanf("")}, 1), ConfigError,
                          [](const ConfigError& e) {
                              return message_is(e, "initializer: the uniform scale must be in [0, 1e6], got nan");
                          });
    refused([](TrainerSettings& s) { s.epochs = 0; }, "trainer: epochs must be at least 1 (0 returns the untrained network)");
    refused([](TrainerSettings& s) { s.validations_per_epoch = 0; },
            "trainer: validations per epoch must be at least 1 (validation at each epoch's end)");
    refused(
        [](TrainerSettings& s) {
            s.epochs = 5;
            s.learning_rate_schedule.decay_after_epochs = {2, 5};
        },
        "trainer: a learning-rate decay after epoch 5 acts on no epoch of the 5 trained");
}

// 4 epochs straight = 2 epochs, checkpoint, resume for 2 more; and the same for a stop in the
// middle of an epoch. Validation, dropout, max-norm and best-model restoring all take part.
// Also with two validations per epoch, whose mid-epoch best-model updates must survive a stop.
BOOST_DATA_TEST_CASE(resume_from_checkpoint_gives_identical_weights, boost::unit_test::data::make({1, 2}),
                     validations_per_epoch) {
    const TextData data = planted_bigram_data(150, 11), dev = planted_bigram_data(40, 12);
    TempDir dir;
    auto fresh_net = [] {
        Network net(kim_spec(30, 8, 6), Shape{1, 1, 13});
        net.initialize({}, 21);
        return net;
    };
    auto make = [&](Network& net) {
        TrainerSettings settings = kim_settings();
        settings.validations_per_epoch = static_cast<std::size_t>(validations_per_epoch);
        auto t = std::make_unique<Trainer>(net, settings);
        t->set_training_data(data.labels.size(), packed_source(data));
        t->set_validation_data(dev.labels.size(), packed_source(dev));
        return t;
    };
    Network straight = fresh_net();
    std::vector<EpochSummary> straight_epochs;
    auto t0 = make(straight);
    t0->on_epoch_end([&](const EpochSummary& e) { straight_epochs.push_back(e); });
    const TrainResult r0 = t0->run();
    BOOST_TEST((r0.reason == StopReason::completed));
    BOOST_TEST(r0.best_epoch >= 1u);
    // The best epoch's parameters are back in the network.
    BOOST_TEST(std::equal(straight.parameters().begin(), straight.parameters().end(), t0->state().best_parameters.begin()));

    for (int mode = 0; mode < 2; ++mode) {
        BOOST_TEST_CONTEXT((mode == 0 ? "stop after epoch 2" : "stop inside epoch 2")) {
            std::atomic<bool> stop{false};
            Network first = fresh_net();
            auto t1 = make(first);
            t1->set_stop_flag(&stop);
            if (mode == 0)
                t1->on_epoch_end([&](const EpochSummary& e) { stop = e.epoch == 2; });
            else
                t1->on_progress([&](const TrainingProgress& p) { stop = p.epoch == 2 && p.batch == 6; });
            const TrainResult r1 = t1->run();
            BOOST_TEST((r1.reason == StopReason::interrupted));
            BOOST_TEST(t1->state().epoch == (mode == 0 ? 2u : 1u));
            BOOST_TEST(t1->state().batch == (mode == 0 ? 0u : 6u));  // after the mid-epoch validation at batch 5 of 10
            const std::string path = (dir.path / ("checkpoint_" + std::to_string(mode))).string();
            write_checkpoint(path, first, t1->state());

            Checkpoint c = read_checkpoint(path);
            BOOST_TEST(std::equal(c.network.parameters().begin(), c.network.parameters().end(), first.parameters().begin()));
            auto t2 = make(c.network);
            std::vector<EpochSummary> resumed_epochs;
            t2->on_epoch_end([&](const EpochSummary& e) { resumed_epochs.push_back(e); });
            t2->resume(c.state);
            const TrainResult r2 = t2->run();
            BOOST_TEST((r2.reason == StopReason::completed));
            BOOST_TEST(r2.best_epoch == r0.best_epoch);
            BOOST_TEST(std::equal(c.network.parameters().begin(), c.network.parameters().end(), straight.parameters().begin(),
                                  straight.parameters().end()));
            // The resumed epochs report what the straight run reported.
            BOOST_REQUIRE_EQUAL(resumed_epochs.size(), mode == 0 ? 2u : 3u);
            for (const auto& e : resumed_epochs) {
                const auto& s = straight_epochs[e.epoch - 1];
                BOOST_TEST(e.train_loss == s.train_loss);
                BOOST_TEST(e.train_accuracy == s.train_accuracy);
                BOOST_TEST(e.validation_accuracy == s.validation_accuracy);
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(checkpoint_sections_round_trip_and_refuse_truncation) {
    Network net(image_spec(), Shape{1, 1, 8, 8});
    TrainerState s;
    s.seed = 5;
    s.train_count = 100;
    s.batch_size = 10;
    s.epoch = 3;
    s.batch = 7;
    s.step = 37;
    s.epoch_loss_sum = 1.25;
    s.epoch_correct = 60;
    s.epoch_samples = 70;
    s.best_accuracy = 0.875;
    s.best_epoch = 2;
    s.epochs_without_improvement = 1;
    s.best_parameters.assign(net.parameter_count(), 0.5f);
    s.optimizer_name = "adam";
    s.optimizer_state = {1.0f, 2.0f, 3.0f};
    ModelFile file;
    add_checkpoint_sections(file, net, s);
    const auto bytes = encode_model_file(file);
    const TrainerState back = trainer_state_from_sections(decode_model_file(bytes, "ck"));
    BOOST_TEST(back.seed == 5u);
    BOOST_TEST(back.batch == 7u);
    BOOST_TEST(back.step == 37u);
    BOOST_TEST(back.epoch_loss_sum == 1.25);
    BOOST_TEST(back.best_accuracy == 0.875);
    BOOST_TEST(back.epochs_without_improvement == 1u);
    BOOST_TEST((back.best_parameters == s.best_parameters));
    BOOST_TEST(back.optimizer_name == "adam");
    BOOST_TEST((back.optimizer_state == s.optimizer_state));
    for (std::size_t n = 0; n < bytes.size(); n += 3)
        BOOST_CHECK_THROW(trainer_state_from_sections(decode_model_file({bytes.data(), n}, "ck")), InputError);
    ModelFile no_trainer;
    add_network_sections(no_trainer, net);
    no_trainer.source = "model.bin";
    BOOST_CHECK_EXCEPTION(trainer_state_from_sections(no_trainer), InputError,
                          [](const InputError& e) { return message_is(e, "model.bin: missing section 'OPTM'"); });
}

BOOST_AUTO_TEST_CASE(early_stopping_and_patience) {
    const ImageData data = bars_data(60, 3);
    // One validation sample: its accuracy can improve at most twice (first epoch, then 0 -> 1).
    const ImageData dev = bars_data(1, 4);
    Network net = bars_network();
    TrainerSettings s = sgd_settings(30);
    s.patience = 2;
    Trainer trainer(net, s);
    trainer.set_training_data(data.labels.size(), image_source(data));
    trainer.set_validation_data(dev.labels.size(), image_source(dev));
    const TrainResult r = trainer.run();
    BOOST_TEST((r.reason == StopReason::early_stopped));
    BOOST_TEST(r.epochs_completed <= 6u);
    BOOST_TEST(r.epochs_completed == r.best_epoch + 2);
    BOOST_TEST(r.history.size() == r.epochs_completed);
    BOOST_TEST(r.history[r.best_epoch - 1].improved);
    BOOST_TEST(trainer.state().finished);
}

BOOST_AUTO_TEST_CASE(equal_validation_accuracies_keep_the_first_or_with_kim_the_later_model) {
    const ImageData data = bars_data(60, 3);
    // The same image twice with both labels: whatever the model, exactly one is right, so
    // every validation ties at 0.5.
    ImageData dev = bars_data(1, 4);
    dev.images.push_back(dev.images[0]);
    dev.labels.push_back(1 - dev.labels[0]);
    Network unvalidated = bars_network();
    Trainer reference(unvalidated, sgd_settings(4));
    reference.set_training_data(data.labels.size(), image_source(data));
    reference.run();  // no validation: ends on the last epoch's weights
    for (const bool later : {false, true}) {
        Network net = bars_network();
        TrainerSettings s = sgd_settings(4);
        s.later_best_on_ties = later;
        Trainer trainer(net, s);
        trainer.set_training_data(data.labels.size(), image_source(data));
        trainer.set_validation_data(dev.labels.size(), image_source(dev));
        const TrainResult r = trainer.run();
        BOOST_TEST(r.best_accuracy == 0.5);
        BOOST_TEST(r.best_epoch == (later ? 4u : 1u));
        for (const EpochSummary& e : r.history) BOOST_TEST(e.improved == (later || e.epoch == 1));
        // restore_best puts back the kept model: "later" ends on the last epoch's weights.
        const auto last = unvalidated.parameters();
        BOOST_TEST(std::equal(last.begin(), last.end(), net.parameters().begin()) == later);
    }
    // Patience counts validations without a new best; with ties counting, it never runs out.
    Network net = bars_network();
    TrainerSettings s = sgd_settings(6);
    s.patience = 2;
    s.later_best_on_ties = true;
    Trainer trainer(net, s);
    trainer.set_training_data(data.labels.size(), image_source(data));
    trainer.set_validation_data(dev.labels.size(), image_source(dev));
    BOOST_TEST((trainer.run().reason == StopReason::completed));
}

BOOST_AUTO_TEST_CASE(output_weight_groups_find_the_final_dense_weights) {
    const Network kim(kim_spec(30, 8, 4), Shape{1, 1, 13});
    BOOST_TEST((output_weight_groups(kim) == std::vector<std::size_t>{5}));
    BOOST_TEST(kim.groups()[5].layer_label == "dense 'output'");
    BOOST_TEST(kim.groups()[5].info.name == "weights");
    const Network image(image_spec(), Shape{1, 1, 8, 8});
    BOOST_TEST((output_weight_groups(image) == std::vector<std::size_t>{2}));
    const Network no_weights({layer("flatten")}, Shape{1, 1, 8, 8});
    BOOST_TEST(output_weight_groups(no_weights).empty());
}

BOOST_AUTO_TEST_CASE(bad_use_is_reported) {
    const ImageData data = bars_data(8, 3);
    Network net(image_spec(), Shape{1, 1, 8, 8});
    TrainerSettings s;
    s.batch_size = 4;
    {
        Trainer trainer(net, s);
        BOOST_CHECK_EXCEPTION(trainer.run(), ConfigError,
                              [](const ConfigError& e) { return message_is(e, "trainer: no training data"); });
        trainer.set_training_data(8, [&](std::span<const std::size_t> idx, Tensor& in, std::vector<std::uint32_t>& labels) {
            image_source(data)(idx, in, labels);
            labels[0] = 5;
        });
        BOOST_CHECK_EXCEPTION(trainer.run(), ShapeError, [](const ShapeError& e) {
            return message_is(e, "dense 'output': label 5 of sample 0 is not one of the 2 classes of the output shape (4, 2)");
        });
        trainer.set_training_data(8, [&](std::span<const std::size_t> idx, Tensor& in, std::vector<std::uint32_t>& labels) {
            image_source(data)(idx, in, labels);
            labels.pop_back();
        });
        BOOST_CHECK_EXCEPTION(trainer.run(), ConfigError, [](const ConfigError& e) {
            return message_is(e, "trainer: the batch source gave 3 labels for 4 samples");
        });
    }
    s.class_weights = {1.0f, 2.0f, 3.0f};
    BOOST_CHECK_EXCEPTION(Trainer(net, s), ConfigError, [](const ConfigError& e) {
        return message_is(e, "trainer: 3 class weights for the 2 classes of dense 'output'");
    });
    s.class_weights.clear();
    s.max_norm_groups = {1};
    s.max_norm = 3.0f;
    BOOST_CHECK_EXCEPTION(Trainer(net, s), ConfigError, [](const ConfigError& e) {
        return message_is(e, "trainer: max-norm group 1 (conv 'conv_1' 'bias') has no weight-vector columns");
    });
    s.max_norm_groups.clear();
    Network conv_only({layer("conv", "c", {{"filters", "2"}, {"kernel", "3,3"}})}, Shape{1, 1, 8, 8});
    BOOST_CHECK_EXCEPTION(Trainer(conv_only, s), ShapeError, [](const ShapeError& e) {
        return message_is(e, "conv 'c': output shape (0, 2, 6, 6) is not (batch, classes); end the network with a dense layer");
    });
    Trainer trainer(net, s);
    TrainerState other = trainer.state();
    other.seed = 99;
    BOOST_CHECK_EXCEPTION(trainer.resume(other), ConfigError, [](const ConfigError& e) {
        return message_is(e, "trainer: the checkpoint was made with seed 99, this run has seed 1");
    });
    // Issue 15: a corrupt position inside the epoch was a ConfigError (exit 2, "usage error"):
    // it is the checkpoint's own state, so an InputError, found at resume().
    trainer.set_training_data(8, image_source(data));
    TrainerState corrupt = trainer.state();
    corrupt.seed = s.seed;
    corrupt.batch_size = s.batch_size;
    corrupt.optimizer_name = s.optimizer.name;
    corrupt.train_count = 8;
    corrupt.batch = 1000;
    BOOST_CHECK_EXCEPTION(trainer.resume(corrupt), InputError, [](const InputError& e) {
        return message_is(e, "trainer: the checkpoint is at batch 1000 of an epoch of 2 (a corrupt checkpoint)");
    });
    corrupt.batch = 1;
    corrupt.epoch_samples = 4;
    corrupt.epoch_correct = 5;
    BOOST_CHECK_EXCEPTION(trainer.resume(corrupt), InputError, [](const InputError& e) {
        return message_is(e, "trainer: the checkpoint's counts contradict each other (5 correct of 4 samples this epoch, "
                             "8 per epoch; best epoch 0 at epoch 0): a corrupt checkpoint");
    });
    // Found by a hostile-file run: NaN accumulators read as "the weights diverged ... try a lower
    // learning rate"; a NaN loss sum or best accuracy and 2^64 - 1 epochs were taken.
    corrupt.epoch_correct = 0;
    const std::string not_finite = "trainer: the checkpoint's loss sum, best accuracy, optimizer state or best weights "
                                   "are not finite numbers in their range (a corrupt checkpoint)";
    for (int which = 0; which < 3; ++which) {
        TrainerState bad = corrupt;
        if (which == 0) bad.epoch_loss_sum = std::nan("");
        if (which == 1) bad.best_accuracy = 7.0;
        if (which == 2) bad.optimizer_state.assign(4, std::numeric_limits<float>::infinity());
        BOOST_CHECK_EXCEPTION(trainer.resume(bad), InputError, [&](const InputError& e) { return message_is(e, not_finite); });
    }
    corrupt.epoch = std::numeric_limits<std::uint64_t>::max();
    BOOST_CHECK_THROW(trainer.resume(corrupt), InputError);
}


// A learning-rate schedule is a trainer setting: the rate of each epoch, also after a resume.
// Decaying after epoch 1 must equal one epoch at the full rate followed by a trainer that
// resumes its state at the decayed rate (what imagecnn did before the schedule was a setting).
BOOST_AUTO_TEST_CASE(learning_rate_schedule_decays_between_epochs) {
    const ImageData data = bars_data(60, 5);
    auto train = [&](Network& net, TrainerSettings s, const TrainerState* from, std::atomic<bool>* stop,
                     std::vector<EpochSummary>* epochs) {
        Trainer trainer(net, s);
        trainer.set_training_data(data.labels.size(), image_source(data));
        if (epochs) trainer.on_epoch_end([epochs, stop](const EpochSummary& e) {
            epochs->push_back(e);
            if (stop) stop->store(e.epoch == 2);
        });
        trainer.set_stop_flag(stop);
        if (from) trainer.resume(*from);
        trainer.run();
        return trainer.state();
    };
    TrainerSettings scheduled = sgd_settings(3);
    scheduled.learning_rate_schedule = {{1}, 0.5f};
    Network net = bars_network();
    std::vector<EpochSummary> epochs;
    train(net, scheduled, nullptr, nullptr, &epochs);
    BOOST_REQUIRE_EQUAL(epochs.size(), 3u);
    BOOST_TEST(epochs[0].learning_rate == 0.01, boost::test_tools::tolerance(1e-6));
    BOOST_TEST(epochs[1].learning_rate == 0.005, boost::test_tools::tolerance(1e-6));
    BOOST_TEST(epochs[2].learning_rate == 0.005, boost::test_tools::tolerance(1e-6));

    Network staged = bars_network();
    const TrainerState after_one = train(staged, sgd_settings(1), nullptr, nullptr, nullptr);
    TrainerSettings slower = sgd_settings(3);
    slower.optimizer.learning_rate = 0.005f;
    train(staged, slower, &after_one, nullptr, nullptr);
    BOOST_TEST(std::equal(net.parameters().begin(), net.parameters().end(), staged.parameters().begin(),
                          staged.parameters().end()));

    // Stopped after epoch 2 and resumed: still the decayed rate, the same weights.
    Network resumed = bars_network();
    std::atomic<bool> stop{false};
    const TrainerState after_two = train(resumed, scheduled, nullptr, &stop, &epochs);
    BOOST_TEST(after_two.epoch == 2u);
    stop = false;
    train(resumed, scheduled, &after_two, nullptr, nullptr);
    BOOST_TEST(std::equal(net.parameters().begin(), net.parameters().end(), resumed.parameters().begin(),
                          resumed.parameters().end()));

    // A factor of 1 changes nothing; without decay the weights differ.
    Network constant = bars_network(), unit_factor = bars_network();
    train(constant, sgd_settings(3), nullptr, nullptr, nullptr);
    TrainerSettings unit = sgd_settings(3);
    unit.learning_rate_schedule = {{1, 2}, 1.0f};
    train(unit_factor, unit, nullptr, nullptr, nullptr);
    BOOST_TEST(std::equal(constant.parameters().begin(), constant.parameters().end(), unit_factor.parameters().begin(),
                          unit_factor.parameters().end()));
    BOOST_TEST(!std::equal(constant.parameters().begin(), constant.parameters().end(), net.parameters().begin(),
                           net.parameters().end()));

    TrainerSettings bad = sgd_settings(3);
    bad.learning_rate_schedule = {{0}, 0.5f};
    BOOST_CHECK_EXCEPTION(Trainer(net, bad), ConfigError, [](const ConfigError& e) {
        return message_is(e, "trainer: learning-rate decay epochs count from 1 (after epoch 1, 2, ...)");
    });
    bad.learning_rate_schedule = {{2}, 0.0f};
    BOOST_CHECK_EXCEPTION(Trainer(net, bad), ConfigError, [](const ConfigError& e) {
        return message_is(e, "trainer: the learning-rate decay factor must be in (0, 1], got 0");
    });
}
