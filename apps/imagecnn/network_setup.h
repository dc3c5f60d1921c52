// Building an image network from an architecture: the sample shape and the class count.
#pragma once

#include "textcnn/nn/architecture.h"
#include "textcnn/nn/network.h"

#include <cstddef>
#include <vector>

namespace imagecnn {

/// Sample shape (1, C, H, W): `input` (C, H, W) when given, else the architecture's own, else
/// (1, 28, 28). UsageError for an input that is not three positive numbers.
textcnn::Shape image_sample_shape(const textcnn::Architecture& arch, const std::vector<std::size_t>& input);

/// The network of `arch` for samples of `sample` shape and `classes` outputs ("units":
/// "classes" bound). Errors name the architecture; a network whose output is not (N, classes)
/// is a ConfigError.
textcnn::Network build_network(textcnn::Architecture arch, const textcnn::Shape& sample, std::size_t classes);

}  // namespace imagecnn
