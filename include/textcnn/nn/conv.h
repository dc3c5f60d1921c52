// ConvLayer: the one convolution of textcnn, used by the text path (1D) and the image path
// (2D) alike. Setting "type" is "conv"; the spatial rank comes from the input (rank 3 =
// (batch, channels, length), rank 4 = (batch, channels, height, width)) and must match the
// number of kernel sizes (1 or 2).
//
// Like every CNN library, this computes a cross-correlation: the kernel is NOT flipped.
// Output (n, f, t) = bias[f] + sum over window offsets i and channels c of
//     weights[i * channels + c, f] * input(n, c, t * stride - pad_before + i * dilation).
//
// Settings (LayerSpec.settings):
//   in_channels  required: input channel count (the factory fills it in by shape inference;
//                parameters are sized at construction)
//   filters      number of output channels (default 1 with `filter`, otherwise required)
//   kernel       "3" (1D) or "5,5" (2D: height, width); default "3,3" with `filter`
//   stride       "1" or "2,2" (default 1)       dilation  "1" or "2,2" (default 1)
//   padding      valid | same | full (default valid). Output length
//                floor((m + p_total - dilation*(k-1) - 1) / stride) + 1 where p_total is
//                0 (valid), dilation*(k-1) (same: output = input at stride 1; the odd pixel goes
//                after, as in TF/Keras) or 2*dilation*(k-1) (full). With stride > 1, `same`
//                gives ceil(m / stride) outputs like TF, but keeps this padding split (TF derives
//                its split from the output size, so its windows can sit one pixel to the left).
//   bias         true | false (default true; false with `filter`)
//   filter       sobel-x | sobel-y | laplace | gaussian: fixed predefined 3x3 weights applied to
//                every input channel and summed (see filters.h); implies trainable=false
//   trainable    true | false (default true)
//
// Parameters: "weights", a (kernel positions * in_channels) x filters column-major matrix whose
// column f is filter f laid out like a channels-innermost input window (row = position within
// the window * in_channels + channel), so one window dotted with a column is one output; and
// "bias", filters x 1, when bias is on.
//
// Speed. 1D stride-1 inputs (ordinary batches and packed streams) are convolved as one stream
// of positions with one GEMM per kernel tap over shifted views of the input (BLAS rejects the
// overlapping leading dimension a single GEMM would need; per-tap GEMMs measured as fast). The
// backward pass uses the same per-tap GEMMs, or, when d_out is sparse (under 1/8 non-zeros,
// as after max-over-time pooling), touches only the windows of its non-zeros. 2D and strided
// inputs go through im2col in chunks of samples, each chunk's GEMM single-threaded inside TBB.
// Every path is deterministic whatever the thread count.
//
// Packed text batches (tensor.h) are convolved as one stream. The output keeps
// the input's total length, (1, filters, total_length); output span = (offset - pad_before,
// length + p_total - dilation*(k-1)); positions outside the output spans are 0. Each gap
// (before the first span, between spans, after the last) must be at least the padding on that
// side; stride must be 1. Violations, and a sequence too short for the kernel, are ShapeErrors.
#pragma once

#include "textcnn/nn/layer.h"

#include <array>
#include <cstddef>
#include <string>
#include <vector>

namespace textcnn {

enum class Padding { valid, same, full };

/// "valid" | "same" | "full"; ConfigError (prefixed by `label`) otherwise.
Padding parse_padding(const std::string& text, const std::string& label);
std::string padding_name(Padding padding);

/// Zeros added before and after one spatial axis for a kernel of `kernel` taps at `dilation`.
/// same: total dilation*(kernel-1), before = total/2 (floor), after = the rest (TF/Keras).
struct AxisPadding {
    std::size_t before = 0;
    std::size_t after = 0;
    std::size_t total() const { return before + after; }
};
AxisPadding conv_axis_padding(Padding padding, std::size_t kernel, std::size_t dilation);

/// Output extent along one axis: floor((m + p_total - dilation*(kernel-1) - 1) / stride) + 1,
/// or 0 when the dilated kernel does not fit even once.
std::size_t conv_output_length(std::size_t input, std::size_t kernel, std::size_t stride, std::size_t dilation,
                               Padding padding);

class ConvLayer : public Layer {
public:
    explicit ConvLayer(const LayerSpec& spec);

