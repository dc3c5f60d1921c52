// Parallel: several branches read the same input, and their outputs are concatenated along
// the channel axis (Kim's filter widths 3, 4 and 5 side by side). Each branch is a stack of
// layers built by make_layer() from LayerSpec.branches; the branches must end in outputs of
// the same batch and spatial shape (and the same spans when packed), else ShapeError naming
// every branch's shape. Channel order: branch 0's channels first.
//
// Backward splits d_out by channel, back-propagates each branch and accumulates all input
// gradients into d_in: the layer contract's "accumulate into d_in" makes this a plain sum.
// Inside a branch, a gradient after max-over-time pooling goes down as its non-zeros where
// the layers take part (layer.h's sparse gradient chain; set_sparse_chain), bit for bit as
// the dense pass.
//
// Children get RunContext.layer_index = (parent index + 1) * 1000 + k, k counting the
// children branch by branch from 0: unique and deterministic, and disjoint from the indices of
// a network's top-level layers (< 1000), so a dropout inside a branch has its own masks.
// Forward runs the branches side by side (each writes only its own outputs), backward one
// after the other (they add into the same d_in); each child parallelises inside, and no
// result depends on the thread count.
#pragma once

#include "textcnn/nn/layer.h"

#include <memory>
#include <vector>

namespace textcnn {

class ParallelLayer : public Layer {
public:
    /// Builds every branch for inputs of `input_shape` (batch ignored). ConfigError for no
    /// branches, an empty branch or settings; errors of the children propagate.
    ParallelLayer(const LayerSpec& spec, const Shape& input_shape);

    std::size_t branch_count() const { return branches_.size(); }
    /// Layers of branch b, first to last.
    std::vector<const Layer*> branch(std::size_t b) const;
    /// RunContext.layer_index of the k-th child (branch by branch) of a parallel layer at
    /// `parent_index`.
    static std::uint32_t child_index(std::uint32_t parent_index, std::size_t k) {
        return static_cast<std::uint32_t>((std::size_t{parent_index} + 1) * 1000 + k);
    }

    Shape output_shape(const Shape& input) const override;
    std::size_t workspace_elements(const Shape& input) const override;
    std::string details() const override;
    std::vector<ParameterInfo> parameters() const override;
    void bind(std::span<const ParameterBinding> bindings) override;
    void initialize(const Initializer& init, Rng& rng) override;
    std::unique_ptr<LayerState> make_state() const override;
    void forward(const Tensor& in, Tensor& out, LayerState& state, const RunContext& ctx) const override;
    void backward(const Tensor& in, const Tensor& out, const Tensor& d_out, Tensor* d_in, LayerState& state,
                  const RunContext& ctx) const override;
    /// Every child layer, branch by branch.
    std::vector<const Layer*> children() const override;

    /// Whether backward() passes a branch's gradient down as its non-zeros where the layers
    /// take part (layer.h: max-over-time pooling, ReLU, convolution; on by default). The
    /// results are the same bit for bit; tests and benchmarks turn it off to compare.
    void set_sparse_chain(bool on) { sparse_chain_ = on; }

private:
    std::vector<std::vector<std::unique_ptr<Layer>>> branches_;
    bool sparse_chain_ = true;
};

}  // namespace textcnn
