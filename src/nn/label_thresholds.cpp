#include "textcnn/nn/label_thresholds.h"

#include "textcnn/core/error.h"
#include "textcnn/text/data_checks.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace textcnn {

LabelThresholds::LabelThresholds(std::span<const std::string> labels,
                                 std::span<const std::pair<std::string, double>> thresholds)
    : thresholds_(labels.size(), -1.0) {
    // Labels (a model file's: untrusted) and names shown as shown_label() spells them: no
    // control character reaches the terminal, a 300 KB label is cut.
    for (const auto& [name, value] : thresholds) {
        const auto it = std::find(labels.begin(), labels.end(), name);
        if (it == labels.end()) {
            std::vector<std::string> shown;
            for (const std::string& label : labels) shown.push_back(shown_label(label));
            throw ConfigError(fmt::format("threshold for '{}': no such label (labels: {})", shown_label(name),
                                          fmt::join(shown, ", ")));
        }
        if (!(value >= 0.0 && value <= 1.0))
            throw ConfigError(fmt::format("threshold for '{}': {} is not a probability in [0, 1]", shown_label(name), value));
        double& slot = thresholds_[static_cast<std::size_t>(it - labels.begin())];
        if (slot >= 0.0) throw ConfigError(fmt::format("threshold for '{}' given twice", shown_label(name)));
        slot = value;
        ++count_;
    }
}

std::optional<double> LabelThresholds::threshold(std::size_t index) const {
    if (index < thresholds_.size() && thresholds_[index] >= 0.0) return thresholds_[index];
    return std::nullopt;
}

std::optional<std::uint32_t> LabelThresholds::decide(std::span<const float> probabilities) const {
    if (count_ == 0) {
        if (probabilities.empty()) return std::nullopt;
        return static_cast<std::uint32_t>(std::max_element(probabilities.begin(), probabilities.end()) -
                                          probabilities.begin());
    }
    if (probabilities.size() != thresholds_.size())
        throw ConfigError(fmt::format("thresholds: {} probabilities for {} labels", probabilities.size(),
                                      thresholds_.size()));
    std::optional<std::uint32_t> passed, fallback;
    for (std::size_t i = 0; i < probabilities.size(); ++i) {
        const auto index = static_cast<std::uint32_t>(i);
        if (thresholds_[i] >= 0.0) {
            if (probabilities[i] >= static_cast<float>(thresholds_[i]) && (!passed || probabilities[i] > probabilities[*passed]))
                passed = index;
        } else if (!fallback || probabilities[i] > probabilities[*fallback]) {
            fallback = index;
        }
    }
    return passed ? passed : fallback;
}

bool LabelThresholds::in_doubt(std::span<const float> probabilities, std::span<const float> bounds, float slack) const {
    const std::size_t n = probabilities.size();
    if (bounds.size() != n || (count_ != 0 && n != thresholds_.size()))
        throw ConfigError(fmt::format("thresholds: {} probabilities and {} bounds for {} labels", n, bounds.size(),
                                      count_ != 0 ? thresholds_.size() : n));
    const auto has = [&](std::size_t i) { return count_ != 0 && thresholds_[i] >= 0.0; };
    const auto reaches = [&](std::size_t i) { return probabilities[i] >= static_cast<float>(thresholds_[i]); };
    bool any_reached = false;
    for (std::size_t i = 0; i < n; ++i) {
        if (!has(i)) continue;
        if (std::abs(probabilities[i] - static_cast<float>(thresholds_[i])) <= bounds[i] + slack) return true;
        any_reached = any_reached || reaches(i);
    }
    // Every threshold's side is certain: the rule picks the most probable of these labels.
    const auto candidate = [&](std::size_t i) { return any_reached ? has(i) && reaches(i) : !has(i); };
    std::size_t top = n;
    for (std::size_t i = 0; i < n; ++i)
        if (candidate(i) && (top == n || probabilities[i] > probabilities[top])) top = i;
    if (top == n) return false;  // no label can be decided: every one has a threshold below it
    for (std::size_t i = 0; i < n; ++i)
        if (i != top && candidate(i) && probabilities[top] - probabilities[i] <= bounds[top] + bounds[i] + slack)
            return true;
    return false;
}

}  // namespace textcnn
