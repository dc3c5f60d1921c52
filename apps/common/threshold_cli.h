// --threshold LABEL=P, shared by textcnn predict/eval and textcnn-mail classify.
#pragma once

#include "textcnn/nn/label_thresholds.h"

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace cli_common {

/// --threshold LABEL=P, repeatable, shared by predict and eval (label_thresholds.h has the
/// rule). A bare number is refused: which label it would apply to is exactly what users got
/// wrong when it meant "the second label in sorted order".
struct ThresholdCliOptions {
    std::vector<std::string> values;
    void add_to(CLI::App& command);
    /// UsageError for a bare number or a value without '=' (naming the model's labels), and
    /// for a label or probability LabelThresholds refuses.
    textcnn::LabelThresholds thresholds(const std::vector<std::string>& labels) const;
};

}  // namespace cli_common
