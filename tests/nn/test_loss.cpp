#define BOOST_TEST_MODULE loss
#include <boost/test/unit_test.hpp>

#include "test_helpers.h"

#include "textcnn/core/error.h"
#include "textcnn/nn/loss.h"

#include <algorithm>
#include <cmath>

using namespace textcnn;

namespace {

using textcnn::testing::error_of;

using Labels = std::vector<std::uint32_t>;

}  // namespace

BOOST_AUTO_TEST_CASE(values_by_hand) {
    const Tensor logits(Shape{1, 3}, {1, 2, 3});
    Tensor d, p;
    const double loss = softmax_cross_entropy(logits, Labels{2}, {}, &d, &p);
    // log(e + e^2 + e^3) - 3
    BOOST_TEST(loss == 0.40760596444438, boost::test_tools::tolerance(1e-12));
    const float probs[] = {0.09003057f, 0.24472847f, 0.66524096f};
    for (std::size_t c = 0; c < 3; ++c) {
        BOOST_TEST(p[c] == probs[c], boost::test_tools::tolerance(1e-6f));
        BOOST_TEST(d[c] == probs[c] - (c == 2 ? 1.0f : 0.0f), boost::test_tools::tolerance(1e-6f));
    }
    BOOST_TEST(p.shape().str() == "(1, 3)");

    // Mean over a batch: the second sample is uniform over 3 classes (loss log 3).
    const Tensor two(Shape{2, 3}, {1, 2, 3, 0, 0, 0});
    const double mean = softmax_cross_entropy(two, Labels{2, 0}, {}, &d, nullptr);
    BOOST_TEST(mean == (0.40760596444438 + std::log(3.0)) / 2, boost::test_tools::tolerance(1e-12));
    BOOST_TEST(d[3] == (1.0f / 3 - 1) / 2, boost::test_tools::tolerance(1e-6f));
    BOOST_TEST(d[4] == (1.0f / 3) / 2, boost::test_tools::tolerance(1e-6f));
    // Without outputs it only returns the loss.
    BOOST_TEST(softmax_cross_entropy(two, Labels{2, 0}, {}, nullptr, nullptr) == mean);
}

BOOST_AUTO_TEST_CASE(class_weights_give_a_weighted_mean) {
    const Tensor logits(Shape{3, 2}, {0.5f, -0.5f, 2, 1, 0, 3});
    const Labels labels{0, 1, 1};
    const std::vector<float> weights{2.0f, 0.5f};
    auto row_loss = [&](std::size_t i) {
        const double a = logits[2 * i], b = logits[2 * i + 1];
        return std::log(std::exp(a) + std::exp(b)) - (labels[i] == 0 ? a : b);
    };
    const double expected = (2.0 * row_loss(0) + 0.5 * row_loss(1) + 0.5 * row_loss(2)) / 3.0;
    Tensor d;
    BOOST_TEST(softmax_cross_entropy(logits, labels, weights, &d, nullptr) == expected,
               boost::test_tools::tolerance(1e-9));
    // Scaling every weight leaves the mean unchanged.
    const std::vector<float> scaled{20.0f, 5.0f};
    BOOST_TEST(softmax_cross_entropy(logits, labels, scaled, nullptr, nullptr) == expected,
               boost::test_tools::tolerance(1e-9));
    // All-zero weights: loss and gradient 0, not NaN.
    const std::vector<float> zero{0.0f, 0.0f};
    BOOST_TEST(softmax_cross_entropy(logits, labels, zero, &d, nullptr) == 0.0);
    for (float v : d.values()) BOOST_TEST(v == 0.0f);
}

