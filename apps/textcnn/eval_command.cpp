// textcnn eval: accuracy, per-class precision/recall/F1, macro-F1, confusion matrix and, for
// two classes, ROC-AUC of a saved model on labelled data.
#include "commands.h"
#include "output_fields.h"
#include "refused_texts.h"
#include "run_log.h"
#include "shared_options.h"

#include "textcnn/core/error.h"
#include "textcnn/nn/metrics.h"
#include "textcnn/core/runtime.h"
#include "textcnn/text/data_checks.h"
#include "textcnn/text/text_classifier.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>

namespace textcnn_cli {
namespace {

struct EvalOptions {
    bool no_fold = false;
    std::string model_path, data_path;
    bool json = false;
    std::size_t threads = 0;
    ThresholdCliOptions threshold;
    ReaderCliOptions reader;
};

void run_eval(const EvalOptions& o) {
    using namespace textcnn;
    ThreadLimit threads(o.threads);
    end_blas_workers();  // as predict: they would spin beside the load's threads, and scoring makes no threaded BLAS call
    TextClassifier model = load_for_prediction(o.model_path, o.no_fold);
    const auto& labels = model.labels();
    const LabelThresholds thresholds = o.threshold.thresholds(labels);
    if (!thresholds.always_decides())
        throw UsageError("--threshold: eval needs a label without a threshold to fall back on (with a threshold on "
                         "every label some documents could get no label at all)");
    model.set_decision_thresholds(thresholds);  // a refined model's decisions: as predict's
    DocumentReader reader(o.data_path, o.reader.options(true, o.data_path));

    ConfusionMatrix confusion(labels);
    std::vector<float> positive_scores;
    std::vector<std::uint8_t> is_positive;
    std::size_t unknown = 0, tokens = 0, unknown_tokens = 0, no_known = 0, cut = 0;
    std::string first_unknown;
    std::vector<std::string> texts;
    std::vector<std::uint32_t> truths;
    std::vector<std::size_t> lines;
    // A text the model refuses (InputError: with --no-fold, one text whose forward pass alone
    // would pass the network's bound) stops the evaluation, named by its line: metrics over
    // the others would not be the file's.
    std::vector<std::string> refused;
    auto flush = [&] {
        const auto predictions = cli_common::predict_noting_refusals(model, texts, refused);
        for (std::size_t i = 0; i < refused.size(); ++i)
            if (!refused[i].empty()) throw InputError(fmt::format("{}:{}: {}", o.data_path, lines[i], refused[i]));
        for (std::size_t i = 0; i < predictions.size(); ++i) {
            const std::uint32_t predicted = *thresholds.decide(predictions[i].probabilities);
            tokens += predictions[i].tokens;
            unknown_tokens += predictions[i].unknown_tokens;
            no_known += predictions[i].no_known_token();
            cut += predictions[i].truncated;
            confusion.add(truths[i], predicted);
            if (labels.size() == 2) {
                positive_scores.push_back(predictions[i].probabilities[1]);
                is_positive.push_back(truths[i] == 1);
            }
        }
        texts.clear();
        truths.clear();
        lines.clear();
    };
    Document doc;
    std::size_t trimmed = 0, first_trimmed_line = 0;
    while (reader.next(doc)) {
        // Labels are trimmed as training trims them ("pos " is "pos").
        if (std::string label = trimmed_label(*doc.label); label != *doc.label) {
            if (trimmed++ == 0) first_trimmed_line = doc.line;
            *doc.label = std::move(label);
        }
        auto it = std::find(labels.begin(), labels.end(), *doc.label);
        if (it == labels.end()) {
            if (unknown++ == 0) {
                first_unknown = fmt::format("{}:{}: label '{}'", o.data_path, doc.line, shown_label(*doc.label));
                const auto alike = std::find_if(labels.begin(), labels.end(),
                                                [&](const std::string& l) { return labels_look_alike(l, *doc.label); });
                if (alike != labels.end())
                    first_unknown += fmt::format("; the model has '{}', which reads the same (letter case, Unicode "
                                                 "form, width or invisible characters differ)",
                                                 shown_label(*alike));
            }
            continue;
        }
        texts.push_back(doc.text);
        truths.push_back(static_cast<std::uint32_t>(it - labels.begin()));
        lines.push_back(doc.line);
        if (texts.size() == 8192) flush();
    }
    flush();
    print_reader_warnings(reader.report());
    if (trimmed)
        cli_common::print_stderr("warning: {}\n", trimmed_labels_warning(o.data_path, trimmed, first_trimmed_line));
    if (unknown)
        cli_common::print_stderr("warning: {} documents have labels the model does not know and were not scored (first: {})\n",
                   unknown, first_unknown);
    if (cut)
        cli_common::print_stderr("{} documents were longer than the model's maximum length and were cut to their first {} "
                   "tokens, as at training\n", cut, model.max_length());
    if (confusion.total() == 0)
        throw InputError(o.data_path + (unknown ? ": no document with a label the model knows"
                                                : ": no documents to evaluate (the file holds no data row)"));

    const ClassificationReport report = classification_report(confusion);
    const double auc = labels.size() == 2 ? roc_auc(positive_scores, is_positive) : std::nan("");
    // A label of the model that no document has: its recall and F1 are 0 by convention, and
    // they pull macro F1 down; said, not left for the reader to find in the table.
    std::vector<std::string> absent;
    for (std::size_t c = 0; c < labels.size(); ++c)
        if (report.per_class[c].support == 0) absent.push_back("'" + shown_label(labels[c]) + "'");
    if (!absent.empty())
        cli_common::print_stderr("warning: no document of {} has the label{} {} ({} of the model's {} labels): recall and F1 "
                           "are undefined there, shown as 0 and counted as 0 in macro F1{}\n",
                   o.data_path, absent.size() > 1 ? "s" : "", fmt::join(absent, ", "), absent.size(), labels.size(),
                   labels.size() == 2 ? "; ROC-AUC needs documents of both labels" : "");
    if (o.json) {
        // Two classes: the decision threshold on P(second label) (a threshold on the first label t
        // calls the second when P(first) < t, so at 1 - t), and the ROC and PR curves.
        std::optional<double> threshold;
        if (labels.size() == 2)
            threshold = thresholds.threshold(1) ? *thresholds.threshold(1)
                                                : thresholds.threshold(0) ? 1.0 - *thresholds.threshold(0) : 0.5;
        auto j = cli_common::evaluation_json(
            make_report_evaluation(o.data_path, report, positive_scores, is_positive, threshold));
        if (labels.size() == 2) j["roc_auc"] = std::isnan(auc) ? nlohmann::json() : nlohmann::json(auc);
        j["unknown_labels"] = unknown;
        j["tokens"] = tokens;
        j["unknown_token_share"] = tokens ? static_cast<double>(unknown_tokens) / static_cast<double>(tokens) : 0.0;
        j["documents_without_known_token"] = no_known;
        fmt::print("{}\n", cli_common::json_text(j));
    } else {
        // Labels with what does not show spelled out ('very<U+00A0>good'): rows that look alike
        // are told apart (the JSON keeps them as they are).
        ClassificationReport shown = report;
        for (std::string& label : shown.labels) label = shown_label(label);
        fmt::print("{}", to_text(shown));
        if (labels.size() == 2 && std::isnan(auc))
            fmt::print("ROC-AUC ({} as positive): undefined (the documents have one label only)\n", shown_label(labels[1]));
        else if (labels.size() == 2)
            fmt::print("ROC-AUC ({} as positive): {:.4f}\n", shown_label(labels[1]), auc);
        fmt::print("Unknown tokens: {} of {} ({:.2f} %); documents without a known token: {}\n", unknown_tokens, tokens,
                   tokens ? 100.0 * static_cast<double>(unknown_tokens) / static_cast<double>(tokens) : 0.0, no_known);
    }
}

}  // namespace

Command add_eval_command(CLI::App& app) {
    auto o = std::make_shared<EvalOptions>();
    CLI::App* cmd = app.add_subcommand("eval", "Evaluate a model on labelled data: accuracy, per-class metrics, confusion");
    cmd->add_option("--model", o->model_path, "Model file written by textcnn train")->required();
    cmd->add_option("--data", o->data_path, "Labelled data (CSV/TSV/fastText)")->required();
    cmd->add_flag("--json", o->json,
                  "One JSON object: accuracy, macro_f1, per_class {precision, recall, f1, support}, labels, confusion; "
                  "for two classes also roc_auc, average_precision, threshold, roc_curve and pr_curve (for textcnn "
                  "report --eval)");
    o->threshold.add_to(*cmd);
    add_no_fold_flag(*cmd, o->no_fold);
    cli_common::add_threads_option(*cmd, o->threads);
    o->reader.add_to(*cmd);
    return {cmd, [o] { run_eval(*o); }};
}

}  // namespace textcnn_cli
