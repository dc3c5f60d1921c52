#include "textcnn/image/idx.h"

#include "textcnn/core/error.h"
#include "textcnn/core/files.h"

#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <limits>
#include <optional>

namespace textcnn {

namespace {

std::string hex32(std::uint32_t value) {
    char text[16];
    std::snprintf(text, sizeof text, "0x%08x", value);
    return text;
}

std::uint32_t read_be32(const std::uint8_t* p) {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | std::uint32_t{p[3]};
}

void put_be32(std::vector<std::uint8_t>& out, std::uint64_t value) {
    if (value > 0xffffffffULL) throw ConfigError("IDX: dimension " + std::to_string(value) + " does not fit in 32 bits");
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(value >> shift));
}

}  // namespace

std::vector<std::uint8_t> read_file_bytes(const std::string& path, std::uint64_t max_bytes) {
    return path == "-" ? read_standard_input("data file", max_bytes) : read_regular_file(path, "data file", max_bytes);
}

namespace {

bool is_gzip(std::span<const std::uint8_t> bytes) { return bytes.size() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b; }

// The size an IDX file of unsigned bytes declares in its header (magic 00 00 08 <dims>, then
// one big-endian u32 per dimension): header + product of the dimensions, saturating at
// UINT64_MAX. Nullopt until `bytes` holds the whole header, or when it is not IDX.
std::optional<std::uint64_t> idx_declared_size(std::span<const std::uint8_t> bytes) {
    if (bytes.size() < 4 || bytes[0] != 0 || bytes[1] != 0 || bytes[2] != 0x08) return std::nullopt;
    const std::uint64_t header = 4 + 4 * std::uint64_t{bytes[3]};
    if (bytes.size() < header) return std::nullopt;
    std::uint64_t size = 1;
    for (std::uint32_t i = 0; i < bytes[3]; ++i)
        if (__builtin_mul_overflow(size, std::uint64_t{read_be32(bytes.data() + 4 + 4 * i)}, &size))
            return std::numeric_limits<std::uint64_t>::max();
    return size > std::numeric_limits<std::uint64_t>::max() - header ? std::numeric_limits<std::uint64_t>::max()
                                                                     : size + header;
}

}  // namespace

// Inflates every gzip member in turn. The output grows with the data actually decompressed,
// never with a size read from the file, and stops (InputError) as soon as it passes
// `max_bytes` or, for IDX data, the size the IDX header declares: a gzip bomb costs at most
// that much memory and the time to inflate it.
std::vector<std::uint8_t> gunzip_bytes(std::span<const std::uint8_t> in, const std::string& source,
                                       std::uint64_t max_bytes) {
    std::vector<std::uint8_t> out;
    z_stream stream{};
    if (inflateInit2(&stream, 16 + MAX_WBITS) != Z_OK) throw InputError(source + ": cannot initialise zlib");
    auto fail = [&](const std::string& message) {
        inflateEnd(&stream);
        throw InputError(source + ": " + message);
    };
    stream.next_in = const_cast<Bytef*>(in.data());
    stream.avail_in = static_cast<uInt>(std::min<std::size_t>(in.size(), std::numeric_limits<uInt>::max()));
    std::uint8_t buffer[1 << 16];
    std::uint64_t limit = max_bytes;
    bool declared_known = false;
    int status = Z_OK;
    for (;;) {
        stream.next_out = buffer;
        stream.avail_out = sizeof buffer;
        status = inflate(&stream, Z_NO_FLUSH);
        out.insert(out.end(), buffer, buffer + (sizeof buffer - stream.avail_out));
        if (!declared_known) {
            if (const auto declared = idx_declared_size(out)) {
                declared_known = true;
                limit = std::min(limit, *declared);
            }
        }
        if (out.size() > limit)
            fail("gzip data inflates to more than " + std::to_string(limit) + " bytes (" +
                 (limit < max_bytes ? "the size its IDX header declares" : "the limit for decompressed data") + ")");
        if (status == Z_STREAM_END) {
            // Another member may follow (gzip files may be concatenated).
            if (stream.avail_in >= 2 && stream.next_in[0] == 0x1f && stream.next_in[1] == 0x8b) {
                inflateReset(&stream);
                continue;
            }
            break;
        }
        if (status == Z_OK) continue;
        if (status == Z_BUF_ERROR && stream.avail_in == 0) break;  // input ended mid-stream
        const std::string reason = stream.msg ? stream.msg : "zlib error " + std::to_string(status);
        fail("corrupt gzip data at compressed offset " + std::to_string(stream.total_in) + ": " + reason);
    }
    const auto consumed = in.size() - stream.avail_in;
    if (status != Z_STREAM_END)
        fail("truncated gzip stream: compressed data ends at offset " + std::to_string(consumed) +
             " before the end of the stream (" + std::to_string(out.size()) + " bytes decompressed so far)");
    inflateEnd(&stream);
    return out;
}

