// A training run as one self-contained HTML page: settings and data summary, loss and accuracy
// per epoch and per dev check, learning rate, throughput, the model summary and, from an
// evaluation, the confusion matrix as a heat map, per-class precision/recall/F1 bars and, for
// two classes, the ROC and precision-recall curves with the decision threshold marked.
// Charts are inline SVG (svg.h); the page loads nothing (a Content-Security-Policy forbids
// scripts and remote content) and every text from data is escaped.
#pragma once

#include "textcnn/nn/metrics.h"
#include "textcnn/nn/training_settings.h"
#include "textcnn/report/curves.h"

#include <cstddef>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace textcnn {

/// A row of a settings or facts table.
struct ReportField {
    std::string name;
    std::string value;
};

/// What a report shows of one evaluation.
struct ReportEvaluation {
    std::string data;  ///< what was evaluated ("dev.csv: 872 documents")
    ClassificationReport metrics;
    /// Two classes only (label 1 = positive; empty otherwise): the curves of P(label 1).
    std::vector<CurvePoint> roc, precision_recall;
    double roc_auc = std::numeric_limits<double>::quiet_NaN();
    double average_precision = std::numeric_limits<double>::quiet_NaN();  ///< average_precision() of the PR points
    /// The threshold on P(label 1) the decisions were made with, when known (arg-max of two
    /// classes: 0.5). The marked points come from the confusion matrix either way.
    std::optional<double> threshold;
};

/// A ReportEvaluation from per-sample results (labels, predictions, probabilities of
/// `evaluation`; see Evaluation) and the class names in label order. With two classes the
/// curves of P(label 1) are computed and thinned to `max_curve_points` (thin_curve); with one
/// class absent from the data they stay empty. ConfigError when the sizes disagree (labels,
/// predictions, probabilities = samples x class_names.size()) or a label is not a class.
ReportEvaluation make_report_evaluation(std::string data, const std::vector<std::string>& class_names,
                                        const Evaluation& evaluation, std::optional<double> threshold,
                                        std::size_t max_curve_points = 400);

/// The same from a classification report and, for two classes, the scores of label 1 and
/// which samples are label 1 (empty spans: no curves). InputError from the curves (NaN score,
/// spans of different lengths).
ReportEvaluation make_report_evaluation(std::string data, ClassificationReport metrics, std::span<const float> scores,
                                        std::span<const std::uint8_t> positive, std::optional<double> threshold,
                                        std::size_t max_curve_points = 400);

/// Everything a report page shows; any part may be empty (the section then says so or is left out).
struct RunReport {
    std::string title = "Training report";
    std::string created;                   ///< when, as the caller words it ("2026-11-30T14:05:00Z")
    std::vector<ReportField> settings;     ///< options of the run
    std::vector<ReportField> data;         ///< data summary: files, counts, labels
    std::vector<ReportField> result;       ///< outcome: best epoch, stop reason, time
    std::vector<EpochSummary> epochs;      ///< in order
    std::vector<ValidationCheck> checks;   ///< every dev check, in order
    std::optional<ReportEvaluation> evaluation;
    std::string model_summary;             ///< preformatted text (Network::summary_table)
    std::string items = "documents";       ///< what the throughput counts
    std::vector<std::string> notes;        ///< warnings worth keeping with the run
};

/// The page as UTF-8 HTML. ConfigError from the charts for inconsistent evaluation data
/// (a confusion matrix that is not labels x labels). Thread-safe.
std::string report_html(const RunReport& report);

/// report_html() written to `path` atomically (files.h). IoError when it cannot be written.
void write_report_html(const std::string& path, const RunReport& report);

}  // namespace textcnn
