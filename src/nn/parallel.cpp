#include "textcnn/nn/parallel.h"

#include "textcnn/core/checked.h"
#include "textcnn/core/error.h"

#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_for.h>

#include <algorithm>

namespace textcnn {

namespace {

struct BranchState {
    std::vector<std::unique_ptr<LayerState>> states;
    std::vector<Tensor> outputs;    ///< outputs[j]: output of layer j
    std::vector<Tensor> d_outputs;  ///< d_outputs[j]: gradient w.r.t. outputs[j]
    std::vector<GradientEntry> entries;  ///< a gradient passed down as its non-zeros (layer.h)
};

struct ParallelState : LayerState {
    std::vector<BranchState> branches;
};

// Loop over positions (batch * spatial), in TBB chunks when large; every position is
// independent (channel-block copies), so the partition does not matter.
template <typename F>
void for_positions(std::size_t positions, F&& f) {
    constexpr std::size_t grain = 1024;
    if (positions <= grain) {
        f(std::size_t{0}, positions);
        return;
    }
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, positions, grain),
                      [&](const tbb::blocked_range<std::size_t>& r) { f(r.begin(), r.end()); });
}

// The dense gradient (t's shape and spans) whose non-zeros are `entries`.
void write_entries(std::span<const GradientEntry> entries, const Tensor& t, Tensor& gradient) {
    gradient.resize(t.shape(), true);
    gradient.spans = t.spans;
    const std::size_t channels = t.shape().channels();
    for (const GradientEntry& e : entries) {
        const std::size_t i = std::size_t{e.position} * channels + e.channel;
        if (e.channel >= channels || i >= gradient.size())
            throw ShapeError("parallel: gradient entry (position " + std::to_string(e.position) + ", channel " +
                             std::to_string(e.channel) + ") lies outside " + t.shape().str());
        gradient[i] = e.value;
    }
}

}  // namespace

ParallelLayer::ParallelLayer(const LayerSpec& spec, const Shape& input_shape) : Layer(spec) {
    if (!spec.settings.empty())
        throw ConfigError(spec.label() + ": takes no settings (only branches), got '" + spec.settings.begin()->first +
                          "'");
    if (spec.branches.empty()) throw ConfigError(spec.label() + ": needs at least one branch");
    for (std::size_t b = 0; b < spec.branches.size(); ++b) {
        if (spec.branches[b].empty()) throw ConfigError(spec.label() + ": branch " + std::to_string(b) + " is empty");
        std::vector<std::unique_ptr<Layer>> layers;
        Shape shape = input_shape;
        for (const LayerSpec& child : spec.branches[b]) {
            layers.push_back(make_layer(child, shape));
            shape = layers.back()->output_shape(shape);
        }
        branches_.push_back(std::move(layers));
    }
    output_shape(input_shape);  // the branches must fit together
}

std::vector<const Layer*> ParallelLayer::branch(std::size_t b) const {
    std::vector<const Layer*> layers;
    for (const auto& layer : branches_.at(b)) layers.push_back(layer.get());
    return layers;
}

std::vector<const Layer*> ParallelLayer::children() const {
    std::vector<const Layer*> layers;
    for (const auto& branch : branches_)
        for (const auto& layer : branch) layers.push_back(layer.get());
    return layers;
}

std::string ParallelLayer::details() const {
    return std::to_string(branches_.size()) + (branches_.size() == 1 ? " branch" : " branches") + ", concatenated";
}

Shape ParallelLayer::output_shape(const Shape& input) const {
    std::vector<Shape> shapes;
    for (const auto& branch : branches_) {
        Shape shape = input;
        for (const auto& layer : branch) shape = layer->output_shape(shape);
        shapes.push_back(shape);
    }
    std::vector<std::size_t> dims = shapes[0].dims();
    bool fits = dims.size() >= 2;
    std::size_t channels = 0;
    for (const Shape& s : shapes) {
        fits = fits && s.rank() == shapes[0].rank() && s.batch() == shapes[0].batch();
        for (std::size_t i = 0; fits && i < s.spatial_rank(); ++i) fits = s.spatial(i) == shapes[0].spatial(i);
        channels = checked_add(channels, s.channels(), "parallel: concatenated channels");
    }
    if (!fits) {
        std::string list;
        for (std::size_t b = 0; b < shapes.size(); ++b)
            list += (b ? ", branch " : "branch ") + std::to_string(b) + " gives " + shapes[b].str();
        throw ShapeError(label() + ": branch outputs cannot be concatenated along channels (they need the same batch "
                         "and spatial shape) for input " + input.str() + ": " + list);
    }
    dims[1] = channels;
    return Shape(std::move(dims));
}

