// Threshold curves of a two-class problem: the ROC curve (false-positive rate, true-positive
// rate) and the precision-recall curve, one point per distinct score, as scikit-learn's
// roc_curve (drop_intermediate=False) and precision_recall_curve compute them; and the
// operating point a confusion matrix stands for, to mark the threshold a model decides with.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace textcnn {

/// One point of a threshold curve: samples scoring >= threshold are called positive.
/// ROC: x = false-positive rate, y = true-positive rate. PR: x = recall, y = precision.
struct CurvePoint {
    double x = 0.0;
    double y = 0.0;
    double threshold = 0.0;  ///< +infinity for the first point (nothing called positive)
};

/// ROC points for thresholds from +infinity down through every distinct score (highest
/// first): starts at (0, 0), ends at (1, 1). `scores` are the positive class's scores (any
/// scale), `positive` says which samples are positive. InputError when the spans differ in
/// length, a score is NaN, or either class is absent (the rates would be undefined).
/// Thread-safe (no shared state).
std::vector<CurvePoint> roc_curve(std::span<const float> scores, std::span<const std::uint8_t> positive);

/// Precision-recall points, same thresholds and order as roc_curve: the first is (recall 0,
/// precision 1) at +infinity (scikit-learn's convention), then one per distinct score; the
/// last has recall 1. InputError as roc_curve, or when no sample is positive. Thread-safe.
std::vector<CurvePoint> precision_recall_curve(std::span<const float> scores, std::span<const std::uint8_t> positive);

/// Area under a curve by the trapezoid rule over its points in their order (x may run either
/// way; the area is then of the sign of x's direction). Fewer than two points: 0.
double curve_area(std::span<const CurvePoint> points);

/// Average precision from precision_recall_curve's points (in their order): the sum of
/// (recall_i - recall_{i-1}) * precision_i, scikit-learn's average_precision_score (no
/// interpolation). Thread-safe.
double average_precision(std::span<const CurvePoint> precision_recall);

/// At most `max_points` (>= 2) of `points`, evenly spread over their order, the first and the
/// last always kept: what a chart or a JSON file needs of a curve over 100,000 samples.
/// ConfigError for max_points < 2. Thread-safe.
std::vector<CurvePoint> thin_curve(std::span<const CurvePoint> points, std::size_t max_points);

/// The decisions a two-class confusion matrix records, as the points to mark on the curves
/// (label 1 the positive class): ROC (false-positive rate, recall) and PR (recall, precision).
struct OperatingPoint {
    double false_positive_rate = 0.0;
    double recall = 0.0;     ///< true-positive rate
    double precision = 0.0;  ///< 0 when nothing was called positive
};

/// From counts[true][predicted] of two classes (label 1 positive). ConfigError unless 2 x 2.
OperatingPoint operating_point(const std::vector<std::vector<std::size_t>>& counts);

}  // namespace textcnn
