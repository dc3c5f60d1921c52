#include "textcnn/text/data_checks.h"

#include "textcnn/core/error.h"
#include "textcnn/text/utf8.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <map>
#include <set>
#include <string_view>

namespace textcnn {

namespace {

// ASCII white space and U+00A0 (no-break space, which spreadsheets like to leave behind).
bool is_space_at(std::string_view s, std::size_t i, std::size_t& width) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f') {
        width = 1;
        return true;
    }
    if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0xA0) {
        width = 2;
        return true;
    }
    return false;
}

std::string trimmed(std::string_view s) {
    std::size_t begin = 0, width = 0;
    while (begin < s.size() && is_space_at(s, begin, width)) begin += width;
    std::size_t end = s.size();
    while (end > begin) {
        // Step back over one trailing space character (1 or 2 bytes).
        if (is_space_at(s, end - 1, width) && width == 1) {
            --end;
        } else if (end - begin >= 2 && is_space_at(s, end - 2, width) && width == 2) {
            end -= 2;
        } else {
            break;
        }
    }
    return std::string(s.substr(begin, end - begin));
}

// Code points a label can hold without showing them (a copy from a web page or a spreadsheet
// brings them): zero-width space, non-joiner and joiner, word joiner, soft hyphen and the
// byte-order mark.
bool invisible(char32_t c) {
    return c == 0x200B || c == 0x200C || c == 0x200D || c == 0x2060 || c == 0x00AD || c == 0xFEFF;
}

// `s` without them, or, with `shown`, with each written as <U+200B>. Bytes that do not start a
// valid sequence are kept as they are.
std::string without_invisible(std::string_view s, bool shown = false) {
    std::string out;
    for (std::size_t i = 0; i < s.size();) {
        const std::size_t length = std::max<std::size_t>(1, utf8_sequence_length(s, i));
        const char32_t c = length > 1 ? decode_utf8(s, i, length) : static_cast<unsigned char>(s[i]);
        if (!invisible(c)) out.append(s, i, length);
        else if (shown) out += fmt::format("<U+{:04X}>", static_cast<std::uint32_t>(c));
        i += length;
    }
    return out;
}

// "2, 11, 7": the first line of each of `labels`, for a warning.
std::string first_lines(const std::vector<std::string>& labels,
                        const std::map<std::string, std::pair<std::size_t, std::size_t>>& per_label) {
    std::string lines;
    for (const auto& l : labels) lines += (lines.empty() ? "" : ", ") + std::to_string(per_label.at(l).second);
    return lines;
}

std::string lowered(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::size_t word_count(std::string_view s) {
    std::size_t words = 0;
    bool in_word = false;
    for (char c : s) {
        const bool space = std::isspace(static_cast<unsigned char>(c)) != 0;
        if (!space && !in_word) ++words;
        in_word = !space;
    }
    return words;
}

std::string quoted_list(const std::vector<std::string>& items, std::size_t at_most = 5) {
    std::string out;
    for (std::size_t i = 0; i < items.size() && i < at_most; ++i) out += (i ? ", '" : "'") + items[i] + "'";
    if (items.size() > at_most) out += fmt::format(" and {} more", items.size() - at_most);
    return out;
}

}  // namespace

std::string trimmed_label(std::string_view label) { return trimmed(label); }

