#define BOOST_TEST_MODULE image_io
#include <boost/test/unit_test.hpp>

#include "test_helpers.h"
#include "textcnn/core/error.h"
#include "textcnn/image/idx.h"
#include "textcnn/image/image_io.h"

#include <algorithm>
#include <csetjmp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <jpeglib.h>
#include <png.h>
#include <zlib.h>

using namespace textcnn;

namespace {

const std::string fixtures = std::string(TEXTCNN_SOURCE_DIR) + "/tests/fixtures/images/";

std::string scratch(const std::string& name) { return testing::scratch_path("test_image_io_files", name); }

Image gradient(std::size_t width, std::size_t height, std::size_t channels) {
    Image image{width, height, channels, {}};
    for (std::size_t i = 0; i < width * height * channels; ++i) image.pixels.push_back(static_cast<std::uint8_t>(i * 7));
    return image;
}

using Bytes = std::vector<std::uint8_t>;

void put32(Bytes& out, std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
}

// A PNG chunk: length, type, data, CRC (zlib's crc32, as the format says).
void png_chunk(Bytes& out, const char* type, const Bytes& data) {
    put32(out, static_cast<std::uint32_t>(data.size()));
    Bytes typed(type, type + 4);
    typed.insert(typed.end(), data.begin(), data.end());
    out.insert(out.end(), typed.begin(), typed.end());
    put32(out, static_cast<std::uint32_t>(crc32(0, typed.data(), static_cast<uInt>(typed.size()))));
}

// A PNG written byte by byte: signature, IHDR of the given size (8-bit grey), one IDAT holding
// `raw` deflated, IEND. The IDAT need not match the size: the header is what is being tested.
Bytes handmade_png(std::uint32_t width, std::uint32_t height, const Bytes& raw) {
    Bytes out = {0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a};
    Bytes ihdr;
    put32(ihdr, width);
    put32(ihdr, height);
    for (std::uint8_t b : {8, 0, 0, 0, 0}) ihdr.push_back(b);  // depth 8, grey, deflate, filter 0, no interlace
    png_chunk(out, "IHDR", ihdr);
    uLongf size = compressBound(static_cast<uLong>(raw.size()));
    Bytes idat(size);
    BOOST_TEST_REQUIRE(compress(idat.data(), &size, raw.data(), static_cast<uLong>(raw.size())) == Z_OK);
    idat.resize(size);
    png_chunk(out, "IDAT", idat);
    png_chunk(out, "IEND", {});
    return out;
}

// The smallest JPEG header libjpeg reads up to its first scan: SOI, a baseline SOF0 of the
// given size with one component, SOS, then a few bytes of entropy data and EOI. No tables: a
// decoder that got past the header would fail on them, so only a header check can pass.
Bytes handmade_jpeg_header(std::uint16_t width, std::uint16_t height, std::uint8_t sof = 0xc0,
                           std::uint8_t precision = 8) {
    Bytes out = {0xff, 0xd8,                                   // SOI
                 0xff, sof, 0, 11, precision,                  // SOF0 (baseline), length 11, 8-bit
                 static_cast<std::uint8_t>(height >> 8), static_cast<std::uint8_t>(height),
                 static_cast<std::uint8_t>(width >> 8), static_cast<std::uint8_t>(width),
                 1, 1, 0x11, 0,                                // one component: id 1, 1x1, table 0
                 0xff, 0xda, 0, 8, 1, 1, 0x00, 0, 63, 0,       // SOS: component 1, tables 0/0, 0..63
                 0x12, 0x34, 0x56, 0x78, 0xff, 0xd9};          // data, EOI
    return out;
}

// Images written with libpng itself, for the colour types, depths and interlacing that
// encode_png (8-bit, not interlaced) never writes. `rows` are the packed rows PNG stores.
struct PngSpec {
    std::uint32_t width = 0, height = 0;
    int depth = 8;
    int colour = PNG_COLOR_TYPE_GRAY;
    bool interlaced = false;
    std::vector<png_color> palette;
    Bytes palette_alpha;             // tRNS of a palette image
    const png_color_16* trns = nullptr;  // tRNS of a grey or RGB image
};

void append_png(png_structp png, png_bytep data, std::size_t length) {
    auto* out = static_cast<Bytes*>(png_get_io_ptr(png));
    out->insert(out->end(), data, data + length);
}

Bytes libpng_file(const PngSpec& spec, const std::vector<Bytes>& rows) {
    Bytes out;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
    png_infop info = png_create_info_struct(png);
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        BOOST_FAIL("libpng could not write the test image");
    }
    png_set_write_fn(png, &out, append_png, nullptr);
    png_set_IHDR(png, info, spec.width, spec.height, spec.depth, spec.colour,
                 spec.interlaced ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    if (!spec.palette.empty())
        png_set_PLTE(png, info, spec.palette.data(), static_cast<int>(spec.palette.size()));
    if (!spec.palette_alpha.empty())
        png_set_tRNS(png, info, spec.palette_alpha.data(), static_cast<int>(spec.palette_alpha.size()), nullptr);
    if (spec.trns) png_set_tRNS(png, info, nullptr, 0, const_cast<png_color_16p>(spec.trns));
    png_write_info(png, info);
    const int passes = png_set_interlace_handling(png);
    for (int pass = 0; pass < passes; ++pass)
        for (const Bytes& row : rows) png_write_row(png, row.data());
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    return out;
}

// A JPEG written with libjpeg: `components` 1 (grey), 3 (RGB) or 4 (Adobe CMYK), from
// interleaved samples; `scans` replaces the default scan script when given (progressive).
Bytes libjpeg_file(std::size_t width, std::size_t height, int components, const Bytes& samples, bool progressive,
                   const std::vector<jpeg_scan_info>& scans = {}, bool arithmetic = false) {
    jpeg_compress_struct cinfo{};
    jpeg_error_mgr errors{};
    cinfo.err = jpeg_std_error(&errors);
    jpeg_create_compress(&cinfo);
    unsigned char* buffer = nullptr;
    unsigned long size = 0;
    jpeg_mem_dest(&cinfo, &buffer, &size);
    cinfo.image_width = static_cast<JDIMENSION>(width);
    cinfo.image_height = static_cast<JDIMENSION>(height);
    cinfo.input_components = components;
    cinfo.in_color_space = components == 1 ? JCS_GRAYSCALE : components == 3 ? JCS_RGB : JCS_CMYK;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, 95, TRUE);
    if (progressive) jpeg_simple_progression(&cinfo);
    if (!scans.empty()) {
        cinfo.scan_info = scans.data();
        cinfo.num_scans = static_cast<int>(scans.size());
    }
    cinfo.arith_code = arithmetic ? TRUE : FALSE;
    jpeg_start_compress(&cinfo, TRUE);
    const std::size_t stride = width * static_cast<std::size_t>(components);
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW row = const_cast<JSAMPROW>(samples.data() + cinfo.next_scanline * stride);
        jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    Bytes out(buffer, buffer + size);
    std::free(buffer);
    return out;
}

