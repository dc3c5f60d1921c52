// libFuzzer target: the model file (nn/model_file.h) and everything that reads its sections:
// the text classifier (vocabulary, labels, tokenizer settings, network), the image model, the
// bare network and a checkpoint's trainer state. A loaded model is also asked for a summary
// and a prediction.
//
// Structure-aware mutation (LLVMFuzzerCustomMutator below): an input is split into its
// sections, one section is mutated - its bytes, a number in the architecture's JSON, an
// integer field at an aligned offset, the weights' parameter count - or sections are dropped,
// duplicated, swapped or given another version, and the file is joined again with its XXH64
// checksum recomputed, so that mutations reach the section parsers instead of stopping at
// "checksum mismatch". One mutation in 32 is a plain byte mutation of the whole file without
// a new checksum, which keeps the container's own checks fuzzed.
#include "fuzz_input.h"

#include "image/image_model.h"
#include "textcnn/nn/model_file.h"
#include "textcnn/nn/trainer.h"
#include "textcnn/text/text_classifier.h"

#include <xxhash.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <optional>
#include <random>
#include <string>
#include <vector>

extern "C" std::size_t LLVMFuzzerMutate(std::uint8_t* data, std::size_t size, std::size_t max_size);

namespace {

using Bytes = std::vector<std::uint8_t>;

struct RawSection {
    std::array<std::uint8_t, 4> tag{};
    std::uint32_t version = 0;
    Bytes payload;
};

struct RawFile {
    std::uint32_t format_version = 0;
    std::vector<RawSection> sections;
};

template <typename T>
T get_le(const std::uint8_t* p) {
    T value = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i) value |= static_cast<T>(p[i]) << (8 * i);
    return value;
}

template <typename T>
void put_le(Bytes& out, T value) {
    for (std::size_t i = 0; i < sizeof(T); ++i) out.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
}

// Splits a model file leniently (no checksum check; a length running past the end is cut),
// so that damaged inputs can still be mutated section by section. Nullopt without the header.
std::optional<RawFile> split(const std::uint8_t* data, std::size_t size) {
    constexpr std::size_t header = sizeof textcnn::model_file_magic + 8;
    if (size < header || std::memcmp(data, textcnn::model_file_magic, sizeof textcnn::model_file_magic) != 0)
        return std::nullopt;
    RawFile file;
    file.format_version = get_le<std::uint32_t>(data + 8);
    const std::uint32_t count = get_le<std::uint32_t>(data + 12);
    std::size_t pos = header;
    for (std::uint32_t i = 0; i < count && pos + 16 <= size; ++i) {
        RawSection s;
        std::copy(data + pos, data + pos + 4, s.tag.begin());
        s.version = get_le<std::uint32_t>(data + pos + 4);
        const std::uint64_t length = std::min<std::uint64_t>(get_le<std::uint64_t>(data + pos + 8), size - pos - 16);
        pos += 16;
        s.payload.assign(data + pos, data + pos + length);
        pos += length;
        file.sections.push_back(std::move(s));
    }
    return file;
}

// The file's bytes with a correct checksum (tags and versions as they are, valid or not).
Bytes join(const RawFile& file) {
    Bytes out(textcnn::model_file_magic, textcnn::model_file_magic + sizeof textcnn::model_file_magic);
    put_le<std::uint32_t>(out, file.format_version);
    put_le<std::uint32_t>(out, static_cast<std::uint32_t>(file.sections.size()));
    for (const auto& s : file.sections) {
        out.insert(out.end(), s.tag.begin(), s.tag.end());
        put_le<std::uint32_t>(out, s.version);
        put_le<std::uint64_t>(out, s.payload.size());
        out.insert(out.end(), s.payload.begin(), s.payload.end());
    }
    put_le<std::uint64_t>(out, XXH64(out.data(), out.size(), 0));
    return out;
}

// Sizes where limits, overflows and off-by-ones live (limits.h: 2^24 settings, 4096 receptive
// extent, 2^28 sample elements, 2^30 parameters; the F1 overflow value).
std::uint64_t interesting_number(std::mt19937_64& rng, std::uint64_t current) {
    static const std::array<std::uint64_t, 26> values = {
        0, 1, 2, 3, 4, 7, 8, 16, 255, 256, 4095, 4096, 4097, 65535, 65536, (1ULL << 24) - 1, 1ULL << 24,
        (1ULL << 24) + 1, 1ULL << 28, 1ULL << 30, (1ULL << 31) + 1, (1ULL << 32) - 1, 1ULL << 32, 1ULL << 63,
        ~0ULL, 9114861777597660799ULL};
    switch (rng() % 5) {
        case 0: return current + 1;
        case 1: return current - 1;
        case 2: return current * 2;
        case 3: return rng();
        default: return values[rng() % values.size()];
    }
}

// Replaces one run of digits in JSON text (a setting such as "dim": "300", a sample_shape
// entry) by another number, sometimes negative.
bool mutate_json_number(Bytes& text, std::mt19937_64& rng) {
    std::vector<std::pair<std::size_t, std::size_t>> runs;
    for (std::size_t i = 0; i < text.size();) {
        if (text[i] >= '0' && text[i] <= '9') {
            std::size_t j = i;
            while (j < text.size() && text[j] >= '0' && text[j] <= '9') ++j;
            runs.emplace_back(i, j);
            i = j;
        } else {
            ++i;
        }
    }
    if (runs.empty()) return false;
    const auto [begin, end] = runs[rng() % runs.size()];
    const std::string old(text.begin() + begin, text.begin() + end);
    const std::uint64_t current = old.size() <= 19 ? std::stoull(old) : 0;
    std::string number = std::to_string(interesting_number(rng, current));
    if (rng() % 16 == 0) number = "-" + number;
    text.erase(text.begin() + begin, text.begin() + end);
    text.insert(text.begin() + begin, number.begin(), number.end());
    return true;
}

