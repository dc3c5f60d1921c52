#include "textcnn/nn/architecture.h"

#include "textcnn/core/checked.h"
#include "textcnn/core/error.h"
#include "textcnn/core/files.h"

#include <nlohmann/json.hpp>

#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace textcnn {

namespace {

using json = nlohmann::ordered_json;

// The built-in architectures: byte for byte the files of data/architectures/ (a test compares
// them), compiled in so that `--arch NAME` needs no data directory at run time.
struct BuiltinText {
    const char* name;
    std::string_view text;
};

// BEGIN BUILTINS (data/architectures/*.json)
constexpr std::string_view cnn_1_text = R"json({
  "name": "cnn_1",
  "description": "The article's first network (Keras functional API): Conv2D 8 filters 5x5 stride 1 'same' + ReLU, Conv2D 8 filters 3x3 'same' + ReLU, Flatten, Dense 10 logits (softmax is in the loss). For 28x28x1 inputs: 208 + 584 + 62,730 = 63,522 parameters.",
  "init": "glorot_uniform",
  "layers": [
    {"type": "conv", "name": "conv_1", "filters": 8, "kernel": [5, 5], "stride": 1, "padding": "same"},
    {"type": "relu", "name": "relu_1"},
    {"type": "conv", "name": "conv_2", "filters": 8, "kernel": [3, 3], "stride": 1, "padding": "same"},
    {"type": "relu", "name": "relu_2"},
    {"type": "flatten", "name": "flatten"},
    {"type": "dense", "name": "logits", "units": "classes"}
  ]
}
)json";
constexpr std::string_view cnn_1_with_pooling_text = R"json({
  "name": "cnn_1_with_pooling",
  "description": "cnn_1 with MaxPool2D 2x2 stride 2 'same' after each convolution (28x28 -> 14x14 -> 7x7). For 28x28x1 inputs: 208 + 584 + 3,930 = 4,722 parameters.",
  "init": "glorot_uniform",
  "layers": [
    {"type": "conv", "name": "conv_1", "filters": 8, "kernel": [5, 5], "stride": 1, "padding": "same"},
    {"type": "relu", "name": "relu_1"},
    {"type": "max_pool", "name": "pool_1", "window": [2, 2], "stride": [2, 2], "padding": "same"},
    {"type": "conv", "name": "conv_2", "filters": 8, "kernel": [3, 3], "stride": 1, "padding": "same"},
    {"type": "relu", "name": "relu_2"},
    {"type": "max_pool", "name": "pool_2", "window": [2, 2], "stride": [2, 2], "padding": "same"},
    {"type": "flatten", "name": "flatten"},
    {"type": "dense", "name": "logits", "units": "classes"}
  ]
}
)json";
constexpr std::string_view cnn_2_text = R"json({
  "name": "cnn_2",
  "description": "The article's Sequential variant: Sequential([Conv2D(8, 5, padding='same', activation='relu'), Conv2D(8, 3, padding='same', activation='relu'), Flatten(), Dense(10)]). Keras fuses the ReLU into Conv2D; the backend writes it as its own layer, so the function and the 63,522 parameters (28x28x1) are those of cnn_1: the two names exist so that the article's examples map one to one.",
  "init": "glorot_uniform",
  "layers": [
    {"type": "conv", "name": "conv2d", "filters": 8, "kernel": [5, 5], "stride": 1, "padding": "same"},
    {"type": "relu", "name": "conv2d_relu"},
    {"type": "conv", "name": "conv2d_1", "filters": 8, "kernel": [3, 3], "stride": 1, "padding": "same"},
    {"type": "relu", "name": "conv2d_1_relu"},
    {"type": "flatten", "name": "flatten"},
    {"type": "dense", "name": "dense", "units": "classes"}
  ]
}
)json";
constexpr std::string_view cnn_fashion_text = R"json({
  "name": "cnn_fashion",
  "description": "The stronger default for Fashion-MNIST: Conv2D 32 3x3 'same' + ReLU, MaxPool 2x2, Conv2D 64 3x3 'same' + ReLU, MaxPool 2x2, Dropout 0.2, Flatten, Dense 256 + ReLU, Dropout 0.3, Dense 10 logits. For 28x28x1 inputs: 320 + 18,496 + 803,072 + 2,570 = 824,458 parameters. Trained 15 epochs with RMSprop, the learning rate divided by 10 after epochs 10 and 13 (bench/image_accuracy.sh).",
  "init": "glorot_uniform",
  "layers": [
    {"type": "conv", "name": "conv_1", "filters": 32, "kernel": [3, 3], "padding": "same"},
    {"type": "relu", "name": "relu_1"},
    {"type": "max_pool", "name": "pool_1", "window": [2, 2], "stride": [2, 2], "padding": "same"},
    {"type": "conv", "name": "conv_2", "filters": 64, "kernel": [3, 3], "padding": "same"},
    {"type": "relu", "name": "relu_2"},
    {"type": "max_pool", "name": "pool_2", "window": [2, 2], "stride": [2, 2], "padding": "same"},
    {"type": "dropout", "name": "dropout_1", "rate": 0.2},
    {"type": "flatten", "name": "flatten"},
    {"type": "dense", "name": "dense_1", "units": 256},
    {"type": "relu", "name": "relu_3"},
    {"type": "dropout", "name": "dropout_2", "rate": 0.3},
    {"type": "dense", "name": "logits", "units": "classes"}
  ]
}
)json";
// END BUILTINS

