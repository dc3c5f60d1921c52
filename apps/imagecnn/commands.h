// The imagecnn subcommands. Each add_*_command() registers its CLI11 subcommand and returns
// the function main() runs when that subcommand was given.
//
// Exit codes and error messages: apps/common/cli_main.h.
#pragma once

#include "cli_main.h"
#include "training_cli.h"
#include "textcnn/nn/architecture.h"

#include <CLI/CLI.hpp>

#include <string>

namespace imagecnn {

using cli_common::Command;
using cli_common::UsageError;
using cli_common::add_threads_option;

Command add_train_command(CLI::App& app);
Command add_eval_command(CLI::App& app);
Command add_predict_command(CLI::App& app);
Command add_summary_command(CLI::App& app);
Command add_filter_command(CLI::App& app);

/// "--max-pixels": the pixel budget of decoded images (textcnn::decode_image), default the
/// library's. check_max_pixels() turns 0 into a UsageError.
void add_max_pixels_option(CLI::App& command, std::size_t& max_pixels);
void check_max_pixels(std::size_t max_pixels);

/// The network of a command: --arch NAME (built-in; the default shown in the help when
/// `with_default`) or --arch-file FILE, into `name` and `file`.
void add_architecture_options(CLI::App& command, std::string& name, std::string& file, bool with_default);
/// UsageError naming --arch for an unknown built-in name (a file is checked when read).
void check_architecture_name(const std::string& name, const std::string& file);
/// The chosen architecture (image_network.h); an unknown built-in name is a UsageError.
textcnn::Architecture load_architecture(const std::string& name, const std::string& file);

}  // namespace imagecnn
