// Text -> tokens, the same function at training and at prediction time.
//
// What tokenize() does, in order:
//   1. Invalid UTF-8 is replaced by U+FFFD (readers normally reject or repair it first; this
//      keeps the promise that every token is valid UTF-8).
//   2. normalize: Unicode NFKC (compatibility forms fold: "ﬁ" -> "fi", full-width "Ａ" -> "A",
//      "e" + U+0301 -> "é", Arabic presentation forms -> plain letters).
//   3. lowercase: Unicode full case folding ("Straße" -> "strasse", "ΣΑΣ" -> "σασ"), which
//      is what "lowercase" means for matching, not for display.
//   4. placeholders (off by default), found on the text before segmentation: URLs that start
//      with http://, https://, ftp:// or www. (ASCII URL characters; trailing .,;:!?'" and
//      unbalanced closing brackets are not part of them) -> "<url>"; e-mail addresses
//      (local@domain.tld) -> "<email>".
//   5. Segmentation by ICU's word break rules (UAX #29 plus ICU's dictionaries), so Chinese,
//      Japanese and Thai are split into words, "don't", "3.14" and "a.b.c" stay whole, '@'
//      counts as a letter ("me@x.org", "@user" stay whole: ICU 72's root rules), and an
//      emoji with its modifiers or ZWJ sequence is one token. Segments made only of white
//      space, control or format characters are never tokens.
//   6. placeholders again: a segment of decimal digits with . , ; ' _ inside -> "<num>"; a
//      currency symbol (Unicode Sc) written right before or after a number -> "<money>"
//      ("$5.99", "£10", "5€"; "$ 5" is "$" "<num>").
//   7. punctuation: drop removes segments made only of punctuation (Unicode P*: . , ! ? " '
//      - ( ) ... but not symbols such as $ + = or emoji); keep (default) keeps them as tokens.
// Placeholder tokens contain '<' and '>', which segmentation always splits off, so no text
// can produce them except through step 4 or 6.
//
// A document that is pure ASCII takes a fast path that segments with the same rules
// restricted to ASCII (NFKC and case folding of ASCII are identity and A-Z -> a-z); the
// tests compare it with the ICU path on many inputs, and it switches itself off if the ICU
// in use segments ASCII differently (see ascii_fast_path()). tokenize_with_icu() always
// takes the ICU path.
//
// Thread safety: a Tokenizer is immutable; ICU's break iterators are not thread-safe, so each
// thread keeps its own (thread_local), and any number of threads may call any method.
#pragma once

#include <cstddef>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace textcnn {

enum class Punctuation { keep, drop };

inline constexpr std::string_view url_placeholder = "<url>";
inline constexpr std::string_view email_placeholder = "<email>";
inline constexpr std::string_view number_placeholder = "<num>";
inline constexpr std::string_view money_placeholder = "<money>";

struct TokenizerSettings {
    bool lowercase = true;  ///< Unicode full case folding
    bool normalize = true;  ///< NFKC
    Punctuation punctuation = Punctuation::keep;
    bool placeholders = false;  ///< URLs, e-mail addresses, numbers, money -> placeholder tokens

    /// Every setting as text, for model files: {"lowercase": "true", "normalize": "true",
    /// "placeholders": "false", "punctuation": "keep"}.
    std::map<std::string, std::string> to_map() const;
    /// The inverse. An unknown key or value is a ConfigError (a model made by a newer textcnn
    /// whose tokenization this one cannot reproduce); a missing key keeps its default above.
    static TokenizerSettings from_map(const std::map<std::string, std::string>& map);
    /// "lowercase, NFKC, punctuation kept, no placeholders"
    std::string describe() const;

    bool operator==(const TokenizerSettings&) const = default;
};

class Tokenizer {
public:
    explicit Tokenizer(TokenizerSettings settings = {}) : settings_(settings) {}

    const TokenizerSettings& settings() const { return settings_; }

    std::vector<std::string> tokenize(std::string_view text) const;
    /// The same into `tokens` (cleared first; reuses its storage).
    void tokenize(std::string_view text, std::vector<std::string>& tokens) const;

    /// Tokenizes every text in parallel (oneTBB). out[i] are the tokens of texts[i]; the result
    /// equals calling tokenize() on each text in turn, byte for byte, whatever the threads.
    std::vector<std::vector<std::string>> tokenize_batch(std::span<const std::string> texts) const;
    void tokenize_batch(std::span<const std::string> texts, std::vector<std::vector<std::string>>& out) const;

    /// Steps 1-3 only (repair, NFKC, case folding, as the settings say) on a single string:
    /// how pretrained-vector words are matched to vocabulary entries.
    std::string normalize(std::string_view text) const;

    /// tokenize() without the ASCII fast path: the reference the fast path is tested against.
    std::vector<std::string> tokenize_with_icu(std::string_view text) const;

    /// Whether pure-ASCII documents take the fast path: true unless the ICU found at run time
    /// segments some ASCII context differently from the rules the fast path encodes (checked
    /// once per process on every pair of ASCII characters and more), in which case every
    /// document goes through ICU.
    static bool ascii_fast_path();

private:
    void tokenize_ascii(std::string_view text, std::vector<std::string>& tokens) const;
    void tokenize_unicode(std::string_view text, std::vector<std::string>& tokens) const;
    std::string_view normalize_into_scratch(std::string_view text) const;

    TokenizerSettings settings_;
};

}  // namespace textcnn
