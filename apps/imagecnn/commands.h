// The imagecnn subcommands. Each add_*_command() registers its CLI11 subcommand and returns
// the function main() runs when that subcommand was given.
//
// Exit codes and error messages: apps/common/cli_main.h.
#pragma once

#include "cli_main.h"
#include "textcnn/nn/architecture.h"

#include <CLI/CLI.hpp>

#include <string>

namespace imagecnn {

using cli_common::Command;
using cli_common::UsageError;

Command add_train_command(CLI::App& app);
Command add_eval_command(CLI::App& app);
Command add_predict_command(CLI::App& app);
Command add_summary_command(CLI::App& app);
Command add_filter_command(CLI::App& app);

/// "--threads": 0 = every core. Returns the option so commands can share the text.
void add_threads_option(CLI::App& command, std::size_t& threads);
/// "--max-pixels": the pixel budget of decoded images (textcnn::decode_image), default the
/// library's. check_max_pixels() turns 0 into a UsageError.
void add_max_pixels_option(CLI::App& command, std::size_t& max_pixels);
void check_max_pixels(std::size_t max_pixels);

/// The network of an architecture choice: --arch NAME (built-in) or --arch-file FILE.
struct ArchitectureChoice {
    std::string name;
    std::string file;
};
void add_architecture_options(CLI::App& command, ArchitectureChoice& choice, bool with_default);
/// The chosen architecture; an unknown built-in name is a UsageError.
textcnn::Architecture load_architecture(const ArchitectureChoice& choice);

}  // namespace imagecnn
