#include "train_report.h"

#include "textcnn/core/number_text.h"

#include <fmt/format.h>

#include <map>

namespace cli_common {

namespace {

std::string label_counts(const std::vector<textcnn::Document>& docs) {
    std::map<std::string, std::size_t> counts;
    for (const auto& d : docs)
        if (d.label) ++counts[*d.label];
    std::string out;
    for (const auto& [label, n] : counts) out += fmt::format("{}{}: {}", out.empty() ? "" : ", ", label, n);
    return out;
}

}  // namespace

std::vector<textcnn::ReportField> text_data_summary(const std::string& train_path,
                                                    const std::vector<textcnn::Document>& train,
                                                    const std::string& dev_path,
                                                    const std::optional<std::vector<textcnn::Document>>& dev,
                                                    double validation_split) {
    std::vector<textcnn::ReportField> out{{"training data", train_path},
                                          {"training documents", textcnn::with_thousands_separators(train.size())},
                                          {"training labels", label_counts(train)}};
    if (dev) {
        out.push_back({"dev data", dev_path});
        out.push_back({"dev documents", textcnn::with_thousands_separators(dev->size())});
        out.push_back({"dev labels", label_counts(*dev)});
    } else if (validation_split > 0.0) {
        out.push_back({"validation", fmt::format("{:g} % of the training data, stratified", 100.0 * validation_split)});
    }
    return out;
}

std::optional<textcnn::ReportEvaluation> validation_evaluation(const textcnn::Evaluation& e,
                                                               const std::vector<std::string>& labels,
                                                               const std::string& dev_path) {
    if (e.labels.empty()) return std::nullopt;
    const std::string name = fmt::format("{}: {} documents", dev_path.empty() ? "held-out validation share" : dev_path,
                                         textcnn::with_thousands_separators(e.labels.size()));
    return textcnn::make_report_evaluation(name, labels, e, labels.size() == 2 ? std::optional<double>(0.5) : std::nullopt);
}

std::optional<textcnn::ReportEvaluation> validation_evaluation(textcnn::TextTrainingRun& run,
                                                               const std::string& dev_path) {
    return validation_evaluation(run.evaluate_validation(), run.classifier().labels(), dev_path);
}

}  // namespace cli_common
