// imagecnn train: fits an image classifier on IDX data with the library's trainer.
//
// Defaults follow the article's train(): RMSprop (lr 1e-3, rho 0.9, eps 1e-7), softmax
// cross-entropy from logits, batch 128, 5 epochs, validation_split 0.2 with Keras semantics
// (the *last* 20 % of the training file, before any shuffling, is held out), Glorot-uniform
// weights with zero biases (`--init torch` for PyTorch's default). After every epoch the
// validation accuracy is measured and the best epoch's weights are the ones saved.
#include "commands.h"
#include "image_model.h"
#include "network_setup.h"

#include "textcnn/core/error.h"
#include "textcnn/image/idx.h"
#include "textcnn/core/runtime.h"
#include "textcnn/nn/trainer.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstring>
#include <ctime>
#include <memory>
#include <optional>

namespace imagecnn {

namespace {

using namespace textcnn;
using json = nlohmann::ordered_json;

struct TrainOptions {
    std::string images, labels, test_images, test_labels, model;
    ArchitectureChoice arch{default_image_architecture, ""};
    double validation_split = 0.2;
    std::size_t epochs = 5;
    std::size_t batch = 128;
    std::size_t eval_batch = 1000;  // as eval.cpp: the batch bounds memory; chunks of 8 give the speed
    std::string optimizer = "rmsprop";
    float lr = 0.0f;  // 0 = the optimizer's default
    std::vector<std::size_t> decay_epochs;  // after each of these epochs, lr *= decay_factor
    float decay_factor = 0.1f;
    std::string init;
    std::string class_names = "fashion-mnist";
    std::uint64_t seed = 1;
    std::size_t patience = 0;
    std::size_t limit = 0;
    std::size_t threads = 0;
    std::string checkpoint;
    std::string resume;
    bool quiet = false;
    bool json_result = false;
};

// Set by Ctrl-C (and at the end of a learning-rate stage); the trainer checks it after each batch.
std::atomic<bool> stop_requested{false};
std::atomic<bool> interrupted_by_user{false};
extern "C" void on_sigint(int) {
    interrupted_by_user.store(true);
    stop_requested.store(true);
}

// Class names: a preset or a comma-separated list.
std::vector<std::string> resolve_class_names(const std::string& text, std::uint32_t max_label) {
    std::vector<std::string> names;
    if (text == "fashion-mnist") {
        names = fashion_mnist_labels();
    } else if (text == "digits" || text == "index") {
        for (std::uint32_t i = 0; i <= std::max<std::uint32_t>(max_label, text == "digits" ? 9 : 0); ++i)
            names.push_back(std::to_string(i));
    } else {
        std::size_t start = 0;
        while (start <= text.size()) {
            std::size_t comma = text.find(',', start);
            if (comma == std::string::npos) comma = text.size();
            names.push_back(text.substr(start, comma - start));
            if (names.back().empty()) throw UsageError("--class-names: empty name in '" + text + "'");
            start = comma + 1;
        }
    }
    if (names.size() < 2) throw UsageError("--class-names: at least two classes are needed");
    return names;
}

// The samples [first, first + count) of a data set, as a batch source over those samples.
BatchSource subset_source(const LabelledImages& data, std::size_t first) {
    return [&data, first](std::span<const std::size_t> indices, Tensor& input, std::vector<std::uint32_t>& labels) {
        const Shape& shape = data.images.shape();
        const std::size_t per = shape.per_sample();
        input.resize(shape.with_batch(indices.size()));
        labels.resize(indices.size());
        for (std::size_t i = 0; i < indices.size(); ++i) {
            const std::size_t sample = first + indices[i];
            std::memcpy(input.sample(i), data.images.sample(sample), per * sizeof(float));
            labels[i] = data.labels[sample];
        }
    };
}

std::string now_text() {
    const std::time_t t = std::time(nullptr);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
    return text;
}

void check_labels(const std::vector<std::uint32_t>& labels, std::size_t classes, const std::string& file) {
    for (std::size_t i = 0; i < labels.size(); ++i)
        if (labels[i] >= classes)
            throw InputError(fmt::format("{}: label {} of item {} but only {} class names (see --class-names)", file,
                                         labels[i], i, classes));
}

void run_train(const TrainOptions& options) {
    if (options.validation_split < 0.0 || options.validation_split >= 1.0)
        throw UsageError("--validation-split must be in [0, 1)");
    if (options.epochs == 0 || options.batch == 0 || options.eval_batch == 0)
        throw UsageError("--epochs, --batch and --eval-batch must be at least 1");
    if (options.test_images.empty() != options.test_labels.empty())
        throw UsageError("--test-images and --test-labels go together");
    OptimizerSettings optimizer;
    try {
        optimizer = OptimizerSettings::defaults_for(options.optimizer);
    } catch (const ConfigError& e) {
        throw UsageError(std::string("--optimizer: ") + e.what());
    }
    if (options.lr < 0.0f) throw UsageError("--lr must be positive");
    if (options.lr > 0.0f) optimizer.learning_rate = options.lr;
    if (!(options.decay_factor > 0.0f && options.decay_factor <= 1.0f)) throw UsageError("--lr-decay must be in (0, 1]");
    for (std::size_t e : options.decay_epochs)
        if (e == 0) throw UsageError("--lr-decay-at: epochs count from 1");

    Architecture arch = load_architecture(options.arch);
    Initializer init;
    init.kind = arch.init.value_or(Initializer::Kind::glorot_uniform);
    if (!options.init.empty()) {
        try {
            init.kind = parse_initializer_kind(options.init);
        } catch (const ConfigError& e) {
            throw UsageError(std::string("--init: ") + e.what());
        }
    }

    ThreadLimit limit(options.threads);
    const auto load_start = std::chrono::steady_clock::now();
    LabelledImages data = read_idx_dataset(options.images, options.labels);
    if (options.limit > 0 && options.limit < data.labels.size()) {
        Tensor first;
        copy_samples(data.images, 0, options.limit, first);
        data.images = std::move(first);
        data.labels.resize(options.limit);
    }
    const std::size_t total = data.labels.size();
    if (total == 0) throw InputError(options.images + ": no images");
    const std::uint32_t max_label = *std::max_element(data.labels.begin(), data.labels.end());
    const std::vector<std::string> class_names = resolve_class_names(options.class_names, max_label);
    check_labels(data.labels, class_names.size(), options.labels);
    LabelledImages test;
    if (!options.test_images.empty()) {
        test = read_idx_dataset(options.test_images, options.test_labels);
        check_labels(test.labels, class_names.size(), options.test_labels);
    }

    // Keras: split_at = int(n * (1 - validation_split)); train = [:split_at], validation = the rest.
    const std::size_t train_count = static_cast<std::size_t>(static_cast<double>(total) * (1.0 - options.validation_split));
    const std::size_t validation_count = total - train_count;
    if (train_count == 0) throw UsageError("--validation-split leaves no training images");

    const Shape sample = data.images.shape().with_batch(1);
    if (arch.input && arch.input->with_batch(1) != sample)
        throw InputError(fmt::format("{}: images of shape {}, architecture {} is for {}", options.images, sample.str(),
                                     arch.name, arch.input->with_batch(1).str()));
    const std::string arch_label = options.arch.file.empty() ? arch.name : options.arch.file;
    ImageModel model{build_network(arch, sample, class_names.size()), class_names, arch_label, "{}"};

    TrainerSettings settings;
    settings.epochs = options.epochs;
    settings.batch_size = options.batch;
    settings.eval_batch_size = options.eval_batch;
    settings.seed = options.seed;
    settings.optimizer = optimizer;
    settings.patience = options.patience;
    settings.restore_best = true;

    std::optional<Checkpoint> checkpoint;
    if (!options.resume.empty()) {
        checkpoint.emplace(read_checkpoint(options.resume));
        if (checkpoint->network.spec() != model.network.spec() ||
            checkpoint->network.sample_shape() != model.network.sample_shape())
            throw InputError(options.resume + ": the checkpoint's network differs from this run's architecture");
        std::copy(checkpoint->network.parameters().begin(), checkpoint->network.parameters().end(),
                  model.network.parameters().begin());
    } else {
        model.network.initialize(init, options.seed);
    }

    // The learning-rate schedule: the trainer runs with a fixed rate, so each stage between two
    // decay epochs is one Trainer run, stopped at the stage's last epoch through the stop flag and
    // continued by the next Trainer from its state (optimizer accumulators, shuffles, best model
    // kept: exactly what a resumed checkpoint carries).
    const auto learning_rate_after = [&](std::size_t epochs_done) {
        float lr = optimizer.learning_rate;
        for (std::size_t e : options.decay_epochs)
            if (e <= epochs_done) lr *= options.decay_factor;
        return lr;
    };
    ProgressPrinter printer(stderr);
    stop_requested.store(false);
    interrupted_by_user.store(false);
    // Caught until the checkpoint is renamed into place (a second Ctrl-C must not kill the write).
    cli_common::SigintHandler sigint(on_sigint);
    if (!options.quiet)
        fmt::print(stderr, "training {} on {} images ({} for validation), {} classes, {} parameters\n", arch_label,
                   train_count, validation_count, class_names.size(), model.network.parameter_count());
    const auto train_start = std::chrono::steady_clock::now();
    std::optional<TrainerState> state;
    if (checkpoint) state = checkpoint->state;
    TrainResult result;
    for (;;) {
        TrainerSettings stage = settings;
        const std::size_t done = state ? state->epoch : 0;
        stage.optimizer.learning_rate = learning_rate_after(done);
        Trainer trainer(model.network, stage);
        trainer.set_training_data(train_count, subset_source(data, 0));
        if (validation_count > 0) trainer.set_validation_data(validation_count, subset_source(data, train_count));
        if (!options.quiet) trainer.on_progress([&printer](const TrainingProgress& p) { printer.progress(p); });
        trainer.on_epoch_end([&](const EpochSummary& e) {
            if (!options.quiet) printer.epoch_end(e);
            // The rate changes after this epoch: end the stage here.
            if (e.epoch < options.epochs && learning_rate_after(e.epoch) != stage.optimizer.learning_rate)
                stop_requested.store(true);
        });
        if (state) trainer.resume(*state);
        trainer.set_stop_flag(&stop_requested);
        TrainResult part = trainer.run();
        state = trainer.state();
        result.history.insert(result.history.end(), part.history.begin(), part.history.end());
        result.reason = part.reason;
        result.epochs_completed = part.epochs_completed;
        result.best_epoch = part.best_epoch;
        result.best_accuracy = part.best_accuracy;
        if (part.reason != StopReason::interrupted || interrupted_by_user.load()) break;
        stop_requested.store(false);  // a stage boundary: continue with the next rate
        if (!options.quiet)
            fmt::print(stderr, "learning rate {:g} from epoch {}\n", learning_rate_after(state->epoch), state->epoch + 1);
    }
    const double train_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - train_start).count();

