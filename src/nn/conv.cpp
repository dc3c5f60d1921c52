#include "textcnn/nn/conv.h"

#include "textcnn/core/checked.h"
#include "textcnn/core/error.h"
#include "textcnn/nn/limits.h"
#include "textcnn/nn/filters.h"
#include "textcnn/core/runtime.h"

#include "nn/blas_single_thread.h"
#include "nn/gemm.h"
#include "nn/sizes_text.h"
#include "nn/im2col.h"

#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_for.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

namespace textcnn {

using detail::ConvGeometry;
using detail::BlasSingleThreadScope;
using detail::sgemm;
using detail::sgemm_thread_stable;

Padding parse_padding(const std::string& text, const std::string& label) {
    if (text == "valid") return Padding::valid;
    if (text == "same") return Padding::same;
    if (text == "full") return Padding::full;
    throw ConfigError(label + ": setting 'padding' must be valid, same or full, got '" + text + "'");
}

std::string padding_name(Padding padding) {
    switch (padding) {
        case Padding::valid: return "valid";
        case Padding::same: return "same";
        case Padding::full: return "full";
    }
    return "?";
}

AxisPadding conv_axis_padding(Padding padding, std::size_t kernel, std::size_t dilation) {
    const std::size_t span = dilation * (kernel - 1);
    switch (padding) {
        case Padding::valid: return {0, 0};
        case Padding::same: return {span / 2, span - span / 2};
        case Padding::full: return {span, span};
    }
    return {0, 0};
}

std::size_t conv_output_length(std::size_t input, std::size_t kernel, std::size_t stride, std::size_t dilation,
                               Padding padding) {
    const std::size_t padded = input + conv_axis_padding(padding, kernel, dilation).total();
    const std::size_t extent = dilation * (kernel - 1) + 1;
    if (padded < extent) return 0;
    return (padded - extent) / stride + 1;
}

namespace {




// One sequence of the stream path: its windows start at stream column `stream_col` (in the
// coordinates of the (possibly padded) input stream), `length` outputs, written at output
// position `out_pos`.
struct Segment {
    std::size_t stream_col = 0;
    std::size_t out_pos = 0;
    std::size_t length = 0;
};

// One non-zero of d_out for the sparse backward: window `col` (stream column), filter f.
struct SparseEntry {
    std::uint32_t col;
    std::uint32_t filter;
    float gradient;
};

// Width (stream columns) of the blocks that fix the summation order of the sparse dX update
// (even blocks' entries before odd ones', as a two-phase block-parallel update once added
// them; kept so the sums stay bit for bit). Fixed, so the order never depends on the thread
// count; at least the window extent, so a position's window spans at most two blocks.
constexpr std::size_t sparse_block_columns = 128;

struct ConvState final : LayerState {
    ConvGeometry geometry;
    bool stream = false;  // 1D stride-1 path (shifted GEMMs) rather than im2col
    // Stream path.
    std::size_t stream_positions = 0;  // columns of the input stream
    std::size_t sample_stride = 0;     // ordinary batch: stream positions per sample (0 when packed)
    bool padded = false;               // the input stream is `padded_input`, not the input tensor
    std::vector<Segment> segments;
    std::vector<float> padded_input;  // channels x stream_positions
    std::vector<float> d_stream;      // filters x stream_positions
    std::vector<float> d_padded;      // channels x stream_positions
    std::vector<SparseEntry> entries;
    std::vector<std::size_t> segment_entries;  // segments + 1 offsets into entries
    std::vector<std::uint32_t> by_filter;   // entry indices grouped by filter, column order inside
    std::vector<std::size_t> filter_start;  // filters + 1 offsets into by_filter
    std::vector<std::size_t> column_start;  // cols + 1 offsets into entries (entries are in column order)
    // Distinct-columns forward (ConvLayer::ForwardPath).
    std::vector<std::uint32_t> distinct_of;   // per stream column: its distinct column's index
    std::vector<std::uint32_t> distinct_at;   // per distinct column: the first stream column equal to it
    std::vector<std::uint64_t> hash_slots;    // open addressing: (hash high bits << 32) | distinct index + 1
    std::vector<float> distinct_columns;      // channels x distinct
    std::vector<float> tap_weights;           // (taps * filters) x channels, tap-major
    std::vector<float> distinct_products;     // (taps * filters) x distinct
    // im2col path.
    std::vector<float> columns;
    std::vector<float> d_columns;
    std::vector<float> partial_weights;  // per chunk: window x filters
    std::vector<float> partial_bias;     // per chunk: filters
};


// Samples per chunk of the generic path: about chunk_columns output columns (the chunk's
// im2col block stays in L2 between im2col and its GEMM), and at least 8 chunks when the batch
// allows, for parallelism. Depends on shapes only, never on the thread count, so the
// chunk-ordered sums of the weight gradient are deterministic.
constexpr std::size_t chunk_columns = 2048;

std::size_t chunk_samples(std::size_t batch, std::size_t out_positions) {
    const std::size_t by_size = std::max<std::size_t>(1, chunk_columns / std::max<std::size_t>(1, out_positions));
    const std::size_t by_count = std::max<std::size_t>(1, (batch + 7) / 8);
    return std::min(by_size, by_count);
}

// The generic path's chunks in parallel, with single-threaded BLAS inside: body(chunk, first
// sample, end sample, output columns) for each chunk of per_chunk samples of the N, each with
// P output positions.
template <class Body>
void for_each_chunk(std::size_t N, std::size_t P, std::size_t per_chunk, const Body& body) {
    const std::size_t chunks = (N + per_chunk - 1) / per_chunk;
    BlasSingleThreadScope single;  // sgemm inside TBB tasks
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, chunks, 1), [&](const tbb::blocked_range<std::size_t>& r) {
        for (std::size_t c = r.begin(); c != r.end(); ++c) {
            const std::size_t n0 = c * per_chunk, n1 = std::min(N, n0 + per_chunk);
            body(c, n0, n1, (n1 - n0) * P);
        }
    });
}

