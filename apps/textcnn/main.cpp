// textcnn: train and run convolutional text classifiers.
//   textcnn train | eval | predict | summary | tokenize | split | quantize  (each with --help)
#include "commands.h"
#include "output_fields.h"
#include "text_training_cli.h"

#include "textcnn/core/error.h"
#include "textcnn/core/files.h"
#include "textcnn/nn/model_file.h"
#include "textcnn/core/runtime.h"

#include <fmt/format.h>

#include <vector>

namespace textcnn_cli {

namespace {
std::string joined_arguments;
}

std::string command_line_of(const CLI::App&) { return joined_arguments; }

void ReaderCliOptions::add_to(CLI::App& command) {
    command.add_option("--input-format", format, "auto (by extension) | csv | tsv | fasttext | plain")
        ->check(CLI::IsMember({"auto", "csv", "tsv", "fasttext", "plain"}))
        ->capture_default_str();
    command.add_option("--text-column", text_column,
                       "CSV/TSV text column: header name or 1-based number (default: text; 2 with --no-header)");
    command.add_option("--label-column", label_column,
                       "CSV/TSV label column: header name or 1-based number (default: label; 1 with --no-header, 2 "
                       "when the text column is 1)");
    command.add_flag("--no-header", no_header,
                     "CSV/TSV without a header row: every row is a document; columns by number (default: label 1, "
                     "text 2)");
    command.add_flag("--skip-bad-rows", skip_bad_rows, "Skip malformed rows (counted in a warning) instead of stopping");
    command.add_option("--invalid-utf8", invalid_utf8, "error | replace (with U+FFFD)")
        ->check(CLI::IsMember({"error", "replace"}))
        ->capture_default_str();
}

textcnn::DocumentReaderOptions ReaderCliOptions::options(bool require_label, const std::string& path) const {
    textcnn::DocumentReaderOptions o;
    o.format = textcnn::parse_input_format(format);
    // By name alone, stdin and a .txt or .data file would be read as plain text: say which
    // option reads them as labelled data before the library says that plain text has none.
    if (require_label && o.format == textcnn::InputFormat::automatic && !path.empty() &&
        textcnn::format_from_extension(path) == textcnn::InputFormat::plain)
        throw UsageError(fmt::format("{}: {}, so it would be read as plain text, which has no labels; add "
                                     "--input-format csv, tsv or fasttext",
                                     textcnn::input_name(path),
                                     path == "-" ? "standard input has no name to tell its format by"
                                                 : "its name does not end in .csv, .tsv or .ft"));
    // Column options on input read as plain text or fastText lines (by its name, or chosen):
    // they had no effect, unsaid (--id-column is refused by the reader).
    const textcnn::InputFormat read_as =
        o.format == textcnn::InputFormat::automatic && !path.empty() ? textcnn::format_from_extension(path) : o.format;
    if (read_as == textcnn::InputFormat::plain || read_as == textcnn::InputFormat::fasttext) {
        const char* option = !text_column.empty() ? "--text-column" : !label_column.empty() ? "--label-column"
                                                  : no_header                               ? "--no-header"
                                                                                            : nullptr;
        if (option)
            throw UsageError(fmt::format("{} applies to CSV or TSV input; {} is read as {}{}", option,
                                         textcnn::input_name(path),
                                         read_as == textcnn::InputFormat::plain ? "plain text" : "fastText lines",
                                         format != "auto" ? std::string()
                                         : path == "-"    ? " (standard input has no name to tell its format by; "
                                                            "--input-format csv or tsv reads it so)"
                                                          : " (by its name; --input-format csv or tsv reads it so)"));
    }
    // Unless chosen: the label,text layout, by name or (without a header) by position.
    o.text_column = !text_column.empty() ? text_column : no_header ? "2" : "text";
    // Without a header, a text column 1 (a "text,label" file) leaves the label column 2: the
    // default 1 made the two the same column, refused.
    o.label_column = !label_column.empty() ? label_column
                     : no_header           ? (o.text_column == "1" ? "2" : "1")
                                           : "label";
    o.header = !no_header;
    o.require_label = require_label;
    o.label_column_named = !label_column.empty();  // predict's and tokenize's too: a typo is said
    o.skip_bad_rows = skip_bad_rows;
    o.invalid_utf8 = invalid_utf8 == "replace" ? textcnn::InvalidUtf8::replace : textcnn::InvalidUtf8::error;
    return o;
}

void print_reader_warnings(const textcnn::ReaderReport& report) {
    for (const auto& w : report.warnings()) cli_common::print_stderr("warning: {}\n", w);
    if (report.header_looks_like_data)
        cli_common::print_stderr("hint: --no-header reads a file without a header row (columns by number)\n");
    if (report.plain_text_looks_like_table)
        cli_common::print_stderr("hint: --input-format csv (or tsv) reads a table by its header, whatever the file's name\n");
}

void add_no_fold_flag(CLI::App& command, bool& no_fold) {
    command.add_flag("--no-fold", no_fold,
                     "Predict through the network instead of the folded tables built at load: slower, but "
                     "without their memory (textcnn summary shows their size)");
}

textcnn::TextClassifier load_for_prediction(const std::string& path, bool no_fold) {
    // load() folds, and reads a quantized model's tables straight into huge pages.
    auto model = no_fold ? textcnn::TextClassifier::from_model_file(textcnn::read_model_file(path))
                         : textcnn::TextClassifier::load(path);
    // A textcnn-mail model (its metadata key, apps/textcnn-mail/commands.h) reads the text its
    // extractor makes of a raw message: a message's lines were scored one by one here unsaid.
    if (model.metadata.count("mail_max_body_bytes"))
        cli_common::print_stderr("warning: {} was trained by textcnn-mail on the text it extracts from raw messages "
                           "(textcnn-mail extract shows it): raw messages are classified with textcnn-mail classify; "
                           "here each document is read as given\n",
                   path);
    cli_common::warn_if_checkpoint(model, path);
    if (no_fold && model.quantized())
        cli_common::print_stderr("warning: --no-fold: {} is quantized and has no network to predict through: it predicts "
                           "from its int8 tables\n", path);
    return model;
}

}  // namespace textcnn_cli

int main(int argc, char** argv) {
    using namespace textcnn_cli;
    // std::cin on its own buffer (the programs write through stdio, never std::cout): a pipe's
    // lines are then read as they arrive and DocumentReader::input_buffered() can see what is
    // waiting, so predict answers a pipe line by line (predict_command.cpp).
    std::ios::sync_with_stdio(false);
    for (int i = 0; i < argc; ++i) joined_arguments += (i ? " " : "") + std::string(argv[i]);
    CLI::App app{"textcnn: train and run convolutional text classifiers (Kim 2014)"};
    app.set_version_flag("--version", [] { return textcnn::build_info(); });
    app.require_subcommand(1);
    std::vector<Command> commands = {add_train_command(app), add_eval_command(app), add_predict_command(app),
                                     add_summary_command(app), add_tokenize_command(app), add_split_command(app),
                                     add_quantize_command(app), add_report_command(app)};
    // `train --resume CKPT` alone: the options of the run that wrote the checkpoint.
    std::vector<std::string> arguments(argv, argv + argc);
    try {
        arguments = cli_common::with_resumed_arguments(arguments, {"--train"});
    } catch (...) {
        return cli_common::exit_code_of_current_exception("textcnn train");
    }
    return cli_common::run_program(app, commands, "textcnn", std::move(arguments));
}
