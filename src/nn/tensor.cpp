#include "textcnn/nn/tensor.h"

#include "textcnn/core/error.h"

#include <algorithm>
#include <numeric>

namespace textcnn {

Shape::Shape(std::initializer_list<std::size_t> dims) : Shape(std::vector<std::size_t>(dims)) {}

Shape::Shape(std::vector<std::size_t> dims) : dims_(std::move(dims)) {
    if (dims_.size() > 4) throw ShapeError("shape " + str() + ": at most 4 dimensions (batch, channels, height, width)");
    // positions(), per_sample() and elements() multiply the dimensions unchecked: a shape
    // whose element count does not fit a size_t cannot be made.
    // Innermost first, so that a batch of 0 cannot hide a per-sample product that overflows.
    // (Checked without building a message: shapes are made on every batch.)
    std::size_t elements = 1;
    for (auto d = dims_.rbegin(); d != dims_.rend(); ++d)
        if (__builtin_mul_overflow(elements, *d, &elements))
            throw ShapeError("shape " + str() + ": the element count overflows");
}

std::size_t Shape::positions() const {
    std::size_t p = 1;
    for (std::size_t i = 2; i < dims_.size(); ++i) p *= dims_[i];
    return p;
}

Shape Shape::with_batch(std::size_t n) const {
    std::vector<std::size_t> d = dims_;
    if (d.empty()) d.push_back(n); else d[0] = n;
    return Shape(std::move(d));
}

std::string Shape::str() const {
    std::string s = "(";
    for (std::size_t i = 0; i < dims_.size(); ++i) {
        if (i) s += ", ";
        s += std::to_string(dims_[i]);
    }
    return s + ")";
}

Tensor::Tensor(const Shape& shape) : shape_(shape), values_(shape.elements(), 0.0f) {}

Tensor::Tensor(const Shape& shape, std::vector<float> values) : shape_(shape), values_(std::move(values)) {
    if (values_.size() != shape_.elements())
        throw ShapeError("tensor: " + std::to_string(values_.size()) + " values do not fill shape " + shape_.str());
}

void Tensor::resize(const Shape& shape, bool zero) {
    shape_ = shape;
    const std::size_t n = shape.elements();
    if (values_.size() < n) values_.resize(n);
    if (zero) std::fill_n(values_.data(), n, 0.0f);
}

void Tensor::fill(float value) { std::fill_n(values_.data(), size(), value); }

arma::fmat Tensor::matrix() {
    return arma::fmat(data(), shape_.channels(), shape_.batch() * shape_.positions(), false, true);
}

const arma::fmat Tensor::matrix() const {
    return arma::fmat(const_cast<float*>(data()), shape_.channels(), shape_.batch() * shape_.positions(), false, true);
}

arma::fmat Tensor::sample_matrix(std::size_t n) {
    return arma::fmat(sample(n), shape_.channels(), shape_.positions(), false, true);
}

const arma::fmat Tensor::sample_matrix(std::size_t n) const {
    return arma::fmat(const_cast<float*>(sample(n)), shape_.channels(), shape_.positions(), false, true);
}

}  // namespace textcnn