// A hash of one column's bits: eight multiply-xor lanes in one vector (GCC/Clang vector extension; XXH3 from
// libxxhash cost 4 % of a Kim CNN's training step here), mixed at the end. Equal columns hash
// equal; unequal ones rarely do, and group_equal_columns compares the bits anyway.
std::uint64_t column_hash(const float* column, std::size_t C) {
    constexpr std::size_t lanes = 8;
    using lane_vector = std::uint32_t __attribute__((vector_size(lanes * sizeof(std::uint32_t))));
    lane_vector h = {0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u,
                     0xa4093822u, 0x299f31d0u, 0x082efa98u, 0xec4e6c89u};
    std::size_t c = 0;
    for (; c + lanes <= C; c += lanes) {
        lane_vector w;
        std::memcpy(&w, column + c, sizeof(w));
        h = (h ^ w) * 0x9e3779b1u;
    }
    std::uint64_t x = C;
    for (; c < C; ++c) {
        std::uint32_t w;
        std::memcpy(&w, column + c, sizeof(w));
        x = (x ^ w) * 0xff51afd7ed558ccdULL;
    }
    for (std::size_t k = 0; k < lanes; ++k) {
        x = (x ^ h[k]) * 0xff51afd7ed558ccdULL;
        x ^= x >> 29;
    }
    return x ^ (x >> 32);
}

// Groups the `total` columns (C floats each) of a stream by bitwise equality: distinct_of[j]
// is the index of column j's group, groups numbered in order of first appearance, and
// distinct_at[g] the first column of group g. Returns the number of groups.
std::size_t group_equal_columns(const float* x, std::size_t total, std::size_t C, ConvState& state) {
    const std::size_t bytes = C * sizeof(float);
    const std::size_t capacity = std::bit_ceil(std::max<std::size_t>(16, 2 * total));
    state.hash_slots.assign(capacity, 0);
    state.distinct_of.resize(total);
    state.distinct_at.clear();
    for (std::size_t j = 0; j < total; ++j) {
        const float* column = x + j * C;
        const std::uint64_t h = column_hash(column, C);
        const std::uint64_t tag = h & 0xffffffff00000000ULL;
        for (std::size_t slot = h & (capacity - 1);; slot = (slot + 1) & (capacity - 1)) {
            const std::uint64_t entry = state.hash_slots[slot];
            if (entry == 0) {
                const auto group = static_cast<std::uint32_t>(state.distinct_at.size());
                state.hash_slots[slot] = tag | (std::uint64_t{group} + 1);
                state.distinct_of[j] = group;
                state.distinct_at.push_back(static_cast<std::uint32_t>(j));
                break;
            }
            const auto group = static_cast<std::uint32_t>((entry & 0xffffffffULL) - 1);
            if ((entry & 0xffffffff00000000ULL) == tag &&
                std::memcmp(x + std::size_t{state.distinct_at[group]} * C, column, bytes) == 0) {
                state.distinct_of[j] = group;
                break;
            }
        }
    }
    return state.distinct_at.size();
}

// The stream-path forward over distinct columns: text repeats words within a batch, and packed
// text has zero gaps, so a batch's distinct columns are far fewer than its positions (SST-2,
// batch 50: ~43 %). Every tap's weights multiply each distinct column once (one GEMM of
// taps * F rows), then output column j in [0, cols) sums tap i's product of the column at
// j + i*d, taps in order (tap 0 assigned) as the per-tap GEMMs accumulate. Returns false,
// writing nothing, when `force` is off and fewer than a quarter of the columns repeat.
bool distinct_columns_forward(const float* weights, std::size_t F, std::size_t C, std::size_t taps, std::size_t d,
                              const float* x, std::size_t total, std::size_t cols, bool force, ConvState& state,
                              float* o) {
    const std::size_t distinct = group_equal_columns(x, total, C, state);
    if (!force && 4 * distinct > 3 * total) return false;
    const std::size_t K = taps * C;
    const std::size_t M = taps * F;
    state.distinct_columns.resize(C * distinct);
    state.tap_weights.resize(M * C);
    state.distinct_products.resize(M * distinct);
    float* u = state.distinct_columns.data();
    float* w = state.tap_weights.data();
    for (std::size_t g = 0; g < distinct; ++g) std::copy_n(x + std::size_t{state.distinct_at[g]} * C, C, u + g * C);
    for (std::size_t i = 0; i < taps; ++i)
        for (std::size_t f = 0; f < F; ++f) std::copy_n(weights + f * K + i * C, C, w + (i * F + f) * C);
    float* z = state.distinct_products.data();
    sgemm_thread_stable(true, false, M, distinct, C, 1.0f, w, C, u, C, 0.0f, z, M);
    const std::uint32_t* group = state.distinct_of.data();
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, cols, 256), [&](const tbb::blocked_range<std::size_t>& r) {
        for (std::size_t j = r.begin(); j != r.end(); ++j) {
            float* oj = o + j * F;
            std::copy_n(z + std::size_t{group[j]} * M, F, oj);
            for (std::size_t i = 1; i < taps; ++i) {
                const float* zi = z + std::size_t{group[j + i * d]} * M + i * F;
                for (std::size_t f = 0; f < F; ++f) oj[f] += zi[f];
            }
        }
    });
    return true;
}

// out[0..n) += alpha * x[0..n)
inline void axpy(std::size_t n, float alpha, const float* x, float* out) {
    for (std::size_t i = 0; i < n; ++i) out[i] += alpha * x[i];
}

// out[i] += a[0] * x[0][i], then += a[1] * x[1][i], ... for `count` terms: the operations, in
// order, of `count` successive axpy calls (the same roundings, bit for bit), with one load and
// store of `out` per four terms instead of one per term (the sparse backward is store-bound).
void axpy_terms(std::size_t n, std::size_t count, const float* a, const float* const* x, float* __restrict out) {
    std::size_t m = 0;
    for (; m + 4 <= count; m += 4) {
        const float a0 = a[m], a1 = a[m + 1], a2 = a[m + 2], a3 = a[m + 3];
        const float* __restrict x0 = x[m];
        const float* __restrict x1 = x[m + 1];
        const float* __restrict x2 = x[m + 2];
        const float* __restrict x3 = x[m + 3];
        for (std::size_t i = 0; i < n; ++i) {
            float v = out[i];
            v += a0 * x0[i];
            v += a1 * x1[i];
            v += a2 * x2[i];
            v += a3 * x3[i];
            out[i] = v;
        }
    }
    for (; m < count; ++m) axpy(n, a[m], x[m], out);
}

