// imagecnn train: fits an image classifier on IDX data with the library's ImageTrainingRun
// (image_training.h; defaults are the article's train(): RMSprop, batch 128, 5 epochs, the
// last 20 % held out for validation, Glorot weights). After every epoch the validation
// accuracy is measured and the best epoch's weights are the ones saved.
#include "commands.h"
#include "output_fields.h"
#include "progress.h"
#include "run_log.h"
#include "shared_options.h"
#include "training_cli.h"

#include "textcnn/core/error.h"
#include "textcnn/core/files.h"
#include "textcnn/core/runtime.h"
#include "textcnn/image/idx.h"
#include "textcnn/image/image_training.h"
#include "textcnn/nn/architecture.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <initializer_list>
#include <chrono>
#include <memory>
#include <optional>

namespace imagecnn {

namespace {

using namespace textcnn;
using json = nlohmann::ordered_json;

struct TrainOptions {
    std::string images, labels, test_images, test_labels, model;
    // The library's options, bound to the command line directly (architecture, validation
    // split, initializer, trainer settings); the class names and the optimizer are set from
    // the two options below once they are checked.
    ImageTrainingOptions run;
    std::string optimizer = "rmsprop";
    float lr = 0.0f;  // 0 (not given; --lr takes only a positive rate) = the optimizer's default
    std::string class_names = "fashion-mnist";
    std::size_t limit = 0;
    std::size_t threads = 0;
    std::string checkpoint;
    std::string resume;
    bool quiet = false;
    bool json_result = false;
    std::string log_json;  // --log-json: the run as JSON lines (run_log.h)
    std::string report;    // --report: the run as an HTML page
};

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
            // Blanks around a name are the list's spacing ("a, b"), not the name's: trimmed, as
            // textcnn trims its labels (before: ' b' was stored with its space).
            std::string name = text.substr(start, comma - start);
            const auto first = name.find_first_not_of(" \t"), last = name.find_last_not_of(" \t");
            name = first == std::string::npos ? std::string() : name.substr(first, last - first + 1);
            names.push_back(std::move(name));
            if (names.back().empty()) throw UsageError("--class-names: empty name in '" + text + "'");
            start = comma + 1;
        }
    }
    if (names.size() < 2) throw UsageError("--class-names: at least two classes are needed");
    for (std::size_t i = 0; i < names.size(); ++i)
        for (std::size_t j = 0; j < i; ++j)
            if (names[j] == names[i])
                throw UsageError("--class-names: '" + names[i] + "' is named twice (each class needs a name of its own)");
    return names;
}

// The settings of the run but the class names (they may depend on the labels). Option values
// that cannot work are UsageErrors naming the option, found before any data is read.
ImageTrainingOptions training_options(const TrainOptions& o) {
    const TrainerSettings& s = o.run.trainer;
    if (o.test_images.empty() != o.test_labels.empty()) throw UsageError("--test-images and --test-labels go together");
    if (o.run.validation_split < 0.0 || o.run.validation_split >= 1.0)
        throw UsageError("--validation-split must be in [0, 1)");
    if (!(s.learning_rate_schedule.decay_factor > 0.0f && s.learning_rate_schedule.decay_factor <= 1.0f))
        throw UsageError("--lr-decay must be in (0, 1]");
    // Options that cannot act are refused, as in textcnn (before: accepted, nothing happened).
    if (s.patience > 0 && o.run.validation_split == 0.0)
        throw UsageError("--patience stops on validation accuracy, and --validation-split 0 leaves no validation data");
    if (s.learning_rate_schedule.decay_after_epochs.empty() &&
        s.learning_rate_schedule.decay_factor != LearningRateSchedule{}.decay_factor)
        throw UsageError("--lr-decay multiplies the rate after the --lr-decay-at epochs, and none is given");
    for (const std::size_t epoch : s.learning_rate_schedule.decay_after_epochs)
        if (epoch >= s.epochs)
            throw UsageError(fmt::format("--lr-decay-at {}: the run has {} epoch{}, so no epoch comes after it", epoch,
                                         s.epochs, s.epochs == 1 ? "" : "s"));
    check_architecture_name(o.run.architecture, o.run.architecture_file);
    cli_common::check_one_standard_input(
        {{"--images", o.images}, {"--labels", o.labels}, {"--test-images", o.test_images}, {"--test-labels", o.test_labels}});
    ImageTrainingOptions options = o.run;
    options.train_source = textcnn::input_name(o.images);
    options.trainer.optimizer = OptimizerSettings::defaults_for(o.optimizer);  // checked while parsing
    if (o.lr > 0.0f) options.trainer.optimizer.learning_rate = o.lr;
    return options;
}