const std::vector<BuiltinText>& builtins() {
    static const std::vector<BuiltinText> list = {
        {"cnn_1", cnn_1_text},
        {"cnn_1_with_pooling", cnn_1_with_pooling_text},
        {"cnn_2", cnn_2_text},
        {"cnn_fashion", cnn_fashion_text},
    };
    return list;
}

// Where we are in the file, for error messages: "layer 3" or "layer 2 branch 1 layer 0".
std::string layer_path_text(const std::vector<std::size_t>& path) {
    std::string text;
    for (std::size_t i = 0; i < path.size(); ++i) {
        if (i % 2 == 0)
            text += (i ? " layer " : "layer ") + std::to_string(path[i]);
        else
            text += " branch " + std::to_string(path[i]);
    }
    return text;
}

struct Parser {
    std::string source;
    std::map<std::string, std::size_t> type_counts;  // for default names
    std::set<std::string> names;

    [[noreturn]] void fail(const std::vector<std::size_t>& path, const std::string& message) const {
        throw ConfigError(source + ": " + layer_path_text(path) + ": " + message);
    }

    std::string setting_text(const std::vector<std::size_t>& path, const std::string& key, const json& value) const {
        if (value.is_string()) return value.get<std::string>();
        if (value.is_boolean()) return value.get<bool>() ? "true" : "false";
        if (value.is_number()) return value.dump();
        if (value.is_array() && !value.empty()) {
            std::string text;
            for (const auto& item : value) {
                if (!item.is_number_integer())
                    fail(path, "setting '" + key + "': a list must hold integers, got " + value.dump());
                if (!text.empty()) text += ',';
                text += item.dump();
            }
            return text;
        }
        fail(path, "setting '" + key + "' must be a string, a number, a boolean or a list of integers, got " +
                       value.dump());
    }