// Terms are handed to axpy_terms in groups of this many.
constexpr std::size_t term_group = 8;

}  // namespace

ConvLayer::ConvLayer(const LayerSpec& spec) : Layer(spec) {
    const std::string lbl = spec.label();
    const long channels = spec.require_int("in_channels");
    if (channels < 1) throw ConfigError(lbl + ": setting 'in_channels' must be at least 1, got " + std::to_string(channels));
    in_channels_ = static_cast<std::size_t>(channels);

    predefined_ = spec.get_string("filter", "");
    if (!predefined_.empty()) {
        try {
            (void)predefined_filter(predefined_);
        } catch (const ConfigError& e) {
            throw ConfigError(lbl + ": " + e.what());
        }
    }
    const bool fixed = !predefined_.empty();

    const long filters = fixed ? spec.get_int("filters", 1) : spec.require_int("filters");
    if (filters < 1) throw ConfigError(lbl + ": setting 'filters' must be at least 1, got " + std::to_string(filters));
    filters_ = static_cast<std::size_t>(filters);

    std::vector<long> kernel = fixed ? spec.get_ints("kernel", {3, 3}) : spec.get_ints("kernel", {});
    if (kernel.empty()) (void)spec.require_string("kernel");  // throws "missing setting 'kernel'"
    if (kernel.size() > 2)
        throw ConfigError(lbl + ": setting 'kernel' takes 1 (length) or 2 (height,width) sizes, got '" +
                          spec.get_string("kernel", "") + "'");
    const std::size_t rank = kernel.size();
    kernel_ = spec.axis_sizes("kernel", kernel, rank);
    stride_ = spec.axis_sizes("stride", spec.get_ints("stride", {1}), rank);
    dilation_ = spec.axis_sizes("dilation", spec.get_ints("dilation", {1}), rank);
    // The receptive extent is the padding each packed text gets, allocated per text.
    for (std::size_t a = 0; a < rank; ++a) {
        const std::size_t extent = dilation_[a] * (kernel_[a] - 1) + 1;  // both <= limits::max_setting
        if (extent > limits::max_receptive_extent)
            throw ConfigError(lbl + ": settings 'kernel' " + std::to_string(kernel_[a]) + " and 'dilation' " +
                              std::to_string(dilation_[a]) + " give a receptive extent of " + std::to_string(extent) +
                              ", above the limit of " + std::to_string(limits::max_receptive_extent));
    }
    padding_ = parse_padding(spec.get_string("padding", "valid"), lbl);
    bias_ = spec.get_bool("bias", !fixed);
    trainable_ = spec.get_bool("trainable", !fixed);
    if (fixed) {
        if (kernel_ != std::vector<std::size_t>{3, 3})
            throw ConfigError(lbl + ": predefined filter '" + predefined_ + "' is 3x3; kernel must be 3,3, got '" +
                              spec.get_string("kernel", "") + "'");
        if (trainable_)
            throw ConfigError(lbl + ": predefined filter '" + predefined_ + "' is fixed; it cannot be trainable");
    }
}

std::size_t ConvLayer::window_size() const {
    std::size_t taps = 1;
    for (std::size_t k : kernel_) taps = checked_mul(taps, k, "conv window taps");
    return checked_mul(taps, in_channels_, "conv window size (taps x in_channels)");
}

std::string ConvLayer::details() const {
    std::string s = std::to_string(filters_) + (filters_ == 1 ? " filter " : " filters ") +
                    (kernel_.size() == 1 ? "of width " + std::to_string(kernel_[0]) : join_sizes(kernel_, "x"));
    s += ", stride " + compact_sizes(stride_);
    if (std::any_of(dilation_.begin(), dilation_.end(), [](std::size_t d) { return d != 1; }))
        s += ", dilation " + compact_sizes(dilation_);
    s += ", " + padding_name(padding_);
    if (!bias_) s += ", no bias";
    if (!predefined_.empty()) s += ", " + predefined_;
    if (!trainable_) s += ", fixed";
    return s;
}

Shape ConvLayer::output_shape(const Shape& input) const {
    const std::size_t rank = kernel_.size();
    if (input.rank() != 3 && input.rank() != 4)
        throw ShapeError(label() + ": input " + input.str() +
                         " must be (batch, channels, length) or (batch, channels, height, width)");
    if (input.spatial_rank() != rank) {
        if (rank == 1)
            throw ShapeError(label() + ": input " + input.str() + " is 2D but kernel '" + join_sizes(kernel_, ",") +
                             "' has one size; give height,width (e.g. kernel=" + join_sizes(kernel_, ",") + "," +
                             join_sizes(kernel_, ",") + ")");
        throw ShapeError(label() + ": input " + input.str() + " is 1D but kernel '" + join_sizes(kernel_, ",") +
                         "' is 2D");
    }
    if (input.channels() != in_channels_)
        throw ShapeError(label() + ": input " + input.str() + " has " + std::to_string(input.channels()) +
                         " channels, layer expects " + std::to_string(in_channels_));
    std::vector<std::size_t> dims{input.batch(), filters_};
    for (std::size_t a = 0; a < rank; ++a) {
        const std::size_t out = conv_output_length(input.spatial(a), kernel_[a], stride_[a], dilation_[a], padding_);
        if (out < 1)
            throw ShapeError(label() + ": input " + input.str() + " is too small for kernel " + join_sizes(kernel_, "x") +
                             " (dilation " + join_sizes(dilation_, "x") + ", padding " + padding_name(padding_) +
                             "): output size would be < 1");
        dims.push_back(out);
    }
    return Shape(std::move(dims));
}

std::size_t ConvLayer::workspace_elements(const Shape& input) const {
    // The im2col columns of one sample: a window of every input channel per output position;
    // 1D convolutions may take the distinct-column road instead, whose products are taps x
    // filters per input column (and the columns themselves): the larger of the two.
    const std::size_t positions = output_shape(input.with_batch(1)).positions();
    const std::size_t im2col = checked_mul(window_size(), positions, label() + ": im2col columns");
    if (kernel_.size() != 1) return im2col;
    const std::size_t taps_filters = checked_mul(kernel_[0], filters_, label() + ": taps x filters");
    const std::size_t distinct = checked_mul(checked_add(taps_filters, in_channels_, label() + ": distinct columns"),
                                             input.positions(), label() + ": distinct-column products");
    return std::max(im2col, distinct);
}

