#define BOOST_TEST_MODULE tokenizer
#include <boost/test/unit_test.hpp>

#include "textcnn/core/error.h"
#include "textcnn/core/runtime.h"
#include "textcnn/text/tokenizer.h"
#include "textcnn/text/utf8.h"

#include <random>
#include <thread>

using namespace textcnn;
using Tokens = std::vector<std::string>;

namespace {

Tokens tokens_of(std::string_view text, TokenizerSettings settings = {}) { return Tokenizer(settings).tokenize(text); }

TokenizerSettings with_placeholders() {
    TokenizerSettings s;
    s.placeholders = true;
    return s;
}

TokenizerSettings dropping_punctuation() {
    TokenizerSettings s;
    s.punctuation = Punctuation::drop;
    return s;
}

TokenizerSettings raw() {
    TokenizerSettings s;
    s.lowercase = false;
    s.normalize = false;
    return s;
}

/// Random strings over ASCII characters from every word-break class, plus fragments that
/// exercise the placeholders.
std::string random_ascii(std::mt19937& rng) {
    static const std::string alphabet =
        "aZq09.',;:_- \t\n\r!@$<>/#%&*+=?~\"`\x01\x0b\x0c\x7f()[]{}|\\^wWhHtTpPs";
    static const std::vector<std::string> fragments = {
        "http://", "https://x.org/a_(b)", "www.", "WWW.Example.COM", "ftp://f", "me@x.com", "a.b@c-d.org",
        "$5.99",   "5$",                   "1,000.5", "3.14", "don't", "o'clock", "U.S.A.", "e-mail", "@user"};
    std::string s;
    const int parts = static_cast<int>(rng() % 10);
    for (int i = 0; i < parts; ++i) {
        if (rng() % 4 == 0) s += fragments[rng() % fragments.size()];
        else s += alphabet[rng() % alphabet.size()];
    }
    return s;
}

/// Sentences in several scripts, combined at random into documents for the batch tests.
std::vector<std::string> mixed_documents(std::size_t n) {
    const std::vector<std::string> pieces = {
        "Don't stop-believing, it's 3.14 o'clock!", "Die Straße ist GROß.", "我爱北京天安门。",
        "私は東京に住んでいます。", "สวัสดีครับ ผมชื่อสมชาย", "مرحبا بالعالم!", "I love it 😍👍🏽 🇫🇷",
        "Cafe\u0301 ﬁne ＡＢＣ", "Visit http://x.com/a or mail me@x.org", "Win £1,000 now!!!",
        "bad \xFF bytes \xC3", "", "   ", "a",
    };
    std::mt19937 rng(11);
    std::vector<std::string> docs(n);
    for (auto& d : docs) {
        const int k = static_cast<int>(rng() % 5);
        for (int i = 0; i < k; ++i) d += pieces[rng() % pieces.size()] + " ";
    }
    return docs;
}

}  // namespace

BOOST_AUTO_TEST_CASE(english_contractions_and_punctuation) {
    const std::string text = "Don't stop-believing, it's 3.14 o'clock! \"U.S.A.\" (e-mail)";
    BOOST_TEST(tokens_of(text) == (Tokens{"don't", "stop", "-", "believing", ",", "it's", "3.14", "o'clock", "!", "\"",
                                          "u.s.a", ".", "\"", "(", "e", "-", "mail", ")"}));
    BOOST_TEST(tokens_of(text, dropping_punctuation()) ==
               (Tokens{"don't", "stop", "believing", "it's", "3.14", "o'clock", "u.s.a", "e", "mail"}));
    BOOST_TEST(tokens_of("Hello   World", raw()) == (Tokens{"Hello", "World"}));
}

BOOST_AUTO_TEST_CASE(german_case_folding) {
    const std::string text = "Die Straße ist GROß, Öl und Äpfel.";
    BOOST_TEST(tokens_of(text) == (Tokens{"die", "strasse", "ist", "gross", ",", "öl", "und", "äpfel", "."}));
    BOOST_TEST(tokens_of(text, raw()) == (Tokens{"Die", "Straße", "ist", "GROß", ",", "Öl", "und", "Äpfel", "."}));
    BOOST_TEST(tokens_of("ΣΑΣ") == (Tokens{"σασ"}));
}

