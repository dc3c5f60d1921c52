#include "text/quantized_text_cnn.h"

#include <fmt/format.h>

#include "core/huge_pages.h"
#include "nn/blas_single_thread.h"
#include "nn/gemm.h"
#include "textcnn/nn/ngram_bag.h"

#include "textcnn/core/bytes.h"
#include "textcnn/core/checked.h"
#include "textcnn/core/error.h"
#include "textcnn/nn/limits.h"
#include "textcnn/nn/network.h"

#include <armadillo>
#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/enumerable_thread_specific.h>
#include <oneapi/tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#ifdef __AVX2__
#include <immintrin.h>
#endif

namespace textcnn::detail {

namespace {

constexpr int max_code = 127;
// Residual codes are -7..7: the rounding error of a code, in 14ths of a scale (-0.5..0.5).
constexpr int max_residual = QuantizedTextCnn::refine_steps / 2;
// Classes up to this count get a precomputed table of pair bounds (classes^2 floats); more
// classes use the sum of the two logits' bounds, looser but linear in the class count.
constexpr std::size_t max_pair_bound_classes = 64;
// int16 sums of `taps` codes of at most 127 in magnitude never overflow.
constexpr std::size_t max_taps = std::numeric_limits<std::int16_t>::max() / max_code;
// A bound on a stored dilation, so that a crafted one cannot make a text's row list huge.
constexpr std::size_t max_dilation = std::size_t{1} << 16;

// Beyond this many embedding channels the compact form rounds each value to its nearest code:
// error-compensated rounding costs channels^2 per word and channels^3 once.
constexpr std::size_t max_compensated_channels = 1024;

// U^T for the upper Cholesky factor U of H^-1 (H^-1 = U^T U), H = sum over branches and taps of
// W_t W_t^T + 1 % of its mean diagonal (GPTQ's damping): a word's embedding error d moves its
// table values by W_t^T d, whose squared sum is d^T H d. Transposed so that the row of U that
// rounding one channel reads is a contiguous column. Empty when H^-1 has no such factor.
arma::mat compensation_factor(const FoldedTextCnn::TableInputs& in) {
    const std::size_t channels = in.channels;
    arma::mat h(channels, channels, arma::fill::zeros);
    for (const std::vector<float>& weights : in.weights) {
        // (taps x channels) x filters, column-major, is channels x (taps x filters): a column per tap and filter.
        const arma::mat w = arma::conv_to<arma::mat>::from(
            arma::fmat(const_cast<float*>(weights.data()), channels, weights.size() / channels, false, true));
        h += w * w.t();
    }
    const double mean = arma::mean(h.diag());
    h.diag() += mean > 0.0 ? 0.01 * mean : 1.0;
    arma::mat inverse, u;
    if (!arma::inv_sympd(inverse, h) || !arma::chol(u, inverse)) return {};
    return u.t();
}

// The codes of one word's embedding e (channels values, scale > 0) by error-compensated rounding
// (GPTQ: Frantar, Ashkboos, Hoefler & Alistarh 2022, "GPTQ: Accurate Post-Training Quantization
// for Generative Pre-trained Transformers", after Optimal Brain Quantization, Frantar & Alistarh
// 2022): channels are rounded in order and each one's error is spread over the channels not yet
// rounded through U, so that d^T H d, what the tables see, is small rather than |d|^2. A code
// stays the floor or the ceiling of e / scale: each value within one step of its code. `ut` is
// U^T (compensation_factor()); `target` is scratch.
void round_compensated(const float* e, float scale, const arma::mat& ut, std::int8_t* codes,
                       std::vector<double>& target) {
    const std::size_t channels = ut.n_rows;
    target.resize(channels);
    for (std::size_t d = 0; d < channels; ++d) target[d] = e[d] / double{scale};
    for (std::size_t d = 0; d < channels; ++d) {
        const double value = e[d] / double{scale};
        const double code = std::clamp(std::round(target[d]), std::max(std::floor(value), double{-max_code}),
                                       std::min(std::ceil(value), double{max_code}));
        codes[d] = static_cast<std::int8_t>(code);
        const double* row = ut.colptr(d);  // row d of U
        const double spread = (target[d] - code) / row[d];
        for (std::size_t j = d + 1; j < channels; ++j) target[j] -= spread * row[j];
    }
}

// As for float weights (network.h): a stored value must be finite and within
// ±max_usable_parameter, beyond which products of two overflow float.
bool usable(float v) { return std::isfinite(v) && std::abs(v) <= max_usable_parameter; }
bool all_usable(const std::vector<float>& values) { return std::all_of(values.begin(), values.end(), usable); }

}  // namespace

QuantizedTextCnn QuantizedTextCnn::scaled(const FoldedTextCnn& folded, std::size_t residual_bytes) {
    QuantizedTextCnn q;
    q.vocab_ = folded.vocab_;
    q.columns_ = folded.columns_;
    q.output_ = folded.output_;
    // The largest |value| of each column over all words.
    std::vector<float> largest(q.columns_, 0.0f);
    for (std::size_t v = 0; v < q.vocab_; ++v) {
        const float* row = folded.table_.data() + v * q.columns_;
        for (std::size_t c = 0; c < q.columns_; ++c) largest[c] = std::max(largest[c], std::abs(row[c]));
    }
    for (const auto& fb : folded.branches_) {
        if (fb.taps > max_taps || fb.dilation > max_dilation)
            throw ConfigError("quantize: a convolution of width " + std::to_string(fb.taps) + " and dilation " +
                              std::to_string(fb.dilation) + ": at most " + std::to_string(max_taps) +
                              " taps (their int8 codes are summed in int16) and a dilation of " +
                              std::to_string(max_dilation) + " can be quantized");
        Branch b{fb.taps, fb.dilation, fb.filters, fb.column, fb.bias, std::vector<float>(fb.filters), fb.activation};
        for (std::size_t f = 0; f < b.filters; ++f) {
            float m = 0.0f;
            for (std::size_t t = 0; t < b.taps; ++t) m = std::max(m, largest[b.column + t * b.filters + f]);
            b.scale[f] = m > 0.0f ? m / max_code : 1.0f;
        }
        q.widest_ = std::max(q.widest_, b.filters);
        q.widest_span_ = std::max(q.widest_span_, b.dilation * (b.taps - 1));
        // What a load refuses is not written (a float model of weights near 1e18 gave tables
        // its own loader refused, and quantize said "each logit within inf").
        if (!all_usable(b.bias) || !std::all_of(b.scale.begin(), b.scale.end(), usable))
            throw InputError("quantize: a convolution's table values or biases are not finite or beyond 1e18: the "
                              "model's weights are too large to quantize (a damaged model?)");
        q.branches_.push_back(std::move(b));
    }
    if (!all_usable(q.output_.dense_weights) || !all_usable(q.output_.dense_bias) || !all_usable(q.output_.bag_logits))
        throw InputError("quantize: the output layer's weights or the wide branch's logits are not finite or beyond "
                          "1e18: the model cannot be quantized (a damaged model?)");
    q.built_ = UnfilledBytes(q.vocab_ * q.columns_ + trailer + residual_bytes);
    std::fill_n(q.built_.begin() + static_cast<std::ptrdiff_t>(q.vocab_ * q.columns_), trailer, 0);
    if (residual_bytes) q.residual_offset_ = q.vocab_ * q.columns_ + trailer;
    return q;
}

std::vector<float> QuantizedTextCnn::column_scales() const {
    std::vector<float> scale(columns_, 1.0f);
    for (const Branch& b : branches_)
        for (std::size_t t = 0; t < b.taps; ++t)
            std::copy(b.scale.begin(), b.scale.end(), scale.begin() + static_cast<std::ptrdiff_t>(b.column + t * b.filters));
    return scale;
}

namespace {

// std::lround's rounding (half away from zero) of a value first brought into [-128, 128] (NaN to
// 128), written so that a loop of it vectorizes: truncate, then step away from zero when the
// rest is a half or more (the rest is exact: the value is far below 2^23).
inline int round_half_away(float value) {
    const float v = !(value <= 128.0f) ? 128.0f : value < -128.0f ? -128.0f : value;
    const int truncated = static_cast<int>(v);
    const float rest = v - static_cast<float>(truncated);
    return truncated + (rest >= 0.5f) - (rest <= -0.5f);
}

// The codes of n table values: value / scale rounded, within -127..127.
void codes_of(const float* __restrict values, const float* __restrict scale, std::int8_t* __restrict codes,
              std::size_t n) {
    for (std::size_t c = 0; c < n; ++c)
        codes[c] = static_cast<std::int8_t>(std::clamp(round_half_away(values[c] / scale[c]), -max_code, max_code));
}

// The same and each one's residual code: the rest in 14ths of a scale, within -7..7.
void codes_and_residuals_of(const float* __restrict values, const float* __restrict scale,
                            std::int8_t* __restrict codes, std::int8_t* __restrict residuals, std::size_t n) {
    for (std::size_t c = 0; c < n; ++c) {
        const float scaled = values[c] / scale[c];
        const int code = std::clamp(round_half_away(scaled), -max_code, max_code);
        codes[c] = static_cast<std::int8_t>(code);
        // scaled - code is within [-0.5, 0.5] (the scale is the column's largest |value| / 127)
        residuals[c] = static_cast<std::int8_t>(std::clamp(
            round_half_away((scaled - static_cast<float>(code)) * QuantizedTextCnn::refine_steps), -max_residual,
            max_residual));
    }
}

// Whether any of n codes is -128 (codes are -127..127): a plain reduction, written without a
// short-circuit so that it vectorizes (a table or an embedding is most of its file).
bool holds_minus_128(const std::int8_t* codes, std::size_t n) {
    std::int8_t lowest = 0;
    for (std::size_t i = 0; i < n; ++i) lowest = std::min(lowest, codes[i]);
    return lowest < -max_code;
}

}  // namespace

void QuantizedTextCnn::encode_rows(const float* rows, std::size_t first, std::size_t count,
                                   const std::vector<float>& column_scale) {
    const std::size_t half = residual_row_bytes();
    std::vector<std::int8_t> residuals(refined() ? columns_ : 0);
    for (std::size_t i = 0; i < count; ++i) {
        auto* codes = reinterpret_cast<std::int8_t*>(built_.data() + table_offset_ + (first + i) * columns_);
        if (!refined()) {
            codes_of(rows + i * columns_, column_scale.data(), codes, columns_);
            continue;
        }
        codes_and_residuals_of(rows + i * columns_, column_scale.data(), codes, residuals.data(), columns_);
        // Column j's residual in the low nibble of byte j, column j + half's in the high one (zero
        // past the row: the last byte of an odd row). Two loops without a condition, so that
        // they vectorize (as one loop with it, a quarter of this function's time).
        std::uint8_t* packed = built_.data() + residual_offset_ + (first + i) * half;
        const std::size_t paired = columns_ - half;
        for (std::size_t j = 0; j < paired; ++j)
            packed[j] = static_cast<std::uint8_t>((static_cast<unsigned>(residuals[j]) & 0xfu) |
                                                  (static_cast<unsigned>(residuals[j + half]) & 0xfu) << 4);
        for (std::size_t j = paired; j < half; ++j) packed[j] = static_cast<std::uint8_t>(residuals[j] & 0xf);
    }
}

QuantizedTextCnn QuantizedTextCnn::quantize(const FoldedTextCnn& folded, bool refine) {
    // Room for the residual codes after the table and its trailer (encode_rows writes them).
    QuantizedTextCnn q = scaled(folded, refine ? folded.vocab_ * ((folded.columns_ + 1) / 2) : 0);
    q.encode_rows(folded.table_.data(), 0, q.vocab_, q.column_scales());
    q.set_margin_bound();
    return q;
}

void QuantizedTextCnn::encode_common(ByteWriter& w) const {
    w.put<std::uint64_t>(vocab_);
    w.put<std::uint64_t>(output_.classes);
    w.put<std::uint64_t>(columns_);
    w.put<std::uint64_t>(branches_.size());
    for (const Branch& b : branches_) {
        w.put<std::uint64_t>(b.taps);
        w.put<std::uint64_t>(b.dilation);
        w.put<std::uint64_t>(b.filters);
        w.put<std::uint32_t>(static_cast<std::uint32_t>(b.activation));
        w.put_floats(b.bias);
        w.put_floats(b.scale);
    }
    w.put<std::uint64_t>(output_.in_units);
    w.put_floats(output_.dense_weights);
    w.put_floats(output_.dense_bias);
    w.put<std::uint8_t>(output_.bag ? 1 : 0);
    if (output_.bag) {
        w.put<std::uint64_t>(output_.bag->ngrams);
        w.put<std::uint64_t>(output_.bag->vocab);
        w.put<std::uint64_t>(output_.bag->buckets);
        w.put<std::uint8_t>(output_.bag->binary ? 1 : 0);
        w.put<std::uint8_t>(output_.bag->mean ? 1 : 0);
        w.put_floats(output_.bag_logits);
    }
}

std::vector<std::uint8_t> QuantizedTextCnn::encode() const {
    std::vector<std::uint8_t> bytes;
    bytes.reserve(stored_bytes() + 4096 + output_.dense_weights.size() * sizeof(float));
    ByteWriter w(bytes);
    encode_common(w);
    if (compact_) {
        w.put<std::uint64_t>(compact_->channels);
        w.put_floats(compact_->word_scale);
        w.put<std::uint64_t>(compact_->codes.size());
        w.put_bytes({reinterpret_cast<const std::uint8_t*>(compact_->codes.data()), compact_->codes.size()});
        for (std::size_t i = 0; i < branches_.size(); ++i) w.put_floats(stored_weights(i));
        return bytes;
    }
    w.put<std::uint64_t>(vocab_ * columns_);
    w.put_bytes({held_bytes() + table_offset_, vocab_ * columns_ + trailer});
    if (refined()) {
        w.put<std::uint64_t>(residual_bytes());
        w.put_bytes({held_bytes() + residual_offset_, residual_bytes()});
    }
    return bytes;
}

std::size_t QuantizedTextCnn::stored_bytes() const {
    std::size_t bytes = output_.bag_logits.size() * sizeof(float);
    if (!compact_) return bytes + vocab_ * columns_ + residual_bytes();
    bytes += compact_->codes.size() + compact_->word_scale.size() * sizeof(float);
    bytes += compact_->weights.size() * sizeof(float);
    return bytes;
}

namespace {

// Reads one branch of the section; `column` is where its taps start in a row.
template <class Branch, class Activation>
Branch read_branch(ByteReader& r, std::size_t column) {
    Branch b;
    b.taps = r.get<std::uint64_t>("branch taps");
    b.dilation = r.get<std::uint64_t>("branch dilation");
    b.filters = r.get<std::uint64_t>("branch filters");
    const auto activation = r.get<std::uint32_t>("branch activation");
    if (b.taps == 0 || b.taps > max_taps || b.dilation == 0 || b.dilation > max_dilation || b.filters == 0 ||
        activation > 3)
        r.error("a branch has " + std::to_string(b.taps) + " taps (1.." + std::to_string(max_taps) + "), dilation " +
                std::to_string(b.dilation) + " (1.." + std::to_string(max_dilation) + "), " + std::to_string(b.filters) + " filters and activation " +
                std::to_string(activation) + " (0..3)");
    // As for a float convolution (its padding is allocated per text).
    if (b.dilation * (b.taps - 1) + 1 > limits::max_receptive_extent)
        r.error("a branch of width " + std::to_string(b.taps) + " and dilation " + std::to_string(b.dilation) +
                " spans " + std::to_string(b.dilation * (b.taps - 1) + 1) + " positions (at most " +
                std::to_string(limits::max_receptive_extent) + ")");
    b.activation = static_cast<Activation>(activation);
    b.column = column;
    b.bias = r.get_floats("branch bias");
    b.scale = r.get_floats("branch scales");
    if (b.bias.size() != b.filters || b.scale.size() != b.filters)
        r.error("a branch of " + std::to_string(b.filters) + " filters has " + std::to_string(b.bias.size()) +
                " biases and " + std::to_string(b.scale.size()) + " scales");
    if (!all_usable(b.bias) || !std::all_of(b.scale.begin(), b.scale.end(), [](float s) { return usable(s) && s > 0.0f; }))
        r.error("a branch's biases or scales are not finite or beyond 1e18 (or a scale is not positive)");
    return b;
}

}  // namespace

QuantizedTextCnn QuantizedTextCnn::decode_common(ByteReader& r) {
    QuantizedTextCnn q;
    q.vocab_ = r.get<std::uint64_t>("vocabulary size");
    q.output_.classes = r.get<std::uint64_t>("class count");
    q.columns_ = r.get<std::uint64_t>("row length");
    // Each branch takes at least 4 x 8 + 4 bytes; the counts below are bounded the same way.
    const auto branches = r.get_count(36, "branch count");
    if (q.vocab_ == 0 || q.output_.classes < 2 || q.columns_ == 0 || branches == 0)
        r.error("vocabulary size, class count, row length and branch count must be positive (2 classes at least)");
    std::size_t column = 0;
    for (std::uint64_t i = 0; i < branches; ++i) {
        Branch b = read_branch<Branch, Activation>(r, column);
        column = checked_add(column, checked_mul(b.taps, b.filters, "quantized text CNN: branch columns"),
                             "quantized text CNN: row length");
        q.output_.features = checked_add(q.output_.features, b.filters, "quantized text CNN: features");
        q.widest_ = std::max(q.widest_, b.filters);
        q.widest_span_ = std::max(q.widest_span_, b.dilation * (b.taps - 1));
        q.branches_.push_back(std::move(b));
    }
    if (column != q.columns_)
        r.error("the branches fill " + std::to_string(column) + " bytes of a row, the section says " +
                std::to_string(q.columns_));
    q.output_.in_units = r.get<std::uint64_t>("output layer inputs");
    q.output_.dense_weights = r.get_floats("output weights");
    q.output_.dense_bias = r.get_floats("output bias");
    if (q.output_.in_units < q.output_.features ||
        q.output_.dense_weights.size() / q.output_.classes != q.output_.in_units ||
        q.output_.dense_weights.size() % q.output_.classes != 0 || q.output_.dense_bias.size() != q.output_.classes)
        r.error("the output layer's " + std::to_string(q.output_.dense_weights.size()) + " weights and " +
                std::to_string(q.output_.dense_bias.size()) + " biases do not fit " + std::to_string(q.output_.in_units) +
                " inputs (at least the " + std::to_string(q.output_.features) + " features) and " +
                std::to_string(q.output_.classes) + " classes");
    if (!all_usable(q.output_.dense_weights) || !all_usable(q.output_.dense_bias))
        r.error("the output layer's weights are not finite or beyond 1e18");
    const auto wide = r.get<std::uint8_t>("wide branch flag");
    if (wide > 1) r.error("the wide branch flag is " + std::to_string(wide) + " (0 or 1)");
    if (wide) {
        FoldedTextCnn::BagSettings bag;
        bag.ngrams = r.get<std::uint64_t>("n-gram order");
        bag.vocab = r.get<std::uint64_t>("n-gram vocabulary");
        bag.buckets = r.get<std::uint64_t>("n-gram buckets");
        const auto binary = r.get<std::uint8_t>("n-gram binary flag"), mean = r.get<std::uint8_t>("n-gram mean flag");
        q.output_.bag_logits = r.get_floats("n-gram logits");
        // The order is bounded as the ngram_bag layer's is: each text costs ngrams x tokens hashes
        // (an order of 2^62 made prediction run forever).
        if (bag.ngrams == 0 || bag.ngrams > NgramBagLayer::max_ngrams || bag.vocab != q.vocab_ ||
            (bag.ngrams >= 2 && bag.buckets == 0) || binary > 1 ||
            mean > 1 || bag.buckets > q.output_.bag_logits.size() ||
            q.output_.bag_logits.size() / q.output_.classes != bag.vocab + bag.buckets ||
            q.output_.bag_logits.size() % q.output_.classes != 0)
            r.error("the wide branch's settings (order " + std::to_string(bag.ngrams) + ", vocabulary " +
                    std::to_string(bag.vocab) + ", " + std::to_string(bag.buckets) + " buckets; orders 1 to " +
                    std::to_string(NgramBagLayer::max_ngrams) + ") do not fit its " +
                    std::to_string(q.output_.bag_logits.size()) + " logits or the vocabulary of " +
                    std::to_string(q.vocab_));
        if (!all_usable(q.output_.bag_logits)) r.error("the wide branch's logits are not finite or beyond 1e18");
        bag.binary = binary == 1;
        bag.mean = mean == 1;
        q.output_.bag = bag;
    }
    return q;
}

QuantizedTextCnn QuantizedTextCnn::decode(UnfilledBytes payload, std::uint32_t version,
                                          const std::string& source, Expected expected) {
    ByteReader r(payload, source + " section '" + section_tag + "'");
    QuantizedTextCnn q = decode_common(r);
    // Before anything the size of the vocabulary is allocated (a compact form's table).
    if (expected.vocab && (q.vocab_ != expected.vocab || q.output_.classes != expected.classes))
        throw InputError(source + ": the quantized tables are for " + std::to_string(q.vocab_) + " ids and " +
                         std::to_string(q.output_.classes) + " labels, the model has " + std::to_string(expected.vocab) +
                         " ids and " + std::to_string(expected.classes) + " labels");
    if (version == 2 || version == 4) {
        q.decode_compact(r, version == 4, expected.max_table_bytes);
        UnfilledBytes().swap(payload);  // what the table is made of is copied out: room for it
        q.build_table(version == 4);
        q.set_margin_bound();
        return q;
    }
    const auto table_bytes = r.get<std::uint64_t>("table size");
    // Version 3: the residual codes' size (8 bytes) and the codes follow the trailer.
    const std::size_t words_bytes = q.vocab_ <= r.remaining() / q.columns_ ? q.vocab_ * q.columns_ : 0;
    const std::size_t half = (q.columns_ + 1) / 2;
    const std::size_t after_table = version == 3 && words_bytes ? 8 + q.vocab_ * half : 0;
    const std::size_t held = r.remaining() < trailer + after_table ? 0 : r.remaining() - trailer - after_table;
    if (q.vocab_ > held / q.columns_ || table_bytes != q.vocab_ * q.columns_ || table_bytes != held)
        r.error("the table holds " + std::to_string(held) + " bytes (the section says " + std::to_string(table_bytes) +
                "), " + std::to_string(q.vocab_) + " words x " + std::to_string(q.columns_) + " bytes expected, then " +
                std::to_string(trailer) + " zero bytes" +
                (version == 3 ? ", their 8-byte size and " +
                                    (q.vocab_ <= std::numeric_limits<std::size_t>::max() / half
                                         ? std::to_string(q.vocab_ * half)
                                         : std::to_string(q.vocab_) + " x " + std::to_string(half)) +
                                    " bytes of residual codes"
                              : std::string()));
    q.table_offset_ = r.offset();
    const std::int8_t* table = reinterpret_cast<const std::int8_t*>(payload.data() + q.table_offset_);
    if (holds_minus_128(table, q.vocab_ * q.columns_) || std::any_of(table, table + q.columns_, [](std::int8_t c) { return c != 0; }) ||
        std::any_of(table + table_bytes, table + table_bytes + trailer, [](std::int8_t c) { return c != 0; }))
        r.error("the table holds the code -128 (codes are -127..127), or its padding row or trailer is not zero");
    if (version == 3) {
        r.get_bytes(table_bytes + trailer, "table");
        const auto residual_bytes = r.get<std::uint64_t>("residual code bytes");
        const std::size_t half = (q.columns_ + 1) / 2;
        if (residual_bytes != q.vocab_ * half || residual_bytes != r.remaining())
            r.error("the residual codes take " + std::to_string(residual_bytes) + " bytes, " +
                    std::to_string(q.vocab_ * half) + " expected");
        const std::uint8_t* codes = payload.data() + r.offset();
        const auto is_minus_eight = [](std::uint8_t c) { return (c & 0xf) == 8 || (c >> 4) == 8; };
        // A plain reduction over every byte, written without short-circuits so that it
        // vectorizes (the scalar loop took 9 ms of a 25 MB model's load); the byte is looked for
        // after.
        std::uint8_t minus_eight = 0;
        for (std::size_t i = 0; i < residual_bytes; ++i)
            minus_eight |= static_cast<std::uint8_t>(((codes[i] & 0x0f) == 0x08) | ((codes[i] & 0xf0) == 0x80));
        const auto where = [&](std::size_t i) {
            return "word " + std::to_string(i / half) + "'s residual byte " + std::to_string(i % half) +
                   " (section offset " + std::to_string(r.offset() + i) + ")";
        };
        if (minus_eight)
            r.error(where(static_cast<std::size_t>(std::find_if(codes, codes + residual_bytes, is_minus_eight) - codes)) +
                    " holds the code -8 (codes are -7..7)");
        if (const auto* c = std::find_if(codes, codes + half, [](std::uint8_t b) { return b != 0; }); c != codes + half)
            r.error(where(static_cast<std::size_t>(c - codes)) + " is not zero: the padding row's codes are zero");
        // Odd rows: the high nibble of each row's last byte is past the row's end.
        for (std::size_t v = 0; q.columns_ % 2 && v < q.vocab_; ++v)
            if ((codes[v * half + half - 1] >> 4) != 0)
                r.error(where(v * half + half - 1) + " has a code past its row's end (it must be zero)");
        q.residual_offset_ = r.offset();
    }
    q.storage_ = std::move(payload);  // the table stays where it was read
    q.set_margin_bound();
    return q;
}

// 'Full' padding: output o of a branch sums tap t of the word at o - span + t x dilation; the
// rows of a text are listed once with `span` rows of the padding id (all zeros) on each side,
// so output o reads rows[o + t x dilation] whatever o, without a test.

void QuantizedTextCnn::pool_block(const Branch& b, const Rows& rows, std::size_t first, bool prefetch,
                                  std::int16_t* best_out) const {
    const std::size_t span = b.dilation * (b.taps - 1), outputs = rows.length + span;
    const std::int8_t* const* row = rows.rows.data() + (rows.margin - span);
    const std::size_t offset = b.column + first;
    // Rows are scattered over a table larger than the caches: on the first pass over a text
    // each is fetched whole two tokens ahead (later passes find them in cache).
    const auto fetch = [&](std::size_t p) {
        const char* bytes = reinterpret_cast<const char*>(rows.rows[rows.margin + p]);
        for (std::size_t byte = 0; byte < columns_; byte += 64) __builtin_prefetch(bytes + byte);
    };
    if (prefetch)
        for (std::size_t p = 0; p < std::min<std::size_t>(rows.length, 2); ++p) fetch(p);
    std::int16_t best[block];
    std::fill_n(best, block, std::numeric_limits<std::int16_t>::min());
    for (std::size_t o = 0; o < outputs; ++o) {
        if (prefetch && o + 2 < rows.length) fetch(o + 2);
        std::int16_t sum[block] = {};
        for (std::size_t t = 0; t < b.taps; ++t) {
            const std::int8_t* in = row[o + t * b.dilation] + offset + t * b.filters;
            for (std::size_t j = 0; j < block; ++j) sum[j] = static_cast<std::int16_t>(sum[j] + in[j]);
        }
        for (std::size_t j = 0; j < block; ++j) best[j] = std::max(best[j], sum[j]);
    }
    std::copy_n(best, block, best_out);
}

namespace {

// 16 int16 lanes and 16 int8 codes (GCC/Clang vector extensions: one AVX2 register, two SSE2
// ones; the compiler picks the instructions the build targets).
using Lanes = std::int16_t __attribute__((vector_size(32)));
using Codes = std::int8_t __attribute__((vector_size(16)));

// 16 codes sign-extended to 16 lanes. GCC 12 turns the generic conversion into five
// instructions on AVX2; the intrinsic is one (vpmovsxbw with a memory operand).
Lanes widen(const std::int8_t* codes) {
#ifdef __AVX2__
    return reinterpret_cast<Lanes>(_mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(codes))));
#else
    Codes c;
    std::memcpy(&c, codes, sizeof c);
    return __builtin_convertvector(c, Lanes);
#endif
}

}  // namespace

