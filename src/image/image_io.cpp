#include "textcnn/image/image_io.h"

#include "textcnn/core/error.h"
#include "textcnn/core/files.h"
#include "textcnn/image/idx.h"

// PNG through libpng, JPEG through libjpeg(-turbo): both report errors through a callback that
// must not return. Each call into them happens inside a small function that has set a jump
// point (setjmp) and holds no C++ object; the error callbacks copy the message into a plain
// buffer and longjmp back there, so no destructor is ever skipped. The C++ objects (pixels, row
// pointers, the guards that destroy the decoder state, which frees everything the library
// allocated) live in the callers, which turn a failed call into an InputError.
#include <algorithm>
#include <cctype>
#include <climits>
#include <cmath>
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <memory>
#include <new>
#include <type_traits>

#include <jerror.h>
#include <jpeglib.h>
#include <png.h>

namespace textcnn {

std::string Image::size_text() const {
    return std::to_string(width) + "x" + std::to_string(height) + "x" + std::to_string(channels);
}

namespace {

// The pixel budget, checked from the header before anything is decoded or allocated.
void check_budget(const std::string& source, std::size_t width, std::size_t height, std::size_t max_pixels) {
    if (width == 0 || height == 0)
        throw InputError(source + ": corrupt image header: the image is " + std::to_string(width) + " x " +
                         std::to_string(height) + " pixels");
    // width and height come from 32-bit fields (PNG, JPEG) or are at most 1e9 (PGM): no overflow.
    if (width > max_pixels || height > max_pixels || width * height > max_pixels)
        throw InputError(source + ": image too large: " + std::to_string(width) + " x " + std::to_string(height) +
                         " (limit " + std::to_string(max_pixels) + " pixels)");
}

bool is_pnm(std::span<const std::uint8_t> bytes) {
    return bytes.size() >= 2 && bytes[0] == 'P' && bytes[1] >= '2' && bytes[1] <= '6' && bytes[1] != '4';
}

constexpr std::uint8_t png_signature[8] = {0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a};

bool is_png(std::span<const std::uint8_t> bytes) {
    return bytes.size() >= 8 && std::equal(std::begin(png_signature), std::end(png_signature), bytes.begin());
}

// A JPEG starts with the SOI marker FF D8; libjpeg refuses anything else (also FF fill bytes
// before SOI) with its own message, so every file starting with FF goes to it.
bool is_jpeg(std::span<const std::uint8_t> bytes) { return !bytes.empty() && bytes[0] == 0xff; }

// Netpbm grey (P2 ASCII, P5 binary) and colour (P3, P6) maps; maxval 1..65535 (16-bit binary
// samples are big-endian), values rescaled to 0..255 as round(v * 255 / maxval). Every sample
// is counted against the bytes present before the pixels are allocated.
class PnmReader {
public:
    PnmReader(std::span<const std::uint8_t> bytes, const std::string& source) : bytes_(bytes), source_(source) {}

