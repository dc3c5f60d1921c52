#include "html_text.h"

#include <gumbo.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <vector>

namespace textcnn::mail {
namespace {

bool dropped(GumboTag tag) {
    return tag == GUMBO_TAG_SCRIPT || tag == GUMBO_TAG_STYLE || tag == GUMBO_TAG_HEAD || tag == GUMBO_TAG_TEMPLATE;
}

// Elements whose text does not run on into the next element's: on a line of their own. Table
// cells and header cells too (spam is laid out in tables: "<td>Cheap</td><td>Offer</td>" is
// two words, not "CheapOffer"), and a list's options.
bool block(GumboTag tag) {
    switch (tag) {
    case GUMBO_TAG_TD: case GUMBO_TAG_TH: case GUMBO_TAG_CAPTION: case GUMBO_TAG_OPTION:
    case GUMBO_TAG_P: case GUMBO_TAG_DIV: case GUMBO_TAG_BR: case GUMBO_TAG_LI: case GUMBO_TAG_TR:
    case GUMBO_TAG_H1: case GUMBO_TAG_H2: case GUMBO_TAG_H3: case GUMBO_TAG_H4: case GUMBO_TAG_H5:
    case GUMBO_TAG_H6: case GUMBO_TAG_TABLE: case GUMBO_TAG_UL: case GUMBO_TAG_OL: case GUMBO_TAG_BLOCKQUOTE:
    case GUMBO_TAG_PRE: case GUMBO_TAG_HR: case GUMBO_TAG_SECTION: case GUMBO_TAG_ARTICLE: case GUMBO_TAG_HEADER:
    case GUMBO_TAG_FOOTER: case GUMBO_TAG_TITLE: case GUMBO_TAG_CENTER: case GUMBO_TAG_DL: case GUMBO_TAG_DT:
    case GUMBO_TAG_DD: case GUMBO_TAG_FORM: case GUMBO_TAG_NAV: case GUMBO_TAG_ASIDE: case GUMBO_TAG_MAIN:
    case GUMBO_TAG_HGROUP: case GUMBO_TAG_ADDRESS: case GUMBO_TAG_FIGURE: case GUMBO_TAG_FIGCAPTION:
    case GUMBO_TAG_FIELDSET: case GUMBO_TAG_LEGEND: case GUMBO_TAG_DETAILS: case GUMBO_TAG_SUMMARY:
    case GUMBO_TAG_MENU: case GUMBO_TAG_DIR: case GUMBO_TAG_LISTING: case GUMBO_TAG_XMP:
        return true;
    default:
        return false;
    }
}

// Iterative walk (a deeply nested document must not exhaust the stack): a node is visited on
// the way down (its text, a block's line start) and, for elements, on the way up (a block's
// line end, a link's host).
void append_text(const GumboNode* root, std::string& out) {
    struct Visit {
        const GumboNode* node;
        bool leaving;
    };
    std::vector<Visit> stack{{root, false}};
    while (!stack.empty()) {
        const Visit v = stack.back();
        stack.pop_back();
        const GumboNode* node = v.node;
        if (node->type == GUMBO_NODE_TEXT || node->type == GUMBO_NODE_WHITESPACE || node->type == GUMBO_NODE_CDATA) {
            out += node->v.text.text;
            continue;
        }
        if (node->type != GUMBO_NODE_ELEMENT && node->type != GUMBO_NODE_DOCUMENT && node->type != GUMBO_NODE_TEMPLATE)
            continue;  // comments
        const GumboTag tag = node->type == GUMBO_NODE_DOCUMENT ? GUMBO_TAG_UNKNOWN : node->v.element.tag;
        if (v.leaving) {
            if (tag == GUMBO_TAG_A) {
                if (const GumboAttribute* href = gumbo_get_attribute(&node->v.element.attributes, "href")) {
                    const std::string host = url_host(href->value);
                    if (!host.empty()) out += " " + host + " ";
                }
            }
            out += block(tag) ? "\n" : "";
            continue;
        }
        if (dropped(tag)) continue;
        if (block(tag)) out += '\n';
        stack.push_back({node, true});
        const GumboVector& children =
            node->type == GUMBO_NODE_DOCUMENT ? node->v.document.children : node->v.element.children;
        for (unsigned i = children.length; i-- > 0;)
            stack.push_back({static_cast<const GumboNode*>(children.data[i]), false});
    }
}

}  // namespace

std::string url_host(std::string_view url) {
    const auto scheme_end = url.find("//");
    if (scheme_end == std::string_view::npos) return {};
    // A scheme before "//" holds letters, digits, '+', '-', '.' and ends with ':' (or is absent).
    const std::string_view scheme = url.substr(0, scheme_end);
    const bool scheme_ok = scheme.empty() || (scheme.back() == ':' && std::all_of(scheme.begin(), scheme.end() - 1, [](char c) {
                                                  return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
                                              }));
    if (!scheme_ok) return {};
    std::string_view authority = url.substr(scheme_end + 2);
    authority = authority.substr(0, authority.find_first_of("/?#\\ \t\r\n"));
    if (const auto at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);
    if (!authority.empty() && authority.front() != '[') authority = authority.substr(0, authority.find(':'));
    std::string host(authority);
    std::transform(host.begin(), host.end(), host.begin(), [](unsigned char c) { return std::tolower(c); });
    while (!host.empty() && host.back() == '.') host.pop_back();
    return host;
}

std::string html_visible_text(std::string_view html, std::size_t& tags_left) {
    // gumbo records every parse error with a copy of the stack of open elements (its default
    // max_errors is -1, no limit): 20,000 unclosed <div> took 13.5 s and 3.2 GB. Errors are not
    // recorded. Its parse also costs time in the depth of that stack per start tag, and per
    // attribute in the attributes of its tag, so the markup is cut before its max_html_tags-th
    // tag (a '<') or attribute (a word after a blank inside a tag): a page of unclosed elements,
    // or one tag of 60,000 attributes (12 s before), then parses in well under a second.
    GumboOptions options = kGumboDefaultOptions;
    options.max_errors = 0;
    // The message's other HTML parts share the budget: 200 parts of 9,000 unclosed <div> each
    // took 66 s, one part at a time under the bound.
    std::size_t tags = 0, attributes = 0, cut = 0;
    bool in_tag = false, after_space = false;  // attributes: words after a blank inside a tag
    for (; cut < html.size(); ++cut) {
        const char c = html[cut];
        if (c == '<') {
            if (++tags == max_html_tags || tags + attributes >= tags_left) break;
            in_tag = true;
            after_space = false;
        } else if (c == '>') {
            in_tag = false;
        } else if (in_tag) {
            const bool space = c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
            if (!space && after_space && (++attributes == max_html_tags || tags + attributes >= tags_left)) break;
            after_space = space;
        }
    }
    tags_left -= std::min(tags_left, tags + attributes);
    html = html.substr(0, cut);
    std::unique_ptr<GumboOutput, void (*)(GumboOutput*)> output(
        gumbo_parse_with_options(&options, html.data(), html.size()),
        [](GumboOutput* o) { gumbo_destroy_output(&kGumboDefaultOptions, o); });
    std::string text;
    if (output) append_text(output->document, text);
    return text;
}

}  // namespace textcnn::mail
