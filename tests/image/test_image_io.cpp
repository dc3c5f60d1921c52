#define BOOST_TEST_MODULE image_io
#include <boost/test/unit_test.hpp>

#include "test_helpers.h"
#include "textcnn/core/error.h"
#include "textcnn/image/idx.h"
#include "textcnn/image/image_io.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

using namespace textcnn;

namespace {

const std::string fixtures = std::string(TEXTCNN_SOURCE_DIR) + "/tests/fixtures/images/";

std::string scratch(const std::string& name) { return testing::scratch_path("test_image_io_files", name); }

Image gradient(std::size_t width, std::size_t height, std::size_t channels) {
    Image image{width, height, channels, {}};
    for (std::size_t i = 0; i < width * height * channels; ++i) image.pixels.push_back(static_cast<std::uint8_t>(i * 7));
    return image;
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

BOOST_AUTO_TEST_CASE(rgb_converts_to_grey_with_stb_luma) {
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
    BOOST_TEST(error_of("P5 0 4 255\n") ==
               "x.pgm: offset 10: corrupt PGM/PPM: image of 0x4 pixels (each side must be 1 to 16384)");
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
    const auto jpeg = read_file_bytes(fixtures + "step_16x8_gray.jpg");
    for (std::size_t keep : {std::size_t{2}, std::size_t{100}, jpeg.size() / 2}) {
        const std::vector<std::uint8_t> cut(jpeg.begin(), jpeg.begin() + static_cast<long>(keep));
        // stb_image may decode a JPEG whose entropy data is cut (it pads with zeros, as
        // libjpeg does); what it must never do is crash or read out of bounds.
        try {
            const Image image = decode_image(cut, "cut.jpg", 1);
            BOOST_TEST(image.size_text() == "16x8x1");
        } catch (const InputError& e) {
            BOOST_TEST(std::string(e.what()).find("cut.jpg: ") == 0u);
        }
    }
    // Garbage after a valid SOI marker.
    std::vector<std::uint8_t> garbage = {0xff, 0xd8};
    for (int i = 0; i < 200; ++i) garbage.push_back(static_cast<std::uint8_t>(i * 37 + 11));
    BOOST_TEST(testing::error_of<InputError>([&] { decode_image(garbage, "g.jpg"); }).find("g.jpg: ") == 0u);
}

BOOST_AUTO_TEST_CASE(jpeg_huffman_table_overflow_is_refused) {
    // stb_image trusts a Huffman table's code counts (CVE-2021-37789): 16 counts of 255 would
    // make it write 4080 entries into 257-entry arrays. The reader refuses such a table first.
    auto jpeg = read_file_bytes(fixtures + "step_16x8_gray.jpg");
    const std::uint8_t dht[] = {0xff, 0xc4};
    const auto at = std::search(jpeg.begin(), jpeg.end(), std::begin(dht), std::end(dht)) - jpeg.begin();
    BOOST_TEST_REQUIRE(at == 173);
    for (int i = 0; i < 16; ++i) jpeg[at + 5 + i] = 255;  // marker, length (2), class/id, then the counts
    BOOST_TEST(testing::error_of<InputError>([&] { decode_image(jpeg, "dht.jpg"); }) ==
               "dht.jpg: corrupt JPEG: the Huffman table at offset 177 defines 4080 codes (at most 256)");
}

BOOST_AUTO_TEST_CASE(non_images_fail_with_the_reason) {
    const std::string text = "hello, this is not an image";
    BOOST_TEST(testing::error_of<InputError>([&] { decode_image(std::vector<std::uint8_t>(text.begin(), text.end()), "t.txt"); }) ==
               "t.txt: not a PNG, JPEG or PGM/PPM image, or a corrupt one (unknown image type)");
    BOOST_TEST(testing::error_of<InputError>([&] { decode_image({}, "empty.png"); }) == "empty.png: empty file, not an image");
    // A PNG signature followed by nothing useful.
    const std::vector<std::uint8_t> png_head = {0x89, 'P', 'N', 'G', 13, 10, 26, 10, 0, 0, 0, 13, 'I', 'H', 'D', 'R'};
    const auto message = testing::error_of<InputError>([&] { decode_image(png_head, "short.png"); });
    BOOST_TEST(message.find("short.png: ") == 0u, message);
}

BOOST_AUTO_TEST_CASE(oversized_dimensions_are_refused) {
    const std::string p5 = "P5 100000 2 255\n";
    const auto message =
        testing::error_of<InputError>([&] { decode_image(std::vector<std::uint8_t>(p5.begin(), p5.end()), "big.pgm"); });
    BOOST_TEST(message.find("big.pgm: ") == 0u, message);
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
