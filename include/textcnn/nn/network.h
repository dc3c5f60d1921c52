// Network: a stack of layers built at run time from a ModelSpec, owning one contiguous
// parameter block (and a gradient block of the same layout) that every layer views into.
// The optimizer, zeroing, checksums and save/load each touch one buffer.
//
// Thread safety: after construction and initialisation, forward() in Mode::inference is
// const and touches only the Workspace, so many threads may predict with one Network, each
// with its own Workspace. Training (forward in Mode::training, backward, optimizer steps)
// is single-caller; the layers parallelise inside.
#pragma once

#include "textcnn/nn/layer.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <optional>
#include <string>
#include <vector>

namespace textcnn {

/// One parameter matrix of the network and where it sits in the parameter block.
struct ParameterGroup {
    std::string layer_label;  ///< "dense 'output'"
    ParameterInfo info;
    std::size_t offset = 0;  ///< index of its first float in the block
    /// For sparse_columns parameters: columns whose gradient the last backward() assigned.
    std::vector<std::uint32_t> touched_columns;
};

/// A row of the Keras-like summary: one per layer, children indented under their parent.
struct LayerSummary {
    int depth = 0;  ///< 0 for top-level layers, 1 inside a parallel branch, ...
    std::string label;       ///< "conv 'conv_1'"
    std::string type;        ///< "conv"
    std::string details;     ///< "8 filters 5x5, stride 1, same, relu"
    Shape output_shape;      ///< with batch = 0 meaning "None"
    std::size_t parameters = 0;
};

class Network {
public:
    /// Builds the layers of `spec` for samples of shape `sample_shape` (its batch dimension is
    /// ignored) and checks that every layer accepts its input shape (ShapeError otherwise).
    /// Parameters start at zero: call initialize() or load values. Every size is checked
    /// (limits.h) before the parameter block is allocated: ConfigError for a setting above its
    /// limit, ShapeError for a shape or parameter count that overflows or exceeds one.
    Network(ModelSpec spec, Shape sample_shape);
    /// The number of parameters such a network would have, with the same checks as the
    /// constructor but without allocating the parameter block: a loader compares it with the
    /// values it holds before building the network.
    static std::size_t parameter_count(const ModelSpec& spec, const Shape& sample_shape);
    /// Floats one sample of `sample_shape` takes in the forward pass: its input, every layer's
    /// output and the largest scratch of a layer (Layer::workspace_elements), the figure the
    /// constructor bounds by limits::max_activation_elements (ShapeError above it, as here).
    static std::size_t activation_elements(const ModelSpec& spec, const Shape& sample_shape);
    /// For a network of sequences, samples of shape (1, channels, length): activation_elements()
    /// as fixed + per_position x length (sizes grow linearly with the length; the slope is
    /// measured 4,096 positions out, or nearer where that passes the bound). per_position is
    /// limits::max_activation_elements when not even two positions fit.
    struct ActivationGrowth {
        std::size_t fixed = 0, per_position = 0;
    };
    static ActivationGrowth activation_growth(const ModelSpec& spec, std::size_t channels = 1);
    ~Network();
    Network(Network&&) noexcept;
    Network& operator=(Network&&) noexcept;

    const ModelSpec& spec() const { return spec_; }
    const Shape& sample_shape() const { return sample_shape_; }
    /// Output shape for a batch of n samples.
    Shape output_shape(std::size_t n) const;

    std::size_t layer_count() const { return layers_.size(); }
    const Layer& layer(std::size_t i) const { return *layers_.at(i); }

    std::span<float> parameters() { return parameters_; }
    std::span<const float> parameters() const { return parameters_; }
    std::span<float> gradients() { return gradients_; }
    std::span<const float> gradients() const { return gradients_; }
    std::vector<ParameterGroup>& groups() { return groups_; }
    const std::vector<ParameterGroup>& groups() const { return groups_; }
    /// The groups of top-level layer i (its parameters() in order; a parallel layer's are
    /// all of its children's).
    std::span<const ParameterGroup> layer_groups(std::size_t i) const;
    /// Number of parameters (trainable or not).
    std::size_t parameter_count() const { return parameters_.size(); }
    std::size_t trainable_parameter_count() const;

    /// Draws every parameter from `init` and one seed (same seed, same values). ConfigError for a
    /// uniform scale that is NaN, negative or above 1e6.
    void initialize(const Initializer& init, std::uint64_t seed);

    /// Per-caller mutable state: one LayerState per layer and the intermediate tensors.
    struct Workspace {
        std::vector<std::unique_ptr<LayerState>> states;
        std::vector<Tensor> activations;    ///< activations[i] is layer i's output
        std::vector<Tensor> d_activations;  ///< gradient w.r.t. activations[i]
        Tensor d_input;                     ///< gradient w.r.t. the network input (if asked)
    };
    Workspace make_workspace() const;

