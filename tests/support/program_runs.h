// Files and program runs for the tests that drive textcnn and imagecnn as a user would.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <sys/types.h>

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

/// Starts `args` (args[0] the program's path) with stdin from /dev/null, stdout to /dev/null
/// and stderr to a pipe: the child's pid and the pipe's read end (the caller reads, closes and
/// waits).
std::pair<pid_t, int> start_with_stderr_pipe(const std::vector<std::string>& args);

/// Starts `args` as above, sends `signal` once its stderr holds `marker` (a training program's
/// "epoch 1/" line, say), reads stderr to the end and waits: the exit code (1000 + signal when
/// killed by one; -1 when the marker never came and no signal was sent) and stderr.
ProgramRun signal_after(const std::vector<std::string>& args, const std::string& marker, int signal);

}  // namespace textcnn::testing