    LayerSpec parse_layer(const json& object, const std::vector<std::size_t>& path) {
        if (!object.is_object()) fail(path, "expected an object {\"type\": ...}, got " + object.dump());
        auto type_it = object.find("type");
        if (type_it == object.end()) fail(path, "missing key 'type'");
        if (!type_it->is_string()) fail(path, "'type' must be a string, got " + type_it->dump());
        LayerSpec spec;
        spec.type = type_it->get<std::string>();
        const std::vector<std::string>* keys = nullptr;
        try {
            keys = &architecture_setting_keys(spec.type);
        } catch (const ConfigError& e) {
            fail(path, e.what());
        }
        if (auto name_it = object.find("name"); name_it != object.end()) {
            if (!name_it->is_string() || name_it->get<std::string>().empty())
                fail(path, "'name' must be a non-empty string, got " + name_it->dump());
            spec.name = name_it->get<std::string>();
            if (!names.insert(spec.name).second) fail(path, "duplicate layer name '" + spec.name + "'");
        }
        for (const auto& [key, value] : object.items()) {
            if (key == "type" || key == "name") continue;
            if (key == "branches") {
                if (spec.type != "parallel") fail(path, "key 'branches' is only for layers of type 'parallel'");
                continue;
            }
            if (std::find(keys->begin(), keys->end(), key) == keys->end()) {
                std::string known;
                for (const auto& k : *keys) known += (known.empty() ? "" : ", ") + k;
                fail(path, "unknown key '" + key + "' for a " + spec.type + " layer (known: " +
                               (known.empty() ? "none" : known) + ")");
            }
            spec.settings[key] = setting_text(path, key, value);
        }
        if (spec.type == "parallel") {
            auto branches = object.find("branches");
            if (branches == object.end() || !branches->is_array() || branches->empty())
                fail(path, "a parallel layer needs 'branches': a non-empty list of layer lists");
            for (std::size_t b = 0; b < branches->size(); ++b) {
                const json& branch = (*branches)[b];
                auto branch_path = path;
                branch_path.push_back(b);
                if (!branch.is_array() || branch.empty())
                    fail(branch_path, "a branch must be a non-empty list of layers, got " + branch.dump());
                std::vector<LayerSpec> layers;
                for (std::size_t i = 0; i < branch.size(); ++i) {
                    auto layer_path = branch_path;
                    layer_path.push_back(i);
                    layers.push_back(parse_layer(branch[i], layer_path));
                }
                spec.branches.push_back(std::move(layers));
            }
        }
        return spec;
    }

    // Keras-like default names, given after parsing so that explicit names anywhere in the
    // file are never taken by a generated one.
    void name_layers(std::vector<LayerSpec>& layers) {
        for (auto& spec : layers) {
            if (spec.name.empty()) {
                std::string candidate;
                do candidate = spec.type + "_" + std::to_string(++type_counts[spec.type]);
                while (names.count(candidate));
                names.insert(candidate);
                spec.name = candidate;
            }
            for (auto& branch : spec.branches) name_layers(branch);
        }
    }
};

std::size_t positive_dimension(const json& value, const std::string& source) {
    if (!value.is_number_integer() || value.get<long long>() <= 0)
        throw ConfigError(source + ": 'input' must list positive integers, got " + value.dump());
    return value.get<std::size_t>();
}

// A setting as JSON: numbers and booleans when the string is their canonical spelling (so
// that parsing gives the same string back), lists of integers as arrays, otherwise a string.
json setting_json(const std::string& text) {
    if (text == "true") return true;
    if (text == "false") return false;
    if (text.empty()) return text;
    const bool list = text.find(',') != std::string::npos;
    if (list) {
        json array = json::array();
        std::size_t start = 0;
        while (start <= text.size()) {
            std::size_t comma = text.find(',', start);
            if (comma == std::string::npos) comma = text.size();
            const std::string item = text.substr(start, comma - start);
            long long value = 0;
            auto [ptr, ec] = std::from_chars(item.data(), item.data() + item.size(), value);
            if (ec != std::errc() || ptr != item.data() + item.size() || json(value).dump() != item) return text;
            array.push_back(value);
            start = comma + 1;
        }
        return array;
    }
    json number = json::parse(text, nullptr, false);
    if (!number.is_discarded() && number.is_number() && number.dump() == text) return number;
    return text;
}

json layer_json(const LayerSpec& spec) {
    json object;
    object["type"] = spec.type;
    if (!spec.name.empty()) object["name"] = spec.name;
    for (const auto& [key, value] : spec.settings) object[key] = setting_json(value);
    if (!spec.branches.empty()) {
        json branches = json::array();
        for (const auto& branch : spec.branches) {
            json layers = json::array();
            for (const auto& layer : branch) layers.push_back(layer_json(layer));
            branches.push_back(layers);
        }
        object["branches"] = branches;
    }
    return object;
}

