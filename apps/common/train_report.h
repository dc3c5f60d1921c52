// What textcnn train puts into its run record (apps/common/run_log.h) besides the options:
// the data summary and the evaluation on the validation data.
#pragma once

#include "textcnn/report/run_report.h"
#include "textcnn/text/document_reader.h"
#include "textcnn/text/text_training.h"

#include <optional>
#include <string>
#include <vector>

namespace cli_common {

/// Files, document counts and the documents per label of the training (and dev) data.
std::vector<textcnn::ReportField> text_data_summary(const std::string& train_path,
                                                    const std::vector<textcnn::Document>& train,
                                                    const std::string& dev_path,
                                                    const std::optional<std::vector<textcnn::Document>>& dev,
                                                    double validation_split);

/// The trained (best) model on the run's validation data, decided by arg-max (threshold 0.5
/// of the second label for two classes); nullopt without validation data.
std::optional<textcnn::ReportEvaluation> validation_evaluation(textcnn::TextTrainingRun& run,
                                                               const std::string& dev_path);
/// The same for an evaluation already made (an ensemble's mean probabilities).
std::optional<textcnn::ReportEvaluation> validation_evaluation(const textcnn::Evaluation& evaluation,
                                                               const std::vector<std::string>& labels,
                                                               const std::string& dev_path);

}  // namespace cli_common
