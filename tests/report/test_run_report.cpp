#define BOOST_TEST_MODULE run_report
#include <boost/test/unit_test.hpp>

#include "textcnn/core/error.h"
#include "textcnn/report/run_report.h"

#include "program_runs.h"
#include "test_helpers.h"

#include <string>
#include <vector>

using namespace textcnn;

namespace {

// Five samples of two classes; label 1's probabilities 0.9, 0.2, 0.6, 0.4, 0.7.
Evaluation small_evaluation() {
    Evaluation e;
    e.classes = 2;
    e.labels = {1, 0, 0, 1, 1};
    e.predictions = {1, 0, 1, 0, 1};
    for (float p1 : {0.9f, 0.2f, 0.6f, 0.4f, 0.7f}) {
        e.probabilities.push_back(1.0f - p1);
        e.probabilities.push_back(p1);
    }
    return e;
}

RunReport small_report() {
    RunReport r;
    r.title = "Run <1> & co";
    r.settings = {{"--epochs", "3"}, {"--note", "<img src=x onerror=alert(1)>"}};
    r.data = {{"training labels", "<script>: 3, a&b: 2"}};
    for (std::size_t e = 1; e <= 3; ++e) {
        EpochSummary s;
        s.epoch = e;
        s.epochs = 3;
        s.train_loss = 1.0 / static_cast<double>(e);
        s.train_accuracy = 0.5 + 0.1 * static_cast<double>(e);
        s.has_validation = true;
        s.validation_loss = 0.8;
        s.validation_accuracy = 0.6;
        s.learning_rate = 1.0;
        s.items_per_second = 1000;
        r.epochs.push_back(s);
        r.checks.push_back({e, 5, 10, 0.9, 0.55, false});
        r.checks.push_back({e, 10, 10, 0.8, 0.6, e == 1});
    }
    r.evaluation = make_report_evaluation("dev <data>", {"<script>", "a&b"}, small_evaluation(), 0.5);
    r.model_summary = "layer <embedding>";
    return r;
}

}  // namespace

BOOST_AUTO_TEST_CASE(evaluation_counts_the_confusion_and_computes_the_curves) {
    const ReportEvaluation e = make_report_evaluation("dev", {"neg", "pos"}, small_evaluation(), 0.5);
    BOOST_CHECK(e.metrics.confusion == (std::vector<std::vector<std::size_t>>{{1, 1}, {1, 2}}));
    BOOST_TEST(e.metrics.accuracy == 0.6, boost::test_tools::tolerance(1e-12));
    // Positives score 0.9, 0.4, 0.7; negatives 0.2, 0.6: 5 of 6 pairs in order.
    BOOST_TEST(e.roc_auc == 5.0 / 6.0, boost::test_tools::tolerance(1e-12));
    BOOST_REQUIRE_EQUAL(e.roc.size(), 6u);  // +infinity and the five distinct scores
    BOOST_REQUIRE_EQUAL(e.precision_recall.size(), 6u);
    // AP: recall steps 1/3 at precision 1 (0.9), 1/3 at 1 (0.7), 1/3 at 3/4 (0.4).
    BOOST_TEST(e.average_precision == 1.0 / 3 + 1.0 / 3 + 0.25, boost::test_tools::tolerance(1e-12));
    BOOST_CHECK_EQUAL(make_report_evaluation("dev", {"neg", "pos"}, small_evaluation(), 0.5, 3).roc.size(), 3u);
}

BOOST_AUTO_TEST_CASE(evaluation_of_three_classes_has_no_curves_and_mismatches_are_refused) {
    Evaluation e;
    e.classes = 3;
    e.labels = {0, 1, 2, 2};
    e.predictions = {0, 2, 2, 1};
    e.probabilities.assign(12, 1.0f / 3);
    const ReportEvaluation r = make_report_evaluation("x", {"a", "b", "c"}, e, std::nullopt);
    BOOST_CHECK(r.roc.empty() && r.precision_recall.empty());
    BOOST_CHECK_EQUAL(r.metrics.confusion[2][1], 1u);
    BOOST_CHECK_EQUAL(r.metrics.confusion[1][2], 1u);
    e.probabilities.pop_back();
    BOOST_CHECK_THROW(make_report_evaluation("x", {"a", "b", "c"}, e, std::nullopt), ConfigError);
}

BOOST_AUTO_TEST_CASE(page_escapes_user_text_and_holds_every_chart) {
    const std::string html = report_html(small_report());
    BOOST_CHECK_EQUAL(html.find("<script"), std::string::npos);
    BOOST_CHECK_EQUAL(html.find("<img"), std::string::npos);
    BOOST_CHECK_EQUAL(html.find("a&b"), std::string::npos);
    BOOST_CHECK(html.find("&lt;script&gt;") != std::string::npos);
    BOOST_CHECK(html.find("Run &lt;1&gt; &amp; co") != std::string::npos);
    BOOST_CHECK(html.find("layer &lt;embedding&gt;") != std::string::npos);
    // Loss, accuracy, learning rate, throughput, confusion, per-class bars, ROC, PR.
    std::size_t charts = 0;
    for (auto at = html.find("<svg class=\"chart\""); at != std::string::npos; at = html.find("<svg class=\"chart\"", at + 1))
        ++charts;
    BOOST_CHECK_EQUAL(charts, 8u);
    BOOST_CHECK(html.find("validation (each dev check)") != std::string::npos);
    BOOST_CHECK(html.find("threshold 0.50") != std::string::npos);
    BOOST_CHECK(html.find("Content-Security-Policy") != std::string::npos);
    BOOST_CHECK_EQUAL(html.find("http://"), html.find("http://www.w3.org/2000/svg"));  // no other address
}

BOOST_AUTO_TEST_CASE(page_without_evaluation_or_epochs_still_renders) {
    RunReport r;
    const std::string html = report_html(r);
    BOOST_CHECK(html.find("No epoch was completed") != std::string::npos);
    BOOST_CHECK(html.find("No evaluation data") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(page_is_written_to_a_file) {
    const std::string path = textcnn::testing::scratch_path("run_report_files", "run.html");
    write_report_html(path, small_report());
    BOOST_CHECK_EQUAL(textcnn::testing::read_text(path), report_html(small_report()));
    BOOST_CHECK_THROW(write_report_html("/nonexistent-dir/run.html", small_report()), IoError);
}
