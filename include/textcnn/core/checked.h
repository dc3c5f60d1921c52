// Checked size arithmetic. Shapes, sizes and counts read from a file or an architecture are
// untrusted: every product or sum of them that sizes an allocation or an index goes through
// these helpers, which throw instead of wrapping around (a wrapped parameter count once let an
// 81-float weights section pass for an embedding of 9e18 x 35 values).
#pragma once

#include "textcnn/core/error.h"

#include <cstddef>
#include <string>
#include <string_view>

namespace textcnn {

/// a * b, or ShapeError "<what>: a x b overflows".
inline std::size_t checked_mul(std::size_t a, std::size_t b, std::string_view what) {
    std::size_t product = 0;
    if (__builtin_mul_overflow(a, b, &product))
        throw ShapeError(std::string(what) + ": " + std::to_string(a) + " x " + std::to_string(b) + " overflows");
    return product;
}

/// a + b, or ShapeError "<what>: a + b overflows".
inline std::size_t checked_add(std::size_t a, std::size_t b, std::string_view what) {
    std::size_t sum = 0;
    if (__builtin_add_overflow(a, b, &sum))
        throw ShapeError(std::string(what) + ": " + std::to_string(a) + " + " + std::to_string(b) + " overflows");
    return sum;
}

/// `value`, or ShapeError "<what> is <value>, above the limit of <limit>".
inline std::size_t checked_limit(std::size_t value, std::size_t limit, std::string_view what) {
    if (value > limit)
        throw ShapeError(std::string(what) + " is " + std::to_string(value) + ", above the limit of " + std::to_string(limit));
    return value;
}

}  // namespace textcnn
