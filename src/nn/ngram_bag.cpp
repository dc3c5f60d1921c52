#include "textcnn/nn/ngram_bag.h"

#include "textcnn/core/error.h"
#include "textcnn/core/rng.h"
#include "nn/token_ids.h"

#include <fmt/format.h>
#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_for.h>

#include <algorithm>
#include <cmath>

namespace textcnn {

namespace {

struct NgramBagState : LayerState {
    std::vector<std::uint32_t> ids;                  ///< ids of the last forward, one per position
    std::vector<SequenceSpan> sorted_spans;          ///< forward: spans by offset, to find the gaps
    std::vector<std::vector<std::uint32_t>> columns;  ///< per sample: its features' columns
    std::vector<float> weights;                      ///< per sample: 1, or 1 / feature count (mean)
    std::vector<std::uint64_t> keys;                 ///< backward: (column << 32) | sample, sorted
    std::vector<std::size_t> segment_starts;         ///< backward: where each distinct column starts
};

const char* const known_settings = "vocab, dim, ngrams, buckets, reduce, binary, trainable";

// The integer setting `key` (required when `fallback` is negative), at least `minimum`.
long setting_at_least(const LayerSpec& spec, const std::string& key, long fallback, long minimum) {
    const long value = fallback < 0 ? spec.require_int(key) : spec.get_int(key, fallback);
    if (value < minimum)
        throw ConfigError(spec.label() + ": setting '" + key + "' must be >= " + std::to_string(minimum) + ", got " +
                          std::to_string(value));
    return value;
}

}  // namespace

NgramBagLayer::NgramBagLayer(const LayerSpec& spec) : Layer(spec) {
    for (const auto& [key, value] : spec.settings)
        if (key != "vocab" && key != "dim" && key != "ngrams" && key != "buckets" && key != "reduce" &&
            key != "binary" && key != "trainable")
            throw ConfigError(spec.label() + ": unknown setting '" + key + "' (known: " + known_settings + ")");
    vocab_ = static_cast<std::size_t>(setting_at_least(spec, "vocab", -1, 1));
    dim_ = static_cast<std::size_t>(setting_at_least(spec, "dim", -1, 1));
    ngrams_ = static_cast<std::size_t>(setting_at_least(spec, "ngrams", 2, 1));
    buckets_ = static_cast<std::size_t>(setting_at_least(spec, "buckets", 0, 0));
    if (ngrams_ > max_ngrams)
        throw ConfigError(spec.label() + ": setting 'ngrams' must be at most " + std::to_string(max_ngrams) + ", got " +
                          std::to_string(ngrams_));
    if (ngrams_ >= 2 && buckets_ == 0)
        throw ConfigError(spec.label() + ": ngrams " + std::to_string(ngrams_) +
                          " needs buckets > 0 to hash the n-grams of n >= 2 into");
    if (vocab_ > (std::size_t{1} << 24))
        throw ConfigError(spec.label() + ": vocab " + std::to_string(vocab_) +
                          " exceeds 2^24, the largest id a float carries exactly");
    if (vocab_ + buckets_ > (std::size_t{1} << 32) - 1)
        throw ConfigError(spec.label() + ": vocab + buckets must stay below 2^32 columns");
    const std::string reduce = spec.get_string("reduce", "sum");
    if (reduce == "sum") reduce_ = Reduce::sum;
    else if (reduce == "mean") reduce_ = Reduce::mean;
    else throw ConfigError(spec.label() + ": reduce must be sum or mean, got '" + reduce + "'");
    binary_ = spec.get_bool("binary", true);
    trainable_ = spec.get_bool("trainable", true);
}

std::uint64_t NgramBagLayer::ngram_hash(std::span<const std::uint32_t> ids) {
    std::uint64_t h = mix64(0x4e4752414dULL + ids.size());  // "NGRAM" + n: n-grams of different n differ
    for (std::uint32_t id : ids) h = mix64(h ^ id);
    return h;
}

void NgramBagLayer::ngram_columns(std::span<const std::uint32_t> ids, std::size_t ngrams, std::size_t vocab,
                                  std::size_t buckets, bool binary, std::vector<std::uint32_t>& out) {
    const std::size_t first = out.size();
    const std::size_t length = ids.size();
    for (std::size_t n = 1; n <= ngrams; ++n) {
        std::size_t run = 0;  // nonzero ids ending at p
        for (std::size_t p = 0; p < length; ++p) {
            run = ids[p] == 0 ? 0 : run + 1;
            if (run < n) continue;
            if (n == 1) out.push_back(ids[p]);
            else if (buckets != 0)
                out.push_back(static_cast<std::uint32_t>(vocab + ngram_hash(ids.subspan(p + 1 - n, n)) % buckets));
        }
    }
    if (binary) {
        std::sort(out.begin() + static_cast<std::ptrdiff_t>(first), out.end());
        out.erase(std::unique(out.begin() + static_cast<std::ptrdiff_t>(first), out.end()), out.end());
    }
}

std::string NgramBagLayer::details() const {
    return fmt::format("1..{}-grams, vocab {} + {} buckets, dim {}, {} of {}{}", ngrams_, vocab_, buckets_, dim_,
                       reduce_ == Reduce::sum ? "sum" : "mean", binary_ ? "binary" : "counts",
                       trainable_ ? "" : ", frozen");
}

Shape NgramBagLayer::output_shape(const Shape& input) const {
    if (input.rank() != 3 || input.channels() != 1)
        throw ShapeError(label() + ": input " + input.str() + " must hold token ids as (batch, 1, length)");
    return Shape{input.batch(), dim_};
}

std::vector<ParameterInfo> NgramBagLayer::parameters() const {
    return {{"ngram_table", dim_, columns(), true, false, trainable_}};
}

void NgramBagLayer::bind(std::span<const ParameterBinding> bindings) {
    if (bindings.size() != 1)
        throw ConfigError(label() + ": bind() got " + std::to_string(bindings.size()) + " bindings for 1 parameter");
    table_ = bindings[0];
}

void NgramBagLayer::initialize(const Initializer&, Rng& rng) {
    const float limit = 1.0f / static_cast<float>(dim_);
    std::fill_n(table_.value, dim_, 0.0f);  // column 0: padding, never a feature
    for (std::size_t i = dim_, n = dim_ * columns(); i < n; ++i) table_.value[i] = rng.uniform(-limit, limit);
}

std::unique_ptr<LayerState> NgramBagLayer::make_state() const { return std::make_unique<NgramBagState>(); }

void NgramBagLayer::forward(const Tensor& in, Tensor& out, LayerState& state_base, const RunContext&) const {
    output_shape(in.shape());
    const std::size_t length = in.shape().spatial(0);
    auto& state = static_cast<NgramBagState&>(state_base);
    if (in.packed()) {
        if (in.shape().batch() != 1)
            throw ShapeError(label() + ": packed input must have shape (1, 1, length), got " + in.shape().str());
        for (const SequenceSpan& s : in.spans)
            if (std::size_t{s.offset} + s.length > length)
                throw ShapeError(label() + ": span [" + std::to_string(s.offset) + ", " +
                                 std::to_string(s.offset + s.length) + ") lies outside input " + in.shape().str());
    }
    detail::read_token_ids(in, vocab_, label(), state.ids, state.sorted_spans);

    const std::size_t samples = in.samples();
    state.columns.resize(samples);
    state.weights.resize(samples);
    out.resize(Shape{samples, dim_});
    out.spans.clear();
    float* y = out.data();
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, samples, 8), [&](const tbb::blocked_range<std::size_t>& r) {
        for (std::size_t n = r.begin(); n < r.end(); ++n) {
            const std::size_t offset = in.packed() ? in.spans[n].offset : n * length;
            const std::size_t count = in.packed() ? in.spans[n].length : length;
            auto& columns = state.columns[n];
            columns.clear();
            columns_of(std::span<const std::uint32_t>(state.ids).subspan(offset, count), columns);
            const float weight = reduce_ == Reduce::mean && !columns.empty()
                                     ? 1.0f / static_cast<float>(columns.size()) : 1.0f;
            state.weights[n] = weight;
            float* row = y + n * dim_;
            std::fill_n(row, dim_, 0.0f);
            for (std::uint32_t c : columns) {
                const float* v = table_.value + std::size_t{c} * dim_;
                for (std::size_t d = 0; d < dim_; ++d) row[d] += v[d];
            }
            if (weight != 1.0f)
                for (std::size_t d = 0; d < dim_; ++d) row[d] *= weight;
        }
    });
}

