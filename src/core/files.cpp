#include "textcnn/core/files.h"

#include "textcnn/core/error.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace textcnn {

namespace {

std::string system_error(const std::string& path, const std::string& what, int error) {
    return path + ": " + what + ": " + std::strerror(error);
}

const char* kind_of(mode_t mode) {
    if (S_ISFIFO(mode)) return "a FIFO";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    if (S_ISSOCK(mode)) return "a socket";
    return "not a plain file";
}

void check_mode(const std::string& path, std::string_view what, mode_t mode) {
    if (S_ISREG(mode)) return;
    if (S_ISDIR(mode)) throw IoError(path + ": is a directory, not a " + std::string(what));
    const bool vowel = !what.empty() && std::string_view("aeiou").find(what.front()) != std::string_view::npos;
    throw IoError(path + ": not a regular file (" + kind_of(mode) + "); " + (vowel ? "an " : "a ") + std::string(what) +
                  " must be a regular file");
}

}  // namespace

void require_regular_file(const std::string& path, std::string_view what) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) throw IoError(system_error(path, "cannot open", errno));
    check_mode(path, what, st.st_mode);
}

int open_regular_file(const std::string& path, std::string_view what, std::uint64_t& size) {
    // O_NONBLOCK: opening a FIFO with no writer would otherwise wait forever. It has no effect
    // on reading a regular file, the only kind let through.
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) throw IoError(system_error(path, "cannot open", errno));
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        const int error = errno;
        ::close(fd);
        throw IoError(system_error(path, "cannot read", error));
    }
    try {
        check_mode(path, what, st.st_mode);
    } catch (...) {
        ::close(fd);
        throw;
    }
    size = static_cast<std::uint64_t>(st.st_size);
    return fd;
}

void write_file_atomically(const std::string& path, std::span<const std::uint8_t> bytes) {
    const std::string tmp = path + ".tmp." + std::to_string(::getpid());
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) throw IoError(system_error(path, "cannot create temporary file " + tmp, errno));
    // Every failure from here on removes the temporary before throwing.
    auto fail = [&](const std::string& step, int error, bool close_fd) {
        if (close_fd) ::close(fd);
        ::unlink(tmp.c_str());
        throw IoError(system_error(path, step, error));
    };
    std::size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            fail("cannot write " + tmp, errno, true);
        }
        if (n == 0) fail("cannot write " + tmp, EIO, true);
        done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0) fail("cannot flush " + tmp, errno, true);
    if (::close(fd) != 0) fail("cannot close " + tmp, errno, false);
    if (::rename(tmp.c_str(), path.c_str()) != 0) fail("cannot rename " + tmp + " to it", errno, false);
    // Make the rename itself durable (best effort: some file systems refuse to open directories).
    std::filesystem::path dir = std::filesystem::path(path).parent_path();
    if (dir.empty()) dir = std::filesystem::path(".");
    const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd >= 0) {
        ::fsync(dir_fd);
        ::close(dir_fd);
    }
}

void write_file_atomically(const std::string& path, std::string_view text) {
    write_file_atomically(path, std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

}  // namespace textcnn
