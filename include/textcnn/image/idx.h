// IDX files: the format of MNIST and Fashion-MNIST (LeCun's "idx3-ubyte" / "idx1-ubyte").
//
// Layout (big-endian, as the format defines it): two zero bytes, a type code (0x08 = unsigned
// byte, the only type these readers accept), the number of dimensions, then one u32 per
// dimension, then the values in row-major order. Images: magic 0x00000803, dimensions
// (count, rows, cols). Labels: magic 0x00000801, dimension (count).
//
// Files may be gzip-compressed or plain; the readers look at the content (the gzip magic
// 1f 8b), not at the name. Everything read is untrusted: the dimensions are checked against
// the (decompressed) size before anything is allocated, and a short file fails naming the
// file and the offset where the data ran out. A magic in the wrong byte order (a writer that
// forgot IDX is big-endian) is rejected with a message that says so.
#pragma once

#include "textcnn/nn/tensor.h"

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace textcnn {

inline constexpr std::uint32_t idx_images_magic = 0x00000803;
inline constexpr std::uint32_t idx_labels_magic = 0x00000801;

/// Files read_file_bytes() and read_file_maybe_gzip() read at most, and the most gzip data may
/// inflate to: 1 GiB (Fashion-MNIST's training images are 47 MB).
inline constexpr std::uint64_t default_max_file_bytes = std::uint64_t{1} << 30;

/// The whole content of a file, gunzipped when it starts with the gzip magic (multi-member
/// gzip streams are concatenated). IoError when it cannot be opened or read, is not a regular
/// file or is larger than max_bytes; InputError for a corrupt or truncated gzip stream (naming
/// the file and the compressed offset) or one that inflates past its bound (gunzip_bytes).
std::vector<std::uint8_t> read_file_maybe_gzip(const std::string& path, std::uint64_t max_bytes = default_max_file_bytes);
/// Gunzips `bytes` (every member). The output may not exceed max_bytes, nor, when it is IDX
/// data, the size its IDX header declares (header + product of the dimensions): inflating stops
/// within 64 KiB of that bound with InputError "<source>: gzip data inflates to more than N
/// bytes (...)", so a gzip bomb costs no more memory than the data it claims to be.
std::vector<std::uint8_t> gunzip_bytes(std::span<const std::uint8_t> bytes, const std::string& source,
                                       std::uint64_t max_bytes = default_max_file_bytes);

/// Images from IDX bytes as a tensor of shape (count, 1, rows, cols), pixels scaled to [0, 1]
/// (value / 255). `source` names the data in error messages.
Tensor parse_idx_images(std::span<const std::uint8_t> bytes, const std::string& source);
/// Labels from IDX bytes, one per item.
std::vector<std::uint32_t> parse_idx_labels(std::span<const std::uint8_t> bytes, const std::string& source);

Tensor read_idx_images(const std::string& path);
std::vector<std::uint32_t> read_idx_labels(const std::string& path);

/// Images and their labels; the two files must hold the same number of items.
struct LabelledImages {
    Tensor images;                      ///< (count, 1, rows, cols) in [0, 1]
    std::vector<std::uint32_t> labels;  ///< one per image
};
LabelledImages read_idx_dataset(const std::string& images_path, const std::string& labels_path);

/// IDX encoders (big-endian, as the format says), for tests and for exporting data.
/// `pixels` holds count * rows * cols bytes, image after image, row-major.
std::vector<std::uint8_t> encode_idx_images(std::span<const std::uint8_t> pixels, std::size_t count, std::size_t rows,
                                            std::size_t cols);
std::vector<std::uint8_t> encode_idx_labels(std::span<const std::uint8_t> labels);
/// gzip-compresses bytes (a single gzip member).
std::vector<std::uint8_t> gzip_bytes(std::span<const std::uint8_t> bytes);
/// The whole content of a regular file as it is; IoError when it cannot be opened or read, is
/// not a regular file (a FIFO, a device) or has more than max_bytes bytes (checked before
/// reading; see core/files.h). "-" reads standard input to its end (named "<stdin>" in
/// messages), so every reader of data files and images below takes "-" too.
std::vector<std::uint8_t> read_file_bytes(const std::string& path, std::uint64_t max_bytes = default_max_file_bytes);
/// Writes bytes to a file, through a temporary file and a rename (IoError on failure).
void write_file_bytes(const std::string& path, std::span<const std::uint8_t> bytes);

/// Class names of Fashion-MNIST, in label order 0..9.
const std::vector<std::string>& fashion_mnist_labels();

}  // namespace textcnn
