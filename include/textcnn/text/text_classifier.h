// TextClassifier: everything prediction needs in one object and one file — tokenizer
// settings, vocabulary, labels and the network — and the two-call API users ask for:
//
//     auto model = textcnn::TextClassifier::load("sentiment.model");
//     textcnn::TextPrediction p = model.predict("a gripping, funny film");
//     std::cout << model.labels()[p.label] << ' ' << p.probabilities[p.label] << '\n';
//
// Thread safety: predict() and the other const members may be called from any number of
// threads at once on one loaded model (USERS.md theme 10). Mutable scratch lives in
// per-thread workspaces (tbb::enumerable_thread_specific), never in the model.
//
// The network is Kim's (2014) CNN built from TextModelSettings: embedding -> parallel
// convolutions of several widths ('full' padding, so a one-word text still meets every
// filter) each followed by an activation and max-over-time pooling -> concatenation ->
// dropout -> dense logits. Texts go through the network as packed batches (tensor.h): no
// arithmetic is spent on padding to the longest text of a batch.
//
// Prediction from a loaded model takes a faster road to the same function: load() folds the
// embedding table into the convolutions (fold_for_prediction()), so each convolution output is
// a sum of looked-up rows instead of a dot product over the embedding dimension. The
// probabilities equal the network's up to float rounding (tests bound it at 1e-5); they are
// bit-identical from call to call, whatever the batch or the thread count.
#pragma once

#include "textcnn/nn/network.h"
#include "textcnn/text/tokenizer.h"
#include "textcnn/text/vocabulary.h"

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace textcnn {

class ModelFile;
namespace detail {
class FoldedTextCnn;
}

/// The architecture of a text CNN; defaults are Kim's (2014) CNN-rand.
struct TextModelSettings {
    std::vector<std::size_t> widths = {3, 4, 5};  ///< filter widths, side by side
    std::size_t maps = 100;                       ///< feature maps (filters) per width
    std::size_t embedding_dim = 300;
    std::string embedding_mode = "non-static";  ///< non-static | static | multichannel
    std::string activation = "relu";            ///< relu | tanh | sigmoid | identity
    float dropout = 0.5f;
    /// Training only: the share of known words read as the unknown word (embedding.h), so the
    /// unknown-word vector is trained; 0 = off (Kim).
    float word_dropout = 0.0f;
    /// The wide branch (nn/ngram_bag.h; Cheng et al. 2016 wide & deep, in the form of Joulin
    /// et al. 2016 fastText): 0 = none (Kim's model). n >= 1: the word n-grams of 1 .. n of
    /// each text, n >= 2 hashed into `ngram_buckets` columns, binarized, summed (or averaged,
    /// `ngram_reduce`) into `ngram_dim` features that go to the output layer beside the
    /// convolutions' features (after their dropout).
    std::size_t word_ngrams = 0;
    std::size_t ngram_buckets = 500'000;
    std::size_t ngram_dim = 10;
    std::string ngram_reduce = "sum";  ///< sum | mean
};

/// The ModelSpec of Kim's CNN for a vocabulary of `vocab_size` ids and `classes` labels. With
/// a wide branch (word_ngrams > 0) it is: parallel 'wide_and_deep' of [embedding -> parallel
/// 'widths' -> dropout] and [ngram_bag] -> dense; both branches read the token ids. ConfigError
/// for a bad setting.
ModelSpec text_cnn_spec(const TextModelSettings& settings, std::size_t vocab_size, std::size_t classes);

struct TextPrediction {
    std::uint32_t label = 0;           ///< index into TextClassifier::labels(); arg-max, first on ties
    std::vector<float> probabilities;  ///< softmax, one per label, in [0, 1], summing to 1
};

class TextClassifier {
public:
    /// Assembles a classifier around a network built from text_cnn_spec() (or any network
    /// whose input is token ids and whose output has one logit per label).
    TextClassifier(TokenizerSettings tokenizer, Vocabulary vocabulary, std::vector<std::string> labels,
                   Network network);
    ~TextClassifier();
    TextClassifier(TextClassifier&&) noexcept;
    TextClassifier& operator=(TextClassifier&&) noexcept;

    /// Reads a model file (model_file.h) with sections ARCH, WGHT, TOKN, VOCB, LABL and META.
    /// InputError naming the file for anything missing, corrupt, foreign or too new.
    static TextClassifier load(const std::string& path);
    /// Writes atomically (temporary file + rename).
    void save(const std::string& path) const;
    /// The sections save() writes / load() reads, for files that carry more (checkpoints).
    ModelFile to_model_file() const;
    static TextClassifier from_model_file(const ModelFile& file);

    const std::vector<std::string>& labels() const { return labels_; }
    const Tokenizer& tokenizer() const { return tokenizer_; }
    const Vocabulary& vocabulary() const { return vocabulary_; }
    const Network& network() const { return network_; }
    /// Mutable access (training, loading weights) drops the folded tables: they would go stale.
    Network& network();
    /// Zero positions needed between packed texts: the widest padding of any convolution.
    std::size_t gap() const { return gap_; }

    /// Free-form facts saved with the model and shown by `textcnn summary`: training data,
    /// date, command line, dev accuracy, seed...
    std::map<std::string, std::string> metadata;

    /// Token ids of a text (tokenize + vocabulary lookup).
    std::vector<std::uint32_t> encode(std::string_view text) const;

    /// Label and probabilities of one text. Thread-safe.
    TextPrediction predict(std::string_view text) const;
    /// The same for many texts, in parallel over chunks (oneTBB); out[i] belongs to texts[i].
    std::vector<TextPrediction> predict(std::span<const std::string> texts) const;
    /// Probabilities of already encoded texts into `probabilities` (texts x labels,
    /// row-major), on the calling thread only: the building block for callers that manage
    /// their own parallelism. Thread-safe.
    void predict_encoded(std::span<const std::vector<std::uint32_t>> texts, std::vector<float>& probabilities) const;

    /// Default bound on the folded tables' memory: 1 GiB.
    static constexpr std::size_t default_fold_limit = std::size_t{1} << 30;
    /// Precomputes, for every vocabulary word, its products with each convolution tap
    /// (vocab x sum(widths) x maps floats) so that predict() runs without the embedding
    /// GEMMs. Returns true when folded; false (and prediction goes through the network) when
    /// the network is not a text_cnn_spec() stack of 'full'-padded stride-1 convolutions or the
    /// tables would exceed `max_bytes`. load() calls it with default_fold_limit. Not to be
    /// called while other threads predict.
    bool fold_for_prediction(std::size_t max_bytes = default_fold_limit);
    /// Back to the network's own forward pass (frees the tables).
    void drop_folding();
    /// Whether predict() uses the folded tables.
    bool folded() const { return folded_ != nullptr; }
    /// Bytes the folded tables take (or would take) for this network; 0 when it cannot be folded.
    std::size_t fold_table_bytes() const;

    /// The architecture table (Network::summary_table), then vocabulary, labels, tokenizer
    /// settings and metadata.
    std::string summary() const;

private:
    struct Scratch;
    TokenizerSettings tokenizer_settings_;
    Tokenizer tokenizer_;
    Vocabulary vocabulary_;
    std::vector<std::string> labels_;
    Network network_;
    std::size_t gap_ = 0;
    std::unique_ptr<Scratch> scratch_;
    std::unique_ptr<const detail::FoldedTextCnn> folded_;
};

}  // namespace textcnn
