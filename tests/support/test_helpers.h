// Small helpers shared by the unit tests.
#pragma once

#include <filesystem>
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

#ifdef TEXTCNN_BINARY_DIR
/// `name` inside <build dir>/<folder>, the folder made on first use: each test program writes
/// its files into a folder of its own, so programs running in parallel never share a file.
inline std::string scratch_path(const std::string& folder, const std::string& name) {
    const auto dir = std::filesystem::path(TEXTCNN_BINARY_DIR) / folder;
    std::filesystem::create_directories(dir);
    return (dir / name).string();
}
#endif

}  // namespace textcnn::testing