std::vector<std::string> check_labelled_documents(std::vector<Document>& documents, const DataCheckOptions& options) {
    const std::string& source = options.source;
    std::vector<std::string> warnings;

    // Pass 1: trim, count per label, note the rows worth naming.
    std::size_t trimmed_rows = 0, first_trimmed_line = 0, header_rows = 0, first_header_line = 0;
    std::size_t wordy_labels = 0, first_wordy_line = 0, empty_texts = 0, first_empty_line = 0;
    std::map<std::string, std::pair<std::size_t, std::size_t>> per_label;  // label -> (count, first line)
    std::map<std::string, std::size_t> short_texts;                         // one-word texts -> count
    for (Document& d : documents) {
        if (!d.label) throw InputError(fmt::format("{}:{}: no label", source, d.line));
        std::string label = trimmed(*d.label);
        if (label.size() != d.label->size()) {
            if (trimmed_rows++ == 0) first_trimmed_line = d.line;
            *d.label = label;
        }
        if (label.empty()) throw InputError(fmt::format("{}:{}: the label is empty", source, d.line));
        auto [it, inserted] = per_label.try_emplace(label, 0, d.line);
        ++it->second.first;
        if (!options.label_column.empty() && label == options.label_column && trimmed(d.text) == options.text_column)
            if (header_rows++ == 0) first_header_line = d.line;
        if (word_count(label) >= 4)
            if (wordy_labels++ == 0) first_wordy_line = d.line;
        const std::size_t words = word_count(d.text);
        if (words == 0 && empty_texts++ == 0) first_empty_line = d.line;
        if (words == 1 && short_texts.size() <= 64) ++short_texts[trimmed(d.text)];
    }
    const std::size_t n = documents.size();

    if (trimmed_rows)
        warnings.push_back(fmt::format("{}: {} labels had white space around them and were trimmed (first: line {})",
                                       source, trimmed_rows, first_trimmed_line));

    if (options.training && n > 2 && per_label.size() == n)
        throw InputError(fmt::format("{}: every one of the {} documents has a label of its own (first: '{}'): the label "
                                     "column does not seem to hold class labels; check which column is the label",
                                     source, n, per_label.begin()->first));

    // Labels equal but for characters that do not show.
    std::map<std::string, std::vector<std::string>> by_visible;
    for (const auto& [label, counts] : per_label) by_visible[without_invisible(label)].push_back(label);
    for (const auto& entry : by_visible) {
        const std::vector<std::string>& labels = entry.second;
        if (labels.size() < 2) continue;
        std::vector<std::string> shown;
        for (const auto& l : labels) shown.push_back(without_invisible(l, true));
        warnings.push_back(fmt::format("{}: labels {} differ only in characters that do not show (zero-width "
                                       "spaces, joiners, soft hyphens, byte-order marks) and are trained as {} "
                                       "different classes (first lines: {})",
                                       source, quoted_list(shown, shown.size()), labels.size(),
                                       first_lines(labels, per_label)));
    }

    // Labels equal but for letter case (ASCII letters: what a spreadsheet's autocorrect changes).
    std::map<std::string, std::vector<std::string>> by_lowered;
    for (const auto& [label, counts] : per_label) by_lowered[lowered(label)].push_back(label);
    for (const auto& entry : by_lowered) {
        const std::vector<std::string>& labels = entry.second;
        if (labels.size() > 1)
            warnings.push_back(fmt::format("{}: labels {} differ only in letter case and are trained as {} different "
                                           "classes (first lines: {})",
                                           source, quoted_list(labels, labels.size()), labels.size(),
                                           first_lines(labels, per_label)));
    }

    if (options.training && per_label.size() < n && 2 * per_label.size() > n)
        warnings.push_back(fmt::format("{}: {} labels for {} documents: fewer than 2 documents per label on average is "
                                       "too little to learn from",
                                       source, per_label.size(), n));

    std::string rare;
    std::size_t rare_count = 0;
    for (const auto& [label, counts] : per_label)
        if (counts.first < options.few_documents && rare_count++ < 8)
            rare += fmt::format("{}'{}' ({})", rare.empty() ? "" : ", ", label, counts.first);
    if (rare_count > 8) rare += fmt::format(" and {} more", rare_count - 8);
    if (rare_count && options.training && 2 * per_label.size() <= n)
        warnings.push_back(fmt::format("{}: {} with fewer than {} documents: {}", source,
                                       rare_count == 1 ? std::string("1 label") : fmt::format("{} labels", rare_count),
                                       options.few_documents, rare));

    if (empty_texts)
        warnings.push_back(fmt::format("{}: {} of {} texts are empty (first: line {})", source, empty_texts, n,
                                       first_empty_line));

    // (Not when rows repeat the whole header: that warning below says more.)
    if (const auto it = per_label.find(options.label_column); it != per_label.end() && header_rows == 0)
        warnings.push_back(fmt::format("{}: the label column's name in the header, '{}', is also the label of {} "
                                       "document{}: is the header row a document?",
                                       source, options.label_column, it->second.first, it->second.first == 1 ? "" : "s"));

    if (header_rows)
        warnings.push_back(fmt::format("{}: {} rows repeat the header ('{}', '{}') and are read as data (first: line {})",
                                       source, header_rows, options.label_column, options.text_column,
                                       first_header_line));

    if (wordy_labels)
        warnings.push_back(fmt::format("{}: {} labels look like texts (4 words or more; first: line {}): are the label "
                                       "and text columns swapped?",
                                       source, wordy_labels, first_wordy_line));
    else {
        // Texts that look like labels: most texts are one of a few single words.
        std::size_t in_few = 0;
        for (const auto& [text, count] : short_texts) in_few += count;
        if (n >= 10 && short_texts.size() <= 64 && 2 * in_few > n && short_texts.size() < per_label.size())
            warnings.push_back(fmt::format("{}: {} of {} texts are one of only {} single words, fewer than the {} "
                                           "labels: are the label and text columns swapped?",
                                           source, in_few, n, short_texts.size(), per_label.size()));
    }
    return warnings;
}

}  // namespace textcnn
