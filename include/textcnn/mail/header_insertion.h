// Adding header fields to a raw message without touching any of its bytes: the filter's
// verdict goes in as new lines at the end of the header block, everything else is copied as
// it came. Plain byte scanning (no MIME parser), so it works on messages no parser accepts.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace textcnn::mail {

/// Where new header lines go in a raw message and how to end them.
struct HeaderInsertion {
    /// Byte offset: just after the last header line (so before the empty line that starts the
    /// body). The header block is the run of lines "name: value" (a name of any bytes but
    /// control characters and ':', not starting with a blank: as lenient as GMime, which reads
    /// on past 8-bit or spaced names) and their continuation lines (starting with space or
    /// tab) at the start of the message, after an mbox "From " line if there is one. With no
    /// header line the offset is the start (after such a "From " line).
    std::size_t offset = 0;
    /// "\r\n" when the last terminated line of the block ends so, else "\n"; "\r" for a
    /// message whose lines end in bare CRs (old Mac OS mail: CRs and no LF at all; its lines
    /// are then read by CR).
    std::string_view newline = "\n";
    /// True when the message ends inside its last header line (no line end at all): the
    /// inserted text must start with `newline`. The one case where a byte is added besides
    /// the new lines.
    bool needs_line_end_first = false;
};

/// Finds the place for new header lines in `raw`. Any bytes (NUL, invalid UTF-8, none).
/// Throws nothing. Thread-safe.
HeaderInsertion find_header_insertion(std::string_view raw);

/// Byte offsets in `raw` of the header block's field lines (the block find_header_insertion
/// reads) whose name is one of `names`, ASCII letter case aside and blanks before the colon
/// allowed ("X-Spam-Flag", "x-spam-flag :"), in message order. Any bytes. Throws nothing but
/// std::bad_alloc. Thread-safe.
std::vector<std::size_t> find_header_fields(std::string_view raw, const std::vector<std::string_view>& names);

/// The header lines "Name: value" + newline for `fields`, as inserted at `at`
/// (line end first when at.needs_line_end_first). Names and values are copied as given:
/// they must be valid header text (no line ends). Thread-safe.
std::string header_lines(const HeaderInsertion& at, const std::vector<std::pair<std::string, std::string>>& fields);

}  // namespace textcnn::mail