BOOST_AUTO_TEST_CASE(chinese_japanese_thai_are_segmented) {
    BOOST_TEST(tokens_of("我爱北京天安门。") == (Tokens{"我", "爱", "北京", "天安门", "。"}));
    BOOST_TEST(tokens_of("私は東京に住んでいます。") == (Tokens{"私", "は", "東京", "に", "住", "んで", "い", "ます", "。"}));
    BOOST_TEST(tokens_of("สวัสดีครับ ผมชื่อสมชาย") == (Tokens{"สวัสดี", "ครับ", "ผม", "ชื่อ", "สมชาย"}));
    BOOST_TEST(tokens_of("我爱北京天安门。", dropping_punctuation()) == (Tokens{"我", "爱", "北京", "天安门"}));
}

BOOST_AUTO_TEST_CASE(arabic_and_presentation_forms) {
    // U+FEFB (lam-alef ligature, a presentation form) becomes lam + alef under NFKC.
    BOOST_TEST(tokens_of("مرحبا بالعالم! \uFEFB") == (Tokens{"مرحبا", "بالعالم", "!", "\u0644\u0627"}));
    BOOST_TEST(tokens_of("مرحبا \uFEFB", raw()) == (Tokens{"مرحبا", "\uFEFB"}));
    // Vowel marks (combining) stay inside their word.
    BOOST_TEST(tokens_of("كَتَبَ الوَلَدُ") == (Tokens{"كَتَبَ", "الوَلَدُ"}));
}

BOOST_AUTO_TEST_CASE(emoji_survive_as_tokens) {
    const std::string text = "I love it 😍👍🏽 🇫🇷 👨‍👩‍👧 ❤️!";
    const Tokens expected{"i", "love", "it", "😍", "👍🏽", "🇫🇷", "👨‍👩‍👧", "❤️", "!"};
    BOOST_TEST(tokens_of(text) == expected);
    BOOST_TEST(tokens_of(text, dropping_punctuation()) == (Tokens{"i", "love", "it", "😍", "👍🏽", "🇫🇷", "👨‍👩‍👧", "❤️"}));
}

BOOST_AUTO_TEST_CASE(combining_marks_and_compatibility_forms_under_nfkc) {
    // "e" + U+0301 composes to U+00E9; the ligature, full-width forms and the circled digit
    // decompose.
    const Tokens t = tokens_of("Cafe\u0301 café ﬁne ＡＢＣ１２３ ①");
    BOOST_TEST(t == (Tokens{"café", "café", "fine", "abc123", "1"}));
    BOOST_TEST(t[0] == "caf\xC3\xA9");
    BOOST_TEST(tokens_of("Cafe\u0301 ﬁne ＡＢＣ", raw()) == (Tokens{"Cafe\u0301", "ﬁne", "ＡＢＣ"}));
    BOOST_TEST(Tokenizer().normalize("Ｃafe\u0301 ﬁ") == "café fi");
    BOOST_TEST(Tokenizer(raw()).normalize("Ｃafé") == "Ｃafé");
    BOOST_TEST(Tokenizer().normalize("MiXeD") == "mixed");
}

// 160,000 combining marks in alternating classes took ICU's NFKC 11 s (its reordering is an
// insertion sort); in the stream-safe form (utf8.h) each run of 30 is sorted on its own. The
// marks are sorted within each run and the word stays one token.
BOOST_AUTO_TEST_CASE(long_runs_of_combining_marks_are_normalized_in_stream_safe_form) {
    std::string text = "x";
    for (int i = 0; i < 80000; ++i) text += "\u0301\u0316";  // classes 230 and 220
    const std::string normalized = Tokenizer().normalize(text);
    std::string expected = "x";
    for (int run = 0; run < 5333; ++run) {
        for (int i = 0; i < 15; ++i) expected += "\u0316";
        for (int i = 0; i < 15; ++i) expected += "\u0301";
        expected += "\u034F";
    }
    for (int i = 0; i < 5; ++i) expected += "\u0316";
    for (int i = 0; i < 5; ++i) expected += "\u0301";
    BOOST_TEST(normalized.size() == expected.size());
    BOOST_TEST((normalized == expected));
    BOOST_TEST(Tokenizer().tokenize(text).size() == 1u);
}

