// Quantized folded tables (src/text/quantized_text_cnn.h, TextClassifier::quantize):
//  - every logit within the stated bound (logit_error_bound(): sum over features of
//    |output weight| x taps x scale / 2, plus 1e-4 for float summation order) of the float
//    folded model's, for every activation, dilation, no bias and the wide-and-deep form;
//  - a trained model: the same label on every one of 300 held-out generated texts, each
//    probability within 0.25 x (bound_0 + bound_1) (two classes: the softmax moves by at most
//    a quarter of the change of the logit difference);
//  - save -> load -> bit-identical probabilities and bytes; the file has "QFLD", no "WGHT";
//  - a corrupt or crafted quantized section is refused with an InputError naming the file;
//  - float model files (the format version 1 fixture) keep loading;
//  - a compact refined file of an earlier build (fixture) loads and predicts as that build did;
//  - the refined form (residual codes): refined logits within a 14th of the bound; a text is
//    scored again exactly when its int8 logits leave the label in doubt, otherwise its logits
//    are the plain int8 ones; its labels are the float model's wherever the float logits decide
//    by more than the refined bound, on texts where plain int8 labels differ; save -> load ->
//    identical; crafted residual codes are refused;
//  - the compact form's codes: error-compensated rounding (GPTQ) against nearest rounding done
//    here by plain loops: each code the floor or the ceiling, and a smaller error as the tables
//    see it (d^T H d, computed here from the weights);
//  - the compact refined form (QFLD v4): the compact payload byte for byte, the plain compact
//    logits where the int8 ones decide, refined logits within their bound and closer to the
//    float ones, encode -> decode as v4 (refined) or v2 (plain compact).
#define BOOST_TEST_MODULE quantized_text_cnn
#include <boost/test/unit_test.hpp>

#include "text/folded_text_cnn.h"
#include "text/quantized_text_cnn.h"
#include "test_helpers.h"

#include "textcnn/core/bytes.h"
#include "textcnn/core/error.h"
#include "textcnn/core/rng.h"
#include "textcnn/nn/model_file.h"
#include "textcnn/nn/network.h"
#include "textcnn/text/text_classifier.h"
#include "textcnn/text/text_training.h"
#include "textcnn/text/vocabulary.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

using namespace textcnn;
using detail::FoldedTextCnn;
using detail::QuantizedTextCnn;
using testing::error_of;