template <std::size_t Blocks>
void QuantizedTextCnn::pool_wide(const Branch& b, const Rows& rows, bool prefetch, std::int16_t* best_out) const {
    // All filters of the branch at once (Blocks x 16 lanes, in registers): one pass over the
    // text per branch. Lanes past the last filter read the next bytes of the row (the table
    // is followed by `trailer` bytes) and are never used.
    const std::size_t span = b.dilation * (b.taps - 1), outputs = rows.length + span;
    const std::size_t taps = b.taps, dilation = b.dilation, filters = b.filters, column = b.column;
    const std::int8_t* const* row = rows.rows.data() + (rows.margin - span);
    const auto fetch = [&](std::size_t p) {
        const char* bytes = reinterpret_cast<const char*>(rows.rows[rows.margin + p]);
        for (std::size_t byte = 0; byte < columns_; byte += 64) __builtin_prefetch(bytes + byte);
    };
    if (prefetch)
        for (std::size_t p = 0; p < std::min<std::size_t>(rows.length, 2); ++p) fetch(p);
    Lanes best[Blocks];
    for (std::size_t k = 0; k < Blocks; ++k) best[k] = Lanes{} + std::numeric_limits<std::int16_t>::min();
    for (std::size_t o = 0; o < outputs; ++o) {
        if (prefetch && o + 2 < rows.length) fetch(o + 2);
        Lanes sum[Blocks] = {};
        for (std::size_t t = 0; t < taps; ++t) {
            const std::int8_t* in = row[o + t * dilation] + column + t * filters;
            for (std::size_t k = 0; k < Blocks; ++k) sum[k] += widen(in + k * block);
        }
        for (std::size_t k = 0; k < Blocks; ++k) best[k] = best[k] > sum[k] ? best[k] : sum[k];
    }
    std::memcpy(best_out, best, sizeof best);
}

