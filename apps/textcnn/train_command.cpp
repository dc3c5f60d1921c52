// textcnn train: a Kim (2014) CNN from a labelled file, with dev-set model selection, early
// stopping, progress on stderr, JSON logs, Ctrl-C checkpoints and --resume.
#include "commands.h"
#include "progress.h"
#include "run_log.h"
#include "train_report.h"
#include "training_cli.h"

#include "textcnn/core/error.h"
#include "textcnn/core/runtime.h"
#include "textcnn/nn/network.h"
#include "textcnn/nn/trainer.h"
#include "textcnn/text/text_training.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <optional>


namespace textcnn_cli {
namespace {

struct TrainOptions {
    std::string train_path, dev_path, model_path, resume_path, checkpoint_path, log_json, embeddings;
    double validation_split = 0.0;
    std::vector<std::size_t> widths{3, 4, 5};
    std::size_t maps = 100, embedding_dim = 300, batch = 50, epochs = 25, patience = 0, threads = 0;
    std::size_t validations_per_epoch = 1;
    std::size_t min_count = 1, max_vocab = 0, max_length = 0, subword_buckets = 0;
    std::size_t word_ngrams = 0, ngram_buckets = 500'000, ngram_dim = 10;
    std::string ngram_reduce = "sum", ngram_init = "random";
    float dropout = 0.5f, word_dropout = 0.0f, max_norm = 3.0f, lr = -1.0f, weight_decay = 0.0f, clip = 0.0f;
    std::string embedding_mode = "non-static", activation = "relu", optimizer = "adadelta", class_weight = "none";
    std::string init = "kim";
    std::string report;  // --report: the HTML page of the run
    std::uint64_t seed = 1;
    bool quiet = false, json = false;
    TokenizerCliOptions tokenizer;
    ReaderCliOptions reader;
};

void run_train(const TrainOptions& o, const std::string& command_line, std::vector<textcnn::ReportField> settings) {
    using namespace textcnn;
    ThreadLimit threads(o.threads);
    cli_common::check_writable(o.model_path, "--model");
    if (!o.checkpoint_path.empty()) cli_common::check_writable(o.checkpoint_path, "--checkpoint");

    TextTrainingOptions options;
    options.model.widths = o.widths;
    options.model.maps = o.maps;
    options.model.embedding_dim = o.embedding_dim;
    options.model.embedding_mode = o.embedding_mode;
    options.model.activation = o.activation;
    options.model.dropout = o.dropout;
    options.model.word_dropout = o.word_dropout;
    options.model.word_ngrams = o.word_ngrams;
    options.model.ngram_buckets = o.ngram_buckets;
    options.model.ngram_dim = o.ngram_dim;
    options.model.ngram_reduce = o.ngram_reduce;
    options.naive_bayes_ngram_init = o.ngram_init == "nb";
    options.tokenizer = o.tokenizer.settings();
    options.vocabulary.min_count = o.min_count;
    options.vocabulary.max_size = o.max_vocab;
    options.vocabulary.subword_buckets = o.subword_buckets;
    options.trainer.epochs = o.epochs;
    options.trainer.batch_size = o.batch;
    options.trainer.seed = o.seed;
    options.trainer.patience = o.patience;
    options.trainer.validations_per_epoch = o.validations_per_epoch;
    options.trainer.max_norm = o.max_norm;
    options.trainer.optimizer = OptimizerSettings::defaults_for(o.optimizer);
    if (o.lr > 0) options.trainer.optimizer.learning_rate = o.lr;
    options.trainer.optimizer.weight_decay = o.weight_decay;
    options.trainer.optimizer.clip_norm = o.clip;
    options.validation_split = o.validation_split;
    options.train_source = o.train_path;
    // Column names (not numbers) let the data checks spot rows that repeat the header.
    auto is_number = [](const std::string& c) { return !c.empty() && c.find_first_not_of("0123456789") == std::string::npos; };
    if (!is_number(o.reader.label_column) && !is_number(o.reader.text_column)) {
        options.label_column = o.reader.label_column;
        options.text_column = o.reader.text_column;
    }
    options.balanced_class_weights = o.class_weight == "balanced";
    options.embeddings_path = o.embeddings;
    options.max_length = o.max_length;
    if (o.init == "kim" || o.init == "glorot") options.initializer = {Initializer::Kind::glorot_uniform, 0.25f};
    else if (o.init == "he") options.initializer = {Initializer::Kind::he_uniform, 0.25f};
    else options.initializer = {Initializer::Kind::torch_default, 0.25f};
    options.zero_output_layer = o.init == "kim";

    auto read = [&](const std::string& path) {
        DocumentSet set = read_all(path, o.reader.options(true));
        for (const auto& w : set.report.warnings()) fmt::print(stderr, "warning: {}\n", w);
        return std::move(set.documents);
    };
    std::vector<Document> train = read(o.train_path);
    std::optional<std::vector<Document>> dev;
    if (!o.dev_path.empty()) dev = read(o.dev_path);

    std::optional<cli_common::ProgressPrinter> printer;
    if (!o.quiet) printer.emplace(stderr);
    if (!o.report.empty()) cli_common::check_writable(o.report, "--report");
    cli_common::RunRecorder recorder(o.log_json, o.report, "textcnn train", std::move(settings));
    auto data_summary = text_data_summary(o.train_path, train, o.dev_path, dev, o.validation_split);
    TextTrainingCallbacks callbacks;
    callbacks.info = [&](const std::string& m) {
        if (!o.quiet) fmt::print(stderr, "{}\n", m);
    };
    callbacks.warning = [](const std::string& m) { fmt::print(stderr, "warning: {}\n", m); };
    if (printer) callbacks.progress = [&](const TrainingProgress& p) { printer->progress(p); };
    callbacks.epoch_end = [&](const EpochSummary& e) {
        if (printer) printer->epoch_end(e);
        recorder.epoch(e);
    };
    callbacks.validation = [&](const ValidationCheck& c) { recorder.dev_check(c); };
    callbacks.stop = cli_common::SigintScope::flag();

    const auto started = std::chrono::steady_clock::now();
    TextTrainingRun run(std::move(train), std::move(dev), o.dev_path, options, callbacks);
    if (!o.resume_path.empty()) run.resume_from(o.resume_path);
    if (!o.quiet) fmt::print(stderr, "{}", run.classifier().network().summary_table());
    recorder.start(std::move(data_summary), run.classifier().network().summary_table(), "documents");

    // SIGINT stays caught until the checkpoint is renamed into place: a second Ctrl-C while it
    // is written must not kill the program halfway (no checkpoint, a temporary left behind).
    cli_common::SigintScope sigint;
    TextTrainingReport report = run.run();
    for (const auto& w : report.warnings) fmt::print(stderr, "warning: {}\n", w);

    TextClassifier& model = run.classifier();
    model.metadata["training_data"] = o.train_path;
    model.metadata["training_documents"] = std::to_string(report.train_documents);
    if (!o.dev_path.empty()) model.metadata["dev_data"] = o.dev_path;
    model.metadata["trained_at"] = cli_common::now_utc();
    model.metadata["seed"] = std::to_string(o.seed);
    model.metadata["command"] = command_line;
    // ICU's dictionaries segment Chinese, Japanese and Thai; another ICU version may cut some
    // words differently, so the model says which one it was trained with.
    model.metadata["built_with"] = build_info();
    model.metadata["epochs_completed"] = std::to_string(report.result.epochs_completed);
    if (report.result.best_epoch) {
        model.metadata["best_epoch"] = std::to_string(report.result.best_epoch);
        model.metadata["dev_accuracy"] = fmt::format("{:.4f}", report.result.best_accuracy);
    }
    const std::string checkpoint = cli_common::checkpoint_path(o.model_path, o.checkpoint_path);
    if (report.result.reason == StopReason::interrupted) {
        // Nothing lost: the checkpoint to go on from, and the best model so far to use now.
        run.write_checkpoint(checkpoint);
        model.metadata["interrupted"] = "yes";
        const std::uint64_t best = run.save_best_model(o.model_path);
        fmt::print(stderr, "interrupted: the model so far written to {} ({})\n", o.model_path,
                   best ? fmt::format("best dev accuracy {:.2f}% at epoch {}", 100.0 * report.result.best_accuracy, best)
                        : std::string("its current weights: nothing validated yet"));
        cli_common::stop_after_checkpoint(checkpoint, sigint);
    }
    sigint.restore();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    model.save(o.model_path);
    // A finished run has no use for a checkpoint left by an earlier interruption of it.
    for (const std::string& stale : {checkpoint, o.resume_path}) {
        std::error_code ec;
        if (!stale.empty() && std::filesystem::is_regular_file(stale, ec) && std::filesystem::remove(stale, ec) && !o.quiet)
            fmt::print(stderr, "removed the checkpoint {}: the run is complete\n", stale);
    }

    nlohmann::json result{{"model", o.model_path},
                          {"train_documents", report.train_documents},
                          {"dev_documents", report.validation_documents},
                          {"epochs_completed", report.result.epochs_completed},
                          {"best_epoch", report.result.best_epoch},
                          {"seconds", seconds},
                          {"stopped_early", report.result.reason == StopReason::early_stopped}};
    if (report.result.best_epoch) result["dev_accuracy"] = report.result.best_accuracy;
    recorder.finish(result, recorder.wanted() ? validation_evaluation(run, o.dev_path) : std::nullopt, report.warnings);
    if (o.json) {
        fmt::print("{}\n", result.dump());
    } else {
        fmt::print("saved {}", o.model_path);
        if (report.result.best_epoch)
            fmt::print(" (best dev accuracy {:.2f}% at epoch {})", 100.0 * report.result.best_accuracy,
                       report.result.best_epoch);
        fmt::print(", {} epochs in {:.1f}s\n", report.result.epochs_completed, seconds);
    }
}

}  // namespace

Command add_train_command(CLI::App& app) {
    auto o = std::make_shared<TrainOptions>();
    CLI::App* cmd = app.add_subcommand("train", "Train a text classifier (Kim 2014 CNN) from a labelled file");
    cmd->add_option("--train", o->train_path, "Training data (CSV/TSV with label and text columns, or fastText lines)")
        ->required();
    auto* dev = cmd->add_option("--dev", o->dev_path, "Development data for model selection and early stopping");
    cmd->add_option("--validation-split", o->validation_split,
                    "Hold out this share of --train (stratified, seeded) when there is no --dev")
        ->check(CLI::Range(0.0, 0.9))
        ->excludes(dev);
    cmd->add_option("--model", o->model_path, "Where to write the trained model")->required();
    cmd->add_option("--widths", o->widths, "Filter widths side by side")->delimiter(',')->capture_default_str();
    cmd->add_option("--maps", o->maps, "Feature maps per filter width")->capture_default_str();
    cmd->add_option("--embedding-dim", o->embedding_dim, "Word vector size")->capture_default_str();
    cmd->add_option("--embeddings", o->embeddings, "Pretrained vectors (word2vec text/binary, GloVe, fastText .vec)");
    cmd->add_option("--embedding-mode", o->embedding_mode, "static | non-static | multichannel")
        ->check(CLI::IsMember({"static", "non-static", "multichannel"}))
        ->capture_default_str();
    cmd->add_option("--activation", o->activation, "Activation after the convolutions")
        ->check(CLI::IsMember({"relu", "tanh", "sigmoid", "identity"}))
        ->capture_default_str();
    cmd->add_option("--dropout", o->dropout, "Dropout rate before the output layer")
        ->check(CLI::Range(0.0, 0.95))
        ->capture_default_str();
    cmd->add_option("--word-dropout", o->word_dropout,
                    "Training only: share of known words read as the unknown word, so its vector is trained (0 = off)")
        ->check(CLI::Range(0.0, 0.95))
        ->capture_default_str();
    cmd->add_option("--word-ngrams", o->word_ngrams,
                    "Wide branch: a bag of the word n-grams of 1..N (hashed for N >= 2) beside the convolutions, "
                    "into the same output layer (fastText's -wordNgrams; 0 = none, Kim's model)")
        ->check(CLI::Range(0, 8))
        ->capture_default_str();
    cmd->add_option("--buckets", o->ngram_buckets, "Wide branch: hash buckets for the n-grams of n >= 2 (fastText's -bucket)")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    cmd->add_option("--ngram-dim", o->ngram_dim, "Wide branch: features per text (the bag's row size)")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    cmd->add_option("--ngram-reduce", o->ngram_reduce, "Wide branch: sum or mean of the rows of the n-grams present")
        ->check(CLI::IsMember({"sum", "mean"}))
        ->capture_default_str();
    cmd->add_option("--ngram-init", o->ngram_init,
                    "Wide branch: random rows, or nb: rows started at the naive-Bayes log-count ratio of each class "
                    "(NBSVM, Wang & Manning 2012)")
        ->check(CLI::IsMember({"random", "nb"}))
        ->capture_default_str();
    cmd->add_option("--optimizer", o->optimizer, "adadelta | adam | rmsprop | sgd")
        ->check(CLI::IsMember({"adadelta", "adam", "rmsprop", "sgd"}))
        ->capture_default_str();
    cmd->add_option("--lr", o->lr, "Learning rate (default: the optimizer's usual one; Adadelta 1.0)");
    cmd->add_option("--weight-decay", o->weight_decay, "L2 weight decay")->capture_default_str();
    cmd->add_option("--clip", o->clip, "Clip the gradient to this global L2 norm (0 = off)")->capture_default_str();
    cmd->add_option("--batch", o->batch, "Mini-batch size")->check(CLI::PositiveNumber)->capture_default_str();
    cmd->add_option("--epochs", o->epochs, "Epochs")->check(CLI::PositiveNumber)->capture_default_str();
    cmd->add_option("--patience", o->patience, "Stop after this many epochs without a better dev accuracy (0 = never)")
        ->capture_default_str();
    cmd->add_option("--validations-per-epoch", o->validations_per_epoch,
                    "Evaluate the dev data this many times per epoch to pick the best model (patience counts these)")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    cmd->add_option("--max-norm", o->max_norm,
                    "Max L2 norm of the output layer's weight vectors as Kim's non-inverted dropout counts it: the "
                    "stored weights are held to this x (1 - dropout) (0 = off)")
        ->capture_default_str();
    cmd->add_option("--init", o->init,
                    "kim (uniform +-0.25 embeddings, Glorot conv weights, zero output layer) | glorot (Glorot output "
                    "layer too) | he | torch")
        ->check(CLI::IsMember({"kim", "glorot", "he", "torch"}))
        ->capture_default_str();
    cmd->add_option("--min-count", o->min_count, "Leave out words seen fewer times")->capture_default_str();
    cmd->add_option("--max-vocab", o->max_vocab, "Keep at most this many words (0 = all)")->capture_default_str();
    cmd->add_option("--subword-buckets", o->subword_buckets,
                    "Hash unknown words into this many suffix buckets (0 = off; see README)")
        ->capture_default_str();
    cmd->add_option("--max-length", o->max_length, "Cut texts to this many tokens, with a warning (0 = never)")
        ->capture_default_str();
    cmd->add_option("--class-weight", o->class_weight, "none | balanced")
        ->check(CLI::IsMember({"none", "balanced"}))
        ->capture_default_str();
    cmd->add_option("--seed", o->seed, "Seed for initialisation, shuffling and dropout")->capture_default_str();
    cli_common::add_threads_option(*cmd, o->threads);
    cmd->add_flag("--quiet", o->quiet, "No progress output");
    cmd->add_flag("--json", o->json, "Print the result as one JSON object");
    cmd->add_option("--log-json", o->log_json,
                    "Write the run to this file, one JSON object a line: settings, every dev check and epoch, the "
                    "result and the evaluation on the dev data (textcnn report makes a page of it)");
    cmd->add_option("--report", o->report,
                    "Write a self-contained HTML page of the run: curves, confusion matrix, per-class metrics, ROC and "
                    "precision-recall curves on the dev data");
    cli_common::add_checkpoint_options(*cmd, o->resume_path, o->checkpoint_path);
    o->tokenizer.add_to(*cmd);
    o->reader.add_to(*cmd);
    return {cmd, [o, &app, cmd] { run_train(*o, command_line_of(app), cli_common::option_settings(*cmd)); }};
}

}  // namespace textcnn_cli
