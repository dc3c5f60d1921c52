// Per-label probability thresholds: the decision a caller takes from a classifier's softmax
// output when arg-max is not what it wants (a spam filter that says "spam" only above 0.9).
//
// The rule, for one probability vector p (one entry per label, in the model's label order):
//   1. the labels that have a threshold and reach it (p >= threshold, compared as floats,
//      the probabilities' type) win: the most probable
//      of them is the decision;
//   2. otherwise the most probable label without a threshold is;
//   3. when every label has a threshold and none reaches it, there is no decision (nullopt).
// So with labels {ham, spam} and spam = 0.9, the decision is spam exactly when P(spam) >= 0.9,
// whichever position spam has among the labels; with a threshold on every label it is
// fastText's -th (no label below it). Ties go to the first label, like arg-max.
//
// Immutable after construction; decide() is const and safe from many threads.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace textcnn {

class LabelThresholds {
public:
    /// No threshold: decide() is the arg-max.
    LabelThresholds() = default;
    /// `thresholds` as (label name, probability in [0, 1]) pairs. ConfigError for a name that
    /// is not in `labels` (the message lists them), a probability outside [0, 1] or NaN, or a
    /// label given twice.
    LabelThresholds(std::span<const std::string> labels, std::span<const std::pair<std::string, double>> thresholds);

    bool empty() const { return count_ == 0; }
    /// The number of labels given at construction (0 for the default: no threshold).
    std::size_t labels() const { return thresholds_.size(); }
    /// Whether some label has no threshold, so that decide() always returns a label.
    bool always_decides() const { return count_ < thresholds_.size() || thresholds_.empty(); }
    /// The threshold of label `index`, if it has one.
    std::optional<double> threshold(std::size_t index) const;

    /// The decision for `probabilities` (one per label; the labels' order). Without any
    /// threshold: arg-max. ConfigError when the size differs from the number of labels given
    /// at construction.
    std::optional<std::uint32_t> decide(std::span<const float> probabilities) const;
    /// Whether decide() might answer otherwise for probabilities each within `bounds` (+ `slack`)
    /// of `probabilities` (both one per label): a thresholded label within its bound of its
    /// threshold, or, among the labels the rule chooses from, another within the two bounds of
    /// the most probable. Conservative: true may be said of a decision that cannot change,
    /// never false of one that can. Without any threshold it is the arg-max's doubt. What a
    /// quantized model's refined form uses to pick the texts it scores again. ConfigError when
    /// the sizes differ from the number of labels given at construction.
    bool in_doubt(std::span<const float> probabilities, std::span<const float> bounds, float slack) const;

private:
    std::vector<double> thresholds_;  ///< one per label; negative = no threshold
    std::size_t count_ = 0;
};

}  // namespace textcnn
