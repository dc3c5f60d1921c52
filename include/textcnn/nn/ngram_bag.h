// N-gram bag: a bag of hashed word n-grams through an embedding-bag, the linear "wide" part
// of a wide-and-deep model (Cheng et al. 2016, "Wide & Deep Learning for Recommender
// Systems") in the form of fastText's classifier (Joulin et al. 2016, "Bag of Tricks for
// Efficient Text Classification"): each text becomes the sum, or mean, of one learnt row per
// word n-gram it contains, counts binarized by default as in NBSVM (Wang & Manning 2012,
// "Baselines and Bigrams").
//
// Input: token ids as floats (exact below 2^24), shape (N, 1, L), or packed (1, 1, L) with
// spans (tensor.h). Output: (N, dim), one row per sample, or (spans.size(), dim) for a packed
// input: an ordinary tensor without spans, like global pooling's, so a parallel layer can set
// it beside a convolution branch's pooled features (parallel.h).
// Id 0 is padding and ends n-grams: no n-gram contains it. An id that is not an integer in
// [0, vocab) is an InputError naming the sample and position.
//
// N-grams. For each sample, every run of n consecutive nonzero ids, n = 1 .. ngrams, is one
// feature. A unigram is its word id's column (columns 0 .. vocab - 1; column 0, padding, is
// never used); an n-gram of n >= 2 is hashed into one of `buckets` shared columns (columns
// vocab .. vocab + buckets - 1), as fastText does: column = vocab + ngram_hash(n, ids) %
// buckets. ngram_columns() lists them; it is public so that callers can compute per-feature
// statistics over the exact same features (a naive-Bayes log-count ratio, say).
//
// Settings: vocab (> 0, the ids the input may hold, including the reserved ids 0 and 1),
// dim (> 0), ngrams (longest n-gram, 1 .. 8, default 2), buckets (>= 0, default 0; must be
// > 0 when ngrams >= 2), reduce = sum (default) | mean (divide by the number of features
// counted; an empty text gives zeros), binary (true|false, default true: each distinct
// feature counts once per sample; false: as many times as it occurs), trainable (true|false,
// default true).
//
// Parameters: "ngram_table", dim x (vocab + buckets) column-major (column = one feature),
// sparse_columns, not max_norm_columns (as the embedding table), trainable unless frozen.
//
// Backward assigns the table gradient only in the columns of the features of the batch: it
// zeroes the columns it touched the previous time, sums weight x d_out row per column in
// sample order (deterministic whatever the threads), and writes the sorted columns to
// *touched_columns. A frozen table gets no gradient and an empty touched list. Ids are not
// differentiable: d_in, if given, is left as is.
//
// Initialisation: U(+-1/dim) for every column (fastText's input matrix), whatever the
// Initializer; column 0 (padding) is zero.
//
// Thread safety: as every layer (layer.h): forward/backward are const; the per-call state
// lives in the LayerState.
#pragma once

#include "textcnn/nn/layer.h"

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace textcnn {

class NgramBagLayer : public Layer {
public:
    enum class Reduce { sum, mean };
    static constexpr std::size_t max_ngrams = 8;

    /// ConfigError naming the layer for an unknown or bad setting (see the file comment).
    explicit NgramBagLayer(const LayerSpec& spec);

    std::size_t vocab() const { return vocab_; }
    std::size_t buckets() const { return buckets_; }
    std::size_t ngrams() const { return ngrams_; }
    std::size_t dim() const { return dim_; }
    Reduce reduce() const { return reduce_; }
    bool binary() const { return binary_; }
    /// Columns of the table: vocab + buckets.
    std::size_t columns() const { return vocab_ + buckets_; }

    /// The 64-bit hash of the n-gram `ids` (n = ids.size()); the bucket is hash % buckets.
    static std::uint64_t ngram_hash(std::span<const std::uint32_t> ids);
    /// Appends to `out` the table columns of the features of one text `ids` (ids < vocab, not
    /// checked): for n = 1 .. ngrams and each start position, in that order, skipping n-grams
    /// that contain id 0. With `binary` each column is listed once (in increasing order);
    /// otherwise once per occurrence (in the order above).
    static void ngram_columns(std::span<const std::uint32_t> ids, std::size_t ngrams, std::size_t vocab,
                              std::size_t buckets, bool binary, std::vector<std::uint32_t>& out);
    /// The same with this layer's settings.
    void columns_of(std::span<const std::uint32_t> ids, std::vector<std::uint32_t>& out) const {
        ngram_columns(ids, ngrams_, vocab_, buckets_, binary_, out);
    }

    Shape output_shape(const Shape& input) const override;
    std::string details() const override;
    std::vector<ParameterInfo> parameters() const override;
    void bind(std::span<const ParameterBinding> bindings) override;
    void initialize(const Initializer& init, Rng& rng) override;
    std::unique_ptr<LayerState> make_state() const override;
    void forward(const Tensor& in, Tensor& out, LayerState& state, const RunContext& ctx) const override;
    void backward(const Tensor& in, const Tensor& out, const Tensor& d_out, Tensor* d_in, LayerState& state,
                  const RunContext& ctx) const override;

private:
    std::size_t vocab_ = 0;
    std::size_t buckets_ = 0;
    std::size_t ngrams_ = 2;
    std::size_t dim_ = 0;
    Reduce reduce_ = Reduce::sum;
    bool binary_ = true;
    bool trainable_ = true;
    ParameterBinding table_;
};

}  // namespace textcnn
