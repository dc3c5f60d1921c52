// What the main() of every textcnn program does: parse the command line with CLI11, run the
// one subcommand given, and turn its outcome into an exit code scripts can rely on:
//   0    success
//   1    runtime or input error (bad file, corrupt model, unknown label; results that could
//        not be written to stdout, check_stdout_written)
//   2    usage error: unknown option, bad option value (CLI11's errors, UsageError, ConfigError)
//   130  interrupted by Ctrl-C (SIGINT) after writing a checkpoint (Interrupted)
//   141  killed by SIGPIPE: the reader of stdout went away (`| head -1`); the signal keeps its
//        default action, so a pipeline stops at once (the shell reports 128 + 13)
//   143  stopped by SIGTERM after writing a checkpoint (Interrupted; 128 + the signal, as a
//        shell reports a program the signal killed)
// Errors go to stderr as "<program> <command>: <message>"; stdout carries only results.
#pragma once

#include "output_fields.h"
#include "shared_options.h"
#include "textcnn/core/error.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <new>
#include <exception>
#include <functional>
#include <stdexcept>
#include <iostream>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace cli_common {

/// A bad option value found after parsing (exit code 2, like CLI11's own errors).
class UsageError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Work stopped by SIGINT or SIGTERM after writing a checkpoint (exit code 128 + signal:
/// 130 or 143).
class Interrupted : public std::runtime_error {
public:
    explicit Interrupted(int signal = 2) : std::runtime_error("interrupted"), exit_code(128 + signal) {}
    int exit_code;
};

/// Ends a command with an exit code of its own that is not an error (textcnn-mail classify:
/// 1 = spam); run_program() returns `code` and prints nothing.
struct ExitStatus {
    int code = 0;
};

/// A registered subcommand and what to run when it was given.
struct Command {
    CLI::App* app = nullptr;
    std::function<void()> run;
};

/// The program's arguments as run_program() parsed them (argv[0] included): what a training
/// run stores in its checkpoint so that `train --resume CKPT` alone can continue it.
inline std::vector<std::string>& program_arguments() {
    static std::vector<std::string> arguments;
    return arguments;
}

/// Inside a catch block: prints the exception in flight as "<name>: <message>" on stderr (not
/// for ExitStatus and Interrupted; control characters of the message escaped by
/// terminal_text(): it names files and labels of the data) and returns the exit code above for it.
inline int exit_code_of_current_exception(const std::string& name, int runtime_error_code = 1) {
    try {
        throw;
    } catch (const ExitStatus& status) {
        return status.code;
    } catch (const Interrupted& e) {
        return e.exit_code;
    } catch (const UsageError& e) {
        std::fprintf(stderr, "%s: %s\nRun with --help for more information.\n", name.c_str(),
                     terminal_text(e.what()).c_str());
        return 2;
    } catch (const textcnn::ConfigError& e) {
        std::fprintf(stderr, "%s: %s\n", name.c_str(), terminal_text(e.what()).c_str());
        return 2;
    } catch (const std::system_error& e) {
        // fmt::print's failed write to stdout: "cannot write to file: No space left on device".
        if (std::string_view(e.what()).starts_with("cannot write to file"))
            std::fprintf(stderr, "%s: stdout: write error: %s\n", name.c_str(), e.code().message().c_str());
        else
            std::fprintf(stderr, "%s: %s\n", name.c_str(), terminal_text(e.what()).c_str());
        return runtime_error_code;
    } catch (const std::bad_alloc&) {
        // An allocation refused (ulimit -v, a container's memory limit): say so, not "std::bad_alloc".
        std::fprintf(stderr, "%s: out of memory: an allocation failed (a memory limit such as ulimit -v is too "
                             "small for this data, model or batch size)\n", name.c_str());
        return 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s: %s\n", name.c_str(), terminal_text(e.what()).c_str());
        return runtime_error_code;
    }
}

/// After a command has run: its results reached standard output, or an IoError says they did
/// not ("stdout: write error: No space left on device"), so that a full disk or a closed file
/// is not a success (exit 0) with the results lost. A reader that went away is SIGPIPE (141).
inline void check_stdout_written() {
    errno = 0;
    const bool flushed = std::fflush(stdout) == 0;
    if (flushed && !std::ferror(stdout)) return;
    throw textcnn::IoError(std::string("stdout: write error") +
                           (!flushed && errno != 0 ? std::string(": ") + std::strerror(errno) : std::string()));
}

/// run_program() on arguments given as strings (argv[0] included).
int run_program(CLI::App& app, const std::vector<Command>& commands, const std::string& program,
                std::vector<std::string> arguments, int runtime_error_code = 1);

/// Parses argv into `app` (whose subcommands are `commands`), runs the chosen one and returns
/// the exit code above. `program` prefixes error messages ("textcnn"). A program whose exit
/// code 1 means something else (textcnn-mail: spam) gives another `runtime_error_code`.
inline int run_program(CLI::App& app, const std::vector<Command>& commands, const std::string& program, int argc,
                       char** argv, int runtime_error_code = 1) {
    auto command_name = [&]() -> std::string {
        for (const auto& c : commands)
            if (c.app->parsed()) return program + " " + c.app->get_name();
        return program;
    };
    program_arguments().assign(argv, argv + argc);
    check_numbers(app);        // strict numbers on every numeric option (shared_options.h)
    refuse_empty_values(app);  // and no empty text: `--dev "$UNSET"` is not "no dev data"
    // --help and --version print to std::cout: a full disk or a closed stdout is said, not exit 0.
    const auto shown = [&](int code) {
        std::cout.flush();
        if (std::cout) return code;
        std::fprintf(stderr, "%s: stdout: write error\n", program.c_str());
        return runtime_error_code;
    };
    {
        std::string command;
        const std::string empty = empty_value_in(app, std::vector<std::string>(argv + std::min(argc, 1), argv + argc), command);
        if (!empty.empty()) {
            std::fprintf(stderr, "%s%s: %s\nRun with --help for more information.\n", program.c_str(),
                         command.empty() ? "" : (" " + command).c_str(), empty.c_str());
            return 2;
        }
    }
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return shown(app.exit(e));
    } catch (const CLI::CallForAllHelp& e) {
        return shown(app.exit(e));
    } catch (const CLI::CallForVersion& e) {
        return shown(app.exit(e));
    } catch (const CLI::ParseError& e) {
        std::fprintf(stderr, "%s: %s\nRun with --help for more information.\n", command_name().c_str(),
                     terminal_text(e.what()).c_str());
        return 2;
    }
    for (const auto& c : commands) {
        if (!c.app->parsed()) continue;
        try {
            c.run();
            check_stdout_written();
            return 0;
        } catch (...) {
            return exit_code_of_current_exception(command_name(), runtime_error_code);
        }
    }
    return 2;  // unreachable with require_subcommand(1)
}

inline int run_program(CLI::App& app, const std::vector<Command>& commands, const std::string& program,
                       std::vector<std::string> arguments, int runtime_error_code) {
    std::vector<char*> argv;
    for (auto& a : arguments) argv.push_back(a.data());
    argv.push_back(nullptr);
    return run_program(app, commands, program, static_cast<int>(arguments.size()), argv.data(), runtime_error_code);
}

}  // namespace cli_common
