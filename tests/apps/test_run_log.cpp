// The run record of textcnn train and imagecnn train (apps/common/run_log.h): the options as
// settings, the JSON-lines log read back into a report, evaluations to JSON and back.
#define BOOST_TEST_MODULE run_log
#include <boost/test/unit_test.hpp>

#include "run_log.h"

#include "textcnn/core/error.h"

#include "program_runs.h"
#include "test_helpers.h"

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

using namespace textcnn;
using textcnn::testing::scratch_path;
using textcnn::testing::write_text;

namespace {

ReportEvaluation two_class_evaluation() {
    Evaluation e;
    e.classes = 2;
    e.labels = {1, 0, 0, 1};
    e.predictions = {1, 0, 1, 1};
    for (float p1 : {0.8f, 0.3f, 0.6f, 0.9f}) e.probabilities.insert(e.probabilities.end(), {1.0f - p1, p1});
    return make_report_evaluation("dev.csv", {"ham", "spam & <eggs>"}, e, 0.5);
}

}  // namespace

BOOST_AUTO_TEST_CASE(settings_are_the_options_given_or_their_defaults) {
    CLI::App app;
    std::string data, name = "kim";
    int epochs = 25;
    bool quiet = false;
    std::string unset;
    app.add_option("--data", data);
    app.add_option("--epochs", epochs)->capture_default_str();
    app.add_option("--init", name)->capture_default_str();
    app.add_option("--nothing", unset);
    app.add_flag("--quiet", quiet);
    const char* argv[] = {"prog", "--data", "x.csv", "--quiet", "--init", "he"};
    app.parse(6, argv);
    const auto settings = cli_common::option_settings(app, {"--data"});
    std::vector<std::string> rows;
    for (const auto& f : settings) rows.push_back(f.name + "=" + f.value);
    BOOST_TEST(rows == (std::vector<std::string>{"--epochs=25", "--init=he", "--quiet=yes"}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(evaluation_survives_json) {
    const ReportEvaluation e = two_class_evaluation();
    const ReportEvaluation back = cli_common::evaluation_from_json(cli_common::evaluation_json(e), "mem");
    BOOST_TEST(back.metrics.labels == e.metrics.labels, boost::test_tools::per_element());
    BOOST_CHECK(back.metrics.confusion == e.metrics.confusion);
    BOOST_TEST(back.metrics.macro_f1 == e.metrics.macro_f1, boost::test_tools::tolerance(1e-12));
    BOOST_TEST(back.roc_auc == e.roc_auc);
    BOOST_REQUIRE_EQUAL(back.roc.size(), e.roc.size());
    BOOST_CHECK(std::isinf(back.roc.front().threshold));  // +infinity travels as null
    BOOST_TEST(back.precision_recall.back().y == e.precision_recall.back().y);
    BOOST_CHECK_EQUAL(*back.threshold, 0.5);
    BOOST_CHECK_THROW(cli_common::evaluation_from_json(nlohmann::json::parse(R"({"labels":["a","b"],"confusion":[[1]]})"), "x"),
                      InputError);
    BOOST_CHECK_THROW(cli_common::evaluation_from_json(nlohmann::json::parse(R"({"accuracy":1})"), "x"), InputError);
}

BOOST_AUTO_TEST_CASE(recorder_log_reads_back_as_the_report) {
    const std::string log = scratch_path("run_log_files", "run.jsonl");
    const std::string page = scratch_path("run_log_files", "run.html");
    {
        cli_common::RunRecorder recorder(log, page, "textcnn train",
                                         {{"--epochs", "2"}, {"--lr", "1e-3"}, {"--widths", "3,4"}});
        recorder.start({{"training documents", "4"}}, "layer table", "documents");
        for (std::size_t epoch = 1; epoch <= 2; ++epoch) {
            recorder.dev_check({epoch, 3, 6, 0.7, 0.5, epoch == 1});
            recorder.dev_check({epoch, 6, 6, 0.6, 0.75, false});
            EpochSummary s;
            s.epoch = epoch;
            s.epochs = 2;
            s.train_loss = 0.9 / static_cast<double>(epoch);
            s.has_validation = true;
            s.validation_accuracy = 0.75;
            s.learning_rate = 0.5;
            recorder.epoch(s);
        }
        recorder.finish(nlohmann::ordered_json{{"best_epoch", 1}, {"seconds", 1.23456}, {"dev_accuracy", 0.875}},
                        two_class_evaluation(),
                        {"a warning"});
    }
    const RunReport r = cli_common::read_run_log(log);
    BOOST_CHECK_EQUAL(r.title, "textcnn train report");
    BOOST_REQUIRE_EQUAL(r.settings.size(), 3u);
    BOOST_CHECK_EQUAL(r.settings[0].value, "2");
    BOOST_CHECK_EQUAL(r.settings[1].value, "1e-3");
    // In the log, a number is a JSON number; other values (and other spellings) stay text.
    const auto start = nlohmann::json::parse(textcnn::testing::read_text(log).substr(0, textcnn::testing::read_text(log).find('\n')));
    BOOST_CHECK(start.at("settings").at("--epochs") == 2);
    BOOST_CHECK(start.at("settings").at("--lr") == "1e-3");
    BOOST_CHECK(start.at("settings").at("--widths") == "3,4");
    BOOST_CHECK_EQUAL(r.data[0].name, "training documents");
    BOOST_CHECK_EQUAL(r.model_summary, "layer table");
    BOOST_REQUIRE_EQUAL(r.checks.size(), 4u);
    BOOST_CHECK_EQUAL(r.checks[2].epoch, 2u);
    BOOST_CHECK_EQUAL(r.checks[2].batch, 3u);
    BOOST_REQUIRE_EQUAL(r.epochs.size(), 2u);
    BOOST_CHECK_EQUAL(r.epochs[1].learning_rate, 0.5);
    BOOST_CHECK_EQUAL(r.epochs[1].train_loss, 0.45);
    BOOST_REQUIRE_EQUAL(r.result.size(), 3u);
    BOOST_CHECK_EQUAL(r.result[0].name, "best epoch");
    BOOST_CHECK_EQUAL(r.result[1].value, "1.235");
    BOOST_CHECK_EQUAL(r.result[2].name, "dev accuracy");
    BOOST_CHECK_EQUAL(r.result[2].value, "87.50%");  // as the programs print accuracies for people
    BOOST_REQUIRE(r.evaluation.has_value());
    BOOST_CHECK_EQUAL(r.evaluation->metrics.labels[1], "spam & <eggs>");
    BOOST_CHECK_EQUAL(r.notes.at(0), "a warning");
    // The page the recorder wrote is the page of what it recorded.
    BOOST_CHECK(textcnn::testing::read_text(page).find("spam &amp; &lt;eggs&gt;") != std::string::npos);
}

// A log that cannot be written (a full disk) does not stop training, but the run does not end
// as a success either: finish() writes the report and then throws, saying where the log stops.
BOOST_AUTO_TEST_CASE(a_log_that_cannot_be_written_ends_the_run_with_an_error) {
    const std::string page = scratch_path("run_log_files", "full.html");
    std::filesystem::remove(page);
    cli_common::RunRecorder recorder("/dev/full", page, "textcnn train", {{"--epochs", "1"}});
    recorder.start({{"training documents", "4"}}, "layer table", "documents");
    EpochSummary s;
    s.epoch = s.epochs = 1;
    recorder.epoch(s);
    const std::string error = textcnn::testing::error_of<IoError>(
        [&] { recorder.finish(nlohmann::ordered_json{{"best_epoch", 0}}, std::nullopt); });
    BOOST_CHECK_EQUAL(error, "/dev/full: cannot write the --log-json log: No space left on device: it stops after 0 "
                             "complete lines (the model was saved)");
    BOOST_CHECK(std::filesystem::exists(page));  // the report is still written
}

BOOST_AUTO_TEST_CASE(old_logs_are_read_and_bad_lines_named) {
    const std::string old_log = scratch_path("run_log_files", "old.jsonl");
    write_text(old_log, "{\"epoch\":1,\"epochs\":2,\"train_loss\":0.5,\"dev_accuracy\":0.7}\n"
                        "{\"epoch\":2,\"epochs\":2,\"train_loss\":0.4,\"dev_accuracy\":0.8}\n");
    const RunReport r = cli_common::read_run_log(old_log);
    BOOST_REQUIRE_EQUAL(r.epochs.size(), 2u);
    BOOST_CHECK(r.epochs[1].has_validation);
    BOOST_CHECK_EQUAL(r.epochs[1].validation_accuracy, 0.8);

    const std::string bad = scratch_path("run_log_files", "bad.jsonl");
    write_text(bad, "{\"epoch\":1}\nnot json\n");
    const std::string message = textcnn::testing::error_of<InputError>([&] { cli_common::read_run_log(bad); });
    BOOST_CHECK_MESSAGE(message.rfind(bad + ":2: not a log line", 0) == 0, message);
    write_text(bad, "{\"something\":1}\n");
    BOOST_CHECK_THROW(cli_common::read_run_log(bad), InputError);
}
