// textcnn train: a Kim (2014) CNN from a labelled file, with dev-set model selection, early
// stopping, progress on stderr, JSON logs, Ctrl-C checkpoints and --resume. The options and the
// run itself are shared with textcnn-mail train (apps/common/text_training_cli.h).
#include "commands.h"
#include "output_fields.h"
#include "run_log.h"
#include "shared_options.h"
#include "text_training_cli.h"

#include "textcnn/text/text_training.h"

#include <fmt/format.h>

#include <optional>

namespace textcnn_cli {
namespace {

struct TrainOptions {
    std::string train_path, dev_path;
    cli_common::TextTrainCliOptions training;
    ReaderCliOptions reader;
};

void run_train(const TrainOptions& o, const std::string& command_line, std::vector<textcnn::ReportField> settings) {
    using namespace textcnn;
    cli_common::check_one_standard_input({{"--train", o.train_path}, {"--dev", o.dev_path}});
    o.training.check_outputs({{"--train", o.train_path}, {"--dev", o.dev_path}});
    if (!o.dev_path.empty() && o.dev_path != "-" && cli_common::same_file(o.train_path, o.dev_path))
        cli_common::print_stderr("warning: --dev {} is the training data: its accuracy measures what the model remembers, "
                           "not how it does on new text, so the epoch it picks is no better than the last\n",
                   o.dev_path);
    TextTrainingOptions options = o.training.library_options();
    options.train_source = o.train_path;
    // The header's names let the data checks spot rows that repeat the header.
    auto read = [&](const std::string& path) {
        DocumentSet set = read_all(path, o.reader.options(true, path));
        print_reader_warnings(set.report);
        if (!set.header.empty() && options.label_column.empty() && set.label_column) {
            options.label_column = set.header[*set.label_column];
            options.text_column = set.header[set.text_column];
        }
        return std::move(set.documents);
    };
    std::vector<Document> train = read(o.train_path);
    std::optional<std::vector<Document>> dev;
    if (!o.dev_path.empty()) dev = read(o.dev_path);
    cli_common::run_text_training(o.training, std::move(options), std::move(train), std::move(dev),
                                  {o.train_path, o.dev_path, command_line, {}, "textcnn train", std::move(settings)});
}

}  // namespace

Command add_train_command(CLI::App& app) {
    auto o = std::make_shared<TrainOptions>();
    CLI::App* cmd = app.add_subcommand("train", "Train a text classifier (Kim 2014 CNN) from a labelled file");
    cmd->add_option("--train", o->train_path, "Training data (CSV/TSV with label and text columns, or fastText lines; '-' = standard input)")
        ->required();
    auto* dev = cmd->add_option("--dev", o->dev_path, "Development data for model selection and early stopping");
    o->training.add_to(*cmd, dev);
    o->reader.add_to(*cmd);
    return {cmd, [o, &app, cmd] { run_train(*o, command_line_of(app), cli_common::option_settings(*cmd)); }};
}

}  // namespace textcnn_cli
