// Where messages come from for training and batch classification: maildirs (or any folder
// of one-message files) and mbox files, read as raw bytes for extract_mail_text().
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace textcnn::mail {

/// The message files below `dir`: every entry at any depth that is not a directory (a
/// maildir's cur/ and new/, or a plain folder of .eml files), sorted by path. Folders named tmp
/// (a maildir's messages still being delivered) and names that start with '.' are skipped.
/// Entries that are not regular files (a FIFO, a dangling or looping symbolic link) are
/// listed: read_bytes() refuses each with its reason, so a caller reports it rather than
/// losing it. Symbolic links to folders are not followed, and listed so too. Throws IoError
/// when `dir`, or a folder below it, cannot be read (naming that folder). With `hidden`, the
/// entries skipped for their '.' (a hidden folder counted once, not walked) are appended to it,
/// for the caller to say. Thread-safe.
std::vector<std::filesystem::path> message_files(const std::filesystem::path& dir,
                                                 std::vector<std::filesystem::path>* hidden = nullptr);

/// A path naming the same file as every other path to it (`DIR` given twice, `DIR/../DIR`, a
/// symbolic link to a folder given as a folder): std::filesystem::weakly_canonical, or the
/// absolute, normalized path when that fails. Thread-safe.
std::filesystem::path same_file_key(const std::filesystem::path& path);

/// Removes from `files` every path that names the same file as an earlier one (same_file_key),
/// keeping the first and the order; returns how many were removed. Thread-safe.
std::size_t drop_repeated_files(std::vector<std::filesystem::path>& files);

/// The whole file at `path` as bytes, any size. Throws IoError naming the file when it cannot
/// be read or is not a regular file (never waits on a FIFO). Thread-safe.
std::string read_bytes(const std::filesystem::path& path);

/// The messages of an mbox (mboxo / mboxrd): a message starts at each line beginning "From "
/// that starts the file or follows an empty line, and includes that line and the empty line
/// before the next one (">From " lines are left as they are). Views into `mbox`; text before
/// the first "From " line is ignored. Throws nothing beyond std::bad_alloc. Thread-safe.
std::vector<std::string_view> split_mbox(std::string_view mbox);

}  // namespace textcnn::mail
