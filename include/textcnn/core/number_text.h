// Numbers as people read them in messages and tables: 1234567 -> "1,234,567". The one
// formatter of the project (model summaries, vector coverage, data summaries, progress lines).
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>

namespace textcnn {

/// `n` with a comma every three digits: 0 -> "0", 14838 -> "14,838".
std::string with_thousands_separators(std::uint64_t n);

}  // namespace textcnn