namespace {

// The header of an IDX file of unsigned bytes, validated against the data size.
struct IdxHeader {
    std::vector<std::uint32_t> dims;
    std::size_t data_offset = 0;
};

IdxHeader parse_header(std::span<const std::uint8_t> bytes, const std::string& source, std::uint32_t want_magic,
                       const char* kind) {
    const std::uint32_t want_dims = want_magic & 0xff;
    if (bytes.size() < 4)
        throw InputError(source + ": truncated at offset " + std::to_string(bytes.size()) +
                         ": the 4-byte IDX magic needs " + std::to_string(4 - bytes.size()) + " more bytes");
    const std::uint32_t magic = read_be32(bytes.data());
    if (magic != want_magic) {
        const std::uint32_t swapped = __builtin_bswap32(magic);
        if (swapped == want_magic)
            throw InputError(source + ": magic " + hex32(magic) + " is byte-swapped: IDX files are big-endian, " +
                             "expected " + hex32(want_magic) + " (the file was written little-endian)");
        if (magic == idx_images_magic || magic == idx_labels_magic)
            throw InputError(source + ": magic " + hex32(magic) + " is an IDX " +
                             (magic == idx_images_magic ? "image" : "label") + " file, expected " + kind + " (" +
                             hex32(want_magic) + ")");
        if ((magic >> 16) == 0 && (magic & 0xff00) != 0x0800)
            throw InputError(source + ": IDX type code 0x" + hex32(magic).substr(6, 2) +
                             " is not supported: only unsigned bytes (0x08)");
        throw InputError(source + ": not an IDX " + kind + " file: magic " + hex32(magic) + ", expected " +
                         hex32(want_magic));
    }
    IdxHeader header;
    header.data_offset = 4 + 4 * want_dims;
    if (bytes.size() < header.data_offset)
        throw InputError(source + ": truncated at offset " + std::to_string(bytes.size()) + ": the IDX header needs " +
                         std::to_string(header.data_offset) + " bytes");
    for (std::uint32_t i = 0; i < want_dims; ++i) header.dims.push_back(read_be32(bytes.data() + 4 + 4 * i));
    return header;
}

// Checks that `count` items of `item_bytes` each follow the header exactly; the message of a
// short file names the first item that does not fit and its offset.
void check_payload(std::span<const std::uint8_t> bytes, const std::string& source, const IdxHeader& header,
                   std::uint64_t count, std::uint64_t item_bytes, const char* item) {
    const std::uint64_t available = bytes.size() - header.data_offset;
    if (item_bytes == 0) {
        if (count != 0) throw InputError(source + ": " + item + "s have a zero dimension");
        if (available != 0)  // found by fuzz_idx: trailing bytes after zero items were accepted
            throw InputError(source + ": " + std::to_string(available) + " unexpected bytes at offset " +
                             std::to_string(header.data_offset) + " after the last of 0 " + item + "s");
        return;
    }
    const std::uint64_t complete = available / item_bytes;
    if (complete < count) {
        const std::uint64_t offset = header.data_offset + complete * item_bytes;
        throw InputError(source + ": truncated at offset " + std::to_string(offset) + ": " + item + " " +
                         std::to_string(complete) + " of " + std::to_string(count) + " needs " +
                         std::to_string(item_bytes) + " bytes, " + std::to_string(bytes.size() - offset) +
                         " left (the header promises " + std::to_string(header.data_offset + count * item_bytes) +
                         " bytes, the data has " + std::to_string(bytes.size()) + ")");
    }
    if (available != count * item_bytes) {
        const std::uint64_t end = header.data_offset + count * item_bytes;
        throw InputError(source + ": " + std::to_string(bytes.size() - end) + " unexpected bytes at offset " +
                         std::to_string(end) + " after the last of " + std::to_string(count) + " " + item + "s");
    }
}

}  // namespace

