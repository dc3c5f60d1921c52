#include "textcnn/nn/model_file.h"

#include "core/huge_pages.h"
#include "nn/held_section.h"
#include "textcnn/core/bytes.h"
#include "textcnn/core/checked.h"
#include "textcnn/core/error.h"
#include "textcnn/core/files.h"
#include "textcnn/nn/limits.h"
#include "textcnn/text/utf8.h"

#include <nlohmann/json.hpp>
#include <xxhash.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <utility>

#include <fcntl.h>
#include <unistd.h>

namespace textcnn {

namespace {

constexpr std::uint32_t arch_version = 1;
constexpr std::uint32_t weights_version = 1;
// Per section: tag, version, length.
constexpr std::size_t section_header_bytes = 4 + 4 + 8;
constexpr std::size_t checksum_bytes = 8;

bool valid_tag(const std::string& tag) {
    return tag.size() == 4 && std::all_of(tag.begin(), tag.end(), [](char c) { return c >= 0x21 && c <= 0x7e; });
}

}  // namespace

void ModelFile::set(std::string tag, std::uint32_t version, std::vector<std::uint8_t> payload) {
    if (!valid_tag(tag)) throw ConfigError("model file: section tag '" + tag + "' must be 4 printable ASCII characters");
    for (auto& s : sections_)
        if (s.tag == tag) {
            s.version = version;
            s.payload = std::move(payload);
            return;
        }
    sections_.push_back({std::move(tag), version, std::move(payload)});
}

const ModelSection* ModelFile::find(const std::string& tag) const {
    for (const auto& s : sections_)
        if (s.tag == tag) return &s;
    return nullptr;
}

std::vector<std::uint8_t> ModelFile::take_payload(const std::string& tag) {
    for (auto& s : sections_)
        if (s.tag == tag) return std::exchange(s.payload, {});
    return {};
}

const ModelSection& ModelFile::require(const std::string& tag, std::uint32_t max_version) const {
    const ModelSection* s = find(tag);
    if (!s) throw InputError(source + ": missing section '" + tag + "'");
    if (s->version == 0 || s->version > max_version)
        throw InputError(source + ": section '" + tag + "' version " + std::to_string(s->version) +
                         (s->version == 0 ? " is not valid" : " is newer than this build supports (" +
                                                                  std::to_string(max_version) + ")"));
    return *s;
}

std::vector<std::uint8_t> encode_model_file(const ModelFile& file) {
    std::size_t total = sizeof model_file_magic + 4 + 4 + checksum_bytes;
    for (const auto& s : file.sections()) total += section_header_bytes + s.payload.size();
    std::vector<std::uint8_t> out(model_file_magic, model_file_magic + sizeof model_file_magic);
    out.reserve(total);
    ByteWriter w(out);
    w.put<std::uint32_t>(model_file_format_version);
    w.put<std::uint32_t>(static_cast<std::uint32_t>(file.sections().size()));
    for (const auto& s : file.sections()) {
        w.put_bytes({reinterpret_cast<const std::uint8_t*>(s.tag.data()), 4});
        w.put<std::uint32_t>(s.version);
        w.put<std::uint64_t>(s.payload.size());
        w.put_bytes(s.payload);
    }
    w.put<std::uint64_t>(XXH64(out.data(), out.size(), 0));
    return out;
}

namespace {

// The file of checksummed sections: InputError for an invalid or repeated tag.
ModelFile file_of(std::vector<ModelSection> sections, const std::string& source) {
    ModelFile file;
    file.source = source;
    for (auto& s : sections) {
        if (!valid_tag(s.tag)) throw InputError(source + ": invalid section tag");
        if (file.find(s.tag)) throw InputError(source + ": section '" + s.tag + "' appears twice");
        file.set(std::move(s.tag), s.version, std::move(s.payload));
    }
    return file;
}

// Reads exactly `n` bytes from `fd` into `out`; false at a short read or an error.
bool read_exactly(int fd, std::uint8_t* out, std::size_t n) {
    while (n > 0) {
        const ssize_t got = ::read(fd, out, n);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) return false;
        out += got;
        n -= static_cast<std::size_t>(got);
    }
    return true;
}

template <class T>
T little_endian(const std::uint8_t* bytes) {
    T v = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i) v |= static_cast<T>(T{bytes[i]} << (8 * i));
    return v;
}