void QuantizedTextCnn::pool(const Branch& b, const Rows& rows, bool prefetch, std::int16_t* best) const {
    switch ((b.filters + block - 1) / block) {
        case 1: return pool_wide<1>(b, rows, prefetch, best);
        case 2: return pool_wide<2>(b, rows, prefetch, best);
        case 3: return pool_wide<3>(b, rows, prefetch, best);
        case 4: return pool_wide<4>(b, rows, prefetch, best);
        case 5: return pool_wide<5>(b, rows, prefetch, best);
        case 6: return pool_wide<6>(b, rows, prefetch, best);
        case 7: return pool_wide<7>(b, rows, prefetch, best);
        case 8: return pool_wide<8>(b, rows, prefetch, best);
        default:
            // Wider branches: blocks of 16 filters, the last one moved back to end at the last
            // filter (it overlaps the one before and computes the same values for those).
            for (std::size_t first = 0;; first += block) {
                first = std::min(first, b.filters - block);
                pool_block(b, rows, first, prefetch && first == 0, best + first);
                if (first + block == b.filters) return;
            }
    }
}

namespace {

constexpr std::uint32_t padding_id[1] = {0};

}  // namespace

void QuantizedTextCnn::set_rows(std::span<const std::uint32_t> ids, Rows& rows) const {
    FoldedTextCnn::check_ids(ids, vocab_, "quantized text CNN");
    rows.length = ids.size();
    rows.margin = widest_span_;
    rows.rows.assign(checked_add(rows.length, 2 * widest_span_, "quantized text CNN: rows"), table());
    for (std::size_t p = 0; p < rows.length; ++p) rows.rows[rows.margin + p] = table() + std::size_t{ids[p]} * columns_;
}