namespace {

constexpr std::size_t vocab = 50;

std::vector<std::vector<std::uint32_t>> random_texts(std::uint64_t seed) {
    Rng rng(seed);
    std::vector<std::vector<std::uint32_t>> texts;
    for (std::size_t length = 0; length <= 15; ++length)
        for (int copy = 0; copy < 4; ++copy) {
            std::vector<std::uint32_t> ids;
            for (std::size_t i = 0; i < length; ++i) ids.push_back(static_cast<std::uint32_t>(rng.below(vocab)));
            texts.push_back(ids);
        }
    texts.push_back({0, 7, 0, 0, 3});  // padding ids inside a text
    return texts;
}

// A text network of `spec` with PyTorch's default initialization from `seed`.
Network random_network(const ModelSpec& spec, std::uint64_t seed) {
    Network network(spec, Shape{1, 1, 1});
    network.initialize(Initializer{Initializer::Kind::torch_default}, seed);
    return network;
}

// Largest |quantized - float| logit over the random texts, checked against the bound.
void check_within_bound(const ModelSpec& spec, std::uint64_t seed) {
    const Network network = random_network(spec, seed);
    const auto folded = FoldedTextCnn::fold(network, std::size_t{1} << 30);
    BOOST_REQUIRE(folded.has_value());
    const QuantizedTextCnn quantized = QuantizedTextCnn::quantize(*folded);
    const std::size_t classes = folded->classes();
    BOOST_REQUIRE_EQUAL(quantized.classes(), classes);
    const std::vector<float> bound = quantized.logit_error_bound();
    std::vector<float> expected(classes), got(classes), float_scratch;
    QuantizedTextCnn::Scratch scratch;
    double worst = 0.0, worst_share = 0.0;
    for (const auto& ids : random_texts(seed + 10)) {
        folded->logits(ids, expected.data(), float_scratch);
        quantized.logits(ids, got.data(), scratch);
        for (std::size_t c = 0; c < classes; ++c) {
            const double difference = std::abs(double{got[c]} - double{expected[c]});
            worst = std::max(worst, difference);
            worst_share = std::max(worst_share, difference / bound[c]);
            BOOST_CHECK_MESSAGE(difference <= bound[c] + 1e-4, "text of " << ids.size() << " ids, class " << c
                                                                          << ": quantized " << got[c] << ", float "
                                                                          << expected[c] << ", bound " << bound[c]);
        }
    }
    BOOST_TEST_MESSAGE("largest logit difference " << worst << " (" << worst_share << " of the bound)");
    // The bound is not vacuous: the tables were really rounded, and the bound is small.
    BOOST_CHECK_GT(worst, 0.0);
    for (float b : bound) BOOST_CHECK_LT(b, 0.05f);
}

// Labels (argmax, first on ties) of `classes` logits.
std::size_t top_of(const std::vector<float>& logits) {
    return static_cast<std::size_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
}

// The refined form against the plain int8 tables and the float folded model, on `texts`.
// Returns how many texts' plain int8 labels differ from the float ones.
// `expect_doubts`: some texts' int8 labels are in doubt (so the test sees both roads).
std::size_t check_refined(const ModelSpec& spec, std::uint64_t seed, const std::vector<std::vector<std::uint32_t>>& texts,
                          bool expect_doubts = true) {
    const Network network = random_network(spec, seed);
    const auto folded = FoldedTextCnn::fold(network, std::size_t{1} << 30);
    BOOST_REQUIRE(folded.has_value());
    const QuantizedTextCnn plain = QuantizedTextCnn::quantize(*folded);
    const QuantizedTextCnn refined = QuantizedTextCnn::quantize(*folded, true);
    BOOST_REQUIRE(refined.refined() && !plain.refined());
    BOOST_CHECK_EQUAL(refined.encoded_version(), 3u);
    const std::size_t classes = folded->classes();
    const std::vector<float> bound = plain.logit_error_bound(), fine = refined.refined_logit_error_bound();
    BOOST_REQUIRE_EQUAL(fine.size(), classes);
    BOOST_CHECK(plain.refined_logit_error_bound().empty());
    for (std::size_t c = 0; c < classes; ++c) BOOST_CHECK_CLOSE(fine[c] * QuantizedTextCnn::refine_steps, bound[c], 1e-3);
    std::vector<float> expected(classes), int8(classes), again(classes), got(classes), float_scratch;
    QuantizedTextCnn::Scratch scratch;
    std::size_t scored_again = 0, plain_flips = 0, refined_flips = 0;
    double worst_plain = 0.0, worst_refined = 0.0;
    for (const auto& ids : texts) {
        folded->logits(ids, expected.data(), float_scratch);
        plain.logits(ids, int8.data(), scratch);
        refined.refined_logits(ids, again.data(), scratch);
        refined.logits(ids, got.data(), scratch);
        for (std::size_t c = 0; c < classes; ++c) {
            worst_plain = std::max(worst_plain, std::abs(double{int8[c]} - expected[c]));
            worst_refined = std::max(worst_refined, std::abs(double{again[c]} - expected[c]));
            BOOST_CHECK_LE(std::abs(double{again[c]} - expected[c]), fine[c] + 1e-4);
        }
        // Scored again exactly when the int8 logits leave the label in doubt.
        const bool doubt = refined.undecided(int8.data());
        scored_again += doubt;
        BOOST_CHECK(got == (doubt ? again : int8));
        // A label the float logits decide by more than the refined bounds is the float label.
        const std::size_t label = top_of(expected);
        bool decided = true;
        for (std::size_t c = 0; c < classes; ++c)
            if (c != label) decided = decided && expected[label] - expected[c] > fine[label] + fine[c] + 2e-4f;
        if (!decided) continue;
        plain_flips += top_of(int8) != label;
        refined_flips += top_of(got) != label;
    }
    BOOST_TEST_MESSAGE(texts.size() << " texts: " << scored_again << " scored again; int8 labels differing " << plain_flips
                                    << ", refined " << refined_flips << "; largest logit error " << worst_plain
                                    << " int8, " << worst_refined << " refined");
    BOOST_CHECK_EQUAL(refined_flips, 0u);
    if (expect_doubts) BOOST_CHECK_GT(scored_again, 0u);
    BOOST_CHECK_LT(scored_again, texts.size());
    BOOST_CHECK_LT(worst_refined, worst_plain);
    return plain_flips;
}

// Two branches, 4 labels: 5 filters of width 3 dilated by 2 (no activation), 17 of width 2
// without bias (tanh): 5 x 3 + 17 x 2 = 49 columns.
ModelSpec dilated_unbiased_spec() {
    ModelSpec spec;
    spec.push_back({"embedding", "embedding", {{"vocab", std::to_string(vocab)}, {"dim", "7"}}, {}});
    LayerSpec parallel{"parallel", "widths", {}, {}};
    parallel.branches.push_back({{"conv", "dilated", {{"filters", "5"}, {"kernel", "3"}, {"dilation", "2"}, {"padding", "full"}}, {}},
                                 {"global_max_pool", "max_dilated", {}, {}}});
    parallel.branches.push_back({{"conv", "unbiased", {{"filters", "17"}, {"kernel", "2"}, {"padding", "full"}, {"bias", "false"}}, {}},
                                 {"tanh", "tanh_unbiased", {}, {}},
                                 {"global_max_pool", "max_unbiased", {}, {}}});
    spec.push_back(parallel);
    spec.push_back({"dense", "output", {{"units", "4"}}, {}});
    return spec;
}

TextModelSettings small_settings() {
    TextModelSettings s;
    s.embedding_dim = 12;
    s.maps = 6;
    return s;
}

// Generated reviews of imaginary restaurants: the label is set by one adjective.
const std::vector<std::string> good = {"tasty", "friendly", "cosy", "generous", "fresh", "lovely"};
const std::vector<std::string> bad = {"greasy", "rude", "cramped", "stingy", "stale", "noisy"};
const std::vector<std::string> things = {"soup", "waiter", "terrace", "portion", "bread", "kitchen", "menu"};

std::vector<Document> reviews(std::size_t count, std::uint64_t seed) {
    Rng rng(seed);
    std::vector<Document> docs;
    for (std::size_t i = 0; i < count; ++i) {
        const bool positive = i % 2 == 0;
        const std::string word = (positive ? good : bad)[rng.below(6)];
        const std::string thing = things[rng.below(things.size())];
        Document d;
        d.label = positive ? "liked" : "disliked";
        switch (rng.below(4)) {
        case 0: d.text = "our " + thing + " was " + word + " tonight"; break;
        case 1: d.text = "a " + word + " " + thing + ", we said on the way home"; break;
        case 2: d.text = "the " + thing + " seemed " + word + " to me"; break;
        default: d.text = "I remember the " + thing + ": " + word; break;
        }
        d.line = i + 2;
        docs.push_back(std::move(d));
    }
    return docs;
}

struct Trained {
    std::optional<TextTrainingRun> run;
    Trained() {
        TextTrainingOptions o;
        o.model.embedding_dim = 16;
        o.model.maps = 8;
        o.trainer.epochs = 5;
        o.trainer.batch_size = 10;
        o.trainer.seed = 5;
        run.emplace(reviews(300, 1), std::nullopt, "", o, TextTrainingCallbacks{});
        run->run();
    }
};
Trained& trained() {
    static Trained t;
    return t;
}

std::string scratch_file(const std::string& name) { return testing::scratch_path("test_quantized_text_cnn_files", name); }

std::vector<std::string> held_out_texts() {
    std::vector<std::string> texts;
    for (const auto& d : reviews(300, 77)) texts.push_back(d.text);
    texts.push_back("");                      // empty
    texts.push_back("unheard of words only");  // no known token
    texts.push_back("stale");                  // one word, shorter than every filter
    std::string long_text;
    for (int i = 0; i < 200; ++i) long_text += i % 9 == 0 ? "rude " : "the menu ";
    texts.push_back(long_text);
    return texts;
}

// A saved quantized model whose QFLD payload `change` edits; the file is re-encoded (valid
// checksum), so only the section's own checks can refuse it.
std::string crafted_error(const std::function<void(std::vector<std::uint8_t>&)>& change) {
    TextClassifier model = TextClassifier::from_model_file(trained().run->classifier().to_model_file());
    model.quantize();
    ModelFile file = model.to_model_file();
    std::vector<std::uint8_t> payload = file.find("QFLD")->payload;
    change(payload);
    file.set("QFLD", 1, std::move(payload));
    const auto bytes = encode_model_file(file);
    return error_of<InputError>([&] { TextClassifier::from_model_file(decode_model_file(bytes, "crafted.model")); });
}

template <class T>
void put_at(std::vector<std::uint8_t>& bytes, std::size_t offset, T value) {
    std::vector<std::uint8_t> encoded;
    ByteWriter(encoded).put<T>(value);
    std::copy(encoded.begin(), encoded.end(), bytes.begin() + static_cast<std::ptrdiff_t>(offset));
}

std::uint64_t read_at(const std::vector<std::uint8_t>& bytes, std::size_t offset) {
    ByteReader r(std::span<const std::uint8_t>(bytes).subspan(offset), "payload");
    return r.get<std::uint64_t>("value");
}

// Zero bytes after the table (quantized_text_cnn.h).
constexpr std::size_t trailer = 128;

// Bytes of the table: vocab (offset 0) x columns (offset 16).
std::size_t table_size(const std::vector<std::uint8_t>& payload) { return read_at(payload, 0) * read_at(payload, 16); }

// Offset of the first output-layer weight in a QFLD payload: after the header (32 bytes), each
// branch (taps, dilation, filters, activation, then biases and scales as u64 count + floats),
// the input count and the weights' own count.
std::size_t dense_weights_offset(const std::vector<std::uint8_t>& payload) {
    std::size_t at = 32;
    for (std::uint64_t b = 0, branches = read_at(payload, 24); b < branches; ++b)
        at += 3 * 8 + 4 + 2 * (8 + 4 * read_at(payload, at + 16));
    return at + 8 + 8;
}

}  // namespace

BOOST_AUTO_TEST_CASE(kim_network_logits_within_the_bound) {
    check_within_bound(text_cnn_spec(small_settings(), vocab, 3), 1);  // 6 maps: narrower than a block
    TextModelSettings s = small_settings();
    s.maps = 37;  // blocks of 16 filters at 0, 16 and 21 (the last overlaps)
    s.widths = {1, 3, 8};
    check_within_bound(text_cnn_spec(s, vocab, 3), 2);
}

BOOST_AUTO_TEST_CASE(every_activation_within_the_bound) {
    for (const std::string activation : {"relu", "tanh", "sigmoid", "identity"})
        BOOST_TEST_CONTEXT(activation) {
            TextModelSettings s = small_settings();
            s.activation = activation;
            s.widths = {1, 2, 6};
            check_within_bound(text_cnn_spec(s, vocab, 2), 4);
        }
}

BOOST_AUTO_TEST_CASE(dilation_and_no_bias_within_the_bound) {
    check_within_bound(dilated_unbiased_spec(), 9);
}

BOOST_AUTO_TEST_CASE(wide_and_deep_within_the_bound) {
    TextModelSettings s = small_settings();
    s.word_ngrams = 2;
    s.ngram_buckets = 64;
    s.ngram_dim = 3;
    check_within_bound(text_cnn_spec(s, vocab, 2), 11);
}

BOOST_AUTO_TEST_CASE(refined_labels_are_the_float_labels_where_int8_ones_are_not) {
    // 130,000 random texts of 0..15 ids: with small random weights many float labels are near
    // ties, so the plain int8 tables change some of them.
    std::vector<std::vector<std::uint32_t>> texts;
    for (std::uint64_t seed = 100; seed < 2100; ++seed)
        for (auto& ids : random_texts(seed)) texts.push_back(std::move(ids));
    std::size_t plain_flips = check_refined(text_cnn_spec(small_settings(), vocab, 3), 1, texts);
    TextModelSettings s = small_settings();
    s.maps = 37;
    s.widths = {1, 3, 8};
    plain_flips += check_refined(text_cnn_spec(s, vocab, 2), 2, texts);
    // 49 columns (odd: the last residual byte of each row has one code), dilation, no bias.
    plain_flips += check_refined(dilated_unbiased_spec(), 9, texts);
    // The test can tell: without the residual codes some of these labels change.
    BOOST_CHECK_GT(plain_flips, 0u);
}