// A file read section by section, each payload straight into its own buffer and checksummed
// as it comes: no copy of the whole file beside the sections (a 17 MB quantized table was
// held twice and copied once). std::nullopt at anything that does not check out: the caller
// then reads and decodes the whole file for decode_model_file's precise message.
// `held_tag`: that section's payload goes to `held` (2 MiB-aligned huge pages, no zero-fill;
// core/huge_pages.h) and its ModelSection stays, with an empty payload.
std::optional<ModelFile> read_sections_in_place(const std::string& path, const char* held_tag = nullptr,
                                                detail::UnfilledBytes* held = nullptr) {
    std::uint64_t size = 0;
    const int fd = open_regular_file(path, "model file", size);
    const std::unique_ptr<int, void (*)(int*)> closer(new int(fd), [](int* f) { ::close(*f); delete f; });
    const std::unique_ptr<XXH64_state_t, XXH_errorcode (*)(XXH64_state_t*)> hash(XXH64_createState(), XXH64_freeState);
    if (size > limits::max_model_file_bytes || !hash || XXH64_reset(hash.get(), 0) != XXH_OK) return std::nullopt;
    std::uint64_t left = size;
    const auto take = [&](std::uint8_t* out, std::size_t n) {
        if (n > left || !read_exactly(fd, out, n)) return false;
        left -= n;
        return XXH64_update(hash.get(), out, n) == XXH_OK;
    };
    std::uint8_t header[sizeof model_file_magic + 8];
    if (!take(header, sizeof header) || std::memcmp(header, model_file_magic, sizeof model_file_magic) != 0)
        return std::nullopt;
    const auto version = little_endian<std::uint32_t>(header + sizeof model_file_magic);
    const auto count = little_endian<std::uint32_t>(header + sizeof model_file_magic + 4);
    if (version == 0 || version > model_file_format_version || count > left / section_header_bytes) return std::nullopt;
    std::vector<ModelSection> sections;
    for (std::uint32_t i = 0; i < count; ++i) {
        std::uint8_t h[section_header_bytes];
        if (!take(h, sizeof h)) return std::nullopt;
        const auto length = little_endian<std::uint64_t>(h + 8);
        if (left < checksum_bytes || length > left - checksum_bytes) return std::nullopt;
        ModelSection s{std::string(reinterpret_cast<const char*>(h), 4), little_endian<std::uint32_t>(h + 4), {}};
        if (held_tag != nullptr && s.tag == held_tag) {
            *held = detail::UnfilledBytes(static_cast<std::size_t>(length));
            if (!take(held->data(), held->size())) return std::nullopt;
        } else {
            detail::assign_with_huge_pages(s.payload, static_cast<std::size_t>(length));
            if (!take(s.payload.data(), s.payload.size())) return std::nullopt;
        }
        sections.push_back(std::move(s));
    }
    const std::uint64_t body = XXH64_digest(hash.get());
    std::uint8_t stored[checksum_bytes];
    if (left != checksum_bytes || !read_exactly(fd, stored, checksum_bytes) ||
        little_endian<std::uint64_t>(stored) != body)
        return std::nullopt;
    return file_of(std::move(sections), path);
}

}  // namespace

ModelFile decode_model_file(std::span<const std::uint8_t> bytes, const std::string& source) {
    if (bytes.size() < sizeof model_file_magic ||
        std::memcmp(bytes.data(), model_file_magic, sizeof model_file_magic) != 0)
        throw InputError(source + ": not a textcnn model file (it does not start with \"TEXTCNN\\x1a\")");
    ByteReader r(bytes, source);
    r.get_bytes(sizeof model_file_magic, "magic");
    const auto version = r.get<std::uint32_t>("format version");
    if (version == 0) throw InputError(source + ": format version 0 is not valid");
    if (version > model_file_format_version)
        throw InputError(source + ": format version " + std::to_string(version) +
                         " is newer than this build supports (" + std::to_string(model_file_format_version) + ")");
    const auto count = r.get<std::uint32_t>("section count");
    if (count > r.remaining() / section_header_bytes)
        r.error("section count " + std::to_string(count) + " cannot fit in the " + std::to_string(r.remaining()) +
                " bytes left (truncated or corrupt file)");
    std::vector<ModelSection> sections;
    for (std::uint32_t i = 0; i < count; ++i) {
        const auto tag_bytes = r.get_bytes(4, "section tag");
        std::string tag(reinterpret_cast<const char*>(tag_bytes.data()), 4);
        const auto section_version = r.get<std::uint32_t>("section version");
        const auto length = r.get<std::uint64_t>("section length");
        const std::size_t available = r.remaining() > checksum_bytes ? r.remaining() - checksum_bytes : 0;
        if (length > available)
            r.error("section " + std::to_string(i) + " length " + std::to_string(length) + " exceeds the " +
                    std::to_string(available) + " bytes left before the checksum (truncated or corrupt file)");
        const auto payload = r.get_bytes(length, "section payload");
        sections.push_back({std::move(tag), section_version, {payload.begin(), payload.end()}});
    }
    if (r.remaining() < checksum_bytes)
        r.error("the checksum is missing or cut short (truncated file)");
    if (r.remaining() > checksum_bytes)
        r.error(std::to_string(r.remaining() - checksum_bytes) + " unexpected bytes after the last section");
    const std::size_t body = r.offset();
    const auto stored = r.get<std::uint64_t>("checksum");
    if (stored != XXH64(bytes.data(), body, 0)) throw InputError(source + ": checksum mismatch: the file is corrupt");
    // Only now, with the bytes known to be intact, interpret them.
    return file_of(std::move(sections), source);
}