std::size_t bind_classes_in(std::vector<LayerSpec>& layers, const std::string& classes) {
    std::size_t replaced = 0;
    for (auto& spec : layers) {
        auto it = spec.settings.find("units");
        if (it != spec.settings.end() && it->second == "classes") {
            it->second = classes;
            ++replaced;
        }
        for (auto& branch : spec.branches) replaced += bind_classes_in(branch, classes);
    }
    return replaced;
}

}  // namespace

const std::vector<std::string>& architecture_setting_keys(const std::string& type) {
    static const std::map<std::string, std::vector<std::string>> keys = {
        {"conv", {"filters", "kernel", "stride", "dilation", "padding", "bias", "filter", "trainable", "in_channels"}},
        {"max_pool", {"window", "stride", "padding"}},
        {"avg_pool", {"window", "stride", "padding"}},
        {"global_max_pool", {}},
        {"global_avg_pool", {}},
        {"dense", {"units", "bias", "in_units"}},
        {"dropout", {"rate"}},
        {"flatten", {}},
        {"relu", {}},
        {"tanh", {}},
        {"sigmoid", {}},
        {"identity", {}},
        {"embedding", {"vocab", "dim", "mode", "trainable"}},
        {"ngram_bag", {"vocab", "dim", "ngrams", "buckets", "reduce", "binary", "trainable"}},
        {"parallel", {}},
    };
    auto it = keys.find(type);
    if (it == keys.end()) {
        std::string known;
        for (const auto& [name, unused] : keys) known += (known.empty() ? "" : ", ") + name;
        throw ConfigError("unknown layer type '" + type + "' (known: " + known + ")");
    }
    return it->second;
}

Initializer::Kind parse_initializer_kind(const std::string& name) {
    if (name == "glorot_uniform" || name == "glorot" || name == "keras") return Initializer::Kind::glorot_uniform;
    if (name == "he_uniform" || name == "he") return Initializer::Kind::he_uniform;
    if (name == "torch" || name == "torch_default") return Initializer::Kind::torch_default;
    if (name == "uniform") return Initializer::Kind::uniform;
    throw unknown_name("initializer", name, initializer_names());
}

const std::vector<std::string>& initializer_names() {
    static const std::vector<std::string> known = {"glorot_uniform", "he_uniform", "torch", "uniform"};
    return known;
}

std::string initializer_kind_name(Initializer::Kind kind) {
    switch (kind) {
        case Initializer::Kind::glorot_uniform: return "glorot_uniform";
        case Initializer::Kind::he_uniform: return "he_uniform";
        case Initializer::Kind::torch_default: return "torch";
        case Initializer::Kind::uniform: return "uniform";
    }
    return "unknown";
}