// The refined sums of every road: in registers (at most 8 x 16 filters, int16 sums), and in
// memory for a branch of 130 filters (int16) and one of 19 taps (int32: 19 x 1,785 > 32,767).
BOOST_AUTO_TEST_CASE(refined_sums_of_wide_and_long_branches) {
    std::vector<std::vector<std::uint32_t>> texts;
    for (std::uint64_t seed = 100; seed < 400; ++seed)
        for (auto& ids : random_texts(seed)) texts.push_back(std::move(ids));
    TextModelSettings s = small_settings();
    s.maps = 130;
    s.widths = {2, 19};
    check_refined(text_cnn_spec(s, vocab, 3), 12, texts, false);
}

// Texts longer than a block of refined rows (made a block at a time), with a receptive extent
// wider than a block too: within the refined bound of the float logits, as short ones.
BOOST_AUTO_TEST_CASE(long_texts_refined_a_block_at_a_time) {
    Rng rng(77);
    std::vector<std::vector<std::uint32_t>> texts;
    constexpr std::size_t block = QuantizedTextCnn::refine_block_outputs;
    for (std::size_t length : {block - 1, block, block + 1, 2 * block + 37, std::size_t{3000}}) {
        std::vector<std::uint32_t> ids;
        for (std::size_t i = 0; i < length; ++i) ids.push_back(static_cast<std::uint32_t>(rng.below(vocab)));
        texts.push_back(ids);
    }
    check_refined(dilated_unbiased_spec(), 5, texts, false);
    ModelSpec wide = dilated_unbiased_spec();
    wide[1].branches.push_back({{"conv", "wide", {{"filters", "3"}, {"kernel", "3"}, {"dilation", "400"}, {"padding", "full"}}, {}},
                                {"global_max_pool", "max_wide", {}, {}}});
    texts.push_back({3});
    texts.push_back({});
    check_refined(wide, 6, texts, false);  // every text's refined logits are checked all the same
}

BOOST_AUTO_TEST_CASE(refined_ensemble_settles_the_averaged_label) {
    // Three random networks over one 50-id vocabulary (48 words and the 2 reserved ids) as an
    // ensemble, and each alone: float, plain int8 and refined copies, on 65,000 random id
    // sequences (near-uniform probabilities: many labels in doubt).
    std::vector<std::vector<std::string>> words(1);
    for (int w = 0; w < 48; ++w) words[0].push_back(std::string("w").append(std::to_string(w)));
    const Vocabulary vocabulary = Vocabulary::build(words);
    BOOST_REQUIRE_EQUAL(vocabulary.size(), vocab);
    std::vector<TextClassifier> members, plain_members, refined_members;
    for (std::uint64_t seed = 1; seed <= 3; ++seed) {
        Network network(text_cnn_spec(small_settings(), vocab, 3), Shape{1, 1, 1});
        network.initialize(Initializer{Initializer::Kind::torch_default}, seed);
        members.emplace_back(TokenizerSettings{}, vocabulary, std::vector<std::string>{"a", "b", "c"}, std::move(network));
        plain_members.push_back(TextClassifier::from_model_file(members.back().to_model_file()));
        plain_members.back().quantize();
        refined_members.push_back(TextClassifier::from_model_file(members.back().to_model_file()));
        refined_members.back().quantize(TextClassifier::QuantizedTables::refined);
    }
    TextClassifier exact = TextClassifier::ensemble(std::move(members));
    exact.fold_for_prediction();
    TextClassifier plain = TextClassifier::from_model_file(exact.to_model_file());
    plain.quantize();
    TextClassifier refined = TextClassifier::from_model_file(exact.to_model_file());
    refined.quantize(TextClassifier::QuantizedTables::refined);
    std::vector<std::vector<std::uint32_t>> texts;
    for (std::uint64_t seed = 100; seed < 1100; ++seed)
        for (auto& ids : random_texts(seed)) texts.push_back(std::move(ids));
    std::vector<float> p, q, r;
    exact.predict_encoded(texts, p);
    plain.predict_encoded(texts, q);
    refined.predict_encoded(texts, r);
    // Texts no member alone scores again: their members' refined and plain outputs are equal.
    std::vector<bool> member_again(texts.size(), false);
    for (std::size_t k = 0; k < 3; ++k) {
        std::vector<float> qk, rk;
        plain_members[k].predict_encoded(texts, qk);
        refined_members[k].predict_encoded(texts, rk);
        for (std::size_t i = 0; i < texts.size(); ++i)
            member_again[i] = member_again[i] || !std::equal(qk.begin() + 3 * i, qk.begin() + 3 * i + 3, rk.begin() + 3 * i);
    }
    // A member's refined logits are within d of its float ones, so its probabilities within
    // e^2d (e^2d - 1) (at most 1 each): a label can differ only where the float ensemble's top
    // two probabilities are within twice that (plus float rounding).
    const auto fine = refined.refined_error_bound();
    const double d = *std::max_element(fine.begin(), fine.end()) + 1e-5, growth = std::exp(2 * d) * (std::exp(2 * d) - 1);
    const double window = 2 * growth + 1e-5;
    const auto label = [](const std::vector<float>& v, std::size_t i) {
        return static_cast<std::size_t>(std::max_element(v.begin() + 3 * i, v.begin() + 3 * i + 3) - (v.begin() + 3 * i));
    };
    std::size_t plain_flips = 0, refined_flips = 0, outside = 0, by_members = 0, by_ensemble = 0;
    for (std::size_t i = 0; i < texts.size(); ++i) {
        const std::size_t top = label(p, i), got = label(r, i);
        plain_flips += label(q, i) != top;
        refined_flips += got != top;
        outside += got != top && p[3 * i + top] - p[3 * i + got] > window;
        const bool again = !std::equal(q.begin() + 3 * i, q.begin() + 3 * i + 3, r.begin() + 3 * i);
        by_members += again && member_again[i];
        by_ensemble += again && !member_again[i];  // the averaged label in doubt, no member's
    }
    BOOST_TEST_MESSAGE(texts.size() << " texts scored again: " << by_members << " by a member, " << by_ensemble
                                    << " by the ensemble alone; labels off the float ensemble's: int8 " << plain_flips
                                    << ", refined " << refined_flips << " (" << outside << " beyond the window "
                                    << window << ")");
    BOOST_CHECK_EQUAL(outside, 0u);
    BOOST_CHECK_LE(refined_flips, plain_flips);
    BOOST_CHECK_GT(by_ensemble, 0u);  // the ensemble's own doubt is settled, not only its members'
    BOOST_CHECK_LT(by_members + by_ensemble, texts.size());
}

