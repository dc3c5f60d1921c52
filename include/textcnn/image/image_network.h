// Image networks from architectures (built-in or JSON files, architecture.h): the input shape
// of one image and the network for a number of classes. What ImageTrainingRun builds, public
// for programs that build or describe networks themselves (imagecnn summary --arch).
#pragma once

#include "textcnn/nn/architecture.h"
#include "textcnn/nn/network.h"

#include <cstddef>
#include <string>
#include <vector>

namespace textcnn {

/// The architecture `file` (JSON) when not empty, else the built-in one named `name`
/// (builtin_architecture_names()). ConfigError for an unknown name or a bad file, IoError when
/// the file cannot be read.
Architecture image_architecture(const std::string& name, const std::string& file);

/// Sample shape (1, channels, height, width): `input` = {channels, height, width} when given,
/// else the architecture's own "input", else (1, 1, 28, 28). ConfigError for an `input` that
/// is not three positive numbers or an architecture input that is not [channels, height, width].
Shape image_sample_shape(const Architecture& arch, const std::vector<std::size_t>& input);

/// The network of `arch` for samples of `sample` shape (1, C, H, W) and `classes` outputs
/// ("units": "classes" bound), not initialised. Errors name the architecture: ShapeError when
/// the layers do not fit the input, ConfigError for bad settings or a network whose output is
/// not (N, classes).
Network build_image_network(Architecture arch, const Shape& sample, std::size_t classes);
/// The parameter count of build_image_network(arch, sample, classes) without allocating it
/// (for a memory check before training); the same errors, naming the architecture.
std::size_t image_network_parameter_count(Architecture arch, const Shape& sample, std::size_t classes);

}  // namespace textcnn