void write_model_file(const std::string& path, const ModelFile& file) {
    write_file_atomically(path, encode_model_file(file));
}

ModelFile read_model_file(const std::string& path) {
    if (auto file = read_sections_in_place(path)) return std::move(*file);
    return decode_model_file(read_regular_file(path, "model file", limits::max_model_file_bytes), path);
}

ModelFile detail::read_model_file_holding(const std::string& path, const char* tag, UnfilledBytes& held) {
    held.clear();
    if (auto file = read_sections_in_place(path, tag, &held)) return std::move(*file);
    // Only a file that does not check out comes here (decode_model_file then says why), or one
    // rewritten between the two reads.
    ModelFile file = decode_model_file(read_regular_file(path, "model file", limits::max_model_file_bytes), path);
    const std::vector<std::uint8_t> payload = file.take_payload(tag);
    held.assign(payload.begin(), payload.end());
    return file;
}

// --- Architecture as JSON ---------------------------------------------------------------------

namespace {

nlohmann::ordered_json layer_json(const LayerSpec& spec) {
    nlohmann::ordered_json j;
    j["type"] = spec.type;
    if (!spec.name.empty()) j["name"] = spec.name;
    j["settings"] = nlohmann::ordered_json::object();
    for (const auto& [k, v] : spec.settings) j["settings"][k] = v;
    if (!spec.branches.empty()) {
        j["branches"] = nlohmann::ordered_json::array();
        for (const auto& branch : spec.branches) {
            nlohmann::ordered_json b = nlohmann::ordered_json::array();
            for (const auto& s : branch) b.push_back(layer_json(s));
            j["branches"].push_back(std::move(b));
        }
    }
    return j;
}

// The stored architecture is read with explicit checks, so that a damaged one is described in
// plain words ("layers[1].branches[0][2]: missing key 'type'"), not by nlohmann's exception ids.
std::string json_kind(const nlohmann::json& j) {
    if (j.is_object()) return "an object";
    if (j.is_array()) return "a list";
    if (j.is_string()) return "a string";
    if (j.is_boolean()) return "a boolean";
    if (j.is_null()) return "null";
    return "a number";
}

const nlohmann::json& member(const nlohmann::json& object, const char* key, const std::string& where) {
    const auto it = object.find(key);
    if (it == object.end()) throw InputError(where + ": missing key '" + key + "'");
    return *it;
}

std::string string_value(const nlohmann::json& j, const std::string& where) {
    if (!j.is_string()) throw InputError(where + " must be a string, got " + json_kind(j));
    return j.get<std::string>();
}

LayerSpec layer_from_json(const nlohmann::json& j, const std::string& where) {
    if (!j.is_object()) throw InputError(where + " must be an object, got " + json_kind(j));
    LayerSpec spec;
    spec.type = string_value(member(j, "type", where), where + ".type");
    if (j.contains("name")) spec.name = string_value(j["name"], where + ".name");
    if (j.contains("settings")) {
        const auto& settings = j["settings"];
        if (!settings.is_object()) throw InputError(where + ".settings must be an object, got " + json_kind(settings));
        for (const auto& [k, v] : settings.items()) spec.settings[k] = string_value(v, where + ".settings." + k);
    }
    if (j.contains("branches")) {
        const auto& branches = j["branches"];
        if (!branches.is_array()) throw InputError(where + ".branches must be a list, got " + json_kind(branches));
        for (std::size_t b = 0; b < branches.size(); ++b) {
            const std::string branch_where = where + ".branches[" + std::to_string(b) + "]";
            if (!branches[b].is_array())
                throw InputError(branch_where + " must be a list of layers, got " + json_kind(branches[b]));
            std::vector<LayerSpec> layers;
            for (std::size_t i = 0; i < branches[b].size(); ++i)
                layers.push_back(layer_from_json(branches[b][i], branch_where + "[" + std::to_string(i) + "]"));
            spec.branches.push_back(std::move(layers));
        }
    }
    return spec;
}

std::string architecture_json(const ModelSpec& spec, const Shape& sample_shape) {
    nlohmann::ordered_json j;
    j["sample_shape"] = sample_shape.dims();
    j["layers"] = nlohmann::ordered_json::array();
    for (const auto& layer : spec) j["layers"].push_back(layer_json(layer));
    return j.dump();
}

StoredArchitecture parse_architecture_json(const std::string& text, const std::string& source) {
    check_json_nesting(text, source + ": the architecture");
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
        throw InputError(source + ": the architecture is not valid JSON (" + e.what() + ")");
    }
    if (!j.is_object()) throw InputError(source + ": the architecture must be a JSON object, got " + json_kind(j));
    try {
        StoredArchitecture arch;
        const auto& shape = member(j, "sample_shape", source);
        if (!shape.is_array()) throw InputError(source + ": sample_shape must be a list, got " + json_kind(shape));
        std::vector<std::size_t> dims;
        for (std::size_t i = 0; i < shape.size(); ++i) {
            if (!shape[i].is_number_unsigned())
                throw InputError(source + ": sample_shape[" + std::to_string(i) + "] must be a non-negative integer, got " +
                                 shape[i].dump());
            dims.push_back(shape[i].get<std::size_t>());
        }
        arch.sample_shape = Shape(std::move(dims));
        const auto& layers = member(j, "layers", source);
        if (!layers.is_array()) throw InputError(source + ": layers must be a list, got " + json_kind(layers));
        for (std::size_t i = 0; i < layers.size(); ++i)
            arch.spec.push_back(layer_from_json(layers[i], source + ": layers[" + std::to_string(i) + "]"));
        return arch;
    } catch (const ShapeError& e) {
        throw InputError(source + ": invalid architecture: " + e.what());
    }
}

}  // namespace