bool QuantizedTextCnn::logits(std::span<const std::uint32_t> ids, float* logits, Scratch& scratch) const {
    if (ids.empty()) ids = padding_id;
    Rows& rows = scratch.rows;
    set_rows(ids, rows);
    // Room for the lanes past the last filter of the widest branch.
    scratch.sums.resize(widest_ + 8 * block);
    scratch.features.resize(output_.features);
    float* features = scratch.features.data();
    std::int16_t* best = scratch.sums.data();
    for (std::size_t bi = 0; bi < branches_.size(); ++bi) {
        const Branch& b = branches_[bi];
        pool(b, rows, bi == 0, best);
        for (std::size_t f = 0; f < b.filters; ++f)
            features[f] = b.scale[f] * static_cast<float>(best[f]) + b.bias[f];
        FoldedTextCnn::activate(b.activation, features, b.filters);
        features += b.filters;
    }
    output_.logits(scratch.features.data(), ids, logits);
    if (!refined() || !undecided(logits)) return false;
    refined_logits(ids, logits, scratch);
    return true;
}

float QuantizedTextCnn::largest_logit_bound(bool scored_again) const {
    return scored_again ? largest_refined_bound_ : largest_bound_;
}

bool QuantizedTextCnn::undecided(const float* logits) const {
    const std::size_t classes = output_.classes;
    const std::size_t top = static_cast<std::size_t>(std::max_element(logits, logits + classes) - logits);
    for (std::size_t c = 0; c < classes; ++c) {
        if (c == top) continue;
        const float bound = classes <= max_pair_bound_classes ? margin_bound_[top * classes + c]
                                                               : logit_bound_[top] + logit_bound_[c];
        if (logits[top] - logits[c] <= bound) return true;
    }
    return false;
}

