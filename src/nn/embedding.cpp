#include "textcnn/nn/embedding.h"

#include "textcnn/core/error.h"
#include "textcnn/core/rng.h"
#include "nn/token_ids.h"

#include <fmt/format.h>
#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace textcnn {

namespace {

struct EmbeddingState : LayerState {
    std::vector<std::uint32_t> ids;             ///< ids of the last forward, one per position
    std::vector<std::uint64_t> keys;            ///< backward: (id << 32) | position, sorted
    std::vector<std::size_t> segment_starts;    ///< backward: where each distinct id starts in keys
    std::vector<SequenceSpan> sorted_spans;     ///< forward: spans by offset, to find the gaps
};

constexpr std::size_t gather_grain = 256;  // positions per TBB task

std::size_t positive(const LayerSpec& spec, const std::string& key) {
    const long value = spec.require_int(key);
    if (value <= 0) throw ConfigError(spec.label() + ": setting '" + key + "' must be > 0, got " + std::to_string(value));
    return static_cast<std::size_t>(value);
}

}  // namespace

EmbeddingLayer::EmbeddingLayer(const LayerSpec& spec) : Layer(spec) {
    for (const auto& [key, value] : spec.settings)
        if (key != "vocab" && key != "dim" && key != "mode" && key != "trainable" && key != "word_dropout")
            throw ConfigError(spec.label() + ": unknown setting '" + key +
                              "' (known: vocab, dim, mode, trainable, word_dropout)");
    vocab_ = positive(spec, "vocab");
    dim_ = positive(spec, "dim");
    if (vocab_ > (std::size_t{1} << 24))
        throw ConfigError(spec.label() + ": vocab " + std::to_string(vocab_) +
                          " exceeds 2^24, the largest id a float carries exactly");
    const std::string mode = spec.get_string("mode", "non-static");
    if (mode == "non-static") mode_ = TableMode::non_static;
    else if (mode == "static") mode_ = TableMode::static_only;
    else if (mode == "multichannel") mode_ = TableMode::multichannel;
    else throw ConfigError(spec.label() + ": mode must be non-static, static or multichannel, got '" + mode + "'");
    const std::string trainable = spec.get_string("trainable", "true");
    if (trainable != "true" && trainable != "false")
        throw ConfigError(spec.label() + ": setting 'trainable' must be true or false, got '" + trainable + "'");
    table_trainable_ = trainable == "true" && mode_ != TableMode::static_only;
    const double word_dropout = spec.get_double("word_dropout", 0.0);
    if (!(word_dropout >= 0.0 && word_dropout < 1.0))
        throw ConfigError(spec.label() + ": word_dropout must be in [0, 1), got " +
                          spec.get_string("word_dropout", ""));
    word_dropout_ = static_cast<float>(word_dropout);
    // Reading words as <unk> only pays when its vector learns; over a frozen table it is noise.
    if (word_dropout_ > 0.0f && !table_trainable_)
        throw ConfigError(spec.label() + ": word_dropout needs a trainable table (mode non-static or multichannel)");
}

std::string EmbeddingLayer::details() const {
    std::string s = fmt::format("vocab {}, dim {}, ", vocab_, dim_);
    s += mode_ == TableMode::non_static ? "non-static" : mode_ == TableMode::static_only ? "static" : "multichannel";
    if (word_dropout_ > 0.0f) s += fmt::format(", word dropout {:g}", word_dropout_);
    if (mode_ != TableMode::static_only && !table_trainable_) s += ", frozen";
    return s;
}

Shape EmbeddingLayer::output_shape(const Shape& input) const {
    if (input.rank() != 3 || input.channels() != 1)
        throw ShapeError(label() + ": input " + input.str() + " must hold token ids as (batch, 1, length)");
    return Shape{input.batch(), out_channels(), input.spatial(0)};
}

std::vector<ParameterInfo> EmbeddingLayer::parameters() const {
    std::vector<ParameterInfo> infos;
    infos.push_back({"table", dim_, vocab_, true, false, table_trainable_});
    if (mode_ == TableMode::multichannel) infos.push_back({"static_table", dim_, vocab_, true, false, false});
    return infos;
}

void EmbeddingLayer::bind(std::span<const ParameterBinding> bindings) {
    const std::size_t expected = mode_ == TableMode::multichannel ? 2 : 1;
    if (bindings.size() != expected)
        throw ConfigError(label() + ": bind() got " + std::to_string(bindings.size()) + " bindings for " +
                          std::to_string(expected) + " parameters");
    table_ = bindings[0];
    if (expected == 2) static_table_ = bindings[1];
}

void EmbeddingLayer::initialize(const Initializer& init, Rng& rng) {
    const float limit = init.kind == Initializer::Kind::uniform ? init.scale : 0.25f;
    std::fill_n(table_.value, dim_, 0.0f);  // column 0: padding
    for (std::size_t i = dim_, n = dim_ * vocab_; i < n; ++i) table_.value[i] = rng.uniform(-limit, limit);
    if (mode_ == TableMode::multichannel) std::copy_n(table_.value, dim_ * vocab_, static_table_.value);
}

std::unique_ptr<LayerState> EmbeddingLayer::make_state() const { return std::make_unique<EmbeddingState>(); }