BOOST_AUTO_TEST_CASE(urls_emails_numbers_and_money_placeholders) {
    const std::string spam = "Visit http://Example.com/a?b=1. or www.spam.co.uk, mail Me@Mail.example.org now";
    BOOST_TEST(tokens_of(spam, with_placeholders()) ==
               (Tokens{"visit", "<url>", ".", "or", "<url>", ",", "mail", "<email>", "now"}));
    BOOST_TEST(tokens_of(spam) == (Tokens{"visit", "http", ":", "/", "/", "example.com", "/", "a", "?", "b", "=", "1", ".",
                                          "or", "www.spam.co.uk", ",", "mail", "me@mail.example.org", "now"}));
    BOOST_TEST(tokens_of("Win £1,000 or $5.99 / 5€ call 08452810075 now 21st (x) $ 5 ٣٤", with_placeholders()) ==
               (Tokens{"win", "<money>", "or", "<money>", "/", "<money>", "call", "<num>", "now", "21st", "(", "x", ")",
                       "$", "<num>", "<num>"}));
    BOOST_TEST(tokens_of("(see http://en.wikipedia.org/wiki/Foo_(bar)) and https://x.org/.", with_placeholders()) ==
               (Tokens{"(", "see", "<url>", ")", "and", "<url>", "."}));
    BOOST_TEST(tokens_of("a@b me@x.com. @user http:// www.", with_placeholders()) ==
               (Tokens{"a@b", "<email>", ".", "@user", "http", ":", "/", "/", "www", "."}));
    BOOST_TEST(tokens_of("[http://x.org/a[1]]] ok", with_placeholders()) == (Tokens{"[", "<url>", "]", "]", "ok"}));
    // 200,000 closing brackets after a URL: each is weighed against the brackets the URL opened
    // (counted once; recounted for each, it took 14 s).
    const Tokens closed = tokens_of("http://x.org/(a)" + std::string(200000, ')'), with_placeholders());
    BOOST_TEST_REQUIRE(closed.size() == 200001u);
    BOOST_TEST(closed.front() == "<url>");
    // Placeholders cannot be forged by the text itself.
    BOOST_TEST(tokens_of("<url> <num>", with_placeholders()) == (Tokens{"<", "url", ">", "<", "num", ">"}));
    // Placeholders are never dropped as punctuation.
    TokenizerSettings both = with_placeholders();
    both.punctuation = Punctuation::drop;
    BOOST_TEST(tokens_of("Call 0800-123, win $5!", both) == (Tokens{"call", "<num>", "<num>", "win", "<money>"}));
}

BOOST_AUTO_TEST_CASE(whitespace_and_invisible_characters_are_never_tokens) {
    BOOST_TEST(tokens_of("").empty());
    BOOST_TEST(tokens_of(" \t\r\n ").empty());
    BOOST_TEST(tokens_of("\t  a \u00A0 b\u3000c \x01 \u200B\n") == (Tokens{"a", "b", "c"}));
    BOOST_TEST(tokens_of("a\u200Bb") == (Tokens{"a", "b"}));
    BOOST_TEST(tokens_of("a \u00A0 b", raw()) == (Tokens{"a", "b"}));
    for (const auto& doc : mixed_documents(500))
        for (const auto& token : tokens_of(doc)) {
            BOOST_TEST_REQUIRE(!token.empty());
            BOOST_TEST_REQUIRE(token.find_first_of(" \t\r\n") == std::string::npos);
        }
}

BOOST_AUTO_TEST_CASE(invalid_utf8_becomes_replacement_characters) {
    const std::string fffd = "\xEF\xBF\xBD";
    BOOST_TEST(tokens_of("ok \xFF bad caf\xC3") == (Tokens{"ok", fffd, "bad", "caf", fffd}));
    BOOST_TEST(tokens_of("\xED\xA0\x80x") == (Tokens{fffd, fffd, fffd, "x"}));
    BOOST_TEST(Tokenizer().tokenize_with_icu("\xC0\xAF") == (Tokens{fffd, fffd}));
    std::mt19937 rng(5);
    for (int i = 0; i < 2000; ++i) {
        std::string bytes;
        for (int k = static_cast<int>(rng() % 20); k > 0; --k) bytes.push_back(static_cast<char>(rng() % 256));
        for (const auto& token : tokens_of(bytes)) BOOST_TEST_REQUIRE(is_valid_utf8(token));
    }
}

