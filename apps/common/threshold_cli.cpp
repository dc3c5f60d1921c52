#include "threshold_cli.h"

#include "cli_main.h"
#include "shared_options.h"

#include "textcnn/core/error.h"
#include "textcnn/text/data_checks.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
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
    // Labels and the option's value as messages show them (shown_label: long ones cut, what
    // does not show spelled out, <U+00A0>).
    std::vector<std::string> shown;
    for (const std::string& label : labels) shown.push_back(textcnn::shown_label(label));
    std::vector<std::pair<std::string, double>> pairs;
    for (const std::string& v : values) {
        const auto eq = v.rfind('=');
        if (eq == std::string::npos) {
            // "--threshold 0.9" lacks the label, "--threshold spam" the probability.
            const auto label =
                std::find_if(labels.begin(), labels.end(), [&](const std::string& l) { return equal_ignoring_case(l, v); });
            double p = 0.0;
            const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), p);
            const bool number = ec == std::errc() && end == v.data() + v.size();
            const std::string last = labels.empty() ? std::string("LABEL") : shown.back();
            throw UsageError(fmt::format(
                "--threshold {}: {}, as LABEL=P (this model's labels: {}), e.g. --threshold {}={}", textcnn::shown_label(v),
                label != labels.end() ? "give the probability too"
                : number             ? "name the label it applies to"
                                     : "neither a label of this model nor a probability",
                fmt::join(shown, ", "), label != labels.end() ? textcnn::shown_label(*label) : last,
                number ? v : std::string("0.9")));
        }
        std::string name = v.substr(0, eq);
        const std::string number = v.substr(eq + 1);
        // A label named in another letter case is that label when no other label matches so
        // ("spam=0.9" for a model whose label is SPAM).
        std::size_t same_but_case = 0;
        if (std::find(labels.begin(), labels.end(), name) == labels.end()) {
            const auto same = [&](const std::string& label) { return equal_ignoring_case(label, name); };
            same_but_case = static_cast<std::size_t>(std::count_if(labels.begin(), labels.end(), same));
            if (same_but_case == 1) {
                name = *std::find_if(labels.begin(), labels.end(), same);
                // Said: eval tells labels apart by case, and the user may have meant another label.
                cli_common::print_stderr("warning: --threshold {}: taken for the model's label '{}' (the letter case "
                           "differs)\n", textcnn::shown_label(v), textcnn::shown_label(name));
            }
        }
        // Labels are named with what does not show spelled out (<U+00A0>): two labels that look
        // alike are told apart.
        if (std::find(labels.begin(), labels.end(), name) == labels.end())
            throw UsageError(fmt::format("--threshold: threshold for '{}': no such label (labels: {}){}",
                                         textcnn::shown_label(name), fmt::join(shown, ", "),
                                         same_but_case > 1 ? fmt::format("; {} labels differ from it only in letter "
                                                                         "case: name one exactly", same_but_case)
                                                           : std::string()));
        double p = 0.0;
        const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), p);
        if (ec != std::errc() || end != number.data() + number.size() || number.empty())
            throw UsageError(fmt::format("--threshold {}: '{}' is not a number", textcnn::shown_label(v),
                                         textcnn::shown_label(number)));
        pairs.emplace_back(name, p);
    }
    try {
        return textcnn::LabelThresholds(labels, pairs);
    } catch (const textcnn::ConfigError& e) {
        throw UsageError(fmt::format("--threshold: {}", e.what()));
    }
}

}  // namespace cli_common
