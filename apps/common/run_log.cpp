#include "run_log.h"
#include "output_fields.h"

#include "shared_options.h"
#include "training_cli.h"

#include "textcnn/core/checked.h"
#include "textcnn/core/error.h"
#include "textcnn/core/files.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

namespace cli_common {

namespace {

using ordered = nlohmann::ordered_json;
using textcnn::InputError;
using textcnn::ReportField;

// Report rows as a JSON object. With `numbers`, a value that is a number as JSON writes it
// ("5", "0.5", not "1e-3" or "007") becomes that number: option values in the log are numbers
// where they are numbers, and read back (fields_of) as the same text.
ordered fields_json(const std::vector<ReportField>& fields, bool numbers) {
    ordered j = ordered::object();
    for (const auto& f : fields) {
        const ordered parsed = numbers ? ordered::parse(f.value, nullptr, false) : ordered();
        j[f.name] = parsed.is_number() && parsed.dump() == f.value ? parsed : ordered(f.value);
    }
    return j;
}

// Name/value rows of a JSON object: strings as they are, fractions to 4 significant digits
// (0.7993, 286.6) unless `exact`, anything else as JSON.
std::vector<ReportField> fields_of(const ordered& j, bool exact = false) {
    std::vector<ReportField> out;
    if (!j.is_object()) return out;
    for (const auto& [name, value] : j.items()) {
        std::string text = value.is_string()                   ? value.get<std::string>()
                           : value.is_number_float() && !exact ? fmt::format("{:.4g}", value.get<double>())
                                                               : cli_common::json_text(value);
        out.push_back({name, std::move(text)});
    }
    return out;
}

nlohmann::json curve_json(const std::vector<textcnn::CurvePoint>& points) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& p : points)
        out.push_back({p.x, p.y, std::isfinite(p.threshold) ? nlohmann::json(p.threshold) : nlohmann::json()});
    return out;
}

std::vector<textcnn::CurvePoint> curve_from_json(const nlohmann::json& j) {
    std::vector<textcnn::CurvePoint> out;
    for (const auto& p : j)
        out.push_back({p.at(0).get<double>(), p.at(1).get<double>(),
                       p.at(2).is_null() ? std::numeric_limits<double>::infinity() : p.at(2).get<double>()});
    return out;
}

double number_or_nan(const nlohmann::json& j, const char* key) {
    return j.contains(key) && j[key].is_number() ? j[key].get<double>() : std::nan("");
}

textcnn::EpochSummary epoch_from_json(const nlohmann::json& j) {
    textcnn::EpochSummary e;
    e.epoch = j.at("epoch").get<std::size_t>();
    e.epochs = j.value("epochs", std::size_t{0});
    e.train_loss = j.value("train_loss", 0.0);
    e.train_accuracy = j.value("train_accuracy", 0.0);
    e.has_validation = j.contains("dev_accuracy");
    e.validation_loss = j.value("dev_loss", 0.0);
    e.validation_accuracy = j.value("dev_accuracy", 0.0);
    e.improved = j.value("improved", false);
    e.best_epoch = j.value("best_epoch", std::size_t{0});
    e.seconds = j.value("seconds", 0.0);
    e.items_per_second = j.value("items_per_second", 0.0);
    e.learning_rate = j.value("learning_rate", 0.0);
    return e;
}

// One log line into the report; false for an event this version does not know.
bool add_line(textcnn::RunReport& r, const nlohmann::ordered_json& j, const std::string& source) {
    const std::string event = j.value("event", j.contains("epoch") ? "epoch" : "");
    // An ensemble's log: the curves of its first member (its end line says so in a note).
    if (event == "member" || j.value("member", std::size_t{1}) > 1) return true;
    if (event == "start") {
        r.title = j.value("program", std::string("training")) + " report";
        r.created = j.value("started", std::string());
        r.settings = fields_of(j.value("settings", ordered::object()), true);
        r.data = fields_of(j.value("data", ordered::object()));
        r.items = j.value("items", r.items);
        r.model_summary = j.value("model_summary", std::string());
    } else if (event == "dev_check") {
        r.checks.push_back({j.at("epoch").get<std::size_t>(), j.at("batch").get<std::size_t>(),
                            j.at("batches").get<std::size_t>(), j.at("dev_loss").get<double>(),
                            j.at("dev_accuracy").get<double>(), j.value("improved", false)});
    } else if (event == "epoch") {
        r.epochs.push_back(epoch_from_json(j));
    } else if (event == "end") {
        r.result = result_fields(j.value("result", ordered::object()));
        if (j.contains("evaluation"))
            r.evaluation = evaluation_from_json(nlohmann::json::parse(j["evaluation"].dump()), source);
        for (const auto& note : j.value("notes", std::vector<std::string>{})) r.notes.push_back(note);
    } else {
        return false;
    }
    return true;
}

}  // namespace