Architecture parse_architecture(std::string_view json_text, const std::string& source) {
    json root;
    if (json_nesting_depth(json_text) > max_json_nesting)
        throw ConfigError(source + ": nests deeper than " + std::to_string(max_json_nesting) + " levels");
    try {
        root = json::parse(json_text);
    } catch (const json::exception& e) {
        // nlohmann's message carries the line and column ("parse error at line 3, column 5: ...");
        // a number too large for a double ("1e309") is an out_of_range error, not a parse_error.
        std::string what = e.what();
        if (auto colon = what.find("parse error"); colon != std::string::npos) what = what.substr(colon);
        else if (auto id_end = what.find("] "); what.rfind("[json.exception.", 0) == 0 && id_end != std::string::npos)
            what = what.substr(id_end + 2);
        throw ConfigError(source + ": invalid JSON: " + what);
    }
    if (!root.is_object()) throw ConfigError(source + ": an architecture is a JSON object with a 'layers' list");
    Architecture arch;
    for (const auto& [key, value] : root.items()) {
        if (key == "name" || key == "description") {
            if (!value.is_string()) throw ConfigError(source + ": '" + key + "' must be a string, got " + value.dump());
            (key == "name" ? arch.name : arch.description) = value.get<std::string>();
        } else if (key == "init") {
            if (!value.is_string()) throw ConfigError(source + ": 'init' must be a string, got " + value.dump());
            try {
                arch.init = parse_initializer_kind(value.get<std::string>());
            } catch (const ConfigError& e) {
                throw ConfigError(source + ": " + e.what());
            }
        } else if (key == "input") {
            if (!value.is_array() || value.size() < 2 || value.size() > 3)
                throw ConfigError(source + ": 'input' must be [channels, height, width] or [channels, length], got " +
                                  value.dump());
            std::vector<std::size_t> dims{0};
            for (const auto& d : value) dims.push_back(positive_dimension(d, source));
            arch.input = Shape(dims);
        } else if (key != "layers") {
            throw ConfigError(source + ": unknown key '" + key + "' (known: name, description, input, init, layers)");
        }
    }
    auto layers = root.find("layers");
    if (layers == root.end()) throw ConfigError(source + ": missing key 'layers'");
    if (!layers->is_array() || layers->empty())
        throw ConfigError(source + ": 'layers' must be a non-empty list of layers");
    Parser parser{source, {}, {}};
    for (std::size_t i = 0; i < layers->size(); ++i) arch.layers.push_back(parser.parse_layer((*layers)[i], {i}));
    parser.name_layers(arch.layers);
    return arch;
}

Architecture read_architecture_file(const std::string& path) {
    require_regular_file(path, "architecture file");  // not a FIFO (blocks) or a device (never ends)
    // An architecture is a few kB of JSON; a file far larger is not one.
    constexpr std::uintmax_t max_bytes = std::uintmax_t{1} << 20;
    std::error_code ec;
    const std::uintmax_t size = std::filesystem::file_size(path, ec);
    if (!ec && size > max_bytes)
        throw InputError(path + ": " + std::to_string(size) + " bytes is too large for an architecture file (at most " +
                         std::to_string(max_bytes) + ")");
    std::ifstream in(path, std::ios::binary);
    if (!in) throw IoError(path + ": cannot open architecture file");
    std::stringstream text;
    text << in.rdbuf();
    Architecture arch = parse_architecture(text.str(), path);
    if (arch.name.empty()) arch.name = std::filesystem::path(path).stem().string();
    return arch;
}

std::string serialise_architecture(const Architecture& arch) {
    json root;
    if (!arch.name.empty()) root["name"] = arch.name;
    if (!arch.description.empty()) root["description"] = arch.description;
    if (arch.input) {
        json dims = json::array();
        for (std::size_t i = 1; i < arch.input->rank(); ++i) dims.push_back((*arch.input)[i]);
        root["input"] = dims;
    }
    if (arch.init) root["init"] = initializer_kind_name(*arch.init);
    json layers = json::array();
    for (const auto& spec : arch.layers) layers.push_back(layer_json(spec));
    root["layers"] = layers;
    return root.dump(2) + "\n";
}

std::vector<std::string> builtin_architecture_names() {
    std::vector<std::string> names;
    for (const auto& b : builtins()) names.push_back(b.name);
    return names;
}

std::string_view builtin_architecture_text(const std::string& name) {
    for (const auto& b : builtins())
        if (name == b.name) return b.text;
    std::string known;
    for (const auto& b : builtins()) known += (known.empty() ? "" : ", ") + std::string(b.name);
    throw ConfigError("unknown architecture '" + name + "' (built-in: " + known + "; or give a file)");
}

Architecture builtin_architecture(const std::string& name) {
    return parse_architecture(builtin_architecture_text(name), "built-in architecture " + name);
}

std::size_t bind_class_count(ModelSpec& layers, std::size_t classes) {
    return bind_classes_in(layers, std::to_string(classes));
}

}  // namespace textcnn