BOOST_AUTO_TEST_CASE(gradient_matches_finite_differences) {
    Tensor logits(Shape{4, 5});
    for (std::size_t i = 0; i < logits.size(); ++i) logits[i] = std::sin(static_cast<float>(i) * 1.7f) * 2.0f;
    const Labels labels{0, 3, 4, 3};
    for (const std::vector<float>& weights : {std::vector<float>{}, std::vector<float>{1, 0.5f, 2, 3, 0.25f}}) {
        Tensor d;
        softmax_cross_entropy(logits, labels, weights, &d, nullptr);
        for (std::size_t i = 0; i < logits.size(); ++i) {
            Tensor probe = logits;
            const float h = 1e-2f;
            probe[i] = logits[i] + h;
            const double plus = softmax_cross_entropy(probe, labels, weights, nullptr, nullptr);
            probe[i] = logits[i] - h;
            const double minus = softmax_cross_entropy(probe, labels, weights, nullptr, nullptr);
            BOOST_TEST(d[i] == (plus - minus) / (2.0 * h), boost::test_tools::tolerance(2e-3));
        }
    }
}

BOOST_AUTO_TEST_CASE(label_smoothing_values_and_gradient) {
    // By hand: logits (1, 2, 3), label 2, e = 0.3: q = (0.1, 0.1, 0.8), so
    // loss = logsumexp - (0.1 + 0.2 + 2.4) and the gradient softmax - q.
    const Tensor logits(Shape{1, 3}, {1, 2, 3});
    Tensor d, p;
    const double loss = softmax_cross_entropy(logits, Labels{2}, {}, &d, &p, 0.3);
    BOOST_TEST(loss == 3.40760596444438 - 2.7, boost::test_tools::tolerance(1e-12));
    const double q[] = {0.1, 0.1, 0.8};
    for (std::size_t c = 0; c < 3; ++c) BOOST_TEST(d[c] == p[c] - q[c], boost::test_tools::tolerance(1e-6));

    // e = 0 is the plain loss, bit for bit.
    Tensor batch(Shape{4, 5});
    for (std::size_t i = 0; i < batch.size(); ++i) batch[i] = std::cos(static_cast<float>(i) * 0.9f) * 3.0f;
    const Labels labels{1, 4, 0, 1};
    const std::vector<float> weights{1, 0.5f, 2, 3, 0.25f};
    Tensor plain, smoothed_zero;
    BOOST_TEST(softmax_cross_entropy(batch, labels, weights, &plain, nullptr) ==
               softmax_cross_entropy(batch, labels, weights, &smoothed_zero, nullptr, 0.0));
    BOOST_TEST(std::equal(plain.values().begin(), plain.values().end(), smoothed_zero.values().begin(),
                          smoothed_zero.values().end()));

    // Finite differences, with and without class weights.
    for (const std::vector<float>& w : {std::vector<float>{}, weights}) {
        softmax_cross_entropy(batch, labels, w, &d, nullptr, 0.1);
        for (std::size_t i = 0; i < batch.size(); ++i) {
            Tensor probe = batch;
            const float h = 1e-2f;
            probe[i] = batch[i] + h;
            const double plus = softmax_cross_entropy(probe, labels, w, nullptr, nullptr, 0.1);
            probe[i] = batch[i] - h;
            const double minus = softmax_cross_entropy(probe, labels, w, nullptr, nullptr, 0.1);
            const double numeric = (plus - minus) / (2.0 * h);
            BOOST_TEST(std::abs(d[i] - numeric) <= 1e-6 + 2e-3 * std::abs(numeric), "logit " << i);
        }
    }

    // The smoothed loss is smallest at the smoothed target, not at a confident answer:
    // logits giving p = q beat logits far more confident in the true label.
    const Tensor at_target(Shape{1, 3}, {0, 0, std::log(8.0f)});
    const Tensor confident(Shape{1, 3}, {0, 0, 20});
    BOOST_TEST(softmax_cross_entropy(at_target, Labels{2}, {}, nullptr, nullptr, 0.3) <
               softmax_cross_entropy(confident, Labels{2}, {}, nullptr, nullptr, 0.3));

    BOOST_TEST(error_of<ConfigError>([&] { softmax_cross_entropy(logits, Labels{2}, {}, nullptr, nullptr, 1.0); }) ==
               "softmax_cross_entropy: label smoothing must be in [0, 1), got 1");
    BOOST_TEST(error_of<ConfigError>([&] { softmax_cross_entropy(logits, Labels{2}, {}, nullptr, nullptr, -0.1); }) ==
               "softmax_cross_entropy: label smoothing must be in [0, 1), got -0.1");
}