void QuantizedTextCnn::fine_row(std::size_t word, std::int16_t* out) const {
    // Column j's residual in the low nibble of byte j, column j + half's in the high one, each
    // sign-extended by an arithmetic shift: two loops the compiler vectorizes.
    const std::int8_t* code = table() + word * columns_;
    const std::size_t half = residual_row_bytes();
    const auto* residuals = reinterpret_cast<const std::int8_t*>(held_bytes() + residual_offset_ + word * half);
    for (std::size_t j = 0; j < half; ++j)
        out[j] = static_cast<std::int16_t>(code[j] * refine_steps + static_cast<std::int8_t>(residuals[j] << 4) / 16);
    for (std::size_t j = half; j < columns_; ++j)
        out[j] = static_cast<std::int16_t>(code[j] * refine_steps + (residuals[j - half] >> 4));
}

void QuantizedTextCnn::refined_logits(std::span<const std::uint32_t> ids, float* logits, Scratch& scratch) const {
    if (!refined()) throw ConfigError("quantized text CNN: refined logits need the residual codes (quantize --refine)");
    if (ids.empty()) ids = padding_id;
    FoldedTextCnn::check_ids(ids, vocab_, "quantized text CNN");
    // Outputs go in blocks of refine_block_outputs (the widest branch's run to length +
    // widest_span_): a block's outputs [o0, o1) read text positions [o0 - widest_span_, o1),
    // whose refined rows (code x 14 + residual) are made for the block, after row 0 (zeros, the
    // padding outside the text). The scratch is at most (block + widest_span_ + 1) x columns
    // and never more than (length + 1) x columns (one row per token took 9.6 GB for a
    // 4-million-token line). Integer sums and maxima: the result does not depend on the block.
    const std::size_t length = ids.size(), half = residual_row_bytes(), widest = widest_span_;
    const std::size_t end = length + widest;
    // (+ block: fine_pool_wide's lanes past a row's last filter read on)
    scratch.fine.resize((std::min(length, refine_block_outputs + widest) + 1) * columns_ + block);  // bounded at decode
    std::fill_n(scratch.fine.begin(), columns_, 0);
    scratch.fine_best.assign(output_.features + widest_, std::numeric_limits<std::int32_t>::min());
    std::int32_t* sums = scratch.fine_best.data() + output_.features;
    for (std::size_t o0 = 0; o0 < end; o0 += refine_block_outputs) {
        const std::size_t o1 = std::min(end, o0 + refine_block_outputs);
        const FineRows rows{std::max(o0, widest) - widest, std::min(length, o1)};
        for (std::size_t p = rows.first; p < rows.end; ++p) {  // the residual rows are not in cache: ask for all now
            const char* bytes = reinterpret_cast<const char*>(held_bytes() + residual_offset_ + ids[p] * half);
            for (std::size_t byte = 0; byte < half; byte += 64) __builtin_prefetch(bytes + byte);
        }
        for (std::size_t p = rows.first; p < rows.end; ++p)
            fine_row(ids[p], scratch.fine.data() + (p - rows.first + 1) * columns_);
        std::int32_t* top = scratch.fine_best.data();
        for (const Branch& b : branches_) {
            const std::size_t outputs = std::min(o1, length + b.dilation * (b.taps - 1));
            // code x 14 + residual is at most 127 x 14 + 7 = 1,785: sums of up to 18 taps fit int16.
            if (o0 < outputs) {
                const bool int16_sums =
                    b.taps * (max_code * refine_steps + max_residual) <= std::numeric_limits<std::int16_t>::max();
                if (int16_sums && b.filters <= 8 * block)
                    fine_pool_wide(b, scratch.fine.data(), rows, o0, outputs, top);
                else if (int16_sums)
                    fine_pool<std::int16_t>(b, scratch.fine.data(), rows, o0, outputs, top, sums);
                else
                    fine_pool<std::int32_t>(b, scratch.fine.data(), rows, o0, outputs, top, sums);
            }
            top += b.filters;
        }
    }
    scratch.features.resize(output_.features);
    float* features = scratch.features.data();
    const std::int32_t* best = scratch.fine_best.data();
    for (const Branch& b : branches_) {
        for (std::size_t f = 0; f < b.filters; ++f)
            features[f] = b.scale[f] / refine_steps * static_cast<float>(best[f]) + b.bias[f];
        FoldedTextCnn::activate(b.activation, features, b.filters);
        features += b.filters;
        best += b.filters;
    }
    output_.logits(scratch.features.data(), ids, logits);
}

