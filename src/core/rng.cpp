#include "textcnn/core/rng.h"

#include <cmath>

namespace textcnn {

float Rng::normal() {
    // Box-Muller; u1 in (0, 1] so the log is finite.
    const float u1 = 1.0f - uniform();
    const float u2 = uniform();
    return std::sqrt(-2.0f * std::log(u1)) * std::cos(6.28318530717958647692f * u2);
}

}  // namespace textcnn
