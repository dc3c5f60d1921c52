// textcnn-mail extract: prints the text the model reads from the message on stdin.
#include "commands.h"
#include "message_io.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace mail_cli {
namespace {

void run_extract(std::size_t max_body_bytes) {
    const MessageInput input = read_stdin();
    if (!input.error.empty()) throw textcnn::IoError("stdin: " + input.error);
    textcnn::mail::MailTextOptions options;
    options.max_body_bytes = max_body_bytes;
    const std::string text = textcnn::mail::extract_mail_text(input.bytes, options);
    std::fwrite(text.data(), 1, text.size(), stdout);
    if (std::fflush(stdout) != 0) throw textcnn::IoError(std::string("stdout: write error: ") + std::strerror(errno));
}

}  // namespace

Command add_extract_command(CLI::App& app) {
    auto max_body_bytes = std::make_shared<std::size_t>(textcnn::mail::MailTextOptions{}.max_body_bytes);
    CLI::App* cmd = app.add_subcommand("extract", "Print the text the model reads from the message on stdin");
    add_max_body_bytes_option(*cmd, *max_body_bytes);
    return {cmd, [max_body_bytes] { run_extract(*max_body_bytes); }};
}

}  // namespace mail_cli