// Smooth colour content that JPEG keeps within a few levels.
Bytes smooth_samples(std::size_t width, std::size_t height, int components) {
    Bytes samples;
    for (std::size_t y = 0; y < height; ++y)
        for (std::size_t x = 0; x < width; ++x)
            for (int c = 0; c < components; ++c)
                samples.push_back(static_cast<std::uint8_t>(20 + 3 * x + 2 * y + 40 * c));  // at most 199
    return samples;
}

int max_difference(const Bytes& a, const Bytes& b) {
    int worst = 0;
    for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i) worst = std::max(worst, std::abs(int(a[i]) - int(b[i])));
    return worst;
}

}  // namespace

BOOST_AUTO_TEST_CASE(png_round_trip_keeps_every_pixel) {
    for (std::size_t channels = 1; channels <= 4; ++channels) {
        const Image image = gradient(5, 3, channels);
        write_png(scratch("round_trip.png"), image);
        const Image back = read_image(scratch("round_trip.png"));
        BOOST_TEST(back.size_text() == image.size_text());
        BOOST_TEST(back.pixels == image.pixels, boost::test_tools::per_element());
    }
}

BOOST_AUTO_TEST_CASE(rgb_converts_to_grey_with_luma) {
    Image rgb{2, 1, 3, {255, 0, 0, 10, 200, 30}};
    const Image grey = decode_image(encode_png(rgb), "mem.png", 1);
    BOOST_TEST(grey.size_text() == "2x1x1");
    // (77 R + 150 G + 29 B) >> 8.
    BOOST_TEST(grey.pixels[0] == (77 * 255) >> 8);
    BOOST_TEST(grey.pixels[1] == (77 * 10 + 150 * 200 + 29 * 30) >> 8);
}

