// TextClassifier: everything prediction needs in one object and one file — tokenizer
// settings, vocabulary, labels and the network — and the two-call API users ask for:
//
//     auto model = textcnn::TextClassifier::load("sentiment.model");
//     textcnn::TextPrediction p = model.predict("a gripping, funny film");
//     std::cout << model.labels()[p.label] << ' ' << p.probabilities[p.label] << '\n';
//
// Thread safety: predict() and the other const members may be called from any number of
// threads at once on one loaded model (USERS.md theme 10). Mutable scratch lives in
// per-thread workspaces (tbb::enumerable_thread_specific), never in the model. Non-const
// members must not run while another thread uses the same classifier.
//
// This header includes no Armadillo, oneTBB or ICU header (the state is behind a pointer), so
// a program that only loads, predicts and saves compiles quickly. network(), tokenizer(),
// vocabulary() and to_model_file() hand out backend objects: include their headers
// (nn/network.h, text/tokenizer.h, text/vocabulary.h, nn/model_file.h) to use them.
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
//
// A quantized model (quantize(), `textcnn quantize`) keeps only int8 folded tables (one scale
// per filter; text/quantized_text_cnn.h gives the format and the error bound) and drops the
// float weights: a quarter of the table memory, no table building at load, for prediction only
// (network() throws ConfigError on it). save() writes it without "WGHT", with a "QFLD" section.
//
// An ensemble (ensemble(), `textcnn train --ensemble K`) is several networks over the one
// tokenizer, vocabulary and label list; predict() averages their probabilities (the mean of
// the members' softmax outputs, Hansen & Salamon 1990; Lakshminarayanan et al. 2017). Each
// member is folded (or quantized) on its own. save() writes the members into one file
// (section "ENSM", see load()); a file with one member is written as it always was.
#pragma once