std::vector<ParameterInfo> ConvLayer::parameters() const {
    std::vector<ParameterInfo> p;
    ParameterInfo w;
    w.name = "weights";
    w.rows = window_size();
    w.cols = filters_;
    w.max_norm_columns = true;
    w.trainable = trainable_;
    p.push_back(w);
    if (bias_) {
        ParameterInfo b;
        b.name = "bias";
        b.rows = filters_;
        b.cols = 1;
        b.trainable = trainable_;
        p.push_back(b);
    }
    return p;
}

void ConvLayer::bind(std::span<const ParameterBinding> bindings) {
    if (bindings.size() != (bias_ ? 2u : 1u))
        throw ConfigError(label() + ": bind() got " + std::to_string(bindings.size()) + " bindings, expected " +
                          std::to_string(bias_ ? 2 : 1));
    weights_ = bindings[0].value;
    weights_gradient_ = bindings[0].gradient;
    if (bias_) {
        bias_values_ = bindings[1].value;
        bias_gradient_ = bindings[1].gradient;
    }
}

void ConvLayer::initialize(const Initializer& init, Rng& rng) {
    const std::size_t rows = window_size();
    const std::size_t n = rows * filters_;
    if (!predefined_.empty()) {
        // The same 3x3 kernel on every input channel, summed: row (i*3 + j) * C + c.
        const std::vector<float> k = predefined_filter(predefined_);
        for (std::size_t f = 0; f < filters_; ++f)
            for (std::size_t t = 0; t < 9; ++t)
                for (std::size_t c = 0; c < in_channels_; ++c) weights_[f * rows + t * in_channels_ + c] = k[t];
        if (bias_) std::fill_n(bias_values_, filters_, 0.0f);
        return;
    }
    const std::size_t taps = rows / in_channels_;
    const double fan_in = static_cast<double>(rows);
    const double fan_out = static_cast<double>(taps * filters_);
    float limit = 0.0f;
    float bias_limit = 0.0f;
    switch (init.kind) {
        case Initializer::Kind::glorot_uniform: limit = static_cast<float>(std::sqrt(6.0 / (fan_in + fan_out))); break;
        case Initializer::Kind::he_uniform: limit = static_cast<float>(std::sqrt(6.0 / fan_in)); break;
        case Initializer::Kind::torch_default:
            limit = static_cast<float>(1.0 / std::sqrt(fan_in));
            bias_limit = limit;
            break;
        case Initializer::Kind::uniform: limit = init.scale; break;
    }
    for (std::size_t i = 0; i < n; ++i) weights_[i] = rng.uniform(-limit, limit);
    if (bias_)
        for (std::size_t f = 0; f < filters_; ++f)
            bias_values_[f] = bias_limit > 0.0f ? rng.uniform(-bias_limit, bias_limit) : 0.0f;
}

std::unique_ptr<LayerState> ConvLayer::make_state() const { return std::make_unique<ConvState>(); }

namespace {

ConvGeometry make_geometry(const ConvLayer& layer, const Shape& in, const Shape& out) {
    ConvGeometry g;
    g.batch = in.batch();
    g.channels = in.channels();
    g.filters = layer.filters();
    const auto& k = layer.kernel();
    const auto& s = layer.stride();
    const auto& d = layer.dilation();
    if (k.size() == 1) {
        g.in_w = in.spatial(0);
        g.out_w = out.spatial(0);
        g.k_w = k[0];
        g.s_w = s[0];
        g.d_w = d[0];
        g.pad_left = conv_axis_padding(layer.padding(), k[0], d[0]).before;
    } else {
        g.in_h = in.spatial(0);
        g.in_w = in.spatial(1);
        g.out_h = out.spatial(0);
        g.out_w = out.spatial(1);
        g.k_h = k[0];
        g.k_w = k[1];
        g.s_h = s[0];
        g.s_w = s[1];
        g.d_h = d[0];
        g.d_w = d[1];
        g.pad_top = conv_axis_padding(layer.padding(), k[0], d[0]).before;
        g.pad_left = conv_axis_padding(layer.padding(), k[1], d[1]).before;
    }
    return g;
}

// Checks the spans of a packed input and returns one segment per span (output span =
// (offset - pad_before, length + p_total - extent + 1)).
std::vector<Segment> packed_segments(const ConvLayer& layer, const Tensor& in, const AxisPadding& pad,
                                     std::size_t extent) {
    const std::string where = layer.label() + ": ";
    const auto shape = [&] { return " (input " + in.shape().str() + ")"; };
    const std::size_t total = in.shape().spatial(0);
    std::vector<Segment> segments;
    segments.reserve(in.spans.size());
    std::size_t previous_end = 0;
    for (std::size_t i = 0; i < in.spans.size(); ++i) {
        const SequenceSpan& s = in.spans[i];
        const auto name = [&] {  // built only for an error: this runs for every text of every batch
            return "packed sequence " + std::to_string(i) + " (offset " + std::to_string(s.offset) + ", length " +
                   std::to_string(s.length) + ")";
        };
        if (s.length == 0) throw ShapeError(where + name() + " is empty" + shape());
        if (std::size_t{s.offset} + s.length > total) throw ShapeError(where + name() + " runs past the end" + shape());
        if (s.offset < previous_end)
            throw ShapeError(where + name() + " overlaps the previous sequence or is out of order" + shape());
        const std::size_t gap = s.offset - previous_end;
        const std::size_t needed = i == 0 ? pad.before : std::max(pad.before, pad.after);
        if (gap < needed)
            throw ShapeError(where + name() + " has a gap of " + std::to_string(gap) + " zero positions before it; padding " +
                             padding_name(layer.padding()) + " needs at least " + std::to_string(needed) + shape());
        if (s.length + pad.total() < extent)
            throw ShapeError(where + name() + " is too short for kernel " + std::to_string(layer.kernel()[0]) +
                             " (dilation " + std::to_string(layer.dilation()[0]) + ", padding " +
                             padding_name(layer.padding()) + "): its output length would be < 1" + shape());
        const std::size_t start = s.offset - pad.before;
        segments.push_back({start, start, s.length + pad.total() - extent + 1});
        previous_end = std::size_t{s.offset} + s.length;
    }
    if (total - previous_end < pad.after)
        throw ShapeError(where + "the last packed sequence is followed by " + std::to_string(total - previous_end) +
                         " zero positions; padding " + padding_name(layer.padding()) + " needs at least " +
                         std::to_string(pad.after) + shape());
    return segments;
}

}  // namespace