// Writes an interesting u32 or u64 at an aligned offset of a binary payload (counts, lengths,
// versions of the vocabulary, labels, optimizer and trainer sections).
bool mutate_integer_field(Bytes& payload, std::mt19937_64& rng) {
    const std::size_t width = rng() % 2 ? 8 : 4;
    if (payload.size() < width) return false;
    const std::size_t offset = (rng() % (payload.size() - width + 1)) & ~std::size_t{3};
    const std::uint64_t current = width == 8 ? get_le<std::uint64_t>(payload.data() + offset)
                                             : get_le<std::uint32_t>(payload.data() + offset);
    const std::uint64_t value = interesting_number(rng, current);
    for (std::size_t i = 0; i < width; ++i) payload[offset + i] = static_cast<std::uint8_t>(value >> (8 * i));
    return true;
}

bool mutate_bytes(Bytes& payload, std::size_t max_size) {
    const std::size_t size = payload.size();
    payload.resize(std::max<std::size_t>({size, max_size, 1}));
    payload.resize(LLVMFuzzerMutate(payload.data(), size, payload.size()));
    return true;
}

bool mutate_structure(RawFile& file, std::mt19937_64& rng) {
    auto& sections = file.sections;
    switch (rng() % 5) {
        case 0:
            if (sections.empty()) return false;
            sections.erase(sections.begin() + static_cast<std::ptrdiff_t>(rng() % sections.size()));
            return true;
        case 1:
            if (sections.empty()) return false;
            sections.push_back(sections[rng() % sections.size()]);
            return true;
        case 2:
            if (sections.size() < 2) return false;
            std::swap(sections[rng() % sections.size()], sections[rng() % sections.size()]);
            return true;
        case 3:
            if (sections.empty()) return false;
            sections[rng() % sections.size()].version = static_cast<std::uint32_t>(interesting_number(rng, 1));
            return true;
        default:
            file.format_version = static_cast<std::uint32_t>(interesting_number(rng, 1));
            return true;
    }
}

bool is_tag(const RawSection& s, const char* tag) { return std::memcmp(s.tag.data(), tag, 4) == 0; }

bool mutate_section(RawFile& file, std::mt19937_64& rng, std::size_t max_payload) {
    if (file.sections.empty() || rng() % 8 == 0) return mutate_structure(file, rng);
    RawSection& s = file.sections[rng() % file.sections.size()];
    if (is_tag(s, "ARCH") && rng() % 2 == 0) return mutate_json_number(s.payload, rng);
    if (is_tag(s, "WGHT") && s.payload.size() >= 8 && rng() % 4 == 0) {
        // The parameter count, made to agree with the values present (so the architecture's
        // count is what is compared) or set to an interesting number.
        const std::uint64_t count = rng() % 2 ? (s.payload.size() - 8) / 4 : interesting_number(rng, 0);
        for (std::size_t i = 0; i < 8; ++i) s.payload[i] = static_cast<std::uint8_t>(count >> (8 * i));
        return true;
    }
    if (rng() % 3 == 0) return mutate_integer_field(s.payload, rng);
    return mutate_bytes(s.payload, max_payload);
}

}  // namespace

extern "C" std::size_t LLVMFuzzerCustomMutator(std::uint8_t* data, std::size_t size, std::size_t max_size,
                                               unsigned int seed) {
    std::mt19937_64 rng(seed);
    std::optional<RawFile> file = split(data, size);
    if (!file || rng() % 32 == 0) return LLVMFuzzerMutate(data, size, max_size);
    const std::size_t max_payload = max_size > size ? max_size - size : 0;
    for (int tries = 0; tries < 4; ++tries)
        if (mutate_section(*file, rng, max_payload + 64)) break;
    const Bytes out = join(*file);
    if (out.size() > max_size) return LLVMFuzzerMutate(data, size, max_size);
    std::copy(out.begin(), out.end(), data);
    return out.size();
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace textcnn;
    // Image models are run on one zero image when a sample has at most this many values.
    constexpr std::size_t max_image_values = std::size_t{1} << 16;
    std::optional<ModelFile> file;
    fuzz::refuse_cleanly([&] { file.emplace(decode_model_file({data, size}, "fuzz.model")); });
    if (!file) return 0;
    fuzz::fuzz_require(encode_model_file(*file) == Bytes(data, data + size), "a decoded file encodes to its bytes");
    fuzz::refuse_cleanly([&] {
        TextClassifier model = TextClassifier::from_model_file(*file);
        (void)model.summary();
        const TextPrediction p = model.predict("the river and the stone lantern, quiet at 7 pm");
        fuzz::fuzz_require(p.label < model.labels().size(), "a predicted label is one of the model's");
    });
    fuzz::refuse_cleanly([&] {
        const ImageModel model = image_model_from_file(*file);
        if (model.input_shape().per_sample() > max_image_values) return;
        const Tensor image(model.input_shape().with_batch(1));
        const Tensor p = predict_probabilities(model.network, image, 1);
        fuzz::fuzz_require(p.shape().batch() == 1, "one row of probabilities per image");
    });
    fuzz::refuse_cleanly([&] { (void)network_from_sections(*file); });
    fuzz::refuse_cleanly([&] { (void)trainer_state_from_sections(*file); });
    return 0;
}
