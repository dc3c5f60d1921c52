// Tensor: float32 values over contiguous memory, with a shape and, for text, an optional
// list of packed sequences.
//
// Shape convention. A shape is (batch, channels), (batch, channels, length) or
// (batch, channels, height, width). The *storage* order is channels-innermost ("channels
// last", as PyTorch's channels_last memory format): element (n, c, l) sits at
// ((n * length) + l) * channels + c, and (n, c, y, x) at (((n * height) + y) * width + x) *
// channels + c. Why: the positions of a batch are then columns of one channels x positions
// matrix, so a 1D convolution is one GEMM per kernel tap over shifted views of the input
// itself (no im2col copy; BLAS refuses the single "leading dimension = channels" GEMM since
// the leading dimension may not be smaller than the row count), each covering the whole
// batch. Each sample is a channels x positions column-major matrix, which Armadillo views
// without copying.
//
// Packed sequences (text). Variable-length sentences are not padded to the longest one:
// they are laid end to end in one tensor of shape (1, channels, total_length), separated by
// zero gaps, and `spans` says where each sentence lives. Layers that see a packed tensor
// keep this invariant: every position outside the spans holds 0. Global pooling turns a
// packed tensor into an ordinary (spans.size(), channels) one. A convolution over the
// packed tensor computes each sentence exactly as if it were alone and zero-padded, as long
// as each gap is at least as wide as the padding; padding thus costs no arithmetic.
#pragma once

#include <armadillo>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <vector>

namespace textcnn {

/// A tensor shape: (batch, channels[, spatial...]) with 0, 1 or 2 spatial dimensions.
class Shape {
public:
    Shape() = default;
    Shape(std::initializer_list<std::size_t> dims);
    explicit Shape(std::vector<std::size_t> dims);

    std::size_t rank() const { return dims_.size(); }
    std::size_t operator[](std::size_t i) const { return dims_.at(i); }
    const std::vector<std::size_t>& dims() const { return dims_; }

    std::size_t batch() const { return dims_.empty() ? 0 : dims_[0]; }
    std::size_t channels() const { return dims_.size() < 2 ? 1 : dims_[1]; }
    /// Number of spatial dimensions: 0 (dense), 1 (sequence) or 2 (image).
    std::size_t spatial_rank() const { return dims_.size() < 2 ? 0 : dims_.size() - 2; }
    /// Spatial extent i (0-based among the spatial dimensions).
    std::size_t spatial(std::size_t i) const { return dims_.at(2 + i); }
    /// Product of the spatial dimensions (1 when there are none).
    std::size_t positions() const;
    /// Floats in one sample: channels * positions.
    std::size_t per_sample() const { return channels() * positions(); }
    /// Floats in the whole tensor.
    std::size_t elements() const { return batch() * per_sample(); }
    /// The same shape with another batch size.
    Shape with_batch(std::size_t n) const;

    /// "(50, 300, 64)"; used in every shape error message.
    std::string str() const;
    bool operator==(const Shape&) const = default;

private:
    std::vector<std::size_t> dims_;
};

/// Where one sentence of a packed batch lives along the length axis.
struct SequenceSpan {
    std::uint32_t offset = 0;
    std::uint32_t length = 0;
    bool operator==(const SequenceSpan&) const = default;
};

/// Float32 tensor over contiguous memory. Copyable and movable (= default members).
class Tensor {
public:
    Tensor() = default;
    /// Zero-filled tensor of the given shape.
    explicit Tensor(const Shape& shape);
    Tensor(const Shape& shape, std::vector<float> values);

    const Shape& shape() const { return shape_; }
    /// Change the shape. Keeps the allocation when it is large enough (hot paths resize the
    /// same tensors every batch); the values are unspecified afterwards unless `zero` is set.
    void resize(const Shape& shape, bool zero = false);
    void fill(float value);
    void zero() { fill(0.0f); }

    float* data() { return values_.data(); }
    const float* data() const { return values_.data(); }
    std::size_t size() const { return shape_.elements(); }
    std::span<float> values() { return {values_.data(), size()}; }
    std::span<const float> values() const { return {values_.data(), size()}; }
    float& operator[](std::size_t i) { return values_[i]; }
    float operator[](std::size_t i) const { return values_[i]; }

    /// Pointer to sample n (per_sample() floats).
    float* sample(std::size_t n) { return data() + n * shape_.per_sample(); }
    const float* sample(std::size_t n) const { return data() + n * shape_.per_sample(); }

    /// Armadillo view (no copy) of the whole tensor as channels x (batch * positions).
    arma::fmat matrix();
    const arma::fmat matrix() const;
    /// Armadillo view (no copy) of sample n as channels x positions.
    arma::fmat sample_matrix(std::size_t n);
    const arma::fmat sample_matrix(std::size_t n) const;

    /// Packed sequences (see the file comment); empty for an ordinary batch.
    std::vector<SequenceSpan> spans;
    bool packed() const { return !spans.empty(); }
    /// Number of samples: spans.size() when packed, otherwise shape().batch().
    std::size_t samples() const { return packed() ? spans.size() : shape_.batch(); }

private:
    Shape shape_;
    std::vector<float> values_;
};

}  // namespace textcnn
