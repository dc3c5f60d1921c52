// A synthetic image task for the image tests: small, fast to learn, not learnable by chance.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace textcnn::testing {

/// `count` 12x12 one-channel images of three classes (label i % 3): a vertical bar (0), a
/// horizontal bar (1) or a 3x3 square (2) at a random place over a noisy background.
struct SyntheticShapes {
    std::vector<std::uint8_t> pixels;  ///< count x 12 x 12, image after image, row-major
    std::vector<std::uint8_t> labels;
};
SyntheticShapes make_shapes(std::size_t count, std::uint64_t seed);

/// An architecture file for 12x12 images: 6 'same' 3x3 convolutions, ReLU, 2x2 max pooling,
/// dense to the classes.
extern const char* const small_architecture;

}  // namespace textcnn::testing
