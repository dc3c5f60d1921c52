// Little-endian byte encoding for model files and their sections. ByteReader treats its
// bytes as untrusted: every read checks the remaining length first and a short read throws
// InputError naming the source and the offset, before anything is allocated.
#pragma once

#include "textcnn/core/error.h"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace textcnn {

static_assert(std::endian::native == std::endian::little || std::endian::native == std::endian::big);

class ByteWriter {
public:
    explicit ByteWriter(std::vector<std::uint8_t>& out) : out_(out) {}

    template <typename T>
        requires std::is_arithmetic_v<T>
    void put(T value) {
        std::uint8_t bytes[sizeof(T)];
        std::memcpy(bytes, &value, sizeof(T));
        if constexpr (std::endian::native == std::endian::big) std::reverse(bytes, bytes + sizeof(T));
        append(bytes, sizeof(T));
    }
    /// u64 length, then the bytes.
    void put_string(std::string_view s) {
        put<std::uint64_t>(s.size());
        append(s.data(), s.size());
    }
    /// u64 count, then the floats.
    void put_floats(std::span<const float> values) {
        put<std::uint64_t>(values.size());
        if constexpr (std::endian::native == std::endian::little) {
            append(values.data(), values.size_bytes());
        } else {
            for (float v : values) put(v);
        }
    }
    void put_bytes(std::span<const std::uint8_t> bytes) { append(bytes.data(), bytes.size()); }
    std::size_t size() const { return out_.size(); }

private:
    // resize + memcpy rather than vector::insert: GCC 12 warns falsely (-Wstringop-overflow,
    // -Warray-bounds) on inserting small arrays.
    void append(const void* data, std::size_t n) {
        if (n == 0) return;
        const std::size_t at = out_.size();
        out_.resize(at + n);
        std::memcpy(out_.data() + at, data, n);
    }

    std::vector<std::uint8_t>& out_;
};

class ByteReader {
public:
    /// `source` names the data in errors: "model.bin section 'vocab'".
    ByteReader(std::span<const std::uint8_t> bytes, std::string source) : bytes_(bytes), source_(std::move(source)) {}

    template <typename T>
        requires std::is_arithmetic_v<T>
    T get(const char* what) {
        need(sizeof(T), what);
        std::uint8_t raw[sizeof(T)];
        std::memcpy(raw, bytes_.data() + pos_, sizeof(T));
        if constexpr (std::endian::native == std::endian::big) std::reverse(raw, raw + sizeof(T));
        T value;
        std::memcpy(&value, raw, sizeof(T));
        pos_ += sizeof(T);
        return value;
    }
    std::string get_string(const char* what) {
        const auto n = get<std::uint64_t>(what);
        need(n, what);
        std::string s(reinterpret_cast<const char*>(bytes_.data() + pos_), n);
        pos_ += n;
        return s;
    }
    /// A u64 count, then that many floats (put_floats()).
    std::vector<float> get_floats(const char* what) {
        const auto n = get<std::uint64_t>(what);
        if (n > remaining() / sizeof(float)) fail(what, n, sizeof(float));
        std::vector<float> values(n);
        read_floats(values, what);
        return values;
    }
    /// out.size() floats, without a count before them, into a buffer the caller chose.
    void read_floats(std::span<float> out, const char* what) {
        if (out.size() > remaining() / sizeof(float)) fail(what, out.size(), sizeof(float));
        if (out.empty()) return;  // memcpy with the null data() of an empty buffer is undefined
        if constexpr (std::endian::native == std::endian::little) {
            std::memcpy(out.data(), bytes_.data() + pos_, out.size_bytes());
            pos_ += out.size_bytes();
        } else {
            for (auto& v : out) v = get<float>(what);
        }
    }
    std::span<const std::uint8_t> get_bytes(std::uint64_t n, const char* what) {
        need(n, what);
        auto s = bytes_.subspan(pos_, n);
        pos_ += n;
        return s;
    }
    /// A count of items each at least `min_item_bytes` long: rejected when the remaining
    /// bytes cannot possibly hold them (so a corrupt count never drives an allocation).
    std::uint64_t get_count(std::size_t min_item_bytes, const char* what) {
        const auto n = get<std::uint64_t>(what);
        if (min_item_bytes > 0 && n > remaining() / min_item_bytes) fail(what, n, min_item_bytes);
        return n;
    }
    std::size_t offset() const { return pos_; }
    std::size_t remaining() const { return bytes_.size() - pos_; }
    bool at_end() const { return pos_ == bytes_.size(); }
    const std::string& source() const { return source_; }
    /// Throws InputError "<source>: offset N: <message>".
    [[noreturn]] void error(const std::string& message) const {
        throw InputError(source_ + ": offset " + std::to_string(pos_) + ": " + message);
    }

private:
    void need(std::uint64_t n, const char* what) {
        if (n > remaining()) fail(what, n);
    }
    // `items` of `item_bytes` each: said as a product when it overflows (a count of 2^62 floats
    // once read "0 bytes needed").
    [[noreturn]] void fail(const char* what, std::uint64_t items, std::uint64_t item_bytes = 1) const {
        std::uint64_t wanted = 0;
        const std::string needed = __builtin_mul_overflow(items, item_bytes, &wanted)
                                       ? std::to_string(items) + " x " + std::to_string(item_bytes)
                                       : std::to_string(wanted);
        throw InputError(source_ + ": truncated at offset " + std::to_string(pos_) + " reading " + what + " (" + needed +
                         " bytes needed, " + std::to_string(remaining()) + " left)");
    }
    std::span<const std::uint8_t> bytes_;
    std::string source_;
    std::size_t pos_ = 0;
};

}  // namespace textcnn
