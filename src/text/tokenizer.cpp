#include "textcnn/text/tokenizer.h"

#include "textcnn/core/error.h"
#include "textcnn/text/utf8.h"

#include <fmt/format.h>
#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_for.h>
#include <unicode/brkiter.h>
#include <unicode/bytestream.h>
#include <unicode/casemap.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/utext.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cstring>
#include <memory>

namespace textcnn {
namespace {

// ---------------------------------------------------------------------------------------
// Character classes. ASCII ones come from ICU itself, once, so both paths agree.

/// Word-break classes of ASCII characters under ICU's root rules (UAX #29 minus the colon,
/// which ICU removes from MidLetter).
enum class WordClass : std::uint8_t { other, letter, digit, mid_num_let, mid_num, extend_num_let, cr, space };

struct CharFlags {
    bool invisible = false;  // white space, control or format: never part of a token alone
    bool punctuation = false;  // general category P*
    bool currency = false;     // general category Sc
    bool digit = false;        // general category Nd
};

CharFlags flags_of(UChar32 c) {
    const auto type = static_cast<UCharCategory>(u_charType(c));
    CharFlags f;
    f.invisible = u_isUWhiteSpace(c) || type == U_CONTROL_CHAR || type == U_FORMAT_CHAR;
    f.punctuation = u_ispunct(c);
    f.currency = type == U_CURRENCY_SYMBOL;
    f.digit = type == U_DECIMAL_DIGIT_NUMBER;
    return f;
}

/// CharFlags of an ASCII character as bits, so a segment's flags are one AND and one OR.
enum : std::uint8_t {
    invisible_bit = 1,
    punctuation_bit = 2,
    numeric_bit = 4,  // a decimal digit or a separator a number may contain (. , ; ' _)
    digit_bit = 8,
    currency_bit = 16,
};

struct AsciiTables {
    std::array<WordClass, 128> word{};
    std::array<std::uint8_t, 128> bits{};
};

const AsciiTables& ascii_tables() {
    static const AsciiTables tables = [] {
        AsciiTables t;
        for (int c = 0; c < 128; ++c) {
            const CharFlags f = flags_of(c);
            const bool separator = c == '.' || c == ',' || c == ';' || c == '\'' || c == '_';
            t.bits[c] = static_cast<std::uint8_t>((f.invisible ? invisible_bit : 0) | (f.punctuation ? punctuation_bit : 0) |
                                                  (f.digit || separator ? numeric_bit : 0) | (f.digit ? digit_bit : 0) |
                                                  (f.currency ? currency_bit : 0));
            WordClass w = WordClass::other;
            // ICU 72 (CLDR 42) tailors '@' into ALetter so that handles and addresses stay whole.
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '@') w = WordClass::letter;
            else if (c >= '0' && c <= '9') w = WordClass::digit;
            else if (c == '.' || c == '\'') w = WordClass::mid_num_let;
            else if (c == ',' || c == ';') w = WordClass::mid_num;
            else if (c == '_') w = WordClass::extend_num_let;
            else if (c == '\r') w = WordClass::cr;
            else if (c == ' ') w = WordClass::space;
            t.word[c] = w;
        }
        return t;
    }();
    return tables;
}

bool joins_word(WordClass c) {
    return c == WordClass::letter || c == WordClass::digit || c == WordClass::extend_num_let;
}

/// End of the ICU word-break segment that starts at text[i], for ASCII text:
/// WB3 (CR x LF), WB3d (spaces stay together), WB5/8/9/10/13a/13b (letters, digits and '_'
/// join), WB6/7 (letter (.|') letter), WB11/12 (digit (.|'|,|;) digit); everything else is a
/// segment of one character.
std::size_t ascii_segment_end(std::string_view text, std::size_t i, const AsciiTables& t) {
    const std::size_t n = text.size();
    const WordClass first = t.word[static_cast<unsigned char>(text[i])];
    std::size_t j = i + 1;
    if (joins_word(first)) {
        while (j < n) {
            const WordClass c = t.word[static_cast<unsigned char>(text[j])];
            if (joins_word(c)) {
                ++j;
                continue;
            }
            if (j + 1 < n) {
                const WordClass before = t.word[static_cast<unsigned char>(text[j - 1])];
                const WordClass after = t.word[static_cast<unsigned char>(text[j + 1])];
                if (before == WordClass::letter && after == WordClass::letter && c == WordClass::mid_num_let) {
                    j += 2;
                    continue;
                }
                if (before == WordClass::digit && after == WordClass::digit &&
                    (c == WordClass::mid_num_let || c == WordClass::mid_num)) {
                    j += 2;
                    continue;
                }
            }
            break;
        }
    } else if (first == WordClass::space) {
        while (j < n && text[j] == ' ') ++j;
    } else if (first == WordClass::cr) {
        if (j < n && text[j] == '\n') ++j;
    }
    return j;
}

// ---------------------------------------------------------------------------------------
// URLs and e-mail addresses, found before segmentation (ASCII, case-insensitive).

struct PlaceholderSpan {
    std::size_t begin = 0, end = 0;
    std::string_view token;
};

bool is_ascii_alnum(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_ascii_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool starts_with_ignoring_case(std::string_view text, std::size_t pos, std::string_view lower_prefix) {
    if (text.size() - pos < lower_prefix.size()) return false;
    for (std::size_t k = 0; k < lower_prefix.size(); ++k)
        if (ascii_lower(text[pos + k]) != lower_prefix[k]) return false;
    return true;
}

bool is_url_char(char c) { return is_ascii_alnum(c) || (c != '\0' && std::strchr("-._~:/?#[]@!$&'()*+,;=%", c)); }
bool is_email_local_char(char c) { return is_ascii_alnum(c) || (c != '\0' && std::strchr("._%+-", c)); }

/// End of the URL whose scheme or "www." (prefix_length bytes) starts at `begin`, or `begin`
/// when nothing URL-like follows the prefix.
std::size_t url_end(std::string_view text, std::size_t begin, std::size_t prefix_length) {
    const std::size_t body = begin + prefix_length;
    std::size_t end = body;
    while (end < text.size() && is_url_char(text[end])) ++end;
    // A closing bracket ends the URL unless it closes one the URL opened: counted once and
    // kept as the end moves back (recounting the span for each trailing ')' was quadratic:
    // 200,000 of them took 14 s).
    const auto span = text.substr(begin, end - begin);
    std::ptrdiff_t unmatched_parens = std::count(span.begin(), span.end(), ')') - std::count(span.begin(), span.end(), '(');
    std::ptrdiff_t unmatched_brackets = std::count(span.begin(), span.end(), ']') - std::count(span.begin(), span.end(), '[');
    while (end > body) {
        const char c = text[end - 1];
        if (std::strchr(".,;:!?'\"", c)) {
            --end;
            continue;
        }
        std::ptrdiff_t& unmatched = c == ')' ? unmatched_parens : unmatched_brackets;
        if ((c == ')' || c == ']') && unmatched > 0) {
            --unmatched;
            --end;
            continue;
        }
        break;
    }
    for (std::size_t k = body; k < end; ++k)
        if (is_ascii_alnum(text[k])) return end;
    return begin;
}

void find_urls(std::string_view text, std::vector<PlaceholderSpan>& spans) {
    static constexpr std::array<std::string_view, 4> prefixes = {"http://", "https://", "ftp://", "www."};
    for (std::size_t i = 0; i < text.size();) {
        const char c = ascii_lower(text[i]);
        if ((c == 'h' || c == 'f' || c == 'w') && (i == 0 || !is_ascii_alnum(text[i - 1]))) {
            bool found = false;
            for (const auto prefix : prefixes) {
                if (!starts_with_ignoring_case(text, i, prefix)) continue;
                const std::size_t end = url_end(text, i, prefix.size());
                if (end > i) {
                    spans.push_back({i, end, url_placeholder});
                    i = end;
                    found = true;
                }
                break;
            }
            if (found) continue;
        }
        ++i;
    }
}

/// Adds e-mail addresses outside the URL spans already in `spans` (which stay sorted).
void find_emails(std::string_view text, std::vector<PlaceholderSpan>& spans, std::vector<PlaceholderSpan>& scratch) {
    scratch.clear();
    std::size_t url = 0;          // next URL span not yet passed
    std::size_t left_limit = 0;   // an address may not reach back before this
    for (std::size_t at = text.find('@'); at != std::string_view::npos; at = text.find('@', at + 1)) {
        while (url < spans.size() && spans[url].end <= at) left_limit = std::max(left_limit, spans[url++].end);
        if (url < spans.size() && spans[url].begin <= at) continue;  // inside a URL
        std::size_t begin = at;
        while (begin > left_limit && is_email_local_char(text[begin - 1])) --begin;
        while (begin < at && text[begin] == '.') ++begin;
        if (begin == at) continue;
        std::size_t end = at + 1;
        std::size_t labels = 0;
        std::size_t last_label = end;
        while (true) {
            const std::size_t label = end;
            while (end < text.size() && (is_ascii_alnum(text[end]) || text[end] == '-')) ++end;
            if (end == label) break;
            ++labels;
            last_label = label;
            if (end + 1 < text.size() && text[end] == '.' && is_ascii_alnum(text[end + 1])) {
                ++end;
                continue;
            }
            break;
        }
        if (labels < 2 || end - last_label < 2) continue;
        if (!std::all_of(text.begin() + last_label, text.begin() + end, is_ascii_alpha)) continue;
        if (url < spans.size() && spans[url].begin < end) continue;  // would run into a URL
        scratch.push_back({begin, end, email_placeholder});
        left_limit = end;
        at = end - 1;
    }
    if (scratch.empty()) return;
    const std::size_t urls = spans.size();
    spans.insert(spans.end(), scratch.begin(), scratch.end());
    std::inplace_merge(spans.begin(), spans.begin() + static_cast<std::ptrdiff_t>(urls), spans.end(),
                       [](const PlaceholderSpan& a, const PlaceholderSpan& b) { return a.begin < b.begin; });
}

// ---------------------------------------------------------------------------------------
// Turning segments into tokens (shared by both paths).

class TokenSink {
public:
    TokenSink(const TokenizerSettings& settings, std::vector<std::string>& tokens, bool lowercase_ascii)
        : settings_(settings), tokens_(tokens), lowercase_ascii_(lowercase_ascii), tables_(ascii_tables()) {}

    void segment(std::string_view segment) {
        // Flags of the whole segment: "all" flags AND-ed, "any" flags OR-ed over its characters.
        unsigned all = 0xFF, any = 0;
        std::size_t code_points = 0;
        for (std::size_t i = 0; i < segment.size();) {
            const auto byte = static_cast<unsigned char>(segment[i]);
            unsigned bits;
            if (byte < 0x80) {
                bits = tables_.bits[byte];
                ++i;
            } else {
                const std::size_t length = utf8_sequence_length(segment, i);  // valid by construction
                const CharFlags f = flags_of(static_cast<UChar32>(decode_utf8(segment, i, length)));
                bits = (f.invisible ? invisible_bit : 0) | (f.punctuation ? punctuation_bit : 0) |
                       (f.digit ? numeric_bit | digit_bit : 0) | (f.currency ? currency_bit : 0);
                i += length;
            }
            ++code_points;
            all &= bits;
            any |= bits;
        }
        const bool invisible = all & invisible_bit, punctuation = all & punctuation_bit, numeric = all & numeric_bit,
                   digit = any & digit_bit, currency = code_points == 1 && (all & currency_bit);
        if (invisible) {
            last_ = Last::none;
            return;
        }
        if (settings_.placeholders) {
            if (numeric && digit) {
                if (last_ == Last::currency) {
                    tokens_.back() = money_placeholder;
                    last_ = Last::other;
                } else {
                    tokens_.emplace_back(number_placeholder);
                    last_ = Last::number;
                }
                return;
            }
            if (currency) {
                if (last_ == Last::number) {
                    tokens_.back() = money_placeholder;
                    last_ = Last::other;
                } else {
                    tokens_.emplace_back(segment);
                    last_ = Last::currency;
                }
                return;
            }
        }
        last_ = Last::other;
        if (punctuation && settings_.punctuation == Punctuation::drop) return;
        std::string& token = tokens_.emplace_back(segment);
        if (lowercase_ascii_)
            for (char& c : token) c = ascii_lower(c);
    }

    void placeholder(std::string_view token) {
        tokens_.emplace_back(token);
        last_ = Last::other;
    }

private:
    enum class Last { none, number, currency, other };  // the segment just before, if adjacent
    const TokenizerSettings& settings_;
    std::vector<std::string>& tokens_;
    bool lowercase_ascii_;
    const AsciiTables& tables_;
    Last last_ = Last::none;
};

// ---------------------------------------------------------------------------------------
// Per-thread ICU state and scratch buffers.

struct ThreadScratch {
    std::unique_ptr<icu::BreakIterator> word_breaker;
    std::string repaired, stream_safe, normalized, folded;
    std::vector<PlaceholderSpan> spans, email_scratch;
};

ThreadScratch& thread_scratch() {
    thread_local ThreadScratch scratch;
    return scratch;
}

void check(UErrorCode status, const char* what) {
    if (U_FAILURE(status)) throw Error(fmt::format("tokenizer: ICU {} failed: {}", what, u_errorName(status)));
}

icu::BreakIterator& word_breaker(ThreadScratch& scratch) {
    if (!scratch.word_breaker) {
        UErrorCode status = U_ZERO_ERROR;
        scratch.word_breaker.reset(icu::BreakIterator::createWordInstance(icu::Locale::getRoot(), status));
        check(status, "word break iterator creation");
    }
    return *scratch.word_breaker;
}

void segment_ascii(std::string_view text, TokenSink& sink) {
    const AsciiTables& tables = ascii_tables();
    for (std::size_t i = 0; i < text.size();) {
        const std::size_t end = ascii_segment_end(text, i, tables);
        sink.segment(text.substr(i, end - i));
        i = end;
    }
}

void segment_icu(std::string_view text, TokenSink& sink, ThreadScratch& scratch) {
    if (text.empty()) return;
    UErrorCode status = U_ZERO_ERROR;
    UText ut = UTEXT_INITIALIZER;
    utext_openUTF8(&ut, text.data(), static_cast<int64_t>(text.size()), &status);
    check(status, "UText");
    icu::BreakIterator& breaker = word_breaker(scratch);
    breaker.setText(&ut, status);
    check(status, "word break setText");
    std::int32_t start = breaker.first();
    for (std::int32_t end = breaker.next(); end != icu::BreakIterator::DONE; start = end, end = breaker.next())
        sink.segment(text.substr(static_cast<std::size_t>(start), static_cast<std::size_t>(end - start)));
    utext_close(&ut);
}

/// True when the ASCII segmentation above reproduces this ICU's segmentation on every pair of
/// ASCII characters and on every character between two letters or two digits (the contexts
/// in which the rules above differ). Checked once per process (~10 ms); if a future ICU
/// changes its rules, the fast path turns itself off rather than produce other tokens.
bool ascii_rules_match_icu() {
    static const bool match = [] {
        const AsciiTables& tables = ascii_tables();
        ThreadScratch& scratch = thread_scratch();
        icu::BreakIterator& breaker = word_breaker(scratch);
        const auto same = [&](std::string_view probe) {
            UErrorCode status = U_ZERO_ERROR;
            UText ut = UTEXT_INITIALIZER;
            utext_openUTF8(&ut, probe.data(), static_cast<int64_t>(probe.size()), &status);
            breaker.setText(&ut, status);
            check(status, "word break setText");
            bool equal = true;
            std::size_t pos = 0;
            breaker.first();
            for (std::int32_t end = breaker.next(); end != icu::BreakIterator::DONE; end = breaker.next()) {
                if (pos >= probe.size() || ascii_segment_end(probe, pos, tables) != static_cast<std::size_t>(end)) {
                    equal = false;
                    break;
                }
                pos = static_cast<std::size_t>(end);
            }
            utext_close(&ut);
            return equal && pos == probe.size();
        };
        std::string probe;
        for (int a = 0; a < 128; ++a) {
            for (int b = 0; b < 128; ++b) {
                probe = {static_cast<char>(a), static_cast<char>(b)};
                if (!same(probe)) return false;
            }
            for (const char* around : {"aa", "11", "a1", "1a", "__"}) {
                probe = {around[0], static_cast<char>(a), around[1]};
                if (!same(probe)) return false;
            }
        }
        return true;
    }();
    return match;
}

/// Segments `text`, giving placeholder spans (if enabled) their tokens and segmenting the
/// text between them with `segment`.
template <class Segment>
void segment_with_placeholders(std::string_view text, const TokenizerSettings& settings, TokenSink& sink,
                               ThreadScratch& scratch, Segment segment) {
    if (!settings.placeholders) {
        segment(text);
        return;
    }
    scratch.spans.clear();
    find_urls(text, scratch.spans);
    find_emails(text, scratch.spans, scratch.email_scratch);
    std::size_t pos = 0;
    for (const auto& span : scratch.spans) {
        segment(text.substr(pos, span.begin - pos));
        sink.placeholder(span.token);
        pos = span.end;
    }
    segment(text.substr(pos));
}

}  // namespace

// ---------------------------------------------------------------------------------------

std::map<std::string, std::string> TokenizerSettings::to_map() const {
    return {{"lowercase", lowercase ? "true" : "false"},
            {"normalize", normalize ? "true" : "false"},
            {"punctuation", punctuation == Punctuation::keep ? "keep" : "drop"},
            {"placeholders", placeholders ? "true" : "false"}};
}

TokenizerSettings TokenizerSettings::from_map(const std::map<std::string, std::string>& map) {
    TokenizerSettings settings;
    const auto boolean = [](const std::string& key, const std::string& value) {
        if (value == "true") return true;
        if (value == "false") return false;
        throw ConfigError(fmt::format("tokenizer settings: {} must be true or false, not '{}'", key, value));
    };
    for (const auto& [key, value] : map) {
        if (key == "lowercase") {
            settings.lowercase = boolean(key, value);
        } else if (key == "normalize") {
            settings.normalize = boolean(key, value);
        } else if (key == "placeholders") {
            settings.placeholders = boolean(key, value);
        } else if (key == "punctuation") {
            if (value == "keep") settings.punctuation = Punctuation::keep;
            else if (value == "drop") settings.punctuation = Punctuation::drop;
            else throw ConfigError(fmt::format("tokenizer settings: punctuation must be keep or drop, not '{}'", value));
        } else {
            throw ConfigError(fmt::format(
                "tokenizer settings: unknown setting '{}' (known: lowercase, normalize, placeholders, punctuation)", key));
        }
    }
    return settings;
}

std::string TokenizerSettings::describe() const {
    return fmt::format("{}, {}, punctuation {}, {}", lowercase ? "lowercase" : "case kept",
                       normalize ? "NFKC" : "not normalized", punctuation == Punctuation::keep ? "kept" : "dropped",
                       placeholders ? "placeholders for URLs, e-mails, numbers and money" : "no placeholders");
}

std::vector<std::string> Tokenizer::tokenize(std::string_view text) const {
    std::vector<std::string> tokens;
    tokenize(text, tokens);
    return tokens;
}

void Tokenizer::tokenize(std::string_view text, std::vector<std::string>& tokens) const {
    tokens.clear();
    if (is_ascii(text) && ascii_rules_match_icu())
        tokenize_ascii(text, tokens);
    else
        tokenize_unicode(text, tokens);
}

bool Tokenizer::ascii_fast_path() { return ascii_rules_match_icu(); }

std::vector<std::string> Tokenizer::tokenize_with_icu(std::string_view text) const {
    std::vector<std::string> tokens;
    tokenize_unicode(text, tokens);
    return tokens;
}

void Tokenizer::tokenize_ascii(std::string_view text, std::vector<std::string>& tokens) const {
    // ASCII is NFKC-invariant and its full case folding is A-Z -> a-z; word-break classes do
    // not depend on case, so folding each token afterwards equals folding the text first.
    TokenSink sink(settings_, tokens, settings_.lowercase);
    ThreadScratch& scratch = thread_scratch();
    segment_with_placeholders(text, settings_, sink, scratch, [&](std::string_view part) { segment_ascii(part, sink); });
}

/// Repairs, normalizes and folds `text` as the settings say, into the thread's scratch
/// buffers; returns a view of the result (or of `text` itself when nothing changes it).
std::string_view Tokenizer::normalize_into_scratch(std::string_view text) const {
    // ICU indexes strings with int32_t.
    const auto check_length = [](std::string_view t) {
        if (t.size() > static_cast<std::size_t>(INT32_MAX))
            throw InputError(fmt::format("tokenizer: a document of {} bytes is too long (at most {})", t.size(), INT32_MAX));
    };
    check_length(text);
    ThreadScratch& scratch = thread_scratch();
    if (find_invalid_utf8(text)) {
        scratch.repaired.clear();
        append_repaired_utf8(text, scratch.repaired);
        text = scratch.repaired;
    }
    UErrorCode status = U_ZERO_ERROR;
    if (settings_.normalize) {
        // Runs of more than 30 combining marks get a U+034F joiner first (UAX #15's stream-safe
        // form): NFKC sorts a run by insertion, quadratic in its length (26 s for 320 KB).
        if (stream_safe_utf8(text, scratch.stream_safe)) text = scratch.stream_safe;
        const icu::Normalizer2* nfkc = icu::Normalizer2::getNFKCInstance(status);
        check(status, "NFKC instance");
        scratch.normalized.clear();
        icu::StringByteSink<std::string> out(&scratch.normalized);
        nfkc->normalizeUTF8(0, icu::StringPiece(text.data(), static_cast<std::int32_t>(text.size())), out, nullptr,
                            status);
        check(status, "NFKC normalization");
        text = scratch.normalized;
        check_length(text);
    }
    if (settings_.lowercase) {
        scratch.folded.clear();
        icu::StringByteSink<std::string> out(&scratch.folded);
        icu::CaseMap::utf8Fold(U_FOLD_CASE_DEFAULT, icu::StringPiece(text.data(), static_cast<std::int32_t>(text.size())),
                               out, nullptr, status);
        check(status, "case folding");
        text = scratch.folded;
        check_length(text);
    }
    return text;
}

std::string Tokenizer::normalize(std::string_view text) const {
    if (is_ascii(text)) {
        std::string out(text);
        if (settings_.lowercase)
            for (char& c : out) c = ascii_lower(c);
        return out;
    }
    return std::string(normalize_into_scratch(text));
}

void Tokenizer::tokenize_unicode(std::string_view text, std::vector<std::string>& tokens) const {
    text = normalize_into_scratch(text);
    TokenSink sink(settings_, tokens, false);
    ThreadScratch& scratch = thread_scratch();
    segment_with_placeholders(text, settings_, sink, scratch,
                              [&](std::string_view part) { segment_icu(part, sink, scratch); });
}

std::vector<std::vector<std::string>> Tokenizer::tokenize_batch(std::span<const std::string> texts) const {
    std::vector<std::vector<std::string>> out;
    tokenize_batch(texts, out);
    return out;
}

void Tokenizer::tokenize_batch(std::span<const std::string> texts, std::vector<std::vector<std::string>>& out) const {
    out.resize(texts.size());
    // Each output slot is written by exactly one task, so the result cannot depend on the
    // partition; small grains keep both cores busy when document lengths vary.
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, texts.size(), 64),
                      [&](const tbb::blocked_range<std::size_t>& range) {
                          for (std::size_t i = range.begin(); i != range.end(); ++i) tokenize(texts[i], out[i]);
                      });
}

}  // namespace textcnn
