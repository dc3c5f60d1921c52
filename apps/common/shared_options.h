// Options that textcnn and imagecnn share by name, values and messages: --optimizer and --init
// checked against the lists the library knows, --format tsv|csv|jsonl, and "-" for standard
// input. A value outside a list is refused while the command line is parsed, with exit code 2
// and the same message in both programs:
//   textcnn train: --optimizer: unknown optimizer 'adagrad' (known: adadelta, adam, rmsprop, sgd)
#pragma once

#include <CLI/CLI.hpp>

#include <charconv>
#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <string_view>
#include <system_error>
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

/// `input` read strictly as a T into `value`: decimal digits only (a leading '-' for signed
/// and floating-point types, a fraction and an exponent for floating-point ones), no sign '+',
/// no hexadecimal, no space before or after, within T's range, finite. Returns "" when it is
/// one, else what is wrong ("'0x10' is not a whole number of 0 or more", "'1e99' is too
/// large", "'1e-99' is too close to 0", "'nan' is not a finite number"). CLI11's own conversion
/// takes "-1" into an unsigned option as 2^64 - 1 (`--epochs -1` trained for ever), clamps
/// 10^23 to 2^64 - 1, reads hex, "+3", " 5", "nan" and "" (as 0).
template <typename T>
std::string strict_number(const std::string& input, T& value) {
    const char* first = input.data();
    const char* last = first + input.size();
    std::from_chars_result r{};
    if constexpr (std::is_integral_v<T>) r = std::from_chars(first, last, value, 10);
    else r = std::from_chars(first, last, value, std::chars_format::general);
    const std::string quoted = "'" + input + "'";
    if (r.ec == std::errc::result_out_of_range) {
        if constexpr (std::is_floating_point_v<T>) {
            // A magnitude below the type's smallest (1e-50 for a float) is out of range too.
            long double wide = 0;
            const auto w = std::from_chars(first, last, wide, std::chars_format::general);
            const auto e = input.find_first_of("eE");
            const bool tiny = w.ec == std::errc() ? std::fabs(wide) < 1
                                                  : e != std::string::npos && input.compare(e + 1, 1, "-") == 0;
            if (tiny) return quoted + " is too close to 0";
        }
        return quoted + " is too " + (input.starts_with('-') ? "small" : "large") + " (the limits are " +
               CLI::detail::to_string(std::numeric_limits<T>::lowest()) + " and " +
               CLI::detail::to_string(std::numeric_limits<T>::max()) + ")";
    }
    if (r.ec != std::errc() || r.ptr != last)
        return quoted + (std::is_unsigned_v<T> ? " is not a whole number of 0 or more"
                         : std::is_integral_v<T> ? " is not a whole number"
                                                 : " is not a number");
    if constexpr (std::is_floating_point_v<T>)
        if (!std::isfinite(value)) return quoted + " is not a finite number";
    return {};
}

/// Numeric checks whose messages name what is wrong, in place of CLI11's Range, which calls
/// a word "not in range" and prints the largest double for an open end:
///   textcnn train: --batch: 0 is not positive
///   textcnn train: --ensemble: 'x' is not a whole number of 0 or more
///   textcnn train: --dropout: 0.97 is not between 0 and 0.9
/// T is the option's type (whole numbers for integral types); read as strict_number() does.
/// Min and max are inclusive.
template <typename T>
CLI::Validator in_range(T min, T max) {
    return CLI::Validator(
        [min, max](std::string& input) -> std::string {
            T value{};
            // A minus sign on an unsigned option: the range says more than "0 or more".
            if (std::is_unsigned_v<T> && input.starts_with('-') && input.size() > 1)
                return input + " is not between " + CLI::detail::to_string(min) + " and " + CLI::detail::to_string(max);
            const std::string outside =
                input + " is not between " + CLI::detail::to_string(min) + " and " + CLI::detail::to_string(max);
            // Beyond the type as well (--threads 99999999999999999999): the option's own limits
            // say more than the type's.
            if (std::string error = strict_number(input, value); !error.empty()) {
                const std::string beyond = "'" + input + "' is too ";
                return error.starts_with(beyond + "large") || error.starts_with(beyond + "small") ? outside : error;
            }
            return value < min || value > max ? outside : std::string();
        },
        "[" + CLI::detail::to_string(min) + " - " + CLI::detail::to_string(max) + "]");
}
/// A number above 0 (for integral T: 1 or more), read as strict_number() does.
template <typename T>
CLI::Validator positive() {
    return CLI::Validator(
        [](std::string& input) -> std::string {
            T value{};
            if (std::is_unsigned_v<T> && input.starts_with('-') && input.size() > 1) return input + " is not positive";
            if (std::string error = strict_number(input, value); !error.empty()) return error;
            return value > T{0} ? std::string() : input + " is not positive";
        },
        "POSITIVE");
}

/// A number of 0 or more, read as strict_number() does (for floating-point options whose 0 means
/// "off": --max-norm, --clip, --weight-decay).
template <typename T>
CLI::Validator non_negative() {
    return CLI::Validator(
        [](std::string& input) -> std::string {
            T value{};
            if (std::string error = strict_number(input, value); !error.empty()) return error;
            return value >= T{0} ? std::string() : input + " is not 0 or more";
        },
        "NON-NEGATIVE");
}

/// The elements of a list option's value, "3,4,5": split at every comma, empty elements kept
/// ("3,,4" has three, the second empty).
std::vector<std::string> list_elements(const std::string& value);

