// Optimizers over a Network's parameter block. One step() reads the gradient block and
// updates every trainable parameter group.
//
// Sparse-column groups (embedding tables) are updated only in the columns the last backward
// touched. For SGD without momentum, Adadelta and RMSprop this is exact: an untouched column
// has zero gradient, so its value would not move and its accumulators would only decay by
// rho per step, and that decay is applied lazily (rho^steps_skipped) when the column is next
// touched. For momentum SGD and Adam it is the "lazy" variant (TensorFlow's LazyAdam): an
// untouched column keeps its value instead of coasting on its momentum. Weight decay is
// likewise applied to touched columns only.
#pragma once

#include "textcnn/nn/training_settings.h"
#include "textcnn/nn/network.h"
#include "textcnn/nn/training_settings.h"  // OptimizerSettings

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace textcnn {

class Optimizer {
public:
    virtual ~Optimizer() = default;
    /// Applies one update from net.gradients() to net.parameters().
    virtual void step(Network& net) = 0;
    /// Optimizer state (accumulators, step count) as one float vector, for checkpoints.
    virtual std::vector<float> state() const = 0;
    virtual void set_state(const std::vector<float>& state) = 0;
    /// Changes the learning rate of the following steps (a schedule, trainer.h); the state is
    /// kept. ConfigError unless rate > 0 and finite.
    virtual void set_learning_rate(float rate) = 0;
};

std::unique_ptr<Optimizer> make_optimizer(const OptimizerSettings& settings, const Network& net);

/// Kim's constraint: rescale each column of the chosen parameter groups whose L2 norm exceeds
/// max_norm back to max_norm. `group_indices` index net.groups(); the groups must have
/// max_norm_columns.
void apply_max_norm(Network& net, const std::vector<std::size_t>& group_indices, float max_norm);

/// L2 norm of the whole gradient block (sparse groups: touched columns only).
double gradient_norm(const Network& net);

}  // namespace textcnn
