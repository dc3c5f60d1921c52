// textcnn report: the HTML page of a training run made after the fact, from the run's
// --log-json file and, optionally, the --json output of textcnn eval (for instance on the test
// data), which then replaces the log's own evaluation on the dev data.
#include "commands.h"
#include "shared_options.h"
#include "run_log.h"

#include "textcnn/core/checked.h"
#include "textcnn/core/error.h"
#include "textcnn/core/files.h"
#include "textcnn/report/run_report.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <iterator>

namespace textcnn_cli {
namespace {

struct ReportOptions {
    std::string log_path, eval_path, output, title;
};

textcnn::ReportEvaluation read_evaluation(const std::string& path) {
    const std::string text = cli_common::read_input_text(path, "JSON file");
    textcnn::check_json_nesting(text, textcnn::input_name(path));
    const auto j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object())
        throw textcnn::InputError(textcnn::input_name(path) + ": not one JSON object (the output of textcnn eval --json)");
    return cli_common::evaluation_from_json(j, textcnn::input_name(path));
}

void run_report(const ReportOptions& o) {
    cli_common::check_one_standard_input({{"--log", o.log_path}, {"--eval", o.eval_path}});
    cli_common::check_distinct_files({{"--output", o.output}}, {{"--log", o.log_path}, {"--eval", o.eval_path}});
    textcnn::RunReport report = cli_common::read_run_log(o.log_path);
    if (!o.eval_path.empty()) {
        textcnn::ReportEvaluation evaluation = read_evaluation(o.eval_path);
        // An evaluation of another model (other labels) went under this run's name, unsaid.
        if (report.evaluation && report.evaluation->metrics.labels != evaluation.metrics.labels)
            throw textcnn::InputError(fmt::format(
                "{}: an evaluation of the labels {}, the run of {} trained a model of the labels {}: the evaluation of "
                "another model",
                textcnn::input_name(o.eval_path), fmt::join(evaluation.metrics.labels, ", "),
                textcnn::input_name(o.log_path), fmt::join(report.evaluation->metrics.labels, ", ")));
        report.evaluation = std::move(evaluation);
    }
    if (!o.title.empty()) report.title = o.title;
    if (report.created.empty()) report.created = "from " + o.log_path;
    textcnn::write_report_html(o.output, report);
}

}  // namespace

Command add_report_command(CLI::App& app) {
    auto o = std::make_shared<ReportOptions>();
    CLI::App* cmd = app.add_subcommand(
        "report", "Make the HTML page of a training run from its --log-json file (and an eval --json file)");
    cmd->add_option("--log", o->log_path, "The run's log, written by textcnn train --log-json ('-' = standard input)")
        ->required();
    cmd->add_option("--eval", o->eval_path,
                    "Output of textcnn eval --json to show instead of the log's evaluation on the dev data ('-' = "
                    "standard input)");
    cmd->add_option("-o,--output", o->output, "Where to write the page (HTML)")->required();
    cmd->add_option("--title", o->title, "Title of the page (default: the program's name)");
    return {cmd, [o] { run_report(*o); }};
}

}  // namespace textcnn_cli
