#include "threshold_cli.h"

#include "cli_main.h"

#include "textcnn/core/error.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <charconv>
#include <utility>

namespace cli_common {

void ThresholdCliOptions::add_to(CLI::App& command) {
    command
        .add_option("--threshold", values,
                    "LABEL=P: predict LABEL only when its probability is at least P (repeatable, one per label). "
                    "Labels with a threshold that reach it win; otherwise the most probable label without one; "
                    "with a threshold on every label and none reached, no label")
        ->allow_extra_args(false)
        ->type_name("LABEL=P");
}

textcnn::LabelThresholds ThresholdCliOptions::thresholds(const std::vector<std::string>& labels) const {
    std::vector<std::pair<std::string, double>> pairs;
    for (const std::string& v : values) {
        const auto eq = v.rfind('=');
        if (eq == std::string::npos)
            throw UsageError(fmt::format("--threshold {}: name the label it applies to, as LABEL=P (this model's labels: "
                                         "{}), e.g. --threshold {}={}",
                                         v, fmt::join(labels, ", "), labels.empty() ? "LABEL" : labels.back(), v));
        const std::string name = v.substr(0, eq), number = v.substr(eq + 1);
        double p = 0.0;
        const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), p);
        if (ec != std::errc() || end != number.data() + number.size() || number.empty())
            throw UsageError(fmt::format("--threshold {}: '{}' is not a number", v, number));
        pairs.emplace_back(name, p);
    }
    try {
        return textcnn::LabelThresholds(labels, pairs);
    } catch (const textcnn::ConfigError& e) {
        throw UsageError(fmt::format("--threshold: {}", e.what()));
    }
}

}  // namespace cli_common
