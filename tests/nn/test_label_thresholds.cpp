// LabelThresholds: the decision rule of label_thresholds.h, checked against a plain reading
// of its three steps on every probability vector of a grid, and its errors.
#define BOOST_TEST_MODULE label_thresholds
#include <boost/test/unit_test.hpp>

#include "test_helpers.h"

#include "textcnn/core/error.h"
#include "textcnn/nn/label_thresholds.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

using namespace textcnn;
using textcnn::testing::error_of;

namespace {

const std::vector<std::string> three = {"ham", "news", "spam"};

using Pairs = std::vector<std::pair<std::string, double>>;

// The rule written out the long way, for comparison.
std::optional<std::uint32_t> reference(const std::vector<double>& thresholds, const std::vector<float>& p) {
    std::optional<std::uint32_t> best;
    for (std::uint32_t i = 0; i < p.size(); ++i)
        if (thresholds[i] >= 0 && p[i] >= static_cast<float>(thresholds[i]) && (!best || p[i] > p[*best])) best = i;
    if (best) return best;
    for (std::uint32_t i = 0; i < p.size(); ++i)
        if (thresholds[i] < 0 && (!best || p[i] > p[*best])) best = i;
    return best;
}

}  // namespace

BOOST_AUTO_TEST_CASE(without_thresholds_it_is_the_arg_max_first_on_ties) {
    const LabelThresholds none;
    BOOST_TEST(none.empty());
    BOOST_TEST(none.always_decides());
    BOOST_TEST(*none.decide(std::vector<float>{0.2f, 0.5f, 0.3f}) == 1u);
    BOOST_TEST(*none.decide(std::vector<float>{0.4f, 0.4f, 0.2f}) == 0u);
}

BOOST_AUTO_TEST_CASE(a_threshold_applies_to_the_label_it_names_wherever_it_stands) {
    // Two labels in either order: the named label exactly when its probability reaches P.
    for (const std::vector<std::string>& labels : {std::vector<std::string>{"ham", "spam"}, {"spam", "valid"}}) {
        const Pairs pairs = {{"spam", 0.9}};
        const LabelThresholds t(labels, pairs);
        const std::uint32_t spam = labels[0] == "spam" ? 0 : 1;
        for (float p_spam : {0.0f, 0.5f, 0.89f, 0.9f, 0.95f, 1.0f}) {
            std::vector<float> p(2);
            p[spam] = p_spam;
            p[1 - spam] = 1.0f - p_spam;
            BOOST_TEST((*t.decide(p) == spam) == (p_spam >= 0.9f), labels[0] << "/" << labels[1] << " P(spam) " << p_spam);
        }
        // A low threshold also works the other way: spam from 0.3 on, though ham is more probable.
        const Pairs low = {{"spam", 0.3}};
        std::vector<float> p(2);
        p[spam] = 0.35f;
        p[1 - spam] = 0.65f;
        BOOST_TEST(*LabelThresholds(labels, low).decide(p) == spam);
    }
}

BOOST_AUTO_TEST_CASE(matches_the_rule_on_a_grid_of_probabilities_and_thresholds) {
    const std::vector<Pairs> settings = {{{"news", 0.5}},
                                         {{"spam", 0.2}, {"ham", 0.7}},
                                         {{"ham", 0.5}, {"news", 0.5}, {"spam", 0.5}},
                                         {{"ham", 0.0}}};
    std::size_t undecided = 0, checked = 0;
    for (const Pairs& pairs : settings) {
        const LabelThresholds t(three, pairs);
        std::vector<double> thresholds(3, -1.0);
        for (std::size_t i = 0; i < 3; ++i)
            if (auto v = t.threshold(i)) thresholds[i] = *v;
        BOOST_TEST(t.always_decides() == (pairs.size() < 3));
        for (int a = 0; a <= 20; ++a)
            for (int b = 0; a + b <= 20; ++b) {
                const std::vector<float> p = {a / 20.0f, b / 20.0f, (20 - a - b) / 20.0f};
                const auto got = t.decide(p);
                BOOST_TEST((got == reference(thresholds, p)));
                undecided += !got;
                ++checked;
            }
    }
    BOOST_TEST(checked == 4u * 231u);
    BOOST_TEST(undecided > 0u);  // the all-thresholds setting leaves some vectors without a label
}

