#include "textcnn/nn/layer_spec.h"

#include "textcnn/core/error.h"
#include "textcnn/nn/limits.h"

#include <charconv>
#include <cstdlib>

namespace textcnn {

std::string LayerSpec::label() const { return name.empty() ? type : type + " '" + name + "'"; }

std::string LayerSpec::get_string(const std::string& key, const std::string& fallback) const {
    auto it = settings.find(key);
    return it == settings.end() ? fallback : it->second;
}

std::string LayerSpec::require_string(const std::string& key) const {
    auto it = settings.find(key);
    if (it == settings.end()) throw ConfigError(label() + ": missing setting '" + key + "'");
    return it->second;
}

namespace {
long parse_long(const LayerSpec& spec, const std::string& key, const std::string& text) {
    long value = 0;
    const char* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (ec != std::errc() || ptr != end)
        throw ConfigError(spec.label() + ": setting '" + key + "' must be an integer, got '" + text + "'");
    // Every integer setting is a size; bounding them here keeps the products of sizes within
    // reach of the checked arithmetic and of memory (limits.h).
    const long bound = static_cast<long>(limits::max_setting);
    if (value > bound || value < -bound)
        throw ConfigError(spec.label() + ": setting '" + key + "' is " + text + (value > 0 ? ", above" : ", below") +
                          " the limit of " + (value > 0 ? "" : "-") + std::to_string(bound));
    return value;
}
}  // namespace

long LayerSpec::get_int(const std::string& key, long fallback) const {
    auto it = settings.find(key);
    return it == settings.end() ? fallback : parse_long(*this, key, it->second);
}

long LayerSpec::require_int(const std::string& key) const { return parse_long(*this, key, require_string(key)); }

double LayerSpec::get_double(const std::string& key, double fallback) const {
    auto it = settings.find(key);
    if (it == settings.end()) return fallback;
    const std::string& text = it->second;
    char* end = nullptr;
    double value = std::strtod(text.c_str(), &end);
    if (text.empty() || end != text.c_str() + text.size())
        throw ConfigError(label() + ": setting '" + key + "' must be a number, got '" + text + "'");
    return value;
}

std::vector<long> LayerSpec::get_ints(const std::string& key, const std::vector<long>& fallback) const {
    auto it = settings.find(key);
    if (it == settings.end()) return fallback;
    std::vector<long> values;
    const std::string& text = it->second;
    std::size_t start = 0;
    while (start <= text.size()) {
        std::size_t comma = text.find_first_of(",x", start);
        if (comma == std::string::npos) comma = text.size();
        values.push_back(parse_long(*this, key, text.substr(start, comma - start)));
        start = comma + 1;
    }
    return values;
}

bool LayerSpec::get_bool(const std::string& key, bool fallback) const {
    if (!has(key)) return fallback;
    const std::string text = require_string(key);
    if (text == "true" || text == "1") return true;
    if (text == "false" || text == "0") return false;
    throw ConfigError(label() + ": setting '" + key + "' must be true or false, got '" + text + "'");
}

std::vector<std::size_t> LayerSpec::axis_sizes(const std::string& key, std::vector<long> values, std::size_t rank) const {
    if (values.size() == 1 && rank == 2) values.push_back(values[0]);
    if (values.size() != rank)
        throw ConfigError(label() + ": setting '" + key + "' needs " + std::to_string(rank) + " value(s), got '" +
                          get_string(key, "") + "'");
    std::vector<std::size_t> out;
    for (long v : values) {
        if (v < 1)
            throw ConfigError(label() + ": setting '" + key + "' must be at least 1, got '" + get_string(key, "") + "'");
        out.push_back(static_cast<std::size_t>(v));
    }
    return out;
}

}  // namespace textcnn