// --- Networks -------------------------------------------------------------------------------

void add_architecture_section(ModelFile& file, const ModelSpec& spec, const Shape& sample_shape) {
    const std::string json = architecture_json(spec, sample_shape);
    file.set("ARCH", arch_version, {json.begin(), json.end()});
}

StoredArchitecture architecture_from_sections(const ModelFile& file) {
    const ModelSection& arch_section = file.require("ARCH", arch_version);
    const std::string text(arch_section.payload.begin(), arch_section.payload.end());
    StoredArchitecture arch = parse_architecture_json(text, file.source + " section 'ARCH'");
    try {
        arch.parameters = Network::parameter_count(arch.spec, arch.sample_shape);
    } catch (const Error& e) {
        throw InputError(file.source + ": the stored architecture cannot be built: " + e.what());
    }
    return arch;
}

void add_network_sections(ModelFile& file, const Network& net) {
    // A diverged network is never written: its predictions would be NaN or constant.
    if (const auto bad = unusable_parameter(net))
        throw Error("refusing to save a network whose weights diverged: " + *bad);
    add_architecture_section(file, net.spec(), net.sample_shape());
    std::vector<std::uint8_t> weights;
    ByteWriter w(weights);
    w.put_floats(net.parameters());
    file.set("WGHT", weights_version, std::move(weights));
}

Network network_from_sections(const ModelFile& file) {
    // The architecture's sizes are checked and its parameter count compared with the values
    // the file holds before the network allocates anything: a forged dimension cannot make
    // the parameter block (and the gradients, and the folded tables) gigabytes large.
    StoredArchitecture arch = architecture_from_sections(file);
    const std::size_t needed = arch.parameters;
    const ModelSection& weights = file.require("WGHT", weights_version);
    ByteReader r(weights.payload, file.source + " section 'WGHT'");
    const auto stored = r.get<std::uint64_t>("parameter count");
    if (stored != needed)
        throw InputError(file.source + ": the weights section holds " + std::to_string(stored) +
                         " parameters, the architecture needs " + std::to_string(needed));
    if (stored > r.remaining() / sizeof(float) || r.remaining() != stored * sizeof(float))
        r.error("the weights section holds " + std::to_string(r.remaining()) + " bytes of values for " +
                std::to_string(stored) + " parameters (" + std::to_string(stored) + " x 4 bytes expected)");
    std::optional<Network> net;
    try {
        net.emplace(std::move(arch.spec), std::move(arch.sample_shape));
    } catch (const Error& e) {
        throw InputError(file.source + ": the stored architecture cannot be built: " + e.what());
    }
    ByteReader values(weights.payload, file.source + " section 'WGHT'");
    const std::vector<float> parameters = values.get_floats("parameter values");
    std::copy(parameters.begin(), parameters.end(), net->parameters().begin());
    if (const auto bad = unusable_parameter(*net))
        throw InputError(file.source + ": the model's weights are unusable (" + *bad +
                         "): it was saved from a training run that diverged, or the file was altered");
    return std::move(*net);
}

