// Upper bounds on the sizes a network may be built with. Architectures come from files (model
// files, architecture JSON), so their numbers are untrusted: each is checked against these
// bounds, with checked arithmetic (core/checked.h), before anything is allocated. The bounds
// are far above any model this project trains (Kim's CNN: 300-d embeddings, widths 3-5,
// 100 maps; Fashion-MNIST: 28x28 images) and far below what would exhaust memory by accident.
#pragma once

#include <cstddef>

namespace textcnn::limits {

/// Any integer layer setting (vocab, dim, filters, units, kernel, stride, ...) and any
/// dimension of a network's sample shape.
inline constexpr std::size_t max_setting = std::size_t{1} << 24;
/// The receptive extent of a convolution along one axis, dilation * (kernel - 1) + 1. It is
/// also the padding a packed text needs, allocated per text at prediction.
inline constexpr std::size_t max_receptive_extent = 4096;
/// Floats in one sample of the network's input or of any layer's output (1 GiB).
inline constexpr std::size_t max_sample_elements = std::size_t{1} << 28;
/// Floats of one sample's forward pass through the whole network: its input, every layer's
/// output (training keeps them all for the backward pass) and the largest scratch of any layer
/// (Layer::workspace_elements; 1 GiB). Bounds the memory and time one image costs, which the
/// per-layer bound does not: three 2x2 convolutions of dilation 4095 with full padding stay
/// below max_sample_elements each, yet took 4.6 GB and 17 s for one 28x28 image.
inline constexpr std::size_t max_activation_elements = std::size_t{1} << 28;
/// Values a windowed pooling layer reads for one sample (outputs x window clipped to the
/// input): 2^30, about a second; pooling has no weights, so its file cannot show its cost.
inline constexpr std::size_t max_pool_reads = std::size_t{1} << 30;
/// Parameters of a network (4 GiB of floats; the gradients take as much again).
inline constexpr std::size_t max_parameters = std::size_t{1} << 30;
/// Bytes of a model or checkpoint file, checked from the file's size before it is read: the
/// largest checkpoint of a network within max_parameters (the parameters, the best ones and
/// two optimizer accumulators, 4 bytes each) plus 1 GiB for the other sections (vocabulary,
/// labels). A larger file cannot be a valid model, so it is refused without reading it.
inline constexpr std::size_t max_model_file_bytes = 4 * max_parameters * sizeof(float) + (std::size_t{1} << 30);

}  // namespace textcnn::limits
