#include "textcnn/core/files.h"

#include "textcnn/core/error.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
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

// "a model file", "an IDX file".
std::string with_article(std::string_view what) {
    const bool vowel = !what.empty() && std::string_view("aeiouAEIOU").find(what.front()) != std::string_view::npos;
    return (vowel ? "an " : "a ") + std::string(what);
}

void check_mode(const std::string& path, std::string_view what, mode_t mode) {
    if (S_ISREG(mode)) return;
    if (S_ISDIR(mode)) throw IoError(path + ": is a directory, not " + with_article(what));
    throw IoError(path + ": not a regular file (" + kind_of(mode) + "); " + with_article(what) +
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

std::vector<std::uint8_t> read_regular_file(const std::string& path, std::string_view what, std::uint64_t max_bytes) {
    std::uint64_t size = 0;
    const int fd = open_regular_file(path, what, size);
    if (size > max_bytes) {
        ::close(fd);
        throw IoError(path + ": file too large: " + std::to_string(size) + " bytes (" + with_article(what) +
                      " may have at most " + std::to_string(max_bytes) + ")");
    }
    std::vector<std::uint8_t> bytes(static_cast<std::size_t>(size));
    std::size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::read(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            const int error = errno;
            ::close(fd);
            if (n < 0) throw IoError(system_error(path, "cannot read", error));
            throw IoError(path + ": file shrank while reading (" + std::to_string(done) + " of " +
                          std::to_string(size) + " bytes read)");
        }
        done += static_cast<std::size_t>(n);
    }
    ::close(fd);
    return bytes;
}

std::string input_name(const std::string& path) { return path == "-" ? "<stdin>" : path; }

std::vector<std::uint8_t> read_standard_input(std::string_view what, std::uint64_t max_bytes) {
    std::vector<std::uint8_t> bytes;
    std::uint8_t block[1 << 16];
    for (;;) {
        const ssize_t n = ::read(STDIN_FILENO, block, sizeof block);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw IoError(system_error("<stdin>", "cannot read", errno));
        if (n == 0) return bytes;
        if (bytes.size() + static_cast<std::size_t>(n) > max_bytes)
            throw IoError("<stdin>: input too large: more than " + std::to_string(max_bytes) + " bytes (" +
                          with_article(what) + " may have at most " + std::to_string(max_bytes) + ")");
        bytes.insert(bytes.end(), block, block + n);
    }
}

// The directory a path's file lives in ("." for a bare name).
std::filesystem::path directory_of(const std::string& path) {
    std::filesystem::path dir = std::filesystem::path(path).parent_path();
    return dir.empty() ? std::filesystem::path(".") : dir;
}

namespace {

// All of `bytes` to the open `fd`; false with errno set on failure.
bool write_all(int fd, std::span<const std::uint8_t> bytes) {
    std::size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            if (n == 0) errno = EIO;
            return false;
        }
        done += static_cast<std::size_t>(n);
    }
    return true;
}

}  // namespace

namespace {

// `path`'s directory with every link resolved, or empty when it cannot be.
std::filesystem::path resolved_directory(const std::filesystem::path& path) {
    std::error_code error;
    auto dir = std::filesystem::canonical(path.has_parent_path() ? path.parent_path() : ".", error);
    return error ? std::filesystem::path() : dir;
}

// The process's own descriptor that a path in `dir` (resolved) named `name` is, through
// /proc/self/fd/N, /proc/PID/fd/N or /dev/fd/N, or -1.
int own_descriptor(const std::filesystem::path& dir, const std::string& name) {
    if (dir != std::filesystem::path("/proc/" + std::to_string(::getpid()) + "/fd")) return -1;
    if (name.empty() || name.size() > 9 || !std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return -1;
    return std::stoi(name);
}

// Writes all of `bytes` into the file at `path` (not replacing it); `shown` names it in errors.
void write_into(const std::string& path, const std::string& shown, std::span<const std::uint8_t> bytes, bool truncate) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC | (truncate ? O_TRUNC : 0));
    if (fd < 0) throw IoError(system_error(shown, "cannot open", errno));
    const bool written = write_all(fd, bytes);
    const int error = errno;
    if (::close(fd) != 0 && written) throw IoError(system_error(shown, "cannot close", errno));
    if (!written) throw IoError(system_error(shown, "cannot write", error));
}

}  // namespace

