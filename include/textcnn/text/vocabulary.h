// Token <-> id mapping, built from training tokens only and saved inside the model.
//
// Ids: 0 = padding (<pad>), 1 = unknown word (<unk>), then the words kept, most frequent
// first, ties in code-point order of the token (byte order of its UTF-8), so the same
// training data always gives the same ids. Then, optionally, B subword buckets.
//
// Subword buckets (off by default; fastText's idea reduced to one id per word): with B > 0,
// a token that is not in the vocabulary maps to id 2 + words + (FNV-1a-64 of the UTF-8 of its
// last 3 code points, or of the whole token when shorter) mod B, instead of <unk>. Unseen
// words with a common ending ("-ing", "-ful", "-ly", "-ed") so share a learnt vector.
// The buckets learn only from training tokens that are themselves out of the vocabulary,
// so they make sense together with min_count >= 2 or max_size; with min_count = 1 they are
// never trained.
//
// All ids are below 2^24 so they travel exactly as floats (tensor.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace textcnn {

struct VocabularyOptions {
    std::size_t min_count = 1;  ///< words seen fewer times are left out; at least 1 (1 keeps every word)
    std::size_t max_size = 0;   ///< at most this many words (reserved ids and buckets not counted); 0 = no limit
    std::size_t subword_buckets = 0;  ///< B above; 0 = unknown words map to <unk>
};

class Vocabulary;

/// Counts tokens, document by document, then builds a Vocabulary.
class VocabularyBuilder {
public:
    /// Counts every token (empty tokens are ignored).
    void add(std::span<const std::string> tokens);
    std::size_t distinct_tokens() const { return counts_.size(); }
    /// The vocabulary of the words counted so far. ConfigError for min_count 0 or too many ids.
    Vocabulary build(const VocabularyOptions& options = {}) const;

private:
    std::unordered_map<std::string, std::uint64_t> counts_;
};

class Vocabulary {
public:
    // The embedding layer's reserved ids (EmbeddingLayer in nn/embedding.h; vocabulary.cpp
    // checks at compile time that they agree): the vocabulary follows the layer's contract.
    static constexpr std::uint32_t padding_id = 0;
    static constexpr std::uint32_t unknown_id = 1;
    static constexpr std::uint32_t first_word_id = 2;
    static constexpr std::size_t max_ids = std::size_t{1} << 24;
    static constexpr std::size_t subword_suffix_length = 3;  ///< code points hashed for a bucket

    /// Only the two reserved ids.
    Vocabulary();
    /// Builds from tokenized training documents (see VocabularyBuilder). Throws ConfigError
    /// when the ids would not fit below 2^24.
    static Vocabulary build(std::span<const std::vector<std::string>> documents, const VocabularyOptions& options = {});

    /// The id of a token: its word id, else its subword bucket (if enabled), else unknown_id.
    std::uint32_t lookup(std::string_view token) const;
    /// The word id of a token, without the fallbacks.
    std::optional<std::uint32_t> find(std::string_view token) const;
    /// ids = lookup of each token (ids is cleared first).
    void lookup(std::span<const std::string> tokens, std::vector<std::uint32_t>& ids) const;
    std::vector<std::uint32_t> lookup(std::span<const std::string> tokens) const;

    /// "<pad>", "<unk>", the word, or "<bucket 17>".
    std::string token(std::uint32_t id) const;
    /// How often the word occurred in the training data (0 for reserved ids and buckets).
    std::uint64_t count(std::uint32_t id) const;

    /// Number of ids: 2 + words + buckets (the embedding table's column count).
    std::size_t size() const { return first_word_id + words_.size() + subword_buckets_; }
    std::size_t word_count() const { return words_.size(); }
    std::size_t subword_buckets() const { return subword_buckets_; }
    /// Words of the training data left out by min_count or max_size.
    std::size_t dropped_words() const { return dropped_words_; }

    /// Appends the vocabulary to `out` (format below; little-endian):
    ///   u32 version (1), u32 word count W, u32 buckets B, u32 suffix length (3),
    ///   u64 dropped words, then W times: u32 byte length, the UTF-8 bytes, u64 count.
    void write(std::vector<std::uint8_t>& out) const;
    /// Reads what write() wrote; `bytes` must hold exactly that. Every length is checked
    /// against the bytes that remain; errors are InputError
    /// "<source>: vocabulary: byte 123: <problem>" (offsets relative to bytes.data()).
    static Vocabulary read(std::span<const std::uint8_t> bytes, const std::string& source);

    bool operator==(const Vocabulary& other) const {
        return words_ == other.words_ && counts_ == other.counts_ && subword_buckets_ == other.subword_buckets_;
    }
    /// The same words at the same ids and the same buckets, whatever their counts: what a
    /// network reading these ids needs (TextClassifier::ensemble).
    bool same_ids(const Vocabulary& other) const {
        return words_ == other.words_ && subword_buckets_ == other.subword_buckets_;
    }

private:
    friend class VocabularyBuilder;
    /// Fills slots_ from words_; the number of distinct words (a repeated word is left out).
    std::size_t index_words();
    /// The word id of a token, 0 when it is not a word.
    std::uint32_t word_id(std::string_view token) const;
    /// The same with the token's hash (XXH3-64 of its UTF-8) given.
    std::uint32_t word_id(std::string_view token, std::uint64_t hash) const;
    std::uint32_t lookup(std::string_view token, std::uint64_t hash) const;
    std::vector<std::string> words_;       // words_[i] has id first_word_id + i
    std::vector<std::uint64_t> counts_;
    /// The words' open-addressing hash table (linear probing, at most half full, a power of two
    /// in size): 0 = empty, else the word's id (low 24 bits) and the top 8 bits of its hash
    /// (XXH3-64 of its UTF-8), so that most probes of other words end without reading one.
    /// 4 bytes a slot: the table of a 16k-word vocabulary (128 KiB) stays in cache.
    std::vector<std::uint32_t> slots_;
    std::size_t subword_buckets_ = 0;
    std::size_t dropped_words_ = 0;
};

}  // namespace textcnn
