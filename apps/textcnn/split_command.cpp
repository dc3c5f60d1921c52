// textcnn split: a stratified train/test split of a labelled file, reproducible from a seed
// (the SMS Spam Collection protocol: 80/20, seed 1). Writes label,text CSV files.
#include "commands.h"

#include "textcnn/core/error.h"
#include "textcnn/core/files.h"
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

void write_csv(const std::string& path, const std::vector<textcnn::Document>& docs) {
    std::string out = "label,text\n";
    for (const auto& d : docs) out += csv_field(*d.label) + "," + csv_field(d.text) + "\n";
    textcnn::write_file_atomically(path, out);  // IoError naming the path and errno; no temporary left
}

void run_split(const SplitOptions& o) {
    textcnn::DocumentSet set = textcnn::read_all(o.data_path, o.reader.options(true));
    for (const auto& w : set.report.warnings()) fmt::print(stderr, "warning: {}\n", w);
    std::vector<textcnn::Document> test;
    textcnn::stratified_split(set.documents, test, o.test_share, o.seed);
    write_csv(o.train_out, set.documents);
    write_csv(o.test_out, test);
    fmt::print(stderr, "{}: {} training and {} test documents\n", o.data_path, set.documents.size(), test.size());
}

}  // namespace

Command add_split_command(CLI::App& app) {
    auto o = std::make_shared<SplitOptions>();
    CLI::App* cmd = app.add_subcommand("split", "Stratified, seeded train/test split of a labelled file (CSV out)");
    cmd->add_option("--data", o->data_path, "Labelled data")->required();
    cmd->add_option("--train-out", o->train_out, "Where to write the training part")->required();
    cmd->add_option("--test-out", o->test_out, "Where to write the test part")->required();
    cmd->add_option("--test-share", o->test_share, "Share of every class that goes to the test part")
        ->check(CLI::Range(0.01, 0.99))
        ->capture_default_str();
    cmd->add_option("--seed", o->seed, "Seed of the permutation")->capture_default_str();
    o->reader.add_to(*cmd);
    return {cmd, [o] { run_split(*o); }};
}

}  // namespace textcnn_cli
