// Embedding: token ids -> word vectors, the first layer of a text model.
//
// Input: token ids as floats (exact below 2^24), shape (N, 1, L), or packed (1, 1, L) with
// spans (tensor.h). Output: (N, dim, L), or (N, 2 * dim, L) in multichannel mode, with the
// input's spans; output column (n, l) is the vector of the word at (n, l).
// Id 0 is padding: it always gives a zero vector and never receives gradient. An id that is
// not an integer in [0, vocab) is an InputError naming the sample and position, and so is a
// nonzero id in the gap between two packed sentences.
//
// Settings: vocab (> 0, including the reserved ids 0 and 1), dim (> 0),
// mode = non-static (default; one trainable table) | static (one frozen table) |
// multichannel (Kim: two tables, output channels [frozen vector, trainable vector]),
// trainable (true|false, default true; false freezes every table),
// word_dropout (rate in [0, 1), default 0): in training, each known word (id >= 2) is read as
// the unknown word (id 1) with this probability, so the unknown-word vector learns from words
// the model does see, instead of staying a never-trained random vector that every unseen word
// at prediction time shares. The draw for position p at step t is random_bits(seed,
// word_dropout_stream(layer), t << 32 | p) (rng.h): the same for any thread count. Inference
// reads every id as given. A frozen table (static, trainable false) with word_dropout > 0 is
// a ConfigError: nothing would learn from it.
//
// Parameters: "table", dim x vocab column-major (column = one word), sparse_columns, trainable
// unless frozen; in multichannel mode also "static_table" of the same size, never trainable.
// Neither is max_norm_columns.
//
// Backward assigns the table gradient only in the columns of the ids in the batch: it zeroes
// the columns it touched the previous time, sums d_out per id in position order (so the sum
// is deterministic whatever the threads), and writes the sorted ids to *touched_columns.
// Frozen tables get no gradient and an empty touched list. Ids are not differentiable:
// d_in, if given, is left as is.
//
// Initialisation: embedding tables always use a uniform distribution, U(+-init.scale) for
// Initializer::Kind::uniform and Kim's U(+-0.25) for every other kind (Glorot/He fans make no
// sense for a lookup table). Column 0 (padding) is zero. In multichannel mode the frozen table
// starts as a copy of the trainable one, as in Kim's model.
#pragma once

#include "textcnn/nn/layer.h"

#include <cstddef>
#include <cstdint>
#include <span>

namespace textcnn {

class EmbeddingLayer : public Layer {
public:
    /// "non-static", "static", "multichannel".
    enum class TableMode { non_static, static_only, multichannel };

    /// Reserved ids, part of the layer's contract: 0 is padding (a zero vector, never
    /// trained), 1 the unknown word (what word_dropout substitutes). A vocabulary that feeds
    /// this layer must number its words from first_word_id (text/vocabulary.h does).
    static constexpr std::uint32_t padding_id = 0;
    static constexpr std::uint32_t unknown_id = 1;
    static constexpr std::uint32_t first_word_id = 2;

    explicit EmbeddingLayer(const LayerSpec& spec);

    std::size_t vocab() const { return vocab_; }
    std::size_t dim() const { return dim_; }
    TableMode mode() const { return mode_; }
    float word_dropout() const { return word_dropout_; }
    /// Far from DropoutLayer::mask_stream's 0xD0 + layer, so the two never share draws.
    static std::uint64_t word_dropout_stream(std::uint32_t layer_index) {
        return 0x57440000 + std::uint64_t{layer_index};
    }
    /// Channels of the output: dim, or 2 * dim in multichannel mode.
    std::size_t out_channels() const { return mode_ == TableMode::multichannel ? 2 * dim_ : dim_; }

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
    std::size_t dim_ = 0;
    TableMode mode_ = TableMode::non_static;
    bool table_trainable_ = true;
    float word_dropout_ = 0.0f;
    ParameterBinding table_;
    ParameterBinding static_table_;  ///< multichannel only
};

/// Copies `vector` (dim values) into column `id` of a dim x vocab column-major embedding
/// table, e.g. a pretrained word vector into the Network's parameter block (the group named
/// "table", and also "static_table" in multichannel mode). ShapeError if vector.size() !=
/// dim; ConfigError for id 0, the padding vector, which stays zero.
void load_embedding_columns(float* table, std::size_t dim, std::uint32_t id, std::span<const float> vector);
/// The same with a bounds check: ShapeError if column `id` lies outside `table`.
void load_embedding_columns(std::span<float> table, std::size_t dim, std::uint32_t id,
                            std::span<const float> vector);

}  // namespace textcnn
