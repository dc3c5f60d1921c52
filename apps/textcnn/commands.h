// The textcnn subcommands. Each add_*_command() registers its CLI11 subcommand and returns
// what main() runs when that subcommand was given.
//
// Exit codes and error messages: apps/common/cli_main.h (130 = training interrupted by
// Ctrl-C after writing a checkpoint).
#pragma once

#include "cli_main.h"
#include "output_fields.h"
#include "text_training_cli.h"
#include "threshold_cli.h"
#include "training_cli.h"
#include "textcnn/nn/label_thresholds.h"
#include "textcnn/text/document_reader.h"
#include "textcnn/text/text_classifier.h"
#include "textcnn/text/tokenizer.h"

#include <CLI/CLI.hpp>

#include <string>

namespace textcnn_cli {

using cli_common::Command;
using cli_common::Interrupted;
using cli_common::UsageError;

Command add_train_command(CLI::App& app);
Command add_eval_command(CLI::App& app);
Command add_predict_command(CLI::App& app);
Command add_summary_command(CLI::App& app);
Command add_tokenize_command(CLI::App& app);
Command add_split_command(CLI::App& app);
Command add_quantize_command(CLI::App& app);
Command add_report_command(CLI::App& app);

using cli_common::TokenizerCliOptions;

/// Input options shared by every command that reads documents: --input-format,
/// --text-column, --label-column, --no-header, --skip-bad-rows, --invalid-utf8.
struct ReaderCliOptions {
    std::string format = "auto";
    std::string text_column;   ///< empty: "text", or "2" with no_header
    std::string label_column;  ///< empty: "label", or "1" with no_header
    bool no_header = false;
    bool skip_bad_rows = false;
    std::string invalid_utf8 = "error";
    void add_to(CLI::App& command);
    /// The reader's options. With `require_label` and the format left to the file name, a
    /// `path` whose name gives plain text (stdin "-", data.txt) is a UsageError naming
    /// --input-format; so are the column options and --no-header for a `path` read as plain
    /// text or fastText lines. An empty `path` skips those checks.
    textcnn::DocumentReaderOptions options(bool require_label, const std::string& path = {}) const;
};

using cli_common::ThresholdCliOptions;

/// The reader's warnings on stderr ("warning: ..."), with a hint at --no-header when the
/// header row looks like a document.
void print_reader_warnings(const textcnn::ReaderReport& report);

using cli_common::csv_field;
using cli_common::tsv_field;

/// --no-fold for commands that predict: the network's own forward pass instead of the
/// folded tables (text_classifier.h): slower, but without the tables' memory.
void add_no_fold_flag(CLI::App& command, bool& no_fold);
/// Loads a model for prediction: folded unless `no_fold`.
textcnn::TextClassifier load_for_prediction(const std::string& path, bool no_fold);

/// The program's arguments as one line (stored in model metadata).
std::string command_line_of(const CLI::App& app);

}  // namespace textcnn_cli
