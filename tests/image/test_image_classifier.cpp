// ImageClassifier and ImageTrainingRun (image_classifier.h, image_training.h): a tiny network
// trained on tiny synthetic images in the test, prediction from 8-bit and float buffers and
// from files, save -> load -> identical probabilities, predictions from many threads, resume
// from a checkpoint == an uninterrupted run, model files of earlier versions, and the errors.
#define BOOST_TEST_MODULE image_classifier
#include <boost/test/unit_test.hpp>

#include "synthetic_images.h"
#include "test_helpers.h"

#include "image/image_model.h"
#include "textcnn/core/error.h"
#include "textcnn/image/idx.h"
#include "textcnn/image/image_classifier.h"
#include "textcnn/image/image_io.h"
#include "textcnn/image/image_network.h"
#include "textcnn/image/image_training.h"
#include "textcnn/nn/architecture.h"
#include "textcnn/nn/model_file.h"

#include <nlohmann/json.hpp>

#include <atomic>
#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

using namespace textcnn;
using testing::error_of;
using testing::make_shapes;
using testing::small_architecture;
using Synthetic = testing::SyntheticShapes;

namespace {

std::string scratch(const std::string& name) { return testing::scratch_path("test_image_classifier_files", name); }

std::string fixture(const std::string& name) { return std::string(TEXTCNN_SOURCE_DIR) + "/tests/fixtures/models/" + name; }

std::vector<std::uint32_t> wide(const std::vector<std::uint8_t>& labels) { return {labels.begin(), labels.end()}; }

ImageBatch batch_of(const Synthetic& data) {
    return ImageBatch(data.pixels, ImageShape{data.labels.size(), 12, 12, 1});
}

ImageTrainingOptions tiny_options(std::size_t epochs) {
    std::ofstream(scratch("tiny.json")) << small_architecture;
    ImageTrainingOptions options;
    options.architecture_file = scratch("tiny.json");
    options.class_names = {"vertical", "horizontal", "square"};
    options.trainer.epochs = epochs;
    options.trainer.batch_size = 32;
    options.trainer.seed = 3;
    return options;
}

double accuracy(const std::vector<ImagePrediction>& predictions, const std::vector<std::uint8_t>& labels) {
    std::size_t correct = 0;
    for (std::size_t i = 0; i < predictions.size(); ++i) correct += predictions[i].label == labels[i];
    return static_cast<double>(correct) / static_cast<double>(labels.size());
}

// Same labels and probabilities within `tolerance` (0: bit-identical).
bool same_predictions(const std::vector<ImagePrediction>& a, const std::vector<ImagePrediction>& b,
                      float tolerance = 0.0f) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (a[i].label != b[i].label || a[i].probabilities.size() != b[i].probabilities.size()) return false;
        for (std::size_t k = 0; k < a[i].probabilities.size(); ++k)
            if (std::abs(a[i].probabilities[k] - b[i].probabilities[k]) > tolerance) return false;
    }
    return true;
}

// One model for the tests that need a trained one: 900 images (720 to train on), 15 epochs.
struct Trained {
    Synthetic train = make_shapes(900, 1), test = make_shapes(150, 2);
    std::vector<std::uint32_t> labels = wide(train.labels);
    std::vector<EpochSummary> epochs;
    TrainResult result;
    std::optional<ImageTrainingRun> run;
    Trained() {
        ImageTrainingCallbacks callbacks;
        callbacks.epoch_end = [this](const EpochSummary& e) { epochs.push_back(e); };
        run.emplace(batch_of(train), labels, tiny_options(15), callbacks);
        result = run->run();
    }
};
Trained& trained() {
    static Trained t;
    return t;
}

}  // namespace

