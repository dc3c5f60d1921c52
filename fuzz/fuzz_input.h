// What the libFuzzer targets share: the first bytes of an input choose options (format,
// settings), the rest is the data, and library errors are the expected way to refuse input.
//
// A target passes when the library returns or throws one of its own errors (textcnn::Error,
// core/error.h): anything else - a crash, a sanitizer report, a leak, another exception type
// (std::bad_alloc, std::out_of_range, nlohmann's), a broken invariant checked with
// fuzz_require() - is a finding.
#pragma once

#include "textcnn/core/error.h"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string_view>

namespace textcnn::fuzz {

/// Takes option bytes from the front of the input; when the input is exhausted, 0.
class FuzzInput {
public:
    FuzzInput(const std::uint8_t* data, std::size_t size) : bytes_(data, size) {}

    std::uint8_t take_byte() {
        if (bytes_.empty()) return 0;
        const std::uint8_t b = bytes_.front();
        bytes_ = bytes_.subspan(1);
        return b;
    }
    bool take_bool() { return (take_byte() & 1) != 0; }

    std::span<const std::uint8_t> rest() const { return bytes_; }
    std::string_view rest_text() const { return {reinterpret_cast<const char*>(bytes_.data()), bytes_.size()}; }

private:
    std::span<const std::uint8_t> bytes_;
};

/// Aborts (a finding) with `what` when an invariant the library promises does not hold.
inline void fuzz_require(bool condition, const char* what) {
    if (condition) return;
    std::fprintf(stderr, "fuzz invariant broken: %s\n", what);
    std::abort();
}

/// Runs `body`; the library's own errors are a clean refusal of the input.
template <typename Body>
void refuse_cleanly(Body&& body) {
    try {
        body();
    } catch (const textcnn::Error&) {
    }
}

}  // namespace textcnn::fuzz
