#include "textcnn/image/image_io.h"

#include "textcnn/core/error.h"
#include "textcnn/image/idx.h"

// The only translation unit with the stb implementations. STATIC keeps the symbols private to
// this file (Debian also ships a libstb.so with the same names); only PNG and JPEG are compiled
// in. PGM/PPM are decoded here instead: stb_image's PNM loader ignores a short read and would
// return uninitialised pixels for a truncated file. Third-party code: its warnings are not ours to fix.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wunused-but-set-variable"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_NO_STDIO
#define STBI_MAX_DIMENSIONS 16384
#include <stb_image.h>

#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STBI_WRITE_NO_STDIO
#include <stb_image_write.h>
#pragma GCC diagnostic pop

#include <algorithm>
#include <cctype>
#include <climits>
#include <cmath>
#include <memory>

static_assert(textcnn::max_image_side == STBI_MAX_DIMENSIONS);

namespace textcnn {

std::string Image::size_text() const {
    return std::to_string(width) + "x" + std::to_string(height) + "x" + std::to_string(channels);
}

namespace {

bool is_pnm(std::span<const std::uint8_t> bytes) {
    return bytes.size() >= 2 && bytes[0] == 'P' && bytes[1] >= '2' && bytes[1] <= '6' && bytes[1] != '4';
}

// Netpbm grey (P2 ASCII, P5 binary) and colour (P3, P6) maps; maxval 1..65535 (16-bit binary
// samples are big-endian), values rescaled to 0..255 as round(v * 255 / maxval).
class PnmReader {
public:
    PnmReader(std::span<const std::uint8_t> bytes, const std::string& source) : bytes_(bytes), source_(source) {}

    Image read() {
        const char kind = static_cast<char>(bytes_[1]);
        pos_ = 2;
        const bool ascii = kind == '2' || kind == '3';
        Image image;
        image.channels = (kind == '3' || kind == '6') ? 3 : 1;
        image.width = header_number("width");
        image.height = header_number("height");
        const std::size_t maxval = header_number("maxval");
        if (image.width == 0 || image.height == 0 || image.width > max_image_side || image.height > max_image_side)
            fail("image of " + std::to_string(image.width) + "x" + std::to_string(image.height) +
                 " pixels (each side must be 1 to " + std::to_string(max_image_side) + ")");
        if (maxval == 0 || maxval > 65535) fail("maxval " + std::to_string(maxval) + " (must be 1 to 65535)");
        const std::size_t samples = image.width * image.height * image.channels;
        const std::size_t sample_bytes = maxval > 255 ? 2 : 1;
        if (!ascii) {
            // Exactly one whitespace byte separates the header from the binary samples.
            if (pos_ >= bytes_.size() || !std::isspace(bytes_[pos_])) fail("expected whitespace after maxval");
            ++pos_;
            if (bytes_.size() - pos_ < samples * sample_bytes)
                throw InputError(source_ + ": truncated at offset " + std::to_string(bytes_.size()) + ": " +
                                 std::to_string(samples * sample_bytes) + " bytes of pixels expected from offset " +
                                 std::to_string(pos_) + ", " + std::to_string(bytes_.size() - pos_) + " present");
        }
        image.pixels.resize(samples);
        for (std::size_t i = 0; i < samples; ++i) {
            std::size_t value = 0;
            if (ascii) {
                value = header_number("sample");
            } else {
                value = bytes_[pos_++];
                if (sample_bytes == 2) value = (value << 8) | bytes_[pos_++];
            }
            if (value > maxval)
                fail("sample " + std::to_string(i) + " is " + std::to_string(value) + ", above maxval " +
                     std::to_string(maxval));
            image.pixels[i] = static_cast<std::uint8_t>((value * 255 + maxval / 2) / maxval);
        }
        return image;
    }

private:
    [[noreturn]] void fail(const std::string& message) const {
        throw InputError(source_ + ": offset " + std::to_string(pos_) + ": corrupt PGM/PPM: " + message);
    }