BOOST_AUTO_TEST_CASE(training_a_tiny_network_on_synthetic_images) {
    Trained& t = trained();
    BOOST_TEST(t.run->train_count() == 720u);  // the last 20 % held out, Keras' validation_split
    BOOST_TEST(t.run->validation_count() == 180u);
    BOOST_TEST(t.run->initializer() == "glorot_uniform");
    BOOST_TEST((t.result.reason == StopReason::completed));
    BOOST_TEST(t.epochs.size() == 15u);
    BOOST_TEST(t.epochs.back().has_validation);
    BOOST_TEST(t.result.best_accuracy >= 0.95);
    const ImageClassifier& model = t.run->classifier();
    BOOST_TEST(model.labels() == (std::vector<std::string>{"vertical", "horizontal", "square"}),
               boost::test_tools::per_element());
    BOOST_TEST((model.input_shape() == ImageShape{1, 12, 12, 1}));
    BOOST_TEST(model.architecture() == scratch("tiny.json"));
    BOOST_TEST(model.parameter_count() == 6u * 9u + 6u + 6u * 36u * 3u + 3u);
    const auto predictions = model.predict(batch_of(t.test));
    BOOST_TEST_REQUIRE(predictions.size() == 150u);
    BOOST_TEST(accuracy(predictions, t.test.labels) >= 0.95);
    for (const auto& p : predictions) {
        BOOST_TEST(p.probabilities.size() == 3u);
        float sum = 0;
        for (float v : p.probabilities) sum += v;
        BOOST_TEST(sum == 1.0f, boost::test_tools::tolerance(1e-5f));
    }
}

BOOST_AUTO_TEST_CASE(bytes_floats_batches_and_files_give_the_same_predictions) {
    const ImageClassifier& model = trained().run->classifier();
    const Synthetic& test = trained().test;
    const auto from_bytes = model.predict(batch_of(test));
    std::vector<float> scaled(test.pixels.size());
    for (std::size_t i = 0; i < scaled.size(); ++i) scaled[i] = static_cast<float>(test.pixels[i]) / 255.0f;
    BOOST_TEST(same_predictions(model.predict(ImageBatch(scaled, {150, 12, 12, 1})), from_bytes));
    // The batch size bounds memory; the results do not depend on it beyond float rounding.
    BOOST_TEST(same_predictions(model.predict(batch_of(test), 7), from_bytes, 1e-6f));

    BOOST_TEST(model.predict(ImageBatch(std::span<const std::uint8_t>(), {0, 12, 12, 1})).empty());

    // The first image as a PNG file and all of them as an IDX file.
    write_png(scratch("first.png"), Image{12, 12, 1, std::vector<std::uint8_t>(test.pixels.begin(), test.pixels.begin() + 144)});
    write_file_bytes(scratch("test-images.gz"), gzip_bytes(encode_idx_images(test.pixels, 150, 12, 12)));
    const std::vector<std::string> files = {scratch("first.png"), scratch("test-images.gz")};
    const auto named = model.predict_files(files);
    BOOST_TEST_REQUIRE(named.size() == 151u);
    BOOST_TEST(named[0].name == scratch("first.png"));
    BOOST_TEST(named[1].name == scratch("test-images.gz") + "#0");
    BOOST_TEST(named[150].name == scratch("test-images.gz") + "#149");
    BOOST_TEST(named[0].prediction.probabilities == from_bytes[0].probabilities, boost::test_tools::per_element());
    for (std::size_t i = 0; i < 150; ++i) BOOST_TEST(named[i + 1].prediction.label == from_bytes[i].label);
}

BOOST_AUTO_TEST_CASE(save_load_gives_identical_predictions_from_any_thread) {
    Trained& t = trained();
    ImageClassifier& model = t.run->classifier();
    model.set_training_facts(R"({"seed": 3, "data": "synthetic"})");
    model.save(scratch("shapes.model"));
    const ImageClassifier loaded = ImageClassifier::load(scratch("shapes.model"));
    BOOST_TEST(loaded.labels() == model.labels(), boost::test_tools::per_element());
    BOOST_TEST(loaded.architecture() == model.architecture());
    BOOST_TEST((nlohmann::json::parse(loaded.training_facts())["data"] == "synthetic"));
    // Found by a hostile-file run: training facts nested 100,000 levels deep (200 kB) loaded,
    // then overflowed the stack when written out (summary, Python). Now refused, in a file and
    // from a caller.
    const std::string deep = R"({"training": )" + std::string(100000, '[') + std::string(100000, ']') + "}";
    BOOST_CHECK_EXCEPTION(model.set_training_facts(deep), textcnn::ConfigError, [](const textcnn::ConfigError& e) {
        return std::string(e.what()) == "training facts: nested deeper than 64 levels";
    });
    textcnn::ModelFile file = textcnn::read_model_file(scratch("shapes.model"));
    textcnn::set_metadata(file, {{"architecture", loaded.architecture()}, {"training", deep.substr(13, deep.size() - 14)}});
    BOOST_CHECK_EXCEPTION(textcnn::image_model_from_file(file), textcnn::InputError, [](const textcnn::InputError& e) {
        return std::string(e.what()).ends_with("section 'META': 'training' nests deeper than 64 levels");
    });
    const auto expected = model.predict(batch_of(t.test));
    BOOST_TEST(same_predictions(loaded.predict(batch_of(t.test)), expected));

    // predict() is const and thread-safe: 8 threads, each many times, against the serial result.
    std::atomic<int> mismatches{0};
    std::vector<std::thread> threads;
    for (int k = 0; k < 8; ++k)
        threads.emplace_back([&] {
            for (int repeat = 0; repeat < 5; ++repeat)
                if (!same_predictions(loaded.predict(batch_of(t.test)), expected)) ++mismatches;
        });
    for (auto& th : threads) th.join();
    BOOST_TEST(mismatches.load() == 0);
}

