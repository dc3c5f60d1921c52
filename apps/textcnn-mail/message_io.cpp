#include "message_io.h"

#include "output_fields.h"

#include "textcnn/mail/header_insertion.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <sys/stat.h>

namespace mail_cli {

MessageInput read_stdin() {
    MessageInput input;
    struct stat st {};
    if (fstat(fileno(stdin), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0)
        input.bytes.reserve(static_cast<std::size_t>(st.st_size));
    char buffer[1 << 16];
    for (;;) {
        const std::size_t n = std::fread(buffer, 1, sizeof buffer, stdin);
        input.bytes.append(buffer, n);
        if (n < sizeof buffer) {
            if (std::ferror(stdin)) input.error = std::strerror(errno);
            break;
        }
    }
    return input;
}

void write_with_fields(const std::string& message, const std::vector<std::pair<std::string, std::string>>& fields) {
    const textcnn::mail::HeaderInsertion at = textcnn::mail::find_header_insertion(message);
    const std::string lines = textcnn::mail::header_lines(at, fields);
    // Fields of these names the message already carries (an earlier filter's, or forged by the
    // sender: "X-Spam-Flag: NO" above ours, read first by a rule that takes the first) are
    // renamed X-Spam-Previous-*: "Previous-" goes in after their "X-Spam-".
    std::vector<std::string_view> names;
    for (const auto& field : fields) names.emplace_back(field.first);
    const std::vector<std::size_t> renamed = textcnn::mail::find_header_fields(message, names);
    constexpr std::size_t prefix = std::string_view("X-Spam-").size();  // every name in `fields` starts so
    constexpr std::string_view marker = "Previous-";
    std::size_t from = 0;
    bool ok = true;
    const auto copy = [&](std::size_t to) {
        ok = ok && std::fwrite(message.data() + from, 1, to - from, stdout) == to - from;
        from = to;
    };
    for (const std::size_t offset : renamed) {
        copy(offset + prefix);
        ok = ok && std::fwrite(marker.data(), 1, marker.size(), stdout) == marker.size();
    }
    copy(at.offset);
    ok = ok && std::fwrite(lines.data(), 1, lines.size(), stdout) == lines.size();
    copy(message.size());
    ok = ok && std::fflush(stdout) == 0;
    if (!ok) throw textcnn::IoError(std::string("stdout: write error: ") + std::strerror(errno));
    if (!renamed.empty())
        cli_common::print_stderr("warning: the message already carried {} (another filter's, or forged by its sender): "
                           "renamed X-Spam-Previous-*, so that the X-Spam-Flag and X-Spam-Score fields are this "
                           "filter's alone\n",
                   renamed.size() == 1 ? std::string("1 X-Spam-Flag or X-Spam-Score field")
                                       : fmt::format("{} X-Spam-Flag or X-Spam-Score fields", renamed.size()));
}

void warn_hidden(const std::string& dir, const std::vector<std::filesystem::path>& hidden) {
    cli_common::print_stderr("warning: {}: left out {} whose name starts with '.' (hidden; a folder's messages with it; first: "
                       "{})\n",
               cli_common::tsv_field(dir),
               hidden.size() == 1 ? std::string("1 entry") : fmt::format("{} entries", hidden.size()),
               cli_common::tsv_field(hidden.front().string()));
}

}  // namespace mail_cli
