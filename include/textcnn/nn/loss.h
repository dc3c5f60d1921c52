// Softmax cross-entropy, the loss of every classifier in textcnn, and class weights for
// imbalanced data.
#pragma once

#include "textcnn/nn/tensor.h"

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace textcnn {

/// Mean softmax cross-entropy of `logits` (N, K) against `labels` (N values in [0, K)).
///
/// With class weights w (K values; empty = all 1) the result is the weighted mean
/// sum_i w[y_i] * loss_i / sum_i w[y_i] (PyTorch's CrossEntropyLoss(weight=...) convention),
/// so the scale does not depend on the weights' scale. If every sample has weight 0 the loss
/// and the gradient are 0. loss_i = logsumexp(z_i) - z_i[y_i], computed with the max trick in
/// double precision, so logits of +-1000 are fine.
///
/// If `d_logits` is not null it is resized to (N, K) and *assigned* the gradient of the
/// returned mean: w[y_i] / sum_w * (softmax(z_i) - onehot(y_i)). If `probabilities` is not
/// null it receives softmax(logits).
///
/// Label smoothing (Szegedy et al. 2016, "Rethinking the Inception Architecture", section 7):
/// with `label_smoothing` = e > 0 the target of sample i is q_i = (1 - e) onehot(y_i) + e / K
/// instead of onehot(y_i), so loss_i = logsumexp(z_i) - sum_c q_ic z_ic and the gradient is
/// w[y_i] / sum_w * (softmax(z_i) - q_i); e = 0 is the plain loss above, bit for bit.
///
/// ShapeError ("softmax_cross_entropy: label 7 but only 6 classes") for a label >= K, a
/// labels count other than N, a logits tensor that is not (N, K) or packed, or class_weights
/// of a size other than K; ConfigError for a negative or non-finite class weight, or a
/// label_smoothing outside [0, 1).
double softmax_cross_entropy(const Tensor& logits, std::span<const std::uint32_t> labels,
                             std::span<const float> class_weights, Tensor* d_logits, Tensor* probabilities,
                             double label_smoothing = 0.0);

/// Row-wise softmax of `logits` (N, K) into `probabilities` (resized to (N, K)); stable for
/// large logits. ShapeError if logits is not (N, K).
void softmax(const Tensor& logits, Tensor& probabilities);

/// Softmax of one row of k logits into probabilities[0 .. k) (the arithmetic of softmax()).
void softmax_row(const float* logits, std::size_t k, float* probabilities);

/// scikit-learn's class_weight='balanced': n_samples / (classes * count_c). A class with no
/// sample gets weight 0 (it never appears as a label, so any finite value would do, and 0
/// keeps it from mattering). ShapeError for a label >= classes.
std::vector<float> balanced_class_weights(std::span<const std::uint32_t> labels, std::size_t classes);

}  // namespace textcnn
