#define BOOST_TEST_MODULE idx
#include <boost/test/unit_test.hpp>

#include "test_helpers.h"
#include "textcnn/core/error.h"
#include "textcnn/image/idx.h"

#include <sys/stat.h>

#include <filesystem>
#include <string>
#include <vector>

using namespace textcnn;

namespace {

std::string scratch(const std::string& name) { return testing::scratch_path("test_idx_files", name); }

// Three 2x3 images with pixel values 0, 1, ..., 17 and 255 in the last one.
std::vector<std::uint8_t> sample_pixels() {
    std::vector<std::uint8_t> pixels(18);
    for (std::size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<std::uint8_t>(i);
    pixels[17] = 255;
    return pixels;
}

}  // namespace

BOOST_AUTO_TEST_CASE(encoder_writes_big_endian_header) {
    const auto bytes = encode_idx_images(sample_pixels(), 3, 2, 3);
    const std::vector<std::uint8_t> header = {0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 3};
    BOOST_TEST(std::vector<std::uint8_t>(bytes.begin(), bytes.begin() + 16) == header, boost::test_tools::per_element());
    BOOST_TEST(bytes.size() == 16u + 18u);
    const auto labels = encode_idx_labels(std::vector<std::uint8_t>{7, 0, 9});
    const std::vector<std::uint8_t> expected = {0, 0, 8, 1, 0, 0, 0, 3, 7, 0, 9};
    BOOST_TEST(labels == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(images_are_scaled_to_unit_range_in_order) {
    const Tensor images = parse_idx_images(encode_idx_images(sample_pixels(), 3, 2, 3), "mem");
    BOOST_TEST(images.shape().str() == "(3, 1, 2, 3)");
    BOOST_TEST(images[0] == 0.0f);
    BOOST_TEST(images[5] == 5.0f / 255.0f);
    // Sample 1, row 1, column 2 is pixel 6 + 1 * 3 + 2 = 11 (one channel: storage = row-major).
    BOOST_TEST(images.sample(1)[1 * 3 + 2] == 11.0f / 255.0f);
    BOOST_TEST(images[17] == 1.0f);
}

BOOST_AUTO_TEST_CASE(plain_and_gzip_files_read_the_same) {
    const auto images = encode_idx_images(sample_pixels(), 3, 2, 3);
    const auto labels = encode_idx_labels(std::vector<std::uint8_t>{2, 1, 0});
    write_file_bytes(scratch("images.idx"), images);
    write_file_bytes(scratch("images.idx.gz"), gzip_bytes(images));
    // A gzip file need not be named .gz: detection is by content.
    write_file_bytes(scratch("labels.bin"), gzip_bytes(labels));
    const Tensor plain = read_idx_images(scratch("images.idx"));
    const Tensor gz = read_idx_images(scratch("images.idx.gz"));
    BOOST_TEST(plain.shape().str() == gz.shape().str());
    BOOST_TEST(std::vector<float>(plain.values().begin(), plain.values().end()) ==
                   std::vector<float>(gz.values().begin(), gz.values().end()),
               boost::test_tools::per_element());
    const auto data = read_idx_dataset(scratch("images.idx.gz"), scratch("labels.bin"));
    BOOST_TEST(data.labels == (std::vector<std::uint32_t>{2, 1, 0}), boost::test_tools::per_element());
    BOOST_TEST(data.images.shape().str() == "(3, 1, 2, 3)");
}

BOOST_AUTO_TEST_CASE(concatenated_gzip_members_are_joined) {
    const auto images = encode_idx_images(sample_pixels(), 3, 2, 3);
    std::vector<std::uint8_t> head(images.begin(), images.begin() + 20), tail(images.begin() + 20, images.end());
    auto joined = gzip_bytes(head);
    const auto second = gzip_bytes(tail);
    joined.insert(joined.end(), second.begin(), second.end());
    write_file_bytes(scratch("two_members.gz"), joined);
    BOOST_TEST(read_idx_images(scratch("two_members.gz")).shape().str() == "(3, 1, 2, 3)");
}

BOOST_AUTO_TEST_CASE(byte_swapped_magic_is_rejected_with_the_reason) {
    // A writer that forgot IDX is big-endian: the magic and dimensions come out little-endian.
    std::vector<std::uint8_t> bytes = {3, 8, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0};
    const auto pixels = sample_pixels();
    bytes.insert(bytes.end(), pixels.begin(), pixels.end());
    BOOST_TEST(testing::error_of<InputError>([&] { parse_idx_images(bytes, "le.idx"); }) ==
               "le.idx: magic 0x03080000 is byte-swapped: IDX files are big-endian, expected 0x00000803 (the file "
               "was written little-endian)");
    const std::vector<std::uint8_t> labels = {1, 8, 0, 0, 1, 0, 0, 0, 4};
    BOOST_TEST(testing::error_of<InputError>([&] { parse_idx_labels(labels, "le-labels"); }) ==
               "le-labels: magic 0x01080000 is byte-swapped: IDX files are big-endian, expected 0x00000801 (the file "
               "was written little-endian)");
}

BOOST_AUTO_TEST_CASE(wrong_kind_and_foreign_files_are_named) {
    const auto labels = encode_idx_labels(std::vector<std::uint8_t>{1, 2});
    BOOST_TEST(testing::error_of<InputError>([&] { parse_idx_images(labels, "labels.idx"); }) ==
               "labels.idx: magic 0x00000801 is an IDX label file, expected image (0x00000803)");
    const std::vector<std::uint8_t> floats = {0, 0, 0x0d, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    BOOST_TEST(testing::error_of<InputError>([&] { parse_idx_images(floats, "f.idx"); }) ==
               "f.idx: IDX type code 0x0d is not supported: only unsigned bytes (0x08)");
    const std::vector<std::uint8_t> png = {0x89, 'P', 'N', 'G', 13, 10, 26, 10};
    BOOST_TEST(testing::error_of<InputError>([&] { parse_idx_labels(png, "x.png"); }) ==
               "x.png: not an IDX label file: magic 0x89504e47, expected 0x00000801");
}

BOOST_AUTO_TEST_CASE(truncated_files_fail_with_the_offset) {
    const auto full = encode_idx_images(sample_pixels(), 3, 2, 3);
    // Cut inside image 2 (offset 16 + 2 * 6 = 28): 3 of its 6 bytes remain.
    const std::vector<std::uint8_t> cut(full.begin(), full.begin() + 31);
    BOOST_TEST(testing::error_of<InputError>([&] { parse_idx_images(cut, "cut.idx"); }) ==
               "cut.idx: truncated at offset 28: image 2 of 3 needs 6 bytes, 3 left (the header promises 34 bytes, "
               "the data has 31)");
    // Cut inside the header.
    const std::vector<std::uint8_t> header(full.begin(), full.begin() + 10);
    BOOST_TEST(testing::error_of<InputError>([&] { parse_idx_images(header, "h.idx"); }) ==
               "h.idx: truncated at offset 10: the IDX header needs 16 bytes");
    const std::vector<std::uint8_t> magic(full.begin(), full.begin() + 3);
    BOOST_TEST(testing::error_of<InputError>([&] { parse_idx_images(magic, "m.idx"); }) ==
               "m.idx: truncated at offset 3: the 4-byte IDX magic needs 1 more bytes");
    // Labels cut after one of three.
    const auto labels = encode_idx_labels(std::vector<std::uint8_t>{1, 2, 3});
    const std::vector<std::uint8_t> short_labels(labels.begin(), labels.begin() + 9);
    BOOST_TEST(testing::error_of<InputError>([&] { parse_idx_labels(short_labels, "l.idx"); }) ==
               "l.idx: truncated at offset 9: label 1 of 3 needs 1 bytes, 0 left (the header promises 11 bytes, the "
               "data has 9)");
}

BOOST_AUTO_TEST_CASE(huge_dimensions_fail_before_allocating) {
    // 4 billion images of 65535 x 65535 in a 16-byte file: must fail on the size check.
    const std::vector<std::uint8_t> bytes = {0, 0, 8, 3, 0xff, 0xff, 0xff, 0xff, 0, 0, 0xff, 0xff, 0, 0, 0xff, 0xff};
    const auto message = testing::error_of<InputError>([&] { parse_idx_images(bytes, "huge.idx"); });
    BOOST_TEST(message.find("huge.idx: truncated at offset 16: image 0 of 4294967295 needs 4294836225 bytes") == 0u,
               message);
}

BOOST_AUTO_TEST_CASE(trailing_bytes_are_an_error) {
    auto bytes = encode_idx_labels(std::vector<std::uint8_t>{1, 2});
    bytes.push_back(0);
    BOOST_TEST(testing::error_of<InputError>([&] { parse_idx_labels(bytes, "t.idx"); }) ==
               "t.idx: 1 unexpected bytes at offset 10 after the last of 2 labels");
}

// Found by fuzz_idx: with zero items of zero bytes the trailing-bytes check was skipped.
BOOST_AUTO_TEST_CASE(trailing_bytes_after_zero_items_are_an_error) {
    std::vector<std::uint8_t> bytes = encode_idx_images({}, 0, 0, 5);
    bytes.push_back(42);
    BOOST_CHECK_EXCEPTION(parse_idx_images(bytes, "zero.idx"), InputError, [](const InputError& e) {
        return std::string(e.what()) == "zero.idx: 1 unexpected bytes at offset 16 after the last of 0 images";
    });
}

BOOST_AUTO_TEST_CASE(truncated_and_corrupt_gzip_fail_clearly) {
    const auto gz = gzip_bytes(encode_idx_images(sample_pixels(), 3, 2, 3));
    write_file_bytes(scratch("cut.gz"), std::vector<std::uint8_t>(gz.begin(), gz.end() - 12));
    const auto cut = testing::error_of<InputError>([&] { read_idx_images(scratch("cut.gz")); });
    BOOST_TEST(cut.find(scratch("cut.gz") + ": truncated gzip stream: compressed data ends at offset ") == 0u, cut);

    auto corrupt = gz;
    corrupt[12] ^= 0xff;  // inside the deflate data
    corrupt[13] ^= 0xff;
    write_file_bytes(scratch("corrupt.gz"), corrupt);
    const auto bad = testing::error_of<InputError>([&] { read_idx_images(scratch("corrupt.gz")); });
    BOOST_TEST(bad.find(scratch("corrupt.gz") + ": ") == 0u, bad);
    BOOST_TEST((bad.find("corrupt gzip data at compressed offset") != std::string::npos ||
                bad.find("truncated") != std::string::npos),
               bad);
}

BOOST_AUTO_TEST_CASE(label_and_image_counts_must_match) {
    write_file_bytes(scratch("three.idx"), encode_idx_images(sample_pixels(), 3, 2, 3));
    write_file_bytes(scratch("two_labels.idx"), encode_idx_labels(std::vector<std::uint8_t>{1, 2}));
    BOOST_TEST(testing::error_of<InputError>([&] { read_idx_dataset(scratch("three.idx"), scratch("two_labels.idx")); }) ==
               scratch("two_labels.idx") + ": 2 labels for 3 images in " + scratch("three.idx"));
}

BOOST_AUTO_TEST_CASE(missing_file_is_an_io_error) {
    BOOST_CHECK_EXCEPTION(read_idx_labels(scratch("does-not-exist")), IoError, [](const IoError& e) {
        return std::string(e.what()) == scratch("does-not-exist") + ": cannot open: No such file or directory";
    });
}

BOOST_AUTO_TEST_CASE(fashion_mnist_names) {
    const auto& names = fashion_mnist_labels();
    BOOST_TEST(names.size() == 10u);
    BOOST_TEST(names[0] == "T-shirt/top");
    BOOST_TEST(names[9] == "Ankle boot");
}

// Issue 15: gunzip grew with whatever the stream inflated to, so a few KB of gzip could take
// gigabytes. Now the output stops at the size the IDX header declares, and at max_bytes.
BOOST_AUTO_TEST_CASE(gzip_bombs_stop_at_the_declared_size) {
    // One 2x2 image (20 bytes declared), then 8 MiB of zeros: about 8 KB of gzip.
    std::vector<std::uint8_t> bomb = encode_idx_images(std::vector<std::uint8_t>(4, 7), 1, 2, 2);
    bomb.resize(bomb.size() + (std::size_t{8} << 20));
    const auto gz = gzip_bytes(bomb);
    BOOST_TEST(gz.size() < 65536u);
    BOOST_CHECK_EXCEPTION(gunzip_bytes(gz, "bomb.gz"), InputError, [](const InputError& e) {
        return std::string(e.what()) ==
               "bomb.gz: gzip data inflates to more than 20 bytes (the size its IDX header declares)";
    });
    // Data that is not IDX stops at max_bytes; the same data within the bound inflates whole.
    const std::vector<std::uint8_t> zeros(3 << 20, 0);
    BOOST_CHECK_EXCEPTION(gunzip_bytes(gzip_bytes(zeros), "zeros.gz", 1 << 20), InputError, [](const InputError& e) {
        return std::string(e.what()) ==
               "zeros.gz: gzip data inflates to more than 1048576 bytes (the limit for decompressed data)";
    });
    BOOST_TEST(gunzip_bytes(gzip_bytes(zeros), "zeros.gz", 3 << 20).size() == zeros.size());
    // Through the file reader, as imagecnn reads --train.
    write_file_bytes(scratch("bomb.idx.gz"), gz);
    BOOST_CHECK_THROW(read_idx_images(scratch("bomb.idx.gz")), InputError);
}

// Issue 15: read_file_bytes (images, IDX) opened FIFOs and devices and read them until they
// ended, which /dev/zero never does; and a file of any size was read whole.
BOOST_AUTO_TEST_CASE(only_bounded_regular_files_are_read) {
    const std::string fifo = scratch("data.fifo");
    std::filesystem::remove(fifo);
    BOOST_REQUIRE_EQUAL(::mkfifo(fifo.c_str(), 0600), 0);
    BOOST_CHECK_EXCEPTION(read_file_bytes(fifo), IoError, [&](const IoError& e) {
        return std::string(e.what()) == fifo + ": not a regular file (a FIFO); a data file must be a regular file";
    });
    BOOST_CHECK_EXCEPTION(read_idx_images("/dev/zero"), IoError, [](const IoError& e) {
        return std::string(e.what()).find("/dev/zero: not a regular file (a character device)") == 0;
    });
    const std::string big = scratch("big.idx");
    write_file_bytes(big, std::vector<std::uint8_t>(100, 0));
    BOOST_CHECK_EXCEPTION(read_file_bytes(big, 99), IoError, [&](const IoError& e) {
        return std::string(e.what()) == big + ": file too large: 100 bytes (a data file may have at most 99)";
    });
    BOOST_TEST(read_file_bytes(big, 100).size() == 100u);
}