template <std::size_t Blocks>
void QuantizedTextCnn::fine_pool_blocks(const Branch& b, const std::int16_t* fine, FineRows rows, std::size_t o0,
                                        std::size_t o1, std::int32_t* top) const {
    // fine_pool's int16 sums with every filter of the branch in registers (Blocks x 16 lanes),
    // as pool_wide: lanes past the last filter read the next values and are never used.
    const std::size_t span = b.dilation * (b.taps - 1), filters = b.filters;
    Lanes best[Blocks];
    for (std::size_t k = 0; k < Blocks; ++k) best[k] = Lanes{} + std::numeric_limits<std::int16_t>::min();
    for (std::size_t o = o0; o < o1; ++o) {
        Lanes sum[Blocks] = {};
        for (std::size_t t = 0; t < b.taps; ++t) {
            const std::size_t at = o + t * b.dilation;  // position + span
            const std::size_t row = at < span || at - span >= rows.end ? 0 : at - span - rows.first + 1;
            const std::int16_t* in = fine + row * columns_ + b.column + t * filters;
            for (std::size_t k = 0; k < Blocks; ++k) {
                Lanes v;
                std::memcpy(&v, in + k * block, sizeof v);
                sum[k] += v;
            }
        }
        for (std::size_t k = 0; k < Blocks; ++k) best[k] = best[k] > sum[k] ? best[k] : sum[k];
    }
    std::int16_t lanes[Blocks * block];
    std::memcpy(lanes, best, sizeof best);
    for (std::size_t f = 0; f < filters; ++f) top[f] = std::max(top[f], std::int32_t{lanes[f]});
}

void QuantizedTextCnn::fine_pool_wide(const Branch& b, const std::int16_t* fine, FineRows rows, std::size_t o0,
                                      std::size_t o1, std::int32_t* top) const {
    switch ((b.filters + block - 1) / block) {
        case 1: return fine_pool_blocks<1>(b, fine, rows, o0, o1, top);
        case 2: return fine_pool_blocks<2>(b, fine, rows, o0, o1, top);
        case 3: return fine_pool_blocks<3>(b, fine, rows, o0, o1, top);
        case 4: return fine_pool_blocks<4>(b, fine, rows, o0, o1, top);
        case 5: return fine_pool_blocks<5>(b, fine, rows, o0, o1, top);
        case 6: return fine_pool_blocks<6>(b, fine, rows, o0, o1, top);
        case 7: return fine_pool_blocks<7>(b, fine, rows, o0, o1, top);
        default: return fine_pool_blocks<8>(b, fine, rows, o0, o1, top);
    }
}

template <class Sum>
void QuantizedTextCnn::fine_pool(const Branch& b, const std::int16_t* fine, FineRows rows, std::size_t o0,
                                 std::size_t o1, std::int32_t* top, std::int32_t* scratch) const {
    // Output o sums tap t of text position o - span + t x dilation (row 0, zeros, outside the text).
    const std::size_t span = b.dilation * (b.taps - 1), filters = b.filters;
    Sum* sum = reinterpret_cast<Sum*>(scratch);  // widest_ int32 hold widest_ sums of either type
    for (std::size_t o = o0; o < o1; ++o) {
        std::fill_n(sum, filters, Sum{0});
        for (std::size_t t = 0; t < b.taps; ++t) {
            const std::size_t at = o + t * b.dilation;  // position + span
            const std::size_t row = at < span || at - span >= rows.end ? 0 : at - span - rows.first + 1;
            const std::int16_t* in = fine + row * columns_ + b.column + t * filters;
            for (std::size_t f = 0; f < filters; ++f) sum[f] = static_cast<Sum>(sum[f] + in[f]);
        }
        for (std::size_t f = 0; f < filters; ++f) top[f] = std::max(top[f], std::int32_t{sum[f]});
    }
}

