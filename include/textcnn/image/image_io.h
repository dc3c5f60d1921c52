// Image files (PNG, JPEG, PGM/PPM) in and PNG out: PNG through libpng, JPEG through
// libjpeg(-turbo), PGM/PPM through the project's own bounded parser.
//
// Pixels are 8-bit and interleaved (row after row, the channels of a pixel side by side):
// exactly the channels-innermost storage of a Tensor sample (tensor.h), so an image becomes
// a (1, channels, height, width) tensor by scaling alone. Values are scaled to [0, 1] by
// / 255, the same scaling as the IDX reader, so a model trained on IDX data predicts the
// PNG export of an IDX image exactly as it predicts the IDX image itself.
//
// Files are untrusted: a corrupt, truncated or unsupported file throws InputError naming the
// file and the decoder's reason. The pixel budget (max_pixels) is checked against the size in
// the file's header before any pixel memory is allocated or any image data decoded, so a small
// file claiming a huge image costs neither memory nor time ("image too large: W x H (limit N
// pixels)"). What the decoders may allocate besides the pixels is bounded too (libpng's chunk
// limits, libjpeg's max_memory_to_use and a scan limit for progressive JPEGs).
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

/// The default pixel budget of decode_image(): 2^26 = 67,108,864 pixels (8192 x 8192), above
/// every common camera (a 61-megapixel full-frame sensor is 9504 x 6336). Decoding costs at most
/// 4 bytes per pixel for the image plus, for a progressive JPEG, up to 8 bytes per pixel in
/// libjpeg (2 per coefficient and colour component: 6 for YCbCr 4:4:4); a caller that turns the
/// image into float tensors pays more, so it may want less. Pixels are written as rows are
/// decoded, so a truncated file costs only as much memory as its data reached.
inline constexpr std::size_t default_max_image_pixels = std::size_t{1} << 26;

/// Decodes PNG, JPEG or PGM/PPM bytes. desired_channels 0 keeps the file's channels; 1..4
/// converts (RGB -> grey uses the luma weights (77 R + 150 G + 29 B) / 256; a colour JPEG asked
/// for grey gives its own luma channel Y). An image of more than max_pixels pixels (width x
/// height) is refused, from its header, before it is decoded; max_pixels 0 is a ConfigError.
///
/// PNG: every colour type and bit depth, palettes, transparency (tRNS becomes an alpha channel),
/// interlacing; 16-bit samples become 8-bit as round(v * 255 / 65535); gamma and colour profiles
/// are ignored. JPEG: baseline, progressive (at most max_jpeg_scans scans) and arithmetic-coded,
/// grey, YCbCr, RGB, CMYK and YCCK (CMYK becomes RGB as R = C * K / 255, the Adobe convention);
/// 12-bit and lossless JPEG are refused. Corrupt entropy data and truncated files are refused
/// rather than decoded to grey, as are files that do not start with the format's signature.
Image decode_image(std::span<const std::uint8_t> bytes, const std::string& source, std::size_t desired_channels = 0,
                   std::size_t max_pixels = default_max_image_pixels);
/// Reads and decodes a file (IoError when it cannot be read).
Image read_image(const std::string& path, std::size_t desired_channels = 0,
                 std::size_t max_pixels = default_max_image_pixels);

/// More scans than this in a (progressive) JPEG are refused: encoders write about 10; each scan
/// costs a pass over the whole image, so the limit bounds the decoding time.
inline constexpr int max_jpeg_scans = 100;

/// PNG encoding (libpng, 8-bit, not interlaced) of an image with 1 to 4 channels.
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