std::vector<std::uint8_t> read_file_maybe_gzip(const std::string& path, std::uint64_t max_bytes) {
    auto bytes = read_file_bytes(path, max_bytes);
    if (is_gzip(bytes)) return gunzip_bytes(bytes, input_name(path), max_bytes);
    return bytes;
}

Tensor parse_idx_images(std::span<const std::uint8_t> bytes, const std::string& source) {
    const IdxHeader header = parse_header(bytes, source, idx_images_magic, "image");
    const std::uint64_t count = header.dims[0], rows = header.dims[1], cols = header.dims[2];
    if (count > 0 && (rows == 0 || cols == 0))
        throw InputError(source + ": images of " + std::to_string(rows) + "x" + std::to_string(cols) + " pixels");
    check_payload(bytes, source, header, count, rows * cols, "image");  // rows * cols < 2^64: both < 2^32
    Tensor images(Shape{count, 1, rows, cols});
    const std::uint8_t* pixels = bytes.data() + header.data_offset;
    float* values = images.data();
    const std::size_t n = images.size();
    for (std::size_t i = 0; i < n; ++i) values[i] = static_cast<float>(pixels[i]) * (1.0f / 255.0f);
    return images;
}

std::vector<std::uint32_t> parse_idx_labels(std::span<const std::uint8_t> bytes, const std::string& source) {
    const IdxHeader header = parse_header(bytes, source, idx_labels_magic, "label");
    const std::uint64_t count = header.dims[0];
    check_payload(bytes, source, header, count, 1, "label");
    const std::uint8_t* values = bytes.data() + header.data_offset;
    return std::vector<std::uint32_t>(values, values + count);
}

Tensor read_idx_images(const std::string& path) { return parse_idx_images(read_file_maybe_gzip(path), input_name(path)); }

std::vector<std::uint32_t> read_idx_labels(const std::string& path) {
    return parse_idx_labels(read_file_maybe_gzip(path), input_name(path));
}

LabelledImages read_idx_dataset(const std::string& images_path, const std::string& labels_path) {
    LabelledImages data;
    data.images = read_idx_images(images_path);
    data.labels = read_idx_labels(labels_path);
    if (data.labels.size() != data.images.shape().batch())
        throw InputError(input_name(labels_path) + ": " + std::to_string(data.labels.size()) + " labels for " +
                         std::to_string(data.images.shape().batch()) + " images in " + input_name(images_path));
    return data;
}

std::vector<std::uint8_t> encode_idx_images(std::span<const std::uint8_t> pixels, std::size_t count, std::size_t rows,
                                            std::size_t cols) {
    if (pixels.size() != count * rows * cols)
        throw ConfigError("encode_idx_images: " + std::to_string(pixels.size()) + " pixels for " +
                          std::to_string(count) + " images of " + std::to_string(rows) + "x" + std::to_string(cols));
    std::vector<std::uint8_t> out;
    out.reserve(16 + pixels.size());
    put_be32(out, idx_images_magic);
    put_be32(out, count);
    put_be32(out, rows);
    put_be32(out, cols);
    out.insert(out.end(), pixels.begin(), pixels.end());
    return out;
}

std::vector<std::uint8_t> encode_idx_labels(std::span<const std::uint8_t> labels) {
    std::vector<std::uint8_t> out;
    out.reserve(8 + labels.size());
    put_be32(out, idx_labels_magic);
    put_be32(out, labels.size());
    out.insert(out.end(), labels.begin(), labels.end());
    return out;
}

std::vector<std::uint8_t> gzip_bytes(std::span<const std::uint8_t> bytes) {
    z_stream stream{};
    if (deflateInit2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        throw Error("gzip: cannot initialise zlib");
    std::vector<std::uint8_t> out(deflateBound(&stream, static_cast<uLong>(bytes.size())) + 32);
    stream.next_in = const_cast<Bytef*>(bytes.data());
    stream.avail_in = static_cast<uInt>(bytes.size());
    stream.next_out = out.data();
    stream.avail_out = static_cast<uInt>(out.size());
    const int status = deflate(&stream, Z_FINISH);
    out.resize(stream.total_out);
    deflateEnd(&stream);
    if (status != Z_STREAM_END) throw Error("gzip: deflate failed");
    return out;
}

void write_file_bytes(const std::string& path, std::span<const std::uint8_t> bytes) {
    write_file_atomically(path, bytes);  // a reader never sees half a file, no temporary is left
}

const std::vector<std::string>& fashion_mnist_labels() {
    static const std::vector<std::string> names = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                   "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
    return names;
}

}  // namespace textcnn
