// Classification metrics: confusion matrix, accuracy, per-class precision / recall / F1 /
// support, macro-F1, and ROC-AUC for two classes. What `evaluate` prints and what its --json
// writes.
//
// Conventions (those of scikit-learn's classification_report with zero_division=0): a class
// never predicted has precision 0, a class never present has recall 0, and F1 is 0 when
// precision + recall is 0. Macro-F1 is the unweighted mean of the per-class F1 over all labels,
// including labels absent from the data.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace textcnn {

/// Counts of (true label, predicted label) pairs; labels are indices into labels().
class ConfusionMatrix {
public:
    /// `labels` name the classes, in the order rows and columns use.
    explicit ConfusionMatrix(std::vector<std::string> labels);

    /// Records one prediction; ConfigError when an index is not a class.
    void add(std::size_t truth, std::size_t predicted);
    /// Records many; the spans have the same length.
    void add(std::span<const std::uint32_t> truths, std::span<const std::uint32_t> predictions);

    const std::vector<std::string>& labels() const { return labels_; }
    std::size_t classes() const { return labels_.size(); }
    /// Number of samples whose true label is `truth` and prediction is `predicted`.
    std::size_t count(std::size_t truth, std::size_t predicted) const { return counts_.at(truth * classes() + predicted); }
    std::size_t total() const { return total_; }

private:
    std::vector<std::string> labels_;
    std::vector<std::size_t> counts_;  // row-major: truth * classes + predicted
    std::size_t total_ = 0;
};

struct ClassMetrics {
    double precision = 0.0;
    double recall = 0.0;
    double f1 = 0.0;
    std::size_t support = 0;  ///< samples whose true label is this class
    /// Share of the other classes' samples predicted as this class: FP / (FP + TN). For a spam
    /// filter, the ham row's rate of being called spam is spam's false-positive rate.
    double false_positive_rate = 0.0;
};

struct ClassificationReport {
    std::vector<std::string> labels;
    double accuracy = 0.0;
    double macro_f1 = 0.0;
    std::vector<ClassMetrics> per_class;           ///< in the order of labels
    std::vector<std::vector<std::size_t>> confusion;  ///< [true][predicted]
    std::size_t samples = 0;
};

/// Accuracy, per-class metrics and macro-F1 from a confusion matrix. An empty matrix gives
/// zeros everywhere.
ClassificationReport classification_report(const ConfusionMatrix& confusion);

/// As JSON: {"accuracy", "macro_f1", "samples", "labels", "per_class": {label: {"precision",
/// "recall", "f1", "support", "false_positive_rate"}}, "confusion": rows = true label in the
/// order of labels, columns = predicted label}.
/// `indent` < 0 gives one line.
std::string to_json(const ClassificationReport& report, int indent = 2);

/// A readable table: one row per class (precision, recall, F1, support), accuracy (as a
/// percentage with 2 decimals, "60.00%"), macro-F1, then the confusion matrix with true labels down and predictions across.
std::string to_text(const ClassificationReport& report);

/// Area under the ROC curve for a two-class problem: the probability that a random positive
/// scores higher than a random negative, ties counting one half (Mann-Whitney U). `scores`
/// are the positive class's scores; `positive` says which samples are positive. Returns NaN
/// when either class is absent. InputError when the spans differ in length or a score is NaN.
double roc_auc(std::span<const float> scores, std::span<const std::uint8_t> positive);

}  // namespace textcnn