OutputTarget output_target(const std::string& path) {
    OutputTarget out{path};
    for (int links = 0; links < 40; ++links) {
        // In /proc the links are the kernel's (a descriptor's "pipe:[N]"), not paths: not followed.
        const std::filesystem::path dir = resolved_directory(out.path);
        out.descriptor = own_descriptor(dir, std::filesystem::path(out.path).filename().string());
        out.in_proc = dir.string().starts_with("/proc/");
        if (out.descriptor >= 0 || out.in_proc) return out;
        struct stat st {};
        if (::lstat(out.path.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return out;
        std::error_code error;
        const std::filesystem::path target = std::filesystem::read_symlink(out.path, error);
        if (error) throw IoError(system_error(out.path, "cannot read the symbolic link", error.value()));
        out.path = target.is_absolute() ? target.string()
                                        : (std::filesystem::path(out.path).parent_path() / target).string();
    }
    throw IoError(system_error(path, "cannot write", ELOOP));
}

void write_file_atomically(const std::string& given, std::span<const std::uint8_t> bytes) {
    if (given.empty()) throw IoError("cannot write a file of an empty name: the file to write needs a name");
    // Symbolic links are followed, as a shell redirection would: the file a link names is
    // replaced (it was the link, which became a file and left the linked file as it was).
    const OutputTarget target = output_target(given);
    const std::string& path = target.path;
    const std::string shown = path == given ? given : given + " (a link to " + path + ")";
    // One of this process's descriptors (/dev/stdout, /dev/fd/63 of a process substitution):
    // written through, at its offset, as a redirection would (`>>` appends).
    if (target.descriptor >= 0) {
        if (target.descriptor == STDOUT_FILENO) std::fflush(stdout);
        if (!write_all(target.descriptor, bytes)) throw IoError(system_error(shown, "cannot write", errno));
        return;
    }
    // A character device or FIFO (/dev/null, a pipe's name) is written into, as a shell
    // redirection would: renaming a file over it would replace the device (as root, /dev/null
    // itself); so is a name in /proc (another process's descriptor). Other files that are not
    // regular (a directory, a socket, a block device) are refused.
    struct stat st {};
    const bool exists = ::stat(path.c_str(), &st) == 0;
    if (target.in_proc || (exists && !S_ISREG(st.st_mode))) {
        if (exists && !S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode) && !S_ISFIFO(st.st_mode))
            throw IoError(shown + ": " + (S_ISDIR(st.st_mode) ? "is a directory" : "not a regular file") +
                          "; the file to write needs a name");
        write_into(path, shown, bytes, exists && S_ISREG(st.st_mode));
        return;
    }
    // The process id and a count of this process's writes: threads saving to one path at once
    // each have their own temporary (it was the process id alone, and one thread's rename took
    // another's file away), and the last rename wins.
    static std::atomic<std::uint64_t> writes{0};
    const std::string tmp = path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(writes++);
    // The temporary is first an unnamed file in the target's directory (O_TMPFILE: Linux on
    // ext4, xfs, btrfs, tmpfs): it gets its name only once written and flushed, so a process
    // killed (SIGKILL, power loss) while writing leaves nothing behind. Where the file system
    // cannot, it is the named file from the start.
    int fd = ::open(directory_of(path).c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
    const bool unnamed = fd >= 0;
    if (!unnamed) fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) throw IoError(system_error(shown, "cannot create temporary file " + tmp, errno));
    // Every failure from here on removes the temporary before throwing.
    auto fail = [&](const std::string& step, int error, bool close_fd) {
        if (close_fd) ::close(fd);
        ::unlink(tmp.c_str());
        throw IoError(system_error(shown, step, error));
    };
    if (!write_all(fd, bytes)) fail("cannot write " + tmp, errno, true);
    if (::fsync(fd) != 0) fail("cannot flush " + tmp, errno, true);
    if (unnamed) {
        const std::string self = "/proc/self/fd/" + std::to_string(fd);
        ::unlink(tmp.c_str());  // a leftover of an earlier process with this pid
        if (::linkat(AT_FDCWD, self.c_str(), AT_FDCWD, tmp.c_str(), AT_SYMLINK_FOLLOW) != 0)
            fail("cannot name temporary file " + tmp, errno, true);
    }
    if (::close(fd) != 0) fail("cannot close " + tmp, errno, false);
    if (::rename(tmp.c_str(), path.c_str()) != 0) fail("cannot rename " + tmp + " to it", errno, false);
    // Make the rename itself durable (best effort: some file systems refuse to open directories).
    const int dir_fd = ::open(directory_of(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd >= 0) {
        ::fsync(dir_fd);
        ::close(dir_fd);
    }
}

void write_file_atomically(const std::string& path, std::string_view text) {
    write_file_atomically(path, std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

}  // namespace textcnn
