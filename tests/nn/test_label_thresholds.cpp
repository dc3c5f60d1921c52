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
