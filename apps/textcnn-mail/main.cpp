// textcnn-mail: a spam filter on raw e-mail with a textcnn model.
//   textcnn-mail train | classify | extract  (each with --help)
#include "commands.h"
#include "shared_options.h"
#include "text_training_cli.h"

#include "textcnn/core/error.h"
#include "textcnn/core/runtime.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace mail_cli {

namespace {
std::string joined_arguments;
}

std::string command_line() { return joined_arguments; }

void add_max_body_bytes_option(CLI::App& command, std::size_t& bytes) {
    command
        .add_option("--max-body-bytes", bytes,
                    "Body text kept per message, in UTF-8 bytes (0 = all); stored in the model, which classify follows")
        ->capture_default_str();
}

textcnn::mail::MailTextOptions mail_text_options_of(const textcnn::TextClassifier& model, const std::string& model_path) {
    textcnn::mail::MailTextOptions options;
    const auto it = model.metadata.find(max_body_bytes_key);
    if (it == model.metadata.end()) return options;
    std::size_t bytes = 0;
    const auto [end, ec] = std::from_chars(it->second.data(), it->second.data() + it->second.size(), bytes);
    if (ec != std::errc() || end != it->second.data() + it->second.size())
        throw textcnn::InputError(fmt::format("{}: model metadata {}: '{}' is not a number", model_path, max_body_bytes_key, it->second));
    options.max_body_bytes = bytes;
    return options;
}

std::size_t spam_label_index(const textcnn::TextClassifier& model, const std::string& model_path) {
    const auto& labels = model.labels();
    for (std::size_t i = 0; i < labels.size(); ++i)
        if (cli_common::equal_ignoring_case(labels[i], "spam")) return i;
    throw textcnn::InputError(fmt::format("{}: no label 'spam' among the model's labels ({}): train it on DIR/spam/ "
                                          "and DIR/ham/ folders",
                                          model_path, fmt::join(labels, ", ")));
}

}  // namespace mail_cli

int main(int argc, char** argv) {
    using namespace mail_cli;
    for (int i = 0; i < argc; ++i) joined_arguments += (i ? " " : "") + std::string(argv[i]);
    CLI::App app{"textcnn-mail: a spam filter on raw e-mail (RFC 5322, MIME) with a textcnn model.\n"
                 "Exit codes: 0 ham or success, 1 spam (classify), 2 usage error, 3 other errors"};
    app.set_version_flag("--version", [] { return textcnn::build_info(); });
    app.require_subcommand(1);
    std::vector<Command> commands = {add_train_command(app), add_classify_command(app), add_extract_command(app)};
    // `train --resume CKPT` alone: the options of the run that wrote the checkpoint.
    std::vector<std::string> arguments(argv, argv + argc);
    try {
        arguments = cli_common::with_resumed_arguments(arguments, {"--maildir", "--mbox", "--csv"});
    } catch (...) {
        return cli_common::exit_code_of_current_exception("textcnn-mail train", error_exit_code);
    }
    // `classify` of one message (no --maildir) is a mail filter: even a command line it
    // refuses must not lose the message.
    // (Options may come before the subcommand: `textcnn-mail --threads 1 classify`.)
    const bool filter = std::find(arguments.begin() + 1, arguments.end(), "classify") != arguments.end() &&
                        std::none_of(arguments.begin(), arguments.end(), [](const std::string& a) {
                            return a == "--maildir" || a.starts_with("--maildir=") || a == "--help" || a == "-h";
                        });
    const int code = cli_common::run_program(app, commands, "textcnn-mail", std::move(arguments), error_exit_code);
    if (filter && code != 0 && code != 1 && !message_written()) {
        try {
            pass_through_unjudged();
        } catch (...) {
            return cli_common::exit_code_of_current_exception("textcnn-mail classify", error_exit_code);
        }
    }
    return code;
}