LabelledImages read_training_data(const TrainOptions& o) {
    LabelledImages data = read_idx_dataset(o.images, o.labels);
    if (o.limit > 0 && o.limit < data.labels.size()) {
        const Shape& s = data.images.shape();
        const auto first = data.images.values().first(o.limit * s.per_sample());
        data.images = Tensor(s.with_batch(o.limit), std::vector<float>(first.begin(), first.end()));
        data.labels.resize(o.limit);
    }
    if (data.labels.empty()) throw InputError(textcnn::input_name(o.images) + ": no images");
    return data;
}

// IDX images (count, 1, rows, cols) as the library's view: count x rows x cols x 1.
ImageBatch batch_of(const LabelledImages& data) {
    const Shape& s = data.images.shape();
    return ImageBatch(data.images.values(), ImageShape{s[0], s[2], s[3], s[1]});
}

// Test images and labels, checked against the class names before training starts.
std::optional<LabelledImages> read_test_data(const TrainOptions& o, std::size_t classes) {
    if (o.test_images.empty()) return std::nullopt;
    LabelledImages test = read_idx_dataset(o.test_images, o.test_labels);
    for (std::size_t i = 0; i < test.labels.size(); ++i)
        if (test.labels[i] >= classes)
            throw InputError(fmt::format("{}: label {} of item {} but only {} class names (see --class-names)",
                                         textcnn::input_name(o.test_labels), test.labels[i], i, classes));
    return test;
}

void add_test_accuracy(const LabelledImages& test, const ImageClassifier& model, std::size_t batch, json& facts) {
    const auto predictions = model.predict(batch_of(test), batch);
    std::size_t correct = 0;
    for (std::size_t i = 0; i < predictions.size(); ++i) correct += predictions[i].label == test.labels[i];
    facts["test_images"] = test.labels.size();
    facts["test_accuracy"] = test.labels.empty() ? 0.0 : static_cast<double>(correct) / static_cast<double>(test.labels.size());
}

// What is saved with the model (shown by summary) and printed by --json.
json training_facts(const TrainOptions& o, const ImageTrainingRun& run, const ImageTrainingOptions& options,
                    const TrainResult& result) {
    json facts;
    facts["images"] = o.images;
    facts["labels"] = o.labels;
    facts["train_images"] = run.train_count();
    facts["validation_images"] = run.validation_count();
    facts["epochs_completed"] = result.epochs_completed;
    facts["batch"] = options.trainer.batch_size;
    facts["optimizer"] = options.trainer.optimizer.name;
    facts["learning_rate"] = options.trainer.optimizer.learning_rate;
    const LearningRateSchedule& schedule = options.trainer.learning_rate_schedule;
    if (!schedule.decay_after_epochs.empty()) {
        facts["lr_decay_after_epochs"] = schedule.decay_after_epochs;
        facts["lr_decay_factor"] = schedule.decay_factor;
    }
    facts["init"] = run.initializer();
    facts["seed"] = options.trainer.seed;
    if (result.best_epoch > 0) {
        facts["best_epoch"] = result.best_epoch;
        facts["dev_accuracy"] = result.best_accuracy;
    }
    if (!result.history.empty()) {
        double seconds = 0.0;
        for (const auto& e : result.history) seconds += e.seconds;
        const double per_epoch = seconds / static_cast<double>(result.history.size());
        facts["seconds_per_epoch"] = per_epoch;
        facts["train_images_per_second"] = static_cast<double>(run.train_count()) / per_epoch;
    }
    return facts;
}

