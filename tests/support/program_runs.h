// Files and program runs for the tests that drive textcnn and imagecnn as a user would.
#pragma once

#include <string>

namespace textcnn::testing {

/// The whole content of a file ("" when it cannot be opened).
std::string read_text(const std::string& path);
/// Writes `text` to `path`, replacing the file.
void write_text(const std::string& path, const std::string& text);

/// What a program run gave: the exit code (1000 + signal when killed by one), stdout, stderr.
struct ProgramRun {
    int code = -1;
    std::string out;
    std::string err;
};

/// Runs the shell command `command`, stdin from `input_file` (or /dev/null when empty), with
/// stderr captured through the file `err_path`.
ProgramRun run_program(const std::string& command, const std::string& err_path, const std::string& input_file = "");

}  // namespace textcnn::testing
