// Files the library reads whole (models, checkpoints, vectors) and writes atomically. One copy
// of each rule for the whole project:
//  - reading: only regular files. A FIFO would block forever, /dev/zero never ends, a
//    directory reads as empty; each is refused up front with "not a regular file".
//  - writing: the bytes go to "<path>.tmp.<pid>.<n>", are fsync'ed and renamed over <path>, so a
//    reader never sees half a file; on any failure the temporary is removed and the IoError
//    names the path and the operating system's reason (strerror). Where the file system has
//    O_TMPFILE the temporary is unnamed until written and flushed, so even a process killed
//    mid-write (SIGKILL) leaves no temporary behind. A character device or FIFO at <path>
//    (/dev/null, /dev/stdout, a named pipe) is written into instead, as a shell redirection
//    would (a rename would replace the device); a directory or other special file is refused.
//    A symbolic link at <path> is followed (as a redirection would): the file it names is the
//    one replaced, in its own directory (a new file: mode 0644 less the umask, not the old
//    file's), and messages name both ("current.model (a link to models/v3.model)"). A name of
//    one of this process's descriptors (/dev/stdout, /dev/fd/63) is written through that
//    descriptor at its offset, as `>` and `>>` would.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace textcnn {

/// IoError unless `path` names a regular file (symbolic links followed): "<path>: cannot
/// open: No such file or directory", "<path>: is a directory, not a <what>", "<path>: not a
/// regular file (a FIFO); a <what> must be a regular file". Does not open the file.
void require_regular_file(const std::string& path, std::string_view what);

/// Opens `path` for reading (O_RDONLY | O_CLOEXEC) without blocking on a FIFO, and checks on
/// the opened descriptor that it is a regular file (same errors as require_regular_file).
/// Returns the descriptor; the caller closes it. `size` receives the file's size.
int open_regular_file(const std::string& path, std::string_view what, std::uint64_t& size);

/// The whole content of a regular file (opened as open_regular_file() does). The size is
/// checked before anything is allocated or read: a file of more than `max_bytes` bytes is an
/// IoError "<path>: file too large: N bytes (a <what> may have at most M)". A file that
/// shrinks while read is an IoError too; one that grows is read up to its size at open.
std::vector<std::uint8_t> read_regular_file(const std::string& path, std::string_view what, std::uint64_t max_bytes);

/// The name of an input in messages and outputs: "<stdin>" for "-" (standard input, as the
/// readers that take "-" read it), else the path itself.
std::string input_name(const std::string& path);
/// All of standard input, read to its end: IoError "<stdin>: input too large: more than M
/// bytes (a <what> may have at most M)" once it passes max_bytes, or naming strerror when a
/// read fails.
std::vector<std::uint8_t> read_standard_input(std::string_view what, std::uint64_t max_bytes);

/// Where write_file_atomically() puts the bytes for `path`: its symbolic links followed (a
/// relative target read against its link's directory; a dangling link's target, to be
/// created), up to one of this process's descriptors (`descriptor`: /dev/stdout, /dev/fd/N,
/// /proc/self/fd/N) or a name in /proc (`in_proc`: the kernel's links, not paths), which are
/// written into. IoError after 40 links (ELOOP), naming `path`.
struct OutputTarget {
    std::string path;     ///< the file at the end of the links
    int descriptor = -1;  ///< this process's descriptor the path names, or -1
    bool in_proc = false;
};
OutputTarget output_target(const std::string& path);

/// Writes `bytes` to `path` atomically (see the file comment). IoError on failure, naming the
/// path, the step that failed and strerror(errno); no temporary file is left behind.
void write_file_atomically(const std::string& path, std::span<const std::uint8_t> bytes);
void write_file_atomically(const std::string& path, std::string_view text);

}  // namespace textcnn