// Moved from tests/apps/test_imagecnn.cpp with the model code (src/image/image_model.h).
BOOST_AUTO_TEST_CASE(save_load_gives_identical_probabilities) {
    Architecture arch = parse_architecture(small_architecture, "tiny");
    bind_class_count(arch.layers, 3);
    ImageModel model{Network(arch.layers, Shape{1, 1, 12, 12}), {"a", "b", "c"}, "tiny", "{\"seed\": 5}"};
    model.network.initialize(Initializer{}, 5);
    const Synthetic data = make_shapes(50, 9);
    const Tensor images = parse_idx_images(encode_idx_images(data.pixels, 50, 12, 12), "mem");
    const Tensor before = predict_probabilities(model.network, images, 16);
    save_image_model(scratch("round_trip.model"), model);
    const ImageModel loaded = load_image_model(scratch("round_trip.model"));
    BOOST_TEST(loaded.labels == model.labels, boost::test_tools::per_element());
    BOOST_TEST(loaded.architecture == "tiny");
    BOOST_TEST(nlohmann::json::parse(loaded.training_json)["seed"].get<int>() == 5);
    const Tensor after = predict_probabilities(loaded.network, images, 16);
    BOOST_TEST_REQUIRE(after.size() == before.size());
    BOOST_TEST(std::memcmp(after.data(), before.data(), before.size() * sizeof(float)) == 0);
    // Wrong-size images name both shapes.
    const Tensor big(Shape{2, 1, 14, 12});
    BOOST_CHECK_EXCEPTION(predict_probabilities(loaded.network, big, 4), ShapeError, [](const ShapeError& e) {
        return std::string(e.what()) == "images of shape (1, 1, 14, 12) (1, channels, height, width) but the model "
                                        "expects (1, 1, 12, 12)";
    });
}

