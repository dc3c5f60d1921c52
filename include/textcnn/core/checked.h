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

/// Nesting levels allowed in JSON read from a file (an architecture, a model's metadata or
/// image section, a checkpoint's options, a run log): nlohmann's parser and dump() recurse once
/// per level, and 100,000 levels of brackets in a 200 kB model file overflowed the stack.
inline constexpr std::size_t max_json_nesting = 64;

/// The deepest nesting of '[' and '{' in JSON text, brackets inside strings skipped. O(n), no
/// recursion; text that is not JSON gets some number (the parser then refuses it).
inline std::size_t json_nesting_depth(std::string_view text) {
    std::size_t depth = 0, deepest = 0;
    bool in_string = false, escaped = false;
    for (const char c : text) {
        if (in_string) {
            if (escaped) escaped = false;
            else if (c == '\\') escaped = true;
            else if (c == '"') in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > deepest) deepest = depth;
        } else if ((c == ']' || c == '}') && depth > 0) {
            --depth;
        }
    }
    return deepest;
}

/// Before parsing untrusted JSON: InputError "<what> nests deeper than 64 levels".
inline void check_json_nesting(std::string_view text, std::string_view what) {
    if (json_nesting_depth(text) > max_json_nesting)
        throw InputError(std::string(what) + " nests deeper than " + std::to_string(max_json_nesting) + " levels");
}

}  // namespace textcnn