BOOST_AUTO_TEST_CASE(stable_with_huge_logits) {
    const Tensor logits(Shape{2, 3}, {1000, 0, -1000, 1000, 1000, -1000});
    Tensor d, p;
    const double right = softmax_cross_entropy(logits, Labels{0, 1}, {}, &d, &p);
    BOOST_TEST(std::isfinite(right));
    BOOST_TEST(right == std::log(2.0) / 2, boost::test_tools::tolerance(1e-12));  // sample 0 loses 0
    BOOST_TEST(p[0] == 1.0f);
    BOOST_TEST(p[1] == 0.0f);
    BOOST_TEST(p[3] == 0.5f);
    BOOST_TEST(p[4] == 0.5f);
    BOOST_TEST(d[1] == 0.0f);
    BOOST_TEST(d[4] == -0.25f);
    const double wrong = softmax_cross_entropy(logits, Labels{2, 2}, {}, nullptr, nullptr);
    BOOST_TEST(wrong == 2000.0 + std::log(2.0) / 2, boost::test_tools::tolerance(1e-12));

    Tensor q;
    softmax(logits, q);
    BOOST_TEST(q[0] == 1.0f);
    BOOST_TEST(q[5] == 0.0f);
    const Tensor small(Shape{1, 2}, {0, std::log(3.0f)});
    softmax(small, q);
    BOOST_TEST(q[0] == 0.25f, boost::test_tools::tolerance(1e-6f));
    BOOST_TEST(q[1] == 0.75f, boost::test_tools::tolerance(1e-6f));
}

BOOST_AUTO_TEST_CASE(balanced_weights) {
    // 4 samples, 3 classes: class 0 three times, class 1 once, class 2 never.
    const auto w = balanced_class_weights(Labels{0, 1, 0, 0}, 3);
    BOOST_REQUIRE(w.size() == 3u);
    BOOST_TEST(w[0] == 4.0f / 9.0f, boost::test_tools::tolerance(1e-7f));
    BOOST_TEST(w[1] == 4.0f / 3.0f, boost::test_tools::tolerance(1e-7f));
    BOOST_TEST(w[2] == 0.0f);
    BOOST_TEST(error_of<ShapeError>([] { balanced_class_weights(Labels{0, 3}, 3); }) ==
               "balanced_class_weights: label 3 but only 3 classes");
}

BOOST_AUTO_TEST_CASE(bad_use) {
    const Tensor logits(Shape{2, 6});
    BOOST_TEST(error_of<ShapeError>([&] { softmax_cross_entropy(logits, Labels{1, 7}, {}, nullptr, nullptr); }) ==
               "softmax_cross_entropy: label 7 but only 6 classes");
    BOOST_TEST(error_of<ShapeError>([&] { softmax_cross_entropy(logits, Labels{1}, {}, nullptr, nullptr); }) ==
               "softmax_cross_entropy: 1 labels for logits (2, 6)");
    const std::vector<float> three{1, 1, 1};
    BOOST_TEST(error_of<ShapeError>([&] { softmax_cross_entropy(logits, Labels{1, 2}, three, nullptr, nullptr); }) ==
               "softmax_cross_entropy: 3 class weights for logits (2, 6) with 6 classes");
    const std::vector<float> negative{1, 1, -1, 1, 1, 1};
    BOOST_TEST(error_of<ConfigError>([&] {
                   softmax_cross_entropy(logits, Labels{1, 2}, negative, nullptr, nullptr);
               }) == "softmax_cross_entropy: class weight 2 is -1; weights must be finite and >= 0");
    BOOST_TEST(error_of<ShapeError>([&] {
                   softmax_cross_entropy(Tensor(Shape{2, 6, 3}), Labels{1, 2}, {}, nullptr, nullptr);
               }) == "softmax_cross_entropy: logits (2, 6, 3) must be (batch, classes)");
    Tensor p;
    BOOST_TEST(error_of<ShapeError>([&] { softmax(Tensor(Shape{2, 6, 3}), p); }) ==
               "softmax: logits (2, 6, 3) must be (batch, classes)");
}
