// Small helpers shared by the unit tests.
#pragma once

#include <string>
#include <utility>

namespace textcnn::testing {

/// The message of the exception of type E that f() throws, or "no exception" when it throws
/// none, so a test can assert the exact text of an error.
template <typename E, typename F>
std::string error_of(F&& f) {
    try {
        std::forward<F>(f)();
    } catch (const E& e) {
        return e.what();
    }
    return "no exception";
}

}  // namespace textcnn::testing
