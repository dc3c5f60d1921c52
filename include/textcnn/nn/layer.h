// The layer contract. Every layer, 1D or 2D, text or image, honours this one text.
//
// A layer is immutable after construction and binding: forward() and backward() are const,
// and everything they mutate lives in a LayerState made by make_state() (caches for
// backward, scratch buffers) or in the output tensors. So one loaded model can predict from
// many threads at once, each thread with its own states (fastText's `State` idea).
//
// forward(in, out, state, ctx)
//   requires  in.shape() fits the layer (else ShapeError naming the layer and both shapes);
//             in.packed() only for layers that accept packed sequences (see tensor.h).
//   ensures   out is resized to output_shape(in.shape()) and fully *assigned*; for a packed
//             input, out.spans describes the output's sequences and positions outside them
//             are 0. In Mode::training the state keeps what backward needs. In
//             Mode::inference nothing but `out` and `state` is written.
//
// backward(in, out, d_out, d_in, state, ctx)
//   requires  the forward() call just before, in Mode::training, with the same in, out and
//             state; d_out has out's shape.
//   ensures   parameter gradients are *assigned* (overwritten), never accumulated across
//             calls. For a parameter with sparse_columns, only the columns listed in
//             *touched_columns are assigned (in increasing order, no repeats) and every other
//             column of the gradient holds 0: the layer zeroes the columns it touched the
//             previous time before writing new ones.
//             If d_in is not null it has in's shape and the input gradient is *accumulated*
//             (added) into it: the caller zeroes it first. Accumulation is what lets several
//             parallel branches read the same input (Kim's three filter widths).
//             If d_in is null the caller does not need the input gradient, and the layer may
//             skip computing it.
//
// The sparse gradient chain (optional; what a container may use instead of backward()).
// After max-over-time pooling an input gradient has one non-zero per sample and channel at
// most; written out dense, it is zeroed, scattered, passed through the activation and scanned
// for its non-zeros again by the convolution. A layer may instead hand its input gradient on
// as a list of GradientEntry (element position * channels + channel of a channels-innermost
// tensor, in increasing order, zeros left out):
//   list_input_gradient(in, out, d_out, state, entries)  from a dense d_out (max pooling);
//   map_gradient_entries(in, out, entries)               entries of d_out become those of d_in,
//                                                        in place (an elementwise activation);
//   backward_from_entries(in, out, entries, d_in, state, ctx)
//                                                        backward() for the d_out the entries
//                                                        describe (the convolution).
// Each returns false, having changed nothing, when the layer does not take part (or would
// rather work dense, as the convolution does for a d_out it finds not sparse). The results
// are those of backward() bit for bit: a caller that gets false writes the entries out dense
// and calls backward(). ParallelLayer runs its branches this way.
//
// Parameters are column-major matrices (rows x cols) that live in the owning Network's one
// contiguous parameter block; bind() hands the layer pointers into that block and into the
// gradient block of the same layout.
#pragma once

