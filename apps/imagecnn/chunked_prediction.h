// Class probabilities for many images through Network::forward_chunked(): the path of
// `imagecnn eval` and `imagecnn predict`.
#pragma once

#include "textcnn/network.h"
#include "textcnn/tensor.h"

#include <cstddef>

namespace imagecnn {

/// Softmax probabilities (N, classes) for every image of `images` (N, C, H, W). The images go
/// to the network `batch_size` at a time (that bounds the memory of one call); each call cuts
/// its batch into cache-sized chunks that run through all layers in parallel, so the speed
/// barely depends on `batch_size`. ShapeError when the images do not have the model's input
/// shape (the message names both; as predict_probabilities() in image_model.h).
textcnn::Tensor predict_probabilities_chunked(const textcnn::Network& network, const textcnn::Tensor& images,
                                              std::size_t batch_size);

}  // namespace imagecnn