void ConvLayer::forward(const Tensor& in, Tensor& out, LayerState& state_base, const RunContext& ctx) const {
    auto& state = static_cast<ConvState&>(state_base);
    const Shape& in_shape = in.shape();
    const Shape out_shape = output_shape(in_shape);
    if (in_shape.elements() == 0)
        throw ShapeError(label() + ": empty input " + in_shape.str());
    ConvGeometry g = make_geometry(*this, in_shape, out_shape);
    state.geometry = g;
    const std::size_t F = filters_;
    const std::size_t C = in_channels_;
    const std::size_t K = window_size();
    const bool one_d = kernel_.size() == 1;
    state.stream = one_d && stride_[0] == 1;

    if (in.packed() && (in_shape.rank() != 3 || in_shape.batch() != 1))
        throw ShapeError(label() + ": a packed input must be (1, channels, total_length), got " + in_shape.str());
    if (in.packed() && !state.stream)
        throw ShapeError(label() + ": packed sequences need a 1D convolution with stride 1; input " + in_shape.str() +
                         ", stride " + join_sizes(stride_, "x"));

    if (!state.stream) {
        // Generic path, per chunk of samples in parallel: im2col into the chunk's block of
        // `columns` (kept for backward), then out = W^T * columns with single-threaded BLAS.
        const std::size_t N = g.batch;
        const std::size_t P = g.out_positions();
        state.columns.resize(K * g.columns());
        out.resize(out_shape);
        out.spans.clear();
        float* columns = state.columns.data();
        float* o = out.data();
        for_each_chunk(N, P, chunk_samples(N, P), [&](std::size_t, std::size_t n0, std::size_t n1, std::size_t cols) {
            detail::im2col(g, in.data(), columns, n0, n1);
            float* oc = o + n0 * P * F;
            if (ctx.mode == Mode::inference) {
                // One product per sample: on some CPUs (OpenBLAS on Zen) a column's bits
                // depend on the width of the call, so this keeps each sample's output
                // independent of the batch and of Network::forward_chunked's chunks.
                for (std::size_t n = n0; n < n1; ++n)
                    sgemm(true, false, F, P, K, 1.0f, weights_, K, columns + n * P * K, K, 0.0f, o + n * P * F, F);
            } else {
                sgemm(true, false, F, cols, K, 1.0f, weights_, K, columns + n0 * P * K, K, 0.0f, oc, F);
            }
            if (bias_)
                for (std::size_t j = 0; j < cols; ++j)
                    for (std::size_t f = 0; f < F; ++f) oc[j * F + f] += bias_values_[f];
        });
        return;
    }

    // Stream path: the batch (or packed stream) is one sequence of positions; output column j
    // is the window starting at stream position j, computed by one GEMM per kernel tap over
    // shifted views (no copy of the input).
    const AxisPadding pad = conv_axis_padding(padding_, kernel_[0], dilation_[0]);
    const std::size_t d = dilation_[0];
    const std::size_t taps = kernel_[0];
    const std::size_t extent = d * (taps - 1) + 1;
    const float* x = in.data();
    std::size_t total = 0;
    state.segments.clear();
    state.padded = false;
    if (in.packed()) {
        state.segments = packed_segments(*this, in, pad, extent);
        total = in_shape.spatial(0);
        state.sample_stride = 0;
    } else {
        const std::size_t N = in_shape.batch();
        const std::size_t L = in_shape.spatial(0);
        const std::size_t S = L + pad.total();  // sample n owns stream [n*S, (n+1)*S)
        const std::size_t L_out = out_shape.spatial(0);
        total = N * S;
        state.sample_stride = S;
        for (std::size_t n = 0; n < N; ++n) state.segments.push_back({n * S, n * L_out, L_out});
        if (pad.total() > 0) {
            state.padded = true;
            state.padded_input.resize(C * total);
            float* p = state.padded_input.data();
            tbb::parallel_for(tbb::blocked_range<std::size_t>(0, N), [&](const tbb::blocked_range<std::size_t>& r) {
                for (std::size_t n = r.begin(); n != r.end(); ++n) {
                    float* dst = p + n * S * C;
                    std::fill_n(dst, pad.before * C, 0.0f);
                    std::copy_n(in.sample(n), L * C, dst + pad.before * C);
                    std::fill_n(dst + (pad.before + L) * C, pad.after * C, 0.0f);
                }
            });
            x = p;
        }
    }
    state.stream_positions = total;
    const std::size_t cols = total - extent + 1;  // windows that fit inside the stream

    // The GEMMs write stream columns into `out` itself (resized to the stream length); an
    // ordinary batch is then compacted in place to (N, F, L_out).
    out.resize(Shape{1, F, total});
    float* o = out.data();
    const bool distinct = forward_path_ != ForwardPath::direct &&
                          distinct_columns_forward(weights_, F, C, taps, d, x, total, cols,
                                                   forward_path_ == ForwardPath::distinct_columns, state, o);
    if (!distinct)
        for (std::size_t i = 0; i < taps; ++i)
            sgemm_thread_stable(true, false, F, cols, C, 1.0f, weights_ + i * C, K, x + i * d * C, C, i == 0 ? 0.0f : 1.0f,
                                o, F);

    if (in.packed()) {
        // Zero everything outside the output spans, add the bias inside them.
        out.spans.resize(state.segments.size());
        std::size_t previous_end = 0;
        for (std::size_t s = 0; s < state.segments.size(); ++s) {
            const Segment& seg = state.segments[s];
            std::fill(o + previous_end * F, o + seg.stream_col * F, 0.0f);
            if (bias_)
                for (std::size_t t = seg.stream_col; t < seg.stream_col + seg.length; ++t)
                    for (std::size_t f = 0; f < F; ++f) o[t * F + f] += bias_values_[f];
            previous_end = seg.stream_col + seg.length;
            out.spans[s] = {static_cast<std::uint32_t>(seg.stream_col), static_cast<std::uint32_t>(seg.length)};
        }
        std::fill(o + previous_end * F, o + total * F, 0.0f);
        return;
    }
    for (const Segment& seg : state.segments)
        if (seg.out_pos != seg.stream_col)
            std::memmove(o + seg.out_pos * F, o + seg.stream_col * F, seg.length * F * sizeof(float));
    out.resize(out_shape);
    out.spans.clear();
    if (bias_) {
        const std::size_t positions = out_shape.batch() * out_shape.positions();
        tbb::parallel_for(tbb::blocked_range<std::size_t>(0, positions, 1024), [&](const tbb::blocked_range<std::size_t>& r) {
            for (std::size_t j = r.begin(); j != r.end(); ++j)
                for (std::size_t f = 0; f < F; ++f) o[j * F + f] += bias_values_[f];
        });
    }
}

