#include "textcnn/text/data_checks.h"

#include "textcnn/core/error.h"
#include "textcnn/text/utf8.h"

#include <fmt/format.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

namespace textcnn {

namespace {

// The code point at s[i] and its length in bytes (an invalid byte: itself, length 1).
char32_t code_point_at(std::string_view s, std::size_t i, std::size_t& length) {
    length = utf8_sequence_length(s, i);
    if (length > 1) return decode_utf8(s, i, length);
    length = 1;
    return static_cast<unsigned char>(s[i]);
}

// Code points a label can hold without showing them (a copy from a web page or a spreadsheet
// brings them): Unicode's Default_Ignorable_Code_Point (ICU), that is zero-width spaces,
// joiners, soft hyphens, byte-order marks, variation selectors, invisible operators, tags...
bool invisible(char32_t c) { return u_hasBinaryProperty(static_cast<UChar32>(c), UCHAR_DEFAULT_IGNORABLE_CODE_POINT); }

// Unicode White_Space (ICU): ASCII blanks, U+0085, no-break spaces, U+2000..U+200A, line and
// paragraph separators, the ideographic space...
bool blank(char32_t c) { return u_isUWhiteSpace(static_cast<UChar32>(c)); }

// `s` without the white space and invisible code points around it.
std::string trimmed(std::string_view s) {
    std::size_t begin = 0, length = 0;
    while (begin < s.size()) {
        const char32_t c = code_point_at(s, begin, length);
        if (!blank(c) && !invisible(c)) break;
        begin += length;
    }
    std::size_t end = s.size();
    while (end > begin) {
        std::size_t start = end - 1;  // the last code point's first byte (at most 3 continuation bytes back)
        while (start > begin && end - start < 4 && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
        const char32_t c = code_point_at(s, start, length);
        if (start + length != end || (!blank(c) && !invisible(c))) break;
        end = start;
    }
    return std::string(s.substr(begin, end - begin));
}

// `s` without invisible code points and with every white space as ' ' (what a reader sees),
// or, with `shown`, with each of those but ' ' and each control character written as <U+200B>.
// Bytes that do not start a valid sequence are kept as they are (written <0xFF> when shown).
std::string without_invisible(std::string_view s, bool shown = false) {
    std::string out;
    for (std::size_t i = 0; i < s.size();) {
        std::size_t length = 0;
        const char32_t c = code_point_at(s, i, length);
        const bool other_space = c != U' ' && blank(c);
        // Control characters too, when shown: a model file's labels are untrusted (an escape
        // sequence would reach the terminal); training refuses them in labels.
        const bool invalid = length == 1 && c >= 0x80;  // a byte that starts no valid sequence
        const bool control = !invalid && (c < 0x20 || (c >= 0x7F && c <= 0x9F));
        if (shown && invalid) out += fmt::format("<0x{:02X}>", static_cast<std::uint32_t>(c));
        else if (shown && (invisible(c) || other_space || control))
            out += fmt::format("<U+{:04X}>", static_cast<std::uint32_t>(c));
        else if (other_space) out += ' ';
        else if (!invisible(c)) out.append(s, i, length);
        i += length;
    }
    return out;
}

// The length of `s`'s longest prefix of at most `bytes` bytes that ends between code points.
std::size_t whole_code_points(std::string_view s, std::size_t bytes) {
    std::size_t cut = std::min(s.size(), bytes);
    while (cut > 0 && cut < s.size() && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
    return cut;
}

// "2, 11, 7": the first line of each of `labels`, for a warning.
// "(first lines: 3, 7)", or "(first: a.eml, b.eml)" with a document namer.
std::string first_lines(const std::vector<std::string>& labels,
                        const std::map<std::string, std::pair<std::size_t, std::size_t>>& per_label,
                        const DocumentNamer& namer) {
    std::string lines;
    for (const auto& l : labels)
        lines += (lines.empty() ? "" : ", ") + (namer ? namer(per_label.at(l).second) : std::to_string(per_label.at(l).second));
    return (namer ? "(first: " : "(first lines: ") + lines + ")";
}

// A label as it reads: NFKC with case folding (full-width letters, ligatures, composed and
// decomposed accents, any letter case the same), white-space runs one space. Labels that look
// alike have the same key.
std::string look_alike_key(std::string_view label) {
    UErrorCode status = U_ZERO_ERROR;
    const icu::Normalizer2* nfkc = icu::Normalizer2::getNFKCCasefoldInstance(status);
    if (U_FAILURE(status)) return std::string(label);
    // Bounded runs of combining marks (utf8.h): normalizing them is quadratic. A space between
    // runs, since NFKC_Casefold deletes the U+034F joiner and the runs would join again.
    std::string stream_safe;
    if (stream_safe_utf8(label, stream_safe, " ")) label = stream_safe;
    const icu::UnicodeString folded =
        nfkc->normalize(icu::UnicodeString::fromUTF8(icu::StringPiece(label.data(), static_cast<int32_t>(label.size()))),
                        status);
    if (U_FAILURE(status)) return std::string(label);
    std::string utf8, key;
    folded.toUTF8String(utf8);
    bool blank = false;
    for (const char c : utf8) {
        const bool space = c == ' ' || c == '\t';
        if (space && blank) continue;
        key += space ? ' ' : c;
        blank = space;
    }
    return key;
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

std::string document_at(const DocumentNamer& namer, std::size_t line) {
    return namer ? namer(line) : fmt::format("line {}", line);
}

std::string documents_at(const DocumentNamer& namer, const std::vector<std::size_t>& lines) {
    std::string out = namer ? "" : (lines.size() == 1 ? "line " : "lines ");
    for (std::size_t i = 0; i < lines.size(); ++i)
        out += (i ? ", " : "") + (namer ? namer(lines[i]) : std::to_string(lines[i]));
    return out;
}

std::string trimmed_label(std::string_view label) { return trimmed(label); }

std::string shown_label(std::string_view label) {
    if (label.size() <= 100) return without_invisible(label, true);
    return fmt::format("{}... ({} bytes)", without_invisible(label.substr(0, whole_code_points(label, 80)), true),
                       label.size());
}

bool labels_look_alike(std::string_view a, std::string_view b) {
    return look_alike_key(without_invisible(a)) == look_alike_key(without_invisible(b));
}

std::string trimmed_labels_warning(const std::string& source, std::size_t count, std::size_t first_line,
                                   const DocumentNamer& namer) {
    return fmt::format("{}: {} had white space or invisible characters (zero-width spaces, byte-order marks...) "
                       "around {} and {} trimmed (first: {})",
                       source, count == 1 ? std::string("1 label") : fmt::format("{} labels", count),
                       count == 1 ? "it" : "them", count == 1 ? "was" : "were", document_at(namer, first_line));
}

namespace {

// "2 texts appear under different labels ...", or "": byte-identical texts (empty ones aside,
// said elsewhere) whose documents carry different labels, with up to three of them.
std::string conflicting_labels(const std::vector<Document>& documents, const DocumentNamer& namer) {
    std::unordered_map<std::string_view, std::size_t> first_of;  // text -> its first document
    std::unordered_set<std::size_t> counted;                     // first documents of texts counted
    std::size_t texts = 0;
    std::string examples;
    for (std::size_t i = 0; i < documents.size(); ++i) {
        const Document& d = documents[i];
        const auto [it, fresh] = first_of.try_emplace(d.text, i);
        const Document& first = documents[it->second];
        if (fresh || *d.label == *first.label || word_count(d.text) == 0 || !counted.insert(it->second).second) continue;
        if (++texts > 3) continue;
        const std::size_t cut = whole_code_points(d.text, 60);
        examples += fmt::format("{}'{}{}' ({}: '{}', '{}')", examples.empty() ? "" : "; ",
                                without_invisible(d.text.substr(0, cut), true), cut < d.text.size() ? "..." : "",
                                documents_at(namer, {first.line, d.line}), shown_label(*first.label), shown_label(*d.label));
    }
    if (texts == 0) return "";
    return fmt::format("{} under different labels, e.g. {}: no model can tell such documents apart",
                       texts == 1 ? std::string("1 text appears") : fmt::format("{} texts appear", texts), examples);
}

// The value of a label written as a plain decimal number ("1", "-0.5", "01", "1e3"), or nullopt.
std::optional<double> number_of(const std::string& label) {
    if (label.empty() || label.size() > 64 ||
        label.find_first_not_of("0123456789+-.eE") != std::string::npos ||
        label.find_first_of("0123456789") == std::string::npos)
        return std::nullopt;
    char* end = nullptr;
    const double value = std::strtod(label.c_str(), &end);
    if (end != label.c_str() + label.size() || !std::isfinite(value)) return std::nullopt;
    return value;
}

// How a missing value comes out of pandas, R, SQL or a spreadsheet.
bool looks_missing(const std::string& label) {
    static const std::set<std::string> missing{"nan", "null", "na", "n/a", "#n/a", "undefined"};
    return missing.count(lowered(label)) != 0;
}
}  // namespace

std::vector<std::string> check_labelled_documents(std::vector<Document>& documents, const DataCheckOptions& options) {
    const std::string& source = options.source;
    std::vector<std::string> warnings;

    // Pass 1: trim, count per label, note the rows worth naming.
    std::size_t trimmed_rows = 0, first_trimmed_line = 0, header_rows = 0, first_header_line = 0;
    std::size_t wordy_labels = 0, first_wordy_line = 0, empty_texts = 0, first_empty_line = 0;
    std::size_t number_texts = 0, first_number_line = 0;
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
        // A model file holds its labels as UTF-8 (and refuses others at load): a library caller's
        // label of other bytes trained, saved, and made a model that did not load.
        if (const auto bad = find_invalid_utf8(label))
            throw InputError(fmt::format("{}:{}: the label is not valid UTF-8 (byte {})", source, d.line, *bad + 1));
        // predict writes a document's label on its one output line, between tabs or commas.
        if (const auto control = find_control_character(label))
            throw InputError(fmt::format(
                "{}:{}: the label holds {} at byte {}: a label is one line of text without control characters{}", source,
                d.line, describe_code_point(control->code_point), control->offset + 1,
                control->code_point == '\n' || control->code_point == '\r' ? " (a quoted CSV field that runs across lines?)"
                                                                            : ""));
        auto [it, inserted] = per_label.try_emplace(label, 0, d.line);
        ++it->second.first;
        // The header again, as a row of data (in any letter case: 'Label,Text' under 'label,text').
        if (!options.label_column.empty() && lowered(label) == lowered(options.label_column) &&
            lowered(trimmed(d.text)) == lowered(options.text_column))
            if (header_rows++ == 0) first_header_line = d.line;
        if (word_count(label) >= 4)
            if (wordy_labels++ == 0) first_wordy_line = d.line;
        const std::size_t words = word_count(d.text);
        if (words == 0 && empty_texts++ == 0) first_empty_line = d.line;
        if (words == 1 && number_of(trimmed(d.text)) && number_texts++ == 0) first_number_line = d.line;
        if (words == 1 && short_texts.size() <= 64) ++short_texts[trimmed(d.text)];
    }
    const std::size_t n = documents.size();

    if (trimmed_rows)
        warnings.push_back(trimmed_labels_warning(source, trimmed_rows, first_trimmed_line, options.document_name));

    if (options.training && n > 2 && per_label.size() == n)
        throw InputError(fmt::format("{}: every one of the {} documents has a label of its own (first: '{}'): the label "
                                     "column does not seem to hold class labels; check which column is the label",
                                     source, n, shown_label(per_label.begin()->first)));

    // Labels equal but for characters that do not show, or for the kind of white space.
    std::map<std::string, std::vector<std::string>> by_visible;
    for (const auto& [label, counts] : per_label) by_visible[without_invisible(label)].push_back(label);
    for (const auto& entry : by_visible) {
        const std::vector<std::string>& labels = entry.second;
        if (labels.size() < 2) continue;
        std::vector<std::string> shown;
        for (const auto& l : labels) shown.push_back(shown_label(l));
        warnings.push_back(fmt::format("{}: labels {} differ only in characters that do not show (zero-width "
                                       "spaces, joiners, soft hyphens, byte-order marks...) or in the kind of white "
                                       "space and are trained as {} "
                                       "different classes {}",
                                       source, quoted_list(shown, shown.size()), labels.size(),
                                       first_lines(labels, per_label, options.document_name)));
    }

    // Labels equal but for letter case (ASCII letters: what a spreadsheet's autocorrect changes).
    std::map<std::string, std::vector<std::string>> by_lowered;
    for (const auto& [label, counts] : per_label) by_lowered[lowered(label)].push_back(label);
    for (const auto& entry : by_lowered) {
        const std::vector<std::string>& labels = entry.second;
        if (labels.size() < 2) continue;
        std::vector<std::string> shown;
        for (const auto& l : labels) shown.push_back(shown_label(l));
        warnings.push_back(fmt::format("{}: labels {} differ only in letter case and are trained as {} different "
                                       "classes {}",
                                       source, quoted_list(shown, shown.size()), labels.size(),
                                       first_lines(labels, per_label, options.document_name)));
    }

    // Labels that read the same but differ in Unicode form, width or spacing ('café' composed
    // and decomposed, 'ｓｐａｍ' and 'spam', 'very  good' and 'very good'), unless said above.
    std::set<std::vector<std::string>> said;
    for (const auto& group : {by_visible, by_lowered})
        for (const auto& entry : group)
            if (entry.second.size() > 1) said.insert(entry.second);
    std::map<std::string, std::vector<std::string>> by_look;
    for (const auto& [label, counts] : per_label) by_look[look_alike_key(without_invisible(label))].push_back(label);
    for (const auto& entry : by_look) {
        const std::vector<std::string>& labels = entry.second;
        if (labels.size() < 2 || said.count(labels)) continue;
        std::vector<std::string> shown;
        for (const auto& l : labels) shown.push_back(shown_label(l));
        warnings.push_back(fmt::format("{}: labels {} look alike (they differ in Unicode form, character width or "
                                       "spacing) and are trained as {} different classes {}",
                                       source, quoted_list(shown, shown.size()), labels.size(),
                                       first_lines(labels, per_label, options.document_name)));
    }

    // Labels that are one number written differently ('1', '1.0', '01'): a spreadsheet's or a
    // script's export, trained as as many classes.
    std::map<double, std::vector<std::string>> by_number;
    for (const auto& [label, counts] : per_label)
        if (const auto value = number_of(label)) by_number[*value].push_back(label);
    for (const auto& [value, labels] : by_number)
        if (labels.size() > 1)
            warnings.push_back(fmt::format("{}: labels {} are the same number written differently and are trained as "
                                           "{} different classes {}",
                                           source, quoted_list(labels, labels.size()), labels.size(),
                                           first_lines(labels, per_label, options.document_name)));

    // A missing value written out by the tool that made the file (pandas' NaN, None, NULL...).
    for (const auto& [label, counts] : per_label)
        if (looks_missing(label))
            warnings.push_back(fmt::format("{}: {} document{} labelled '{}' (first: {}), which reads like a missing "
                                           "value written out by the tool that made the file, trained as a class",
                                           source, counts.first, counts.first == 1 ? " is" : "s are", label,
                                           document_at(options.document_name, counts.second)));

    if (options.training && per_label.size() < n && 2 * per_label.size() > n)
        warnings.push_back(fmt::format("{}: {} labels for {} documents: fewer than 2 documents per label on average is "
                                       "too little to learn from",
                                       source, per_label.size(), n));

    std::string rare;
    std::size_t rare_count = 0;
    for (const auto& [label, counts] : per_label)
        if (counts.first < options.few_documents && rare_count++ < 8)
            rare += fmt::format("{}'{}' ({})", rare.empty() ? "" : ", ", shown_label(label), counts.first);
    if (rare_count > 8) rare += fmt::format(" and {} more", rare_count - 8);
    if (rare_count && options.training && 2 * per_label.size() <= n)
        warnings.push_back(fmt::format("{}: {} with fewer than {} documents: {}", source,
                                       rare_count == 1 ? std::string("1 label") : fmt::format("{} labels", rare_count),
                                       options.few_documents, rare));

    // An identifier or a score column read as the text.
    if (n >= 10 && 10 * number_texts >= 9 * n)
        warnings.push_back(fmt::format("{}: {} of {} texts are a number and nothing else (first: {}): is the text "
                                       "column the right one?",
                                       source, number_texts, n, document_at(options.document_name, first_number_line)));

    if (empty_texts)
        warnings.push_back(fmt::format("{}: {} of {} texts are empty (first: {})", source, empty_texts, n,
                                       document_at(options.document_name, first_empty_line)));

    if (std::string conflicts = conflicting_labels(documents, options.document_name); !conflicts.empty())
        warnings.push_back(source + ": " + conflicts);

    // (Not when rows repeat the whole header: that warning below says more.)
    if (const auto it = per_label.find(options.label_column); it != per_label.end() && header_rows == 0)
        warnings.push_back(fmt::format("{}: the label column's name in the header, '{}', is also the label of {} "
                                       "document{}: is the header row a document?",
                                       source, options.label_column, it->second.first, it->second.first == 1 ? "" : "s"));

    if (header_rows)
        warnings.push_back(fmt::format("{}: {} repeat{} the header ('{}', '{}') and {} read as data (first: {})",
                                       source, header_rows == 1 ? std::string("1 row") : fmt::format("{} rows", header_rows),
                                       header_rows == 1 ? "s" : "", options.label_column, options.text_column,
                                       header_rows == 1 ? "is" : "are", document_at(options.document_name, first_header_line)));

    if (wordy_labels)
        warnings.push_back(fmt::format("{}: {} labels look like texts (4 words or more; first: {}): are the label "
                                       "and text columns swapped?",
                                       source, wordy_labels, document_at(options.document_name, first_wordy_line)));
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