BOOST_AUTO_TEST_CASE(pgm_binary_and_ascii) {
    std::string p5 = "P5\n# a comment\n3 2\n255\n";
    const std::vector<std::uint8_t> body = {0, 128, 255, 1, 2, 3};
    std::vector<std::uint8_t> bytes(p5.begin(), p5.end());
    bytes.insert(bytes.end(), body.begin(), body.end());
    const Image image = decode_image(bytes, "a.pgm");
    BOOST_TEST(image.size_text() == "3x2x1");
    BOOST_TEST(image.pixels == body, boost::test_tools::per_element());

    // ASCII grey with maxval 15: 15 -> 255, 8 -> round(8 * 255 / 15) = 136.
    const std::string p2 = "P2 2 1 15\n15 8\n";
    const Image ascii = decode_image(std::vector<std::uint8_t>(p2.begin(), p2.end()), "b.pgm");
    BOOST_TEST(ascii.pixels == (std::vector<std::uint8_t>{255, 136}), boost::test_tools::per_element());

    // 16-bit binary colour, big-endian samples: 65535 -> 255, 257 -> 1; asked for grey.
    std::string p6 = "P6 1 1 65535\n";
    std::vector<std::uint8_t> colour(p6.begin(), p6.end());
    for (std::uint8_t b : {0xff, 0xff, 0x01, 0x01, 0x00, 0x00}) colour.push_back(b);
    const Image rgb = decode_image(colour, "c.ppm");
    BOOST_TEST(rgb.pixels == (std::vector<std::uint8_t>{255, 1, 0}), boost::test_tools::per_element());
    const Image grey = decode_image(colour, "c.ppm", 1);
    BOOST_TEST(grey.size_text() == "1x1x1");
    BOOST_TEST(grey.pixels[0] == (77 * 255 + 150 * 1) >> 8);
}

BOOST_AUTO_TEST_CASE(corrupt_pgm_fails_with_the_offset) {
    auto error_of = [](const std::string& text) {
        return testing::error_of<InputError>([&] { decode_image(std::vector<std::uint8_t>(text.begin(), text.end()), "x.pgm"); });
    };
    // stb_image would return uninitialised pixels here: this reader counts the bytes first.
    BOOST_TEST(error_of(std::string("P5 4 4 255\n\x01\x02", 13)) ==
               "x.pgm: truncated at offset 13: 16 bytes of pixels expected from offset 11, 2 present");
    BOOST_TEST(error_of("P5 4") == "x.pgm: truncated at offset 4: expected the height");
    BOOST_TEST(error_of("P2 2 1 15\n15 16\n") == "x.pgm: offset 15: corrupt PGM/PPM: sample 1 is 16, above maxval 15");
    BOOST_TEST(error_of("P5 0 4 255\n") == "x.pgm: offset 10: corrupt PGM/PPM: image of 0x4 pixels");
    BOOST_TEST(error_of("P5 x") == "x.pgm: offset 3: corrupt PGM/PPM: expected the width, a decimal number");
    BOOST_TEST(error_of("P5 2 2 70000\n") == "x.pgm: offset 12: corrupt PGM/PPM: maxval 70000 (must be 1 to 65535)");
}

BOOST_AUTO_TEST_CASE(jpeg_fixtures_decode) {
    // stb_image_write stores even grey JPEGs as YCbCr: three channels, asked back as one.
    const Image step = read_image(fixtures + "step_16x8_gray.jpg", 1);
    BOOST_TEST(step.size_text() == "16x8x1");
    // Far from the edge JPEG at quality 100 is within a few levels.
    BOOST_TEST(std::abs(int(step.pixels[2 * 16 + 1]) - 32) <= 3);
    BOOST_TEST(std::abs(int(step.pixels[5 * 16 + 14]) - 224) <= 3);
    const Image rgb = read_image(fixtures + "red_blue_8x8_rgb.jpg");
    BOOST_TEST(rgb.size_text() == "8x8x3");
    const std::uint8_t* top = &rgb.pixels[(0 * 8 + 0) * 3];
    const std::uint8_t* bottom = &rgb.pixels[(7 * 8 + 7) * 3];
    BOOST_TEST(top[0] > 200);
    BOOST_TEST(top[2] < 60);
    BOOST_TEST(bottom[2] > 200);
    BOOST_TEST(bottom[0] < 60);
}