std::size_t ParallelLayer::workspace_elements(const Shape& input) const {
    // Every branch's intermediate outputs are held until the concatenation, and the largest
    // scratch of any of their layers.
    std::size_t held = 0, scratch = 0;
    for (const auto& branch : branches_) {
        Shape shape = input.with_batch(1);
        for (const auto& layer : branch) {
            scratch = std::max(scratch, layer->workspace_elements(shape));
            shape = layer->output_shape(shape);
            held = checked_add(held, checked_mul(shape.channels(), shape.positions(), label() + ": branch output"),
                               label() + ": branch outputs");
        }
    }
    return checked_add(held, scratch, label() + ": workspace");
}

std::vector<ParameterInfo> ParallelLayer::parameters() const {
    std::vector<ParameterInfo> infos;
    for (const Layer* layer : children()) {
        auto child = layer->parameters();
        infos.insert(infos.end(), child.begin(), child.end());
    }
    return infos;
}

void ParallelLayer::bind(std::span<const ParameterBinding> bindings) {
    std::size_t used = 0;
    for (auto& branch : branches_)
        for (auto& layer : branch) {
            const std::size_t count = layer->parameters().size();
            if (used + count > bindings.size())
                throw ConfigError(label() + ": bind() got " + std::to_string(bindings.size()) + " bindings for " +
                                  std::to_string(parameters().size()) + " parameters");
            layer->bind(bindings.subspan(used, count));
            used += count;
        }
    if (used != bindings.size())
        throw ConfigError(label() + ": bind() got " + std::to_string(bindings.size()) + " bindings for " +
                          std::to_string(used) + " parameters");
}

void ParallelLayer::initialize(const Initializer& init, Rng& rng) {
    for (auto& branch : branches_)
        for (auto& layer : branch) layer->initialize(init, rng);
}

std::unique_ptr<LayerState> ParallelLayer::make_state() const {
    auto state = std::make_unique<ParallelState>();
    for (const auto& branch : branches_) {
        BranchState bs;
        for (const auto& layer : branch) bs.states.push_back(layer->make_state());
        bs.outputs.resize(branch.size());
        bs.d_outputs.resize(branch.size());
        state->branches.push_back(std::move(bs));
    }
    return state;
}

void ParallelLayer::forward(const Tensor& in, Tensor& out, LayerState& state_base, const RunContext& ctx) const {
    auto& state = static_cast<ParallelState&>(state_base);
    // The branches run side by side (each only reads `in` and writes its own outputs and
    // states), so one branch's serial stretches overlap the others' work; the layers inside
    // still split their own loops. Results do not depend on the schedule.
    std::vector<std::size_t> first_child(branches_.size(), 0);
    for (std::size_t b = 1; b < branches_.size(); ++b) first_child[b] = first_child[b - 1] + branches_[b - 1].size();
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, branches_.size(), 1), [&](const tbb::blocked_range<std::size_t>& r) {
        for (std::size_t b = r.begin(); b != r.end(); ++b) {
            BranchState& bs = state.branches[b];
            const Tensor* x = &in;
            for (std::size_t j = 0; j < branches_[b].size(); ++j) {
                RunContext child = ctx;
                child.layer_index = child_index(ctx.layer_index, first_child[b] + j);
                branches_[b][j]->forward(*x, bs.outputs[j], *bs.states[j], child);
                x = &bs.outputs[j];
            }
        }
    });
    // The static shapes fit (checked at construction), but a packed input may end in branch
    // outputs of different lengths or spans (e.g. convolutions of different widths).
    const Tensor& first = state.branches[0].outputs.back();
    std::vector<std::size_t> dims = first.shape().dims();
    std::size_t channels = 0;
    bool fits = true;
    for (const BranchState& bs : state.branches) {
        const Tensor& o = bs.outputs.back();
        fits = fits && o.shape().rank() == first.shape().rank() && o.shape().batch() == first.shape().batch() &&
               o.spans == first.spans;
        for (std::size_t i = 0; fits && i < o.shape().spatial_rank(); ++i)
            fits = o.shape().spatial(i) == first.shape().spatial(i);
        channels += o.shape().channels();
    }
    if (!fits) {
        std::string list;
        for (std::size_t b = 0; b < state.branches.size(); ++b) {
            const Tensor& o = state.branches[b].outputs.back();
            list += (b ? ", branch " : "branch ") + std::to_string(b) + " gives " + o.shape().str();
            if (o.packed()) list += " with " + std::to_string(o.spans.size()) + " spans";
        }
        throw ShapeError(label() + ": branch outputs for input " + in.shape().str() +
                         " cannot be concatenated along channels (they need the same batch, spatial shape and spans): " +
                         list);
    }
    dims[1] = channels;
    out.resize(Shape(std::move(dims)));
    out.spans = first.spans;
    const std::size_t positions = first.shape().batch() * first.shape().positions();
    std::size_t offset = 0;
    for (const BranchState& bs : state.branches) {
        const Tensor& o = bs.outputs.back();
        const std::size_t width = o.shape().channels();
        const float* src = o.data();
        float* dst = out.data() + offset;
        for_positions(positions, [&](std::size_t begin, std::size_t end) {
            for (std::size_t q = begin; q < end; ++q) std::copy_n(src + q * width, width, dst + q * channels);
        });
        offset += width;
    }
}

