// Pretrained word vectors for a vocabulary: word2vec (text or binary), GloVe, fastText .vec.
//
// The format is read from the content, not the name:
//   - a first line of exactly two integers is a header "count dim" (word2vec, fastText .vec);
//     after it, the bytes of the first vector tell binary (word2vec -binary 1: the word, a
//     space, dim little-endian float32, an optional newline) from text;
//   - otherwise every line is "word v1 ... vdim" (GloVe, word2vec text without header) and
//     dim is the first line's number count.
// Text lines are split on spaces and tabs; the last dim fields are the vector and anything
// before them is the word (GloVe's 840B file has words with spaces in them).
//
// Streaming: the file is read once, line by line (or record by record), and only the vectors
// of vocabulary words are kept, so memory is bounded by the vocabulary, not the file.
//
// Matching: a file word matches the vocabulary word equal to it; if a Tokenizer is given,
// a file word that matches nothing exactly is normalized the tokenizer's way (NFKC, case
// folding) and matched again, but an exact match always wins ("Apple" in the file fills
// "apple" only if "apple" itself is absent from the file). The first of repeated file words
// is kept (repeats of vocabulary words are counted: repeated_words; `textcnn train` warns). Words that are not valid UTF-8 cannot be in a vocabulary and are skipped.
//
// Errors (InputError, naming the file and the line or byte offset): dimension mismatch
// (VectorsDimensionError: "vectors.txt: the vectors have 300 dimensions, the model's embedding
// 128: they must be equal"), a short or long vector line, a value
// that is not a finite number, a truncated binary record, a header whose count the file
// does not meet.
#pragma once

#include "textcnn/core/error.h"
#include "textcnn/core/number_text.h"  // with_thousands_separators, used with coverage()

#include "textcnn/text/tokenizer.h"
#include "textcnn/text/vocabulary.h"

#include <cstddef>
#include <cstdint>
#include <istream>
#include <span>
#include <string>
#include <vector>

namespace textcnn {

struct VectorsOptions {
    /// The model's embedding width; 0 takes the file's.
    std::size_t expected_dim = 0;
    /// When set, words are also matched after this tokenizer's normalization (see above).
    const Tokenizer* tokenizer = nullptr;
    /// A text line longer than this is an error, raised while the line is read (memory stays
    /// bounded on a file without line ends).
    std::size_t max_line_bytes = std::size_t{64} << 20;
};

struct PretrainedVectors {
    std::string source;
    std::string format;   ///< "word2vec binary", "text with header", "text without header"
    std::size_t dim = 0;
    std::size_t file_vectors = 0;  ///< vectors in the file
    /// Vocabulary ids that received a vector, ascending, and their vectors (dim floats each,
    /// in the same order).
    std::vector<std::uint32_t> ids;
    std::vector<float> values;
    std::size_t vocabulary_words = 0;          ///< the vocabulary's word count (reserved ids excluded)
    std::size_t matched_after_normalization = 0;  ///< of ids.size(), matched only after normalizing
    /// Vectors of a vocabulary word the file gave again (the first is kept, these are not
    /// read), and the first such word.
    std::size_t repeated_words = 0;
    std::string first_repeated_word;

    /// "14,838 of 16,185 words found" (+ " (312 after normalization)" when non-zero).
    std::string coverage() const;
    /// Writes each found vector into column `id` of a dim x columns column-major table
    /// (the embedding table); other columns are left alone (the caller initialises them
    /// randomly). Throws ConfigError when the table is too small.
    void copy_into(std::span<float> table, std::size_t columns) const;
};

/// The InputError for a file whose vectors have another dimension than
/// VectorsOptions::expected_dim (the model's embedding): both are kept, for a caller that can
/// give its embedding the file's dimension.
class VectorsDimensionError : public InputError {
public:
    VectorsDimensionError(const std::string& source, std::size_t file_dim, std::size_t expected_dim);
    std::size_t file_dim = 0, expected_dim = 0;
};

/// Reads the vectors of `vocabulary`'s words from `path`. IoError if it cannot be opened;
/// VectorsDimensionError if their dimension is not options.expected_dim (when set).
PretrainedVectors load_pretrained_vectors(const std::string& path, const Vocabulary& vocabulary,
                                          const VectorsOptions& options = {});
/// The same from an open stream (binary mode); `source` names it in messages.
PretrainedVectors load_pretrained_vectors(std::istream& in, const std::string& source, const Vocabulary& vocabulary,
                                          const VectorsOptions& options = {});


}  // namespace textcnn