BOOST_AUTO_TEST_CASE(image_tensor_is_interleaved_and_scaled) {
    const Image image = gradient(3, 2, 3);
    const Tensor t = image_to_tensor(image);
    BOOST_TEST(t.shape().str() == "(1, 3, 2, 3)");
    // (y, x, c) = (1, 2, 1) sits at ((1 * 3) + 2) * 3 + 1 = 16, both in the image and the tensor.
    BOOST_TEST(t[16] == float(image.pixels[16]) / 255.0f);
    BOOST_TEST(t.size() == image.pixels.size());
}

BOOST_AUTO_TEST_CASE(feature_maps_to_pixels) {
    // A 1x2x2x2 tensor; channel 1 holds -2, 0, 1, 2.
    Tensor t(Shape{1, 2, 2, 2}, {9, -2, 9, 0, 9, 1, 9, 2});
    const Image minmax = tensor_to_image(t, 0, 1, PixelScaling::min_max);
    BOOST_TEST(minmax.size_text() == "2x2x1");
    BOOST_TEST(minmax.pixels == (std::vector<std::uint8_t>{0, 128, 191, 255}), boost::test_tools::per_element());
    const Image absolute = tensor_to_image(t, 0, 1, PixelScaling::absolute);
    BOOST_TEST(absolute.pixels == (std::vector<std::uint8_t>{255, 0, 128, 255}), boost::test_tools::per_element());
    const Image clip = tensor_to_image(t, 0, 1, PixelScaling::clip);
    BOOST_TEST(clip.pixels == (std::vector<std::uint8_t>{0, 0, 255, 255}), boost::test_tools::per_element());
    // A constant map is black under min-max, not a division by zero.
    const Image flat = tensor_to_image(t, 0, 0, PixelScaling::min_max);
    BOOST_TEST(flat.pixels == (std::vector<std::uint8_t>{0, 0, 0, 0}), boost::test_tools::per_element());
    BOOST_CHECK_THROW(tensor_to_image(t, 0, 2, PixelScaling::clip), ShapeError);
    BOOST_CHECK_THROW(parse_pixel_scaling("log"), ConfigError);
}

BOOST_AUTO_TEST_CASE(truncated_png_fails_naming_the_file) {
    const auto png = encode_png(gradient(16, 16, 1));
    for (std::size_t keep : {std::size_t{4}, std::size_t{20}, std::size_t{40}, png.size() - 20}) {
        const std::vector<std::uint8_t> cut(png.begin(), png.begin() + static_cast<long>(keep));
        write_file_bytes(scratch("cut.png"), cut);
        const auto message = testing::error_of<InputError>([&] { read_image(scratch("cut.png")); });
        BOOST_TEST(message.find(scratch("cut.png") + ": ") == 0u, message);
    }
}

BOOST_AUTO_TEST_CASE(truncated_and_corrupt_jpeg_fail_naming_the_file) {
    // libjpeg would pad a cut file with grey and call it a warning: the reader refuses it.
    const auto jpeg = read_file_bytes(fixtures + "step_16x8_gray.jpg");
    for (std::size_t keep : {std::size_t{2}, std::size_t{100}, jpeg.size() / 2, jpeg.size() - 2}) {
        const std::vector<std::uint8_t> cut(jpeg.begin(), jpeg.begin() + static_cast<long>(keep));
        BOOST_TEST(testing::error_of<InputError>([&] { decode_image(cut, "cut.jpg", 1); }) ==
                   "cut.jpg: truncated JPEG: Premature end of JPEG file");
    }
    // Garbage after a valid SOI marker.
    std::vector<std::uint8_t> garbage = {0xff, 0xd8};
    for (int i = 0; i < 200; ++i) garbage.push_back(static_cast<std::uint8_t>(i * 37 + 11));
    // libjpeg skips garbage looking for the next marker and finds the end of the file instead.
    BOOST_TEST(testing::error_of<InputError>([&] { decode_image(garbage, "g.jpg"); }) ==
               "g.jpg: truncated JPEG: Premature end of JPEG file");
    // Corrupt entropy-coded data (a byte in the middle of the scan) is refused too, not decoded
    // to whatever libjpeg makes of it.
    auto flipped = jpeg;
    std::size_t refused = 0;
    for (std::size_t i = jpeg.size() - 40; i < jpeg.size() - 2; ++i) {
        flipped = jpeg;
        flipped[i] = 0xff;  // a marker where entropy data belongs
        try {
            decode_image(flipped, "flip.jpg", 1);
        } catch (const InputError& e) {
            BOOST_TEST(std::string(e.what()).find("flip.jpg: corrupt JPEG: ") == 0u, e.what());
            ++refused;
        }
    }
    BOOST_TEST(refused > 0u);
}