void ParallelLayer::backward(const Tensor& in, const Tensor& out, const Tensor& d_out, Tensor* d_in,
                             LayerState& state_base, const RunContext& ctx) const {
    if (d_out.shape() != out.shape() || (d_in && d_in->shape() != in.shape()))
        throw ShapeError(label() + ": backward got d_out " + d_out.shape().str() +
                         (d_in ? " and d_in " + d_in->shape().str() : std::string()) + " for input " +
                         in.shape().str() + " and output " + out.shape().str());
    auto& state = static_cast<ParallelState&>(state_base);
    const std::size_t channels = out.shape().channels();
    const std::size_t positions = out.shape().batch() * out.shape().positions();
    std::size_t offset = 0;
    std::size_t first_child = 0;
    for (std::size_t b = 0; b < branches_.size(); ++b) {
        BranchState& bs = state.branches[b];
        const std::size_t depth = branches_[b].size();
        // This branch's slice of d_out.
        Tensor& d_last = bs.d_outputs[depth - 1];
        const Tensor& last = bs.outputs[depth - 1];
        d_last.resize(last.shape());
        d_last.spans = last.spans;
        const std::size_t width = last.shape().channels();
        const float* src = d_out.data() + offset;
        float* dst = d_last.data();
        for_positions(positions, [&](std::size_t begin, std::size_t end) {
            for (std::size_t q = begin; q < end; ++q) std::copy_n(src + q * channels, width, dst + q * width);
        });
        offset += width;
        // While `sparse`, the gradient w.r.t. outputs[j] is bs.entries, not d_outputs[j]: max-over-
        // time pooling lists it, ReLU filters it, the convolution takes it (layer.h). A layer
        // that does not take part gets it written out dense.
        bool sparse = false;
        for (std::size_t j = depth; j-- > 0;) {
            const Layer& layer = *branches_[b][j];
            RunContext child = ctx;
            child.layer_index = child_index(ctx.layer_index, first_child + j);
            const Tensor& x = j == 0 ? in : bs.outputs[j - 1];
            if (sparse && j > 0 && layer.map_gradient_entries(x, bs.outputs[j], bs.entries)) continue;
            if (!sparse && j > 0 && sparse_chain_ &&
                layer.list_input_gradient(x, bs.outputs[j], bs.d_outputs[j], *bs.states[j], bs.entries)) {
                sparse = true;
                continue;
            }
            Tensor* d_x = nullptr;
            if (j > 0) {
                d_x = &bs.d_outputs[j - 1];
                d_x->resize(x.shape(), true);
                d_x->spans = x.spans;
            } else {
                d_x = d_in;
            }
            if (sparse) {
                if (layer.backward_from_entries(x, bs.outputs[j], bs.entries, d_x, *bs.states[j], child)) {
                    sparse = false;
                    continue;
                }
                write_entries(bs.entries, bs.outputs[j], bs.d_outputs[j]);
                sparse = false;
            }
            layer.backward(x, bs.outputs[j], bs.d_outputs[j], d_x, *bs.states[j], child);
        }
        first_child += depth;
    }
}

}  // namespace textcnn