// The result on stdout: the line (and test accuracy) both programs end with, or one JSON object.
void print_result(const TrainOptions& o, const cli_common::TrainingOutcome& outcome, const json& facts,
                  std::size_t parameters, double load_seconds) {
    if (o.json_result) {
        json out = cli_common::outcome_json(outcome);
        out.update(facts);
        out["architecture"] = o.run.architecture_file.empty() ? o.run.architecture : o.run.architecture_file;
        out["parameters"] = parameters;
        out["load_seconds"] = load_seconds;
        fmt::print("{}\n", cli_common::json_text(out));
        return;
    }
    fmt::print("{}\n", cli_common::outcome_line(outcome));
    if (facts.contains("test_accuracy"))
        fmt::print("test accuracy {} on {} images\n", cli_common::percent(facts["test_accuracy"].get<double>()),
                   facts["test_images"].get<std::size_t>());
}

ImageTrainingCallbacks progress_callbacks(const TrainOptions& o, cli_common::ProgressPrinter& printer,
                                          const TrainerSettings& settings, cli_common::RunRecorder& recorder) {
    ImageTrainingCallbacks callbacks;
    callbacks.stop = cli_common::SigintScope::flag();
    callbacks.validation = [&printer, &recorder, quiet = o.quiet](const ValidationCheck& c) {
        if (!quiet) printer.dev_check(c);
        recorder.dev_check(c);
    };
    callbacks.epoch_end = [&printer, &recorder, settings, quiet = o.quiet](const EpochSummary& e) {
        recorder.epoch(e);
        if (quiet) return;
        printer.epoch_end(e);
        const float next = settings.learning_rate_schedule.rate_after(settings.optimizer.learning_rate, e.epoch);
        if (e.epoch < e.epochs && next != static_cast<float>(e.learning_rate))
            cli_common::print_stderr("learning rate {:g} from epoch {}\n", next, e.epoch + 1);
    };
    if (!o.quiet) callbacks.progress = [&printer](const TrainingProgress& p) { printer.progress(p); };
    return callbacks;
}

// The data summary of the run record: files, counts, class names.
std::vector<ReportField> image_data_summary(const TrainOptions& o, const ImageTrainingRun& run,
                                            const ImageTrainingOptions& options) {
    std::string names;
    for (const auto& n : options.class_names) names += (names.empty() ? "" : ", ") + n;
    std::vector<ReportField> out{{"images", o.images},
                                 {"labels", o.labels},
                                 {"training images", std::to_string(run.train_count())},
                                 {"validation images", fmt::format("{} (the last {:g} % of the file)", run.validation_count(),
                                                                   100.0 * options.validation_split)},
                                 {"classes", names}};
    if (!o.test_images.empty()) out.push_back({"test images", o.test_images});
    return out;
}

// The best epoch's model on the validation images (arg-max decisions).
std::optional<ReportEvaluation> validation_evaluation(ImageTrainingRun& run, const ImageTrainingOptions& options) {
    const Evaluation e = run.evaluate_validation();
    if (e.labels.empty()) return std::nullopt;
    return make_report_evaluation(fmt::format("validation: {} images", e.labels.size()), options.class_names, e,
                                  options.class_names.size() == 2 ? std::optional<double>(0.5) : std::nullopt);
}

// Ctrl-C or SIGTERM: the checkpoint and the best model so far (its facts say it was
// interrupted), then exit 130 or 143, as textcnn train.
[[noreturn]] void stop_interrupted(const TrainOptions& o, ImageTrainingRun& run, const ImageTrainingOptions& options,
                                   const TrainResult& result, const std::string& checkpoint,
                                   cli_common::SigintScope& sigint) {
    auto save_best = [&](const std::string& path) {
        json facts = training_facts(o, run, options, result);
        facts["interrupted"] = true;
        facts["date"] = cli_common::now_utc();
        run.classifier().set_training_facts(cli_common::json_text(facts));
        return run.save_best_model(path);
    };
    cli_common::stop_with_checkpoint(o.model, checkpoint, result,
                                     [&](const std::string& path) { run.write_checkpoint(path); }, save_best, sigint);
}

