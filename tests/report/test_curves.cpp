#define BOOST_TEST_MODULE curves
#include <boost/test/unit_test.hpp>

#include "textcnn/core/error.h"
#include "textcnn/nn/metrics.h"
#include "textcnn/report/curves.h"

#include <cmath>
#include <cstdint>
#include <vector>

using namespace textcnn;

namespace {

// Six samples, three positive, no tied scores. Worked out by hand, highest threshold first:
//   score  label  TP FP   ROC (FPR, TPR)   PR (recall, precision)
//   0.90     1     1  0   (0,   1/3)       (1/3, 1)
//   0.80     1     2  0   (0,   2/3)       (2/3, 1)
//   0.70     0     2  1   (1/3, 2/3)       (2/3, 2/3)
//   0.60     1     3  1   (1/3, 1)         (1,   3/4)
//   0.55     0     3  2   (2/3, 1)         (1,   3/5)
//   0.40     0     3  3   (1,   1)         (1,   1/2)
const std::vector<float> scores{0.6f, 0.9f, 0.4f, 0.7f, 0.8f, 0.55f};  // deliberately not sorted
const std::vector<std::uint8_t> positive{1, 1, 0, 0, 1, 0};

void check_points(const std::vector<CurvePoint>& got, const std::vector<std::vector<double>>& want) {
    BOOST_REQUIRE_EQUAL(got.size(), want.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
        BOOST_TEST_CONTEXT("point " << i) {
            BOOST_TEST(got[i].x == want[i][0], boost::test_tools::tolerance(1e-12));
            BOOST_TEST(got[i].y == want[i][1], boost::test_tools::tolerance(1e-12));
            if (std::isinf(want[i][2])) BOOST_TEST(std::isinf(got[i].threshold));
            else BOOST_TEST(got[i].threshold == want[i][2], boost::test_tools::tolerance(1e-6));
        }
    }
}

const double inf = INFINITY;

}  // namespace

BOOST_AUTO_TEST_CASE(roc_points_match_the_hand_worked_table) {
    check_points(roc_curve(scores, positive), {{0, 0, inf},
                                               {0, 1.0 / 3, 0.9},
                                               {0, 2.0 / 3, 0.8},
                                               {1.0 / 3, 2.0 / 3, 0.7},
                                               {1.0 / 3, 1, 0.6},
                                               {2.0 / 3, 1, 0.55},
                                               {1, 1, 0.4}});
}

BOOST_AUTO_TEST_CASE(precision_recall_points_match_the_hand_worked_table) {
    check_points(precision_recall_curve(scores, positive), {{0, 1, inf},
                                                            {1.0 / 3, 1, 0.9},
                                                            {2.0 / 3, 1, 0.8},
                                                            {2.0 / 3, 2.0 / 3, 0.7},
                                                            {1, 0.75, 0.6},
                                                            {1, 0.6, 0.55},
                                                            {1, 0.5, 0.4}});
}

BOOST_AUTO_TEST_CASE(areas_match_the_rank_statistic_and_the_step_sum) {
    // 8 of the 9 (positive, negative) pairs are ordered right; AP = 1/3 + 1/3 + 1/3 * 3/4.
    const auto roc = roc_curve(scores, positive);
    BOOST_TEST(curve_area(roc) == 8.0 / 9.0, boost::test_tools::tolerance(1e-12));
    BOOST_TEST(curve_area(roc) == roc_auc(scores, positive), boost::test_tools::tolerance(1e-12));
    BOOST_TEST(average_precision(precision_recall_curve(scores, positive)) == 11.0 / 12.0,
               boost::test_tools::tolerance(1e-12));
}

BOOST_AUTO_TEST_CASE(tied_scores_make_one_point) {
    // The positive and the negative at 0.5 cross the threshold together: a diagonal step.
    const std::vector<float> s{0.5f, 0.5f, 0.2f};
    const std::vector<std::uint8_t> p{1, 0, 1};
    check_points(roc_curve(s, p), {{0, 0, inf}, {1, 0.5, 0.5}, {1, 1, 0.2}});
    check_points(precision_recall_curve(s, p), {{0, 1, inf}, {0.5, 0.5, 0.5}, {1, 2.0 / 3, 0.2}});
    BOOST_TEST(curve_area(roc_curve(s, p)) == roc_auc(s, p), boost::test_tools::tolerance(1e-12));
}

BOOST_AUTO_TEST_CASE(undefined_curves_are_refused) {
    const std::vector<float> s{0.3f, 0.7f};
    BOOST_CHECK_THROW(roc_curve(s, std::vector<std::uint8_t>{1, 1}), InputError);
    BOOST_CHECK_THROW(precision_recall_curve(s, std::vector<std::uint8_t>{0, 0}), InputError);
    BOOST_CHECK_THROW(roc_curve(s, std::vector<std::uint8_t>{1}), InputError);
    BOOST_CHECK_THROW(roc_curve(std::vector<float>{NAN, 0.1f}, std::vector<std::uint8_t>{1, 0}), InputError);
    // Precision-recall needs positives only.
    BOOST_CHECK_EQUAL(precision_recall_curve(s, std::vector<std::uint8_t>{1, 1}).size(), 3u);
}

BOOST_AUTO_TEST_CASE(thinning_keeps_the_ends_and_spreads_the_rest) {
    std::vector<CurvePoint> points;
    for (int i = 0; i < 10; ++i) points.push_back({i / 9.0, i / 9.0, static_cast<double>(i)});
    const auto kept = thin_curve(points, 4);
    BOOST_REQUIRE_EQUAL(kept.size(), 4u);
    BOOST_CHECK_EQUAL(kept[0].threshold, 0.0);
    BOOST_CHECK_EQUAL(kept[1].threshold, 3.0);
    BOOST_CHECK_EQUAL(kept[2].threshold, 6.0);
    BOOST_CHECK_EQUAL(kept[3].threshold, 9.0);
    BOOST_CHECK_EQUAL(thin_curve(points, 20).size(), 10u);
    BOOST_CHECK_THROW(thin_curve(points, 1), ConfigError);
}

BOOST_AUTO_TEST_CASE(operating_point_reads_the_confusion_counts) {
    // rows: true label (0 negative, 1 positive); columns: predicted.
    const OperatingPoint p = operating_point({{5, 1}, {2, 4}});
    BOOST_TEST(p.false_positive_rate == 1.0 / 6.0, boost::test_tools::tolerance(1e-12));
    BOOST_TEST(p.recall == 4.0 / 6.0, boost::test_tools::tolerance(1e-12));
    BOOST_TEST(p.precision == 4.0 / 5.0, boost::test_tools::tolerance(1e-12));
    BOOST_CHECK_EQUAL(operating_point({{3, 0}, {3, 0}}).precision, 0.0);  // nothing called positive
    BOOST_CHECK_THROW(operating_point({{1, 2, 3}, {4, 5, 6}, {7, 8, 9}}), ConfigError);
}
