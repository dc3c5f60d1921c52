// Private: Kim's text CNN for prediction with the embedding folded into the convolutions.
//
// The first convolution of a text CNN only ever sees embedding vectors, and there are only
// `vocab` of them. So for every word v, branch b and tap t the product E[v] . W_b[t] (one
// value per filter) can be computed once, at load time, with one GEMM per tap; the
// convolution at a position is then the sum of `taps` looked-up rows instead of
// taps x embedding_dim multiply-adds per filter: about 300x less arithmetic with Kim's 300-d
// embeddings, and no work at all for padding. The table holds vocab x (sum of widths x maps)
// floats (66 MB for SST-2's 13,866 words with widths 3,4,5 x 100 maps).
//
// The result equals the network's forward pass up to float rounding (the sums are taken in
// another order): tests bound the difference. Each text is computed on its own, in a fixed
// order, so a text's probabilities do not depend on the other texts of a call or on threads.
#pragma once

#include "textcnn/nn/network.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace textcnn::detail {

class FoldedTextCnn {
public:
    /// The folded form of `network` when its layers are: embedding -> parallel branches of
    /// [1D conv with stride 1 and 'full' padding -> optional relu|tanh|sigmoid|identity ->
    /// global_max_pool] -> any number of dropout layers -> dense; or the wide-and-deep form of
    /// text_cnn_spec(): parallel of [that embedding -> parallel -> dropout layers] and
    /// [ngram_bag of the same vocab] -> dropout layers -> dense, whose bag is folded into one
    /// logit vector per n-gram column (classes x (vocab + buckets) floats). std::nullopt for
    /// any other network, or when the tables would take more than `max_bytes`.
    static std::optional<FoldedTextCnn> fold(const Network& network, std::size_t max_bytes);

    /// Bytes the folded table would take for `network` (0 when it cannot be folded).
    static std::size_t table_bytes(const Network& network);

    std::size_t classes() const { return classes_; }
    std::size_t vocab() const { return vocab_; }
    std::size_t table_bytes() const { return (table_.size() + output_.bag_logits.size()) * sizeof(float); }

    /// Tokens whose outputs are accumulated at once: a text's scratch is (block_tokens + span)
    /// x filters floats per branch whatever its length.
    static constexpr std::size_t block_tokens = 512;

    /// Logits of one text into logits[0 .. classes). An empty text is one padding token, as
    /// in the network path. InputError for an id >= vocab(). `scratch` is reused between calls.
    void logits(std::span<const std::uint32_t> ids, float* logits, std::vector<float>& scratch) const;

    /// What the table is made of, for the compact quantized form (quantized_text_cnn.h): the
    /// embedding layer's output for every id and each branch's convolution weights.
    struct TableInputs {
        std::size_t channels = 0;
        std::vector<float> embedded;              ///< channels x vocab, column per word
        std::vector<std::vector<float>> weights;  ///< per branch: (taps x channels) x filters, column-major
    };
    /// The table inputs of `network`; std::nullopt when it cannot be folded.
    static std::optional<TableInputs> table_inputs(const Network& network);
    /// One branch's part of a table row: its weights ((taps x channels) x filters, column-major)
    /// and the row's column of its tap 0.
    struct TapBlock {
        const float* weights = nullptr;
        std::size_t taps = 0, filters = 0, column = 0;
    };
    /// Table rows of `count` words whose embedding outputs are the columns of `embedded`
    /// (channels x count) into table (count rows of `columns` floats), as fold() makes them: one
    /// GEMM per branch and tap (gemm.h's thread-stable sgemm, so the same bits on any threads).
    static void table_rows(std::span<const TapBlock> blocks, std::size_t channels, const float* embedded,
                           std::size_t count, float* table, std::size_t columns);

    /// The output layer's logits of pooled features: logits[c] = bias[c] + the sum over i < n of
    /// weights[c x stride + i] x features[i] (weights: column per class, the dense layer's
    /// layout), summed in a fixed order: eight partial sums (feature i into sum i mod 8, in
    /// feature order), added as ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7)), then to the
    /// bias; no product fused with its addition, so the bits are the same on every machine
    /// (tested against that loop written plainly).
    static void dense_logits(const float* weights, std::size_t stride, const float* bias, std::size_t classes,
                             const float* features, std::size_t n, float* logits);

private:
    friend class QuantizedTextCnn;  // quantizes table_ and shares the rest
    enum class Activation { identity, relu, tanh, sigmoid };
    /// The activations are monotone, so the max of activations is the activation of the max:
    /// applied to the pooled values in place.
    static void activate(Activation activation, float* values, std::size_t n);
    /// InputError naming `what` for an id >= vocab.
    static void check_ids(std::span<const std::uint32_t> ids, std::size_t vocab, const char* what);
    struct Branch {
        std::size_t taps = 0;
        std::size_t dilation = 1;
        std::size_t filters = 0;
        std::size_t column = 0;     ///< first table column of tap 0
        std::vector<float> bias;    ///< filters values (zeros without bias)
        Activation activation = Activation::identity;
    };
    struct BagSettings {
        std::size_t ngrams = 0, vocab = 0, buckets = 0;
        bool binary = true, mean = false;
    };
    /// What follows the pooled convolution features: the output layer, and the wide branch's
    /// logit vectors. Shared with the quantized form.
    struct Output {
        std::size_t classes = 0;
        std::size_t features = 0;  ///< convolution features: sum of filters
        std::size_t in_units = 0;  ///< dense inputs: features, then the bag's dim
        std::optional<BagSettings> bag;  ///< the wide branch, if any
        std::vector<float> bag_logits;   ///< (vocab + buckets) x classes, row-major: W_bag^T column
        std::vector<float> dense_weights;  ///< in_units x classes, column-major (as DenseLayer)
        std::vector<float> dense_bias;     ///< classes values (zeros without bias)
        /// logits[0 .. classes) from the pooled features[0 .. features) and the text's ids.
        void logits(const float* features, std::span<const std::uint32_t> ids, float* logits) const;
    };
    std::size_t vocab_ = 0;
    std::size_t columns_ = 0;  ///< table row length: sum over branches of taps x filters
    std::size_t classes_ = 0;
    std::vector<Branch> branches_;
    Output output_;
    std::vector<float> table_;  ///< vocab x columns, row-major (one row per word)
};

}  // namespace textcnn::detail