// Stopped in the middle of epoch 3 (after a learning-rate decay), written to a checkpoint and
// resumed: the same weights as the run that was never stopped.
BOOST_AUTO_TEST_CASE(resume_from_checkpoint_equals_an_uninterrupted_run) {
    const Synthetic data = make_shapes(300, 4);
    const std::vector<std::uint32_t> labels = wide(data.labels);
    ImageTrainingOptions options = tiny_options(4);
    options.trainer.learning_rate_schedule = {{2}, 0.5f};
    ImageTrainingRun straight(batch_of(data), labels, options);
    straight.run();
    const auto expected = straight.classifier().predict(batch_of(data));

    std::atomic<bool> stop{false};
    ImageTrainingCallbacks callbacks;
    callbacks.progress = [&stop](const TrainingProgress& p) { stop = p.epoch == 3 && p.batch == 4; };
    callbacks.stop = &stop;
    ImageTrainingRun first(batch_of(data), labels, options, callbacks);
    BOOST_TEST((first.run().reason == StopReason::interrupted));
    first.write_checkpoint(scratch("run.ckpt"));

    std::vector<EpochSummary> epochs;
    ImageTrainingCallbacks more;
    more.epoch_end = [&epochs](const EpochSummary& e) { epochs.push_back(e); };
    ImageTrainingRun resumed(batch_of(data), labels, options, more);
    resumed.resume_from(scratch("run.ckpt"));
    BOOST_TEST((resumed.run().reason == StopReason::completed));
    BOOST_TEST_REQUIRE(epochs.size() == 2u);
    BOOST_TEST(epochs[0].epoch == 3u);
    BOOST_TEST(epochs[0].learning_rate == 0.0005, boost::test_tools::tolerance(1e-6));
    BOOST_TEST(same_predictions(resumed.classifier().predict(batch_of(data)), expected));
    // The checkpoint is a model file too.
    BOOST_TEST(ImageClassifier::load(scratch("run.ckpt")).labels() == options.class_names, boost::test_tools::per_element());

    // A checkpoint of other settings is refused, naming it.
    ImageTrainingOptions other = options;
    other.trainer.seed = 4;
    ImageTrainingRun wrong(batch_of(data), labels, other);
    BOOST_TEST(error_of<ConfigError>([&] { wrong.resume_from(scratch("run.ckpt")); }) ==
               scratch("run.ckpt") + ": trainer: the checkpoint was made with seed 3, this run has seed 4");
    other = options;
    other.class_names = {"v", "h", "s"};
    ImageTrainingRun renamed(batch_of(data), labels, other);
    BOOST_TEST(error_of<ConfigError>([&] { renamed.resume_from(scratch("run.ckpt")); }) ==
               scratch("run.ckpt") + ": the checkpoint was made for other class names");
}

// An image model written by imagecnn before ImageClassifier existed: apps/imagecnn's
// save_image_model() of commit f352368 wrote tests/fixtures/models/imagecnn_v1.model (the
// small architecture, torch_default weights from seed 2026, labels vertical/horizontal/square)
// and computed the probabilities below with its predict_probabilities(). It must keep loading
// and predicting the same. Never regenerate it: add new fixtures next to it.
BOOST_AUTO_TEST_CASE(models_of_earlier_versions_keep_loading) {
    const ImageClassifier model = ImageClassifier::load(fixture("imagecnn_v1.model"));
    BOOST_TEST(model.labels() == (std::vector<std::string>{"vertical", "horizontal", "square"}),
               boost::test_tools::per_element());
    BOOST_TEST(model.architecture() == "tiny");
    BOOST_TEST((model.input_shape() == ImageShape{1, 12, 12, 1}));
    BOOST_TEST((nlohmann::json::parse(model.training_facts())["seed"] == 2026));
    const Synthetic data = make_shapes(3, 9);
    const auto predictions = model.predict(batch_of(data));
    BOOST_TEST_REQUIRE(predictions.size() == 3u);
    // What the program of that version computed for these images (written with the fixture).
    const std::vector<std::vector<float>> expected = {{0.303748935f, 0.348804355f, 0.34744671f},
                                                      {0.312186718f, 0.345423758f, 0.342389524f},
                                                      {0.309727371f, 0.356510967f, 0.333761662f}};
    for (std::size_t i = 0; i < 3; ++i)
        for (std::size_t k = 0; k < 3; ++k)
            BOOST_TEST(predictions[i].probabilities[k] == expected[i][k], boost::test_tools::tolerance(1e-5f));
}