BOOST_AUTO_TEST_CASE(jpeg_warnings_about_metadata_do_not_refuse_the_image) {
    const auto jpeg = read_file_bytes(fixtures + "step_16x8_gray.jpg");
    const Image expected = decode_image(jpeg, "step.jpg", 1);
    // JFIF revision 2.01 (byte 11 of the APP0 segment): libjpeg warns, the pixels are intact.
    auto revision = jpeg;
    BOOST_TEST_REQUIRE(revision[11] == 1);
    revision[11] = 2;
    BOOST_TEST(decode_image(revision, "jfif2.jpg", 1).pixels == expected.pixels, boost::test_tools::per_element());
    // Garbage between the APP0 segment and the next marker (offset 20): skipped with a warning.
    auto garbage = jpeg;
    BOOST_TEST_REQUIRE((garbage[20] == 0xff && garbage[21] == 0xdb));
    garbage.insert(garbage.begin() + 20, {0x12, 0x34, 0x56});
    BOOST_TEST(decode_image(garbage, "extra.jpg", 1).pixels == expected.pixels, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(jpeg_huffman_table_overflow_is_refused) {
    // stb_image trusted a Huffman table's code counts (CVE-2021-37789): 16 counts of 255 made it
    // write 4080 entries into 257-entry arrays. libjpeg checks them itself.
    auto jpeg = read_file_bytes(fixtures + "step_16x8_gray.jpg");
    const std::uint8_t dht[] = {0xff, 0xc4};
    const auto at = std::search(jpeg.begin(), jpeg.end(), std::begin(dht), std::end(dht)) - jpeg.begin();
    BOOST_TEST_REQUIRE(at == 173);
    for (int i = 0; i < 16; ++i) jpeg[at + 5 + i] = 255;  // marker, length (2), class/id, then the counts
    BOOST_TEST(testing::error_of<InputError>([&] { decode_image(jpeg, "dht.jpg"); }) ==
               "dht.jpg: corrupt JPEG: Bogus Huffman table definition");

    // The same table behind an FF fill byte before SOI: stb_image skipped the fill byte and the
    // project's guard, which looked for FF D8 at offset 0, did not (issue 15, F2). libjpeg reads
    // only files that start with SOI, so nothing of this file is parsed.
    jpeg.insert(jpeg.begin(), 0xff);
    BOOST_TEST(testing::error_of<InputError>([&] { decode_image(jpeg, "fill.jpg"); }) ==
               "fill.jpg: corrupt JPEG: Not a JPEG file: starts with 0xff 0xff");
    // Also when the rest is a valid JPEG (stb_image decoded it).
    auto valid = read_file_bytes(fixtures + "step_16x8_gray.jpg");
    valid.insert(valid.begin(), 0xff);
    BOOST_TEST(testing::error_of<InputError>([&] { decode_image(valid, "fill.jpg"); }) ==
               "fill.jpg: corrupt JPEG: Not a JPEG file: starts with 0xff 0xff");
}

BOOST_AUTO_TEST_CASE(jpeg_bomb_is_refused_from_its_header) {
    // Issue 15, F5: 661 bytes claiming 13832 x 9736 pixels cost stb_image 0.5 GB and 1.7 s. The
    // budget is checked on the SOF header; this file has no tables, so decoding it would fail
    // with another message.
    const Bytes bomb = handmade_jpeg_header(13832, 9736);
    BOOST_TEST(testing::error_of<InputError>([&] { decode_image(bomb, "bomb.jpg"); }) ==
               "bomb.jpg: image too large: 13832 x 9736 (limit 67108864 pixels)");
    BOOST_TEST(testing::error_of<InputError>([&] { decode_image(handmade_jpeg_header(65535, 65535), "max.jpg", 1); }) ==
               "max.jpg: image too large: 65535 x 65535 (limit 67108864 pixels)");
    // Under the budget, the same header gets as far as the missing tables.
    BOOST_TEST(testing::error_of<InputError>([&] { decode_image(handmade_jpeg_header(64, 64), "small.jpg"); })
                   .find("small.jpg: corrupt JPEG: ") == 0u);
    // 12-bit and lossless JPEGs are refused as such.
    BOOST_TEST(testing::error_of<InputError>([&] { decode_image(handmade_jpeg_header(64, 64, 0xc1, 12), "12.jpg"); }) ==
               "12.jpg: unsupported JPEG: Unsupported JPEG data precision 12");
    BOOST_TEST(testing::error_of<InputError>([&] { decode_image(handmade_jpeg_header(64, 64, 0xc3), "lossless.jpg"); }) ==
               "lossless.jpg: unsupported JPEG: Unsupported JPEG process: SOF type 0xc3");
    // The budget is the caller's: the 16x8 fixture needs 128 pixels.
    const auto fixture = read_file_bytes(fixtures + "step_16x8_gray.jpg");
    BOOST_TEST(testing::error_of<InputError>([&] { decode_image(fixture, "step.jpg", 1, 127); }) ==
               "step.jpg: image too large: 16 x 8 (limit 127 pixels)");
    BOOST_TEST(decode_image(fixture, "step.jpg", 1, 128).size_text() == "16x8x1");
    BOOST_CHECK_THROW(decode_image(fixture, "step.jpg", 1, 0), ConfigError);
}

BOOST_AUTO_TEST_CASE(png_bomb_is_refused_from_its_header) {
    // 16384 x 16384 zeros compress to a few hundred kilobytes and cost stb_image 22.7 GB. Here
    // the IDAT holds a single row: only a header check refuses the file with this message.
    const Bytes bomb = handmade_png(16384, 16384, Bytes(16385, 0));
    BOOST_TEST(testing::error_of<InputError>([&] { decode_image(bomb, "zeros.png"); }) ==
               "zeros.png: image too large: 16384 x 16384 (limit 67108864 pixels)");
    // One side alone beyond the budget, and the largest side PNG allows.
    BOOST_TEST(testing::error_of<InputError>([&] { decode_image(handmade_png(100'000'000, 1, Bytes(2, 0)), "w.png"); }) ==
               "w.png: image too large: 100000000 x 1 (limit 67108864 pixels)");
    BOOST_TEST(testing::error_of<InputError>([&] { decode_image(handmade_png(1, 0x7fffffff, Bytes(2, 0)), "h.png"); }) ==
               "h.png: image too large: 1 x 2147483647 (limit 67108864 pixels)");
    // Within the budget the handmade file decodes: 3 x 2 grey, filter byte 0 before each row.
    const Image small = decode_image(handmade_png(3, 2, {0, 1, 2, 3, 0, 4, 5, 6}), "small.png");
    BOOST_TEST(small.pixels == (Bytes{1, 2, 3, 4, 5, 6}), boost::test_tools::per_element());
    BOOST_TEST(testing::error_of<InputError>([&] { decode_image(handmade_png(3, 2, {0, 1, 2, 3, 0, 4, 5, 6}), "small.png", 0, 5); }) ==
               "small.png: image too large: 3 x 2 (limit 5 pixels)");
    // Too little image data for the header's size is an error, not zeros.
    BOOST_TEST(testing::error_of<InputError>([&] { decode_image(handmade_png(3, 2, {0, 1, 2, 3}), "short.png"); })
                   .find("short.png: corrupt PNG: ") == 0u);
}

BOOST_AUTO_TEST_CASE(pgm_bomb_and_short_ascii_are_refused_before_allocating) {
    const std::string big = "P5 10000 10000 255\n";
    BOOST_TEST(testing::error_of<InputError>([&] { decode_image(Bytes(big.begin(), big.end()), "big.pgm"); }) ==
               "big.pgm: image too large: 10000 x 10000 (limit 67108864 pixels)");
    // 1000 x 1000 ASCII samples need at least 1,999,999 bytes; the file has 5 after its header.
    const std::string ascii = "P2 1000 1000 255\n1 2 3";
    BOOST_TEST(testing::error_of<InputError>([&] { decode_image(Bytes(ascii.begin(), ascii.end()), "a.pgm"); }) ==
               "a.pgm: truncated at offset 22: 1000000 ASCII samples expected from offset 16, room for at most 3");
}

BOOST_AUTO_TEST_CASE(png_colour_types_depths_and_interlacing) {
    // 16-bit grey: round(v * 255 / 65535).
    {
        PngSpec spec;
        spec.width = 4, spec.height = 1, spec.depth = 16;
        const Image image = decode_image(libpng_file(spec, {{0xff, 0xff, 0x00, 0x00, 0x01, 0x01, 0x7f, 0x7f}}), "g16.png");
        BOOST_TEST(image.size_text() == "4x1x1");
        BOOST_TEST(image.pixels == (Bytes{255, 0, 1, 127}), boost::test_tools::per_element());
    }
    // 1-bit grey: 0 and 1 become 0 and 255.
    {
        PngSpec spec;
        spec.width = 8, spec.height = 1, spec.depth = 1;
        const Image image = decode_image(libpng_file(spec, {{0b10110000}}), "g1.png");
        BOOST_TEST(image.pixels == (Bytes{255, 0, 255, 255, 0, 0, 0, 0}), boost::test_tools::per_element());
    }
    // 8-bit grey with a transparent grey level: grey + alpha.
    {
        png_color_16 transparent{};
        transparent.gray = 7;
        PngSpec spec;
        spec.width = 3, spec.height = 1, spec.trns = &transparent;
        const Image image = decode_image(libpng_file(spec, {{7, 8, 200}}), "gt.png");
        BOOST_TEST(image.size_text() == "3x1x2");
        BOOST_TEST(image.pixels == (Bytes{7, 0, 8, 255, 200, 255}), boost::test_tools::per_element());
    }
    // 2-bit palette with transparency: RGBA; asked for RGB the alpha is dropped.
    {
        PngSpec spec;
        spec.width = 4, spec.height = 1, spec.depth = 2, spec.colour = PNG_COLOR_TYPE_PALETTE;
        spec.palette = {{10, 20, 30}, {40, 50, 60}, {70, 80, 90}, {255, 0, 128}};
        spec.palette_alpha = {0, 128};
        const Bytes file = libpng_file(spec, {{0b00011011}});
        const Image rgba = decode_image(file, "p.png");
        BOOST_TEST(rgba.size_text() == "4x1x4");
        BOOST_TEST(rgba.pixels == (Bytes{10, 20, 30, 0, 40, 50, 60, 128, 70, 80, 90, 255, 255, 0, 128, 255}),
                   boost::test_tools::per_element());
        const Image rgb = decode_image(file, "p.png", 3);
        BOOST_TEST(rgb.pixels == (Bytes{10, 20, 30, 40, 50, 60, 70, 80, 90, 255, 0, 128}), boost::test_tools::per_element());
        // Grey + alpha keeps the alpha (luma of 255, 0, 128 is (77 * 255 + 29 * 128) >> 8 = 91).
        const Image grey_alpha = decode_image(file, "p.png", 2);
        BOOST_TEST(grey_alpha.pixels[6] == 91);
        BOOST_TEST(grey_alpha.pixels[3] == 128);
    }
    // Adam7-interlaced RGB, 16-bit: every pixel back in place.
    {
        PngSpec spec;
        spec.width = 9, spec.height = 7, spec.depth = 16, spec.colour = PNG_COLOR_TYPE_RGB, spec.interlaced = true;
        std::vector<Bytes> rows;
        Bytes expected;
        for (std::uint32_t y = 0; y < spec.height; ++y) {
            Bytes row;
            for (std::uint32_t x = 0; x < spec.width; ++x)
                for (std::uint32_t c = 0; c < 3; ++c) {
                    const auto v = static_cast<std::uint8_t>(x * 25 + y * 3 + c * 80);
                    row.push_back(v), row.push_back(v);  // v * 257: exactly v after scaling
                    expected.push_back(v);
                }
            rows.push_back(row);
        }
        const Image image = decode_image(libpng_file(spec, rows), "adam7.png");
        BOOST_TEST(image.size_text() == "9x7x3");
        BOOST_TEST(image.pixels == expected, boost::test_tools::per_element());
    }
}

BOOST_AUTO_TEST_CASE(jpeg_kinds_decode_or_are_refused) {
    const std::size_t w = 24, h = 16;
    // Baseline, progressive and arithmetic-coded colour: all within a few levels of the source.
    const Bytes rgb = smooth_samples(w, h, 3);
    for (const auto& [name, file] : {std::pair{"baseline", libjpeg_file(w, h, 3, rgb, false)},
                                     std::pair{"progressive", libjpeg_file(w, h, 3, rgb, true)},
                                     std::pair{"arithmetic", libjpeg_file(w, h, 3, rgb, false, {}, true)}}) {
        const Image image = decode_image(file, name);
        BOOST_TEST(image.size_text() == "24x16x3", name);
        BOOST_TEST(max_difference(image.pixels, rgb) <= 6, name << ": " << max_difference(image.pixels, rgb));
        // Asked for grey: the file's own luma channel.
        const Image grey = decode_image(file, name, 1);
        BOOST_TEST(grey.size_text() == "24x16x1");
        const int luma0 = (77 * rgb[0] + 150 * rgb[1] + 29 * rgb[2]) >> 8;
        BOOST_TEST(std::abs(int(grey.pixels[0]) - luma0) <= 4, name);
    }
    // Grey JPEG asked for RGB: the grey level three times.
    const Bytes grey_samples = smooth_samples(w, h, 1);
    const Image grey_as_rgb = decode_image(libjpeg_file(w, h, 1, grey_samples, true), "grey.jpg", 3);
    BOOST_TEST(grey_as_rgb.size_text() == "24x16x3");
    BOOST_TEST(grey_as_rgb.pixels[0] == grey_as_rgb.pixels[2]);
    BOOST_TEST(std::abs(int(grey_as_rgb.pixels[0]) - int(grey_samples[0])) <= 3);
    // CMYK (Adobe's inverted samples, as libjpeg writes them): R = C * K / 255.
    Bytes cmyk;
    for (std::size_t p = 0; p < w * h; ++p) cmyk.insert(cmyk.end(), {200, 100, 50, 128});
    const Image from_cmyk = decode_image(libjpeg_file(w, h, 4, cmyk, false), "cmyk.jpg");
    BOOST_TEST(from_cmyk.size_text() == "24x16x3");
    BOOST_TEST(std::abs(int(from_cmyk.pixels[0]) - 200 * 128 / 255) <= 3);
    BOOST_TEST(std::abs(int(from_cmyk.pixels[1]) - 100 * 128 / 255) <= 3);
    BOOST_TEST(std::abs(int(from_cmyk.pixels[2]) - 50 * 128 / 255) <= 3);

    // A progressive grey file of 127 scans (DC, then each AC coefficient in two bit planes),
    // beyond the scan limit; the same coefficients in 64 scans decode.
    std::vector<jpeg_scan_info> many, enough;
    many.push_back({1, {0}, 0, 0, 0, 0});
    enough.push_back({1, {0}, 0, 0, 0, 0});
    for (int k = 1; k <= 63; ++k) {
        many.push_back({1, {0}, k, k, 0, 1});
        many.push_back({1, {0}, k, k, 1, 0});
        enough.push_back({1, {0}, k, k, 0, 0});
    }
    BOOST_TEST(decode_image(libjpeg_file(w, h, 1, grey_samples, true, enough), "64.jpg").size_text() == "24x16x1");
    BOOST_TEST(testing::error_of<InputError>([&] { decode_image(libjpeg_file(w, h, 1, grey_samples, true, many), "127.jpg"); }) ==
               "127.jpg: corrupt JPEG: more than 100 scans");
}

BOOST_AUTO_TEST_CASE(non_images_fail_with_the_reason) {
    const std::string text = "hello, this is not an image";
    BOOST_TEST(testing::error_of<InputError>([&] { decode_image(std::vector<std::uint8_t>(text.begin(), text.end()), "t.txt"); }) ==
               "t.txt: not a PNG, JPEG or PGM/PPM image (the file starts with 68 65 6c 6c)");
    BOOST_TEST(testing::error_of<InputError>([&] { decode_image({}, "empty.png"); }) == "empty.png: empty file, not an image");
    // A PNG signature followed by nothing useful.
    const std::vector<std::uint8_t> png_head = {0x89, 'P', 'N', 'G', 13, 10, 26, 10, 0, 0, 0, 13, 'I', 'H', 'D', 'R'};
    const auto message = testing::error_of<InputError>([&] { decode_image(png_head, "short.png"); });
    BOOST_TEST(message.find("short.png: ") == 0u, message);
}

BOOST_AUTO_TEST_CASE(random_corruption_never_crashes) {
    // Flip bytes all over a PNG: every result is an image or an InputError.
    const auto png = encode_png(gradient(12, 9, 3));
    std::size_t errors = 0;
    for (std::size_t i = 0; i < png.size(); ++i) {
        auto bad = png;
        bad[i] ^= 0x5a;
        try {
            decode_image(bad, "flip.png");
        } catch (const InputError&) {
            ++errors;
        }
    }
    BOOST_TEST(errors > png.size() / 4);  // the CRCs catch most flips
}

BOOST_AUTO_TEST_CASE(missing_file_is_an_io_error) {
    BOOST_CHECK_THROW(read_image(scratch("nope.png")), IoError);
    BOOST_CHECK_THROW(write_png(scratch("no-such-dir/x.png"), gradient(2, 2, 1)), IoError);
}
