// Old Mac OS mail programs ended lines with a bare CR ("\r" alone). Neither GMime nor a
// line-based scan sees lines in such a message, so both the extractor and the header insertion
// first ask which convention a message uses. Internal to the mail library.
#pragma once

#include <string>
#include <string_view>

namespace textcnn::mail::detail {

/// True when the message's first line end is a CR not followed by LF: its lines end in bare
/// CRs (a message whose first line ends in LF or CRLF is read by LF, as before). O(first line).
inline bool has_bare_cr_line_ends(std::string_view raw) {
    const std::size_t end = raw.find_first_of("\r\n");
    return end != std::string_view::npos && raw[end] == '\r' && (end + 1 == raw.size() || raw[end + 1] != '\n');
}

/// `raw` with every CR that no LF follows turned into LF (CRLF pairs kept): the message as
/// GMime can parse it. The byte count does not change.
inline std::string with_lf_line_ends(std::string_view raw) {
    std::string out(raw);
    for (std::size_t i = 0; i < out.size(); ++i)
        if (out[i] == '\r' && (i + 1 == out.size() || out[i + 1] != '\n')) out[i] = '\n';
    return out;
}

}  // namespace textcnn::mail::detail