BOOST_AUTO_TEST_CASE(errors_name_what_is_wrong) {
    const Synthetic data = make_shapes(30, 5);
    std::vector<std::uint32_t> labels = wide(data.labels);
    // Buffers that do not match their shape.
    BOOST_TEST(error_of<ShapeError>([&] { ImageBatch(data.pixels, {30, 12, 11, 1}); }) ==
               "30 images of 12x11x1 (height x width x channels) are 3960 pixel values, not 4320");
    BOOST_TEST(error_of<ShapeError>([&] { ImageBatch(data.pixels, {30, 12, 12, 0}); }) ==
               "images of 12x12x0 (height x width x channels): height, width and channels must be positive");
    // Found by a new-user run of the library: float pixels outside [0, 1] gave answers, and a
    // count whose product wraps around passed the size check.
    const std::vector<float> floats = {0.0f, 0.5f, std::nanf(""), 1.0f};
    BOOST_TEST(error_of<InputError>([&] { ImageBatch(std::span<const float>(floats), {1, 2, 2, 1}); }) ==
               "images: float pixels must be in [0, 1] (value / 255); value 2 (flat index) is nan");
    const std::vector<float> bright = {0.0f, 0.5f, 1.0f, 255.0f};
    BOOST_TEST(error_of<InputError>([&] { ImageBatch(std::span<const float>(bright), {1, 2, 2, 1}); }) ==
               "images: float pixels must be in [0, 1] (value / 255); value 3 (flat index) is 255");
    BOOST_TEST(error_of<ShapeError>([&] { ImageBatch(data.pixels, {(std::size_t{1} << 60) + 1, 28, 28, 1}); })
                   .ends_with("overflows"));
    // Predicting images of another size.
    const ImageClassifier& model = trained().run->classifier();
    const std::vector<std::uint8_t> big(2 * 14 * 12);
    BOOST_TEST(error_of<ShapeError>([&] { model.predict(ImageBatch(big, {2, 14, 12, 1})); }) ==
               "images of 14x12x1 (height x width x channels) but the model expects 12x12x1 (height x width x channels)");
    BOOST_TEST(error_of<ConfigError>([&] { model.predict(batch_of(data), 0); }) ==
               "image prediction: the batch size must be at least 1");
    // Training data and options.
    ImageTrainingOptions options = tiny_options(1);
    options.train_source = "shapes.idx";
    labels[7] = 3;
    BOOST_TEST(error_of<InputError>([&] { ImageTrainingRun(batch_of(data), labels, options); }) ==
               "shapes.idx: label 3 of item 7 but only 3 class names");
    labels.pop_back();
    BOOST_TEST(error_of<InputError>([&] { ImageTrainingRun(batch_of(data), labels, options); }) ==
               "shapes.idx: 29 labels for 30 images");
    labels = wide(data.labels);
    // Found by a new-user run: a class whose images all fall in the validation part.
    {
        auto moved = labels;
        for (auto& l : moved) l = l == 2 ? 0 : l;
        moved.back() = 2;  // class 2's one image is the last, in the validation part
        ImageTrainingOptions split = options;
        split.validation_split = 0.2;
        BOOST_TEST(error_of<InputError>([&] { ImageTrainingRun(batch_of(data), moved, split); })
                       .starts_with("image training: class '" + split.class_names[2] + "' has 1 image, all in the "
                                    "validation part (the last 6 of 30 images)"));
    }
    // Found by a new-user run of the library: each of these trained (and the first saved a
    // model that did not load).
    {
        ImageTrainingOptions twice = options;
        twice.class_names.back() = twice.class_names.front();
        BOOST_TEST(error_of<ConfigError>([&] { ImageTrainingRun(batch_of(data), labels, twice); }) ==
                   "image training: class name " + std::to_string(twice.class_names.size() - 1) + " ('" +
                       twice.class_names.front() + "') is class name 0 again");
        // A class name is one line of text: predict writes it as one field (as textcnn's labels).
        ImageTrainingOptions tabbed = options;
        tabbed.class_names[1] = "sq\tuare";
        BOOST_TEST(error_of<ConfigError>([&] { ImageTrainingRun(batch_of(data), labels, tabbed); }) ==
                   "image training: class name 1 holds U+0009 (tab) at byte 3: a class name is one line of text "
                   "without control characters");
        tabbed.class_names[1] = "sq\xFFuare";
        BOOST_TEST(error_of<ConfigError>([&] { ImageTrainingRun(batch_of(data), labels, tabbed); }) ==
                   "image training: class name 1 is not valid UTF-8 (byte 3)");
        ImageTrainingOptions more = options;
        more.train_source = "shapes.idx";
        more.class_names.push_back("unused");
        BOOST_TEST(error_of<InputError>([&] { ImageTrainingRun(batch_of(data), labels, more); }) ==
                   "shapes.idx: 1 of the " + std::to_string(more.class_names.size()) +
                       " classes have no image ('unused'): give as many class names as the labels use");
        ImageTrainingOptions patient = options;
        patient.validation_split = 0.0;
        patient.trainer.patience = 3;
        BOOST_TEST(error_of<ConfigError>([&] { ImageTrainingRun(batch_of(data), labels, patient); })
                       .starts_with("image training: patience stops training when the validation accuracy stops "
                                    "improving, but there is no validation data"));
    }
    options.class_names = {"one"};
    BOOST_TEST(error_of<ConfigError>([&] { ImageTrainingRun(batch_of(data), labels, options); }) ==
               "image training: at least two class names are needed, got 1");
    options = tiny_options(1);
    options.architecture_file.clear();
    options.architecture = "cnn_9";
    BOOST_TEST(error_of<ConfigError>([&] { ImageTrainingRun(batch_of(data), labels, options); })
                   .starts_with("unknown architecture 'cnn_9'"));
    std::string for_28 = small_architecture;  // the same layers, made for 28x28 images
    for_28.replace(for_28.find("\"layers\""), 0, "\"input\": [1, 28, 28], ");
    std::ofstream(scratch("tiny28.json")) << for_28;
    options.architecture_file = scratch("tiny28.json");
    options.train_source = "shapes.idx";
    BOOST_TEST(error_of<InputError>([&] { ImageTrainingRun(batch_of(data), labels, options); }) ==
               "shapes.idx: images of shape (1, 1, 12, 12), architecture tiny is for (1, 1, 28, 28)");
    options = tiny_options(1);
    options.validation_split = 1.0;
    BOOST_TEST(error_of<ConfigError>([&] { ImageTrainingRun(batch_of(data), labels, options); }) ==
               "image training: the validation split must be in [0, 1), got 1");
    // A text model is not an image model.
    BOOST_TEST(error_of<InputError>([] { ImageClassifier::load(fixture("kim_v1.model")); }) ==
               fixture("kim_v1.model") +
                   ": not an image model (no section 'IMGM'; a text model is read by TextClassifier, the textcnn "
                   "program)");
}

