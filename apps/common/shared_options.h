// Options that textcnn and imagecnn share by name, values and messages: --optimizer and --init
// checked against the lists the library knows, --format tsv|csv|jsonl, and "-" for standard
// input. A value outside a list is refused while the command line is parsed, with exit code 2
// and the same message in both programs:
//   textcnn train: --optimizer: unknown optimizer 'adagrad' (known: adadelta, adam, rmsprop, sgd)
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace cli_common {

/// Registers `name` (e.g. "--init") on `command`, bound to `value`, with its default shown in
/// the help: `help` followed by the names, " | "-separated. A value is accepted when `check`
/// does not throw; its textcnn::ConfigError's message is the error ("--init: " + message).
CLI::Option* add_checked_option(CLI::App& command, const std::string& name, std::string& value, const std::string& help,
                                const std::vector<std::string>& names, std::function<void(const std::string&)> check);

/// --optimizer: one of textcnn::OptimizerSettings::names().
CLI::Option* add_optimizer_option(CLI::App& command, std::string& optimizer);

/// The output formats of predict: tsv, csv, jsonl.
const std::vector<std::string>& output_formats();
/// --format: one of output_formats().
CLI::Option* add_format_option(CLI::App& command, std::string& format, const std::string& help);

/// Numeric checks whose messages name what is wrong, in place of CLI11's Range, which calls
/// a word "not in range" and prints the largest double for an open end:
///   textcnn train: --batch: 0 is not positive
///   textcnn train: --ensemble: 'x' is not a whole number
///   textcnn train: --dropout: 0.97 is not between 0 and 0.9
/// T is the option's type (whole numbers for integral types). Min and max are inclusive.
template <typename T>
CLI::Validator in_range(T min, T max) {
    return CLI::Validator(
        [min, max](std::string& input) -> std::string {
            T value{};
            if (!CLI::detail::lexical_cast(input, value))
                return "'" + input + "' is not " + (std::is_integral_v<T> ? "a whole number" : "a number");
            if (value < min || value > max)
                return input + " is not between " + CLI::detail::to_string(min) + " and " + CLI::detail::to_string(max);
            return {};
        },
        "[" + CLI::detail::to_string(min) + " - " + CLI::detail::to_string(max) + "]");
}
/// A number above 0 (for integral T: 1 or more).
template <typename T>
CLI::Validator positive() {
    return CLI::Validator(
        [](std::string& input) -> std::string {
            T value{};
            if (!CLI::detail::lexical_cast(input, value))
                return "'" + input + "' is not " + (std::is_integral_v<T> ? "a whole number" : "a number");
            return value > T{0} ? std::string() : input + " is not positive";
        },
        "POSITIVE");
}

/// The whole of a text input: "-" is standard input, anything else a regular file (IoError
/// otherwise, naming it as a `what`, "JSON file").
std::string read_input_text(const std::string& path, const std::string& what);

/// UsageError when more than one of `inputs` (option name, value) is "-": standard input can
/// be read only once.
void check_one_standard_input(const std::vector<std::pair<std::string, std::string>>& inputs);

}  // namespace cli_common