void NgramBagLayer::backward(const Tensor& in, const Tensor&, const Tensor& d_out, Tensor*, LayerState& state_base,
                             const RunContext&) const {
    auto& state = static_cast<NgramBagState&>(state_base);
    const std::size_t samples = in.samples();
    if (d_out.shape() != Shape{samples, dim_} || state.columns.size() != samples || state.ids.size() != in.size())
        throw ShapeError(label() + ": backward got d_out " + d_out.shape().str() + " for input " + in.shape().str() +
                         " (expected (" + std::to_string(samples) + ", " + std::to_string(dim_) +
                         ") after a forward of that input)");
    std::vector<std::uint32_t>* touched = table_.touched_columns;
    if (touched) {
        for (std::uint32_t c : *touched) std::fill_n(table_.gradient + std::size_t{c} * dim_, dim_, 0.0f);
        touched->clear();
    } else {
        std::fill_n(table_.gradient, dim_ * columns(), 0.0f);
    }
    if (!trainable_) return;

    // Sort (column, sample) keys: each distinct column becomes one segment, in sample order.
    state.keys.clear();
    for (std::size_t n = 0; n < samples; ++n)
        for (std::uint32_t c : state.columns[n]) state.keys.push_back((std::uint64_t{c} << 32) | n);
    std::sort(state.keys.begin(), state.keys.end());
    state.segment_starts.clear();
    for (std::size_t k = 0; k < state.keys.size(); ++k)
        if (k == 0 || (state.keys[k] >> 32) != (state.keys[k - 1] >> 32)) {
            state.segment_starts.push_back(k);
            if (touched) touched->push_back(static_cast<std::uint32_t>(state.keys[k] >> 32));
        }
    state.segment_starts.push_back(state.keys.size());

    const float* dy = d_out.data();
    const std::size_t segments = state.segment_starts.size() - 1;
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, segments, 64), [&](const tbb::blocked_range<std::size_t>& r) {
        for (std::size_t s = r.begin(); s < r.end(); ++s) {
            const std::size_t begin = state.segment_starts[s];
            const std::size_t end = state.segment_starts[s + 1];
            float* column = table_.gradient + (state.keys[begin] >> 32) * dim_;
            for (std::size_t k = begin; k < end; ++k) {
                const std::size_t n = state.keys[k] & 0xffffffffu;
                const float* src = dy + n * dim_;
                const float w = state.weights[n];
                if (k == begin) for (std::size_t d = 0; d < dim_; ++d) column[d] = w * src[d];
                else for (std::size_t d = 0; d < dim_; ++d) column[d] += w * src[d];
            }
        }
    });
}

}  // namespace textcnn
