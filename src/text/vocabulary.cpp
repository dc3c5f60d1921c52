#include "textcnn/text/vocabulary.h"

#include "textcnn/nn/embedding.h"

#include "textcnn/core/error.h"
#include "textcnn/text/utf8.h"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace textcnn {

static_assert(Vocabulary::padding_id == EmbeddingLayer::padding_id && Vocabulary::unknown_id == EmbeddingLayer::unknown_id &&
                  Vocabulary::first_word_id == EmbeddingLayer::first_word_id,
              "the vocabulary numbers words as the embedding layer expects");

namespace {

constexpr std::uint32_t vocabulary_version = 1;

std::uint64_t fnv1a64(std::string_view bytes) {
    std::uint64_t hash = 0xcbf29ce484222325ULL;
    for (const char c : bytes) {
        hash ^= static_cast<unsigned char>(c);
        hash *= 0x100000001b3ULL;
    }
    return hash;
}

/// The last `count` code points of valid UTF-8 `text` (all of it when shorter).
std::string_view last_code_points(std::string_view text, std::size_t count) {
    std::size_t pos = text.size();
    while (pos > 0 && count > 0) {
        --pos;
        while (pos > 0 && (static_cast<unsigned char>(text[pos]) & 0xC0) == 0x80) --pos;
        --count;
    }
    return text.substr(pos);
}

void put_u32(std::vector<std::uint8_t>& out, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
void put_u64(std::vector<std::uint8_t>& out, std::uint64_t v) {
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

/// Reads little-endian values from a byte span, checking every read against what remains.
class ByteCursor {
public:
    ByteCursor(std::span<const std::uint8_t> bytes, const std::string& source) : bytes_(bytes), source_(source) {}

    std::size_t offset() const { return pos_; }
    std::size_t remaining() const { return bytes_.size() - pos_; }

    [[noreturn]] void fail(std::size_t at, const std::string& problem) const {
        throw InputError(fmt::format("{}: vocabulary: byte {}: {}", source_, at, problem));
    }
    // `what` (numbered `item` unless npos: "the count of word 7") names the value read; the
    // text is made only for the error, not for every word read.
    void need(std::size_t n, std::string_view what, std::size_t item = npos) const {
        if (remaining() < n)
            fail(pos_, fmt::format("truncated: {}{} needs {} byte{}, {} remain", what,
                                   item == npos ? std::string() : fmt::format(" {}", item), n, n == 1 ? "" : "s",
                                   remaining()));
    }
    std::uint64_t unsigned_le(std::size_t n, std::string_view what, std::size_t item = npos) {
        need(n, what, item);
        std::uint64_t v = 0;
        for (std::size_t i = 0; i < n; ++i) v |= static_cast<std::uint64_t>(bytes_[pos_ + i]) << (8 * i);
        pos_ += n;
        return v;
    }
    std::uint32_t u32(std::string_view what, std::size_t item = npos) {
        return static_cast<std::uint32_t>(unsigned_le(4, what, item));
    }
    std::uint64_t u64(std::string_view what, std::size_t item = npos) { return unsigned_le(8, what, item); }
    std::string_view bytes(std::size_t n, std::string_view what, std::size_t item = npos) {
        need(n, what, item);
        const std::string_view out(reinterpret_cast<const char*>(bytes_.data()) + pos_, n);
        pos_ += n;
        return out;
    }

    static constexpr std::size_t npos = static_cast<std::size_t>(-1);

private:
    std::span<const std::uint8_t> bytes_;
    const std::string& source_;
    std::size_t pos_ = 0;
};

void check_id_space(std::size_t words, std::size_t buckets) {
    // Compared without the sum, which a bucket count near 2^64 wraps around.
    const std::size_t room = Vocabulary::max_ids - Vocabulary::first_word_id;
    if (words > room || buckets > room - words)
        throw ConfigError(fmt::format(
            "vocabulary: {} words + {} subword buckets + 2 reserved ids exceed the {} ids that floats carry exactly; "
            "{}",
            words, buckets, Vocabulary::max_ids,
            buckets >= words ? "use fewer subword buckets" : "lower max_size or raise min_count"));
}

}  // namespace

void VocabularyBuilder::add(std::span<const std::string> tokens) {
    for (const auto& token : tokens) {
        if (token.empty()) continue;
        ++counts_[token];
    }
}

Vocabulary VocabularyBuilder::build(const VocabularyOptions& options) const {
    if (options.min_count == 0)
        throw ConfigError("vocabulary: min_count 0 is not valid: a word is counted at least once (1 keeps every word)");
    std::vector<std::pair<std::string_view, std::uint64_t>> kept;
    kept.reserve(counts_.size());
    for (const auto& [token, count] : counts_)
        if (count >= options.min_count) kept.emplace_back(token, count);
    // Count descending, then byte order of the UTF-8, which is code-point order.
    std::sort(kept.begin(), kept.end(), [](const auto& a, const auto& b) {
        return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
    if (options.max_size != 0 && kept.size() > options.max_size) kept.resize(options.max_size);
    check_id_space(kept.size(), options.subword_buckets);

    Vocabulary vocabulary;
    vocabulary.words_.reserve(kept.size());
    vocabulary.counts_.reserve(kept.size());
    for (const auto& [token, count] : kept) {
        vocabulary.words_.emplace_back(token);
        vocabulary.counts_.push_back(count);
    }
    vocabulary.subword_buckets_ = options.subword_buckets;
    vocabulary.dropped_words_ = counts_.size() - kept.size();
    vocabulary.index_words();
    return vocabulary;
}

Vocabulary::Vocabulary() = default;

Vocabulary Vocabulary::build(std::span<const std::vector<std::string>> documents, const VocabularyOptions& options) {
    VocabularyBuilder builder;
    for (const auto& tokens : documents) builder.add(tokens);
    return builder.build(options);
}

namespace {
constexpr std::uint32_t id_bits = 24, id_mask = (std::uint32_t{1} << id_bits) - 1;
static_assert(Vocabulary::max_ids == std::size_t{1} << id_bits, "a slot holds an id in its low 24 bits");
std::uint64_t word_hash(std::string_view word) { return XXH3_64bits(word.data(), word.size()); }
std::uint32_t hash_tag(std::uint64_t hash) { return static_cast<std::uint32_t>(hash >> 56) << id_bits; }
}  // namespace

std::size_t Vocabulary::index_words() {
    std::size_t size = 2;
    while (size < 2 * words_.size()) size *= 2;
    slots_.assign(size, 0);
    const std::size_t mask = size - 1;
    std::size_t distinct = 0;
    for (std::size_t i = 0; i < words_.size(); ++i) {
        if (word_id(words_[i]) != 0) continue;  // a repeated word keeps its first id
        const std::uint64_t hash = word_hash(words_[i]);
        std::size_t slot = hash & mask;
        while (slots_[slot] != 0) slot = (slot + 1) & mask;
        slots_[slot] = hash_tag(hash) | static_cast<std::uint32_t>(first_word_id + i);
        ++distinct;
    }
    return distinct;
}

std::uint32_t Vocabulary::word_id(std::string_view token) const { return word_id(token, word_hash(token)); }

std::uint32_t Vocabulary::word_id(std::string_view token, std::uint64_t hash) const {
    if (slots_.empty()) return 0;  // a moved-from vocabulary
    const std::uint32_t tag = hash_tag(hash);
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t slot = hash & mask;; slot = (slot + 1) & mask) {
        const std::uint32_t entry = slots_[slot];
        if (entry == 0) return 0;
        const std::uint32_t id = entry & id_mask;
        if ((entry & ~id_mask) == tag && words_[id - first_word_id] == token) return id;
    }
}

std::optional<std::uint32_t> Vocabulary::find(std::string_view token) const {
    if (const std::uint32_t id = word_id(token)) return id;
    return std::nullopt;
}

std::uint32_t Vocabulary::lookup(std::string_view token) const { return lookup(token, word_hash(token)); }

std::uint32_t Vocabulary::lookup(std::string_view token, std::uint64_t hash) const {
    if (const std::uint32_t id = word_id(token, hash)) return id;
    if (subword_buckets_ == 0 || token.empty()) return unknown_id;
    const std::uint64_t bucket = fnv1a64(last_code_points(token, subword_suffix_length)) % subword_buckets_;
    return static_cast<std::uint32_t>(first_word_id + words_.size() + bucket);
}

void Vocabulary::lookup(std::span<const std::string> tokens, std::vector<std::uint32_t>& ids) const {
    ids.clear();
    ids.reserve(tokens.size());
    if (slots_.empty()) {
        for (const auto& token : tokens) ids.push_back(lookup(token));
        return;
    }
    // Up to 32 tokens at a time: their hashes first, fetching their slots, then the words the
    // slots name, then the lookups proper, so that the cache misses of a text's tokens (the
    // slots and the words are scattered) overlap instead of coming one after the other.
    constexpr std::size_t group = 32;
    std::uint64_t hashes[group];
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t first = 0; first < tokens.size(); first += group) {
        const std::size_t n = std::min(group, tokens.size() - first);
        for (std::size_t i = 0; i < n; ++i) {
            hashes[i] = word_hash(tokens[first + i]);
            __builtin_prefetch(&slots_[hashes[i] & mask]);
        }
        for (std::size_t i = 0; i < n; ++i) {
            const std::uint32_t entry = slots_[hashes[i] & mask];
            if (entry != 0 && (entry & ~id_mask) == hash_tag(hashes[i]))
                __builtin_prefetch(&words_[(entry & id_mask) - first_word_id]);
        }
        for (std::size_t i = 0; i < n; ++i) ids.push_back(lookup(tokens[first + i], hashes[i]));
    }
}

std::vector<std::uint32_t> Vocabulary::lookup(std::span<const std::string> tokens) const {
    std::vector<std::uint32_t> ids;
    lookup(tokens, ids);
    return ids;
}

std::string Vocabulary::token(std::uint32_t id) const {
    if (id == padding_id) return "<pad>";
    if (id == unknown_id) return "<unk>";
    if (id - first_word_id < words_.size()) return words_[id - first_word_id];
    if (id < size()) return fmt::format("<bucket {}>", id - first_word_id - words_.size());
    throw ConfigError(fmt::format("vocabulary: id {} is out of range (size {})", id, size()));
}

std::uint64_t Vocabulary::count(std::uint32_t id) const {
    if (id >= first_word_id && id - first_word_id < words_.size()) return counts_[id - first_word_id];
    return 0;
}

void Vocabulary::write(std::vector<std::uint8_t>& out) const {
    put_u32(out, vocabulary_version);
    put_u32(out, static_cast<std::uint32_t>(words_.size()));
    put_u32(out, static_cast<std::uint32_t>(subword_buckets_));
    put_u32(out, static_cast<std::uint32_t>(subword_suffix_length));
    put_u64(out, dropped_words_);
    for (std::size_t i = 0; i < words_.size(); ++i) {
        put_u32(out, static_cast<std::uint32_t>(words_[i].size()));
        out.insert(out.end(), words_[i].begin(), words_[i].end());
        put_u64(out, counts_[i]);
    }
}

Vocabulary Vocabulary::read(std::span<const std::uint8_t> bytes, const std::string& source) {
    ByteCursor in(bytes, source);
    const std::uint32_t version = in.u32("the version");
    if (version != vocabulary_version)
        in.fail(0, fmt::format("unknown vocabulary version {} (this textcnn reads version {})", version,
                               vocabulary_version));
    const std::size_t word_count_offset = in.offset();
    const std::uint32_t words = in.u32("the word count");
    const std::size_t buckets_offset = in.offset();
    const std::uint32_t buckets = in.u32("the bucket count");
    const std::size_t suffix_offset = in.offset();
    const std::uint32_t suffix = in.u32("the subword suffix length");
    if (suffix != subword_suffix_length)
        in.fail(suffix_offset, fmt::format("subword suffix length {} is not supported (only {})", suffix,
                                           subword_suffix_length));
    if (first_word_id + std::size_t{words} + buckets > max_ids)
        in.fail(buckets_offset, fmt::format("{} words and {} buckets exceed {} ids", words, buckets, max_ids));
    Vocabulary vocabulary;
    vocabulary.dropped_words_ = in.u64("the dropped-word count");
    // Each word takes at least 12 bytes: refuse a count the remaining bytes cannot hold
    // before allocating for it.
    if (std::size_t{words} > in.remaining() / 12)
        in.fail(word_count_offset, fmt::format("word count {} cannot fit in the {} bytes that remain", words,
                                               in.remaining()));
    vocabulary.words_.reserve(words);
    vocabulary.counts_.reserve(words);
    for (std::uint32_t i = 0; i < words; ++i) {
        const std::size_t word_offset = in.offset();
        const std::uint32_t length = in.u32("the length of word", i);
        if (length == 0) in.fail(word_offset, fmt::format("word {} is empty", i));
        const std::string_view word = in.bytes(length, "word", i);
        if (const auto bad = find_invalid_utf8(word))
            in.fail(word_offset + 4 + *bad, fmt::format("word {} is not valid UTF-8", i));
        vocabulary.words_.emplace_back(word);
        vocabulary.counts_.push_back(in.u64("the count of word", i));
    }
    if (in.remaining() != 0)
        in.fail(in.offset(), fmt::format("{} unexpected byte{} after the last word", in.remaining(),
                                         in.remaining() == 1 ? "" : "s"));
    vocabulary.subword_buckets_ = buckets;
    if (vocabulary.index_words() != vocabulary.words_.size()) {
        // Find the repeated word for the message.
        std::vector<std::size_t> order(vocabulary.words_.size());
        std::iota(order.begin(), order.end(), 0);
        std::sort(order.begin(), order.end(), [&](auto a, auto b) { return vocabulary.words_[a] < vocabulary.words_[b]; });
        for (std::size_t k = 1; k < order.size(); ++k)
            if (vocabulary.words_[order[k]] == vocabulary.words_[order[k - 1]])
                throw InputError(fmt::format("{}: vocabulary: word '{}' appears twice (words {} and {})", source,
                                             vocabulary.words_[order[k]], std::min(order[k], order[k - 1]),
                                             std::max(order[k], order[k - 1])));
    }
    return vocabulary;
}

}  // namespace textcnn
