#include "textcnn/report/curves.h"

#include "textcnn/core/error.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>

namespace textcnn {

namespace {

// Cumulative true and false positives at each distinct score, highest score first.
struct Counts {
    std::vector<double> true_positives, false_positives, thresholds;
    double positives = 0.0, negatives = 0.0;
};

Counts cumulative_counts(std::span<const float> scores, std::span<const std::uint8_t> positive, const char* what) {
    if (scores.size() != positive.size())
        throw InputError(std::string(what) + ": " + std::to_string(scores.size()) + " scores but " +
                         std::to_string(positive.size()) + " labels");
    for (std::size_t i = 0; i < scores.size(); ++i)
        if (std::isnan(scores[i])) throw InputError(std::string(what) + ": score " + std::to_string(i) + " is NaN");
    std::vector<std::size_t> order(scores.size());
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return scores[a] > scores[b]; });
    Counts c;
    double tp = 0.0, fp = 0.0;
    for (std::size_t i = 0; i < order.size(); ++i) {
        (positive[order[i]] ? tp : fp) += 1.0;
        const bool last_of_score = i + 1 == order.size() || scores[order[i + 1]] != scores[order[i]];
        if (!last_of_score) continue;
        c.true_positives.push_back(tp);
        c.false_positives.push_back(fp);
        c.thresholds.push_back(scores[order[i]]);
    }
    c.positives = tp;
    c.negatives = fp;
    return c;
}

constexpr double infinity = std::numeric_limits<double>::infinity();

}  // namespace

std::vector<CurvePoint> roc_curve(std::span<const float> scores, std::span<const std::uint8_t> positive) {
    const Counts c = cumulative_counts(scores, positive, "roc_curve");
    if (c.positives == 0.0 || c.negatives == 0.0)
        throw InputError("roc_curve: needs positive and negative samples (positives " +
                         std::to_string(static_cast<std::size_t>(c.positives)) + ", negatives " +
                         std::to_string(static_cast<std::size_t>(c.negatives)) + ")");
    std::vector<CurvePoint> points{{0.0, 0.0, infinity}};
    for (std::size_t i = 0; i < c.thresholds.size(); ++i)
        points.push_back({c.false_positives[i] / c.negatives, c.true_positives[i] / c.positives, c.thresholds[i]});
    return points;
}

std::vector<CurvePoint> precision_recall_curve(std::span<const float> scores, std::span<const std::uint8_t> positive) {
    const Counts c = cumulative_counts(scores, positive, "precision_recall_curve");
    if (c.positives == 0.0) throw InputError("precision_recall_curve: no positive sample");
    std::vector<CurvePoint> points{{0.0, 1.0, infinity}};
    for (std::size_t i = 0; i < c.thresholds.size(); ++i) {
        const double called = c.true_positives[i] + c.false_positives[i];
        points.push_back({c.true_positives[i] / c.positives, c.true_positives[i] / called, c.thresholds[i]});
    }
    return points;
}

double curve_area(std::span<const CurvePoint> points) {
    double area = 0.0;
    for (std::size_t i = 1; i < points.size(); ++i)
        area += (points[i].x - points[i - 1].x) * (points[i].y + points[i - 1].y) / 2.0;
    return area;
}

double average_precision(std::span<const CurvePoint> precision_recall) {
    double sum = 0.0;
    for (std::size_t i = 1; i < precision_recall.size(); ++i)
        sum += (precision_recall[i].x - precision_recall[i - 1].x) * precision_recall[i].y;
    return sum;
}

std::vector<CurvePoint> thin_curve(std::span<const CurvePoint> points, std::size_t max_points) {
    if (max_points < 2) throw ConfigError("thin_curve: max_points must be at least 2");
    if (points.size() <= max_points) return {points.begin(), points.end()};
    std::vector<CurvePoint> kept;
    kept.reserve(max_points);
    const double step = static_cast<double>(points.size() - 1) / static_cast<double>(max_points - 1);
    for (std::size_t k = 0; k < max_points; ++k)
        kept.push_back(points[static_cast<std::size_t>(std::lround(static_cast<double>(k) * step))]);
    return kept;
}

OperatingPoint operating_point(const std::vector<std::vector<std::size_t>>& counts) {
    if (counts.size() != 2 || counts[0].size() != 2 || counts[1].size() != 2)
        throw ConfigError("operating_point: needs the confusion counts of exactly two classes");
    const double tn = static_cast<double>(counts[0][0]), fp = static_cast<double>(counts[0][1]);
    const double fn = static_cast<double>(counts[1][0]), tp = static_cast<double>(counts[1][1]);
    OperatingPoint p;
    p.false_positive_rate = tn + fp > 0.0 ? fp / (tn + fp) : 0.0;
    p.recall = tp + fn > 0.0 ? tp / (tp + fn) : 0.0;
    p.precision = tp + fp > 0.0 ? tp / (tp + fp) : 0.0;
    return p;
}

}  // namespace textcnn