namespace {

// What the backward steps read and write of the layer: its weights (window x filters, one
// column of K per filter) and, when it learns, their gradients (bias_gradient null without a
// bias; weights_gradient null when the layer is frozen).
struct BackwardParameters {
    std::size_t F = 0, C = 0, K = 0;
    const float* weights = nullptr;
    float* weights_gradient = nullptr;
    float* bias_gradient = nullptr;
};

// The generic (im2col) path, per chunk of samples in parallel: partial dW = columns * dY^T and
// db, and dX via d_columns = W * dY then col2im; partials are summed in chunk order
// (deterministic).
void im2col_backward(const BackwardParameters& p, const Tensor& d_out, Tensor* d_in, ConvState& state) {
    const ConvGeometry& g = state.geometry;
    const std::size_t F = p.F, K = p.K;
    const bool want_weights = p.weights_gradient != nullptr;
    const std::size_t N = g.batch;
    const std::size_t P = g.out_positions();
    const std::size_t per_chunk = chunk_samples(N, P);
    const std::size_t chunks = (N + per_chunk - 1) / per_chunk;
    if (want_weights) {
        state.partial_weights.resize(chunks * K * F);
        state.partial_bias.resize(chunks * F);
    }
    if (d_in) state.d_columns.resize(K * g.columns());
    const float* dy = d_out.data();
    const float* columns = state.columns.data();
    for_each_chunk(N, P, per_chunk, [&](std::size_t c, std::size_t n0, std::size_t n1, std::size_t cols) {
        const float* dyc = dy + n0 * P * F;
        if (want_weights) {
            sgemm(false, true, K, F, cols, 1.0f, columns + n0 * P * K, K, dyc, F, 0.0f,
                  state.partial_weights.data() + c * K * F, K);
            float* pb = state.partial_bias.data() + c * F;
            std::fill_n(pb, F, 0.0f);
            for (std::size_t j = 0; j < cols; ++j)
                for (std::size_t f = 0; f < F; ++f) pb[f] += dyc[j * F + f];
        }
        if (d_in) {
            float* dcols = state.d_columns.data();
            sgemm(false, false, K, cols, F, 1.0f, p.weights, K, dyc, F, 0.0f, dcols + n0 * P * K, K);
            detail::col2im_add(g, dcols, d_in->data(), n0, n1);
        }
    });
    if (!want_weights) return;
    std::copy_n(state.partial_weights.data(), K * F, p.weights_gradient);
    for (std::size_t c = 1; c < chunks; ++c) axpy(K * F, 1.0f, state.partial_weights.data() + c * K * F, p.weights_gradient);
    if (p.bias_gradient) {
        std::copy_n(state.partial_bias.data(), F, p.bias_gradient);
        for (std::size_t c = 1; c < chunks; ++c) axpy(F, 1.0f, state.partial_bias.data() + c * F, p.bias_gradient);
    }
}

// The stream path's geometry at backward time.
struct StreamShape {
    std::size_t taps = 0, d = 1, extent = 0;
    std::size_t total = 0;  ///< columns of the input stream
    std::size_t cols = 0;   ///< windows that fit inside it
    const float* x = nullptr;  ///< the (possibly padded) input stream, channels x total
};

// Lists the non-zeros of d_out inside the output spans in state.entries (column order), when
// they are few enough for the sparse path (at most an eighth of the active values with
// BackwardPath::automatic, any number with sparse); false (entries empty) otherwise. Values
// outside the spans belong to outputs that are constant zero and are ignored.
bool list_sparse_entries(const float* dy, std::size_t F, ConvLayer::BackwardPath path, ConvState& state) {
    const auto& segments = state.segments;
    state.entries.clear();
    std::size_t active = 0;
    for (const Segment& seg : segments) active += seg.length * F;
    // Non-zeros per segment in parallel, then each segment's entries at its offset: the
    // entries in column order, as one pass would list them.
    const std::size_t limit =
        path == ConvLayer::BackwardPath::sparse ? std::numeric_limits<std::size_t>::max() : (active + 7) / 8;
    state.segment_entries.assign(segments.size() + 1, 0);
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, segments.size(), 8), [&](const tbb::blocked_range<std::size_t>& r) {
        for (std::size_t s = r.begin(); s != r.end(); ++s) {
            const float* g = dy + segments[s].out_pos * F;
            std::size_t count = 0;
            for (std::size_t i = 0, n = segments[s].length * F; i < n; ++i) count += g[i] != 0.0f;
            state.segment_entries[s + 1] = count;
        }
    });
    for (std::size_t s = 0; s < segments.size(); ++s) state.segment_entries[s + 1] += state.segment_entries[s];
    if (state.segment_entries.back() > limit) return false;
    state.entries.resize(state.segment_entries.back());
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, segments.size(), 8), [&](const tbb::blocked_range<std::size_t>& r) {
        for (std::size_t s = r.begin(); s != r.end(); ++s) {
            const Segment& seg = segments[s];
            SparseEntry* out = state.entries.data() + state.segment_entries[s];
            for (std::size_t t = 0; t < seg.length; ++t) {
                const float* gcol = dy + (seg.out_pos + t) * F;
                for (std::size_t f = 0; f < F; ++f)
                    if (gcol[f] != 0.0f)
                        *out++ = {static_cast<std::uint32_t>(seg.stream_col + t), static_cast<std::uint32_t>(f), gcol[f]};
            }
        }
    });
    return true;
}