// predict --threshold: a refined model settles the decision under thresholds, not only the
// arg-max. Random networks on 65,000 random texts, a threshold where int8 rounding moves a
// decision (below): the refined decisions differ from the float model's only where
// probabilities within the refined bound of the float ones could decide otherwise, and that
// text's decision is off without set_decision_thresholds() and the float one's with it.
BOOST_AUTO_TEST_CASE(refined_model_settles_decisions_under_thresholds) {
    std::vector<std::vector<std::string>> words(1);
    for (int w = 0; w < 48; ++w) words[0].push_back(std::string("w").append(std::to_string(w)));
    const Vocabulary vocabulary = Vocabulary::build(words);
    std::vector<std::vector<std::uint32_t>> texts;
    for (std::uint64_t seed = 100; seed < 1100; ++seed)
        for (auto& ids : random_texts(seed)) texts.push_back(std::move(ids));
    const std::vector<std::string> labels = {"a", "b", "c"};
    // (classes, thresholded labels): one threshold of two labels; one of three (the rest by
    // arg-max); two of three (the most probable of those reached, else the third).
    const std::vector<std::pair<std::size_t, std::vector<std::size_t>>> cases = {{2, {1}}, {3, {0}}, {3, {0, 2}}};
    for (std::size_t k = 0; k < cases.size(); ++k) {
        const auto& [classes, thresholded] = cases[k];
        const std::vector<std::string> names(labels.begin(), labels.begin() + static_cast<std::ptrdiff_t>(classes));
        Network network(text_cnn_spec(small_settings(), vocab, classes), Shape{1, 1, 1});
        network.initialize(Initializer{Initializer::Kind::torch_default}, 20 + k);
        TextClassifier exact(TokenizerSettings{}, vocabulary, names, std::move(network));
        exact.fold_for_prediction();
        TextClassifier refined = TextClassifier::from_model_file(exact.to_model_file());
        refined.quantize(TextClassifier::QuantizedTables::refined);
        TextClassifier plain = TextClassifier::from_model_file(exact.to_model_file());
        plain.quantize();
        std::vector<float> p, unsettled, q, r;
        exact.predict_encoded(texts, p);
        refined.predict_encoded(texts, unsettled);
        plain.predict_encoded(texts, q);
        // The first threshold halfway between the float and the int8 probability of the text
        // that int8 rounding moves most among those the arg-max check leaves alone: without
        // the thresholds that text's decision is off. Any other at the 90th percentile.
        std::vector<std::pair<std::string, double>> pairs;
        std::size_t moved = texts.size();
        float largest = -1.0f;
        for (std::size_t i = 0; i < texts.size(); ++i) {
            const std::size_t at = i * classes + thresholded[0];
            if (unsettled[at] == q[at] && std::abs(q[at] - p[at]) > largest) {
                largest = std::abs(q[at] - p[at]);
                moved = i;
            }
        }
        BOOST_REQUIRE_LT(moved, texts.size());
        const std::size_t at = moved * classes + thresholded[0];
        pairs.emplace_back(names[thresholded[0]], (double{p[at]} + double{q[at]}) / 2);
        for (std::size_t label : std::span(thresholded).subspan(1)) {
            std::vector<float> column;
            for (std::size_t i = 0; i < texts.size(); ++i) column.push_back(p[i * classes + label]);
            const std::size_t rank = column.size() * 9 / 10;
            std::nth_element(column.begin(), column.begin() + static_cast<std::ptrdiff_t>(rank), column.end());
            pairs.emplace_back(names[label], column[rank]);
        }
        const LabelThresholds thresholds(names, pairs);
        const std::vector<std::string> other_count(labels.begin(), labels.begin() + (classes == 2 ? 3 : 2));
        BOOST_CHECK_THROW(refined.set_decision_thresholds(LabelThresholds(other_count, {{{"a", 0.5}}})), ConfigError);
        refined.set_decision_thresholds(LabelThresholds(std::vector<std::string>(names), pairs));
        BOOST_CHECK(refined.decision_thresholds().threshold(thresholded[0]).has_value());
        refined.predict_encoded(texts, r);
        // Refined logits within d of the float ones: probabilities within e^2d (e^2d - 1).
        const auto fine = refined.refined_error_bound();
        const double d = *std::max_element(fine.begin(), fine.end()) + 1e-5;
        const auto growth = static_cast<float>(std::exp(2 * d) * (std::exp(2 * d) - 1));
        const std::vector<float> window(classes, growth);
        std::size_t flips = 0, outside = 0, again = 0, unsettled_flips = 0;
        const auto row = [&](const std::vector<float>& v, std::size_t i) {
            return std::span(v.data() + i * classes, classes);
        };
        for (std::size_t i = 0; i < texts.size(); ++i) {
            const auto decision = thresholds.decide(row(r, i));
            const bool near = thresholds.in_doubt(row(p, i), window, 1e-5f);
            flips += decision != thresholds.decide(row(p, i));
            outside += !near && decision != thresholds.decide(row(p, i));
            unsettled_flips += thresholds.decide(row(unsettled, i)) != thresholds.decide(row(p, i));
            again += !std::ranges::equal(row(q, i), row(r, i));
        }
        BOOST_TEST_MESSAGE("case " << k << ": " << again << " of " << texts.size() << " texts scored again, " << flips
                                   << " decisions off the float model's (" << unsettled_flips
                                   << " without the thresholds), " << outside << " beyond the window " << growth);
        BOOST_CHECK_EQUAL(outside, 0u);
        BOOST_CHECK_LE(flips, unsettled_flips);
        BOOST_CHECK_LT(again, texts.size() / 2);  // not every text: the check is not vacuous
        // The text the threshold was put for: off without the thresholds, scored again with
        // them, and then the float model's decision (its int8 error is far above the refined one's).
        BOOST_CHECK(thresholds.decide(row(unsettled, moved)) != thresholds.decide(row(p, moved)));
        BOOST_CHECK(!std::ranges::equal(row(q, moved), row(r, moved)));
        BOOST_CHECK(thresholds.decide(row(r, moved)) == thresholds.decide(row(p, moved)));
    }
}

