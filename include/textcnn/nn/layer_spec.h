// A layer described as data: its type name and its settings. Models are built at run time
// from a list of these (an architecture file, command-line options or a model file), never
// from a C++ type. The same description is stored in model files and printed by `summary`.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

namespace textcnn {

struct LayerSpec {
    /// Layer type, e.g. "conv", "max_pool", "global_max_pool", "dense", "relu", "dropout",
    /// "embedding", "flatten", "parallel". See make_layer() for the full list.
    std::string type;
    /// Optional instance name shown in summaries and error messages ("conv_1").
    std::string name;
    /// Settings as strings ("filters" -> "100", "kernel" -> "3,3", "padding" -> "same").
    std::map<std::string, std::string> settings;
    /// For "parallel": one list of layers per branch; the branch outputs are concatenated
    /// along the channel axis.
    std::vector<std::vector<LayerSpec>> branches;

    bool operator==(const LayerSpec&) const = default;

    // Typed access with errors that name the layer and the setting.
    bool has(const std::string& key) const { return settings.count(key) != 0; }
    std::string get_string(const std::string& key, const std::string& fallback) const;
    std::string require_string(const std::string& key) const;
    long get_int(const std::string& key, long fallback) const;
    long require_int(const std::string& key) const;
    double get_double(const std::string& key, double fallback) const;
    /// A list of integers "3,4,5" (one value is a list of one).
    std::vector<long> get_ints(const std::string& key, const std::vector<long>& fallback) const;
    /// "true"/"1" or "false"/"0"; ConfigError otherwise.
    bool get_bool(const std::string& key, bool fallback) const;
    /// `values` (the list given for `key`) as `rank` sizes >= 1, one per spatial axis; a single
    /// value serves both axes of a 2D layer. ConfigError naming the layer and the key otherwise.
    std::vector<std::size_t> axis_sizes(const std::string& key, std::vector<long> values, std::size_t rank) const;
    /// "conv 'conv_1'" or "conv": the prefix of every message about this layer.
    std::string label() const;
};

using ModelSpec = std::vector<LayerSpec>;

}  // namespace textcnn
