#include "shared_options.h"

#include "cli_main.h"

#include "textcnn/core/error.h"
#include "textcnn/core/files.h"
#include "textcnn/nn/training_settings.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace cli_common {

CLI::Option* add_checked_option(CLI::App& command, const std::string& name, std::string& value, const std::string& help,
                                const std::vector<std::string>& names, std::function<void(const std::string&)> check) {
    std::string listed;
    for (const auto& n : names) listed += (listed.empty() ? "" : " | ") + n;
    const CLI::Validator validator(
        [check = std::move(check)](std::string& given) -> std::string {
            try {
                check(given);
            } catch (const textcnn::ConfigError& e) {
                return e.what();
            }
            return {};
        },
        "", "");
    return command.add_option(name, value, help + ": " + listed)->check(validator)->capture_default_str();
}

CLI::Option* add_optimizer_option(CLI::App& command, std::string& optimizer) {
    return add_checked_option(command, "--optimizer", optimizer,
                              "Optimizer, with its usual learning rate, rho and epsilon (see --lr)",
                              textcnn::OptimizerSettings::names(),
                              [](const std::string& name) { (void)textcnn::OptimizerSettings::defaults_for(name); });
}

const std::vector<std::string>& output_formats() {
    static const std::vector<std::string> formats = {"tsv", "csv", "jsonl"};
    return formats;
}

CLI::Option* add_format_option(CLI::App& command, std::string& format, const std::string& help) {
    return add_checked_option(command, "--format", format, help, output_formats(), [](const std::string& name) {
        const auto& known = output_formats();
        if (std::find(known.begin(), known.end(), name) == known.end())
            throw textcnn::unknown_name("format", name, known);
    });
}

std::string read_input_text(const std::string& path, const std::string& what) {
    constexpr std::uint64_t max_bytes = std::uint64_t{1} << 30;
    const auto bytes = path == "-" ? textcnn::read_standard_input(what, max_bytes)
                                   : textcnn::read_regular_file(path, what, max_bytes);
    return std::string(bytes.begin(), bytes.end());
}

std::vector<std::string> list_elements(const std::string& value) {
    std::vector<std::string> elements(1);
    for (char c : value) {
        if (c == ',') elements.emplace_back();
        else elements.back() += c;
    }
    return elements;
}

void check_one_standard_input(const std::vector<std::pair<std::string, std::string>>& inputs) {
    std::string first;
    for (const auto& [option, value] : inputs) {
        if (value != "-") continue;
        if (!first.empty())
            throw UsageError(first + " and " + option + " both read standard input ('-'); only one input can");
        first = option;
    }
}

bool equal_ignoring_case(std::string_view a, std::string_view b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
        return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
    });
}

namespace {

// `path` with its symbolic links followed, even a dangling one (whose target does not exist
// yet: a write through it creates the target), made absolute and normal.
std::filesystem::path resolved(const std::filesystem::path& path) {
    namespace fs = std::filesystem;
    fs::path p = fs::absolute(path);
    std::error_code ec;
    for (int hops = 0; hops < 40 && fs::is_symlink(fs::symlink_status(p, ec)); ++hops) {
        const fs::path target = fs::read_symlink(p, ec);
        if (ec) break;
        p = target.is_absolute() ? target : p.parent_path() / target;
    }
    const fs::path canonical = fs::weakly_canonical(p, ec);
    return ec ? p.lexically_normal() : canonical;
}

// Whether standard input is the regular file at `path` (an input given as "-" and redirected
// from the file an output would replace).
bool standard_input_is(const std::string& path) {
    struct stat in {}, out {};
    return ::fstat(STDIN_FILENO, &in) == 0 && S_ISREG(in.st_mode) && ::stat(path.c_str(), &out) == 0 &&
           in.st_dev == out.st_dev && in.st_ino == out.st_ino;
}

}  // namespace

bool same_file(const std::string& a, const std::string& b) {
    namespace fs = std::filesystem;
    std::error_code ea, eb;
    const auto sa = fs::status(a, ea), sb = fs::status(b, eb);
    const bool a_exists = !ea && fs::exists(sa), b_exists = !eb && fs::exists(sb);
    if (a_exists && b_exists) {
        if (!fs::is_regular_file(sa) || !fs::is_regular_file(sb)) return false;
        std::error_code e;
        return fs::equivalent(a, b, e) && !e;
    }
    return resolved(a) == resolved(b);
}

void check_distinct_files(const std::vector<std::pair<std::string, std::string>>& outputs,
                          const std::vector<std::pair<std::string, std::string>>& inputs) {
    // No output here means standard output by "-" (a user who writes it expects that, and
    // would get a file named "-"); an input "-" is standard input, which may have been
    // redirected from the file, or, for an option that reads only files (quantize --model,
    // --embeddings, --resume), the file named "-": both are checked.
    for (std::size_t i = 0; i < outputs.size(); ++i) {
        const auto& [option, path] = outputs[i];
        if (path.empty()) continue;
        if (path == "-")
            throw UsageError(fmt::format("{} -: this output is a file, not standard output; give it a name (./- for a "
                                         "file named '-')",
                                         option));
        for (const auto& [input_option, input] : inputs) {
            if (input.empty()) continue;
            const bool redirected = input == "-" && standard_input_is(path);
            if (redirected || same_file(path, input))
                throw UsageError(fmt::format("{} {} is also {}{}: the output would overwrite it", option, path,
                                             input_option, redirected ? " (standard input)" : ""));
        }
        for (std::size_t j = 0; j < i; ++j)
            if (!outputs[j].second.empty() && same_file(path, outputs[j].second))
                throw UsageError(fmt::format("{} {} is also {}: one output would overwrite the other", option, path,
                                             outputs[j].first));
    }
}

