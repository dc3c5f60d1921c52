// Numbers as people read them in messages and tables: 1234567 -> "1,234,567", 18400000 bytes
// -> "18.4 MB". The formatters of the project (model summaries, vector coverage, data summaries,
// progress lines, memory messages).
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>

namespace textcnn {

/// `n` with a comma every three digits: 0 -> "0", 14838 -> "14,838".
std::string with_thousands_separators(std::uint64_t n);

/// A size in decimal units (kB = 1000 bytes) with one decimal, the unit the largest whose
/// figure is at least 1: 512 -> "512 bytes", 13000 -> "13.0 kB", 18400000 -> "18.4 MB",
/// 2100000000 -> "2.1 GB" (GB the largest unit).
std::string byte_size_text(std::uint64_t bytes);

}  // namespace textcnn
