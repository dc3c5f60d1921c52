// textcnn split: a stratified train/test split of a labelled file, reproducible from a seed
// (the SMS Spam Collection protocol: 80/20, seed 1). Both parts keep the input's format and every
// column; identical texts go to the same part (grouped_stratified_split).
#include "commands.h"
#include "output_fields.h"
#include "shared_options.h"
#include "training_cli.h"

#include "textcnn/core/error.h"
#include "textcnn/core/files.h"
#include "textcnn/text/data_checks.h"
#include "textcnn/text/text_training.h"

#include <fmt/format.h>

#include <memory>

namespace textcnn_cli {
namespace {

struct SplitOptions {
    std::string data_path, train_out, test_out;
    double test_share = 0.2;
    std::uint64_t seed = 1;
    ReaderCliOptions reader;
};

// The documents in the format they came in: CSV and TSV rows with every column, under the
// input's header; fastText lines as __label__<label> <text>.
void write_part(const std::string& path, const textcnn::DocumentSet& set, const std::vector<textcnn::Document>& docs) {
    std::string out;
    if (set.format == textcnn::InputFormat::fasttext) {
        for (const auto& d : docs) out += "__label__" + *d.label + " " + d.text + "\n";
    } else {
        const char delimiter = set.format == textcnn::InputFormat::tsv ? '\t' : ',';
        const auto row = [&](const std::vector<std::string>& fields) {
            for (std::size_t i = 0; i < fields.size(); ++i) out += (i ? std::string(1, delimiter) : "") + csv_field(fields[i], delimiter);
            out += '\n';
        };
        if (!set.header.empty()) row(set.header);  // none with --no-header
        for (const auto& d : docs) row(d.fields);
    }
    textcnn::write_file_atomically(path, out);  // IoError naming the path and errno; no temporary left
}

std::string format_name(textcnn::InputFormat format) {
    switch (format) {
        case textcnn::InputFormat::tsv: return "tsv";
        case textcnn::InputFormat::fasttext: return "ft";
        default: return "csv";
    }
}

void run_split(const SplitOptions& o) {
    cli_common::check_distinct_files({{"--train-out", o.train_out}, {"--test-out", o.test_out}}, {{"--data", o.data_path}});
    // Both outputs checked before the first is written: a bad --test-out must not leave a
    // --train-out replaced and no test part.
    cli_common::check_writable(o.train_out, "--train-out");
    cli_common::check_writable(o.test_out, "--test-out");
    textcnn::DocumentReaderOptions reader = o.reader.options(true, o.data_path);
    reader.keep_fields = true;
    textcnn::DocumentSet set = textcnn::read_all(o.data_path, reader);
    print_reader_warnings(set.report);
    // Both parts are written in the input's format: an output named for another format would
    // be read back as that one (TSV rows in x.csv: "no column 'text'"; CSV rows in x.txt, read
    // as plain text, when the input's own name gave its format).
    for (const auto& [option, path] : {std::pair{"--train-out", &o.train_out}, std::pair{"--test-out", &o.test_out}}) {
        const textcnn::InputFormat named = textcnn::format_from_extension(*path);
        if (named != set.format && (named != textcnn::InputFormat::plain || o.reader.format == "auto"))
            throw cli_common::UsageError(fmt::format("{} {}: the parts are written in the input's format ({}), which "
                                                     "this name's extension does not announce; name it .{}",
                                                     option, *path, format_name(set.format), format_name(set.format)));
    }
    // Training's data checks (labels trimmed for the strata, as training trims them; the rows
    // are written as read): a label with a trailing space or in another letter case made a
    // stratum of its own, unsaid, and split's output then met those warnings at train.
    textcnn::DataCheckOptions check;
    check.source = o.data_path;
    check.training = false;  // split divides any labelled file; train judges the label count
    if (!set.header.empty() && set.label_column) {
        check.label_column = set.header[*set.label_column];
        check.text_column = set.header[set.text_column];
    }
    for (const std::string& w : textcnn::check_labelled_documents(set.documents, check))
        if (w.find("under different labels") == std::string::npos)  // said below with the split's examples
            cli_common::print_stderr("warning: {}\n", w);
    std::vector<textcnn::Document> test;
    const textcnn::DuplicateTexts duplicates = textcnn::grouped_stratified_split(set.documents, test, o.test_share, o.seed);
    if (set.documents.empty() || test.empty())
        throw textcnn::InputError(fmt::format(
            "{}: --test-share {} leaves the {} part empty ({} training and {} test documents{}); nothing written",
            o.data_path, o.test_share, set.documents.empty() ? "training" : "test", set.documents.size(), test.size(),
            duplicates.repeated_documents
                ? fmt::format(", {} of them repeating an earlier text and kept beside it", duplicates.repeated_documents)
                : std::string()));
    write_part(o.train_out, set, set.documents);
    write_part(o.test_out, set, test);
    if (duplicates.repeated_documents)
        cli_common::print_stderr("{}: {} documents repeat the text of an earlier one; identical texts were kept on one side\n",
                   o.data_path, duplicates.repeated_documents);
    if (duplicates.conflicting_texts) {
        cli_common::print_stderr("warning: {}: {} with different labels, e.g.\n", o.data_path,
                   duplicates.conflicting_texts == 1 ? std::string("1 text appears")
                                                     : fmt::format("{} texts appear", duplicates.conflicting_texts));
        for (const auto& example : duplicates.conflict_examples) cli_common::print_stderr("  {}\n", example);
    }
    cli_common::print_stderr("{}: {} training and {} test documents\n", o.data_path, set.documents.size(), test.size());
}

}  // namespace

Command add_split_command(CLI::App& app) {
    auto o = std::make_shared<SplitOptions>();
    CLI::App* cmd = app.add_subcommand("split", "Stratified, seeded train/test split of a labelled file: both parts in its format, all columns; identical texts on one side");
    cmd->add_option("--data", o->data_path, "Labelled data")->required();
    cmd->add_option("--train-out", o->train_out, "Where to write the training part")->required();
    cmd->add_option("--test-out", o->test_out, "Where to write the test part")->required();
    cmd->add_option("--test-share", o->test_share, "Share of every class that goes to the test part")
        ->check(cli_common::in_range<decltype(o->test_share)>(0.01, 0.99))
        ->capture_default_str();
    cmd->add_option("--seed", o->seed, "Seed of the permutation")->capture_default_str();
    o->reader.add_to(*cmd);
    return {cmd, [o] { run_split(*o); }};
}

}  // namespace textcnn_cli