    Image read(std::size_t max_pixels) {
        const char kind = static_cast<char>(bytes_[1]);
        pos_ = 2;
        const bool ascii = kind == '2' || kind == '3';
        Image image;
        image.channels = (kind == '3' || kind == '6') ? 3 : 1;
        image.width = header_number("width");
        image.height = header_number("height");
        const std::size_t maxval = header_number("maxval");
        if (image.width == 0 || image.height == 0)
            fail("image of " + std::to_string(image.width) + "x" + std::to_string(image.height) + " pixels");
        check_budget(source_, image.width, image.height, max_pixels);
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
        } else if ((bytes_.size() - pos_ + 1) / 2 < samples) {
            // Each ASCII sample takes a digit and a separator (the last one needs no separator).
            throw InputError(source_ + ": truncated at offset " + std::to_string(bytes_.size()) + ": " +
                             std::to_string(samples) + " ASCII samples expected from offset " + std::to_string(pos_) +
                             ", room for at most " + std::to_string((bytes_.size() - pos_ + 1) / 2));
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

std::uint8_t luma(std::uint8_t r, std::uint8_t g, std::uint8_t b) {
    return static_cast<std::uint8_t>((r * 77 + g * 150 + b * 29) >> 8);
}

// Conversion between channel counts (1 grey, 2 grey + alpha, 3 RGB, 4 RGBA), the rules of
// stb_image, the project's decoder before libpng/libjpeg: grey is the luma above, a missing
// alpha is 255, a dropped one is discarded.
Image convert_channels(Image image, std::size_t desired) {
    if (desired == 0 || desired == image.channels) return image;
    const std::size_t from = image.channels;
    Image out{image.width, image.height, desired, {}};
    const std::size_t n = image.width * image.height;
    out.pixels.resize(n * desired);
    for (std::size_t p = 0; p < n; ++p) {
        const std::uint8_t* in = &image.pixels[p * from];
        const bool colour = from >= 3;
        const std::uint8_t grey = colour ? luma(in[0], in[1], in[2]) : in[0];
        const std::uint8_t alpha = from == 2 ? in[1] : from == 4 ? in[3] : 255;
        std::uint8_t* o = &out.pixels[p * desired];
        if (desired <= 2) {
            o[0] = grey;
            if (desired == 2) o[1] = alpha;
        } else {
            o[0] = colour ? in[0] : grey, o[1] = colour ? in[1] : grey, o[2] = colour ? in[2] : grey;
            if (desired == 4) o[3] = alpha;
        }
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
// PNG (libpng)

// Plain data only: libpng longjmps over the frames that hold it.
struct PngContext {
    const std::uint8_t* data;
    std::size_t size;
    std::size_t pos;
    bool truncated;
    std::vector<std::uint8_t>* out;  // encoding only
    bool out_of_memory;              // encoding only
    char message[256];
    std::jmp_buf jump;
};

void png_on_error(png_structp png, png_const_charp message) {
    auto* context = static_cast<PngContext*>(png_get_error_ptr(png));
    std::snprintf(context->message, sizeof context->message, "%s", message ? message : "unknown error");
    std::longjmp(context->jump, 1);
}

void png_on_warning(png_structp, png_const_charp) {}  // the library never prints

void png_read_from_memory(png_structp png, png_bytep out, std::size_t length) {
    auto* context = static_cast<PngContext*>(png_get_io_ptr(png));
    if (context->size - context->pos < length) {
        context->truncated = true;
        png_error(png, "unexpected end of file");
    }
    std::memcpy(out, context->data + context->pos, length);
    context->pos += length;
}

void png_write_to_memory(png_structp png, png_bytep data, std::size_t length) {
    auto* context = static_cast<PngContext*>(png_get_io_ptr(png));
    try {
        context->out->insert(context->out->end(), data, data + length);
    } catch (const std::bad_alloc&) {
        context->out_of_memory = true;
    }
    if (context->out_of_memory) png_error(png, "out of memory");
}

void png_flush_nothing(png_structp) {}

// The jump points: GCC never inlines a function that calls setjmp; noinline says it anyway.
[[gnu::noinline]] bool png_try_read_info(png_structp png, png_infop info, PngContext& context) {
    if (setjmp(context.jump)) return false;
    png_read_info(png, info);
    return true;
}

// An interlaced image is read whole into `rows`; otherwise row by row, each appended to `pixels`
// (whose capacity is reserved: no reallocation), so the memory of a file that turns out
// truncated or corrupt is only touched as far as its data went.
[[gnu::noinline]] bool png_try_read_pixels(png_structp png, png_infop info, PngContext& context, png_bytepp rows,
                                           std::vector<std::uint8_t>* pixels, std::size_t height,
                                           std::size_t row_bytes) {
    if (setjmp(context.jump)) return false;
    png_read_update_info(png, info);
    if (png_get_rowbytes(png, info) != row_bytes) png_error(png, "unexpected row size after the transformations");
    if (rows) {
        png_read_image(png, rows);
    } else {
        for (std::size_t y = 0; y < height; ++y) {
            pixels->resize(pixels->size() + row_bytes);
            png_read_row(png, pixels->data() + y * row_bytes, nullptr);
        }
    }
    png_read_end(png, nullptr);
    return true;
}

[[gnu::noinline]] bool png_try_write(png_structp png, png_infop info, PngContext& context, const Image& image) {
    if (setjmp(context.jump)) return false;
    static constexpr int colour_types[] = {PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA, PNG_COLOR_TYPE_RGB,
                                           PNG_COLOR_TYPE_RGB_ALPHA};
    png_set_IHDR(png, info, static_cast<png_uint_32>(image.width), static_cast<png_uint_32>(image.height), 8,
                 colour_types[image.channels - 1], PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    const std::size_t stride = image.width * image.channels;
    for (std::size_t y = 0; y < image.height; ++y) png_write_row(png, image.pixels.data() + y * stride);
    png_write_end(png, nullptr);
    return true;
}

// Owners of libpng's state: destroying it frees everything libpng allocated, also after an error.
struct PngReadState {
    png_structp png = nullptr;
    png_infop info = nullptr;
    PngReadState() = default;
    PngReadState(const PngReadState&) = delete;
    PngReadState& operator=(const PngReadState&) = delete;
    ~PngReadState() {
        if (png) png_destroy_read_struct(&png, info ? &info : nullptr, nullptr);
    }
};

struct PngWriteState {
    png_structp png = nullptr;
    png_infop info = nullptr;
    PngWriteState() = default;
    PngWriteState(const PngWriteState&) = delete;
    PngWriteState& operator=(const PngWriteState&) = delete;
    ~PngWriteState() {
        if (png) png_destroy_write_struct(&png, info ? &info : nullptr);
    }
};

std::uint32_t big_endian_32(const std::uint8_t* p) {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

Image decode_png(std::span<const std::uint8_t> bytes, const std::string& source, std::size_t max_pixels) {
    // IHDR is the first chunk (libpng refuses anything else): the budget is checked on it
    // before libpng is even set up.
    if (bytes.size() >= 24 && std::memcmp(bytes.data() + 12, "IHDR", 4) == 0)
        check_budget(source, big_endian_32(bytes.data() + 16), big_endian_32(bytes.data() + 20), max_pixels);

    PngContext context{};
    context.data = bytes.data();
    context.size = bytes.size();
    PngReadState state;
    png_structp png = state.png =
        png_create_read_struct(PNG_LIBPNG_VER_STRING, &context, png_on_error, png_on_warning);
    png_infop info = state.info = png ? png_create_info_struct(png) : nullptr;
    if (!png || !info) throw Error(source + ": cannot set up the PNG decoder (out of memory)");
    png_set_read_fn(png, &context, png_read_from_memory);
    // libpng's own limits, second line behind the budget: sides, ancillary chunks kept, and the
    // memory one chunk (a compressed text or ICC profile) may take.
    const auto side_limit = static_cast<png_uint_32>(std::min<std::size_t>(max_pixels, PNG_UINT_31_MAX));
    png_set_user_limits(png, side_limit, side_limit);
    png_set_chunk_cache_max(png, 128);
    png_set_chunk_malloc_max(png, 8u << 20);

    auto fail = [&](const std::string& what) -> InputError {
        if (context.truncated)
            return InputError(source + ": truncated PNG: the file ends after " + std::to_string(bytes.size()) +
                              " bytes, " + what);
        return InputError(source + ": corrupt PNG: " + context.message);
    };
    if (!png_try_read_info(png, info, context)) throw fail("in the header");

    png_uint_32 width = 0, height = 0;
    int depth = 0, colour = 0, interlace = 0;
    png_get_IHDR(png, info, &width, &height, &depth, &colour, &interlace, nullptr, nullptr);
    check_budget(source, width, height, max_pixels);

    // Every PNG becomes 8-bit grey, grey + alpha, RGB or RGBA.
    const bool transparency = png_get_valid(png, info, PNG_INFO_tRNS) != 0;
    std::size_t channels = 0;
    switch (colour) {
        case PNG_COLOR_TYPE_GRAY: channels = transparency ? 2 : 1; break;
        case PNG_COLOR_TYPE_GRAY_ALPHA: channels = 2; break;
        case PNG_COLOR_TYPE_PALETTE: channels = transparency ? 4 : 3; break;
        case PNG_COLOR_TYPE_RGB: channels = transparency ? 4 : 3; break;
        case PNG_COLOR_TYPE_RGB_ALPHA: channels = 4; break;
        default: throw InputError(source + ": corrupt PNG: colour type " + std::to_string(colour));
    }
    if (colour == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (colour == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (transparency) png_set_tRNS_to_alpha(png);
    if (depth == 16) png_set_scale_16(png);
    png_set_interlace_handling(png);

    Image image;
    image.width = width;
    image.height = height;
    image.channels = channels;
    const std::size_t row_bytes = image.width * channels;
    std::vector<png_bytep> rows;
    if (interlace != PNG_INTERLACE_NONE) {
        image.pixels.resize(image.height * row_bytes);
        rows.resize(image.height);
        for (std::size_t y = 0; y < image.height; ++y) rows[y] = image.pixels.data() + y * row_bytes;
    } else {
        image.pixels.reserve(image.height * row_bytes);
    }
    if (!png_try_read_pixels(png, info, context, rows.empty() ? nullptr : rows.data(), &image.pixels, image.height,
                             row_bytes))
        throw fail("in the image data");
    return image;
}

// ---------------------------------------------------------------------------------------------
// JPEG (libjpeg-turbo)

// Plain data only (libjpeg longjmps over the frames that hold it); `errors` first, so the
// jpeg_error_mgr pointer libjpeg hands to the callbacks is also a pointer to the context.
struct JpegContext {
    jpeg_error_mgr errors;
    jpeg_progress_mgr progress;
    bool too_many_scans;
    int message_code;
    char message[JMSG_LENGTH_MAX];
    std::jmp_buf jump;
};
static_assert(std::is_standard_layout_v<JpegContext>);

[[noreturn]] void jpeg_on_error(j_common_ptr cinfo) {
    auto* context = reinterpret_cast<JpegContext*>(cinfo->err);
    context->message_code = cinfo->err->msg_code;
    (*cinfo->err->format_message)(cinfo, context->message);
    std::longjmp(context->jump, 1);
}

// Warnings (level -1) mostly mean corrupt or missing data that libjpeg would decode as grey:
// refused. Three leave the pixels intact and are let through: garbage bytes between two markers
// (cameras write them), an unknown JFIF revision and an unknown Adobe transform code (metadata).
// Trace messages (level >= 0) are ignored: the library never prints.
void jpeg_on_message(j_common_ptr cinfo, int level) {
    if (level >= 0) return;
    const int code = cinfo->err->msg_code;
    if (code != JWRN_EXTRANEOUS_DATA && code != JWRN_JFIF_MAJOR && code != JWRN_ADOBE_XFORM) jpeg_on_error(cinfo);
}

void jpeg_on_progress(j_common_ptr cinfo) {
    if (!cinfo->is_decompressor) return;
    if (reinterpret_cast<j_decompress_ptr>(cinfo)->input_scan_number > max_jpeg_scans) {
        auto* context = reinterpret_cast<JpegContext*>(cinfo->err);
        context->too_many_scans = true;
        std::longjmp(context->jump, 1);
    }
}

[[gnu::noinline]] bool jpeg_try_read_header(jpeg_decompress_struct& cinfo, JpegContext& context,
                                            std::span<const std::uint8_t> bytes, long max_memory) {
    if (setjmp(context.jump)) return false;
    jpeg_create_decompress(&cinfo);
    cinfo.progress = &context.progress;
    // The whole-image coefficient buffers of progressive and multi-scan files are libjpeg's
    // large allocations; with max_memory_to_use set, libjpeg refuses to go beyond (it has no
    // temporary files to fall back on). Markers are not saved (no jpeg_save_markers).
    cinfo.mem->max_memory_to_use = max_memory;
    jpeg_mem_src(&cinfo, bytes.data(), static_cast<unsigned long>(bytes.size()));
    jpeg_read_header(&cinfo, TRUE);
    return true;
}

// Rows are appended to `pixels` (capacity reserved: no reallocation) as they are decoded, so a
// truncated file costs only the memory its data reached.
[[gnu::noinline]] bool jpeg_try_decode(jpeg_decompress_struct& cinfo, JpegContext& context, J_COLOR_SPACE out,
                                       std::vector<std::uint8_t>* pixels, std::size_t stride) {
    if (setjmp(context.jump)) return false;
    cinfo.out_color_space = out;
    jpeg_start_decompress(&cinfo);
    if (static_cast<std::size_t>(cinfo.output_width) * static_cast<std::size_t>(cinfo.output_components) != stride) {
        std::snprintf(context.message, sizeof context.message, "decoder output of %u x %d samples, expected %zu",
                      cinfo.output_width, cinfo.output_components, stride);
        std::longjmp(context.jump, 1);
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        const std::size_t at = static_cast<std::size_t>(cinfo.output_scanline) * stride;
        pixels->resize(at + stride);
        JSAMPROW row = pixels->data() + at;
        if (jpeg_read_scanlines(&cinfo, &row, 1) != 1) break;  // cannot happen with a memory source
    }
    jpeg_finish_decompress(&cinfo);
    return true;
}

// stb_image's x * y / 255 for CMYK, rounded: (t + (t >> 8)) >> 8 with t = x * y + 128.
std::uint8_t times_over_255(unsigned x, unsigned y) {
    const unsigned t = x * y + 128;
    return static_cast<std::uint8_t>((t + (t >> 8)) >> 8);
}

Image decode_jpeg(std::span<const std::uint8_t> bytes, const std::string& source, std::size_t desired_channels,
                  std::size_t max_pixels) {
    JpegContext context{};
    jpeg_decompress_struct cinfo{};
    cinfo.err = jpeg_std_error(&context.errors);
    context.errors.error_exit = jpeg_on_error;
    context.errors.emit_message = jpeg_on_message;
    context.progress.progress_monitor = jpeg_on_progress;
    const std::unique_ptr<jpeg_decompress_struct, void (*)(jpeg_decompress_struct*)> guard(
        &cinfo, [](jpeg_decompress_struct* c) { jpeg_destroy_decompress(c); });

    auto fail = [&]() -> InputError {
        if (context.too_many_scans)
            return InputError(source + ": corrupt JPEG: more than " + std::to_string(max_jpeg_scans) + " scans");
        if (context.message_code == JWRN_JPEG_EOF || context.message_code == JERR_INPUT_EOF ||
            context.message_code == JERR_INPUT_EMPTY)
            return InputError(source + ": truncated JPEG: " + context.message);
        if (context.message_code == JERR_BAD_PRECISION || context.message_code == JERR_SOF_UNSUPPORTED)
            return InputError(source + ": unsupported JPEG: " + context.message);
        return InputError(source + ": corrupt JPEG: " + context.message);
    };
    // 8 bytes per pixel covers the coefficient buffers of a 4-component 4:4:4 image within the
    // pixel budget (2 bytes per coefficient); 64 MB more for tables and row buffers.
    const std::size_t max_memory = std::min<std::size_t>(max_pixels, std::size_t{1} << 40) * 8 + (std::size_t{64} << 20);
    if (!jpeg_try_read_header(cinfo, context, bytes, static_cast<long>(max_memory))) {
        // libjpeg refuses sides above 65500 itself, after reading them: the budget speaks first.
        if (cinfo.image_width != 0 && cinfo.image_height != 0)
            check_budget(source, cinfo.image_width, cinfo.image_height, max_pixels);
        throw fail();
    }
    check_budget(source, cinfo.image_width, cinfo.image_height, max_pixels);

    // Decoded as grey (one component, or the luma channel Y of a YCbCr file asked for grey), RGB
    // or CMYK; then converted as asked.
    J_COLOR_SPACE out = JCS_UNKNOWN;
    std::size_t channels = 0;
    const bool want_grey = desired_channels == 1 || desired_channels == 2;
    switch (cinfo.jpeg_color_space) {
        case JCS_GRAYSCALE: out = JCS_GRAYSCALE, channels = 1; break;
        case JCS_YCbCr:
            if (want_grey) out = JCS_GRAYSCALE, channels = 1;
            else out = JCS_RGB, channels = 3;
            break;
        case JCS_RGB: out = JCS_RGB, channels = 3; break;
        case JCS_CMYK:
        case JCS_YCCK: out = JCS_CMYK, channels = 4; break;
        default:
            throw InputError(source + ": unsupported JPEG: " + std::to_string(cinfo.num_components) +
                             " colour components of unknown meaning");
    }
    Image image;
    image.width = cinfo.image_width;
    image.height = cinfo.image_height;
    image.channels = channels;
    image.pixels.reserve(image.width * image.height * channels);
    if (!jpeg_try_decode(cinfo, context, out, &image.pixels, image.width * channels)) throw fail();
    if (image.pixels.size() != image.width * image.height * channels)  // libjpeg gave fewer rows
        throw InputError(source + ": corrupt JPEG: " + std::to_string(image.pixels.size() / (image.width * channels)) +
                         " of " + std::to_string(image.height) + " rows decoded");

    if (out == JCS_CMYK) {  // Adobe's inverted CMYK: R = C * K / 255 (as stb_image)
        const std::size_t n = image.width * image.height;
        for (std::size_t p = 0; p < n; ++p) {
            const std::uint8_t* in = &image.pixels[p * 4];
            std::uint8_t* o = &image.pixels[p * 3];  // writes never overtake reads: 3p <= 4p
            const std::uint8_t c = in[0], m = in[1], y = in[2], k = in[3];
            o[0] = times_over_255(c, k), o[1] = times_over_255(m, k), o[2] = times_over_255(y, k);
        }
        image.channels = 3;
        image.pixels.resize(n * 3);
    }
    return convert_channels(std::move(image), desired_channels);
}

}  // namespace

Image decode_image(std::span<const std::uint8_t> bytes, const std::string& source, std::size_t desired_channels,
                   std::size_t max_pixels) {
    if (desired_channels > 4)
        throw ConfigError(source + ": cannot convert to " + std::to_string(desired_channels) + " channels (1 to 4)");
    if (max_pixels == 0) throw ConfigError(source + ": the pixel budget must be at least 1 pixel");
    if (bytes.empty()) throw InputError(source + ": empty file, not an image");
    if (is_pnm(bytes)) return convert_channels(PnmReader(bytes, source).read(max_pixels), desired_channels);
    if (is_png(bytes)) return convert_channels(decode_png(bytes, source, max_pixels), desired_channels);
    if (is_jpeg(bytes)) return decode_jpeg(bytes, source, desired_channels, max_pixels);
    std::string start;
    for (std::size_t i = 0; i < std::min<std::size_t>(bytes.size(), 4); ++i) {
        char hex[4];
        std::snprintf(hex, sizeof hex, i ? " %02x" : "%02x", bytes[i]);
        start += hex;
    }
    throw InputError(source + ": not a PNG, JPEG or PGM/PPM image (the file starts with " + start + ")");
}

Image read_image(const std::string& path, std::size_t desired_channels, std::size_t max_pixels) {
    return decode_image(read_file_bytes(path), input_name(path), desired_channels, max_pixels);
}

std::vector<std::uint8_t> encode_png(const Image& image) {
    if (image.channels < 1 || image.channels > 4 || image.width == 0 || image.height == 0 ||
        image.width > PNG_UINT_31_MAX || image.height > PNG_UINT_31_MAX)
        throw ConfigError("encode_png: cannot encode a " + image.size_text() + " image");
    if (image.pixels.size() / image.channels / image.width != image.height ||
        image.pixels.size() != image.width * image.height * image.channels)
        throw ConfigError("encode_png: " + std::to_string(image.pixels.size()) + " bytes for a " + image.size_text() +
                          " image");
    std::vector<std::uint8_t> out;
    PngContext context{};
    context.out = &out;
    PngWriteState state;
    png_structp png = state.png =
        png_create_write_struct(PNG_LIBPNG_VER_STRING, &context, png_on_error, png_on_warning);
    png_infop info = state.info = png ? png_create_info_struct(png) : nullptr;
    if (!png || !info) throw Error("encode_png: cannot set up the PNG encoder (out of memory)");
    png_set_write_fn(png, &context, png_write_to_memory, png_flush_nothing);
    if (!png_try_write(png, info, context, image)) {
        if (context.out_of_memory) throw std::bad_alloc();
        throw Error(std::string("encode_png: libpng failed: ") + context.message);
    }
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