std::vector<std::int8_t> QuantizedTextCnn::embedding_codes(const FoldedTextCnn::TableInputs& in, std::size_t vocab,
                                                          std::vector<float>& scales, Rounding rounding) {
    const std::size_t channels = in.channels;
    scales.assign(vocab, 0.0f);
    std::vector<std::int8_t> codes(vocab * channels, 0);
    const arma::mat ut = rounding == Rounding::compensated && channels <= max_compensated_channels
                             ? compensation_factor(in)
                             : arma::mat();
    // Each word on its own (the same codes whatever the threads).
    tbb::parallel_for(tbb::blocked_range<std::size_t>(1, std::max<std::size_t>(vocab, 1), 64),
                      [&](const tbb::blocked_range<std::size_t>& range) {
        std::vector<double> target;
        for (std::size_t v = range.begin(); v != range.end(); ++v) {  // the padding row (0) stays zero
            const float* e = in.embedded.data() + v * channels;
            float largest = 0.0f;
            for (std::size_t d = 0; d < channels; ++d) largest = std::max(largest, std::abs(e[d]));
            const float scale = largest / max_code;
            scales[v] = scale;
            if (scale == 0.0f) continue;
            std::int8_t* word = codes.data() + v * channels;
            if (!ut.is_empty()) {
                round_compensated(e, scale, ut, word, target);
                continue;
            }
            for (std::size_t d = 0; d < channels; ++d)
                word[d] = static_cast<std::int8_t>(std::clamp(std::lround(e[d] / scale), long{-max_code}, long{max_code}));
        }
    });
    return codes;
}

QuantizedTextCnn QuantizedTextCnn::quantize_compact(const FoldedTextCnn& folded, const FoldedTextCnn::TableInputs& in,
                                                    bool refine) {
    QuantizedTextCnn q = scaled(folded);  // the per-filter scales, from the float table
    Compact c;
    c.channels = in.channels;
    const std::vector<std::int8_t> codes = embedding_codes(in, q.vocab_, c.word_scale, Rounding::compensated);
    c.codes.assign(codes.begin(), codes.end());
    c.weights.resize(q.columns_ * c.channels);
    q.compact_ = std::move(c);
    for (std::size_t i = 0; i < q.branches_.size(); ++i) q.set_weights(i, in.weights.at(i));
    q.build_table(refine);  // as a load makes it, so that saving and loading changes nothing
    q.set_margin_bound();
    return q;
}

void QuantizedTextCnn::build_table(bool refine) {
    const Compact& c = *compact_;
    const std::vector<float> column_scale = column_scales();
    // Room for the residual codes after the table and its trailer (encode_rows writes them).
    const std::size_t residuals = refine ? vocab_ * residual_row_bytes() : 0;
    built_ = UnfilledBytes(vocab_ * columns_ + trailer + residuals);
    table_offset_ = 0;
    residual_offset_ = refine ? vocab_ * columns_ + trailer : 0;
    // What the blocks below do not write: the padding row (0), the trailer, the padding row's
    // residual codes. The rest is first touched by the threads that write it.
    std::fill_n(built_.begin(), columns_, 0);
    std::fill_n(built_.begin() + static_cast<std::ptrdiff_t>(vocab_ * columns_), trailer, 0);
    if (refine) std::fill_n(built_.begin() + static_cast<std::ptrdiff_t>(residual_offset_), residual_row_bytes(), 0);
    // Blocks of 128 words (128 x columns floats of scratch per thread, not the whole table), in
    // parallel: each block writes its own rows, the same bytes whatever the threads, with one
    // single-threaded GEMM per branch (every tap at once: 24 calls of 100 x 128 outputs each per
    // 256 words for Kim's model packed the embeddings 12 times, a fifth of a load's time). The
    // scratch is the thread's for the whole build (a buffer per task took its page faults again
    // each time), one buffer for the embedded words and their rows. 128 words rather than 256:
    // Kim's 0.77 MB stay under HugePageAllocator's 1 MiB (256 words' 1.5 MB took a whole 2 MiB
    // page) and OpenBLAS's packing buffer stays small, so that a compact refined load peaked
    // 2.2 MB lower per thread (predict of an empty file: 45.9 -> 43.8 MB on 1 thread, 48.8 ->
    // 45.1 MB on 2) for 0.01 s more CPU (0.14 -> 0.15 s; 12 runs each).
    constexpr std::size_t words_at_once = 128;
    const std::size_t blocks_of_words = (vocab_ - 1 + words_at_once - 1) / words_at_once;  // row 0, padding, stays zero
    const std::size_t embedded_floats = words_at_once * c.channels;
    tbb::enumerable_thread_specific<std::vector<float, HugePageAllocator<float>>> scratch;
    BlasSingleThreadScope single;
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, blocks_of_words, 1), [&](const tbb::blocked_range<std::size_t>& r) {
        auto& buffer = scratch.local();
        buffer.resize(embedded_floats + words_at_once * columns_);
        float* embedded = buffer.data();
        float* rows = embedded + embedded_floats;
        for (std::size_t k = r.begin(); k != r.end(); ++k) {
            const std::size_t first = 1 + k * words_at_once, count = std::min(words_at_once, vocab_ - first);
            for (std::size_t i = 0; i < count; ++i)
                for (std::size_t d = 0; d < c.channels; ++d)
                    embedded[i * c.channels + d] = c.word_scale[first + i] * c.codes[(first + i) * c.channels + d];
            // A branch's columns of the rows (column per word) = its weights^T x embedded. One
            // GEMM per branch rather than one for all: OpenBLAS packs the weights into a buffer of
            // the thread's, whose pages a 1,200-column product took 1.3 MB more of per thread.
            for (const Branch& b : branches_)
                sgemm(true, false, b.taps * b.filters, count, c.channels, 1.0f, c.weight(b.column), c.channels, embedded,
                      c.channels, 0.0f, rows + b.column, columns_);
            encode_rows(rows, first, count, column_scale);
        }
    });
}