std::vector<ReportField> option_settings(const CLI::App& command, const std::vector<std::string>& skip) {
    std::vector<ReportField> out;
    for (const CLI::Option* opt : command.get_options()) {
        const std::string name = opt->get_lnames().empty() ? opt->get_name() : "--" + opt->get_lnames().front();
        if (name == "--help" || name == "-h" || std::find(skip.begin(), skip.end(), name) != skip.end()) continue;
        std::string value;
        if (opt->get_expected_min() == 0) {
            if (opt->count() == 0) continue;
            value = "yes";
        } else if (opt->count() > 0) {
            for (const auto& r : opt->results()) value += (value.empty() ? "" : ",") + r;
        } else {
            value = opt->get_default_str();
        }
        if (!value.empty()) out.push_back({name, value});
    }
    return out;
}

nlohmann::json evaluation_json(const textcnn::ReportEvaluation& e) {
    nlohmann::json j = nlohmann::json::parse(textcnn::to_json(e.metrics, -1));
    j["data"] = e.data;
    if (e.metrics.labels.size() == 2) {
        j["roc_auc"] = std::isnan(e.roc_auc) ? nlohmann::json() : nlohmann::json(e.roc_auc);
        j["average_precision"] = std::isnan(e.average_precision) ? nlohmann::json() : nlohmann::json(e.average_precision);
        j["threshold"] = e.threshold ? nlohmann::json(*e.threshold) : nlohmann::json();
        j["roc_curve"] = curve_json(e.roc);
        j["pr_curve"] = curve_json(e.precision_recall);
    }
    return j;
}

textcnn::ReportEvaluation evaluation_from_json(const nlohmann::json& j, const std::string& source) {
    try {
        textcnn::ConfusionMatrix confusion(j.at("labels").get<std::vector<std::string>>());
        const auto rows = j.at("confusion").get<std::vector<std::vector<std::size_t>>>();
        if (rows.size() != confusion.classes())
            throw InputError(fmt::format("{}: {} confusion rows for {} labels", source, rows.size(), confusion.classes()));
        for (std::size_t t = 0; t < rows.size(); ++t) {
            if (rows[t].size() != confusion.classes())
                throw InputError(fmt::format("{}: confusion row {} has {} counts for {} labels", source, t + 1,
                                             rows[t].size(), confusion.classes()));
            for (std::size_t p = 0; p < rows[t].size(); ++p)
                for (std::size_t n = 0; n < rows[t][p]; ++n) confusion.add(t, p);
        }
        textcnn::ReportEvaluation e;
        e.data = j.value("data", source);
        e.metrics = textcnn::classification_report(confusion);
        e.roc_auc = number_or_nan(j, "roc_auc");
        e.average_precision = number_or_nan(j, "average_precision");
        if (j.contains("threshold") && j["threshold"].is_number()) e.threshold = j["threshold"].get<double>();
        if (j.contains("roc_curve")) e.roc = curve_from_json(j["roc_curve"]);
        if (j.contains("pr_curve")) e.precision_recall = curve_from_json(j["pr_curve"]);
        return e;
    } catch (const nlohmann::json::exception& ex) {
        throw InputError(fmt::format("{}: not an evaluation (textcnn eval --json): {}", source, ex.what()));
    }
}

std::vector<ReportField> result_fields(const nlohmann::ordered_json& result) {
    std::vector<ReportField> out = fields_of(result);
    for (auto& f : out) {
        // Accuracies for people, as the programs print them: 0.875 -> 87.50%.
        const auto& value = result[f.name];
        if (f.name.ends_with("accuracy") && value.is_number()) f.value = percent(value.get<double>());
        std::replace(f.name.begin(), f.name.end(), '_', ' ');
    }
    return out;
}

RunRecorder::RunRecorder(const std::string& log_path, const std::string& report_path, std::string program,
                         std::vector<ReportField> settings)
    : log_path_(log_path), report_path_(report_path) {
    report_.title = program + " report";
    report_.settings = std::move(settings);
    if (!log_path.empty()) {
        // A descriptor's name (/dev/fd/3 of `3>>log`) is appended to, as a redirection would:
        // opened anew with truncation, it lost what the file held.
        const bool descriptor = textcnn::output_target(log_path).descriptor >= 0;
        log_.open(log_path, descriptor ? std::ios::app : std::ios::out);
        if (!log_) throw textcnn::IoError(log_path + ": cannot open for writing: " + std::strerror(errno));
    }
}