void run_train(const TrainOptions& o, std::vector<ReportField> settings) {
    ImageTrainingOptions options = training_options(o);
    ThreadLimit limit(o.threads);
    for (const auto& [option, path] : std::initializer_list<std::pair<const char*, const std::string&>>{
             {"--model", o.model}, {"--checkpoint", o.checkpoint}, {"--report", o.report}, {"--log-json", o.log_json}})
        cli_common::refuse_standard_output(path, option);
    cli_common::check_writable(o.model, "--model");
    const auto checkpoint_option = cli_common::checkpoint_output(o.model, o.checkpoint);
    cli_common::check_writable(checkpoint_option.second, checkpoint_option.first);
    cli_common::check_no_waiting_checkpoint(checkpoint_option, o.resume);
    cli_common::check_distinct_files({{"--model", o.model}, checkpoint_option, {"--log-json", o.log_json}, {"--report", o.report}},
                                     {{"--images", o.images}, {"--labels", o.labels}, {"--test-images", o.test_images},
                                      {"--test-labels", o.test_labels}, {"--arch-file", o.run.architecture_file}});
    cli_common::check_distinct_files({{"--model", o.model}, {"--log-json", o.log_json}, {"--report", o.report}},
                                     {{"--resume", o.resume}});
    const auto load_start = std::chrono::steady_clock::now();
    const LabelledImages data = read_training_data(o);
    options.class_names = resolve_class_names(o.class_names, *std::max_element(data.labels.begin(), data.labels.end()));
    const std::optional<LabelledImages> test = read_test_data(o, options.class_names.size());
    if (!o.report.empty()) cli_common::check_writable(o.report, "--report");
    cli_common::RunRecorder recorder(o.log_json, o.report, "imagecnn train", std::move(settings));
    cli_common::ProgressPrinter printer(stderr);
    ImageTrainingRun run(batch_of(data), data.labels, options, progress_callbacks(o, printer, options.trainer, recorder));
    recorder.start(image_data_summary(o, run, options), run.classifier().summary(), "images");
    if (!o.resume.empty()) run.resume_from(o.resume);
    if (!o.quiet)
        cli_common::print_stderr("training {} on {} images ({} for validation), {} classes, {} parameters\n",
                   run.classifier().architecture(), run.train_count(), run.validation_count(),
                   options.class_names.size(), run.classifier().parameter_count());
    const auto train_start = std::chrono::steady_clock::now();
    // SIGINT stays caught until the checkpoint is in place (see textcnn train).
    cli_common::SigintScope sigint;
    const TrainResult result = run.run();
    const double train_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - train_start).count();
    const std::string checkpoint = cli_common::checkpoint_path(o.model, o.checkpoint);
    if (result.reason == StopReason::interrupted) stop_interrupted(o, run, options, result, checkpoint, sigint);
    sigint.restore();
    json facts = training_facts(o, run, options, result);
    if (test) add_test_accuracy(*test, run.classifier(), options.trainer.eval_batch_size, facts);
    facts["date"] = cli_common::now_utc();
    run.classifier().set_training_facts(cli_common::json_text(facts));
    run.classifier().save(o.model);
    cli_common::remove_finished_checkpoint(checkpoint, o.quiet);
    const cli_common::TrainingOutcome outcome{o.model,          result.epochs_completed, result.best_epoch,
                                              result.best_accuracy, train_seconds,
                                              result.reason == StopReason::early_stopped};
    json logged = cli_common::outcome_json(outcome);
    logged.update(facts);
    recorder.finish(logged, recorder.wanted() ? validation_evaluation(run, options) : std::nullopt);
    print_result(o, outcome, facts, run.classifier().parameter_count(),
                 std::chrono::duration<double>(train_start - load_start).count());
}

}  // namespace

