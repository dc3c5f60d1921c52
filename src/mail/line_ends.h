// Old Mac OS mail programs ended lines with a bare CR ("\r" alone). Neither GMime nor a
// line-based scan sees lines in such a message, so both the extractor and the header insertion
// first ask which convention a message uses. Internal to the mail library.
#pragma once

#include <string>
#include <string_view>

namespace textcnn::mail::detail {

/// True when the message has CRs and no LF at all: its lines end in bare CRs. Any LF makes it
/// a message read by LF, whatever CRs stand alone in it (a CR in its first header line must not
/// turn a whole LF message into one line: the verdict would go after the body, and a forged
/// "X-Spam-Flag: NO" would stay the message's only one). O(size).
inline bool has_bare_cr_line_ends(std::string_view raw) {
    return raw.find('\n') == std::string_view::npos && raw.find('\r') != std::string_view::npos;
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
