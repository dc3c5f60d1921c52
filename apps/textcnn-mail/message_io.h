// Reading a raw message from stdin whole (any size, one buffer) and writing it back with header
// fields added, byte for byte otherwise.
#pragma once

#include "textcnn/core/error.h"

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace mail_cli {

/// The bytes read from stdin and, when reading stopped on an error, its description (the
/// bytes read until then are kept).
struct MessageInput {
    std::string bytes;
    std::string error;
};

MessageInput read_stdin();

/// Writes `message` to stdout with `fields` (names starting "X-Spam-") added at the end of its
/// header block (header_insertion.h); fields of those names it already carries are renamed
/// X-Spam-Previous-* (a warning on stderr counts them). Throws IoError when stdout cannot be
/// written.
void write_with_fields(const std::string& message, const std::vector<std::pair<std::string, std::string>>& fields);

/// Says on stderr that the entries in `hidden`, below the --maildir `dir`, were left out for
/// the '.' their names start with (mail::message_files), naming the first.
void warn_hidden(const std::string& dir, const std::vector<std::filesystem::path>& hidden);

}  // namespace mail_cli
