#include "text/folded_text_cnn.h"

#include "core/huge_pages.h"

#include "nn/gemm.h"

#include "textcnn/nn/activation.h"
#include "textcnn/nn/conv.h"
#include "textcnn/nn/dense.h"
#include "textcnn/nn/embedding.h"
#include "textcnn/core/checked.h"
#include "textcnn/nn/ngram_bag.h"
#include "textcnn/core/error.h"
#include "textcnn/nn/parallel.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

namespace textcnn::detail {

namespace {

// What fold() needs from a network, found without allocating the table.
struct Plan {
    const EmbeddingLayer* embedding = nullptr;
    const float* table = nullptr;         // dim x vocab, column per word
    const float* static_table = nullptr;  // multichannel only: the frozen half (output channels first)
    struct BranchPlan {
        const ConvLayer* conv = nullptr;
        const float* weights = nullptr;  // (taps x channels) x filters, column-major
        const float* bias = nullptr;     // null without bias
        const ActivationLayer* activation = nullptr;
    };
    std::vector<BranchPlan> branches;
    const NgramBagLayer* bag = nullptr;  // the wide branch, if any
    const float* bag_table = nullptr;    // dim x (vocab + buckets)
    const DenseLayer* dense = nullptr;
    const float* dense_weights = nullptr;
    const float* dense_bias = nullptr;
    std::size_t columns = 0;
    std::size_t conv_features = 0;
};

// Pointers to the values of the top-level layer `index`'s parameters, in parameters() order
// (a parallel layer's: its children's, branch by branch).
std::vector<const float*> parameter_values(const Network& network, std::size_t index) {
    std::vector<const float*> values;
    for (const ParameterGroup& group : network.layer_groups(index))
        values.push_back(network.parameters().data() + group.offset);
    return values;
}

std::optional<Plan> make_plan(const Network& network) {
    const std::size_t n = network.layer_count();
    if (n < 2) return std::nullopt;
    Plan plan;
    plan.dense = dynamic_cast<const DenseLayer*>(&network.layer(n - 1));
    const ParallelLayer* parallel = nullptr;  // the convolution widths
    std::vector<const float*> values;         // embedding, convolution (and bag) parameters, in order
    std::size_t first_dropout = 0;
    if ((plan.embedding = dynamic_cast<const EmbeddingLayer*>(&network.layer(0)))) {
        // Kim's CNN: embedding -> parallel widths -> dropout... -> dense.
        if (n < 3) return std::nullopt;
        parallel = dynamic_cast<const ParallelLayer*>(&network.layer(1));
        values = parameter_values(network, 0);
        const auto conv_values = parameter_values(network, 1);
        values.insert(values.end(), conv_values.begin(), conv_values.end());
        first_dropout = 2;
    } else if (const auto* both = dynamic_cast<const ParallelLayer*>(&network.layer(0));
               both && both->branch_count() == 2) {
        // Wide and deep: parallel [embedding -> parallel widths -> dropout...] [ngram_bag] ->
        // dropout... -> dense.
        const auto deep = both->branch(0), wide = both->branch(1);
        if (deep.size() < 2 || wide.size() != 1) return std::nullopt;
        plan.embedding = dynamic_cast<const EmbeddingLayer*>(deep[0]);
        parallel = dynamic_cast<const ParallelLayer*>(deep[1]);
        for (std::size_t j = 2; j < deep.size(); ++j)
            if (deep[j]->spec().type != "dropout") return std::nullopt;  // identity at inference
        plan.bag = dynamic_cast<const NgramBagLayer*>(wide[0]);
        if (!plan.bag || !plan.embedding || plan.bag->vocab() != plan.embedding->vocab()) return std::nullopt;
        values = parameter_values(network, 0);
        first_dropout = 1;
    }
    if (!plan.embedding || !parallel || !plan.dense) return std::nullopt;
    for (std::size_t i = first_dropout; i + 1 < n; ++i)
        if (network.layer(i).spec().type != "dropout") return std::nullopt;  // identity at inference

    std::size_t next_value = 0;
    plan.table = values.at(next_value++);
    if (plan.embedding->mode() == EmbeddingLayer::TableMode::multichannel) plan.static_table = values.at(next_value++);
    const std::size_t channels = plan.embedding->out_channels();

    for (std::size_t b = 0; b < parallel->branch_count(); ++b) {
        const auto layers = parallel->branch(b);
        Plan::BranchPlan branch;
        branch.conv = dynamic_cast<const ConvLayer*>(layers.front());
        if (!branch.conv || branch.conv->kernel().size() != 1 || branch.conv->stride()[0] != 1 ||
            branch.conv->padding() != Padding::full || branch.conv->in_channels() != channels)
            return std::nullopt;
        std::size_t pool = 1;
        if (layers.size() == 3) {
            branch.activation = dynamic_cast<const ActivationLayer*>(layers[1]);
            if (!branch.activation) return std::nullopt;
            pool = 2;
        }
        if (layers.size() != pool + 1 || layers[pool]->spec().type != "global_max_pool") return std::nullopt;
        if (next_value >= values.size()) return std::nullopt;
        branch.weights = values[next_value++];
        if (branch.conv->has_bias()) {
            if (next_value >= values.size()) return std::nullopt;
            branch.bias = values[next_value++];
        }
        plan.columns = checked_add(plan.columns,
                                   checked_mul(branch.conv->kernel()[0], branch.conv->filters(),
                                               "folded text CNN: table columns of a branch (taps x filters)"),
                                   "folded text CNN: table columns");
        plan.conv_features = checked_add(plan.conv_features, branch.conv->filters(), "folded text CNN: features");
        plan.branches.push_back(branch);
    }
    if (plan.bag) {
        if (next_value >= values.size()) return std::nullopt;
        plan.bag_table = values[next_value++];
    }
    const std::size_t features = plan.conv_features + (plan.bag ? plan.bag->dim() : 0);
    if (next_value != values.size() || plan.dense->in_units() != features) return std::nullopt;
    const auto dense_values = parameter_values(network, n - 1);
    plan.dense_weights = dense_values.at(0);
    if (plan.dense->has_bias()) plan.dense_bias = dense_values.at(1);
    return plan;
}

// Floats of the folded tables: the convolution table, and the bag's per-column logits.
std::size_t table_floats(const Plan& plan) {
    const std::size_t conv = checked_mul(plan.embedding->vocab(), plan.columns, "folded text CNN: table size (vocab x columns)");
    const std::size_t bag =
        plan.bag ? checked_mul(plan.bag->columns(), plan.dense->units(), "folded text CNN: bag table size") : 0;
    return checked_add(conv, bag, "folded text CNN: table size");
}

// The embedding layer's output for every id, channels x vocab: the frozen half first in
// multichannel mode, as EmbeddingLayer::forward writes it (into `multichannel`; otherwise the
// layer's own table). The layer outputs zeros for id 0 whatever its column holds: the table's
// row 0 is zeroed to match.
const float* embedded_columns(const Plan& plan, std::vector<float>& multichannel) {
    if (!plan.static_table) return plan.table;
    const std::size_t dim = plan.embedding->dim(), channels = plan.embedding->out_channels();
    const std::size_t vocab = plan.embedding->vocab();
    multichannel.resize(channels * vocab);
    for (std::size_t v = 0; v < vocab; ++v) {
        std::copy_n(plan.static_table + v * dim, dim, multichannel.data() + v * channels);
        std::copy_n(plan.table + v * dim, dim, multichannel.data() + v * channels + dim);
    }
    return multichannel.data();
}

}  // namespace

void FoldedTextCnn::table_rows(std::span<const TapBlock> blocks, std::size_t channels, const float* embedded,
                               std::size_t count, float* table, std::size_t columns) {
    // Column block of (branch, tap) = W_tap^T (filters x channels) * E (channels x count): one
    // GEMM each, written straight into the row-per-word table (ldc = columns).
    for (const TapBlock& b : blocks)
        for (std::size_t t = 0; t < b.taps; ++t)
            sgemm_thread_stable(true, false, b.filters, count, channels, 1.0f, b.weights + t * channels, b.taps * channels,
                                embedded, channels, 0.0f, table + b.column + t * b.filters, columns);
}

std::optional<FoldedTextCnn::TableInputs> FoldedTextCnn::table_inputs(const Network& network) {
    const auto plan = make_plan(network);
    if (!plan) return std::nullopt;
    TableInputs in;
    in.channels = plan->embedding->out_channels();
    std::vector<float> multichannel;
    const float* embedded = embedded_columns(*plan, multichannel);
    in.embedded.assign(embedded, embedded + in.channels * plan->embedding->vocab());
    for (const auto& b : plan->branches)
        in.weights.emplace_back(b.weights, b.weights + b.conv->kernel()[0] * in.channels * b.conv->filters());
    return in;
}

std::size_t FoldedTextCnn::table_bytes(const Network& network) {
    const auto plan = make_plan(network);
    if (!plan) return 0;
    return checked_mul(table_floats(*plan), sizeof(float), "folded text CNN: table bytes");
}

std::optional<FoldedTextCnn> FoldedTextCnn::fold(const Network& network, std::size_t max_bytes) {
    const auto plan = make_plan(network);
    if (!plan) return std::nullopt;
    const std::size_t vocab = plan->embedding->vocab();
    if (plan->columns == 0 || vocab > max_bytes / sizeof(float) / plan->columns ||
        table_floats(*plan) > max_bytes / sizeof(float))
        return std::nullopt;

    FoldedTextCnn folded;
    folded.vocab_ = vocab;
    folded.columns_ = plan->columns;
    folded.classes_ = plan->dense->units();
    Output& output = folded.output_;
    output.classes = folded.classes_;
    output.features = plan->conv_features;
    output.in_units = plan->dense->in_units();

    const std::size_t channels = plan->embedding->out_channels();
    std::vector<float> multichannel;
    const float* embedded = embedded_columns(*plan, multichannel);
    assign_with_huge_pages(folded.table_, vocab * folded.columns_);
    std::vector<TapBlock> blocks;
    std::size_t column = 0;
    for (const auto& b : plan->branches) {
        Branch branch;
        branch.taps = b.conv->kernel()[0];
        branch.dilation = b.conv->dilation()[0];
        branch.filters = b.conv->filters();
        branch.column = column;
        branch.bias.assign(branch.filters, 0.0f);
        if (b.bias) std::copy_n(b.bias, branch.filters, branch.bias.begin());
        if (b.activation) {
            switch (b.activation->kind()) {
                case ActivationLayer::Kind::identity: branch.activation = Activation::identity; break;
                case ActivationLayer::Kind::relu: branch.activation = Activation::relu; break;
                case ActivationLayer::Kind::tanh: branch.activation = Activation::tanh; break;
                case ActivationLayer::Kind::sigmoid: branch.activation = Activation::sigmoid; break;
            }
        }
        blocks.push_back({b.weights, branch.taps, branch.filters, column});
        column += branch.taps * branch.filters;
        folded.branches_.push_back(std::move(branch));
    }
    table_rows(blocks, channels, embedded, vocab, folded.table_.data(), folded.columns_);
    std::fill_n(folded.table_.begin(), folded.columns_, 0.0f);  // padding contributes nothing

    if (plan->bag) {
        // The bag is linear and only dropout (identity at inference) lies between it and the
        // output layer, so each feature column's contribution to the logits is one vector:
        // bag_logits[column] = W_bag^T table[column], W_bag the output weights' bag rows.
        const NgramBagLayer& bag = *plan->bag;
        const std::size_t dim = bag.dim(), classes = output.classes, in_units = output.in_units;
        output.bag = BagSettings{bag.ngrams(), bag.vocab(), bag.buckets(), bag.binary(),
                                  bag.reduce() == NgramBagLayer::Reduce::mean};
        output.bag_logits.assign(bag.columns() * classes, 0.0f);
        for (std::size_t col = 1; col < bag.columns(); ++col) {  // column 0, padding, is never a feature
            const float* row = plan->bag_table + col * dim;
            float* out = output.bag_logits.data() + col * classes;
            for (std::size_t c = 0; c < classes; ++c) {
                const float* w = plan->dense_weights + c * in_units + plan->conv_features;
                float z = 0.0f;
                for (std::size_t d = 0; d < dim; ++d) z += w[d] * row[d];
                out[c] = z;
            }
        }
    }
    output.dense_weights.assign(plan->dense_weights, plan->dense_weights + output.in_units * output.classes);
    output.dense_bias.assign(output.classes, 0.0f);
    if (plan->dense_bias) std::copy_n(plan->dense_bias, output.classes, output.dense_bias.begin());
    return folded;
}

void FoldedTextCnn::logits(std::span<const std::uint32_t> ids, float* logits, std::vector<float>& scratch) const {
    static constexpr std::uint32_t padding[1] = {0};
    if (ids.empty()) ids = padding;
    check_ids(ids, vocab_, "folded text CNN");

    // Token-major: each token's table row (all branches and taps, contiguous) is read once,
    // front to back, and added into the outputs it reaches. The rows of a text are scattered
    // over a table of tens of MB, so reading them whole and prefetching the next one is what
    // keeps this fast; the accumulators stay in cache.
    // 'full' padding: output o of a branch covers input positions o - span + t * dilation;
    // positions outside the text are zero vectors and add nothing.
    // Tokens go in blocks of at most block_tokens: once the tokens before p1 are added, the
    // outputs before p1 are final and are max-pooled, and the span outputs after them (partial
    // sums) move to the front. The accumulators are (block + span) x filters per branch, not
    // text length x filters (a 4-million-token line took 4.9 GB); each output's sum and the
    // pooling see the same operations in the same order as for one block, so the logits do not
    // depend on the block size.
    const std::size_t length = ids.size();
    const std::size_t block = std::min(length, block_tokens);
    std::size_t accumulators = 0;
    for (const Branch& b : branches_) accumulators += (block + b.dilation * (b.taps - 1)) * b.filters;  // bounded at fold
    scratch.resize(output_.features + accumulators);
    float* acc = scratch.data() + output_.features;
    for (const Branch& b : branches_) {
        const std::size_t rows = block + b.dilation * (b.taps - 1);
        for (std::size_t o = 0; o < rows; ++o) std::copy_n(b.bias.data(), b.filters, acc + o * b.filters);
        acc += rows * b.filters;
    }
    for (std::size_t p0 = 0; p0 < length; p0 += block) {
        const std::size_t p1 = std::min(length, p0 + block);
        for (std::size_t p = p0; p < p1; ++p) {
            const float* row = table_.data() + std::size_t{ids[p]} * columns_;
            if (p + 1 < length) {
                const char* next = reinterpret_cast<const char*>(table_.data() + std::size_t{ids[p + 1]} * columns_);
                for (std::size_t byte = 0; byte < columns_ * sizeof(float); byte += 64) __builtin_prefetch(next + byte);
            }
            acc = scratch.data() + output_.features;
            for (const Branch& b : branches_) {
                const std::size_t span = b.dilation * (b.taps - 1);
                for (std::size_t t = 0; t < b.taps; ++t) {
                    float* out = acc + (p - p0 + span - t * b.dilation) * b.filters;
                    const float* in = row + b.column + t * b.filters;
                    for (std::size_t f = 0; f < b.filters; ++f) out[f] += in[f];
                }
                acc += (block + span) * b.filters;
            }
        }
        const bool last = p1 == length;
        float* best = scratch.data();
        acc = scratch.data() + output_.features;
        for (const Branch& b : branches_) {
            const std::size_t span = b.dilation * (b.taps - 1);
            const std::size_t final_outputs = p1 - p0 + (last ? span : 0);
            std::size_t o = 0;
            if (p0 == 0) {
                std::copy_n(acc, b.filters, best);
                o = 1;
            }
            for (; o < final_outputs; ++o)
                for (std::size_t f = 0; f < b.filters; ++f) best[f] = std::max(best[f], acc[o * b.filters + f]);
            if (!last) {
                std::copy_n(acc + final_outputs * b.filters, span * b.filters, acc);
                for (o = span; o < block + span; ++o) std::copy_n(b.bias.data(), b.filters, acc + o * b.filters);
            }
            acc += (block + span) * b.filters;
            best += b.filters;
        }
    }
    float* features = scratch.data();
    for (const Branch& b : branches_) {
        activate(b.activation, features, b.filters);
        features += b.filters;
    }
    output_.logits(scratch.data(), ids, logits);
}

void FoldedTextCnn::check_ids(std::span<const std::uint32_t> ids, std::size_t vocab, const char* what) {
    for (std::size_t p = 0; p < ids.size(); ++p)
        if (ids[p] >= vocab)
            throw InputError(std::string(what) + ": token id " + std::to_string(ids[p]) + " at position " +
                             std::to_string(p) + " is not in [0, " + std::to_string(vocab) + ")");
}

void FoldedTextCnn::activate(Activation activation, float* values, std::size_t n) {
    switch (activation) {
        case Activation::identity: break;
        case Activation::relu:
            for (std::size_t f = 0; f < n; ++f) values[f] = std::max(values[f], 0.0f);
            break;
        case Activation::tanh:
            for (std::size_t f = 0; f < n; ++f) values[f] = std::tanh(values[f]);
            break;
        case Activation::sigmoid:
            for (std::size_t f = 0; f < n; ++f) values[f] = 1.0f / (1.0f + std::exp(-values[f]));
            break;
    }
}

namespace {

// Classes [0, Group) of dense_logits: per class, `lanes` partial sums (feature i into sum
// i mod lanes, in feature order), then added in a fixed tree and to the bias. The products are
// made first, a chunk at a time (vectorized), and only then added: a product written to memory
// is rounded on its own, never fused with its addition (C++ lets a compiler fuse `z += w * x`),
// so the bits are the same on every machine and compiler. One chain of 300 additions per class
// was 6.6 % of a refined quantized model's 100,000-line run; eight chains overlap.
constexpr std::size_t dense_lanes = 8;

template <std::size_t Group>
void dense_group(const float* weights, std::size_t stride, const float* bias, const float* features, std::size_t n,
                 float* logits) {
    constexpr std::size_t chunk = 64;  // a multiple of dense_lanes
    float z[Group][dense_lanes] = {};
    float products[Group][chunk];
    for (std::size_t first = 0; first < n; first += chunk) {
        const std::size_t m = std::min(chunk, n - first);
        for (std::size_t k = 0; k < Group; ++k)
            for (std::size_t j = 0; j < m; ++j) products[k][j] = weights[k * stride + first + j] * features[first + j];
        const std::size_t whole = m - m % dense_lanes;
        for (std::size_t k = 0; k < Group; ++k) {
            for (std::size_t j = 0; j < whole; j += dense_lanes)
                for (std::size_t l = 0; l < dense_lanes; ++l) z[k][l] += products[k][j + l];
            for (std::size_t j = whole; j < m; ++j) z[k][j - whole] += products[k][j];
        }
    }
    for (std::size_t k = 0; k < Group; ++k)
        logits[k] = bias[k] + (((z[k][0] + z[k][1]) + (z[k][2] + z[k][3])) + ((z[k][4] + z[k][5]) + (z[k][6] + z[k][7])));
}

}  // namespace

void FoldedTextCnn::dense_logits(const float* weights, std::size_t stride, const float* bias, std::size_t classes,
                                 const float* features, std::size_t n, float* logits) {
    for (std::size_t c = 0; c < classes; c += 4) {
        const float* w = weights + c * stride;
        switch (std::min<std::size_t>(classes - c, 4)) {
            case 1: dense_group<1>(w, stride, bias + c, features, n, logits + c); break;
            case 2: dense_group<2>(w, stride, bias + c, features, n, logits + c); break;
            case 3: dense_group<3>(w, stride, bias + c, features, n, logits + c); break;
            default: dense_group<4>(w, stride, bias + c, features, n, logits + c); break;
        }
    }
}

void FoldedTextCnn::Output::logits(const float* features, std::span<const std::uint32_t> ids, float* logits) const {
    dense_logits(dense_weights.data(), in_units, dense_bias.data(), classes, features, this->features, logits);
    if (!bag) return;
    // The wide branch: one looked-up logit vector per n-gram feature.
    static constexpr std::uint32_t padding[1] = {0};
    if (ids.empty()) ids = padding;
    thread_local std::vector<std::uint32_t> columns;
    thread_local std::vector<float> sum;
    columns.clear();
    NgramBagLayer::ngram_columns(ids, bag->ngrams, bag->vocab, bag->buckets, bag->binary, columns);
    if (columns.empty()) return;
    const float weight = bag->mean ? 1.0f / static_cast<float>(columns.size()) : 1.0f;
    sum.assign(classes, 0.0f);
    for (std::uint32_t col : columns) {
        const float* v = bag_logits.data() + std::size_t{col} * classes;
        for (std::size_t c = 0; c < classes; ++c) sum[c] += v[c];
    }
    for (std::size_t c = 0; c < classes; ++c) logits[c] += weight * sum[c];
}

}  // namespace textcnn::detail