std::vector<std::uint8_t> encode_strings(const std::vector<std::string>& strings) {
    std::vector<std::uint8_t> bytes;
    ByteWriter w(bytes);
    w.put<std::uint64_t>(strings.size());
    for (const auto& s : strings) w.put_string(s);
    return bytes;
}

std::vector<std::string> decode_strings(const ModelSection& section, const std::string& source) {
    ByteReader r(section.payload, source + " section '" + section.tag + "'");
    const auto n = r.get_count(8, "string count");
    std::vector<std::string> strings;
    strings.reserve(n);
    for (std::uint64_t i = 0; i < n; ++i) strings.push_back(r.get_string("string"));
    if (!r.at_end()) r.error("unexpected bytes after the last string");
    return strings;
}

std::vector<std::uint8_t> encode_string_map(const std::map<std::string, std::string>& map) {
    std::vector<std::string> flat;
    for (const auto& [k, v] : map) {
        flat.push_back(k);
        flat.push_back(v);
    }
    return encode_strings(flat);
}

std::map<std::string, std::string> decode_string_map(const ModelSection& section, const std::string& source) {
    const auto flat = decode_strings(section, source);
    if (flat.size() % 2 != 0)
        throw InputError(source + ": section '" + section.tag + "' holds an odd number of strings");
    std::map<std::string, std::string> map;
    for (std::size_t i = 0; i < flat.size(); i += 2) map[flat[i]] = flat[i + 1];
    return map;
}

void set_labels(ModelFile& file, const std::vector<std::string>& labels) { file.set("LABL", 1, encode_strings(labels)); }

void check_new_labels(const std::vector<std::string>& labels, const std::string& where) {
    try {
        check_stored_labels(labels, where);
    } catch (const InputError& e) {
        throw ConfigError(e.what());
    }
    for (std::size_t i = 0; i < labels.size(); ++i)
        if (const auto control = find_control_character(labels[i]))
            throw ConfigError(where + ": label " + std::to_string(i + 1) + " holds " +
                              describe_code_point(control->code_point) + " at byte " + std::to_string(control->offset + 1) +
                              ": a label is one line of text without control characters");
}

void check_stored_labels(const std::vector<std::string>& labels, const std::string& where) {
    // A label given twice made one of two probabilities disappear from JSON output and the shown
    // one the loser's; an empty one cannot be told from "no label" in predict's output.
    // Control characters are not refused here: models trained before training refused them
    // keep loading (predict's tsv escapes them); the constructors of new models refuse them.
    std::map<std::string_view, std::size_t> seen;
    for (std::size_t i = 0; i < labels.size(); ++i) {
        const std::string which = where + ": label " + std::to_string(i + 1);
        if (labels[i].empty()) throw InputError(which + " is empty");
        if (const auto bad = find_invalid_utf8(labels[i]))
            throw InputError(which + " is not valid UTF-8 (byte " + std::to_string(*bad + 1) + ")");
        if (const auto [it, fresh] = seen.emplace(labels[i], i + 1); !fresh)
            throw InputError(which + " is label " + std::to_string(it->second) + " again");
    }
}

std::vector<std::string> labels_of(const ModelFile& file) {
    std::vector<std::string> labels = decode_strings(file.require("LABL", 1), file.source);
    check_stored_labels(labels, file.source + " section 'LABL'");
    return labels;
}

void set_metadata(ModelFile& file, const std::map<std::string, std::string>& metadata) {
    file.set("META", 1, encode_string_map(metadata));
}

std::map<std::string, std::string> metadata_of(const ModelFile& file) {
    if (!file.find("META")) return {};
    return decode_string_map(file.require("META", 1), file.source);
}

void write_network(const std::string& path, const Network& net) {
    ModelFile file;
    add_network_sections(file, net);
    write_model_file(path, file);
}

Network read_network(const std::string& path) { return network_from_sections(read_model_file(path)); }

}  // namespace textcnn