BOOST_AUTO_TEST_CASE(refined_model_file_saves_loads_and_refuses_crafted_residuals) {
    TextClassifier model = TextClassifier::from_model_file(trained().run->classifier().to_model_file());
    model.quantize(TextClassifier::QuantizedTables::refined);
    BOOST_REQUIRE(model.quantized());
    const auto bound = model.quantization_error_bound(), fine = model.refined_error_bound();
    BOOST_REQUIRE_EQUAL(fine.size(), 2u);
    BOOST_CHECK_CLOSE(fine[0] * QuantizedTextCnn::refine_steps, bound[0], 1e-3);
    const std::string path = scratch_file("refined.model");
    model.save(path);
    const ModelFile file = read_model_file(path);
    BOOST_REQUIRE(file.find("QFLD") != nullptr);
    BOOST_CHECK_EQUAL(file.find("QFLD")->version, 3u);
    const TextClassifier loaded = TextClassifier::load(path);
    BOOST_CHECK(loaded.refined_error_bound() == fine);
    const auto texts = held_out_texts();
    const auto before = model.predict(std::span<const std::string>(texts)), after = loaded.predict(std::span<const std::string>(texts));
    const TextClassifier& float_model = trained().run->classifier();
    for (std::size_t i = 0; i < texts.size(); ++i) {
        BOOST_CHECK(before[i].probabilities == after[i].probabilities);
        BOOST_CHECK_EQUAL(after[i].label, float_model.predict(texts[i]).label);
    }
    BOOST_CHECK(encode_model_file(loaded.to_model_file()) == encode_model_file(model.to_model_file()));
    BOOST_CHECK_MESSAGE(loaded.summary().find("4-bit residual code") != std::string::npos, loaded.summary());

    // Crafted residual codes, in a re-encoded file (valid checksum). The payload ends with the
    // residual codes: vocab rows of ceil(columns / 2) bytes, the padding row's first.
    const std::vector<std::uint8_t> payload = file.find("QFLD")->payload;
    const std::size_t half = (read_at(payload, 16) + 1) / 2, codes = read_at(payload, 0) * half;
    const auto error_with = [&](const std::function<void(std::vector<std::uint8_t>&)>& change) {
        ModelFile crafted = file;
        std::vector<std::uint8_t> p = payload;
        change(p);
        crafted.set("QFLD", 3, std::move(p));
        const auto bytes = encode_model_file(crafted);
        const std::string message =
            error_of<InputError>([&] { TextClassifier::from_model_file(decode_model_file(bytes, "crafted.model")); });
        BOOST_TEST_MESSAGE(message);
        return message;
    };
    const std::string last = "word " + std::to_string(read_at(payload, 0) - 1) + "'s residual byte " +
                             std::to_string(half - 1) + " (section offset " + std::to_string(payload.size() - 1) + ")";
    BOOST_CHECK(error_with([](auto& p) { p.back() = 0x80; }).find(last + " holds the code -8") != std::string::npos);
    BOOST_CHECK(error_with([](auto& p) { p.back() = 0x08; }).find(last + " holds the code -8") != std::string::npos);
    BOOST_CHECK(error_with([&](auto& p) { p[p.size() - codes + 1] = 0x11; })
                    .find("word 0's residual byte 1 (section offset " + std::to_string(payload.size() - codes + 1) +
                          ") is not zero: the padding row") != std::string::npos);
    BOOST_CHECK(error_with([](auto& p) { p.pop_back(); }).find("table holds") != std::string::npos);
    BOOST_CHECK(error_with([](auto& p) { p.push_back(0); }).find("table holds") != std::string::npos);
    BOOST_CHECK(error_with([&](auto& p) { put_at<std::uint64_t>(p, p.size() - codes - 8, codes - 1); })
                    .find("residual codes take") != std::string::npos);
    // A version-1 section is read as version 1 (the residual codes then are extra bytes).
    BOOST_CHECK(error_with([&](auto& p) { p.resize(p.size() - codes - 8); }).find("table holds") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(refined_rows_of_odd_length_keep_their_last_nibble_zero) {
    // 49 columns: each row's 25 residual bytes end with a byte whose high nibble is past the row.
    Network network(dilated_unbiased_spec(), Shape{1, 1, 1});
    network.initialize(Initializer{Initializer::Kind::torch_default}, 3);
    const auto folded = FoldedTextCnn::fold(network, std::size_t{1} << 30);
    BOOST_REQUIRE(folded.has_value());
    const std::vector<std::uint8_t> payload = QuantizedTextCnn::quantize(*folded, true).encode();
    BOOST_CHECK_NO_THROW(QuantizedTextCnn::decode(payload, 3, "odd.model"));
    std::vector<std::uint8_t> crafted = payload;
    const std::size_t half = 25, row_3_last = crafted.size() - (vocab - 4) * half - 1;  // word 3's last byte
    BOOST_REQUIRE_EQUAL(crafted[row_3_last] >> 4, 0);
    crafted[row_3_last] |= 0x10;
    const std::string message = error_of<InputError>([&] { QuantizedTextCnn::decode(crafted, 3, "odd.model"); });
    BOOST_TEST_MESSAGE(message);
    BOOST_CHECK(message.find("word 3's residual byte 24") != std::string::npos &&
                message.find("past its row's end") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(trained_model_same_labels_probabilities_within_the_bound) {
    const TextClassifier& model = trained().run->classifier();
    TextClassifier quantized = TextClassifier::from_model_file(model.to_model_file());
    BOOST_CHECK(quantized.quantization_error_bound().empty());
    quantized.quantize();
    BOOST_REQUIRE(quantized.quantized());
    BOOST_CHECK(quantized.folded());
    const auto bound = quantized.quantization_error_bound();
    BOOST_REQUIRE_EQUAL(bound.size(), 2u);
    const float probability_bound = 0.25f * (bound[0] + bound[1]) + 1e-5f;
    BOOST_TEST_MESSAGE("logit bounds " << bound[0] << ", " << bound[1] << "; probability bound " << probability_bound);
    BOOST_CHECK_LT(probability_bound, 0.1f);
    const auto texts = held_out_texts();
    const auto batch = quantized.predict(std::span<const std::string>(texts));
    std::size_t correct = 0;
    float worst = 0.0f;
    for (std::size_t i = 0; i < texts.size(); ++i) {
        const TextPrediction f = model.predict(texts[i]), q = quantized.predict(texts[i]);
        BOOST_CHECK_EQUAL(q.label, f.label);
        BOOST_CHECK_EQUAL(q.tokens, f.tokens);
        for (std::size_t k = 0; k < 2; ++k) {
            worst = std::max(worst, std::abs(q.probabilities[k] - f.probabilities[k]));
            BOOST_CHECK_SMALL(q.probabilities[k] - f.probabilities[k], probability_bound);
        }
        BOOST_CHECK(batch[i].probabilities == q.probabilities);  // alone or in a batch: the same bits
        if (i < 300) correct += model.labels()[q.label] == (i % 2 == 0 ? "liked" : "disliked");
    }
    BOOST_TEST_MESSAGE("largest probability difference " << worst << "; quantized held-out accuracy " << correct << "/300");
    BOOST_CHECK_GE(correct, 270u);
    // The float weights are gone: training or inspecting them is refused.
    BOOST_CHECK(error_of<ConfigError>([&] { quantized.network(); }).find("quantized") != std::string::npos);
    BOOST_CHECK_NO_THROW(quantized.quantize());  // already quantized: nothing to do
}

BOOST_AUTO_TEST_CASE(save_load_gives_identical_output_and_bytes) {
    const TextClassifier& model = trained().run->classifier();
    TextClassifier quantized = TextClassifier::from_model_file(model.to_model_file());
    quantized.quantize();
    const std::string float_path = scratch_file("float.model"), path = scratch_file("quantized.model");
    model.save(float_path);
    quantized.save(path);
    const TextClassifier loaded = TextClassifier::load(path);
    BOOST_REQUIRE(loaded.quantized());
    BOOST_CHECK(loaded.vocabulary() == quantized.vocabulary());
    BOOST_CHECK(loaded.labels() == quantized.labels());
    for (const auto& text : held_out_texts())
        BOOST_CHECK(loaded.predict(text).probabilities == quantized.predict(text).probabilities);
    BOOST_CHECK(encode_model_file(loaded.to_model_file()) == encode_model_file(quantized.to_model_file()));
    BOOST_CHECK_EQUAL(loaded.fold_table_bytes(), quantized.fold_table_bytes());
    // A quarter of the float tables (one byte per value instead of four).
    BOOST_CHECK_EQUAL(loaded.fold_table_bytes() * 4, TextClassifier::load(float_path).fold_table_bytes());
    const ModelFile file = read_model_file(path);
    BOOST_CHECK(file.find("QFLD") != nullptr);
    BOOST_CHECK(file.find("WGHT") == nullptr);
    BOOST_CHECK(file.find("ARCH") != nullptr);
    const std::string summary = loaded.summary();
    BOOST_CHECK_MESSAGE(summary.find("Prediction: quantized: int8 folded tables") != std::string::npos, summary);
    BOOST_CHECK_MESSAGE(summary.find("not stored in this model") != std::string::npos, summary);
    BOOST_CHECK_MESSAGE(summary.find("Trainable params") == std::string::npos, summary);
    BOOST_CHECK(TextClassifier::load(float_path).summary().find("quantized") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(corrupt_quantized_section_is_refused) {
    TextClassifier quantized = TextClassifier::from_model_file(trained().run->classifier().to_model_file());
    quantized.quantize();
    const auto bytes = encode_model_file(quantized.to_model_file());
    // A flipped byte in the table (the last bytes of the QFLD payload, after its 16-byte
    // section header: tag, version, length).
    const std::string tag = "QFLD";
    const auto at = static_cast<std::size_t>(std::search(bytes.begin(), bytes.end(), tag.begin(), tag.end()) - bytes.begin());
    BOOST_REQUIRE_LT(at, bytes.size());
    auto flipped = bytes;
    flipped.at(at + 16 + read_at(bytes, at + 8) - trailer - 5) ^= 0x10;
    const std::string flipped_error = error_of<InputError>([&] { decode_model_file(flipped, "flipped.model"); });
    BOOST_CHECK_MESSAGE(flipped_error == "flipped.model: checksum mismatch: the file is corrupt", flipped_error);
    // Cut short.
    const std::vector<std::uint8_t> cut(bytes.begin(), bytes.end() - 100);
    BOOST_CHECK(error_of<InputError>([&] { decode_model_file(cut, "cut.model"); }).starts_with("cut.model: "));
}

BOOST_AUTO_TEST_CASE(crafted_quantized_sections_give_input_errors) {
    const auto starts = [](const std::string& message, const std::string& part) {
        BOOST_TEST_MESSAGE(message);
        return message.starts_with("crafted.model section 'QFLD': ") && message.find(part) != std::string::npos;
    };
    // Header: vocab (0), classes (8), columns (16), branch count (24); branch 0 at 32: taps,
    // dilation, filters (48), activation (56).
    // A vocabulary other than the model's: refused before the tables are read (or, compact, made).
    BOOST_CHECK(crafted_error([](auto& p) { put_at<std::uint64_t>(p, 0, 5); })
                    .starts_with("crafted.model: the quantized tables are for 5 ids and 2 labels, the model has "));
    BOOST_CHECK(starts(crafted_error([](auto& p) { put_at<std::uint64_t>(p, 8, 1); }), "class count"));
    BOOST_CHECK(starts(crafted_error([](auto& p) { put_at<std::uint64_t>(p, 16, 999); }), "fill"));
    BOOST_CHECK(starts(crafted_error([](auto& p) { put_at<std::uint64_t>(p, 24, std::uint64_t{1} << 60); }), "branch count"));
    BOOST_CHECK(starts(crafted_error([](auto& p) { put_at<std::uint64_t>(p, 32, 300); }), "300 taps"));
    BOOST_CHECK(starts(crafted_error([](auto& p) { put_at<std::uint64_t>(p, 48, std::uint64_t{1} << 40); }), "biases"));
    BOOST_CHECK(starts(crafted_error([](auto& p) { put_at<std::uint32_t>(p, 56, 9); }), "activation 9"));
    // Found by a hostile-file run: width 258 and dilation 65,536 took 38 s for one 4-word text. A
    // branch spans at most 4,096 positions, as a float convolution does ...
    BOOST_CHECK(starts(crafted_error([](auto& p) { put_at<std::uint64_t>(p, 40, 65536); }),
                       "spans 131073 positions (at most 4096)"));
    // ... and the section's convolutions are the architecture's (which summary shows).
    BOOST_CHECK(crafted_error([](auto& p) { put_at<std::uint64_t>(p, 40, 2); })
                    .find("section 'QFLD' holds convolutions (") != std::string::npos);
    BOOST_CHECK(starts(crafted_error([](auto& p) { p.pop_back(); }), "table holds"));
    BOOST_CHECK(starts(crafted_error([](auto& p) { p[p.size() - trailer - 1] = 0x80; }), "-128"));
    BOOST_CHECK(starts(crafted_error([](auto& p) { p.back() = 1; }), "trailer is not zero"));
    // More words than bytes, read as version 3 (no model around it to compare the vocabulary
    // with): the residual codes expected are said as a product, not a wrapped-around count.
    {
        TextClassifier model = TextClassifier::from_model_file(trained().run->classifier().to_model_file());
        model.quantize();
        std::vector<std::uint8_t> payload = model.to_model_file().find("QFLD")->payload;
        put_at<std::uint64_t>(payload, 0, 1000000);
        const std::string message = error_of<InputError>([&] { QuantizedTextCnn::decode(payload, 3, "direct"); });
        BOOST_CHECK_MESSAGE(message.find("1000000 words") != std::string::npos &&
                                message.find("bytes of residual codes") != std::string::npos &&
                                message.find("18446744073709551") == std::string::npos,
                            message);
    }
    // A finite output weight too large to multiply (a float model's is refused the same way).
    for (const float huge : {3e38f, -2e18f})
        BOOST_CHECK(starts(crafted_error([&](auto& p) { put_at(p, dense_weights_offset(p) + 4, huge); }),
                           "output layer's weights are not finite or beyond 1e18"));
    // The table (vocab x columns bytes) and the trailer end the payload; its first row is the
    // padding id's.
    BOOST_CHECK(starts(crafted_error([](auto& p) { p[p.size() - trailer - table_size(p)] = 3; }), "padding row"));
    // The vocabulary of the file is another than the tables': refused at from_model_file.
    {
        TextClassifier model = TextClassifier::from_model_file(trained().run->classifier().to_model_file());
        model.quantize();
        ModelFile file = model.to_model_file();
        std::vector<std::uint8_t> payload = file.find("QFLD")->payload;
        const std::uint64_t v = read_at(payload, 0), c = read_at(payload, 16);
        payload.resize(payload.size() + c);  // one more zero row (before the zero trailer), vocabulary v + 1
        put_at<std::uint64_t>(payload, 0, v + 1);
        put_at<std::uint64_t>(payload, payload.size() - trailer - (v + 1) * c - 8, (v + 1) * c);
        file.set("QFLD", 1, std::move(payload));
        const auto bytes = encode_model_file(file);
        const std::string message =
            error_of<InputError>([&] { TextClassifier::from_model_file(decode_model_file(bytes, "other.model")); });
        BOOST_TEST_MESSAGE(message);
        BOOST_CHECK(message.starts_with("other.model: the quantized tables are for " + std::to_string(v + 1) + " ids"));
        // A newer section version than this build reads.
        ModelFile newer = model.to_model_file();
        newer.set("QFLD", 5, newer.find("QFLD")->payload);
        const auto newer_bytes = encode_model_file(newer);
        BOOST_CHECK(error_of<InputError>([&] { TextClassifier::from_model_file(decode_model_file(newer_bytes, "new.model")); }) ==
                    "new.model: section 'QFLD' version 5 is newer than this build supports (4)");
    }
}

// Found by a hostile-file run: every weight at 1e18 (each within the load checks' bound) made
// NaN probabilities, printed with exit 0 (a spam filter took every message for ham), and
// quantize wrote tables its own loader refused. Now predict throws and quantize refuses.
BOOST_AUTO_TEST_CASE(weights_that_overflow_together_stop_prediction_and_quantization) {
    TextClassifier model = TextClassifier::from_model_file(trained().run->classifier().to_model_file());
    for (float& w : model.network().parameters()) w = w < 0.0f ? -1e18f : 1e18f;
    const std::string predicted = error_of<InputError>([&] { (void)model.predict("a film of some kind"); });
    BOOST_CHECK_MESSAGE(predicted.starts_with("the model's probabilities for a text sum to ") &&
                            predicted.find("logits overflow float arithmetic") != std::string::npos,
                        predicted);
    const std::string quantized = error_of<InputError>([&] { model.quantize(); });
    BOOST_CHECK_MESSAGE(quantized.starts_with("quantize: "), quantized);
}

// A compact refined model written by an earlier build (7235f9f, 2026-12-03: `textcnn train` on
// 16 delivery reviews written for this test, 8-d embeddings, widths 2,3 x 4 maps, 60 epochs,
// then `quantize --compact --refine`), before the load kept the convolution weights in another
// order: it loads, and predicts what that build printed (`predict --prob`, 6 digits; the table
// is made again at load, so its probabilities may move in float rounding, never the labels).
BOOST_AUTO_TEST_CASE(compact_refined_files_of_an_earlier_build_keep_loading) {
    const TextClassifier model =
        TextClassifier::load(std::string(TEXTCNN_SOURCE_DIR) + "/tests/fixtures/models/text_compact_refined_v4.model");
    BOOST_REQUIRE(model.quantized());
    BOOST_CHECK(model.labels() == (std::vector<std::string>{"fine", "late"}));
    BOOST_CHECK(model.summary().find("compact") != std::string::npos);
    const std::vector<std::pair<std::string, float>> expected = {
        {"the package came late again", 0.365354f},
        {"quick and friendly delivery", 0.541129f},
        {"tracking updates were clear and it came early", 0.540075f},
        {"nobody answers and the order is not here", 0.468951f},
    };
    for (const auto& [text, fine] : expected) {
        const TextPrediction p = model.predict(text);
        BOOST_TEST_CONTEXT(text) {
            BOOST_CHECK_CLOSE_FRACTION(p.probabilities.at(0), fine, 1e-4);
            BOOST_CHECK_EQUAL(p.label, fine > 0.5f ? 0u : 1u);
        }
    }
}

BOOST_AUTO_TEST_CASE(float_model_files_keep_loading) {
    // The format version 1 fixture (a network written before quantized sections existed).
    const std::string fixture = std::string(TEXTCNN_SOURCE_DIR) + "/tests/fixtures/models/kim_v1.model";
    BOOST_CHECK_NO_THROW(read_network(fixture));
    // A float text model saved now is still a float model (ARCH + WGHT, no QFLD) and folds.
    const std::string path = scratch_file("float_again.model");
    trained().run->classifier().save(path);
    const ModelFile file = read_model_file(path);
    BOOST_CHECK(file.find("WGHT") != nullptr);
    BOOST_CHECK(file.find("QFLD") == nullptr);
    const TextClassifier loaded = TextClassifier::load(path);
    BOOST_CHECK(!loaded.quantized());
    BOOST_CHECK(loaded.folded());
    BOOST_CHECK_NO_THROW(loaded.network());
}

// --- The compact form (QFLD version 2): int8 embeddings in the file, the table made at load ----

// Against the float folded model on random texts: within the bound, which now counts the
// embedding's rounding too, and the bound is not vacuous.
BOOST_AUTO_TEST_CASE(compact_logits_within_the_bound) {
    const Network network = random_network(text_cnn_spec(small_settings(), vocab, 3), 21);
    const auto folded = FoldedTextCnn::fold(network, std::size_t{1} << 30);
    BOOST_REQUIRE(folded.has_value());
    const QuantizedTextCnn table_form = QuantizedTextCnn::quantize(*folded);
    const QuantizedTextCnn compact = QuantizedTextCnn::quantize_compact(*folded, *FoldedTextCnn::table_inputs(network));
    BOOST_CHECK(compact.compact() && !table_form.compact());
    BOOST_CHECK_EQUAL(compact.encoded_version(), 2u);
    const auto bound = compact.logit_error_bound(), table_bound = table_form.logit_error_bound();
    std::vector<float> expected(3), got(3), float_scratch;
    QuantizedTextCnn::Scratch scratch;
    double worst = 0.0;
    for (const auto& ids : random_texts(22)) {
        folded->logits(ids, expected.data(), float_scratch);
        compact.logits(ids, got.data(), scratch);
        for (std::size_t c = 0; c < 3; ++c) {
            const double difference = std::abs(double{got[c]} - double{expected[c]});
            worst = std::max(worst, difference);
            BOOST_CHECK_MESSAGE(difference <= bound[c] + 1e-4, "class " << c << ": compact " << got[c] << ", float "
                                                                        << expected[c] << ", bound " << bound[c]);
        }
    }
    BOOST_TEST_MESSAGE("compact: largest logit difference " << worst << ", bound " << bound[0]);
    BOOST_CHECK_GT(worst, 0.0);
    for (std::size_t c = 0; c < 3; ++c) {
        BOOST_CHECK_GT(bound[c], table_bound[c]);  // the embedding's rounding is counted
        BOOST_CHECK_LT(bound[c], 0.2f);
    }
    // Encoded and decoded: the table is made again bit for bit.
    const QuantizedTextCnn decoded = QuantizedTextCnn::decode(compact.encode(), 2, "compact");
    for (const auto& ids : random_texts(23)) {
        std::vector<float> again(3);
        compact.logits(ids, got.data(), scratch);
        decoded.logits(ids, again.data(), scratch);
        BOOST_CHECK(again == got);
    }
    BOOST_CHECK(decoded.encode() == compact.encode());
    // The file ends with each branch's convolution weights as the network holds them ((taps x
    // channels) x filters, column-major), whatever order the table's GEMM keeps them in memory:
    // files written before and after that order changed read alike.
    const auto in = FoldedTextCnn::table_inputs(network);
    std::vector<std::uint8_t> expected_tail;
    ByteWriter tail(expected_tail);
    for (const auto& weights : in->weights) tail.put_floats(weights);
    const std::vector<std::uint8_t> payload = compact.encode();
    BOOST_REQUIRE(in->weights.size() == 3 && payload.size() > expected_tail.size());
    BOOST_CHECK(std::equal(expected_tail.begin(), expected_tail.end(), payload.end() - static_cast<std::ptrdiff_t>(expected_tail.size())));
    // The table made at load fits in what an ensemble's earlier members left of the budget, or
    // the member is refused before it is made.
    const std::size_t made = decoded.table_bytes();  // no wide branch: the table alone
    BOOST_CHECK_NO_THROW(QuantizedTextCnn::decode(compact.encode(), 2, "member", {vocab, 3, made}));
    const std::string message =
        error_of<InputError>([&] { QuantizedTextCnn::decode(compact.encode(), 2, "member", {vocab, 3, made - 1}); });
    BOOST_CHECK_MESSAGE(message.find("would exceed the " + std::to_string(made - 1) + " bytes left of the ensemble's 1 GiB") !=
                            std::string::npos,
                        message);
}

// Codes of the compact form: GPTQ's compensated rounding against nearest rounding written here.
BOOST_AUTO_TEST_CASE(compact_codes_are_compensated_and_closer_as_the_tables_see_them) {
    TextModelSettings s = small_settings();
    s.embedding_dim = 24;
    s.widths = {1, 2};
    s.maps = 10;  // 30 columns for 24 channels: H is far from a multiple of the identity
    const Network network = random_network(text_cnn_spec(s, vocab, 2), 31);
    const auto in = FoldedTextCnn::table_inputs(network);
    BOOST_REQUIRE(in.has_value());
    const std::size_t channels = in->channels;
    BOOST_REQUIRE_EQUAL(channels, 24u);
    std::vector<float> nearest_scales, scales;
    const auto nearest = QuantizedTextCnn::embedding_codes(*in, vocab, nearest_scales, QuantizedTextCnn::Rounding::nearest);
    const auto codes = QuantizedTextCnn::embedding_codes(*in, vocab, scales, QuantizedTextCnn::Rounding::compensated);
    BOOST_REQUIRE(scales == nearest_scales);
    // d^T H d of a word's error d = e - scale x code: the squared sum of W_t^T d over branches and taps.
    const auto table_error = [&](const std::vector<std::int8_t>& c, std::size_t v) {
        double sum = 0.0;
        for (const auto& weights : in->weights)
            for (std::size_t column = 0; column < weights.size() / channels; ++column) {
                double moved = 0.0;
                for (std::size_t d = 0; d < channels; ++d)
                    moved += double{weights[column * channels + d]} *
                             (in->embedded[v * channels + d] - double{scales[v]} * c[v * channels + d]);
                sum += moved * moved;
            }
        return sum;
    };
    double nearest_error = 0.0, compensated_error = 0.0;
    std::size_t changed = 0;
    for (std::size_t v = 0; v < vocab; ++v) {
        const float largest = *std::max_element(in->embedded.begin() + static_cast<std::ptrdiff_t>(v * channels),
                                                in->embedded.begin() + static_cast<std::ptrdiff_t>((v + 1) * channels),
                                                [](float a, float b) { return std::abs(a) < std::abs(b); });
        BOOST_CHECK_CLOSE(scales[v], v == 0 ? 0.0f : std::abs(largest) / 127, 1e-4);
        for (std::size_t d = 0; d < channels; ++d) {
            const std::size_t i = v * channels + d;
            if (v == 0) {
                BOOST_CHECK(codes[i] == 0 && nearest[i] == 0);
                continue;
            }
            const double value = double{in->embedded[i]} / double{scales[v]};
            BOOST_CHECK_EQUAL(int{nearest[i]}, static_cast<int>(std::lround(value)));
            BOOST_CHECK_MESSAGE(codes[i] == std::floor(value) || codes[i] == std::ceil(value),
                                "word " << v << " channel " << d << ": code " << int{codes[i]} << " for " << value);
            changed += codes[i] != nearest[i];
        }
        nearest_error += table_error(nearest, v);
        compensated_error += table_error(codes, v);
    }
    BOOST_TEST_MESSAGE("d'Hd summed over words: nearest " << nearest_error << ", compensated " << compensated_error
                                                          << "; " << changed << " codes differ");
    BOOST_CHECK_GT(changed, 0u);
    BOOST_CHECK_LT(compensated_error, 0.9 * nearest_error);
}

// The compact refined form: the compact file, the refined form's rescoring.
BOOST_AUTO_TEST_CASE(compact_refined_form_scores_doubts_again_from_the_compact_file) {
    const Network network = random_network(text_cnn_spec(small_settings(), vocab, 3), 23);
    const auto folded = FoldedTextCnn::fold(network, std::size_t{1} << 30);
    BOOST_REQUIRE(folded.has_value());
    const auto in = FoldedTextCnn::table_inputs(network);
    const QuantizedTextCnn compact = QuantizedTextCnn::quantize_compact(*folded, *in);
    const QuantizedTextCnn refined = QuantizedTextCnn::quantize_compact(*folded, *in, true);
    BOOST_REQUIRE(refined.compact() && refined.refined() && !compact.refined());
    BOOST_CHECK_EQUAL(refined.encoded_version(), 4u);
    BOOST_CHECK(refined.encode() == compact.encode());  // the residual codes are not in the file
    const auto bound = refined.logit_error_bound(), fine = refined.refined_logit_error_bound();
    BOOST_REQUIRE_EQUAL(fine.size(), 3u);
    for (std::size_t c = 0; c < 3; ++c) {
        BOOST_CHECK(bound[c] == compact.logit_error_bound()[c]);
        BOOST_CHECK_LT(fine[c], bound[c]);  // the tables' share a 14th, the embedding's whole
        BOOST_CHECK_GT(fine[c], bound[c] / QuantizedTextCnn::refine_steps);
    }
    const QuantizedTextCnn as_v4 = QuantizedTextCnn::decode(refined.encode(), 4, "v4");
    const QuantizedTextCnn as_v2 = QuantizedTextCnn::decode(refined.encode(), 2, "v2");
    BOOST_CHECK(as_v4.refined() && !as_v2.refined());
    std::vector<float> expected(3), int8(3), again(3), got(3), other(3), float_scratch;
    QuantizedTextCnn::Scratch scratch;
    std::size_t scored_again = 0, texts = 0;
    double worst_int8 = 0.0, worst_refined = 0.0;
    for (std::uint64_t seed = 40; seed < 140; ++seed)
        for (const auto& ids : random_texts(seed)) {
            ++texts;
            folded->logits(ids, expected.data(), float_scratch);
            compact.logits(ids, int8.data(), scratch);
            refined.refined_logits(ids, again.data(), scratch);
            const bool doubt = refined.logits(ids, got.data(), scratch);
            BOOST_CHECK_EQUAL(doubt, refined.undecided(int8.data()));
            BOOST_CHECK(got == (doubt ? again : int8));
            scored_again += doubt;
            as_v4.logits(ids, other.data(), scratch);
            BOOST_CHECK(other == got);
            as_v2.logits(ids, other.data(), scratch);
            BOOST_CHECK(other == int8);
            for (std::size_t c = 0; c < 3; ++c) {
                worst_int8 = std::max(worst_int8, std::abs(double{int8[c]} - expected[c]));
                worst_refined = std::max(worst_refined, std::abs(double{again[c]} - expected[c]));
                BOOST_CHECK_LE(std::abs(double{again[c]} - expected[c]), fine[c] + 1e-4);
            }
        }
    BOOST_TEST_MESSAGE(texts << " texts, " << scored_again << " scored again; largest logit error " << worst_int8
                             << " int8, " << worst_refined << " refined");
    BOOST_CHECK_GT(scored_again, 0u);
    BOOST_CHECK_LT(scored_again, texts);
    BOOST_CHECK_LT(worst_refined, worst_int8);
}

BOOST_AUTO_TEST_CASE(compact_model_file_is_a_third_and_predicts_the_same_labels) {
    const TextClassifier& model = trained().run->classifier();
    TextClassifier compact = TextClassifier::from_model_file(model.to_model_file());
    compact.quantize(TextClassifier::QuantizedTables::compact);
    TextClassifier stored = TextClassifier::from_model_file(model.to_model_file());
    stored.quantize();
    const std::string path = scratch_file("compact.model"), stored_path = scratch_file("stored.model");
    compact.save(path);
    stored.save(stored_path);
    const ModelFile file = read_model_file(path);
    BOOST_REQUIRE(file.find("QFLD") != nullptr);
    BOOST_CHECK_EQUAL(file.find("QFLD")->version, 2u);
    BOOST_CHECK(file.find("WGHT") == nullptr);
    const TextClassifier loaded = TextClassifier::load(path);
    BOOST_REQUIRE(loaded.quantized());
    BOOST_CHECK(encode_model_file(loaded.to_model_file()) == encode_model_file(compact.to_model_file()));
    BOOST_CHECK_EQUAL(loaded.fold_table_bytes(), stored.fold_table_bytes());
    const auto bound = loaded.quantization_error_bound();
    const float probability_bound = 0.25f * (bound[0] + bound[1]) + 1e-5f;
    std::size_t same_label = 0;
    const auto texts = held_out_texts();
    for (const auto& text : texts) {
        const TextPrediction f = model.predict(text), c = loaded.predict(text);
        BOOST_CHECK(c.probabilities == compact.predict(text).probabilities);
        for (std::size_t k = 0; k < 2; ++k) BOOST_CHECK_SMALL(c.probabilities[k] - f.probabilities[k], probability_bound);
        same_label += c.label == f.label;
    }
    BOOST_CHECK_GE(same_label, texts.size() - 3);
    BOOST_TEST_MESSAGE(same_label << " of " << texts.size() << " labels as the float model's; files "
                                  << std::filesystem::file_size(path) << " and " << std::filesystem::file_size(stored_path)
                                  << " bytes");
    // Per word 16 embedding codes and a float scale instead of 3 x 8 + 4 x 8 + 5 x 8 = 96 table
    // bytes; then the branches' float weights (u64 count + (taps x 16) x 8 floats each).
    const std::size_t v = loaded.vocabulary().size();
    const std::size_t table_part = 8 + v * 96 + trailer;
    const std::size_t compact_part = 8 + (8 + 4 * v) + (8 + 16 * v) + 3 * 8 + (3 + 4 + 5) * 16 * 8 * sizeof(float);
    BOOST_CHECK_EQUAL(file.find("QFLD")->payload.size() + table_part,
                      read_model_file(stored_path).find("QFLD")->payload.size() + compact_part);
    BOOST_CHECK_MESSAGE(loaded.summary().find("Prediction: quantized, compact") != std::string::npos, loaded.summary());
    // A quantized model has no float weights left to make the compact form from: a no-op.
    BOOST_CHECK_NO_THROW(stored.quantize(TextClassifier::QuantizedTables::compact));
    BOOST_CHECK_EQUAL(stored.to_model_file().find("QFLD")->version, 1u);
}

BOOST_AUTO_TEST_CASE(crafted_compact_sections_give_input_errors) {
    TextClassifier model = TextClassifier::from_model_file(trained().run->classifier().to_model_file());
    model.quantize(TextClassifier::QuantizedTables::compact);
    const ModelFile good = model.to_model_file();
    const std::vector<std::uint8_t> payload = good.find("QFLD")->payload;
    const auto error_with = [&](const std::vector<std::uint8_t>& bytes, std::uint32_t version = 2) {
        ModelFile file = good;
        file.set("QFLD", version, bytes);
        const auto encoded = encode_model_file(file);
        return error_of<InputError>([&] { TextClassifier::from_model_file(decode_model_file(encoded, "crafted.model")); });
    };
    BOOST_CHECK_EQUAL(error_with(payload), "no exception");
    // Read as a version-1 section: the table is not there.
    BOOST_CHECK(error_with(payload, 1).starts_with("crafted.model section 'QFLD'"));
    // A newer version than this build reads.
    BOOST_CHECK_MESSAGE(error_with(payload, 5).find("version 5 is newer") != std::string::npos, error_with(payload, 5));
    // Version 4 is the same payload, its residual codes made at load.
    BOOST_CHECK_EQUAL(error_with(payload, 4), "no exception");
    // Cut anywhere in the compact part, or a byte more.
    for (std::size_t cut : {std::size_t{1}, std::size_t{100}, payload.size() / 3}) {
        const std::vector<std::uint8_t> shorter(payload.begin(), payload.end() - static_cast<std::ptrdiff_t>(cut));
        BOOST_CHECK(error_with(shorter).starts_with("crafted.model section 'QFLD'"));
    }
    auto longer = payload;
    longer.push_back(0);
    BOOST_CHECK_MESSAGE(error_with(longer).find("bytes after the convolution weights") != std::string::npos, error_with(longer));
    // The code -128 in the last word's embedding (the codes end before the weights).
    const std::size_t classes_offset = 8, words = read_at(payload, 0);
    BOOST_REQUIRE_EQUAL(read_at(payload, classes_offset), 2u);
    const std::size_t weights = (3 + 4 + 5) * 16 * 8 * sizeof(float) + 3 * 8;  // three branches' floats
    auto minus = payload;
    minus.at(payload.size() - weights - 1) = 0x80;
    BOOST_CHECK_MESSAGE(error_with(minus).find("code -128") != std::string::npos, error_with(minus));
    // A finite convolution weight too large to multiply (the last float of the payload).
    auto huge = payload;
    put_at(huge, huge.size() - sizeof(float), 1e30f);
    BOOST_CHECK_MESSAGE(error_with(huge).find("beyond 1e18") != std::string::npos, error_with(huge));
    BOOST_CHECK_GT(words, 10u);
    // A compact payload read as version 3: the residual codes the message expects are said as
    // bytes, not a wrapped-around count.
    const std::string as_refined = error_with(payload, 3);
    BOOST_CHECK_MESSAGE(as_refined.starts_with("crafted.model section 'QFLD': ") &&
                            as_refined.find("the table holds") != std::string::npos &&
                            as_refined.find("bytes of residual codes") != std::string::npos &&
                            as_refined.find("18446744073709551") == std::string::npos,
                        as_refined);
    // Another vocabulary than the model's: refused before the table (and residual codes) are made.
    auto other_vocab = payload;
    put_at<std::uint64_t>(other_vocab, 0, words * 1000);
    BOOST_CHECK(error_with(other_vocab, 4).starts_with("crafted.model: the quantized tables are for " +
                                                       std::to_string(words * 1000) + " ids"));
}