void RunRecorder::write(const ordered& line) {
    if (!log_.is_open() || !log_error_.empty()) return;
    errno = 0;
    log_ << cli_common::json_text(line) << '\n' << std::flush;
    if (log_) {
        ++log_lines_;
        return;
    }
    // Training goes on (its model matters more than its log); the run ends with exit 1 (finish).
    log_error_ = fmt::format("{}: cannot write the --log-json log{}: it stops after {} complete line{}", log_path_,
                             errno ? std::string(": ") + std::strerror(errno) : std::string(), log_lines_,
                             log_lines_ == 1 ? "" : "s");
    cli_common::print_stderr("warning: {} (training goes on; the run will end with an error)\n", log_error_);
}

void RunRecorder::start(std::vector<ReportField> data, std::string model_summary, std::string items) {
    report_.created = now_utc();
    report_.data = std::move(data);
    report_.model_summary = std::move(model_summary);
    report_.items = std::move(items);
    write({{"event", "start"},
           {"program", report_.title.substr(0, report_.title.size() - std::string(" report").size())},
           {"started", report_.created},
           {"settings", fields_json(report_.settings, true)},
           {"data", fields_json(report_.data, false)},
           {"items", report_.items},
           {"model_summary", report_.model_summary}});
}

void RunRecorder::member(std::size_t number, std::size_t members, std::uint64_t seed) {
    write({{"event", "member"}, {"member", number}, {"members", members}, {"seed", seed}});
}

void RunRecorder::dev_check(const textcnn::ValidationCheck& c, std::size_t member) {
    if (member <= 1) report_.checks.push_back(c);
    ordered j{{"event", "dev_check"}, {"epoch", c.epoch},       {"batch", c.batch},         {"batches", c.batches},
              {"dev_loss", c.loss},   {"dev_accuracy", c.accuracy}, {"improved", c.improved}};
    if (member) j["member"] = member;
    write(j);
}

void RunRecorder::epoch(const textcnn::EpochSummary& e, std::size_t member) {
    if (member <= 1) report_.epochs.push_back(e);
    ordered j{{"event", "epoch"},
              {"epoch", e.epoch},
              {"epochs", e.epochs},
              {"train_loss", e.train_loss},
              {"train_accuracy", e.train_accuracy}};
    if (e.has_validation) {
        j["dev_loss"] = e.validation_loss;
        j["dev_accuracy"] = e.validation_accuracy;
    }
    j["learning_rate"] = e.learning_rate;
    j["seconds"] = e.seconds;
    j["items_per_second"] = e.items_per_second;
    j["improved"] = e.improved;
    j["best_epoch"] = e.best_epoch;
    if (member) j["member"] = member;
    write(j);
}

void RunRecorder::finish(const ordered& result, std::optional<textcnn::ReportEvaluation> evaluation,
                         std::vector<std::string> notes) {
    ordered end{{"event", "end"}, {"result", result}};
    if (evaluation) end["evaluation"] = evaluation_json(*evaluation);
    if (!notes.empty()) end["notes"] = notes;
    write(end);
    if (!report_path_.empty()) {
        report_.result = result_fields(result);
        report_.evaluation = std::move(evaluation);
        report_.notes = std::move(notes);
        textcnn::write_report_html(report_path_, report_);
    }
    if (!log_error_.empty()) throw textcnn::IoError(log_error_ + " (the model was saved)");
}

textcnn::RunReport read_run_log(const std::string& file) {
    std::istringstream in(read_input_text(file, "log file"));
    const std::string path = textcnn::input_name(file);
    textcnn::RunReport report;
    std::string line;
    std::size_t number = 0, used = 0;
    while (std::getline(in, line)) {
        ++number;
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        textcnn::check_json_nesting(line, fmt::format("{}:{}: the log line", path, number));
        try {
            used += add_line(report, ordered::parse(line), fmt::format("{}:{}", path, number));
        } catch (const nlohmann::json::exception& e) {
            throw InputError(fmt::format("{}:{}: not a log line of --log-json: {}", path, number, e.what()));
        }
    }
    if (used == 0) throw InputError(path + ": no line of a --log-json log (start, dev_check, epoch or end)");
    return report;
}

}  // namespace cli_common
