// textcnn: train and run convolutional text classifiers.
//   textcnn train | eval | predict | summary | tokenize | split | quantize  (each with --help)
#include "commands.h"

#include "textcnn/core/error.h"
#include "textcnn/nn/model_file.h"
#include "textcnn/core/runtime.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <charconv>
#include <vector>

namespace textcnn_cli {

namespace {
std::string joined_arguments;
}

std::string command_line_of(const CLI::App&) { return joined_arguments; }

void TokenizerCliOptions::add_to(CLI::App& command) {
    command.add_flag("--no-lowercase", no_lowercase, "Keep letter case (default: Unicode case folding)");
    command.add_flag("--no-normalize", no_normalize, "Skip Unicode NFKC normalization");
    command.add_option("--punctuation", punctuation, "keep | drop punctuation tokens")
        ->check(CLI::IsMember({"keep", "drop"}))
        ->capture_default_str();
    command.add_flag("--placeholders", placeholders, "Map URLs, e-mail addresses, numbers and money to <url> <email> <num> <money>");
}

textcnn::TokenizerSettings TokenizerCliOptions::settings() const {
    textcnn::TokenizerSettings s;
    s.lowercase = !no_lowercase;
    s.normalize = !no_normalize;
    s.punctuation = punctuation == "drop" ? textcnn::Punctuation::drop : textcnn::Punctuation::keep;
    s.placeholders = placeholders;
    return s;
}

void ReaderCliOptions::add_to(CLI::App& command) {
    command.add_option("--input-format", format, "auto (by extension) | csv | tsv | fasttext | plain")
        ->check(CLI::IsMember({"auto", "csv", "tsv", "fasttext", "plain"}))
        ->capture_default_str();
    command.add_option("--text-column", text_column, "CSV/TSV text column: header name or 1-based number")
        ->capture_default_str();
    command.add_option("--label-column", label_column, "CSV/TSV label column: header name or 1-based number")
        ->capture_default_str();
    command.add_flag("--skip-bad-rows", skip_bad_rows, "Skip malformed rows (counted in a warning) instead of stopping");
    command.add_option("--invalid-utf8", invalid_utf8, "error | replace (with U+FFFD)")
        ->check(CLI::IsMember({"error", "replace"}))
        ->capture_default_str();
}

textcnn::DocumentReaderOptions ReaderCliOptions::options(bool require_label) const {
    textcnn::DocumentReaderOptions o;
    o.format = textcnn::parse_input_format(format);
    o.text_column = text_column;
    o.label_column = label_column;
    o.require_label = require_label;
    o.skip_bad_rows = skip_bad_rows;
    o.invalid_utf8 = invalid_utf8 == "replace" ? textcnn::InvalidUtf8::replace : textcnn::InvalidUtf8::error;
    return o;
}

void add_no_fold_flag(CLI::App& command, bool& no_fold) {
    command.add_flag("--no-fold", no_fold,
                     "Predict through the network instead of the folded tables built at load: slower, but "
                     "without their memory (textcnn summary shows their size)");
}

void ThresholdCliOptions::add_to(CLI::App& command) {
    command
        .add_option("--threshold", values,
                    "LABEL=P: predict LABEL only when its probability is at least P (repeatable, one per label). "
                    "Labels with a threshold that reach it win; otherwise the most probable label without one; "
                    "with a threshold on every label and none reached, no label")
        ->allow_extra_args(false)
        ->type_name("LABEL=P");
}

textcnn::LabelThresholds ThresholdCliOptions::thresholds(const std::vector<std::string>& labels) const {
    std::vector<std::pair<std::string, double>> pairs;
    for (const std::string& v : values) {
        const auto eq = v.rfind('=');
        if (eq == std::string::npos)
            throw UsageError(fmt::format("--threshold {}: name the label it applies to, as LABEL=P (this model's labels: "
                                         "{}), e.g. --threshold {}={}",
                                         v, fmt::join(labels, ", "), labels.empty() ? "LABEL" : labels.back(), v));
        const std::string name = v.substr(0, eq), number = v.substr(eq + 1);
        double p = 0.0;
        const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), p);
        if (ec != std::errc() || end != number.data() + number.size() || number.empty())
            throw UsageError(fmt::format("--threshold {}: '{}' is not a number", v, number));
        pairs.emplace_back(name, p);
    }
    try {
        return textcnn::LabelThresholds(labels, pairs);
    } catch (const textcnn::ConfigError& e) {
        throw UsageError(fmt::format("--threshold: {}", e.what()));
    }
}

std::string tsv_field(const std::string& s) {
    if (s.find_first_of("\\\t\n\r") == std::string::npos) return s;
    std::string out;
    for (char c : s) {
        switch (c) {
        case '\\': out += "\\\\"; break;
        case '\t': out += "\\t"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        default: out += c;
        }
    }
    return out;
}

std::string csv_field(const std::string& s, char delimiter) {
    if (s.find_first_of("\"\r\n") == std::string::npos && s.find(delimiter) == std::string::npos) return s;
    std::string quoted = "\"";
    for (char c : s) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
    return quoted + "\"";
}

textcnn::TextClassifier load_for_prediction(const std::string& path, bool no_fold) {
    auto model = textcnn::TextClassifier::from_model_file(textcnn::read_model_file(path));
    if (!no_fold) model.fold_for_prediction();
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
    return cli_common::run_program(app, commands, "textcnn", argc, argv);
}