// Sparse dW (and db): group the entries by filter (a stable counting sort keeps column order),
// then one task per filter: dW[:, f] = sum over its entries of g * window.
void sparse_weight_gradient(const BackwardParameters& p, const StreamShape& sh, ConvState& state) {
    const std::size_t F = p.F, C = p.C, K = p.K;
    const auto& entries = state.entries;
    if (p.bias_gradient) {
        std::fill_n(p.bias_gradient, F, 0.0f);
        for (const SparseEntry& e : entries) p.bias_gradient[e.filter] += e.gradient;
    }
    state.filter_start.assign(F + 1, 0);
    for (const SparseEntry& e : entries) ++state.filter_start[e.filter + 1];
    for (std::size_t f = 0; f < F; ++f) state.filter_start[f + 1] += state.filter_start[f];
    state.by_filter.resize(entries.size());
    {
        std::vector<std::size_t> next(state.filter_start.begin(), state.filter_start.end() - 1);
        for (std::size_t i = 0; i < entries.size(); ++i)
            state.by_filter[next[entries[i].filter]++] = static_cast<std::uint32_t>(i);
    }
    // Undilated, a window is K contiguous floats; dilated, one run of C per tap.
    const std::size_t parts = sh.d == 1 ? 1 : sh.taps, part = sh.d == 1 ? K : C;
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, F), [&](const tbb::blocked_range<std::size_t>& r) {
        for (std::size_t f = r.begin(); f != r.end(); ++f) {
            float* dw = p.weights_gradient + f * K;
            std::fill_n(dw, K, 0.0f);
            const std::size_t first = state.filter_start[f], last = state.filter_start[f + 1];
            for (std::size_t k = first; k < last; k += term_group) {
                const std::size_t count = std::min(term_group, last - k);
                float a[term_group];
                const float* windows[term_group];
                for (std::size_t i = 0; i < parts; ++i) {
                    for (std::size_t m = 0; m < count; ++m) {
                        const SparseEntry& e = entries[state.by_filter[k + m]];
                        a[m] = e.gradient;
                        windows[m] = sh.x + (std::size_t{e.col} + i * sh.d) * C;
                    }
                    axpy_terms(part, count, a, windows, dw + i * C);
                }
            }
        }
    });
}

// Where stream position q's input gradient goes: d_in row q, or, for a padded stream, the row
// of its sample's position (null for a padding position, which has no input).
struct InputRows {
    float* dx = nullptr;
    std::size_t C = 0;
    bool padded = false;
    std::size_t S = 0, pad_before = 0, L = 0;  ///< padded: stream positions per sample, padding, length
    float* row(std::size_t q) const {
        if (!padded) return dx + q * C;
        const std::size_t n = q / S, rpos = q - n * S;
        if (rpos < pad_before || rpos >= pad_before + L) return nullptr;
        return dx + (n * L + rpos - pad_before) * C;
    }
};

// Sparse dX: dX[window] += g * W[:, f] for every entry, computed per stream position q: the
// terms of the entries whose window covers q (column q - i*d at tap i) in the order the entries
// were once added block by block (blocks of sparse_block_columns >= extent columns, even blocks
// before odd ones, columns then filters ascending inside), so the sums are those of that order,
// bit for bit. Each position is one task's alone.
void sparse_input_gradient(const BackwardParameters& p, const StreamShape& sh, const InputRows& rows, ConvState& state) {
    const std::size_t C = p.C, K = p.K, taps = sh.taps, d = sh.d, cols = sh.cols;
    const auto& entries = state.entries;
    const std::size_t width = std::max(sparse_block_columns, sh.extent);
    state.column_start.assign(cols + 1, 0);
    for (const SparseEntry& e : entries) ++state.column_start[e.col + 1];
    for (std::size_t c = 0; c < cols; ++c) state.column_start[c + 1] += state.column_start[c];
    const std::size_t* column_start = state.column_start.data();
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, sh.total, 64), [&](const tbb::blocked_range<std::size_t>& r) {
        float a[term_group];
        const float* w[term_group];
        for (std::size_t q = r.begin(); q != r.end(); ++q) {
            float* dst = rows.row(q);
            if (!dst) continue;
            std::size_t count = 0;
            for (std::size_t phase = 0; phase < 2; ++phase)
                for (std::size_t i = taps; i-- > 0;) {
                    if (q < i * d || q - i * d >= cols) continue;
                    const std::size_t c = q - i * d;
                    if ((c / width) % 2 != phase) continue;
                    for (std::size_t k = column_start[c]; k < column_start[c + 1]; ++k) {
                        a[count] = entries[k].gradient;
                        w[count] = p.weights + std::size_t{entries[k].filter} * K + i * C;
                        if (++count == term_group) {
                            axpy_terms(C, count, a, w, dst);
                            count = 0;
                        }
                    }
                }
            axpy_terms(C, count, a, w, dst);
        }
    });
}

// Dense stream path: d_out scattered to stream columns (zero elsewhere), then per-tap GEMMs.
void dense_stream_backward(const BackwardParameters& p, const StreamShape& sh, const float* dy, const InputRows& rows,
                           Tensor* d_in, ConvState& state) {
    const std::size_t F = p.F, C = p.C, K = p.K, taps = sh.taps, d = sh.d, total = sh.total, cols = sh.cols;
    state.d_stream.resize(F * total);
    float* ds = state.d_stream.data();
    std::size_t previous_end = 0;
    for (const Segment& seg : state.segments) {
        std::fill(ds + previous_end * F, ds + seg.stream_col * F, 0.0f);
        std::copy_n(dy + seg.out_pos * F, seg.length * F, ds + seg.stream_col * F);
        previous_end = seg.stream_col + seg.length;
    }
    std::fill(ds + previous_end * F, ds + total * F, 0.0f);
    if (p.weights_gradient) {
        if (p.bias_gradient) {
            std::fill_n(p.bias_gradient, F, 0.0f);
            for (std::size_t j = 0; j < cols; ++j)
                for (std::size_t f = 0; f < F; ++f) p.bias_gradient[f] += ds[j * F + f];
        }
        for (std::size_t i = 0; i < taps; ++i)
            sgemm_thread_stable(false, true, C, F, cols, 1.0f, sh.x + i * d * C, C, ds, F, 0.0f, p.weights_gradient + i * C, K);
    }
    if (!d_in) return;
    if (!rows.padded) {
        for (std::size_t i = 0; i < taps; ++i)
            sgemm_thread_stable(false, false, C, cols, F, 1.0f, p.weights + i * C, K, ds, F, 1.0f, d_in->data() + i * d * C, C);
        return;
    }
    // Padded: the GEMMs fill a padded stream, whose sample rows are then added to d_in.
    state.d_padded.resize(C * total);
    float* target = state.d_padded.data();
    std::fill(target + cols * C, target + total * C, 0.0f);  // tap 0 assigns columns [0, cols)
    for (std::size_t i = 0; i < taps; ++i)
        sgemm_thread_stable(false, false, C, cols, F, 1.0f, p.weights + i * C, K, ds, F, i == 0 ? 0.0f : 1.0f,
                            target + i * d * C, C);
    const std::size_t N = d_in->shape().batch();
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, N), [&](const tbb::blocked_range<std::size_t>& r) {
        for (std::size_t n = r.begin(); n != r.end(); ++n) {
            const float* src = target + (n * rows.S + rows.pad_before) * C;
            float* dst = rows.dx + n * rows.L * C;
            for (std::size_t j = 0; j < rows.L * C; ++j) dst[j] += src[j];
        }
    });
}