    /// Runs the stack. Returns the last layer's output (logits), a reference into `ws`.
    const Tensor& forward(const Tensor& input, Workspace& ws, const RunContext& ctx) const;

    /// Per-caller state of forward_chunked(): one Workspace per chunk running at a time (made
    /// on first use, kept for the next calls) and the assembled output. One per calling thread,
    /// like Workspace; movable, not copyable.
    class ChunkedWorkspace {
    public:
        ChunkedWorkspace();
        ~ChunkedWorkspace();
        ChunkedWorkspace(ChunkedWorkspace&&) noexcept;
        ChunkedWorkspace& operator=(ChunkedWorkspace&&) noexcept;

    private:
        friend class Network;
        struct Lanes;
        std::unique_ptr<Lanes> lanes_;
        Tensor output_;
    };
    ChunkedWorkspace make_chunked_workspace() const;

    /// Default upper bound on the samples of one chunk of forward_chunked(). Measured with
    /// bench_image_infer (cnn_1_with_pooling, cnn_fashion; loaded machine): 4 to 32 within
    /// about 5 % of each other, the smaller slightly ahead; 64 slower.
    static constexpr std::size_t default_chunk_samples = 8;

    /// Inference forward over an ordinary (not packed) batch, cut into chunks of at most
    /// `max_chunk_samples` samples (0 = default_chunk_samples; fewer when their activations
    /// would pass limits::max_activation_elements, down to one) that each run through ALL layers
    /// before their output is copied into place, so a chunk's activations and scratch buffers
    /// stay in cache instead of streaming the whole batch through memory once per layer. Chunks
    /// run in parallel with oneTBB, BLAS single-threaded meanwhile. The chunking depends on the
    /// batch size only, never on the thread count. Returns the (N, ...) output, a reference
    /// into `ws`.
    ///
    /// Every layer computes each sample on its own in Mode::inference, so each output is that
    /// of forward() on the whole batch: bit-identical through convolution, pooling and
    /// activations; a dense layer's sgemm may differ in the last bits, since OpenBLAS picks its
    /// kernels by matrix size (forward() itself does so between batch sizes). Checked in
    /// tests/nn/test_network_chunked.cpp. A packed input is not split: it runs as one forward()
    /// (chunking it would mean cutting the stream between its spans).
    const Tensor& forward_chunked(const Tensor& input, ChunkedWorkspace& ws,
                                  std::size_t max_chunk_samples = 0) const;
    /// Back-propagates d_output (gradient of the loss w.r.t. the logits) through the stack
    /// after a training forward(); assigns every parameter gradient. When `want_input_gradient`
    /// ws.d_input receives the gradient w.r.t. the input.
    void backward(const Tensor& input, const Tensor& d_output, Workspace& ws, const RunContext& ctx,
                  bool want_input_gradient = false) const;

    std::vector<LayerSummary> summary() const;
    /// How summary_table() ends: with the parameter counts of a network whose weights exist, or,
    /// for a network built only to describe a model stored without its float weights (a
    /// quantized text model), with the count of the architecture and that the weights are not stored.
    enum class Weights { present, not_stored };
    /// The summary as a Keras-like table, with total, trainable and non-trainable counts and
    /// the size of the parameters in bytes (Weights::not_stored: the total only, said to be
    /// the architecture's).
    std::string summary_table(Weights weights = Weights::present) const;

private:
    ModelSpec spec_;
    Shape sample_shape_;
    std::vector<std::unique_ptr<Layer>> layers_;
    std::vector<float> parameters_;
    std::vector<float> gradients_;
    std::vector<ParameterGroup> groups_;
    std::vector<Shape> input_shapes_;  ///< layer i's input shape for one sample
    Shape output_shape_;               ///< the last layer's output for one sample
    std::size_t first_trainable_ = 0;  ///< first layer with trainable parameters (layer count if none)
    std::size_t activation_elements_ = 0;  ///< activation_elements() of one sample of sample_shape_
    void bind_all();
    void check_input(const Tensor& input) const;
};

/// Largest magnitude a stored parameter may have: its square (max-norm, the folded tables'
/// products) must stay below float's 3.4e38. A trained network beyond it has diverged.
constexpr float max_usable_parameter = 1e18f;

/// The first parameter of `net` that is NaN, infinite or beyond ±max_usable_parameter, said as
/// "parameter 12 of 'weights' in dense 'output' is inf"; nullopt when all are usable. One pass
/// over the parameter block; thread-safe for a network nobody modifies meanwhile.
std::optional<std::string> unusable_parameter(const Network& net);

}  // namespace textcnn
