// The imagecnn subcommands. Each add_*_command() registers its CLI11 subcommand and returns
// the function main() runs when that subcommand was given.
//
// Exit codes: 0 success, 1 runtime or input error (bad file, corrupt model), 2 usage error
// (unknown option, bad option value). Errors go to stderr as "imagecnn <command>: <message>".
#pragma once

#include "textcnn/architecture.h"

#include <CLI/CLI.hpp>

#include <functional>
#include <stdexcept>
#include <string>

namespace imagecnn {

/// A bad option value found after parsing (exit code 2, like CLI11's own errors).
class UsageError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct Command {
    CLI::App* app = nullptr;
    std::function<void()> run;
};

Command add_train_command(CLI::App& app);
Command add_eval_command(CLI::App& app);
Command add_predict_command(CLI::App& app);
Command add_summary_command(CLI::App& app);
Command add_filter_command(CLI::App& app);

/// "--threads": 0 = every core. Returns the option so commands can share the text.
void add_threads_option(CLI::App& command, std::size_t& threads);

/// The network of an architecture choice: --arch NAME (built-in) or --arch-file FILE.
struct ArchitectureChoice {
    std::string name;
    std::string file;
};
void add_architecture_options(CLI::App& command, ArchitectureChoice& choice, bool with_default);
/// The chosen architecture; an unknown built-in name is a UsageError.
textcnn::Architecture load_architecture(const ArchitectureChoice& choice);

}  // namespace imagecnn