    if (result.reason == StopReason::interrupted) {
        const std::string path = options.checkpoint.empty() ? options.model + ".checkpoint" : options.checkpoint;
        write_checkpoint(path, model.network, *state);
        sigint.keep();
        throw Error("interrupted: checkpoint written to " + path + "; continue with --resume " + path);
    }
    sigint.restore();

    json facts;
    facts["images"] = options.images;
    facts["labels"] = options.labels;
    facts["train_images"] = train_count;
    facts["validation_images"] = validation_count;
    facts["epochs"] = result.epochs_completed;
    facts["batch"] = options.batch;
    facts["optimizer"] = optimizer.name;
    facts["learning_rate"] = optimizer.learning_rate;
    if (!options.decay_epochs.empty()) {
        facts["lr_decay_after_epochs"] = options.decay_epochs;
        facts["lr_decay_factor"] = options.decay_factor;
    }
    facts["init"] = initializer_kind_name(init.kind);
    facts["seed"] = options.seed;
    if (result.best_epoch > 0) {
        facts["best_epoch"] = result.best_epoch;
        facts["validation_accuracy"] = result.best_accuracy;
    }
    double train_images_per_second = 0.0, seconds_per_epoch = 0.0;
    if (!result.history.empty()) {
        double seconds = 0.0;
        for (const auto& e : result.history) seconds += e.seconds;
        seconds_per_epoch = seconds / static_cast<double>(result.history.size());
        train_images_per_second = static_cast<double>(train_count) / seconds_per_epoch;
        facts["seconds_per_epoch"] = seconds_per_epoch;
        facts["train_images_per_second"] = train_images_per_second;
    }
    if (!test.labels.empty()) {
        const Tensor probabilities = predict_probabilities(model.network, test.images, options.eval_batch);
        const auto predicted = argmax_rows(probabilities);
        std::size_t correct = 0;
        for (std::size_t i = 0; i < predicted.size(); ++i) correct += predicted[i] == test.labels[i];
        facts["test_images"] = test.labels.size();
        facts["test_accuracy"] = static_cast<double>(correct) / static_cast<double>(test.labels.size());
    }
    facts["date"] = now_text();
    model.training_json = facts.dump();
    save_image_model(options.model, model);

