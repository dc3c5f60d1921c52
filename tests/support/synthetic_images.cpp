#include "synthetic_images.h"

#include "textcnn/core/rng.h"

namespace textcnn::testing {

SyntheticShapes make_shapes(std::size_t count, std::uint64_t seed) {
    SyntheticShapes s;
    Rng rng(seed);
    const std::size_t side = 12;
    for (std::size_t i = 0; i < count; ++i) {
        const auto label = static_cast<std::uint8_t>(i % 3);
        std::vector<std::uint8_t> image(side * side);
        for (auto& p : image) p = static_cast<std::uint8_t>(rng.below(60));
        const std::size_t y = 1 + rng.below(5), x = 1 + rng.below(5);
        auto set = [&](std::size_t yy, std::size_t xx) { image[yy * side + xx] = static_cast<std::uint8_t>(200 + rng.below(56)); };
        for (std::size_t k = 0; k < 6; ++k) {
            if (label == 0) set(y + k, x + 2);
            if (label == 1) set(y + 2, x + k);
        }
        if (label == 2)
            for (std::size_t a = 0; a < 3; ++a)
                for (std::size_t b = 0; b < 3; ++b) set(y + 1 + a, x + 1 + b);
        s.pixels.insert(s.pixels.end(), image.begin(), image.end());
        s.labels.push_back(label);
    }
    return s;
}

const char* const small_architecture = R"({
  "name": "tiny",
  "layers": [
    {"type": "conv", "filters": 6, "kernel": [3, 3], "padding": "same"},
    {"type": "relu"},
    {"type": "max_pool", "window": [2, 2]},
    {"type": "flatten"},
    {"type": "dense", "units": "classes"}
  ]
}
)";

}  // namespace textcnn::testing
