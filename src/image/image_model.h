// The inside of an ImageClassifier (image_classifier.h) and its model file: the network
// (sections ARCH + WGHT, see model_file.h), the class names (LABL) and metadata (META:
// "architecture", "training" as JSON object text) stored as a text model stores them, and a
// section "IMGM" (JSON) with the input shape and how pixels were scaled. IMGM version 1, what
// imagecnn wrote before, also held the labels, architecture and training facts; it still loads.
#pragma once

#include "textcnn/nn/model_file.h"
#include "textcnn/nn/network.h"
#include "textcnn/nn/tensor.h"
#include "textcnn/image/image_classifier.h"

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace textcnn {

/// Tag and version of the image metadata section.
inline constexpr const char* image_section_tag = "IMGM";
inline constexpr std::uint32_t image_section_version = 2;

struct ImageModel {
    Network network;
    std::vector<std::string> labels;  ///< class names, index = class id
    std::string architecture;         ///< built-in name or architecture file it came from
    /// Free-form training facts shown by `summary` (JSON object text): data, epochs, seed...
    std::string training_json = "{}";

    /// Sample shape (1, C, H, W).
    const Shape& input_shape() const { return network.sample_shape(); }
};

/// The sections of the model file: ARCH, WGHT, LABL, META and IMGM.
ModelFile image_model_file(const ImageModel& model);
/// The model of a file read by read_model_file(); InputError naming file.source for a model of
/// another program (no image section) or a corrupt section.
ImageModel image_model_from_file(const ModelFile& file);
/// Writes the model file (atomically; see model_file.h).
void save_image_model(const std::string& path, const ImageModel& model);
/// Reads a model written by save_image_model(); InputError for a model of another program
/// (no image section) or a corrupt file.
ImageModel load_image_model(const std::string& path);

/// Copies samples [first, first + count) of an (N, C, H, W) tensor into `batch` (resized).
void copy_samples(const Tensor& images, std::size_t first, std::size_t count, Tensor& batch);

/// Softmax probabilities (N, classes) for every image of `images` (N, C, H, W), the path of
/// eval, predict and train's test pass. The images go to the network `batch_size` at a time
/// (that bounds the memory of one call); Network::forward_chunked() cuts each batch into
/// cache-sized chunks that run through all layers in parallel, so the speed barely depends on
/// `batch_size`. ShapeError when the images do not have the model's input shape (the message
/// names both).
Tensor predict_probabilities(const Network& network, const Tensor& images,
                                      std::size_t batch_size);

/// Index of the largest value of each row of an (N, K) tensor (ties: the first).
std::vector<std::uint32_t> argmax_rows(const Tensor& scores);

struct ImageClassifier::Impl {
    ImageModel model;
};

}  // namespace textcnn