// in_doubt() never says "certain" of a decision that some probabilities within the bounds
// change: every vector whose entries are p - b, p or p + b (and points between) is decided as
// p is whenever in_doubt(p, b) is false. And it is not always true.
BOOST_AUTO_TEST_CASE(in_doubt_whenever_probabilities_within_the_bounds_decide_otherwise) {
    const std::vector<Pairs> settings = {{},
                                         {{"news", 0.5}},
                                         {{"spam", 0.2}, {"ham", 0.7}},
                                         {{"ham", 0.5}, {"news", 0.5}, {"spam", 0.5}},
                                         {{"ham", 0.35}}};
    std::size_t certain = 0, doubtful = 0;
    for (const Pairs& pairs : settings) {
        const LabelThresholds t = pairs.empty() ? LabelThresholds() : LabelThresholds(three, pairs);
        for (const float width : {0.01f, 0.04f, 0.1f})
            for (int a = 0; a <= 40; ++a)
                for (int b = 0; a + b <= 40; ++b) {
                    const std::vector<float> p = {a / 40.0f, b / 40.0f, (40 - a - b) / 40.0f};
                    const std::vector<float> bounds = {width, width * 0.5f, width * 1.5f};
                    const bool doubt = t.in_doubt(p, bounds, 1e-6f);  // slack: the rounding of q below
                    (doubt ? doubtful : certain) += 1;
                    if (doubt) continue;
                    for (int step = 0; step < 125; ++step) {  // 5 points per label: -b, -b/2, 0, b/2, b
                        std::vector<float> q = p;
                        for (int c = 0, code = step; c < 3; ++c, code /= 5) q[c] += bounds[c] * 0.5f * (code % 5 - 2);
                        BOOST_TEST_REQUIRE((t.decide(q) == t.decide(p)),
                                           "p " << p[0] << ' ' << p[1] << ' ' << p[2] << ", bound " << width << ", step " << step);
                    }
                }
    }
    BOOST_TEST(certain > 0u);
    BOOST_TEST(doubtful > 0u);
}

BOOST_AUTO_TEST_CASE(in_doubt_near_a_threshold_and_between_the_candidates) {
    const LabelThresholds spam({{"ham", "spam"}}, Pairs{{"spam", 0.9}});
    BOOST_TEST(!spam.in_doubt(std::vector<float>{0.12f, 0.88f}, std::vector<float>{0.01f, 0.01f}, 0.0f));
    BOOST_TEST(spam.in_doubt(std::vector<float>{0.12f, 0.88f}, std::vector<float>{0.03f, 0.03f}, 0.0f));
    BOOST_TEST(spam.in_doubt(std::vector<float>{0.12f, 0.88f}, std::vector<float>{0.0f, 0.015f}, 0.01f));
    // ham and spam 0.5 apart: no arg-max doubt, only the threshold's.
    BOOST_TEST(!LabelThresholds().in_doubt(std::vector<float>{0.25f, 0.75f}, std::vector<float>{0.2f, 0.2f}, 0.0f));
    // Both thresholds reached for sure; the two candidates 0.05 apart.
    const LabelThresholds two(three, Pairs{{"ham", 0.4}, {"news", 0.4}});
    BOOST_TEST(!two.in_doubt(std::vector<float>{0.5f, 0.45f, 0.05f}, std::vector<float>{0.02f, 0.02f, 0.5f}, 0.0f));
    BOOST_TEST(two.in_doubt(std::vector<float>{0.5f, 0.45f, 0.05f}, std::vector<float>{0.03f, 0.03f, 0.0f}, 0.0f));
    BOOST_TEST(error_of<ConfigError>([&] {
                   two.in_doubt(std::vector<float>{0.5f, 0.5f}, std::vector<float>{0.1f, 0.1f}, 0.0f);
               }) == "thresholds: 2 probabilities and 2 bounds for 3 labels");
}

BOOST_AUTO_TEST_CASE(errors_name_the_label_and_the_value) {
    const Pairs unknown = {{"eggs", 0.5}};
    BOOST_TEST(error_of<ConfigError>([&] { LabelThresholds(three, unknown); }) ==
               "threshold for 'eggs': no such label (labels: ham, news, spam)");
    const Pairs too_big = {{"spam", 1.5}};
    BOOST_TEST(error_of<ConfigError>([&] { LabelThresholds(three, too_big); }) ==
               "threshold for 'spam': 1.5 is not a probability in [0, 1]");
    const Pairs twice = {{"spam", 0.5}, {"spam", 0.6}};
    BOOST_TEST(error_of<ConfigError>([&] { LabelThresholds(three, twice); }) == "threshold for 'spam' given twice");
    const Pairs one = {{"spam", 0.5}};
    BOOST_TEST(error_of<ConfigError>([&] { LabelThresholds(three, one).decide(std::vector<float>{0.5f, 0.5f}); }) ==
               "thresholds: 2 probabilities for 3 labels");
}
