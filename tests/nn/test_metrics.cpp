#define BOOST_TEST_MODULE metrics
#include <boost/test/unit_test.hpp>

#include "textcnn/core/error.h"
#include "textcnn/nn/metrics.h"

#include <nlohmann/json.hpp>

#include <cmath>

using namespace textcnn;
namespace tt = boost::test_tools;

namespace {

// truth: 0 0 0 0 1 1 1 2 2 2 / prediction: 0 0 1 2 1 1 0 2 2 1
// confusion rows (truth) x columns (prediction): [2 1 1] [1 2 0] [0 1 2]
ConfusionMatrix example() {
    ConfusionMatrix m({"neg", "pos", "neu"});
    const std::vector<std::uint32_t> truth = {0, 0, 0, 0, 1, 1, 1, 2, 2, 2};
    const std::vector<std::uint32_t> predicted = {0, 0, 1, 2, 1, 1, 0, 2, 2, 1};
    m.add(truth, predicted);
    return m;
}

}  // namespace

BOOST_AUTO_TEST_CASE(confusion_counts) {
    const auto m = example();
    BOOST_TEST(m.total() == 10u);
    BOOST_TEST(m.count(0, 0) == 2u);
    BOOST_TEST(m.count(0, 2) == 1u);
    BOOST_TEST(m.count(1, 0) == 1u);
    BOOST_TEST(m.count(2, 0) == 0u);
    ConfusionMatrix bad({"a", "b"});
    BOOST_CHECK_EXCEPTION(bad.add(0, 2), ConfigError, [](const ConfigError& e) {
        return std::string(e.what()) == "confusion matrix: class index 2 is outside the 2 labels";
    });
}

BOOST_AUTO_TEST_CASE(hand_computed_report) {
    const auto r = classification_report(example());
    BOOST_TEST(r.accuracy == 0.6, tt::tolerance(1e-12));
    // neg: P = 2/3, R = 2/4, F1 = 4/7; pos: P = 2/4, R = 2/3, F1 = 4/7; neu: P = R = F1 = 2/3.
    BOOST_TEST(r.per_class[0].precision == 2.0 / 3, tt::tolerance(1e-12));
    BOOST_TEST(r.per_class[0].recall == 0.5, tt::tolerance(1e-12));
    BOOST_TEST(r.per_class[0].f1 == 4.0 / 7, tt::tolerance(1e-12));
    BOOST_TEST(r.per_class[0].support == 4u);
    BOOST_TEST(r.per_class[0].false_positive_rate == 1.0 / 6, tt::tolerance(1e-12));
    BOOST_TEST(r.per_class[1].precision == 0.5, tt::tolerance(1e-12));
    BOOST_TEST(r.per_class[1].recall == 2.0 / 3, tt::tolerance(1e-12));
    BOOST_TEST(r.per_class[1].f1 == 4.0 / 7, tt::tolerance(1e-12));
    BOOST_TEST(r.per_class[2].f1 == 2.0 / 3, tt::tolerance(1e-12));
    BOOST_TEST(r.per_class[2].support == 3u);
    BOOST_TEST(r.macro_f1 == 38.0 / 63, tt::tolerance(1e-12));
}

BOOST_AUTO_TEST_CASE(absent_classes_score_zero_and_count_in_macro_f1) {
    ConfusionMatrix m({"a", "b", "c"});
    m.add(0, 0);
    m.add(1, 1);
    m.add(1, 0);
    const auto r = classification_report(m);
    BOOST_TEST(r.per_class[2].precision == 0.0);
    BOOST_TEST(r.per_class[2].recall == 0.0);
    BOOST_TEST(r.per_class[2].f1 == 0.0);
    BOOST_TEST(r.per_class[2].support == 0u);
    // a: P 1/2 R 1 F1 2/3; b: P 1 R 1/2 F1 2/3; c: 0.
    BOOST_TEST(r.macro_f1 == 4.0 / 9, tt::tolerance(1e-12));
    const auto empty = classification_report(ConfusionMatrix({"x"}));
    BOOST_TEST(empty.accuracy == 0.0);
    BOOST_TEST(empty.samples == 0u);
}

BOOST_AUTO_TEST_CASE(json_has_the_documented_keys) {
    const auto j = nlohmann::json::parse(to_json(classification_report(example())));
    BOOST_TEST(j.at("accuracy").get<double>() == 0.6, tt::tolerance(1e-12));
    BOOST_TEST(j.at("macro_f1").get<double>() == 38.0 / 63, tt::tolerance(1e-12));
    BOOST_TEST((j.at("labels") == nlohmann::json::array({"neg", "pos", "neu"})));
    BOOST_TEST(j.at("per_class").at("pos").at("precision").get<double>() == 0.5, tt::tolerance(1e-12));
    BOOST_TEST(j.at("per_class").at("neu").at("support").get<int>() == 3);
    BOOST_TEST(j.at("per_class").at("neg").at("f1").get<double>() == 4.0 / 7, tt::tolerance(1e-12));
    BOOST_TEST(j.at("per_class").at("neg").at("recall").get<double>() == 0.5, tt::tolerance(1e-12));
    const auto expected_confusion = nlohmann::json::parse("[[2,1,1],[1,2,0],[0,1,2]]");
    BOOST_TEST((j.at("confusion") == expected_confusion));
    BOOST_TEST(to_json(classification_report(example()), -1).find('\n') == std::string::npos);
}

BOOST_AUTO_TEST_CASE(text_table) {
    const std::string text = to_text(classification_report(example()));
    BOOST_TEST_MESSAGE("\n" << text);
    BOOST_TEST(text.find("      neg     0.6667     0.5000     0.5714          4\n") != std::string::npos);
    BOOST_TEST(text.find(" accuracy                           60.00%         10\n") != std::string::npos);
    BOOST_TEST(text.find("      neu      0      1      2\n") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(roc_auc_with_and_without_ties) {
    const std::vector<std::uint8_t> pos = {0, 0, 1, 1};
    // scikit-learn's documented example.
    BOOST_TEST(roc_auc(std::vector<float>{0.1f, 0.4f, 0.35f, 0.8f}, pos) == 0.75, tt::tolerance(1e-12));
    // Pairs (pos, neg): (.5,.2) 1, (.5,.5) 1/2, (.9,.2) 1, (.9,.5) 1 -> 3.5 / 4.
    BOOST_TEST(roc_auc(std::vector<float>{0.2f, 0.5f, 0.5f, 0.9f}, std::vector<std::uint8_t>{0, 1, 0, 1}) == 0.875,
               tt::tolerance(1e-12));
    BOOST_TEST(roc_auc(std::vector<float>{0.5f, 0.5f, 0.5f, 0.5f}, pos) == 0.5, tt::tolerance(1e-12));
    BOOST_TEST(roc_auc(std::vector<float>{0.9f, 0.8f, 0.1f, 0.2f}, pos) == 0.0);
    BOOST_TEST(std::isnan(roc_auc(std::vector<float>{0.1f, 0.2f}, std::vector<std::uint8_t>{1, 1})));
    BOOST_CHECK_EXCEPTION(roc_auc(std::vector<float>{0.1f}, pos), InputError, [](const InputError& e) {
        return std::string(e.what()) == "roc_auc: 1 scores but 4 labels";
    });
}