    Shape output_shape(const Shape& input) const override;
    std::size_t workspace_elements(const Shape& input) const override;
    std::vector<ParameterInfo> parameters() const override;
    void bind(std::span<const ParameterBinding> bindings) override;
    void initialize(const Initializer& init, Rng& rng) override;
    std::unique_ptr<LayerState> make_state() const override;
    void forward(const Tensor& in, Tensor& out, LayerState& state, const RunContext& ctx) const override;
    void backward(const Tensor& in, const Tensor& out, const Tensor& d_out, Tensor* d_in, LayerState& state,
                  const RunContext& ctx) const override;
    /// The sparse gradient chain (layer.h): the stream path's sparse backward straight from the
    /// non-zeros of d_out. False when backward() would take another path for the d_out they
    /// describe (im2col, BackwardPath::dense, or more than 1/8 non-zeros with `automatic`).
    bool backward_from_entries(const Tensor& in, const Tensor& out, std::span<const GradientEntry> d_out,
                               Tensor* d_in, LayerState& state, const RunContext& ctx) const override;

    std::size_t filters() const { return filters_; }
    std::size_t in_channels() const { return in_channels_; }
    /// Kernel sizes as configured: 1 number (1D) or 2 (height, width).
    const std::vector<std::size_t>& kernel() const { return kernel_; }
    const std::vector<std::size_t>& stride() const { return stride_; }
    const std::vector<std::size_t>& dilation() const { return dilation_; }
    Padding padding() const { return padding_; }
    bool has_bias() const { return bias_; }
    bool trainable() const { return trainable_; }
    /// Rows of the weight matrix: kernel positions * in_channels.
    std::size_t window_size() const;
    /// "100 filters 3, stride 1, valid" / "8 filters 5x5, stride 1, same, sobel-x, fixed".
    std::string details() const override;

    /// Backward strategy for 1D stride-1 inputs (tests and benchmarks force one; `automatic`
    /// picks the sparse path when d_out has fewer than 1/8 non-zeros).
    enum class BackwardPath { automatic, dense, sparse };
    void set_backward_path(BackwardPath path) { backward_path_ = path; }

    /// Forward strategy for 1D stride-1 inputs: one GEMM per kernel tap over the input stream
    /// (`direct`), or one GEMM over the stream's distinct columns (bitwise-equal columns, such
    /// as a batch's repeated words and the zero gaps of packed text, multiplied once) followed
    /// by a per-tap gather (`distinct_columns`). `automatic` takes the distinct-columns path
    /// when at least a quarter of the columns repeat. Both give the same products up to the
    /// rounding of the GEMM (OpenBLAS's bits depend on a call's shape); either one is
    /// deterministic for a given input whatever the thread count.
    enum class ForwardPath { automatic, direct, distinct_columns };
    void set_forward_path(ForwardPath path) { forward_path_ = path; }

private:
    /// backward() once d_out is checked; with d_out null, the stream path's sparse backward
    /// from the entries backward_from_entries() left in the state.
    void stream_or_im2col_backward(const Tensor& in, const Tensor* d_out, Tensor* d_in, LayerState& state) const;

    std::size_t in_channels_ = 0;
    std::size_t filters_ = 0;
    std::vector<std::size_t> kernel_, stride_, dilation_;
    Padding padding_ = Padding::valid;
    bool bias_ = true;
    bool trainable_ = true;
    std::string predefined_;  ///< name of the fixed filter, empty for learned weights
    BackwardPath backward_path_ = BackwardPath::automatic;
    ForwardPath forward_path_ = ForwardPath::automatic;
    float* weights_ = nullptr;
    float* weights_gradient_ = nullptr;
    float* bias_values_ = nullptr;
    float* bias_gradient_ = nullptr;
};

}  // namespace textcnn