void check_outside_directories(const std::vector<std::pair<std::string, std::string>>& outputs,
                               const std::vector<std::pair<std::string, std::string>>& directories) {
    for (const auto& [option, path] : outputs) {
        if (path.empty()) continue;
        const std::filesystem::path file = resolved(path);
        for (const auto& [dir_option, dir] : directories) {
            if (dir.empty()) continue;
            const std::filesystem::path folder = resolved(dir);
            const auto [f, d] = std::mismatch(file.begin(), file.end(), folder.begin(), folder.end());
            if (d == folder.end() && f != file.end())
                throw UsageError(fmt::format("{} {} lies inside {} {}: the output would be read as an input next time "
                                             "or overwrite one",
                                             option, path, dir_option, dir));
        }
    }
}

void check_standard_input_once(const std::vector<std::string>& files) {
    const auto n = std::count(files.begin(), files.end(), std::string("-"));
    if (n > 1)
        throw UsageError("standard input ('-') is named " + std::to_string(n) +
                         " times among the input files; it can be read only once");
}

void check_input_files_open(const std::vector<std::string>& files) {
    for (const std::string& path : files) {
        if (path == "-") continue;
        std::error_code ec;
        if (std::filesystem::is_directory(path, ec)) throw textcnn::IoError(path + ": is a directory, not a data file");
        const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) throw textcnn::IoError(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
        ::close(fd);
    }
}

void check_numbers(CLI::App& app) {
    for (CLI::Option* option : app.get_options()) {
        const std::string type = option->get_type_name();
        // The element type: unsigned options are size_t or uint64_t here, signed ones int or
        // long, floating ones double or float (read as double: a float option's range is
        // CLI11's to refuse).
        std::function<std::string(std::string&)> check;
        if (type.rfind("UINT", 0) == 0) {
            check = [](std::string& input) {
                std::uint64_t v;
                return strict_number(input, v);
            };
        } else if (type.rfind("INT", 0) == 0) {
            check = [](std::string& input) {
                std::int64_t v;
                return strict_number(input, v);
            };
        } else if (type.rfind("FLOAT", 0) == 0) {
            check = [](std::string& input) {
                double v;
                return strict_number(input, v);
            };
        }
        if (check) option->check(CLI::Validator(check, ""));
    }
    for (CLI::App* sub : app.get_subcommands({})) check_numbers(*sub);
}

namespace {

const std::string empty_value_message =
    "the value is empty (an unset shell variable?); leave the option out for its default";
const std::string empty_required_message = "the value is empty (an unset shell variable?); the option needs one";

// What an empty value of `option` gets said: a required option has no default to fall back on.
const std::string& empty_message_for(const CLI::Option& option) {
    return option.get_required() ? empty_required_message : empty_value_message;
}

// The option `name` ("--dev", "-o") of `command` or, given before the subcommand, of `app`.
const CLI::Option* option_named(const CLI::App& app, const CLI::App* command, const std::string& name) {
    if (command)
        if (const CLI::Option* o = command->get_option_no_throw(name)) return o;
    return app.get_option_no_throw(name);
}

}  // namespace

std::string empty_value_in(const CLI::App& app, const std::vector<std::string>& arguments, std::string& command_name) {
    const CLI::App* command = nullptr;
    for (std::size_t i = 0; i < arguments.size(); ++i) {
        const std::string& a = arguments[i];
        if (a == "--") break;  // what follows is positional: the validators judge it
        if (!command && !a.starts_with("-")) {
            for (const CLI::App* sub : app.get_subcommands({}))
                if (sub->get_name() == a) command = sub;
            if (command) command_name = a;
            continue;
        }
        // "--name=" and "-x=": CLI11 took the next argument as a list option's value (`--widths=
        // --epochs 1`), turned a flag on (`--no-header="$UNSET"`), or wrote a file named "=".
        const std::size_t equals = a.find('=');
        const bool long_form = a.starts_with("--") && a.size() > 2;
        const bool short_form = !long_form && a.size() >= 2 && a[0] == '-' && a[1] != '-' && equals == 2;
        if ((long_form || short_form) && equals != std::string::npos && equals + 1 == a.size()) {
            const std::string name = a.substr(0, equals);
            if (const CLI::Option* o = option_named(app, command, name)) return name + ": " + empty_message_for(*o);
            continue;
        }
        // "" after an option that takes a value: said before a choice option's own "not in {...}".
        if (a.empty() && i > 0) {
            const std::string& before = arguments[i - 1];
            if (before.size() >= 2 && before[0] == '-' && before.find('=') == std::string::npos)
                if (const CLI::Option* o = option_named(app, command, before); o && o->get_type_size() != 0)
                    return before + ": " + empty_message_for(*o);
        }
    }
    return {};
}

void refuse_empty_values(CLI::App& app) {
    for (CLI::Option* option : app.get_options()) {
        if (option->get_type_size() == 0) continue;  // a flag
        const std::string type = option->get_type_name();
        if (type.rfind("UINT", 0) == 0 || type.rfind("INT", 0) == 0 || type.rfind("FLOAT", 0) == 0)
            continue;  // check_numbers: "'' is not a number"
        const std::string message =
            option->nonpositional() ? empty_message_for(*option) : "an empty value (an unset shell variable?)";
        option->check(CLI::Validator([message](std::string& input) { return input.empty() ? message : std::string(); }, ""));
    }
    for (CLI::App* sub : app.get_subcommands({})) refuse_empty_values(*sub);
}

}  // namespace cli_common