// Issue 15: a damaged IMGM section showed "[json.exception.out_of_range.403] key 'labels' not
// found"; the messages now say which key is missing or wrong, in plain words. Version 1 of the
// section (imagecnn's first format) held the labels; version 2 files keep them in LABL.
BOOST_AUTO_TEST_CASE(damaged_image_section_names_the_key) {
    Architecture arch = parse_architecture(small_architecture, "tiny");
    bind_class_count(arch.layers, 3);
    const Network net(arch.layers, Shape{1, 1, 12, 12});
    const auto error_of = [&](const std::string& meta, std::uint32_t version = 1,
                              const std::function<void(ModelFile&)>& add = {}) {
        ModelFile file;
        add_network_sections(file, net);
        if (add) add(file);
        file.set(image_section_tag, version, {meta.begin(), meta.end()});
        write_model_file(scratch("damaged.model"), file);
        try {
            load_image_model(scratch("damaged.model"));
        } catch (const InputError& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    const std::string where = scratch("damaged.model") + ": section 'IMGM'";
    BOOST_TEST(error_of(R"({"architecture": "tiny"})") == where + ": missing key 'labels'");
    BOOST_TEST(error_of(R"({"labels": "a,b,c"})") == where + ": 'labels' must be a list of strings");
    BOOST_TEST(error_of(R"({"labels": ["a", 2, "c"]})") == where + ": 'labels' must be a list of strings, got 2");
    BOOST_TEST(error_of(R"({"labels": ["a", "b", "c"], "architecture": 7})") == where + ": 'architecture' must be a string");
    BOOST_TEST(error_of("[1]") == where + " must hold a JSON object");
    BOOST_TEST(error_of(R"({"labels": ["a", "b", "c"]})") == "no error");

    // Version 2: labels and metadata in the sections a text model uses.
    const std::string path = scratch("damaged.model");
    const auto labels = [](ModelFile& f) { set_labels(f, {"a", "b", "c"}); };
    BOOST_TEST(error_of("{}", 2) == path + ": missing section 'LABL'");
    BOOST_TEST(error_of("{}", 2, labels) == "no error");
    BOOST_TEST(error_of("{}", 2, [](ModelFile& f) { set_labels(f, {"a", "b"}); }) ==
               path + ": the network outputs (1, 3) for one image but the model has 2 labels");
    BOOST_TEST(error_of("{}", 2, [&](ModelFile& f) {
                   labels(f);
                   set_metadata(f, {{"training", "[1, 2"}});
               }) == path + ": section 'META': 'training' is not a JSON object");
    BOOST_TEST(error_of("{}", 3, labels) == where + " version 3 is newer than this build supports (2)");
}

