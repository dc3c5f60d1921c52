// Files the library reads whole (models, checkpoints, vectors) and writes atomically. One copy
// of each rule for the whole project:
//  - reading: only regular files. A FIFO would block forever, /dev/zero never ends, a
//    directory reads as empty; each is refused up front with "not a regular file".
//  - writing: the bytes go to "<path>.tmp.<pid>", are fsync'ed and renamed over <path>, so a
//    reader never sees half a file; on any failure the temporary is removed and the IoError
//    names the path and the operating system's reason (strerror).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace textcnn {

/// IoError unless `path` names a regular file (symbolic links followed): "<path>: cannot
/// open: No such file or directory", "<path>: is a directory, not a <what>", "<path>: not a
/// regular file (a FIFO); a <what> must be a regular file". Does not open the file.
void require_regular_file(const std::string& path, std::string_view what);

/// Opens `path` for reading (O_RDONLY | O_CLOEXEC) without blocking on a FIFO, and checks on
/// the opened descriptor that it is a regular file (same errors as require_regular_file).
/// Returns the descriptor; the caller closes it. `size` receives the file's size.
int open_regular_file(const std::string& path, std::string_view what, std::uint64_t& size);

/// Writes `bytes` to `path` atomically (see the file comment). IoError on failure, naming the
/// path, the step that failed and strerror(errno); no temporary file is left behind.
void write_file_atomically(const std::string& path, std::span<const std::uint8_t> bytes);
void write_file_atomically(const std::string& path, std::string_view text);

}  // namespace textcnn
