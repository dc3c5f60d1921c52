// The record of a training run, shared by textcnn train and imagecnn train: the --log-json
// file (JSON lines) and the --report page (report/run_report.h) are made from the same calls,
// and `textcnn report` reads such a log (and an eval --json file) back into a page.
//
// Log lines, one JSON object each, told apart by "event":
//   {"event":"start","program":...,"settings":{option: value},"data":{name: text},"items":...,"model_summary":...}
//   (an option's value is a JSON number when it is a number, "--epochs": 5, else its text)
//   {"event":"dev_check","epoch":1,"batch":70,"batches":139,"dev_loss":...,"dev_accuracy":...,"improved":true}
//   {"event":"epoch","epoch":1,"epochs":...,"train_loss":...,"train_accuracy":...,"dev_loss":...,
//    "dev_accuracy":...,"learning_rate":...,"seconds":...,"items_per_second":...,"improved":...,"best_epoch":...}
//   {"event":"end","result":{...},"evaluation":{...as evaluation_json}}
//   {"event":"member","member":2,"members":5,"seed":...} (--ensemble: the dev_check and epoch
//   lines that follow carry "member": 2; a report shows member 1's curves)
#pragma once

#include "textcnn/report/run_report.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <fstream>
#include <optional>
#include <string>
#include <vector>

namespace cli_common {

/// The options of a parsed (sub)command as report settings, in the order they were declared:
/// the long name and the value given (or the default shown in --help; options without either
/// are left out). Help flags and `skip` (e.g. file names already in the data summary) are left out.
std::vector<textcnn::ReportField> option_settings(const CLI::App& command, const std::vector<std::string>& skip = {});

/// An evaluation as JSON: "data", "accuracy", "macro_f1", "samples", "labels", "per_class",
/// "confusion" (metrics.h's to_json) and, for two classes, "roc_auc", "average_precision",
/// "threshold" (null if unknown), "roc_curve" [[fpr, tpr, threshold]...] and "pr_curve"
/// [[recall, precision, threshold]...] (threshold null for the first point, +infinity).
nlohmann::json evaluation_json(const textcnn::ReportEvaluation& evaluation);
/// The inverse, for `textcnn eval --json` output or a log's end line (per-class figures are
/// computed again from "labels" and "confusion"). InputError naming `source` when a key is
/// missing or of the wrong type.
textcnn::ReportEvaluation evaluation_from_json(const nlohmann::json& j, const std::string& source);

/// Writes the log as the run goes (when given a path) and keeps the report (when asked for
/// one). The log is flushed after every line, so a run stopped midway leaves what it did.
class RunRecorder {
public:
    /// IoError when `log_path` (non-empty) cannot be opened for writing.
    RunRecorder(const std::string& log_path, const std::string& report_path, std::string program,
                std::vector<textcnn::ReportField> settings);
    /// Whether an evaluation is worth computing (a log or a report is being written).
    bool wanted() const { return log_.is_open() || !report_path_.empty(); }

    void start(std::vector<textcnn::ReportField> data, std::string model_summary, std::string items);
    /// An ensemble's member `number` (1-based) of `members` starts: a "member" line. Its
    /// dev_check and epoch lines carry "member": number (the `member` argument below, 0 = not
    /// an ensemble); the report keeps member 1's. Not thread-safe: callers of members that
    /// train side by side hold a lock.
    void member(std::size_t number, std::size_t members, std::uint64_t seed);
    void dev_check(const textcnn::ValidationCheck& check, std::size_t member = 0);
    void epoch(const textcnn::EpochSummary& epoch, std::size_t member = 0);
    /// The end line and, with a report path, the page (written atomically). `result` holds
    /// the outcome (name: value) shown in the report's result table. IoError, after both, when
    /// a line of the log could not be written (a warning said so when it happened; the log
    /// stops at its last whole line).
    void finish(const nlohmann::ordered_json& result, std::optional<textcnn::ReportEvaluation> evaluation,
                std::vector<std::string> notes = {});
    /// The same for a result kept in a plain (sorted) nlohmann::json.
    void finish(const nlohmann::json& result, std::optional<textcnn::ReportEvaluation> evaluation,
                std::vector<std::string> notes = {}) {
        finish(nlohmann::ordered_json::parse(result.dump()), std::move(evaluation), std::move(notes));
    }

private:
    void write(const nlohmann::ordered_json& line);
    std::ofstream log_;
    std::size_t log_lines_ = 0;  ///< lines written whole
    std::string log_error_;      ///< why the log stopped (a write failed), empty while it goes on
    std::string log_path_, report_path_;
    textcnn::RunReport report_;
};

/// A report from a log written by RunRecorder ("-" = standard input). Logs of older versions (epoch lines without
/// "event") are read too. InputError naming the file and line for a line that is not JSON.
textcnn::RunReport read_run_log(const std::string& path);

/// Result fields as report rows ("best_epoch": 3 -> best epoch | 3; "dev_accuracy": 0.875 ->
/// dev accuracy | 87.50%).
std::vector<textcnn::ReportField> result_fields(const nlohmann::ordered_json& result);

}  // namespace cli_common