BOOST_AUTO_TEST_CASE(ascii_fast_path_equals_icu) {
    BOOST_TEST_REQUIRE(Tokenizer::ascii_fast_path());  // else the comparison below proves nothing
    std::mt19937 rng(1);
    std::vector<Tokenizer> tokenizers;
    for (const bool placeholders : {false, true})
        for (const auto punctuation : {Punctuation::keep, Punctuation::drop})
            for (const bool lowercase : {true, false}) {
                TokenizerSettings s;
                s.placeholders = placeholders;
                s.punctuation = punctuation;
                s.lowercase = lowercase;
                tokenizers.emplace_back(s);
            }
    std::size_t compared = 0;
    for (int i = 0; i < 40000; ++i) {
        const std::string text = random_ascii(rng);
        for (const auto& tokenizer : tokenizers) {
            const Tokens fast = tokenizer.tokenize(text);
            const Tokens icu = tokenizer.tokenize_with_icu(text);
            if (fast != icu) BOOST_TEST_REQUIRE(fast == icu, "input: '" << text << "'");
            ++compared;
        }
    }
    BOOST_TEST(compared == 40000u * 8u);
}

BOOST_AUTO_TEST_CASE(batch_equals_serial_byte_for_byte) {
    const auto docs = mixed_documents(20000);
    for (const auto& settings : {TokenizerSettings{}, with_placeholders(), dropping_punctuation()}) {
        const Tokenizer tokenizer(settings);
        std::vector<Tokens> serial;
        for (const auto& d : docs) serial.push_back(tokenizer.tokenize(d));
        for (const std::size_t threads : {1, 2, 4}) {
            ThreadLimit limit(threads);
            const auto batch = tokenizer.tokenize_batch(docs);
            BOOST_TEST_REQUIRE(batch.size() == docs.size());
            BOOST_TEST_REQUIRE((batch == serial));
        }
    }
}

BOOST_AUTO_TEST_CASE(concurrent_callers_share_one_tokenizer) {
    const Tokenizer tokenizer;
    const auto docs = mixed_documents(2000);
    std::vector<Tokens> expected;
    for (const auto& d : docs) expected.push_back(tokenizer.tokenize(d));
    std::vector<int> mismatches(4, 0);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&, t] {
            for (std::size_t i = 0; i < docs.size(); ++i)
                if (tokenizer.tokenize(docs[(i + 500 * t) % docs.size()]) != expected[(i + 500 * t) % docs.size()])
                    ++mismatches[t];
        });
    for (auto& th : threads) th.join();
    BOOST_TEST(mismatches == (std::vector<int>{0, 0, 0, 0}));
}

BOOST_AUTO_TEST_CASE(settings_round_trip_through_a_string_map) {
    TokenizerSettings s;
    BOOST_TEST(s.to_map() == (std::map<std::string, std::string>{
                                 {"lowercase", "true"}, {"normalize", "true"}, {"placeholders", "false"}, {"punctuation", "keep"}}));
    BOOST_TEST(s.describe() == "lowercase, NFKC, punctuation kept, no placeholders");
    s.lowercase = false;
    s.normalize = false;
    s.punctuation = Punctuation::drop;
    s.placeholders = true;
    BOOST_TEST((TokenizerSettings::from_map(s.to_map()) == s));
    BOOST_TEST(s.describe() == "case kept, not normalized, punctuation dropped, placeholders for URLs, e-mails, numbers and money");
    BOOST_TEST((TokenizerSettings::from_map({}) == TokenizerSettings{}));
    BOOST_CHECK_EXCEPTION(TokenizerSettings::from_map({{"stemming", "true"}}), ConfigError, [](const ConfigError& e) {
        return std::string(e.what()) ==
               "tokenizer settings: unknown setting 'stemming' (known: lowercase, normalize, placeholders, punctuation)";
    });
    BOOST_CHECK_EXCEPTION(TokenizerSettings::from_map({{"lowercase", "yes"}}), ConfigError, [](const ConfigError& e) {
        return std::string(e.what()) == "tokenizer settings: lowercase must be true or false, not 'yes'";
    });
}
