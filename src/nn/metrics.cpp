#include "textcnn/nn/metrics.h"

#include "textcnn/core/error.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace textcnn {

ConfusionMatrix::ConfusionMatrix(std::vector<std::string> labels)
    : labels_(std::move(labels)), counts_(labels_.size() * labels_.size(), 0) {
    if (labels_.empty()) throw ConfigError("confusion matrix: no class labels");
}

void ConfusionMatrix::add(std::size_t truth, std::size_t predicted) {
    if (truth >= classes() || predicted >= classes())
        throw ConfigError("confusion matrix: class index " + std::to_string(std::max(truth, predicted)) +
                          " is outside the " + std::to_string(classes()) + " labels");
    ++counts_[truth * classes() + predicted];
    ++total_;
}

void ConfusionMatrix::add(std::span<const std::uint32_t> truths, std::span<const std::uint32_t> predictions) {
    if (truths.size() != predictions.size())
        throw ConfigError("confusion matrix: " + std::to_string(truths.size()) + " true labels but " +
                          std::to_string(predictions.size()) + " predictions");
    for (std::size_t i = 0; i < truths.size(); ++i) add(truths[i], predictions[i]);
}

ClassificationReport classification_report(const ConfusionMatrix& confusion) {
    ClassificationReport r;
    const std::size_t k = confusion.classes();
    r.labels = confusion.labels();
    r.samples = confusion.total();
    r.confusion.assign(k, std::vector<std::size_t>(k, 0));
    std::size_t correct = 0;
    std::vector<std::size_t> predicted(k, 0), actual(k, 0);
    for (std::size_t t = 0; t < k; ++t)
        for (std::size_t p = 0; p < k; ++p) {
            const std::size_t n = confusion.count(t, p);
            r.confusion[t][p] = n;
            actual[t] += n;
            predicted[p] += n;
            if (t == p) correct += n;
        }
    r.accuracy = r.samples ? static_cast<double>(correct) / r.samples : 0.0;
    double f1_sum = 0.0;
    for (std::size_t c = 0; c < k; ++c) {
        ClassMetrics m;
        const double tp = static_cast<double>(confusion.count(c, c));
        const double fp = static_cast<double>(predicted[c]) - tp;
        const double negatives = static_cast<double>(r.samples - actual[c]);
        m.support = actual[c];
        m.precision = predicted[c] ? tp / predicted[c] : 0.0;
        m.recall = actual[c] ? tp / actual[c] : 0.0;
        m.f1 = m.precision + m.recall > 0.0 ? 2.0 * m.precision * m.recall / (m.precision + m.recall) : 0.0;
        m.false_positive_rate = negatives > 0.0 ? fp / negatives : 0.0;
        f1_sum += m.f1;
        r.per_class.push_back(m);
    }
    r.macro_f1 = f1_sum / static_cast<double>(k);
    return r;
}

std::string to_json(const ClassificationReport& report, int indent) {
    nlohmann::ordered_json j;
    j["accuracy"] = report.accuracy;
    j["macro_f1"] = report.macro_f1;
    j["samples"] = report.samples;
    j["labels"] = report.labels;
    nlohmann::ordered_json per_class = nlohmann::ordered_json::object();
    for (std::size_t c = 0; c < report.labels.size(); ++c) {
        const ClassMetrics& m = report.per_class[c];
        per_class[report.labels[c]] = {{"precision", m.precision},
                                       {"recall", m.recall},
                                       {"f1", m.f1},
                                       {"support", m.support},
                                       {"false_positive_rate", m.false_positive_rate}};
    }
    j["per_class"] = std::move(per_class);
    j["confusion"] = report.confusion;
    return j.dump(indent);
}

std::string to_text(const ClassificationReport& report) {
    std::size_t label_w = std::string("macro avg").size();
    for (const auto& l : report.labels) label_w = std::max(label_w, l.size());
    std::string out = fmt::format("{:>{}}  {:>9}  {:>9}  {:>9}  {:>9}\n", "", label_w, "precision", "recall", "f1-score",
                                  "support");
    for (std::size_t c = 0; c < report.labels.size(); ++c) {
        const ClassMetrics& m = report.per_class[c];
        out += fmt::format("{:>{}}  {:>9.4f}  {:>9.4f}  {:>9.4f}  {:>9}\n", report.labels[c], label_w, m.precision,
                           m.recall, m.f1, m.support);
    }
    out += "\n";
    // Accuracy as a percentage, as every human-readable accuracy of the programs (JSON: a fraction).
    out += fmt::format("{:>{}}  {:>9}  {:>9}  {:>9}  {:>9}\n", "accuracy", label_w, "", "",
                       fmt::format("{:.2f}%", 100.0 * report.accuracy), report.samples);
    out += fmt::format("{:>{}}  {:>9}  {:>9}  {:>9.4f}  {:>9}\n", "macro F1", label_w, "", "", report.macro_f1,
                       report.samples);
    // Confusion matrix: true labels down, predictions across.
    std::size_t cell_w = 5;
    for (const auto& l : report.labels) cell_w = std::max(cell_w, l.size());
    for (const auto& row : report.confusion)
        for (std::size_t n : row) cell_w = std::max(cell_w, std::to_string(n).size());
    out += "\nconfusion (rows: true label, columns: predicted)\n";
    out += fmt::format("{:>{}}", "", label_w);
    for (const auto& l : report.labels) out += fmt::format("  {:>{}}", l, cell_w);
    out += "\n";
    for (std::size_t t = 0; t < report.labels.size(); ++t) {
        out += fmt::format("{:>{}}", report.labels[t], label_w);
        for (std::size_t n : report.confusion[t]) out += fmt::format("  {:>{}}", n, cell_w);
        out += "\n";
    }
    return out;
}

double roc_auc(std::span<const float> scores, std::span<const std::uint8_t> positive) {
    if (scores.size() != positive.size())
        throw InputError("roc_auc: " + std::to_string(scores.size()) + " scores but " +
                         std::to_string(positive.size()) + " labels");
    std::vector<std::size_t> order(scores.size());
    std::iota(order.begin(), order.end(), 0);
    for (std::size_t i = 0; i < scores.size(); ++i)
        if (std::isnan(scores[i])) throw InputError("roc_auc: score " + std::to_string(i) + " is NaN");
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return scores[a] < scores[b]; });
    // Rank sum of the positives, tied scores sharing their average rank (1-based).
    double positive_rank_sum = 0.0;
    std::size_t positives = 0;
    for (std::size_t i = 0; i < order.size();) {
        std::size_t j = i;
        while (j < order.size() && scores[order[j]] == scores[order[i]]) ++j;
        const double average_rank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2.0;
        for (std::size_t k = i; k < j; ++k)
            if (positive[order[k]]) {
                positive_rank_sum += average_rank;
                ++positives;
            }
        i = j;
    }
    const std::size_t negatives = scores.size() - positives;
    if (positives == 0 || negatives == 0) return std::nan("");
    const double p = static_cast<double>(positives), n = static_cast<double>(negatives);
    return (positive_rank_sum - p * (p + 1.0) / 2.0) / (p * n);
}

}  // namespace textcnn