/// A list option, "3,4,5": `name` on `command`, bound to `values`, which become the elements of
/// every value given (comma-separated; space-separated and repeated values too, as CLI11 takes
/// a list), each read by `read_element` ("" when it is one, else what is wrong). CLI11's own
/// ->delimiter(',') drops empty elements without a word ("3,,4" was read as 3,4, "1,,28,28" as
/// three numbers); here an empty element is refused, and so is a whole list `check_list` finds
/// wrong ("" when it is right), both while the command line is parsed (exit code 2):
///   textcnn train: --widths: empty element in '3,,4'
///   textcnn train: --widths: width 3 is given twice (...)
/// The default shown in the help is `values` (when not empty) as CLI11 shows a list: [3,4,5].
template <typename T>
CLI::Option* add_list_option(CLI::App& command, const std::string& name, std::vector<T>& values,
                             const std::string& help, const std::string& type_name,
                             std::function<std::string(const std::string&, T&)> read_element,
                             std::function<std::string(const std::vector<T>&)> check_list = {}) {
    const CLI::Validator elements(
        [read_element](std::string& value) -> std::string {
            if (value.empty()) return "an empty list";
            for (const std::string& element : list_elements(value)) {
                if (element.empty()) return "empty element in '" + value + "'";
                T read{};
                if (std::string error = read_element(element, read); !error.empty()) return error;
            }
            return {};
        },
        "");
    auto* option = command.add_option_function<std::vector<std::string>>(
        name,
        [&values, name, read_element, check_list](const std::vector<std::string>& given) {
            std::vector<T> list;
            for (const std::string& value : given)
                for (const std::string& element : list_elements(value)) {
                    T read{};
                    (void)read_element(element, read);  // checked by the validator
                    list.push_back(std::move(read));
                }
            if (check_list)
                if (std::string error = check_list(list); !error.empty()) throw CLI::ValidationError(name, error);
            values = std::move(list);
        },
        help);
    option->check(elements)->type_name(type_name);
    if (!values.empty()) option->default_str(CLI::detail::to_string(values));
    return option;
}

/// A whole number above 0 into `value` (a list's element): strict_number()'s message, or
/// "0 is not positive".
template <typename T>
std::string positive_element(const std::string& input, T& value) {
    if (std::string error = strict_number(input, value); !error.empty()) return error;
    return value > T{0} ? std::string() : input + " is not positive";
}

/// strict_number() on every numeric option of `app` and its subcommands (by CLI11's type name:
/// UINT, INT, FLOAT, and vectors of them element by element), the options checked above included
/// (their own message comes first).
void check_numbers(CLI::App& app);

/// Refuses an empty value ("") for every option and argument of `app` and its subcommands that
/// takes one and is not numeric (those are check_numbers()'): `--dev ""` (an unset shell
/// variable) trained without dev data, `--report ""` wrote no report, and neither said so.
void refuse_empty_values(CLI::App& app);

/// What refuse_empty_values()' validators cannot see, read from the arguments (argv[0] left out)
/// before CLI11 parses them: an empty value given as "--name=" or "-x=" (CLI11 took the next
/// argument as a list option's value, turned a flag on, or took "=" as a file name) and "" after
/// an option whose own check would speak first ("--activation:  not in {...}"). Returns
/// "--widths: the value is empty ..." for the first one, or "" when there is none; sets
/// `command_name` to the subcommand given, if any.
std::string empty_value_in(const CLI::App& app, const std::vector<std::string>& arguments, std::string& command_name);

/// The whole of a text input: "-" is standard input, anything else a regular file (IoError
/// otherwise, naming it as a `what`, "JSON file").
std::string read_input_text(const std::string& path, const std::string& what);

/// UsageError when more than one of `inputs` (option name, value) is "-": standard input can
/// be read only once.
void check_one_standard_input(const std::vector<std::pair<std::string, std::string>>& inputs);

/// Whether `a` and `b` are equal but for the case of ASCII letters ("Pos" and "pos").
bool equal_ignoring_case(std::string_view a, std::string_view b);

/// Whether paths `a` and `b` name one regular file: by identity when both exist (links
/// followed), else by their absolute paths with "." and ".." resolved.
bool same_file(const std::string& a, const std::string& b);

/// UsageError when an output file would overwrite an input or another output: `outputs` and
/// `inputs` are (option name, path) pairs, "" (not given) left out; an input "-" is standard
/// input, a clash when it was redirected from an output's file. Files that exist are compared
/// by identity (a symbolic or hard link to an input is that input), others by their absolute
/// path with links (even dangling ones), "." and ".." resolved; devices and other files that
/// are not regular (/dev/null twice) may repeat. "--model data.csv is also --train: the
/// output would overwrite it". An output named "-" is refused too: none of these writes
/// standard output (./- names a file "-").
void check_distinct_files(const std::vector<std::pair<std::string, std::string>>& outputs,
                          const std::vector<std::pair<std::string, std::string>>& inputs);

/// UsageError when an output (option name, path) lies inside one of `directories` (option
/// name, directory read for inputs: textcnn-mail's --maildir), links followed.
void check_outside_directories(const std::vector<std::pair<std::string, std::string>>& outputs,
                               const std::vector<std::pair<std::string, std::string>>& directories);

/// UsageError when standard input ("-") is among the input `files` more than once: it can be
/// read only once, and a second "-" would read as empty.
void check_standard_input_once(const std::vector<std::string>& files);

/// Before any output is written: an IoError naming the first of `files` ("-" aside) that cannot
/// be opened for reading, as the document reader words it ("<path>: cannot open: No such file
/// or directory", "<path>: is a directory, not a data file"), so that a command over several
/// files does not write the lines of the first ones before it fails on a later one. A FIFO is
/// opened without waiting for its writer.
void check_input_files_open(const std::vector<std::string>& files);

}  // namespace cli_common
