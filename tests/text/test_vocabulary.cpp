#define BOOST_TEST_MODULE vocabulary
#include <boost/test/unit_test.hpp>

#include <limits>

#include "textcnn/core/error.h"
#include "textcnn/text/vocabulary.h"

#include <algorithm>
#include <map>
#include <random>

using namespace textcnn;
using Tokens = std::vector<std::string>;

namespace {

const std::vector<Tokens> documents = {
    {"the", "film", "is", "good"},
    {"the", "film", "is", "bad"},
    {"a", "good", "film"},
    {"b", "é", "z", "Z", "ä"},
};

std::string error_of(const std::vector<std::uint8_t>& bytes) {
    try {
        Vocabulary::read(bytes, "model.tcnn");
    } catch (const InputError& e) {
        return e.what();
    }
    return "no error";
}

void put_u32(std::vector<std::uint8_t>& out, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
void put_u64(std::vector<std::uint8_t>& out, std::uint64_t v) {
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

/// A serialized vocabulary written by hand (independently of Vocabulary::write).
std::vector<std::uint8_t> hand_made(const std::vector<std::string>& words, std::uint32_t version = 1,
                                    std::uint32_t buckets = 0) {
    std::vector<std::uint8_t> out;
    put_u32(out, version);
    put_u32(out, static_cast<std::uint32_t>(words.size()));
    put_u32(out, buckets);
    put_u32(out, 3);
    put_u64(out, 0);
    for (const auto& w : words) {
        put_u32(out, static_cast<std::uint32_t>(w.size()));
        out.insert(out.end(), w.begin(), w.end());
        put_u64(out, 1);
    }
    return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(ids_follow_count_then_code_point_order) {
    const Vocabulary v = Vocabulary::build(documents);
    // film 3, the 2, is 2, good 2, then the count-1 words in code-point order.
    const Tokens expected{"film", "good", "is", "the", "Z", "a", "b", "bad", "z", "ä", "é"};
    BOOST_TEST_REQUIRE(v.word_count() == expected.size());
    BOOST_TEST(v.size() == expected.size() + 2);
    for (std::size_t i = 0; i < expected.size(); ++i) {
        BOOST_TEST(v.token(static_cast<std::uint32_t>(i + 2)) == expected[i]);
        BOOST_TEST(v.lookup(expected[i]) == i + 2);
    }
    BOOST_TEST(v.count(2) == 3u);
    BOOST_TEST(v.count(3) == 2u);
    BOOST_TEST(v.token(Vocabulary::padding_id) == "<pad>");
    BOOST_TEST(v.token(Vocabulary::unknown_id) == "<unk>");
    BOOST_TEST(v.count(Vocabulary::padding_id) == 0u);
}

BOOST_AUTO_TEST_CASE(unknown_words_map_to_the_unknown_id) {
    const Vocabulary v = Vocabulary::build(documents);
    BOOST_TEST(v.lookup("movie") == Vocabulary::unknown_id);
    BOOST_TEST(v.lookup("") == Vocabulary::unknown_id);
    BOOST_TEST(v.lookup("Film") == Vocabulary::unknown_id);  // exact match only: case is the tokenizer's job
    BOOST_TEST(!v.find("movie").has_value());
    BOOST_TEST(v.lookup(Tokens{"the", "movie", "is", "good"}) == (std::vector<std::uint32_t>{5, 1, 4, 3}));
    BOOST_TEST(Vocabulary().size() == 2u);
    BOOST_TEST(Vocabulary().lookup("anything") == 1u);
}

BOOST_AUTO_TEST_CASE(same_data_in_any_order_gives_the_same_vocabulary) {
    std::vector<Tokens> docs;
    std::mt19937 rng(2);
    for (int d = 0; d < 300; ++d) {
        Tokens t;
        for (int k = 0; k < 20; ++k) t.push_back("w" + std::to_string(rng() % 200));
        docs.push_back(t);
    }
    const Vocabulary first = Vocabulary::build(docs);
    std::vector<std::uint8_t> first_bytes;
    first.write(first_bytes);
    for (int trial = 0; trial < 5; ++trial) {
        std::shuffle(docs.begin(), docs.end(), rng);
        for (auto& t : docs) std::shuffle(t.begin(), t.end(), rng);
        const Vocabulary again = Vocabulary::build(docs);
        std::vector<std::uint8_t> bytes;
        again.write(bytes);
        BOOST_TEST_REQUIRE(bytes == first_bytes);
    }
}

BOOST_AUTO_TEST_CASE(min_count_and_max_size) {
    VocabularyOptions options;
    options.min_count = 2;
    Vocabulary v = Vocabulary::build(documents, options);
    BOOST_TEST(v.word_count() == 4u);
    BOOST_TEST(v.lookup("bad") == Vocabulary::unknown_id);
    BOOST_TEST(v.dropped_words() == 7u);
    options.min_count = 1;
    options.max_size = 2;
    v = Vocabulary::build(documents, options);
    BOOST_TEST(v.word_count() == 2u);
    BOOST_TEST(v.token(3) == "good");  // ties (count 2) cut in code-point order: good < is < the
    BOOST_TEST(v.lookup("is") == Vocabulary::unknown_id);
    options.min_count = 0;  // used to act as 1 without a word
    BOOST_CHECK_THROW(Vocabulary::build(documents, options), ConfigError);
}

BOOST_AUTO_TEST_CASE(ids_stay_below_two_to_the_24) {
    VocabularyOptions options;
    options.subword_buckets = Vocabulary::max_ids - 2 - 10;  // 11 words + this is one id too many
    BOOST_CHECK_EXCEPTION(Vocabulary::build(documents, options), ConfigError, [](const ConfigError& e) {
        return std::string(e.what()) ==
               "vocabulary: 11 words + 16777204 subword buckets + 2 reserved ids exceed the 16777216 ids that floats "
               "carry exactly; use fewer subword buckets";
    });
    options.subword_buckets -= 1;
    BOOST_TEST(Vocabulary::build(documents, options).size() == Vocabulary::max_ids);
    // A count whose sum with the words wraps around 2^64 is refused the same way, not taken.
    options.subword_buckets = std::numeric_limits<std::size_t>::max();
    BOOST_CHECK_EXCEPTION(Vocabulary::build(documents, options), ConfigError, [](const ConfigError& e) {
        return std::string(e.what()).ends_with("use fewer subword buckets");
    });
}

BOOST_AUTO_TEST_CASE(subword_buckets_share_word_endings) {
    VocabularyOptions options;
    options.min_count = 1;
    options.subword_buckets = 1000;
    const Vocabulary v = Vocabulary::build(documents, options);
    BOOST_TEST(v.size() == 2u + 11u + 1000u);
    BOOST_TEST(v.lookup("film") == 2u);  // known words are unaffected
    const std::uint32_t running = v.lookup("running");
    BOOST_TEST(running == v.lookup("jumping"));  // same last three code points "ing"
    BOOST_TEST(running != v.lookup("quickly"));
    // FNV-1a 64 of "ing", computed here independently: the documented bucket function.
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (const char c : std::string("ing")) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
    BOOST_TEST(running == 2u + 11u + h % 1000u);
    BOOST_TEST(v.token(running) == "<bucket " + std::to_string(h % 1000u) + ">");
    // Code points, not bytes: "très" and "après" both end in "rès".
    BOOST_TEST(v.lookup("très") == v.lookup("après"));
    BOOST_TEST(v.lookup("ü") >= 13u);  // shorter than three code points: the whole word
}

BOOST_AUTO_TEST_CASE(write_read_round_trip) {
    VocabularyOptions options;
    options.subword_buckets = 7;
    const Vocabulary v = Vocabulary::build(documents, options);
    std::vector<std::uint8_t> bytes = {0xAA};  // write appends
    v.write(bytes);
    BOOST_TEST(bytes.front() == 0xAA);
    const std::span<const std::uint8_t> section(bytes.data() + 1, bytes.size() - 1);
    const Vocabulary back = Vocabulary::read(section, "model.tcnn");
    BOOST_TEST((back == v));
    BOOST_TEST(back.subword_buckets() == 7u);
    BOOST_TEST(back.dropped_words() == v.dropped_words());
    BOOST_TEST(back.lookup("running") == v.lookup("running"));
    std::vector<std::uint8_t> again;
    back.write(again);
    BOOST_TEST((again == std::vector<std::uint8_t>(section.begin(), section.end())));
    // The hand-made encoding of the same layout reads too.
    const Vocabulary hand = Vocabulary::read(hand_made({"x", "yé"}), "hand");
    BOOST_TEST(hand.lookup("yé") == 3u);
}

BOOST_AUTO_TEST_CASE(every_truncation_fails_with_an_offset) {
    const Vocabulary v = Vocabulary::build(documents);
    std::vector<std::uint8_t> bytes;
    v.write(bytes);
    for (std::size_t n = 0; n < bytes.size(); ++n) {
        const std::vector<std::uint8_t> cut(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n));
        const std::string message = error_of(cut);
        BOOST_TEST_REQUIRE(message.rfind("model.tcnn: vocabulary: byte ", 0) == 0u, "length " << n << ": " << message);
    }
    BOOST_TEST(error_of({}) == "model.tcnn: vocabulary: byte 0: truncated: the version needs 4 bytes, 0 remain");
    auto inside_word = hand_made({"abcdefghijklmnopqrstuvwxyz"});
    inside_word.resize(24 + 4 + 10);
    BOOST_TEST(error_of(inside_word) == "model.tcnn: vocabulary: byte 28: truncated: word 0 needs 26 bytes, 10 remain");
    auto inside_count = hand_made({"abc", "defgh"});
    inside_count.resize(inside_count.size() - 3);
    BOOST_TEST(error_of(inside_count) ==
               "model.tcnn: vocabulary: byte 48: truncated: the count of word 1 needs 8 bytes, 5 remain");
}

BOOST_AUTO_TEST_CASE(corrupt_sections_are_refused) {
    BOOST_TEST(error_of(hand_made({"a"}, 2)) ==
               "model.tcnn: vocabulary: byte 0: unknown vocabulary version 2 (this textcnn reads version 1)");
    auto huge = hand_made({"a"});
    huge[4] = 0xFF;  // word count 255 with 13 bytes left
    BOOST_TEST(error_of(huge) == "model.tcnn: vocabulary: byte 4: word count 255 cannot fit in the 13 bytes that remain");
    auto trailing = hand_made({"a"});
    trailing.push_back(0);
    BOOST_TEST(error_of(trailing) == "model.tcnn: vocabulary: byte 37: 1 unexpected byte after the last word");
    BOOST_TEST(error_of(hand_made({"ok", "b\xFF"})) == "model.tcnn: vocabulary: byte 43: word 1 is not valid UTF-8");
    BOOST_TEST(error_of(hand_made({""})) == "model.tcnn: vocabulary: byte 24: word 0 is empty");
    BOOST_TEST(error_of(hand_made({"x", "y", "x"})) == "model.tcnn: vocabulary: word 'x' appears twice (words 0 and 2)");
    BOOST_TEST(error_of(hand_made({"x"}, 1, 1u << 24)) ==
               "model.tcnn: vocabulary: byte 8: 1 words and 16777216 buckets exceed 16777216 ids");
}

// The word index (an open-addressing table) against a std::map of the same words: thousands of
// words of every length from 1 to 40 bytes, many sharing prefixes, so that probe chains form;
// every word finds its id and every near miss (a prefix, an extension, one byte changed) finds
// what the map finds.
BOOST_AUTO_TEST_CASE(word_index_agrees_with_a_map_on_many_words) {
    std::mt19937 rng(7);
    std::uniform_int_distribution<int> letter('a', 'f'), length(1, 40);
    std::vector<std::string> words;
    for (int i = 0; i < 6000; ++i) {
        std::string w(static_cast<std::size_t>(length(rng)), ' ');
        for (char& c : w) c = static_cast<char>(letter(rng));
        words.push_back(w);
    }
    std::sort(words.begin(), words.end());
    words.erase(std::unique(words.begin(), words.end()), words.end());
    std::shuffle(words.begin(), words.end(), rng);
    const Vocabulary v = Vocabulary::read(hand_made(words), "generated");
    std::map<std::string, std::uint32_t, std::less<>> expected;
    for (std::size_t i = 0; i < words.size(); ++i) expected.emplace(words[i], static_cast<std::uint32_t>(i + 2));
    const auto reference = [&](std::string_view token) {
        const auto it = expected.find(token);
        return it == expected.end() ? Vocabulary::unknown_id : it->second;
    };
    std::size_t known = 0;
    for (const std::string& w : words) {
        BOOST_TEST_REQUIRE(v.lookup(w) == reference(w), w);
        std::string changed = w;
        changed.back() = changed.back() == 'a' ? 'b' : 'a';
        for (const std::string& near : {w.substr(0, w.size() - 1), w + "a", changed, w + w}) {
            BOOST_TEST_REQUIRE(v.lookup(near) == reference(near), near);
            BOOST_TEST_REQUIRE(v.find(near).has_value() == expected.contains(near), near);
            known += expected.contains(near);
        }
    }
    BOOST_TEST(known > 0u);  // some near misses are words themselves (short ones)
    // The lookup of a token list (32 tokens at a time, their slots fetched first) gives the
    // lookup of each token, across group boundaries, with and without subword buckets.
    Tokens tokens;
    for (std::size_t i = 0; i < 200; ++i) tokens.push_back(i % 3 == 0 ? words[i] + "x" : words[i]);
    std::vector<std::uint32_t> each;
    for (const std::string& t : tokens) each.push_back(v.lookup(t));
    BOOST_TEST(v.lookup(tokens) == each);
    BOOST_TEST(v.lookup(std::span(tokens).first(33)) == std::vector<std::uint32_t>(each.begin(), each.begin() + 33));
    VocabularyOptions options;
    options.subword_buckets = 11;
    const Vocabulary with_buckets = Vocabulary::build(std::vector<Tokens>{Tokens(tokens.begin(), tokens.begin() + 100)}, options);
    each.clear();
    for (const std::string& t : tokens) each.push_back(with_buckets.lookup(t));
    BOOST_TEST(with_buckets.lookup(tokens) == each);
    BOOST_TEST(std::count_if(each.begin(), each.end(), [&](std::uint32_t id) { return id >= with_buckets.word_count() + 2; }) > 0);
    BOOST_TEST(v.lookup("") == Vocabulary::unknown_id);
    BOOST_TEST(v.lookup("g") == Vocabulary::unknown_id);
}

// Found by a new-user run: ensemble() documents "the same words in the same order" but compared
// the counts too. same_ids() compares what the networks read.
BOOST_AUTO_TEST_CASE(same_ids_ignores_the_counts) {
    const std::vector<std::vector<std::string>> few = {{"a", "b"}, {"a"}}, more = {{"a", "b"}, {"a"}, {"a"}},
                                                other = {{"a", "c"}, {"a"}};
    const Vocabulary v1 = Vocabulary::build(few), v2 = Vocabulary::build(more), v3 = Vocabulary::build(other);
    BOOST_TEST(v1.same_ids(v2));
    BOOST_TEST(!(v1 == v2));
    BOOST_TEST(!v1.same_ids(v3));
}
