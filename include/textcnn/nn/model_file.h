// The textcnn model file: one container every program reads and writes (trained models,
// checkpoints, the text program's vocabulary and labels all live in sections of it).
//
// Layout (all integers little-endian):
//   magic            8 bytes  "TEXTCNN\x1a"
//   format version   u32      model_file_format_version (1)
//   section count    u32
//   sections         tag (4 ASCII bytes), u32 section version, u64 payload length, payload
//   checksum         u64      XXH64 (seed 0) of every byte before it
//
// Writing is atomic: the bytes go to "<path>.tmp.<pid>.<n>", are fsync'ed, and the file is renamed
// over <path>, so a crash never leaves half a model. Reading takes the whole file (a regular
// file only, refused from its size alone above limits::max_model_file_bytes), checks the magic, the format version, every length against the bytes left (before
// allocating anything) and the checksum. Every error is an InputError (IoError for the
// operating system) whose message starts with the path.
//
// Sections known to this library (each with its own version, so one can evolve alone):
//   "ARCH" v1  the ModelSpec and sample shape as JSON: {"sample_shape": [...], "layers": [...]},
//              each layer {"type", "name", "settings": {key: string}, "branches": [[...]]};
//              the spec exactly as given to the Network (settings stay strings)
//   "WGHT" v1  the parameter block (u64 count + float32 values)
//   "OPTM" v1  optimizer name + state (checkpoints; see trainer.h)
//   "TRNR" v1  trainer state (checkpoints; see trainer.h)
//   "LABL" v1  the class names, index = the network's output unit (u64 count, then each as
//              u64 byte length + UTF-8 bytes); text and image models alike
//   "META" v1  free-form facts about the model, string -> string (training settings, data,
//              architecture name), stored as LABL stores strings: key, value, key, value ...
//   "QFLD" v1  a quantized text model's int8 folded tables (text/quantized_text_cnn.h); such
//              a file has no "WGHT" (text_classifier.h, TextClassifier::quantize); v2 the
//              compact form (int8 embeddings and float convolution weights), v3 the tables
//              with a 4-bit residual code per value
// The text and image paths add their own (tokenizer settings and vocabulary: "TOKN", "VOCB";
// the image input: "IMGM") with their own tags.
#pragma once

#include "textcnn/nn/network.h"

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

namespace textcnn {

inline constexpr char model_file_magic[8] = {'T', 'E', 'X', 'T', 'C', 'N', 'N', '\x1a'};
inline constexpr std::uint32_t model_file_format_version = 1;

struct ModelSection {
    std::string tag;  ///< exactly 4 characters
    std::uint32_t version = 1;
    std::vector<std::uint8_t> payload;
};

/// The sections of one model file, in file order. Tags are unique.
class ModelFile {
public:
    /// Adds a section, or replaces the one with the same tag. ConfigError unless the tag has
    /// exactly 4 printable ASCII characters.
    void set(std::string tag, std::uint32_t version, std::vector<std::uint8_t> payload);
    /// The section with this tag, or nullptr.
    const ModelSection* find(const std::string& tag) const;
    /// The section with this tag and a version this build reads (1..max_version); otherwise
    /// InputError "<source>: missing section 'VOCB'" or "<source>: section 'VOCB' version 3 is
    /// newer than this build supports (1)".
    const ModelSection& require(const std::string& tag, std::uint32_t max_version) const;
    /// Moves the payload of the section `tag` out (it is left empty), for readers that keep a
    /// large payload as it is; empty when there is no such section.
    std::vector<std::uint8_t> take_payload(const std::string& tag);
    const std::vector<ModelSection>& sections() const { return sections_; }

    /// Where the sections came from (the path when read; for error messages).
    std::string source = "model";

private:
    std::vector<ModelSection> sections_;
};

/// The file's bytes: header, sections, checksum.
std::vector<std::uint8_t> encode_model_file(const ModelFile& file);
/// Parses bytes read from `source` (its name starts every error message).
ModelFile decode_model_file(std::span<const std::uint8_t> bytes, const std::string& source);

/// Writes atomically (temporary file, fsync, rename). IoError on failure, naming the path.
void write_model_file(const std::string& path, const ModelFile& file);
/// Reads and checks a whole file. IoError when it cannot be read, InputError when it is not a
/// valid model file.
ModelFile read_model_file(const std::string& path);

// --- Networks -------------------------------------------------------------------------------

/// The architecture a file describes ("ARCH"), without weights.
struct StoredArchitecture {
    ModelSpec spec;
    Shape sample_shape;
    std::size_t parameters = 0;  ///< Network::parameter_count of spec and sample_shape
};
/// Stores just the architecture ("ARCH"): files whose weights are kept in another form
/// (a quantized text model, text_classifier.h).
void add_architecture_section(ModelFile& file, const ModelSpec& spec, const Shape& sample_shape);
/// Parses "ARCH" and checks that a network can be built from it (without building one).
/// InputError naming file.source otherwise.
StoredArchitecture architecture_from_sections(const ModelFile& file);

/// Stores the architecture ("ARCH") and the parameter block ("WGHT") of `net`.
void add_network_sections(ModelFile& file, const Network& net);
/// Rebuilds the network from "ARCH" and loads "WGHT"; InputError when the weights section
/// holds a different number of parameters than the architecture needs, or the architecture
/// cannot be built (the message names file.source).
Network network_from_sections(const ModelFile& file);

// --- Labels and metadata (shared by text and image models) -----------------------------------

/// Stores the class names as section "LABL".
void set_labels(ModelFile& file, const std::vector<std::string>& labels);
/// The class names of section "LABL"; InputError naming file.source when it is missing or damaged.
std::vector<std::string> labels_of(const ModelFile& file);
/// InputError ("<where>: label 3 is label 1 again") for an empty or repeated label or one that
/// is not UTF-8: the checks labels_of() makes, for labels a model file keeps elsewhere (an old
/// image model's metadata). A control character is not refused: models trained before
/// training refused one keep loading.
void check_stored_labels(const std::vector<std::string>& labels, const std::string& where);
/// The labels of a model being made (not loaded): check_stored_labels(), but ConfigError, and a
/// label holding a control character (find_control_character(), text/utf8.h: a line end, a
/// tab, an escape) refused as training refuses it ("<where>: label 2 holds U+000A (line feed)
/// at byte 3: ...").
void check_new_labels(const std::vector<std::string>& labels, const std::string& where);
/// Stores `metadata` as section "META".
void set_metadata(ModelFile& file, const std::map<std::string, std::string>& metadata);
/// Section "META", or an empty map when the file has none; InputError when it is damaged.
std::map<std::string, std::string> metadata_of(const ModelFile& file);
/// The same codec for a program's own section of strings or of string pairs (what "TOKN" holds).
std::vector<std::uint8_t> encode_strings(const std::vector<std::string>& strings);
std::vector<std::string> decode_strings(const ModelSection& section, const std::string& source);
std::vector<std::uint8_t> encode_string_map(const std::map<std::string, std::string>& map);
std::map<std::string, std::string> decode_string_map(const ModelSection& section, const std::string& source);

/// A file with just the network (ARCH + WGHT).
void write_network(const std::string& path, const Network& net);
Network read_network(const std::string& path);

}  // namespace textcnn