// Lists entries of d_out given as GradientEntry (output positions, in order) as the stream
// path's SparseEntry (stream columns), as list_sparse_entries would have listed the dense d_out
// they describe; false (entries empty) when they are too many for the sparse path.
bool take_gradient_entries(std::span<const GradientEntry> d_out, std::size_t F, std::size_t out_size,
                           ConvLayer::BackwardPath path, const std::string& label, ConvState& state) {
    state.entries.clear();
    std::size_t active = 0;
    for (const Segment& seg : state.segments) active += seg.length * F;
    const std::size_t limit =
        path == ConvLayer::BackwardPath::sparse ? std::numeric_limits<std::size_t>::max() : (active + 7) / 8;
    state.entries.reserve(std::min(d_out.size(), limit));
    const Segment* seg = state.segments.data();
    const Segment* const end = seg + state.segments.size();
    std::size_t previous = 0;
    for (std::size_t k = 0; k < d_out.size(); ++k) {
        const GradientEntry& e = d_out[k];
        const std::size_t element = std::size_t{e.position} * F + e.channel;
        if (e.channel >= F || element >= out_size || (k > 0 && element <= previous))
            throw ShapeError(label + ": gradient entry " + std::to_string(k) + " (position " +
                             std::to_string(e.position) + ", channel " + std::to_string(e.channel) +
                             ") lies outside the output or out of order");
        previous = element;
        // Values outside the output spans belong to outputs that are constant zero: ignored,
        // as the dense listing ignores them.
        while (seg != end && seg->out_pos + seg->length <= e.position) ++seg;
        if (seg == end || e.position < seg->out_pos || e.value == 0.0f) continue;
        if (state.entries.size() == limit) {
            state.entries.clear();
            return false;
        }
        state.entries.push_back(
            {static_cast<std::uint32_t>(seg->stream_col + (e.position - seg->out_pos)), e.channel, e.value});
    }
    return true;
}

}  // namespace

void ConvLayer::backward(const Tensor& in, const Tensor& out, const Tensor& d_out, Tensor* d_in,
                         LayerState& state_base, const RunContext& /*ctx*/) const {
    auto& state = static_cast<ConvState&>(state_base);
    if (d_out.shape() != out.shape())
        throw ShapeError(label() + ": gradient " + d_out.shape().str() + " does not match output " + out.shape().str());
    if (d_in && d_in->shape() != in.shape())
        throw ShapeError(label() + ": input gradient " + d_in->shape().str() + " does not match input " +
                         in.shape().str());
    stream_or_im2col_backward(in, &d_out, d_in, state);
}

bool ConvLayer::backward_from_entries(const Tensor& in, const Tensor& out, std::span<const GradientEntry> d_out,
                                      Tensor* d_in, LayerState& state_base, const RunContext& /*ctx*/) const {
    auto& state = static_cast<ConvState&>(state_base);
    if (!state.stream || backward_path_ == BackwardPath::dense || !(trainable_ || d_in)) return false;
    if (d_in && d_in->shape() != in.shape())
        throw ShapeError(label() + ": input gradient " + d_in->shape().str() + " does not match input " +
                         in.shape().str());
    if (!take_gradient_entries(d_out, filters_, out.size(), backward_path_, label(), state)) return false;
    stream_or_im2col_backward(in, nullptr, d_in, state);
    return true;
}

// d_out null: the stream path's sparse backward from the entries already in the state.
void ConvLayer::stream_or_im2col_backward(const Tensor& in, const Tensor* d_out, Tensor* d_in,
                                          LayerState& state_base) const {
    auto& state = static_cast<ConvState&>(state_base);
    const std::size_t F = filters_;
    const std::size_t K = window_size();
    if (!trainable_) {
        std::fill_n(weights_gradient_, K * F, 0.0f);
        if (bias_) std::fill_n(bias_gradient_, F, 0.0f);
    }
    const BackwardParameters p{F, in_channels_, K, weights_, trainable_ ? weights_gradient_ : nullptr,
                               trainable_ && bias_ ? bias_gradient_ : nullptr};
    if (!state.stream) return im2col_backward(p, *d_out, d_in, state);

    StreamShape sh;
    sh.taps = kernel_[0];
    sh.d = dilation_[0];
    sh.extent = sh.d * (sh.taps - 1) + 1;
    sh.total = state.stream_positions;
    sh.cols = sh.total - sh.extent + 1;
    sh.x = state.padded ? state.padded_input.data() : in.data();
    InputRows rows;
    if (d_in) {
        rows = {d_in->data(), in_channels_, state.padded, state.sample_stride,
                conv_axis_padding(padding_, sh.taps, sh.d).before, state.padded ? in.shape().spatial(0) : 0};
    }
    if (d_out) {
        const bool sparse = backward_path_ != BackwardPath::dense && (trainable_ || d_in) &&
                            list_sparse_entries(d_out->data(), F, backward_path_, state);
        if (!sparse) return dense_stream_backward(p, sh, d_out->data(), rows, d_in, state);
    }
    if (trainable_) sparse_weight_gradient(p, sh, state);
    if (d_in) sparse_input_gradient(p, sh, rows, state);
}

}  // namespace textcnn
