// textcnn predict: scores text files with a saved model, streaming. Exactly one output line
// per input document, in input order, empty lines included (USERS.md themes 2, 7, 15).
#include "commands.h"

#include "textcnn/core/runtime.h"
#include "textcnn/text/text_classifier.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <numeric>

namespace textcnn_cli {
namespace {

struct PredictOptions {
    bool no_fold = false;
    std::string model_path;
    std::vector<std::string> files;
    bool prob = false, quiet = false;
    std::size_t top = 0, threads = 0, chunk = 8192;
    double threshold = -1.0;
    std::string format = "tsv";
    ReaderCliOptions reader;
};

class OutputWriter {
public:
    OutputWriter(const PredictOptions& o, const std::vector<std::string>& labels) : o_(o), labels_(labels) {
        delimiter_ = o.format == "csv" ? ',' : '\t';
    }

    void write(const textcnn::TextPrediction& p) {
        line_.clear();
        const std::string& label = labels_[p.label];
        if (o_.format == "jsonl") {
            nlohmann::json j{{"label", label}};
            if (o_.prob || o_.top) {
                nlohmann::json probs = nlohmann::json::object();
                for (std::size_t k : ranked(p)) probs[labels_[k]] = p.probabilities[k];
                j["probabilities"] = probs;
            }
            line_ = j.dump();
        } else {
            line_ = field(label);
            if (o_.top) {
                for (std::size_t k : ranked(p)) line_ += fmt::format("{}{}{}{:.6g}", delimiter_, field(labels_[k]), delimiter_, p.probabilities[k]);
            } else if (o_.prob) {
                for (float v : p.probabilities) line_ += fmt::format("{}{:.6g}", delimiter_, v);
            }
        }
        line_ += '\n';
        std::fwrite(line_.data(), 1, line_.size(), stdout);
    }

private:
    // Labels best first, at most --top of them (all with --prob alone).
    std::vector<std::size_t> ranked(const textcnn::TextPrediction& p) const {
        std::vector<std::size_t> order(p.probabilities.size());
        std::iota(order.begin(), order.end(), 0);
        std::stable_sort(order.begin(), order.end(),
                         [&](std::size_t a, std::size_t b) { return p.probabilities[a] > p.probabilities[b]; });
        if (o_.top && o_.top < order.size()) order.resize(o_.top);
        return order;
    }
    std::string field(const std::string& s) const {
        if (o_.format != "csv" || s.find_first_of(",\"\n\r") == std::string::npos) return s;
        std::string quoted = "\"";
        for (char c : s) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
        return quoted + "\"";
    }
    const PredictOptions& o_;
    const std::vector<std::string>& labels_;
    char delimiter_;
    std::string line_;
};

void run_predict(PredictOptions o) {
    using namespace textcnn;
    ThreadLimit threads(o.threads);
    const TextClassifier model = load_for_prediction(o.model_path, o.no_fold);
    const auto& labels = model.labels();
    if (o.threshold >= 0.0 && labels.size() != 2)
        throw UsageError(fmt::format("--threshold needs a two-class model; this one has {} labels", labels.size()));
    if (o.files.empty()) o.files.push_back("-");

    OutputWriter writer(o, labels);
    const auto started = std::chrono::steady_clock::now();
    std::size_t documents = 0, bytes = 0;
    std::vector<std::string> texts;
    texts.reserve(o.chunk);
    auto flush = [&] {
        auto predictions = model.predict(texts);
        for (auto& p : predictions) {
            if (o.threshold >= 0.0) p.label = p.probabilities[1] >= o.threshold ? 1 : 0;
            writer.write(p);
        }
        documents += texts.size();
        texts.clear();
    };
    for (const std::string& path : o.files) {
        DocumentReader reader(path, o.reader.options(false));
        Document doc;
        while (reader.next(doc)) {
            bytes += doc.text.size() + 1;
            texts.push_back(std::move(doc.text));
            if (texts.size() == o.chunk) flush();
        }
        for (const auto& w : reader.report().warnings()) fmt::print(stderr, "warning: {}\n", w);
    }
    flush();
    std::fflush(stdout);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (!o.quiet)
        fmt::print(stderr, "scored {} documents ({:.1f} MB) in {:.2f}s: {:.0f} documents/s, {:.2f} MB/s\n", documents,
                   bytes / 1e6, seconds, documents / std::max(seconds, 1e-9), bytes / 1e6 / std::max(seconds, 1e-9));
}

}  // namespace

Command add_predict_command(CLI::App& app) {
    auto o = std::make_shared<PredictOptions>();
    CLI::App* cmd = app.add_subcommand(
        "predict", "Label texts with a saved model: one output line per input document (stdin when no FILE)");
    cmd->add_option("--model", o->model_path, "Model file written by textcnn train")->required();
    cmd->add_option("files", o->files, "Input files: plain text (one document per line), CSV/TSV (--text-column)");
    cmd->add_flag("--prob", o->prob, "Also print the probability of every label (in the model's label order)");
    cmd->add_option("--top", o->top, "Print the K most probable labels with their probabilities");
    cmd->add_option("--threshold", o->threshold,
                    "Two-class models: predict the second label when its probability is at least T")
        ->check(CLI::Range(0.0, 1.0));
    cmd->add_option("--format", o->format, "tsv | csv | jsonl")
        ->check(CLI::IsMember({"tsv", "csv", "jsonl"}))
        ->capture_default_str();
    cmd->add_option("--chunk", o->chunk, "Documents read and scored at a time (memory stays bounded by it)")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    add_no_fold_flag(*cmd, o->no_fold);
    cli_common::add_threads_option(*cmd, o->threads);
    cmd->add_flag("--quiet", o->quiet, "No throughput line on stderr");
    o->reader.add_to(*cmd);
    return {cmd, [o] { run_predict(*o); }};
}

}  // namespace textcnn_cli