Command add_train_command(CLI::App& app) {
    auto o = std::make_shared<TrainOptions>();
    CLI::App* cmd = app.add_subcommand("train", "Train an image classifier on IDX files (MNIST format, gzip or plain)");
    cmd->add_option("--images", o->images, "Training images (IDX, e.g. train-images-idx3-ubyte.gz; '-' = standard input)")
        ->required();
    cmd->add_option("--labels", o->labels, "Training labels (IDX)")->required();
    cmd->add_option("--test-images", o->test_images, "Test images, evaluated once after training");
    cmd->add_option("--test-labels", o->test_labels, "Test labels");
    cmd->add_option("--model", o->model, "Where to write the model")->required();
    add_architecture_options(*cmd, o->run.architecture, o->run.architecture_file, true);
    TrainerSettings& s = o->run.trainer;
    cmd->add_option("--validation-split", o->run.validation_split,
                    "Share of the training file held out for validation: its LAST part, as Keras does")
        ->capture_default_str();
    cmd->add_option("--epochs", s.epochs, "Epochs")
        ->check(cli_common::positive<decltype(s.epochs)>())
        ->capture_default_str();
    cmd->add_option("--batch", s.batch_size, "Mini-batch size")
        ->check(cli_common::positive<decltype(s.batch_size)>())
        ->capture_default_str();
    cmd->add_option("--eval-batch", s.eval_batch_size, "Batch size for validation and test")
        ->check(cli_common::positive<decltype(s.eval_batch_size)>())
        ->capture_default_str();
    cli_common::add_optimizer_option(*cmd, o->optimizer);
    cmd->add_option("--lr", o->lr, "Learning rate (default: the optimizer's; rmsprop 0.001)")
        ->check(cli_common::positive<decltype(o->lr)>());
    cli_common::add_list_option<std::size_t>(
        *cmd, "--lr-decay-at", s.learning_rate_schedule.decay_after_epochs,
        "Epochs after which the learning rate is multiplied by --lr-decay, e.g. 10,13 (default: none, a constant "
        "rate as in the article)",
        "N,N,...", [](const std::string& element, std::size_t& epoch) {
            if (std::string error = cli_common::strict_number(element, epoch); !error.empty()) return error;
            return epoch == 0 ? std::string("epochs count from 1 (0 is not an epoch)") : std::string();
        });
    cmd->add_option("--lr-decay", s.learning_rate_schedule.decay_factor, "Factor for --lr-decay-at")
        ->capture_default_str();
    cli_common::add_checked_option(*cmd, "--init", o->run.initializer,
                                   "Weights (default: the architecture's own, else glorot_uniform, as Keras)",
                                   initializer_names(),
                                   [](const std::string& name) { (void)parse_initializer_kind(name); });
    cmd->add_option("--class-names", o->class_names,
                    "fashion-mnist, digits, index, or a comma-separated list in label order")
        ->capture_default_str();
    cmd->add_option("--seed", s.seed, "Seed for initialisation, shuffling and dropout")->capture_default_str();
    cmd->add_option("--patience", s.patience, "Stop after this many epochs without a better validation accuracy "
                                              "(0 = never)")
        ->capture_default_str();
    cmd->add_option("--limit", o->limit, "Use only the first N images of the training file (0 = all)");
    cli_common::add_checkpoint_options(*cmd, o->resume, o->checkpoint);
    cli_common::add_threads_option(*cmd, o->threads);
    cmd->add_flag("--quiet", o->quiet, "No progress on stderr");
    cmd->add_flag("--json", o->json_result, "Print the result (accuracies, speed) as one JSON object");
    cmd->add_option("--log-json", o->log_json,
                    "Write the run to this file, one JSON object a line: settings, every epoch, the result and the "
                    "evaluation on the validation images (textcnn report makes a page of it)");
    cmd->add_option("--report", o->report,
                    "Write a self-contained HTML page of the run: curves, confusion matrix, per-class metrics");
    return {cmd, [o, cmd] { run_train(*o, cli_common::option_settings(*cmd)); }};
}

}  // namespace imagecnn
