#include "textcnn/mail/mail_sources.h"

#include "textcnn/core/error.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <system_error>

namespace textcnn::mail {

std::vector<std::filesystem::path> message_files(const std::filesystem::path& dir,
                                                 std::vector<std::filesystem::path>* hidden) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (!fs::is_directory(dir, ec))
        throw IoError(dir.string() + (fs::exists(fs::symlink_status(dir, ec)) ? ": not a directory"
                                                                               : ": no such file or directory"));
    std::vector<fs::path> files;
    fs::recursive_directory_iterator it(dir, ec), end;
    if (ec) throw IoError(dir.string() + ": " + ec.message());
    while (it != end) {
        const fs::path entry = it->path();
        const std::string name = entry.filename().string();
        // The error-code overloads: an entry whose status cannot be read (a symbolic link to
        // itself, a dangling one) is listed, and read_bytes() names what is wrong with it.
        std::error_code status_error;
        const bool directory = it->is_directory(status_error);
        std::error_code link_error;
        const bool link = it->is_symlink(link_error);
        if (name.starts_with(".") || (directory && name == "tmp")) {
            if (directory) it.disable_recursion_pending();
            if (hidden && name.starts_with(".")) hidden->push_back(entry);
        } else if (!directory || link) {
            // A link to a folder is not followed (a loop would never end) but listed:
            // read_bytes() says what it is, rather than its messages vanishing unsaid.
            files.push_back(entry);
        }
        // A folder that cannot be opened ends the iteration with an error: said, not taken for
        // the end (an unreadable subfolder once cut the walk short, silently, training on 4 of
        // 20 messages).
        it.increment(ec);
        if (ec)
            throw IoError((directory ? entry : dir).string() + ": cannot read the folder: " + ec.message());
    }
    std::sort(files.begin(), files.end());
    if (hidden) std::sort(hidden->begin(), hidden->end());
    return files;
}

std::filesystem::path same_file_key(const std::filesystem::path& path) {
    std::error_code ec;
    std::filesystem::path key = std::filesystem::weakly_canonical(path, ec);
    if (!ec) return key;
    key = std::filesystem::absolute(path, ec);
    return (ec ? path : key).lexically_normal();
}

std::size_t drop_repeated_files(std::vector<std::filesystem::path>& files) {
    std::set<std::filesystem::path> seen;
    const auto repeated = [&](const std::filesystem::path& file) { return !seen.insert(same_file_key(file)).second; };
    const auto kept = std::remove_if(files.begin(), files.end(), repeated);
    const auto removed = static_cast<std::size_t>(files.end() - kept);
    files.erase(kept, files.end());
    return removed;
}

std::string read_bytes(const std::filesystem::path& path) {
    // Opening a FIFO would wait for a writer, and a device may never end: regular files only.
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    if (ec) throw IoError(path.string() + ": " + ec.message());
    if (std::filesystem::is_directory(status))
        throw IoError(path.string() + (std::filesystem::is_symlink(std::filesystem::symlink_status(path, ec))
                                           ? ": a symbolic link to a folder, not followed: its messages are not read "
                                             "(give the folder itself)"
                                           : ": is a directory, not a message"));
    if (!std::filesystem::is_regular_file(status))
        throw IoError(path.string() + ": not a regular file (a FIFO, socket or device), not a message");
    std::ifstream in(path, std::ios::binary);
    if (!in) throw IoError(path.string() + ": cannot open: " + std::strerror(errno));
    const auto size = std::filesystem::file_size(path, ec);
    std::string bytes;
    if (!ec) bytes.reserve(size);
    char buffer[1 << 16];
    while (in.read(buffer, sizeof buffer) || in.gcount() > 0) bytes.append(buffer, static_cast<std::size_t>(in.gcount()));
    if (in.bad()) throw IoError(path.string() + ": read error");
    return bytes;
}

std::vector<std::string_view> split_mbox(std::string_view mbox) {
    std::vector<std::size_t> starts;
    bool after_empty = true;
    for (std::size_t pos = 0; pos < mbox.size();) {
        const std::size_t newline = mbox.find('\n', pos);
        const std::size_t end = newline == std::string_view::npos ? mbox.size() : newline + 1;
        const std::string_view line = mbox.substr(pos, end - pos);
        if (after_empty && line.starts_with("From ")) starts.push_back(pos);
        after_empty = line == "\n" || line == "\r\n";
        pos = end;
    }
    std::vector<std::string_view> messages;
    for (std::size_t i = 0; i < starts.size(); ++i) {
        const std::size_t end = i + 1 < starts.size() ? starts[i + 1] : mbox.size();
        messages.push_back(mbox.substr(starts[i], end - starts[i]));
    }
    return messages;
}

}  // namespace textcnn::mail