#include "textcnn/nn/label_thresholds.h"
#include "textcnn/nn/layer_spec.h"

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace textcnn {

class ModelFile;
class Network;
struct StoredArchitecture;
class Tokenizer;
struct TokenizerSettings;
class Vocabulary;

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
/// for a bad setting. Thread-safe (a pure function).
ModelSpec text_cnn_spec(const TextModelSettings& settings, std::size_t vocab_size, std::size_t classes);

struct TextPrediction {
    std::uint32_t label = 0;           ///< index into TextClassifier::labels(); arg-max, first on ties
    std::vector<float> probabilities;  ///< softmax, one per label, in [0, 1], summing to 1
    std::size_t tokens = 0;            ///< tokens the text gave (the ids the model read)
    std::size_t unknown_tokens = 0;    ///< of those, how many the vocabulary did not know (unknown_id)
    /// No token the model knows (an empty text, or only unknown words): the probabilities
    /// are the model's answer to an empty input, not to this text.
    bool no_known_token() const { return unknown_tokens == tokens; }
    /// The text had more than TextClassifier::max_length() tokens; the model read the first
    /// max_length() of them (`tokens` counts those), as it did at training.
    bool truncated = false;
};

/// A trained text classifier. Obtain one from load(), from_model_file() or a training run
/// (TextTrainingRun::classifier(), text_training.h). Movable, not copyable; a moved-from
/// classifier may only be assigned to or destroyed.
class TextClassifier {
public:
    /// Assembles a classifier around a network built from text_cnn_spec() (or any network
    /// whose input is token ids and whose output has one logit per label). Requires a network
    /// with one logit per label: ShapeError otherwise. ConfigError for a label training would
    /// refuse (empty, repeated, not UTF-8, or holding a control character such as a line end or
    /// a tab: check_new_labels(), model_file.h). Does not fold (see fold_for_prediction()).
    TextClassifier(TokenizerSettings tokenizer, Vocabulary vocabulary, std::vector<std::string> labels,
                   Network network);
    ~TextClassifier();
    TextClassifier(TextClassifier&&) noexcept;
    TextClassifier& operator=(TextClassifier&&) noexcept;

    /// Reads a model file (model_file.h) with sections ARCH, WGHT, TOKN, VOCB, LABL and META
    /// and folds it for prediction (fold_for_prediction()); or a quantized one (QFLD instead of
    /// WGHT), whose tables are used as stored; or an ensemble: "ENSM" v1 holds the members
    /// (u64 count, then per member a u64 length and a whole model file of its own with ARCH
    /// and WGHT or QFLD), "ARCH" is the first member's and there is no "WGHT", so that a
    /// textcnn that knows no ensembles refuses the file. Returns the classifier. Throws
    /// IoError when the file cannot be read, InputError naming the file for anything missing,
    /// corrupt, foreign (an image model) or too new. Thread-safe (the new object is the
    /// caller's).
    static TextClassifier load(const std::string& path);
    /// Writes the model to `path` atomically (temporary file + rename), metadata included.
    /// Throws IoError when it cannot be written. Const: may run while other threads predict.
    void save(const std::string& path) const;
    /// The sections save() writes / load() reads, for files that carry more (checkpoints).
    /// Thread-safe like save().
    ModelFile to_model_file() const;
    /// The inverse of to_model_file(), without folding. A quantized model's tables are copied
    /// once, into huge pages (load() reads them there directly). Throws InputError naming
    /// file.source as load() does.
    static TextClassifier from_model_file(const ModelFile& file);
    /// The same (for a temporary ModelFile; nothing is taken over).
    static TextClassifier from_model_file(ModelFile&& file);

    /// The labels, in the order of TextPrediction::label and ::probabilities. Thread-safe.
    const std::vector<std::string>& labels() const;
    /// The tokenizer, as trained (text/tokenizer.h). Thread-safe.
    const Tokenizer& tokenizer() const;
    /// Token -> id mapping (text/vocabulary.h). Thread-safe.
    const Vocabulary& vocabulary() const;
    /// The network (nn/network.h). Thread-safe. ConfigError for a quantized model (it has no
    /// float weights) and for an ensemble of more than one member (use network(member)).
    const Network& network() const;
    /// Mutable access (training, loading weights) drops the folded tables: they would go stale.
    /// Not to be called while other threads use the classifier. ConfigError for a quantized
    /// model and for an ensemble of more than one member.
    Network& network();
    /// The network of ensemble member `member` (0 .. ensemble_size() - 1); network(0) of a
    /// single model is network(). ConfigError for a member out of range or a quantized model.
    /// The const form is thread-safe; the other drops that member's folded tables.
    const Network& network(std::size_t member) const;
    Network& network(std::size_t member);

    /// The architecture of ensemble member `member` (0 .. ensemble_size() - 1), a quantized
    /// model's too: its layer specification, the shape of one sample and its parameter count
    /// (nn/model_file.h; include it to call this). ConfigError for a member out of range.
    /// Thread-safe.
    StoredArchitecture architecture(std::size_t member) const;

    /// The number of networks whose probabilities predict() averages: 1 for a single model.
    /// Thread-safe.
    std::size_t ensemble_size() const;
    /// One classifier that predicts the mean of the members' probabilities. The members must
    /// share tokenizer settings, vocabulary (the same words in the same order; the counts may
    /// differ, the first member's are kept), labels and
    /// max_length(); their networks may differ (each reads those ids and gives one logit per
    /// label). A member that is an ensemble itself contributes each of its networks, in order.
    /// Metadata is the first member's; each network keeps its folded or quantized tables.
    /// ConfigError for no members or members that differ (naming what differs). Source:
    /// averaging the probabilities of independently trained networks (Hansen & Salamon 1990;
    /// Lakshminarayanan et al. 2017). Thread-safe (the new object is the caller's).
    static TextClassifier ensemble(std::vector<TextClassifier> members);
    /// Zero positions needed between packed texts: the widest padding of any convolution (of
    /// any member). Thread-safe.
    std::size_t gap() const;

    /// Texts longer than this many tokens are cut to their first max_length() tokens before the
    /// network reads them, at prediction exactly as at training (`textcnn train --max-length`);
    /// 0 = no limit. Saved in the model file (section "TOKN", key "max_tokens", written only
    /// when not 0, so a textcnn that cannot honour it refuses the file). Thread-safe to read.
    std::size_t max_length() const;
    /// Sets it; ConfigError beyond 16,777,216 (what a model file holds). Not to be called while
    /// other threads predict.
    void set_max_length(std::size_t tokens);

    /// The decision rule the caller will apply to the probabilities (LabelThresholds::decide:
    /// `predict --threshold spam=0.9`), so that a quantized model's refined form
    /// (QuantizedTables::refined, compact_refined) also scores again the texts whose *decision*
    /// its int8 rounding leaves in doubt (a probability within its bound of a threshold, or two
    /// labels the rule chooses between within theirs), not only those whose arg-max it does:
    /// the decision is then the float model's under the same terms as the arg-max label (see
    /// `refined`). No effect on other models, and none on what is returned beyond the
    /// probabilities of those texts. Not saved in the model file. ConfigError when the
    /// thresholds were made for another number of labels. Not to be called while other threads
    /// predict.
    void set_decision_thresholds(LabelThresholds thresholds);
    /// The rule set by set_decision_thresholds(); empty (arg-max) by default. Thread-safe.
    const LabelThresholds& decision_thresholds() const;

    /// Free-form facts saved with the model and shown by `textcnn summary`: training data,
    /// date, command line, dev accuracy, seed... Not synchronised: change it only while no
    /// other thread reads it (save(), summary()).
    std::map<std::string, std::string> metadata;

    /// Token ids of a text (tokenize + vocabulary lookup, cut to max_length()); any text,
    /// invalid UTF-8 included (replaced by U+FFFD). Thread-safe.
    std::vector<std::uint32_t> encode(std::string_view text) const;

    /// Label and probabilities of one text; any text (an empty one too). Throws InputError
    /// when the probabilities are not a distribution (finite, summing to 1): only a model whose
    /// weights, each within the load checks' bounds, together overflow float arithmetic (a
    /// damaged or crafted file) gets there; and std::bad_alloc. Thread-safe: any number of
    /// threads may predict at once.
    TextPrediction predict(std::string_view text) const;
    /// The same for many texts, in parallel over chunks (oneTBB); out[i] belongs to texts[i].
    /// Thread-safe.
    std::vector<TextPrediction> predict(std::span<const std::string> texts) const;
    /// Probabilities of already encoded texts into `probabilities` (resized to texts x labels,
    /// row-major), on the calling thread only: the building block for callers that manage
    /// their own parallelism. Requires ids below vocabulary().size() (as encode() gives).
    /// Throws as predict(). Thread-safe.
    void predict_encoded(std::span<const std::vector<std::uint32_t>> texts, std::vector<float>& probabilities) const;

    /// Default bound on the folded tables' memory: 1 GiB.
    static constexpr std::size_t default_fold_limit = std::size_t{1} << 30;
    /// Precomputes, for every vocabulary word, its products with each convolution tap
    /// (vocab x sum(widths) x maps floats) so that predict() runs without the embedding
    /// GEMMs. Returns true when folded (every member of an ensemble); false (and prediction goes
    /// through the network, for the members that cannot be folded) when
    /// the network is not a text_cnn_spec() stack of 'full'-padded stride-1 convolutions or its
    /// tables would exceed what is left of `max_bytes`: one budget for the whole model, which
    /// an ensemble's members take in order (a quantized member's tables made at load count
    /// too). load() calls it with default_fold_limit. Not to be called while other threads
    /// predict.
    bool fold_for_prediction(std::size_t max_bytes = default_fold_limit);
    /// Back to the network's own forward pass (frees the tables). Not to be called while
    /// other threads predict. Does nothing to a quantized model (it has no network to run).
    void drop_folding();
    /// Whether predict() uses the folded tables (float or quantized; every member). Thread-safe.
    bool folded() const;

    /// Replaces the float network by int8 folded tables (text/quantized_text_cnn.h): predictions
    /// change by at most quantization_error_bound() per logit; the float weights are freed, so
    /// the model can no longer be trained, and save() writes the tables instead of them.
    /// ConfigError when the network cannot be folded (see fold_for_prediction()) or a filter is
    /// wider than 258 taps. A no-op on a quantized model. `form`: see QuantizedTables; the
    /// compact form's logits differ from the float model's by the bound below, which then also
    /// counts the rounding of the embeddings. Not to be called while other threads
    /// use the classifier. Source: the int8 tables of fastText's `quantize` (Joulin et al.
    /// 2016, FastText.zip) applied to the folded convolution tables.
    /// Where a quantized model's int8 tables come from when it is loaded.
    enum class QuantizedTables {
        stored,  ///< the tables themselves are in the file ("QFLD" v1): nothing to build at load
        /// the tables and a 4-bit residual code per table value ("QFLD" v3; half the tables'
        /// bytes again, in the file and in memory): a text whose label the int8 logits leave in
        /// doubt (another label within the rounding bound of the top one) is scored again at a
        /// 14th of the rounding error, so its label is the float model's unless that model's
        /// top two logits are within twice refined_error_bound() of each other
        refined,
        /// the file holds int8 embeddings (one scale per word) and the float convolution weights
        /// ("QFLD" v2), about a quarter of the tables' bytes for Kim's model; load() makes the
        /// same int8 tables from them with one GEMM per branch and tap (about 0.1 s for SST-2)
        compact,
        /// the compact file ("QFLD" v4, the same bytes as v2); load() makes the residual codes of
        /// `refined` along with the tables (memory as `refined`), so a text in doubt is scored
        /// again as there. The embedding's rounding remains: refined_error_bound() includes it
        compact_refined,
    };
    /// ConfigError when a member cannot be quantized, or when a compact form's tables would
    /// take more than default_fold_limit in all at load (load() refuses such a file); the model
    /// is then left as it was.
    void quantize(QuantizedTables form = QuantizedTables::stored);
    /// "stored", "refined", "compact" or "compact_refined".
    static const char* quantized_tables_name(QuantizedTables form);
    /// The form of that name; none for another name.
    static std::optional<QuantizedTables> quantized_tables_from_name(std::string_view name);
    /// Whether the model is quantized (quantize(), or loaded from a quantized file). Thread-safe.
    bool quantized() const;
    /// The form of a quantized model's tables (its first member's); none for a float model.
    /// Thread-safe.
    std::optional<QuantizedTables> quantized_form() const;
    /// For a quantized model, per label: the most a logit can differ from the float model's
    /// (rounding of the tables, not counting float summation order; for an ensemble the largest
    /// over its members); empty otherwise. Thread-safe.
    std::vector<float> quantization_error_bound() const;
    /// For a model quantized with QuantizedTables::refined or compact_refined, per label: the
    /// most a logit of a text scored again can differ from the float model's (the tables'
    /// rounding a 14th of theirs in the bound above, the embedding's as there); empty otherwise.
    /// Thread-safe.
    std::vector<float> refined_error_bound() const;
    /// Bytes the folded tables take (or would take) for this network (all members), or a
    /// quantized model's tables; 0 when it cannot be folded. Thread-safe.
    std::size_t fold_table_bytes() const;

    /// The architecture table (Network::summary_table), then vocabulary, labels, tokenizer
    /// settings and metadata. Thread-safe.
    std::string summary() const;

private:
    struct Impl;
    explicit TextClassifier(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace textcnn
