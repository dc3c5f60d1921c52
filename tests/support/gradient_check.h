// Finite-difference gradient checks for any Layer, used by every layer's test.
//
// The scalar checked is L = sum(out * weights) for fixed random weights, so dL/dout =
// weights. Analytic gradients come from one backward(); numeric ones from central
// differences in double precision over float32 values. Both the input gradient and every
// parameter gradient are compared, element by element, with a relative tolerance.
#pragma once

#include "textcnn/nn/layer.h"

#include <cstdint>
#include <string>
#include <vector>

namespace textcnn::testing {

struct GradientCheckOptions {
    float step = 1e-2f;             ///< finite-difference step (float32 needs a large one)
    float tolerance = 2e-2f;        ///< max |a - n| / max(1, |a|, |n|) ... scaled, see .cpp
    std::uint64_t seed = 7;
    bool check_input = true;        ///< false for layers whose input is not differentiable
    std::size_t max_checks = 4000;  ///< elements sampled per tensor (all when fewer)
};

struct GradientCheckResult {
    double worst_error = 0.0;  ///< largest scaled error seen
    std::string worst_where;   ///< "input[12]" or "weights[3]"
    std::size_t checked = 0;
    bool passed = false;
};

/// Binds fresh parameter storage to `layer`, initialises it from the seed, and checks the
/// gradients at `input`. The layer must be freshly constructed.
GradientCheckResult check_gradients(Layer& layer, const Tensor& input, const GradientCheckOptions& options = {});

/// Deterministic random tensor with values in [-1, 1).
Tensor random_tensor(const Shape& shape, std::uint64_t seed);

/// Binds zero-initialised storage to a layer; returns the storage so the caller can set
/// weights (values, then gradients, one vector per parameter).
struct BoundParameters {
    std::vector<std::vector<float>> values;
    std::vector<std::vector<float>> gradients;
    std::vector<std::vector<std::uint32_t>> touched;
};
BoundParameters bind_fresh(Layer& layer);

}  // namespace textcnn::testing