void QuantizedTextCnn::decode_compact(ByteReader& r, bool refine, std::size_t max_table_bytes) {
    Compact c;
    c.channels = r.get<std::uint64_t>("embedding channels");
    c.word_scale = r.get_floats("word scales");
    const auto code_bytes = r.get<std::uint64_t>("code bytes");
    if (c.channels == 0 || c.channels > limits::max_setting || c.word_scale.size() != vocab_ ||
        code_bytes / c.channels != vocab_ || code_bytes % c.channels != 0)
        r.error("the compact table's " + std::to_string(c.word_scale.size()) + " word scales and " +
                std::to_string(code_bytes) + " code bytes do not fit " + std::to_string(vocab_) + " words of " +
                std::to_string(c.channels) + " channels");
    if (!std::all_of(c.word_scale.begin(), c.word_scale.end(), [&](float v) { return usable(v) && v >= 0.0f; }))
        r.error("a word scale is negative, not finite or beyond 1e18");
    const auto bytes = r.get_bytes(code_bytes, "embedding codes");
    const auto* codes = reinterpret_cast<const std::int8_t*>(bytes.data());
    c.codes.assign(codes, codes + bytes.size());
    if (holds_minus_128(codes, bytes.size()) || std::any_of(codes, codes + c.channels, [](std::int8_t v) { return v != 0; }))
        r.error("the embedding holds the code -128 (codes are -127..127), or its padding row is not zero");
    // Every branch's weights, in the table's column order: channels x columns floats (the
    // columns are the branches' taps x filters, and taps, channels and filters are bounded
    // above, so the product stays far from overflowing).
    if (columns_ > r.remaining() / sizeof(float) / c.channels)
        r.error("the convolution weights (" + std::to_string(columns_) + " x " + std::to_string(c.channels) +
                " floats for the branches) run past the section's end");
    c.weights.resize(columns_ * c.channels);
    compact_ = std::move(c);
    std::vector<float> stored;
    for (std::size_t i = 0; i < branches_.size(); ++i) {
        const Branch& b = branches_[i];
        const auto count = r.get<std::uint64_t>("convolution weights");
        if (count != b.taps * compact_->channels * b.filters)
            r.error("a branch of " + std::to_string(b.taps) + " taps and " + std::to_string(b.filters) +
                    " filters has " + std::to_string(count) + " convolution weights for " +
                    std::to_string(compact_->channels) + " channels");
        stored.resize(count);
        r.read_floats(stored, "convolution weights");
        set_weights(i, stored);
    }
    if (!std::all_of(compact_->weights.begin(), compact_->weights.end(), usable))
        r.error("a convolution weight is not finite or beyond 1e18");
    if (!r.at_end()) r.error("bytes after the convolution weights");
    // The table (and with `refine` its residual codes) is made from this (build_table): bounded
    // like a folded table (TextClassifier::default_fold_limit, shared by an ensemble's members).
    const std::size_t row = columns_ + (refine ? residual_row_bytes() : 0);
    if (vocab_ > max_table_bytes / row)
        r.error(fmt::format("the table of {} words x {} bytes{} would exceed {}", vocab_, row,
                            refine ? " (with the residual codes)" : "",
                            max_table_bytes == std::size_t{1} << 30
                                ? std::string("1 GiB")
                                : fmt::format("the {} bytes left of the ensemble's 1 GiB", max_table_bytes)));
}

std::vector<float> QuantizedTextCnn::stored_weights(std::size_t branch) const {
    const Branch& b = branches_[branch];
    const std::size_t channels = compact_->channels;
    std::vector<float> stored(b.taps * channels * b.filters);
    for (std::size_t f = 0; f < b.filters; ++f)
        for (std::size_t t = 0; t < b.taps; ++t)
            std::copy_n(compact_->weight(b.column + t * b.filters + f), channels,
                        stored.begin() + static_cast<std::ptrdiff_t>((f * b.taps + t) * channels));
    return stored;
}

void QuantizedTextCnn::set_weights(std::size_t branch, std::span<const float> stored) {
    const Branch& b = branches_[branch];
    const std::size_t channels = compact_->channels;
    for (std::size_t f = 0; f < b.filters; ++f)
        for (std::size_t t = 0; t < b.taps; ++t)
            std::copy_n(stored.begin() + static_cast<std::ptrdiff_t>((f * b.taps + t) * channels), channels,
                        compact_->weights.begin() + static_cast<std::ptrdiff_t>((b.column + t * b.filters + f) * channels));
}

double QuantizedTextCnn::embedding_error(std::size_t branch, std::size_t filter) const {
    if (!compact_) return 0.0;
    // Each embedding value within one word scale of its code (error-compensated rounding picks
    // the floor or the ceiling): a table value of filter f and tap t within largest word scale
    // x sum over channels of |W_t[d, f]|.
    const float largest = *std::max_element(compact_->word_scale.begin(), compact_->word_scale.end());
    const Branch& b = branches_[branch];
    double sum = 0.0;
    for (std::size_t t = 0; t < b.taps; ++t) {
        const float* w = compact_->weight(b.column + t * b.filters + filter);
        for (std::size_t d = 0; d < compact_->channels; ++d) sum += std::abs(w[d]);
    }
    return sum * largest;
}

std::vector<double> QuantizedTextCnn::feature_error_bounds(bool scored_again, bool with_embedding) const {
    // Activations are 1-Lipschitz (sigmoid 1/4), max pooling too: a feature moves by at most
    // taps x scale / 2 (a 14th of it scored again), plus, in the compact forms, the embedding's
    // rounding.
    const double steps = scored_again ? refine_steps : 1.0;
    std::vector<double> bound;
    bound.reserve(output_.features);
    for (std::size_t i = 0; i < branches_.size(); ++i) {
        const Branch& b = branches_[i];
        for (std::size_t f = 0; f < b.filters; ++f)
            bound.push_back(static_cast<double>(b.taps) * b.scale[f] / 2 / steps +
                            (with_embedding ? embedding_error(i, f) : 0.0));
    }
    return bound;
}

std::vector<float> QuantizedTextCnn::logit_bounds(bool scored_again, bool with_embedding) const {
    // A logit moves by the output weights' sum of its features' bounds.
    const std::vector<double> feature = feature_error_bounds(scored_again, with_embedding);
    std::vector<float> bound(output_.classes, 0.0f);
    for (std::size_t c = 0; c < output_.classes; ++c) {
        const float* w = output_.dense_weights.data() + c * output_.in_units;
        double sum = 0.0;
        for (std::size_t f = 0; f < feature.size(); ++f) sum += std::abs(w[f]) * feature[f];
        bound[c] = static_cast<float>(sum);
    }
    return bound;
}

std::vector<float> QuantizedTextCnn::logit_error_bound() const { return logit_bounds(false, true); }

std::vector<float> QuantizedTextCnn::refined_logit_error_bound() const {
    return refined() ? logit_bounds(true, true) : std::vector<float>{};
}

void QuantizedTextCnn::set_margin_bound() {
    // Float summation order differs from the float folded model's: a relative and an absolute
    // allowance for it, so that a label the bound calls decided is decided.
    const auto allowance = [](double bound) { return static_cast<float>(bound * (1 + 1e-4) + 1e-5); };
    // Scoring again removes the tables' rounding, not the embedding's (compact forms): doubt is
    // judged on the tables' share alone.
    logit_bound_ = logit_bounds(false, false);
    double largest = 0.0;
    for (float& b : logit_bound_) {
        largest = std::max(largest, double{b});
        b = allowance(b);
    }
    largest_bound_ = allowance(largest);
    largest_refined_bound_ = refined() ? allowance(largest / refine_steps) : 0.0f;
    margin_bound_.clear();
    const std::size_t classes = output_.classes;
    if (!refined() || classes > max_pair_bound_classes) return;
    const std::vector<double> feature = feature_error_bounds(false, false);
    margin_bound_.assign(classes * classes, 0.0f);
    for (std::size_t a = 0; a < classes; ++a)
        for (std::size_t c = 0; c < classes; ++c) {
            const float* wa = output_.dense_weights.data() + a * output_.in_units;
            const float* wc = output_.dense_weights.data() + c * output_.in_units;
            double sum = 0.0;
            for (std::size_t f = 0; f < feature.size(); ++f) sum += std::abs(double{wa[f]} - double{wc[f]}) * feature[f];
            margin_bound_[a * classes + c] = allowance(sum);
        }
}

}  // namespace textcnn::detail