void EmbeddingLayer::forward(const Tensor& in, Tensor& out, LayerState& state_base, const RunContext& ctx) const {
    const Shape out_shape = output_shape(in.shape());
    const std::size_t length = in.shape().spatial(0);
    if (in.packed()) {
        if (in.shape().batch() != 1)
            throw ShapeError(label() + ": packed input must have shape (1, 1, length), got " + in.shape().str());
        for (const SequenceSpan& s : in.spans)
            if (std::size_t{s.offset} + s.length > length)
                throw ShapeError(label() + ": span [" + std::to_string(s.offset) + ", " +
                                 std::to_string(s.offset + s.length) + ") lies outside input " + in.shape().str());
    }
    auto& state = static_cast<EmbeddingState&>(state_base);
    const std::size_t positions = in.size();
    detail::read_token_ids(in, vocab_, label(), state.ids, state.sorted_spans);

    if (ctx.mode == Mode::training && word_dropout_ > 0.0f) {
        // After validation, so errors still name the id the caller gave.
        const std::uint64_t stream = word_dropout_stream(ctx.layer_index);
        const std::uint64_t base = ctx.step << 32;
        for (std::size_t p = 0; p < positions; ++p)
            if (state.ids[p] > unknown_id &&
                unit_float(random_bits(ctx.seed, stream, base + p)) < word_dropout_)
                state.ids[p] = unknown_id;
    }

    out.resize(out_shape);
    out.spans = in.spans;
    const std::size_t channels = out_channels();
    const bool multichannel = mode_ == TableMode::multichannel;
    const std::uint32_t* ids = state.ids.data();
    float* y = out.data();
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, positions, gather_grain),
                      [&](const tbb::blocked_range<std::size_t>& r) {
                          for (std::size_t p = r.begin(); p < r.end(); ++p) {
                              float* dst = y + p * channels;
                              const std::size_t id = ids[p];
                              if (id == 0) {
                                  std::fill_n(dst, channels, 0.0f);
                                  continue;
                              }
                              if (multichannel) {
                                  std::copy_n(static_table_.value + id * dim_, dim_, dst);
                                  dst += dim_;
                              }
                              std::copy_n(table_.value + id * dim_, dim_, dst);
                          }
                      });
}

void EmbeddingLayer::backward(const Tensor& in, const Tensor& out, const Tensor& d_out, Tensor* d_in,
                              LayerState& state_base, const RunContext& ctx) const {
    auto& state = static_cast<EmbeddingState&>(state_base);
    const std::size_t positions = in.size();
    if (d_out.shape() != output_shape(in.shape()) || state.ids.size() != positions)
        throw ShapeError(label() + ": backward got d_out " + d_out.shape().str() + " for input " + in.shape().str() +
                         " (expected " + output_shape(in.shape()).str() + " after a forward of that input)");
    std::vector<std::uint32_t>* touched = table_.touched_columns;
    // Zero what the previous backward assigned: the untouched columns must read 0.
    if (touched) {  // on every thread: on one it was 1.5 % of a 2-thread Kim CNN training step
        tbb::parallel_for(tbb::blocked_range<std::size_t>(0, touched->size(), 64), [&](const tbb::blocked_range<std::size_t>& r) {
            for (std::size_t k = r.begin(); k != r.end(); ++k)
                std::fill_n(table_.gradient + std::size_t{(*touched)[k]} * dim_, dim_, 0.0f);
        });
        touched->clear();
    } else {
        std::fill_n(table_.gradient, dim_ * vocab_, 0.0f);
    }
    if (!table_trainable_) return;

    // Sort (id, position) keys: each distinct id becomes one segment, in position order.
    state.keys.clear();
    for (std::size_t p = 0; p < positions; ++p)
        if (state.ids[p] != 0) state.keys.push_back((std::uint64_t{state.ids[p]} << 32) | p);
    std::sort(state.keys.begin(), state.keys.end());
    state.segment_starts.clear();
    for (std::size_t k = 0; k < state.keys.size(); ++k)
        if (k == 0 || (state.keys[k] >> 32) != (state.keys[k - 1] >> 32)) {
            state.segment_starts.push_back(k);
            if (touched) touched->push_back(static_cast<std::uint32_t>(state.keys[k] >> 32));
        }
    state.segment_starts.push_back(state.keys.size());

    const std::size_t channels = out_channels();
    const std::size_t offset = mode_ == TableMode::multichannel ? dim_ : 0;  // trainable half
    const float* dy = d_out.data();
    const std::size_t segments = state.segment_starts.size() - 1;
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, segments, 16), [&](const tbb::blocked_range<std::size_t>& r) {
        for (std::size_t s = r.begin(); s < r.end(); ++s) {
            const std::size_t begin = state.segment_starts[s];
            const std::size_t end = state.segment_starts[s + 1];
            float* column = table_.gradient + (state.keys[begin] >> 32) * dim_;
            for (std::size_t k = begin; k < end; ++k) {
                const float* src = dy + (state.keys[k] & 0xffffffffu) * channels + offset;
                if (k == begin) std::copy_n(src, dim_, column);
                else for (std::size_t d = 0; d < dim_; ++d) column[d] += src[d];
            }
        }
    });
}

void load_embedding_columns(float* table, std::size_t dim, std::uint32_t id, std::span<const float> vector) {
    if (vector.size() != dim)
        throw ShapeError("load_embedding_columns: vector for id " + std::to_string(id) + " has " +
                         std::to_string(vector.size()) + " values, table dim is " + std::to_string(dim));
    if (id == 0) throw ConfigError("load_embedding_columns: id 0 is the padding vector and stays zero");
    std::copy(vector.begin(), vector.end(), table + std::size_t{id} * dim);
}

void load_embedding_columns(std::span<float> table, std::size_t dim, std::uint32_t id,
                            std::span<const float> vector) {
    if (dim == 0 || (std::size_t{id} + 1) * dim > table.size())
        throw ShapeError("load_embedding_columns: id " + std::to_string(id) + " lies outside a table of " +
                         std::to_string(dim == 0 ? 0 : table.size() / dim) + " columns of dim " + std::to_string(dim));
    load_embedding_columns(table.data(), dim, id, vector);
}

}  // namespace textcnn
