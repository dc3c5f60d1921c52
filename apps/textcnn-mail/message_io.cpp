#include "message_io.h"

#include "textcnn/mail/header_insertion.h"

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
    const bool ok = std::fwrite(message.data(), 1, at.offset, stdout) == at.offset &&
                    std::fwrite(lines.data(), 1, lines.size(), stdout) == lines.size() &&
                    std::fwrite(message.data() + at.offset, 1, message.size() - at.offset, stdout) ==
                        message.size() - at.offset &&
                    std::fflush(stdout) == 0;
    if (!ok) throw textcnn::IoError(std::string("stdout: write error: ") + std::strerror(errno));
}

}  // namespace mail_cli
