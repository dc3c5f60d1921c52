// The options and the run of a text-classifier training, shared by `textcnn train` (documents
// from a CSV/TSV/fastText file) and `textcnn-mail train` (documents extracted from e-mails):
// one option set, one mapping to TextTrainingOptions, one progress/log/checkpoint/save path.
#pragma once

#include "textcnn/report/run_report.h"
#include "textcnn/text/document_reader.h"
#include "textcnn/text/text_training.h"
#include "textcnn/text/tokenizer.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace cli_common {

/// Tokenizer options shared by train and tokenize: --no-lowercase, --no-normalize,
/// --punctuation keep|drop, --placeholders.
struct TokenizerCliOptions {
    bool no_lowercase = false;
    bool no_normalize = false;
    std::string punctuation = "keep";
    bool placeholders = false;
    void add_to(CLI::App& command);
    textcnn::TokenizerSettings settings() const;
};

/// Every option of a text training run except where the documents come from: --model,
/// --validation-split, the architecture, optimizer and vocabulary options, --seed, --threads,
/// --quiet, --json, --log-json, --resume, --checkpoint and the tokenizer options.
struct TextTrainCliOptions {
    std::string model_path, resume_path, checkpoint_path, log_json, embeddings;
    double validation_split = 0.0;
    std::vector<std::size_t> widths{3, 4, 5};
    std::size_t maps = 100, embedding_dim = 300, batch = 50, epochs = 25, patience = 0, threads = 0;
    std::size_t validations_per_epoch = 1;
    std::size_t min_count = 1, max_vocab = 0, max_length = 0, subword_buckets = 0;
    std::size_t word_ngrams = 0, ngram_buckets = 500'000, ngram_dim = 10;
    std::size_t ensemble = 1;    ///< --ensemble K: networks trained and averaged
    std::size_t nb_members = 0;  ///< --nb-members M: the last M of them with the naive-Bayes wide branch
    std::string member_validation = "shared";  ///< --member-validation: shared or own validation splits
    std::string ngram_reduce = "sum", ngram_init = "random";
    float dropout = 0.5f, word_dropout = 0.0f, max_norm = 3.0f, lr = -1.0f, weight_decay = 0.0f, clip = 0.0f;
    double label_smoothing = 0.0;
    std::string embedding_mode = "non-static", activation = "relu", optimizer = "adadelta", class_weight = "none";
    std::string init = "kim";
    std::string report;  ///< --report: the HTML page of the run
    std::string validation_predictions;  ///< --validation-predictions: the validation documents' probabilities
    std::uint64_t seed = 1;
    bool quiet = false, json = false;
    TokenizerCliOptions tokenizer;

    /// Registers the options on `command`; --validation-split excludes `dev` when given.
    void add_to(CLI::App& command, CLI::Option* dev);
    /// The library's options for these settings (train_source and the column names are the
    /// caller's to set).
    textcnn::TextTrainingOptions library_options() const;
    /// Fails now, not after the data was read, when --model or --checkpoint cannot be written,
    /// or when an output (--model, the checkpoint, --log-json, --report) is one of the `inputs`
    /// (option, path), --embeddings, --resume (but for the checkpoint) or another output, or
    /// lies inside one of `input_directories` (option, directory).
    void check_outputs(const std::vector<std::pair<std::string, std::string>>& inputs,
                       const std::vector<std::pair<std::string, std::string>>& input_directories = {}) const;
};

/// Where a run's documents came from, stored in the model's metadata with `extra_metadata`;
/// the program's name and its option settings head the run log and report (run_log.h).
struct TrainingSources {
    std::string train, dev;
    std::string command_line;
    std::map<std::string, std::string> extra_metadata;
    std::string program = "textcnn train";
    std::vector<textcnn::ReportField> settings = {};
};

/// `PROGRAM train --resume CKPT [options]` without any of `data_options` (the options that
/// name the training data): the arguments of the run that wrote CKPT, stored in it, with the
/// options given now in place of the stored ones of the same name (--epochs 40 runs longer).
/// `arguments` is argv, argv[0] included. Any other command line is returned as it is.
/// UsageError when CKPT holds no stored arguments; what read_model_file() throws when it
/// cannot be read.
std::vector<std::string> with_resumed_arguments(const std::vector<std::string>& arguments,
                                                const std::vector<std::string>& data_options);

/// A warning on stderr when `model` (read from `path`) is a training checkpoint (it holds the
/// stored options of `train --resume`): its weights are those of the moment the run was
/// interrupted, not the model the run saves. Used where a model is read to predict or quantize.
void warn_if_checkpoint(const textcnn::TextClassifier& model, const std::string& path);

/// A model's metadata as JSON (textcnn summary --json): what a training run writes as numbers
/// (training_documents, seed, epochs_completed, best_epoch, dev_accuracy) as JSON numbers,
/// "interrupted" as a boolean, everything else as the text it is.
nlohmann::json metadata_json(const std::map<std::string, std::string>& metadata);

/// Trains on `train` (and `dev`), printing progress to stderr unless --quiet, writing
/// --log-json and --report, handling Ctrl-C (checkpoint and the best model so far, then
/// Interrupted), saving the model with its metadata, removing a checkpoint the finished run no
/// longer needs and printing the result (one JSON object with --json). Throws what the library
/// throws and Interrupted.
void run_text_training(const TextTrainCliOptions& o, textcnn::TextTrainingOptions options,
                       std::vector<textcnn::Document> train, std::optional<std::vector<textcnn::Document>> dev,
                       const TrainingSources& sources);

}  // namespace cli_common
