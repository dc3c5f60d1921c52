// The visible text of an HTML document (gumbo's HTML5 parser), as mail_text.h describes it.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace textcnn::mail {

/// Markup after this many tags ('<' characters), or this many attributes, is not
/// read: gumbo's time grows with the depth of unclosed elements and with the attributes of one
/// tag, and a mail filter must answer.
inline constexpr std::size_t max_html_tags = 10'000;
/// The tags and attributes all the HTML parts of one message may use together.
inline constexpr std::size_t max_message_html_tags = 2 * max_html_tags;

/// Visible text of `html` (UTF-8) up to its max_html_tags-th tag or attribute, and up to the
/// point where its tags and attributes together reach `tags_left` (the budget the message's HTML
/// parts share, which goes down by what this part used): script, style, head, template and
/// comments dropped, block elements and table cells on lines of their own, each link's host
/// name after its text. Lines not yet trimmed (mail_text.cpp normalises every part the same
/// way). Any input. Thread-safe.
std::string html_visible_text(std::string_view html, std::size_t& tags_left);

/// The same with a message's whole budget.
inline std::string html_visible_text(std::string_view html) {
    std::size_t tags_left = max_message_html_tags;
    return html_visible_text(html, tags_left);
}

/// The host name of a URL "scheme://[user@]host[:port][/...]", lower case; empty when `url`
/// has no "//" authority. Thread-safe.
std::string url_host(std::string_view url);

}  // namespace textcnn::mail