    // A decimal number after whitespace and '#' comments.
    std::size_t header_number(const char* what) {
        for (;;) {
            while (pos_ < bytes_.size() && std::isspace(bytes_[pos_])) ++pos_;
            if (pos_ < bytes_.size() && bytes_[pos_] == '#') {
                while (pos_ < bytes_.size() && bytes_[pos_] != '\n') ++pos_;
                continue;
            }
            break;
        }
        if (pos_ >= bytes_.size())
            throw InputError(source_ + ": truncated at offset " + std::to_string(pos_) + ": expected the " + what);
        if (!std::isdigit(bytes_[pos_])) fail(std::string("expected the ") + what + ", a decimal number");
        std::size_t value = 0;
        while (pos_ < bytes_.size() && std::isdigit(bytes_[pos_])) {
            value = value * 10 + (bytes_[pos_++] - '0');
            if (value > 1'000'000'000) fail(std::string("the ") + what + " is too large");
        }
        return value;
    }

    std::span<const std::uint8_t> bytes_;
    const std::string& source_;
    std::size_t pos_ = 0;
};

// stb_image (Debian's 2022 snapshot) trusts the code counts of a JPEG Huffman table (DHT
// segment): a table claiming more than 256 codes makes stbi__build_huffman write past its
// arrays (CVE-2021-37789). Every DHT segment is checked here before stb sees the bytes. The scan
// walks the marker segments and skips entropy-coded data (0xFF00 stuffing, RSTn markers).
void check_jpeg_huffman_tables(std::span<const std::uint8_t> bytes, const std::string& source) {
    if (bytes.size() < 2 || bytes[0] != 0xff || bytes[1] != 0xd8) return;  // not a JPEG
    std::size_t pos = 2;
    while (pos + 1 < bytes.size()) {
        if (bytes[pos] != 0xff) {  // entropy-coded data
            ++pos;
            continue;
        }
        const std::uint8_t marker = bytes[pos + 1];
        if (marker == 0xff) {  // fill byte
            ++pos;
            continue;
        }
        if (marker == 0x00 || marker == 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {  // no length field
            pos += 2;
            continue;
        }
        if (marker == 0xd9 || pos + 4 > bytes.size()) return;  // end of image, or stb reports the truncation
        const std::size_t length = (std::size_t{bytes[pos + 2]} << 8) | bytes[pos + 3];
        if (marker == 0xc4) {
            // The tables exactly as stb reads them: while the declared length L lasts, whatever the
            // counts, and with bytes past the end of the file read as 0 (stbi__get8).
            auto byte_at = [&](std::size_t i) -> std::size_t { return i < bytes.size() ? bytes[i] : 0; };
            long remaining = static_cast<long>(length) - 2;
            std::size_t table = pos + 4;
            while (remaining > 0 && table < bytes.size()) {
                std::size_t codes = 0;
                for (std::size_t i = 1; i <= 16; ++i) codes += byte_at(table + i);
                if (codes > 256)
                    throw InputError(source + ": corrupt JPEG: the Huffman table at offset " + std::to_string(table) +
                                     " defines " + std::to_string(codes) + " codes (at most 256)");
                table += 17 + codes;
                remaining -= static_cast<long>(17 + codes);
            }
        }
        pos += 2 + length;
    }
}

// stb_image's conversion between channel counts, for the PGM/PPM path (grey = luma as above).
Image convert_channels(Image image, std::size_t desired) {
    if (desired == 0 || desired == image.channels) return image;
    Image out{image.width, image.height, desired, {}};
    const std::size_t n = image.width * image.height;
    out.pixels.resize(n * desired);
    for (std::size_t p = 0; p < n; ++p) {
        const std::uint8_t* in = &image.pixels[p * image.channels];
        const std::uint8_t grey =
            image.channels >= 3 ? static_cast<std::uint8_t>((in[0] * 77 + in[1] * 150 + in[2] * 29) >> 8) : in[0];
        const bool colour_in = image.channels >= 3;
        std::uint8_t* o = &out.pixels[p * desired];
        switch (desired) {
            case 1: o[0] = grey; break;
            case 2: o[0] = grey, o[1] = 255; break;
            case 3: o[0] = colour_in ? in[0] : grey, o[1] = colour_in ? in[1] : grey, o[2] = colour_in ? in[2] : grey; break;
            default:
                o[0] = colour_in ? in[0] : grey, o[1] = colour_in ? in[1] : grey, o[2] = colour_in ? in[2] : grey;
                o[3] = 255;
        }
    }
    return out;
}

}  // namespace

Image decode_image(std::span<const std::uint8_t> bytes, const std::string& source, std::size_t desired_channels) {
    if (desired_channels > 4)
        throw ConfigError(source + ": cannot convert to " + std::to_string(desired_channels) + " channels (1 to 4)");
    if (bytes.empty()) throw InputError(source + ": empty file, not an image");
    if (is_pnm(bytes)) return convert_channels(PnmReader(bytes, source).read(), desired_channels);
    if (bytes.size() > static_cast<std::size_t>(INT_MAX)) throw InputError(source + ": image file larger than 2 GB");
    check_jpeg_huffman_tables(bytes, source);
    const int length = static_cast<int>(bytes.size());
    int width = 0, height = 0, channels = 0;
    if (!stbi_info_from_memory(bytes.data(), length, &width, &height, &channels))
        throw InputError(source + ": not a PNG, JPEG or PGM/PPM image, or a corrupt one (" + stbi_failure_reason() +
                         ")");
    std::unique_ptr<stbi_uc, decltype(&stbi_image_free)> pixels(
        stbi_load_from_memory(bytes.data(), length, &width, &height, &channels, static_cast<int>(desired_channels)),
        &stbi_image_free);
    if (!pixels)
        throw InputError(source + ": corrupt or truncated image (" + std::string(stbi_failure_reason()) + ")");
    Image image;
    image.width = static_cast<std::size_t>(width);
    image.height = static_cast<std::size_t>(height);
    image.channels = desired_channels ? desired_channels : static_cast<std::size_t>(channels);
    const std::size_t size = image.width * image.height * image.channels;
    image.pixels.assign(pixels.get(), pixels.get() + size);
    return image;
}

Image read_image(const std::string& path, std::size_t desired_channels) {
    return decode_image(read_file_bytes(path), path, desired_channels);
}

std::vector<std::uint8_t> encode_png(const Image& image) {
    if (image.channels < 1 || image.channels > 4 || image.width == 0 || image.height == 0 ||
        image.width > max_image_side || image.height > max_image_side)
        throw ConfigError("encode_png: cannot encode a " + image.size_text() + " image");
    if (image.pixels.size() != image.width * image.height * image.channels)
        throw ConfigError("encode_png: " + std::to_string(image.pixels.size()) + " bytes for a " + image.size_text() +
                          " image");
    std::vector<std::uint8_t> out;
    auto append = [](void* context, void* data, int size) {
        auto* bytes = static_cast<std::vector<std::uint8_t>*>(context);
        auto* p = static_cast<const std::uint8_t*>(data);
        bytes->insert(bytes->end(), p, p + size);
    };
    const int stride = static_cast<int>(image.width * image.channels);
    if (!stbi_write_png_to_func(append, &out, static_cast<int>(image.width), static_cast<int>(image.height),
                                static_cast<int>(image.channels), image.pixels.data(), stride))
        throw Error("encode_png: stb_image_write failed");
    return out;
}

void write_png(const std::string& path, const Image& image) { write_file_bytes(path, encode_png(image)); }

Tensor image_to_tensor(const Image& image) {
    Tensor tensor(Shape{1, image.channels, image.height, image.width});
    // Interleaved pixels are already channels-innermost: a straight copy with scaling.
    float* values = tensor.data();
    for (std::size_t i = 0; i < image.pixels.size(); ++i) values[i] = static_cast<float>(image.pixels[i]) / 255.0f;
    return tensor;
}

PixelScaling parse_pixel_scaling(const std::string& name) {
    if (name == "minmax") return PixelScaling::min_max;
    if (name == "abs") return PixelScaling::absolute;
    if (name == "clip") return PixelScaling::clip;
    throw ConfigError("unknown pixel scaling '" + name + "' (minmax, abs or clip)");
}

Image tensor_to_image(const Tensor& tensor, std::size_t sample, std::size_t channel, PixelScaling scaling) {
    const Shape& shape = tensor.shape();
    if (shape.spatial_rank() != 2 || sample >= shape.batch() || channel >= shape.channels())
        throw ShapeError("tensor_to_image: no channel " + std::to_string(channel) + " of sample " +
                         std::to_string(sample) + " in a tensor of shape " + shape.str());
    Image image;
    image.height = shape.spatial(0);
    image.width = shape.spatial(1);
    image.channels = 1;
    const std::size_t positions = shape.positions(), channels = shape.channels();
    const float* values = tensor.sample(sample) + channel;
    auto at = [&](std::size_t p) { return values[p * channels]; };

    float lo = 0.0f, hi = 0.0f, scale = 255.0f;
    if (scaling == PixelScaling::min_max) {
        lo = hi = at(0);
        for (std::size_t p = 1; p < positions; ++p) lo = std::min(lo, at(p)), hi = std::max(hi, at(p));
        scale = hi > lo ? 255.0f / (hi - lo) : 0.0f;
    } else if (scaling == PixelScaling::absolute) {
        for (std::size_t p = 0; p < positions; ++p) hi = std::max(hi, std::fabs(at(p)));
        scale = hi > 0.0f ? 255.0f / hi : 0.0f;
    }
    image.pixels.resize(positions);
    for (std::size_t p = 0; p < positions; ++p) {
        float v = at(p);
        if (scaling == PixelScaling::min_max) v -= lo;
        if (scaling == PixelScaling::absolute) v = std::fabs(v);
        float pixel = std::clamp(std::nearbyint(v * scale), 0.0f, 255.0f);
        if (std::isnan(pixel)) pixel = 0.0f;
        image.pixels[p] = static_cast<std::uint8_t>(pixel);
    }
    return image;
}

}  // namespace textcnn