    if (options.json_result) {
        json out = facts;
        out["model"] = options.model;
        out["architecture"] = arch_label;
        out["parameters"] = model.network.parameter_count();
        out["train_seconds"] = train_seconds;
        out["load_seconds"] = std::chrono::duration<double>(train_start - load_start).count();
        fmt::print("{}\n", out.dump());
    } else {
        fmt::print("model written to {}\n", options.model);
        if (result.best_epoch > 0)
            fmt::print("best validation accuracy {:.4f} (epoch {})\n", result.best_accuracy, result.best_epoch);
        if (facts.contains("test_accuracy"))
            fmt::print("test accuracy {:.4f} on {} images\n", facts["test_accuracy"].get<double>(),
                       test.labels.size());
        fmt::print("{:.1f} s per epoch, {:.0f} training images/s\n", seconds_per_epoch, train_images_per_second);
    }
}

}  // namespace

Command add_train_command(CLI::App& app) {
    auto o = std::make_shared<TrainOptions>();
    CLI::App* cmd = app.add_subcommand("train", "Train an image classifier on IDX files (MNIST format, gzip or plain)");
    cmd->add_option("--images", o->images, "Training images (IDX, e.g. train-images-idx3-ubyte.gz)")->required();
    cmd->add_option("--labels", o->labels, "Training labels (IDX)")->required();
    cmd->add_option("--test-images", o->test_images, "Test images, evaluated once after training");
    cmd->add_option("--test-labels", o->test_labels, "Test labels");
    cmd->add_option("--model", o->model, "Where to write the model")->required();
    add_architecture_options(*cmd, o->arch, true);
    cmd->add_option("--validation-split", o->validation_split,
                    "Share of the training file held out for validation: its LAST part, as Keras does")
        ->capture_default_str();
    cmd->add_option("--epochs", o->epochs, "Epochs")->capture_default_str();
    cmd->add_option("--batch", o->batch, "Mini-batch size")->capture_default_str();
    cmd->add_option("--eval-batch", o->eval_batch, "Batch size for validation and test")->capture_default_str();
    cmd->add_option("--optimizer", o->optimizer, "rmsprop (rho 0.9, eps 1e-7), adam, adadelta or sgd")
        ->capture_default_str();
    cmd->add_option("--lr", o->lr, "Learning rate (default: the optimizer's; rmsprop 0.001)");
    cmd->add_option("--lr-decay-at", o->decay_epochs,
                    "Epochs after which the learning rate is multiplied by --lr-decay, e.g. 10,13 (default: none, "
                    "a constant rate as in the article)")
        ->delimiter(',');
    cmd->add_option("--lr-decay", o->decay_factor, "Factor for --lr-decay-at")->capture_default_str();
    cmd->add_option("--init", o->init,
                    "Weights: glorot_uniform (Keras, zero bias), torch (PyTorch's default), he_uniform "
                    "(default: the architecture's, else glorot_uniform)");
    cmd->add_option("--class-names", o->class_names,
                    "fashion-mnist, digits, index, or a comma-separated list in label order")
        ->capture_default_str();
    cmd->add_option("--seed", o->seed, "Seed for initialisation, shuffling and dropout")->capture_default_str();
    cmd->add_option("--patience", o->patience, "Stop after this many epochs without a better validation accuracy "
                                               "(0 = never)")
        ->capture_default_str();
    cmd->add_option("--limit", o->limit, "Use only the first N images of the training file (0 = all)");
    cmd->add_option("--checkpoint", o->checkpoint, "Where Ctrl-C writes a checkpoint (default MODEL.checkpoint)");
    cmd->add_option("--resume", o->resume, "Continue from a checkpoint (same data and settings)");
    add_threads_option(*cmd, o->threads);
    cmd->add_flag("--quiet", o->quiet, "No progress on stderr");
    cmd->add_flag("--json", o->json_result, "Print the result (accuracies, speed) as one JSON object");
    return {cmd, [o] { run_train(*o); }};
}

}  // namespace imagecnn
