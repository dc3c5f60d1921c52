// Image files (PNG, JPEG, PGM/PPM) in and PNG out, through stb_image / stb_image_write.
//
// Pixels are 8-bit and interleaved (row after row, the channels of a pixel side by side):
// exactly the channels-innermost storage of a Tensor sample (tensor.h), so an image becomes
// a (1, channels, height, width) tensor by scaling alone. Values are scaled to [0, 1] by
// / 255, the same scaling as the IDX reader, so a model trained on IDX data predicts the
// PNG export of an IDX image exactly as it predicts the IDX image itself.
//
// Files are untrusted: a corrupt, truncated or unsupported file throws InputError naming the
// file and stb_image's reason; nothing is allocated from a size before the decoder checked it.
#pragma once

#include "textcnn/nn/tensor.h"

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace textcnn {

/// An 8-bit image, interleaved: pixel (y, x) channel c is pixels[(y * width + x) * channels + c].
struct Image {
    std::size_t width = 0;
    std::size_t height = 0;
    std::size_t channels = 0;  ///< 1 grey, 2 grey + alpha, 3 RGB, 4 RGBA
    std::vector<std::uint8_t> pixels;

    bool operator==(const Image&) const = default;
    /// "28x28x1": width x height x channels, used in error messages.
    std::string size_text() const;
};

/// Largest accepted width or height (protects against decompression bombs).
inline constexpr std::size_t max_image_side = 16384;

/// Decodes PNG, JPEG or PGM/PPM bytes. desired_channels 0 keeps the file's channels; 1..4
/// converts (RGB -> grey uses stb_image's luma weights (77 R + 150 G + 29 B) / 256).
Image decode_image(std::span<const std::uint8_t> bytes, const std::string& source, std::size_t desired_channels = 0);
/// Reads and decodes a file (IoError when it cannot be read).
Image read_image(const std::string& path, std::size_t desired_channels = 0);

/// PNG encoding of an image with 1 to 4 channels.
std::vector<std::uint8_t> encode_png(const Image& image);
/// Writes a PNG file (through a temporary file and a rename).
void write_png(const std::string& path, const Image& image);

/// The image as a tensor of shape (1, channels, height, width), values / 255.
Tensor image_to_tensor(const Image& image);

/// How a feature map of arbitrary floats becomes 0..255 pixels.
enum class PixelScaling {
    min_max,   ///< linear map of [min, max] onto [0, 255]; a constant map becomes all 0
    absolute,  ///< |v| / max|v| onto [0, 255] (edge strength whatever its sign); all 0 stays 0
    clip,      ///< v * 255 clamped to [0, 255]: the [0, 1] pixel scale, negatives black
};
/// Parses "minmax" | "abs" | "clip" (ConfigError otherwise).
PixelScaling parse_pixel_scaling(const std::string& name);

/// Channel `channel` of sample `sample` of an image-shaped tensor (N, C, H, W) as a one-channel
/// image, scaled as `scaling` says; values are rounded to the nearest integer.
Image tensor_to_image(const Tensor& tensor, std::size_t sample, std::size_t channel, PixelScaling scaling);

}  // namespace textcnn