#include "textcnn/nn/training_settings.h"
#include "textcnn/nn/layer_spec.h"
#include "textcnn/core/checked.h"
#include "textcnn/core/rng.h"
#include "textcnn/nn/tensor.h"

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace textcnn {

enum class Mode { inference, training };

/// What a forward/backward call needs besides tensors. Dropout draws its mask from
/// random_bits(seed, stream_of(layer_index), step * ... + element): deterministic whatever the
/// thread count.
struct RunContext {
    Mode mode = Mode::inference;
    std::uint64_t seed = 0;
    std::uint64_t step = 0;         ///< training step (batch number since the start)
    std::uint32_t layer_index = 0;  ///< position of the layer in the network (set by Network)
};

/// One parameter matrix of a layer.
struct ParameterInfo {
    std::string name;  ///< "weights", "bias", "table"
    std::size_t rows = 0;
    std::size_t cols = 0;
    /// The gradient touches only some columns per batch (embedding table: one column per
    /// word). Optimizers then update only those columns (lazily; see optimizer.h).
    bool sparse_columns = false;
    /// Columns are weight vectors a max-norm constraint may apply to (dense and conv
    /// weights; not biases, not the embedding table).
    bool max_norm_columns = false;
    /// False for fixed weights (predefined filters, static embeddings).
    bool trainable = true;
    /// rows * cols; ShapeError when the product overflows (sizes may come from a file).
    std::size_t size() const { return checked_mul(rows, cols, "parameter size (rows x columns)"); }
};

/// Where a layer's parameter lives.
struct ParameterBinding {
    float* value = nullptr;
    float* gradient = nullptr;
    /// For sparse_columns parameters: the columns assigned by the last backward().
    std::vector<std::uint32_t>* touched_columns = nullptr;
};

/// One non-zero of a gradient tensor whose channels are innermost: element
/// position * channels + channel, where the position counts the samples' positions in order
/// (sample n's position p of an ordinary batch is n * positions + p; a packed tensor's
/// positions are its stream's).
struct GradientEntry {
    std::uint32_t position = 0;
    std::uint32_t channel = 0;
    float value = 0.0f;
};

/// Mutable per-call state of a layer: caches for backward, scratch buffers. Subclassed by
/// layers that need one.
class LayerState {
public:
    virtual ~LayerState() = default;
};

class Layer {
public:
    explicit Layer(LayerSpec spec) : spec_(std::move(spec)) {}
    virtual ~Layer() = default;
    Layer(const Layer&) = delete;
    Layer& operator=(const Layer&) = delete;

    /// The description this layer was built from (saved in model files).
    const LayerSpec& spec() const { return spec_; }
    /// "conv 'conv_1'": the prefix of this layer's error messages.
    std::string label() const { return spec_.label(); }

    /// Output shape for an input shape, or ShapeError naming the layer and the shape.
    virtual Shape output_shape(const Shape& input) const = 0;
    /// Floats of scratch the forward pass of one sample of `input` (batch 1) holds beyond its
    /// output, an upper bound (a convolution's im2col columns; the outputs of a parallel layer's
    /// branches). Network bounds a sample's activations with it (limits::max_activation_elements)
    /// before anything is allocated. Sizes are those output_shape() accepted, so no overflow
    /// checks are needed beyond checked arithmetic on the products.
    virtual std::size_t workspace_elements(const Shape& /*input*/) const { return 0; }

    virtual std::vector<ParameterInfo> parameters() const { return {}; }
    /// One binding per entry of parameters(), in the same order.
    virtual void bind(std::span<const ParameterBinding> /*bindings*/) {}
    /// Draws initial values for the bound parameters.
    virtual void initialize(const Initializer& /*init*/, Rng& /*rng*/) {}

    virtual std::unique_ptr<LayerState> make_state() const { return std::make_unique<LayerState>(); }

    virtual void forward(const Tensor& in, Tensor& out, LayerState& state, const RunContext& ctx) const = 0;
    virtual void backward(const Tensor& in, const Tensor& out, const Tensor& d_out, Tensor* d_in,
                          LayerState& state, const RunContext& ctx) const = 0;

    /// The sparse gradient chain (see the top of this file); the default takes no part.
    virtual bool list_input_gradient(const Tensor& /*in*/, const Tensor& /*out*/, const Tensor& /*d_out*/,
                                     LayerState& /*state*/, std::vector<GradientEntry>& /*entries*/) const {
        return false;
    }
    virtual bool map_gradient_entries(const Tensor& /*in*/, const Tensor& /*out*/,
                                      std::vector<GradientEntry>& /*entries*/) const {
        return false;
    }
    virtual bool backward_from_entries(const Tensor& /*in*/, const Tensor& /*out*/,
                                       std::span<const GradientEntry> /*d_out*/, Tensor* /*d_in*/,
                                       LayerState& /*state*/, const RunContext& /*ctx*/) const {
        return false;
    }

    /// Layers that contain others (parallel branches) list them for summaries.
    virtual std::vector<const Layer*> children() const { return {}; }

    /// This layer's settings in one line, as a summary shows them ("8 filters of width 3,
    /// stride 1, valid"): the values the layer uses, derived ones included. Empty when there
    /// is nothing to say (activations, flatten).
    virtual std::string details() const { return {}; }

private:
    LayerSpec spec_;
};

/// Builds a layer from its description for inputs of `input_shape` (batch ignored);
/// ConfigError for an unknown type or bad setting, ShapeError when the input cannot fit.
/// Settings derived from the input shape are filled in here, so layers size their parameters
/// at construction: "in_channels" for conv, "in_units" for dense (and recursively inside
/// parallel branches). Types: conv, max_pool, avg_pool, global_max_pool, global_avg_pool,
/// dense, flatten, dropout, relu, tanh, sigmoid, identity, embedding, ngram_bag, parallel.
std::unique_ptr<Layer> make_layer(const LayerSpec& spec, const Shape& input_shape);

}  // namespace textcnn
