#include "textcnn/nn/loss.h"

#include "textcnn/core/error.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace textcnn {

namespace {

void check_logits(const char* where, const Tensor& logits) {
    if (logits.shape().rank() != 2 || logits.packed())
        throw ShapeError(std::string(where) + ": logits " + logits.shape().str() +
                         (logits.packed() ? " (packed)" : "") + " must be (batch, classes)");
}

// Log-sum-exp of one row with the max trick, in double.
double log_sum_exp(const float* z, std::size_t k) {
    const double m = *std::max_element(z, z + k);
    double sum = 0.0;
    for (std::size_t c = 0; c < k; ++c) sum += std::exp(static_cast<double>(z[c]) - m);
    return m + std::log(sum);
}

}  // namespace

void softmax(const Tensor& logits, Tensor& probabilities) {
    check_logits("softmax", logits);
    const std::size_t n = logits.shape().batch();
    const std::size_t k = logits.shape().channels();
    probabilities.resize(logits.shape());
    probabilities.spans.clear();
    if (k == 0) return;
    for (std::size_t i = 0; i < n; ++i) softmax_row(logits.data() + i * k, k, probabilities.data() + i * k);
}

void softmax_row(const float* z, std::size_t k, float* p) {
    if (k == 0) return;
    const double lse = log_sum_exp(z, k);
    for (std::size_t c = 0; c < k; ++c) p[c] = static_cast<float>(std::exp(static_cast<double>(z[c]) - lse));
}

double softmax_cross_entropy(const Tensor& logits, std::span<const std::uint32_t> labels,
                             std::span<const float> class_weights, Tensor* d_logits, Tensor* probabilities,
                             double label_smoothing) {
    check_logits("softmax_cross_entropy", logits);
    if (!(label_smoothing >= 0.0 && label_smoothing < 1.0))
        throw ConfigError(fmt::format("softmax_cross_entropy: label smoothing must be in [0, 1), got {}", label_smoothing));
    const std::size_t n = logits.shape().batch();
    const std::size_t k = logits.shape().channels();
    if (labels.size() != n)
        throw ShapeError("softmax_cross_entropy: " + std::to_string(labels.size()) + " labels for logits " +
                         logits.shape().str());
    if (!class_weights.empty() && class_weights.size() != k)
        throw ShapeError("softmax_cross_entropy: " + std::to_string(class_weights.size()) +
                         " class weights for logits " + logits.shape().str() + " with " + std::to_string(k) +
                         " classes");
    for (std::size_t c = 0; c < class_weights.size(); ++c)
        if (!(class_weights[c] >= 0.0f && std::isfinite(class_weights[c])))
            throw ConfigError("softmax_cross_entropy: class weight " + std::to_string(c) + " is " +
                              fmt::format("{}", class_weights[c]) + "; weights must be finite and >= 0");
    for (std::uint32_t y : labels)
        if (y >= k)
            throw ShapeError("softmax_cross_entropy: label " + std::to_string(y) + " but only " + std::to_string(k) +
                             " classes");

    auto weight = [&](std::uint32_t y) { return class_weights.empty() ? 1.0 : static_cast<double>(class_weights[y]); };
    double total_weight = 0.0;
    for (std::uint32_t y : labels) total_weight += weight(y);

    if (d_logits) {
        d_logits->resize(logits.shape());
        d_logits->spans.clear();
    }
    if (probabilities) {
        probabilities->resize(logits.shape());
        probabilities->spans.clear();
    }
    double loss = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
        const float* z = logits.data() + i * k;
        const std::uint32_t y = labels[i];
        const double lse = log_sum_exp(z, k);
        const double w = weight(y);
        const double scale = total_weight > 0.0 ? w / total_weight : 0.0;
        // Target q_c = (1 - e) [c == y] + e / K. With e = 0 every term but z[y]'s is an exact
        // zero, so the loss and gradient are the plain ones bit for bit.
        const double spread = label_smoothing / static_cast<double>(k);
        const auto target = [&](std::size_t c) { return (c == y ? 1.0 - label_smoothing : 0.0) + spread; };
        double target_logit = 0.0;  // sum_c q_c z_c
        for (std::size_t c = 0; c < k; ++c) target_logit += target(c) * static_cast<double>(z[c]);
        loss += w * (lse - target_logit);
        for (std::size_t c = 0; c < k; ++c) {
            const double p = std::exp(static_cast<double>(z[c]) - lse);
            if (probabilities) probabilities->data()[i * k + c] = static_cast<float>(p);
            if (d_logits) d_logits->data()[i * k + c] = static_cast<float>(scale * (p - target(c)));
        }
    }
    return total_weight > 0.0 ? loss / total_weight : 0.0;
}

std::vector<float> balanced_class_weights(std::span<const std::uint32_t> labels, std::size_t classes) {
    std::vector<std::size_t> counts(classes, 0);
    for (std::uint32_t y : labels) {
        if (y >= classes)
            throw ShapeError("balanced_class_weights: label " + std::to_string(y) + " but only " +
                             std::to_string(classes) + " classes");
        ++counts[y];
    }
    std::vector<float> weights(classes, 0.0f);
    for (std::size_t c = 0; c < classes; ++c)
        if (counts[c] > 0)
            weights[c] = static_cast<float>(static_cast<double>(labels.size()) /
                                            (static_cast<double>(classes) * static_cast<double>(counts[c])));
    return weights;
}

}  // namespace textcnn
