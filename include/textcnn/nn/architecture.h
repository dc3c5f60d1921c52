// Architecture files: a stack of the backend's layers (a ModelSpec) written as JSON, so that a
// network is data, not a type. The built-in image networks are written in this format
// (data/architectures/*.json) and compiled into the library, so `--arch cnn_1` works from any
// directory.
//
// Format (one JSON object):
//   {
//     "name": "cnn_1",                      optional; defaults to the file name stem
//     "description": "...",                 optional free text
//     "input": [1, 28, 28],                 optional sample shape (channels, height, width) or
//                                           (channels, length); checked against the data
//     "init": "glorot_uniform",             optional: glorot_uniform | he_uniform | torch | uniform
//     "layers": [                           required, non-empty
//       {"type": "conv", "name": "conv_1", "filters": 8, "kernel": [5, 5], "padding": "same"},
//       {"type": "relu"},
//       {"type": "parallel", "branches": [[{...}, ...], [{...}, ...]]},
//       {"type": "dense", "units": "classes"}
//     ]
//   }
// A layer object has "type" (required), "name" (optional: unnamed layers are named
// <type>_<k>, counting per type over the whole file in order, like Keras), "branches" (only
// for "parallel": a list of layer lists) and settings. A setting value may be a string, an
// integer, a number, a boolean or a list of integers (written "5,5" in the LayerSpec); the
// keys each layer type accepts are listed by architecture_setting_keys(). "units": "classes"
// on a dense layer stands for the number of classes of the data it is trained on
// (bind_class_count()).
//
// Errors are ConfigErrors that name the source (file), the layer by its path ("layer 3",
// "layer 2 branch 1 layer 0") and the bad key or value.
#pragma once

#include "textcnn/nn/layer.h"
#include "textcnn/nn/layer_spec.h"
#include "textcnn/nn/tensor.h"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace textcnn {

struct Architecture {
    std::string name;
    std::string description;
    /// Sample shape (batch 0) when the file gives one: (0, C, H, W) or (0, C, L).
    std::optional<Shape> input;
    /// Weight initialisation the file recommends (the caller may override it).
    std::optional<Initializer::Kind> init;
    ModelSpec layers;

    bool operator==(const Architecture&) const = default;
};

/// Parses architecture JSON; `source` (a file name) prefixes every error.
Architecture parse_architecture(std::string_view json_text, const std::string& source);
/// Reads and parses a file; the name defaults to the file's stem.
Architecture read_architecture_file(const std::string& path);
/// JSON text that parse_architecture() reads back to an equal Architecture. Settings that are
/// integers, numbers or booleans in their canonical spelling are written as JSON numbers and
/// booleans, everything else as strings.
std::string serialise_architecture(const Architecture& architecture);

/// Names of the built-in architectures, in a fixed order: cnn_1, cnn_1_with_pooling, cnn_2,
/// cnn_fashion.
std::vector<std::string> builtin_architecture_names();
/// The JSON text of a built-in (the same text as data/architectures/<name>.json).
std::string_view builtin_architecture_text(const std::string& name);
/// A built-in by name; ConfigError listing the known names otherwise.
Architecture builtin_architecture(const std::string& name);
/// The architecture the image tools use by default.
inline constexpr const char* default_image_architecture = "cnn_fashion";

/// Setting keys a layer type accepts in an architecture file; ConfigError for an unknown type.
const std::vector<std::string>& architecture_setting_keys(const std::string& type);

/// Replaces "units": "classes" (at any depth) by `classes`. Returns how many were replaced.
std::size_t bind_class_count(ModelSpec& layers, std::size_t classes);

/// "glorot_uniform" | "he_uniform" | "torch" | "uniform" (initializer_names(); also "glorot",
/// "keras", "he" and "torch_default"), and back. ConfigError "unknown initializer 'NAME'
/// (known: glorot_uniform, he_uniform, torch, uniform)" otherwise.
Initializer::Kind parse_initializer_kind(const std::string& name);
std::string initializer_kind_name(Initializer::Kind kind);

}  // namespace textcnn
