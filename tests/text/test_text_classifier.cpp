// TextClassifier and TextTrainingRun through the library: a tiny Kim CNN trained on generated
// sentences, save -> load -> bit-identical probabilities, checkpoint + resume == an
// uninterrupted run (bit for bit), predict() from many threads, and model files that are cut,
// flipped or crafted (valid checksum, nonsense inside) failing with an InputError that names
// the file.
#define BOOST_TEST_MODULE text_classifier
#include <boost/test/unit_test.hpp>

#include "test_helpers.h"
#include "textcnn/core/bytes.h"
#include "textcnn/core/error.h"
#include "textcnn/nn/model_file.h"
#include "textcnn/core/rng.h"
#include "textcnn/nn/trainer.h"
#include "textcnn/text/text_classifier.h"
#include "textcnn/text/text_training.h"
#include "textcnn/text/vocabulary.h"
#include "textcnn/nn/network.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

using namespace textcnn;

namespace {

std::string scratch(const std::string& name) { return testing::scratch_path("test_text_classifier_files", name); }

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }
bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// Sentiment planted in neutral sentences: the label is decided by one word of the lists below.
const std::vector<std::string> positive_words = {"great",  "wonderful", "excellent", "delightful",
                                                 "superb", "brilliant", "charming",  "moving"};
const std::vector<std::string> negative_words = {"awful", "terrible", "boring",  "dreadful",
                                                 "dull",  "painful",  "clumsy", "tedious"};
const std::vector<std::string> nouns = {"film", "movie", "story", "acting", "script", "ending", "soundtrack", "cast"};

std::string sentence(Rng& rng, const std::string& word) {
    const std::string noun = nouns[rng.below(nouns.size())];
    switch (rng.below(6)) {
    case 0: return "the " + noun + " was " + word + " from start to finish";
    case 1: return "I thought the " + noun + " felt " + word;
    case 2: return "Honestly, a " + word + " " + noun;
    case 3: return "what a " + word + " " + noun + " this turned out to be";
    case 4: return "the " + noun + ", sadly or not, was " + word;
    default: return "my friends found the " + noun + " " + word + "!";
    }
}

// Alternating labels "neg", "pos"; line numbers as if read from a CSV with a header.
std::vector<Document> make_documents(std::size_t count, std::uint64_t seed) {
    Rng rng(seed);
    std::vector<Document> docs;
    for (std::size_t i = 0; i < count; ++i) {
        const bool positive = i % 2 == 1;
        const auto& words = positive ? positive_words : negative_words;
        Document d;
        d.label = positive ? "pos" : "neg";
        d.text = sentence(rng, words[rng.below(words.size())]);
        d.line = i + 2;
        docs.push_back(std::move(d));
    }
    return docs;
}

std::vector<std::string> texts_of(const std::vector<Document>& docs) {
    std::vector<std::string> texts;
    for (const auto& d : docs) texts.push_back(d.text);
    return texts;
}

TextTrainingOptions tiny_options(std::size_t epochs, std::uint64_t seed) {
    TextTrainingOptions o;
    o.model.embedding_dim = 16;
    o.model.maps = 8;
    o.trainer.epochs = epochs;
    o.trainer.batch_size = 10;
    o.trainer.seed = seed;
    return o;
}

std::vector<float> parameters_of(const TextClassifier& model) {
    const auto p = model.network().parameters();
    return {p.begin(), p.end()};
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// One trained model shared by the tests that only read it (training takes well under a second).
struct Trained {
    std::vector<Document> test = make_documents(200, 99);
    std::optional<TextTrainingRun> run;
    Trained() {
        run.emplace(make_documents(300, 1), std::nullopt, "", tiny_options(5, 1), TextTrainingCallbacks{});
        run->run();
        run->classifier().metadata["training_data"] = "generated";
    }
    const TextClassifier& model() { return run->classifier(); }
};
Trained& trained() {
    static Trained t;
    return t;
}

std::vector<std::string> probe_texts() {
    std::vector<std::string> texts = texts_of(trained().test);
    // Odd inputs: empty, only unknown words, one word (shorter than every filter), very long.
    texts.push_back("");
    texts.push_back("zzz qqq xxyyzz");
    texts.push_back("superb");
    std::string long_text;
    for (int i = 0; i < 300; ++i) long_text += (i % 7 == 0 ? "awful " : "the film ");
    texts.push_back(long_text);
    return texts;
}

std::vector<std::uint8_t> model_bytes(const TextClassifier& model) { return encode_model_file(model.to_model_file()); }

// decode + from_model_file must throw InputError whose message starts with "<source>: ".
std::string load_error(std::span<const std::uint8_t> bytes, const std::string& source) {
    try {
        TextClassifier::from_model_file(decode_model_file(bytes, source));
    } catch (const InputError& e) {
        return e.what();
    } catch (const std::exception& e) {
        return std::string("wrong exception type: ") + e.what();
    }
    return "no error";
}

}  // namespace

BOOST_AUTO_TEST_CASE(tiny_model_learns_the_planted_words) {
    Trained& t = trained();
    const auto predictions = t.model().predict(std::span<const std::string>(texts_of(t.test)));
    BOOST_REQUIRE_EQUAL(predictions.size(), t.test.size());
    std::size_t correct = 0;
    for (std::size_t i = 0; i < predictions.size(); ++i) {
        const auto& p = predictions[i];
        BOOST_REQUIRE_EQUAL(p.probabilities.size(), 2u);
        BOOST_CHECK_CLOSE(p.probabilities[0] + p.probabilities[1], 1.0f, 1e-4);
        correct += t.model().labels()[p.label] == *t.test[i].label;
    }
    BOOST_TEST_MESSAGE("held-out accuracy " << correct << "/" << t.test.size());
    BOOST_CHECK_GE(correct, t.test.size() * 95 / 100);
    BOOST_CHECK(t.model().labels() == (std::vector<std::string>{"neg", "pos"}));
    // The parameter count of Kim's CNN with these sizes: embedding V x 16, three convolutions
    // (w * 16 * 8 weights + 8 biases), output 24 x 2 + 2.
    const std::size_t v = t.model().vocabulary().size();
    BOOST_CHECK_EQUAL(t.model().network().parameter_count(), v * 16 + (3 + 4 + 5) * 16 * 8 + 3 * 8 + 24 * 2 + 2);
}

// Column L2 norms of the output layer's weights (features x classes, one column per class).
std::vector<double> output_column_norms(const TextClassifier& model) {
    const Network& net = model.network();
    const ParameterGroup& g = net.groups()[output_weight_groups(net).at(0)];
    std::vector<double> norms;
    for (std::size_t c = 0; c < g.info.cols; ++c) {
        double s = 0.0;
        for (std::size_t r = 0; r < g.info.rows; ++r) {
            const double v = net.parameters()[g.offset + c * g.info.rows + r];
            s += v * v;
        }
        norms.push_back(std::sqrt(s));
    }
    return norms;
}

BOOST_AUTO_TEST_CASE(kim_output_layer_starts_at_zero) {
    TextTrainingRun kim(make_documents(40, 1), std::nullopt, "", tiny_options(1, 1), {});
    const Network& net = kim.classifier().network();
    const auto& groups = net.groups();
    BOOST_TEST(groups.size() >= 2u);
    // The dense layer's weights and bias are the last two groups; everything before is random.
    for (std::size_t g = groups.size() - 2; g < groups.size(); ++g) {
        BOOST_TEST(groups[g].layer_label == "dense 'output'");
        for (std::size_t i = 0; i < groups[g].info.size(); ++i) BOOST_TEST(net.parameters()[groups[g].offset + i] == 0.0f);
    }
    for (std::size_t g = 0; g + 2 < groups.size(); ++g)
        if (groups[g].info.name != "bias")
            BOOST_TEST(std::any_of(net.parameters().begin() + groups[g].offset,
                                   net.parameters().begin() + groups[g].offset + groups[g].info.size(),
                                   [](float v) { return v != 0.0f; }));
    TextTrainingOptions glorot = tiny_options(1, 1);
    glorot.zero_output_layer = false;
    TextTrainingRun other(make_documents(40, 1), std::nullopt, "", glorot, {});
    BOOST_TEST(output_column_norms(other.classifier())[0] > 0.1);
}

// Initialisations by name: one list (kim and the library's initializer names) for every caller.
BOOST_AUTO_TEST_CASE(initialisations_by_name) {
    BOOST_TEST(TextTrainingOptions::initialization_names() ==
               (std::vector<std::string>{"kim", "glorot_uniform", "he_uniform", "torch", "uniform"}),
               boost::test_tools::per_element());
    TextTrainingOptions o;
    o.set_initialization("he");
    BOOST_TEST((o.initializer.kind == Initializer::Kind::he_uniform && !o.zero_output_layer));
    o.set_initialization("kim");
    BOOST_TEST((o.initializer.kind == Initializer::Kind::glorot_uniform && o.zero_output_layer));
    BOOST_TEST(textcnn::testing::error_of<ConfigError>([&] { o.set_initialization("zeros"); }) ==
               "unknown initializer 'zeros' (known: kim, glorot_uniform, he_uniform, torch, uniform)");
    BOOST_TEST(o.zero_output_layer);  // unchanged by the refused name
}

// Kim's dropout is not inverted, ours is: his max-norm s holds our output columns to s * (1 - rate).
BOOST_AUTO_TEST_CASE(max_norm_is_kims_limit_on_inverted_dropout) {
    for (const float rate : {0.5f, 0.0f}) {
        TextTrainingOptions o = tiny_options(2, 1);
        o.model.dropout = rate;
        o.trainer.max_norm = 0.02f;  // small enough to bind within two epochs
        TextTrainingRun run(make_documents(100, 1), std::nullopt, "", o, {});
        run.run();
        const double limit = 0.02 * (1.0 - rate);
        for (const double norm : output_column_norms(run.classifier())) BOOST_TEST(norm == limit, boost::test_tools::tolerance(1e-5));
    }
}

BOOST_AUTO_TEST_CASE(save_load_predict_is_bit_identical) {
    const TextClassifier& model = trained().model();
    const std::string path = scratch("saved.model");
    model.save(path);
    for (const auto& entry : std::filesystem::directory_iterator(std::filesystem::path(path).parent_path()))
        BOOST_CHECK_MESSAGE(!starts_with(entry.path().filename().string(), "saved.model.tmp"),
                            "temporary file left behind: " << entry.path());
    const TextClassifier loaded = TextClassifier::load(path);

    BOOST_CHECK(loaded.labels() == model.labels());
    BOOST_CHECK(loaded.vocabulary() == model.vocabulary());
    BOOST_CHECK(loaded.tokenizer().settings() == model.tokenizer().settings());
    BOOST_CHECK(loaded.metadata == model.metadata);
    BOOST_CHECK(same_bits(parameters_of(loaded), parameters_of(model)));
    BOOST_CHECK_EQUAL(loaded.summary(), model.summary());
    // Saving what was loaded writes the same bytes.
    BOOST_CHECK(model_bytes(loaded) == model_bytes(model));

    // load() folds the embedding into the convolutions; the model trained in memory predicts
    // through the network. Without folding, reloading changes no bit; with it, the two roads
    // agree up to float rounding, and the folded one is bit-stable from load to load.
    BOOST_CHECK(!model.folded());
    BOOST_REQUIRE(loaded.folded());
    TextClassifier unfolded = TextClassifier::load(path);
    unfolded.drop_folding();
    const TextClassifier reloaded = TextClassifier::load(path);
    const auto texts = probe_texts();
    for (const auto& text : texts) {
        const TextPrediction a = model.predict(text), b = unfolded.predict(text);
        BOOST_CHECK_EQUAL(a.label, b.label);
        BOOST_CHECK_MESSAGE(same_bits(a.probabilities, b.probabilities), "probabilities differ after reload for '" << text << "'");
        const TextPrediction f = loaded.predict(text), g = reloaded.predict(text);
        BOOST_CHECK_EQUAL(f.label, a.label);
        BOOST_CHECK_MESSAGE(same_bits(f.probabilities, g.probabilities), "folded probabilities differ between loads for '" << text << "'");
        for (std::size_t k = 0; k < 2; ++k) BOOST_CHECK_SMALL(f.probabilities[k] - a.probabilities[k], 1e-5f);
    }
    const auto batch_a = model.predict(std::span<const std::string>(texts));
    const auto batch_b = unfolded.predict(std::span<const std::string>(texts));
    const auto batch_f = loaded.predict(std::span<const std::string>(texts));
    BOOST_REQUIRE_EQUAL(batch_a.size(), texts.size());
    BOOST_REQUIRE_EQUAL(batch_b.size(), texts.size());
    BOOST_REQUIRE_EQUAL(batch_f.size(), texts.size());
    std::size_t identical_alone = 0;
    for (std::size_t i = 0; i < texts.size(); ++i) {
        BOOST_CHECK(same_bits(batch_a[i].probabilities, batch_b[i].probabilities));
        // A text scored alone and inside a packed batch: the same numbers up to rounding (the
        // GEMMs have other sizes, and OpenBLAS may sum in another order).
        const TextPrediction alone = model.predict(texts[i]);
        for (std::size_t k = 0; k < 2; ++k) BOOST_CHECK_SMALL(alone.probabilities[k] - batch_a[i].probabilities[k], 1e-5f);
        identical_alone += same_bits(alone.probabilities, batch_a[i].probabilities);
        // Folded, each text is computed on its own: alone or in a batch, the same bits.
        BOOST_CHECK(same_bits(loaded.predict(texts[i]).probabilities, batch_f[i].probabilities));
    }
    BOOST_TEST_MESSAGE(identical_alone << " of " << texts.size() << " texts get bit-identical probabilities alone and in a batch");
}

// The wide-and-deep model (word_ngrams > 0): the n-gram bag beside the convolutions, trained
// through TextTrainingRun, saved, loaded and folded; the folded road equals the network road.
BOOST_AUTO_TEST_CASE(wide_and_deep_model_saves_loads_and_folds) {
    TextTrainingOptions o = tiny_options(5, 2);
    o.model.word_ngrams = 2;
    o.model.ngram_buckets = 1000;
    o.model.ngram_dim = 4;
    for (const std::string reduce : {"sum", "mean"}) {
        BOOST_TEST_CONTEXT(reduce) {
            o.model.ngram_reduce = reduce;
            TextTrainingRun run(make_documents(200, 3), std::nullopt, "", o, {});
            const Network& net = run.classifier().network();
            BOOST_REQUIRE_EQUAL(net.layer_count(), 2u);  // parallel 'wide_and_deep', dense 'output'
            BOOST_TEST(net.layer(0).spec().branches.at(1).at(0).type == "ngram_bag");
            const std::size_t v = run.classifier().vocabulary().size();
            BOOST_CHECK_EQUAL(net.parameter_count(),
                              v * 16 + (3 + 4 + 5) * 16 * 8 + 3 * 8 + 4 * (v + 1000) + (24 + 4) * 2 + 2);
            run.run();
            const TextClassifier& model = run.classifier();
            const std::string path = scratch("wide_" + reduce + ".model");
            model.save(path);
            const TextClassifier loaded = TextClassifier::load(path);
            BOOST_REQUIRE(loaded.folded());
            BOOST_CHECK_EQUAL(loaded.fold_table_bytes(),
                              (v * (3 + 4 + 5) * 8 + (v + 1000) * 2) * sizeof(float));
            BOOST_CHECK(same_bits(parameters_of(loaded), parameters_of(model)));
            TextClassifier unfolded = TextClassifier::load(path);
            unfolded.drop_folding();
            std::size_t correct = 0;
            const auto texts = probe_texts();
            for (const auto& text : texts) {
                const TextPrediction a = model.predict(text), b = unfolded.predict(text), f = loaded.predict(text);
                BOOST_CHECK(same_bits(a.probabilities, b.probabilities));
                for (std::size_t k = 0; k < 2; ++k) BOOST_CHECK_SMALL(f.probabilities[k] - a.probabilities[k], 1e-5f);
                BOOST_CHECK_EQUAL(f.label, a.label);
            }
            for (const auto& d : trained().test) correct += model.labels()[model.predict(d.text).label] == *d.label;
            BOOST_TEST_MESSAGE(reduce << ": held-out accuracy " << correct << "/" << trained().test.size());
            // It learns (the point here is saving, loading and folding; 5 epochs on 200 texts).
            BOOST_CHECK_GE(correct, trained().test.size() * 90 / 100);
        }
    }
}

// Naive-Bayes start of the bag rows (NBSVM's log-count ratio): class 1 ("pos") rows of the
// positive words are > 0, of the negative words < 0; with two classes row 0 is minus row 1;
// columns no training text has, and rows beyond the classes, keep their random start.
BOOST_AUTO_TEST_CASE(naive_bayes_ngram_init) {
    TextTrainingOptions o = tiny_options(1, 4);
    o.model.word_ngrams = 2;
    o.model.ngram_buckets = 5000;
    o.model.ngram_dim = 3;
    TextTrainingRun plain(make_documents(200, 5), std::nullopt, "", o, {});
    o.naive_bayes_ngram_init = true;
    TextTrainingRun nb(make_documents(200, 5), std::nullopt, "", o, {});
    auto table = [](TextTrainingRun& run) {
        const Network& net = run.classifier().network();
        for (const auto& g : net.groups())
            if (g.info.name == "ngram_table") return net.parameters().subspan(g.offset, g.info.size());
        throw std::runtime_error("no ngram_table");
    };
    const auto a = table(plain), b = table(nb);
    const Vocabulary& vocabulary = nb.classifier().vocabulary();
    std::vector<std::uint32_t> id;
    for (const auto* words : {&positive_words, &negative_words}) {
        const float sign = words == &positive_words ? 1.0f : -1.0f;
        for (const std::string& word : *words) {
            vocabulary.lookup(std::vector<std::string>{word}, id);
            BOOST_REQUIRE(id.at(0) >= 2u);
            const std::size_t c = id[0];
            BOOST_TEST(sign * b[c * 3 + 1] > 0.5f, word);
            BOOST_TEST(b[c * 3 + 0] == -b[c * 3 + 1], boost::test_tools::tolerance(1e-5f));
            BOOST_TEST(b[c * 3 + 2] == a[c * 3 + 2]);  // row 2 > classes: random start kept
        }
    }
    std::size_t kept = 0, changed = 0;
    for (std::size_t i = 0; i < a.size(); ++i) (a[i] == b[i] ? kept : changed) += 1;
    BOOST_TEST(changed > 0u);
    BOOST_TEST(kept > changed);  // most of the 5,000 buckets never occur
    o.model.word_ngrams = 0;
    BOOST_TEST(testing::error_of<ConfigError>([&] { TextTrainingRun(make_documents(20, 5), std::nullopt, "", o, {}); }) ==
               "naive-Bayes n-gram initialisation needs a model with a wide n-gram branch");
}

BOOST_AUTO_TEST_CASE(resume_from_checkpoint_equals_uninterrupted_run) {
    // A validation split so that the best-model state (restore_best) travels in the checkpoint too.
    TextTrainingOptions options = tiny_options(4, 7);
    options.validation_split = 0.2;
    const auto data = make_documents(300, 3);

    TextTrainingRun straight(data, std::nullopt, "", options, {});
    const TextTrainingReport full = straight.run();
    BOOST_REQUIRE(full.result.reason == StopReason::completed);
    BOOST_REQUIRE_EQUAL(full.result.history.size(), 4u);
    const std::vector<float> expected = parameters_of(straight.classifier());

    // Stop in the middle of epoch 2, from the progress callback (as the SIGINT handler would).
    std::atomic<bool> stop{false};
    std::size_t stopped_at_batch = 0;
    TextTrainingCallbacks callbacks;
    callbacks.stop = &stop;
    callbacks.progress = [&](const TrainingProgress& p) {
        if (p.epoch == 2 && p.batch == p.batches / 2 && !stop) {
            stopped_at_batch = p.batch;
            stop = true;
        }
    };
    const std::string checkpoint = scratch("interrupted.ckpt");
    {
        TextTrainingRun interrupted(data, std::nullopt, "", options, callbacks);
        const TextTrainingReport partial = interrupted.run();
        BOOST_REQUIRE(partial.result.reason == StopReason::interrupted);
        BOOST_CHECK_EQUAL(partial.result.epochs_completed, 1u);
        BOOST_CHECK_EQUAL(stopped_at_batch, 12u);  // 240 training documents / batch 10 = 24 batches
        BOOST_CHECK(!same_bits(parameters_of(interrupted.classifier()), expected));
        interrupted.write_checkpoint(checkpoint);
    }

    TextTrainingRun resumed(data, std::nullopt, "", options, {});
    resumed.resume_from(checkpoint);
    const TextTrainingReport rest = resumed.run();
    BOOST_CHECK(rest.result.reason == StopReason::completed);
    BOOST_CHECK_EQUAL(rest.result.epochs_completed, 4u);
    BOOST_CHECK_EQUAL(rest.result.best_epoch, full.result.best_epoch);
    BOOST_CHECK_EQUAL(rest.result.best_accuracy, full.result.best_accuracy);
    BOOST_CHECK_MESSAGE(same_bits(parameters_of(resumed.classifier()), expected),
                        "resumed run ended with other parameters than the uninterrupted one");
    // The epochs the resumed run went through report what the uninterrupted run reported,
    // the half-done epoch 2 included (its running loss sums were checkpointed).
    BOOST_REQUIRE(!rest.result.history.empty());
    BOOST_CHECK_EQUAL(rest.result.history.front().epoch, 2u);
    for (const EpochSummary& e : rest.result.history) {
        const EpochSummary& f = full.result.history.at(e.epoch - 1);
        BOOST_CHECK_EQUAL(e.train_loss, f.train_loss);
        BOOST_CHECK_EQUAL(e.train_accuracy, f.train_accuracy);
        BOOST_CHECK_EQUAL(e.validation_accuracy, f.validation_accuracy);
    }

    // A checkpoint made from other data is refused.
    TextTrainingRun other(make_documents(300, 4), std::nullopt, "", options, {});
    BOOST_CHECK_EXCEPTION(other.resume_from(checkpoint), ConfigError, [&](const ConfigError& e) {
        return starts_with(e.what(), checkpoint + ": ") && contains(e.what(), "other training data");
    });
    // So is one made with other training settings (here: the batch size), naming the checkpoint.
    TextTrainingRun rebatched(data, std::nullopt, "", [&] {
        auto o = options;
        o.trainer.batch_size = 20;
        return o;
    }(), {});
    BOOST_CHECK_EXCEPTION(rebatched.resume_from(checkpoint), ConfigError, [&](const ConfigError& e) {
        return std::string(e.what()) ==
               checkpoint + ": trainer: the checkpoint was made with batch size 10, this run has 20";
    });
    // A model (no trainer state) is named as such before its options are compared.
    const std::string model_path = checkpoint + ".model";
    straight.classifier().save(model_path);
    BOOST_CHECK_EXCEPTION(other.resume_from(model_path), ConfigError, [&](const ConfigError& e) {
        return std::string(e.what()) ==
               model_path + " is a model, not a checkpoint: it holds no trainer state to resume from";
    });
}

namespace {
void check_eight_threads_equal_serial(const TextClassifier& model) {
    const auto texts = probe_texts();
    std::vector<TextPrediction> serial;
    for (const auto& t : texts) serial.push_back(model.predict(t));

    constexpr std::size_t threads = 8, rounds = 25;
    std::vector<std::size_t> mismatches(threads, 0), calls(threads, 0);
    std::vector<std::thread> pool;
    for (std::size_t t = 0; t < threads; ++t)
        pool.emplace_back([&, t] {
            // Each thread starts at another text and walks with another stride, so at any moment
            // different threads score different texts.
            for (std::size_t r = 0; r < rounds; ++r)
                for (std::size_t j = 0; j < texts.size(); ++j) {
                    const std::size_t i = (t * 31 + j * (2 * t + 1)) % texts.size();
                    const TextPrediction p = model.predict(texts[i]);
                    ++calls[t];
                    if (p.label != serial[i].label || !same_bits(p.probabilities, serial[i].probabilities)) ++mismatches[t];
                }
        });
    for (auto& th : pool) th.join();
    for (std::size_t t = 0; t < threads; ++t) {
        BOOST_CHECK_EQUAL(calls[t], rounds * texts.size());
        BOOST_CHECK_MESSAGE(mismatches[t] == 0, "thread " << t << ": " << mismatches[t] << " results differ from serial");
    }
}
}  // namespace

BOOST_AUTO_TEST_CASE(predict_from_eight_threads_equals_serial) {
    BOOST_REQUIRE(!trained().model().folded());
    check_eight_threads_equal_serial(trained().model());
}

BOOST_AUTO_TEST_CASE(folded_predict_from_eight_threads_equals_serial) {
    const std::string path = scratch("threads.model");
    trained().model().save(path);
    const TextClassifier loaded = TextClassifier::load(path);
    BOOST_REQUIRE(loaded.folded());
    check_eight_threads_equal_serial(loaded);
}

BOOST_AUTO_TEST_CASE(every_truncation_is_an_input_error_naming_the_file) {
    const auto bytes = model_bytes(trained().model());
    BOOST_REQUIRE_GT(bytes.size(), 1000u);
    std::size_t failures = 0;
    for (std::size_t n = 0; n < bytes.size(); ++n) {
        const std::string message = load_error(std::span(bytes.data(), n), "cut.model");
        if (!starts_with(message, "cut.model: ")) {
            if (failures++ < 5) BOOST_ERROR("cut at " << n << " bytes: " << message);
        }
    }
    BOOST_CHECK_EQUAL(failures, 0u);
    // Through files, at a few offsets: the message names the path.
    for (std::size_t n : {std::size_t{0}, std::size_t{7}, std::size_t{16}, std::size_t{40}, bytes.size() / 2,
                          bytes.size() - 8, bytes.size() - 1}) {
        const std::string path = scratch("cut_" + std::to_string(n) + ".model");
        std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(n));
        BOOST_CHECK_EXCEPTION(TextClassifier::load(path), InputError,
                              [&](const InputError& e) { return starts_with(e.what(), path + ": "); });
    }
}

BOOST_AUTO_TEST_CASE(every_flipped_byte_is_detected) {
    const TextClassifier& model = trained().model();
    const ModelFile file = model.to_model_file();
    const auto bytes = encode_model_file(file);
    // Where the payloads are: after the 16-byte header, each section has a 16-byte header.
    std::vector<std::pair<std::size_t, std::size_t>> payloads;
    std::size_t offset = 16;
    for (const auto& s : file.sections()) {
        payloads.emplace_back(offset + 16, offset + 16 + s.payload.size());
        offset += 16 + s.payload.size();
    }
    BOOST_REQUIRE_EQUAL(offset + 8, bytes.size());
    std::size_t failures = 0;
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        auto copy = bytes;
        copy[i] ^= 0x20;
        const std::string message = load_error(copy, "flipped.model");
        bool in_payload = false;
        for (const auto& [begin, end] : payloads) in_payload |= i >= begin && i < end;
        const bool ok = starts_with(message, "flipped.model: ") &&
                        (!in_payload || message == "flipped.model: checksum mismatch: the file is corrupt");
        if (!ok && failures++ < 5) BOOST_ERROR("byte " << i << " flipped: " << message);
    }
    BOOST_CHECK_EQUAL(failures, 0u);
    BOOST_CHECK_EQUAL(load_error(bytes, "intact.model"), "no error");
}

// Files whose checksum is right but whose sections are not: the sizes inside are checked
// before anything is allocated, and every problem is an InputError naming the file.
BOOST_AUTO_TEST_CASE(crafted_sections_give_input_errors) {
    const ModelFile good = trained().model().to_model_file();
    auto error_with = [&](const std::function<void(ModelFile&)>& change) {
        ModelFile f = good;
        change(f);
        return load_error(encode_model_file(f), "crafted.model");
    };
    auto payload = [](auto write) {
        std::vector<std::uint8_t> bytes;
        ByteWriter w(bytes);
        write(w);
        return bytes;
    };

    // Label count far beyond the section's bytes: refused before allocating.
    std::string m = error_with([&](ModelFile& f) {
        f.set("LABL", 1, payload([](ByteWriter& w) { w.put<std::uint64_t>(std::uint64_t{1} << 61); }));
    });
    BOOST_CHECK_MESSAGE(starts_with(m, "crafted.model") && contains(m, "LABL"), m);
    // A string length beyond the section.
    m = error_with([&](ModelFile& f) {
        f.set("LABL", 1, payload([](ByteWriter& w) {
                  w.put<std::uint64_t>(2);
                  w.put<std::uint64_t>(std::uint64_t{1} << 40);
              }));
    });
    BOOST_CHECK_MESSAGE(starts_with(m, "crafted.model"), m);
    // A text network of windowed pooling (valid weights and checksum): texts are packed into
    // one stream, which it cannot take; it loaded and failed every prediction.
    m = error_with([&](ModelFile& f) {
        const TextClassifier& model = trained().model();
        const ModelSpec pooled = {
            {"embedding", "embedding", {{"vocab", std::to_string(model.vocabulary().size())}, {"dim", "4"}}, {}},
            {"max_pool", "pool", {{"window", "2"}, {"padding", "same"}}, {}},
            {"global_max_pool", "", {}, {}},
            {"dense", "output", {{"units", "2"}}, {}}};
        Network network(pooled, Shape{1, 1, 1});
        add_network_sections(f, network);  // ARCH and WGHT replaced
    });
    BOOST_CHECK_MESSAGE(m == "crafted.model: the text network holds max_pool 'pool', which texts of any length cannot "
                             "pass (over time, a text network pools with global_max_pool or global_avg_pool)",
                        m);
    // Weights that do not fit the architecture.
    m = error_with([&](ModelFile& f) {
        f.set("WGHT", 1, payload([](ByteWriter& w) { w.put_floats(std::vector<float>(10, 0.5f)); }));
    });
    BOOST_CHECK_MESSAGE(starts_with(m, "crafted.model"), m);
    // A vocabulary that is garbage.
    m = error_with([&](ModelFile& f) { f.set("VOCB", 1, {1, 2, 3}); });
    BOOST_CHECK_MESSAGE(starts_with(m, "crafted.model"), m);
    // A well-formed vocabulary of another size than the embedding table.
    {
        const std::vector<std::vector<std::string>> docs = {{"only", "two", "words"}};
        const Vocabulary small = Vocabulary::build(docs);
        const TextClassifier other(TokenizerSettings{}, small, {"neg", "pos"},
                                   Network(text_cnn_spec(TextModelSettings{}, small.size(), 2), Shape{1, 1, 1}));
        const ModelFile other_file = other.to_model_file();
        m = error_with([&](ModelFile& f) { f.set("VOCB", other_file.find("VOCB")->version, other_file.find("VOCB")->payload); });
        BOOST_CHECK_MESSAGE(starts_with(m, "crafted.model: the embedding table has ") &&
                                contains(m, " rows but the vocabulary has " + std::to_string(small.size()) + " ids"),
                            m);
    }
    // Architecture that is not JSON.
    m = error_with([&](ModelFile& f) {
        const std::string text = "{not json";
        f.set("ARCH", 1, std::vector<std::uint8_t>(text.begin(), text.end()));
    });
    BOOST_CHECK_MESSAGE(starts_with(m, "crafted.model"), m);
    // A section from a newer textcnn.
    m = error_with([&](ModelFile& f) { f.set("TOKN", 2, good.find("TOKN")->payload); });
    BOOST_CHECK_EQUAL(m, "crafted.model: section 'TOKN' version 2 is newer than this build supports (1)");
    // A tokenizer setting this build does not know (a newer textcnn's): its tokenization
    // cannot be reproduced, so the model must be refused, naming the file.
    m = error_with([&](ModelFile& f) {
        f.set("TOKN", 1, payload([](ByteWriter& w) {
                  w.put<std::uint64_t>(2);
                  w.put_string("stemming");
                  w.put_string("porter");
              }));
    });
    BOOST_CHECK_MESSAGE(starts_with(m, "crafted.model: ") && contains(m, "stemming"), m);
    // Three labels for a network with two outputs.
    m = error_with([&](ModelFile& f) {
        f.set("LABL", 1, payload([](ByteWriter& w) {
                  w.put<std::uint64_t>(3);
                  for (const char* l : {"a", "b", "c"}) w.put_string(l);
              }));
    });
    BOOST_CHECK_MESSAGE(starts_with(m, "crafted.model: ") && contains(m, "3 labels"), m);
    // Labels training refuses. Empty, repeated or not UTF-8 (JSON output needs it): refused at
    // load. A control character (a line end, a tab, an escape): models trained before training
    // refused them keep loading (predict's tsv escapes them), but a classifier made now is
    // refused, as training refuses its data.
    const std::vector<std::pair<std::string, std::string>> bad_labels = {
        {"po\nsitive", "holds U+000A (line feed) at byte 3"},
        {"\x1b[2Jneg", "holds U+001B (a control character) at byte 1"},
        {"a\tb", "holds U+0009 (tab) at byte 2"},
        {"x\xc2\x85", "holds U+0085 (next line) at byte 2"},
        {"line\xe2\x80\xa8sep", "holds U+2028 (line separator) at byte 5"},
        {"ok\x7f", "holds U+007F (a control character) at byte 3"},
        {"caf\xe9", "is not valid UTF-8 (byte 4)"},
        {"", "is empty"},
        {"neg", "is label 1 again"},
    };
    for (const auto& [label, what] : bad_labels) {
        BOOST_TEST_CONTEXT(what) {
            const bool control = contains(what, "holds");
            m = error_with([&](ModelFile& f) {
                f.set("LABL", 1, payload([&](ByteWriter& w) {
                          w.put<std::uint64_t>(2);
                          w.put_string("neg");
                          w.put_string(label);
                      }));
            });
            BOOST_CHECK_EQUAL(m, control ? "no error" : "crafted.model section 'LABL': label 2 " + what);
            const Vocabulary& vocabulary = trained().model().vocabulary();
            const std::string made = textcnn::testing::error_of<ConfigError>([&] {
                TextClassifier(TokenizerSettings{}, vocabulary, {"neg", label},
                               Network(text_cnn_spec(TextModelSettings{}, vocabulary.size(), 2), Shape{1, 1, 1}));
            });
            BOOST_CHECK_EQUAL(made, "text classifier: label 2 " + what +
                                        (control ? ": a label is one line of text without control characters" : ""));
        }
    }
    // The whole file from a newer format version.
    {
        auto bytes = encode_model_file(good);
        bytes[8] = 2;
        // The checksum is not even reached: the version is read first.
        BOOST_CHECK_EQUAL(load_error(bytes, "newer.model"),
                          "newer.model: format version 2 is newer than this build supports (1)");
    }
}

BOOST_AUTO_TEST_CASE(foreign_files_are_refused_with_a_clear_message) {
    // A network-only file (what an image model is at heart: ARCH + WGHT, no TOKN/VOCB/LABL).
    const std::string image_like = scratch("network_only.model");
    write_network(image_like, trained().model().network());
    BOOST_CHECK_EXCEPTION(TextClassifier::load(image_like), InputError, [&](const InputError& e) {
        return std::string(e.what()) == image_like +
                                            ": not a text model (no 'TOKN' section; an image model is used with imagecnn)";
    });
    // A CSV file.
    const std::string csv = scratch("not_a_model.csv");
    std::ofstream(csv) << "label,text\npos,a fine film\n";
    BOOST_CHECK_EXCEPTION(TextClassifier::load(csv), InputError, [&](const InputError& e) {
        return starts_with(e.what(), csv + ": not a textcnn model file");
    });
    // A missing file: IoError naming it.
    const std::string missing = scratch("no_such.model");
    BOOST_CHECK_EXCEPTION(TextClassifier::load(missing), IoError,
                          [&](const IoError& e) { return starts_with(e.what(), missing + ": cannot open"); });
}

BOOST_AUTO_TEST_CASE(training_data_errors) {
    const auto options = tiny_options(1, 1);
    BOOST_CHECK_EXCEPTION(TextTrainingRun({}, std::nullopt, "", options, {}), InputError,
                          [](const InputError& e) { return contains(e.what(), "no documents"); });
    auto one_class = make_documents(20, 1);
    for (auto& d : one_class) d.label = "pos";
    BOOST_CHECK_EXCEPTION(TextTrainingRun(one_class, std::nullopt, "", options, {}), InputError, [](const InputError& e) {
        return contains(e.what(), "only one class ('pos' on all 20 documents)");
    });
    // The training data is named as the caller names it.
    auto named = options;
    named.train_source = "reviews.csv";
    BOOST_CHECK_EXCEPTION(TextTrainingRun(one_class, std::nullopt, "", named, {}), InputError, [](const InputError& e) {
        return starts_with(e.what(), "reviews.csv: only one class");
    });
    // A validation share that holds out nothing (0.02 of 10 per class rounds to 0) is an error,
    // not a run without validation.
    named.validation_split = 0.02;
    BOOST_CHECK_EXCEPTION(TextTrainingRun(make_documents(20, 1), std::nullopt, "", named, {}), InputError,
                          [](const InputError& e) {
                              return std::string(e.what()) ==
                                     "reviews.csv: a validation split of 0.02 holds out no document of 20 (every "
                                     "class rounds to 0); give a larger share or dev data";
                          });
    // An empty dev set would silently turn off model selection.
    BOOST_CHECK_EXCEPTION(TextTrainingRun(make_documents(20, 1), std::vector<Document>{}, "dev.csv", options, {}),
                          InputError, [](const InputError& e) { return starts_with(e.what(), "dev.csv: no documents"); });
    // A dev label never seen in training names the dev file, line and label.
    auto dev = make_documents(10, 2);
    dev[3].label = "meh";
    BOOST_CHECK_EXCEPTION(TextTrainingRun(make_documents(20, 1), dev, "dev.csv", options, {}), InputError,
                          [](const InputError& e) {
                              return starts_with(e.what(), "dev.csv:5: label 'meh' does not occur in the training data");
                          });
    // An empty vocabulary says what emptied it: no token at all (punctuation dropped, here)
    // or words all rarer than the minimum count; it blamed the count either way.
    auto punctuation = make_documents(20, 1);
    for (std::size_t i = 0; i < punctuation.size(); ++i) punctuation[i].text = i % 2 ? "?!" : "...";
    auto drop = options;
    drop.train_source = "reviews.csv";
    drop.tokenizer.punctuation = Punctuation::drop;
    BOOST_CHECK_EXCEPTION(TextTrainingRun(punctuation, std::nullopt, "", drop, {}), InputError, [](const InputError& e) {
        return std::string(e.what()) ==
               "reviews.csv: the vocabulary is empty: the texts hold no token (20 documents); the model would see only "
               "unknown words. Check the text column: punctuation is dropped, so a text of punctuation alone has no "
               "token";
    });
    // One text too long to train on (its activations and their gradients beyond 1 GiB) is
    // refused with its line and the bound, before any batch; a maximum length cuts it instead.
    auto long_text = make_documents(20, 1);
    std::string words;
    for (int i = 0; i < 1'500'000; ++i) words += i % 2 ? "great " : "film ";
    long_text[5].text = words;
    BOOST_CHECK_EXCEPTION(TextTrainingRun(long_text, std::nullopt, "", drop, {}), InputError, [](const InputError& e) {
        return starts_with(e.what(), "reviews.csv:7: a text of 1500000 tokens is more than training holds for one "
                                     "text (") &&
               contains(e.what(), "set a maximum length to cut such texts");
    });
    auto cut = drop;
    cut.max_length = 1000;
    BOOST_CHECK_NO_THROW(TextTrainingRun(long_text, std::nullopt, "", cut, {}));
    // Refused rather than taken as "none" or dropped, unsaid (found by a new-user run of the
    // library): NaN or negative shares, a split beside dev data, explicit class weights beside
    // balanced ones, NaN word dropout; and a maximum length a model file cannot hold.
    const auto refused = [&](auto change, std::optional<std::vector<Document>> dev, const std::string& message) {
        auto o = options;
        change(o);
        BOOST_CHECK_EXCEPTION(TextTrainingRun(make_documents(20, 1), dev, "dev.csv", o, {}), ConfigError,
                              [&](const ConfigError& e) { return std::string(e.what()) == message; });
    };
    refused([](TextTrainingOptions& o) { o.validation_split = std::nan(""); }, std::nullopt,
            "the validation split must be in [0, 1), got nan");
    refused([](TextTrainingOptions& o) { o.validation_split = -0.1; }, std::nullopt,
            "the validation split must be in [0, 1), got -0.1");
    refused([](TextTrainingOptions& o) { o.validation_split = 0.5; }, make_documents(10, 2),
            "dev data and a validation split both choose the validation documents: give one");
    refused(
        [](TextTrainingOptions& o) {
            o.balanced_class_weights = true;
            o.trainer.class_weights = {1.0f, 100.0f};
        },
        std::nullopt, "balanced class weights replace the class weights given: give one");
    refused([](TextTrainingOptions& o) { o.model.word_dropout = std::nanf(""); }, std::nullopt,
            "word dropout must be in [0, 1), got nan");
    TextTrainingRun fine(make_documents(20, 1), std::nullopt, "", options, {});
    BOOST_CHECK_EXCEPTION(fine.classifier().set_max_length(std::size_t{1} << 25), ConfigError, [](const ConfigError& e) {
        return std::string(e.what()) == "max_length: 33554432 tokens; at most 16777216 (0 = no limit)";
    });
    auto rare = drop;
    rare.tokenizer.punctuation = Punctuation::keep;
    rare.vocabulary.min_count = 1000;
    BOOST_CHECK_EXCEPTION(TextTrainingRun(make_documents(20, 1), std::nullopt, "", rare, {}), InputError,
                          [](const InputError& e) {
                              return contains(e.what(), "are rarer than the minimum count (20 documents)") &&
                                     contains(e.what(), "Lower the minimum word count");
                          });
}

// grouped_stratified_split (textcnn split): identical texts on one side; without repeats the
// same documents as stratified_split.
BOOST_AUTO_TEST_CASE(grouped_split_keeps_identical_texts_together) {
    std::vector<Document> docs;
    for (std::size_t i = 0; i < 60; ++i)
        docs.push_back({i % 3 ? std::string("b") : std::string("a"), "sentence number " + std::to_string(i), i + 2, {}});
    std::vector<Document> plain = docs, plain_out, grouped = docs, grouped_out;
    stratified_split(plain, plain_out, 0.3, 7);
    const DuplicateTexts none = grouped_stratified_split(grouped, grouped_out, 0.3, 7);
    BOOST_TEST(none.repeated_documents == 0u);
    BOOST_REQUIRE(plain_out.size() == grouped_out.size());
    for (std::size_t i = 0; i < plain_out.size(); ++i) BOOST_TEST(plain_out[i].text == grouped_out[i].text);

    // Every text three times (one copy relabelled): no text on both sides, whatever the seed.
    std::vector<Document> tripled;
    for (int copy = 0; copy < 3; ++copy)
        for (std::size_t i = 0; i < 20; ++i)
            tripled.push_back({std::string(i % 2 ? "a" : "b"), "line " + std::to_string(i), tripled.size() + 1, {}});
    for (std::uint64_t seed = 1; seed < 20; ++seed) {
        std::vector<Document> train = tripled, held;
        const DuplicateTexts d = grouped_stratified_split(train, held, 0.25, seed);
        BOOST_TEST(d.repeated_documents == 40u);
        BOOST_TEST(d.conflicting_texts == 0u);
        BOOST_TEST(held.size() == 18u);  // per class round(0.25 * 30) = 8 wanted: three whole groups of 3
        std::set<std::string> train_texts;
        for (const auto& doc : train) train_texts.insert(doc.text);
        for (const auto& doc : held) BOOST_TEST(!train_texts.count(doc.text));
    }
    tripled[44].label = "a";  // the third copy of "line 4"
    std::vector<Document> train = tripled, held;
    const DuplicateTexts d = grouped_stratified_split(train, held, 0.25, 1);
    BOOST_TEST(d.conflicting_texts == 1u);
    BOOST_REQUIRE(d.conflict_examples.size() == 1u);
    BOOST_TEST(d.conflict_examples[0] == "'line 4' (lines 5, 25, 45: b, b, a)");
}

// --max-length: the model cuts at prediction exactly where training cut, after save and load,
// folded, through the network and quantized; a bad stored value is the file's error.
// The network's forward pass holds every position: a text too long for it (here 2 million
// tokens, about 1.1 GiB in this small network) is refused with the figure, and texts that fit
// one by one but not packed together are scored in parts, as they would be alone. The folded
// tables score any length.
BOOST_AUTO_TEST_CASE(network_path_bounds_one_texts_activations) {
    const std::string path = scratch("long_texts.model");
    trained().model().save(path);
    const TextClassifier folded = TextClassifier::load(path);
    TextClassifier unfolded = TextClassifier::load(path);
    unfolded.drop_folding();
    const std::uint32_t good = static_cast<std::uint32_t>(folded.vocabulary().find("great").value());
    const std::vector<std::uint32_t> huge(2'000'000, good);
    std::vector<float> probabilities;
    const std::string message = testing::error_of<InputError>(
        [&] { unfolded.predict_encoded(std::span(&huge, 1), probabilities); });
    BOOST_CHECK_MESSAGE(contains(message, "a text of 2000000 tokens needs about") &&
                            contains(message, "GiB in the network's forward pass, above the limit of 1 GiB"),
                        message);
    folded.predict_encoded(std::span(&huge, 1), probabilities);
    BOOST_CHECK_GT(probabilities[1], 0.5f);  // "great" is a positive word
    // Two texts of 1.2 million tokens: each fits, both packed do not.
    std::vector<std::vector<std::uint32_t>> pair(2, std::vector<std::uint32_t>(1'200'000, good));
    pair[1][7] = static_cast<std::uint32_t>(folded.vocabulary().find("awful").value());
    std::vector<float> both, alone;
    unfolded.predict_encoded(pair, both);
    for (std::size_t i = 0; i < 2; ++i) {
        unfolded.predict_encoded(std::span(&pair[i], 1), alone);
        BOOST_CHECK(same_bits(std::vector<float>(both.begin() + 2 * i, both.begin() + 2 * i + 2), alone));
    }
}

BOOST_AUTO_TEST_CASE(max_length_is_stored_and_cuts_at_prediction) {
    TextTrainingOptions options = tiny_options(3, 5);
    options.max_length = 4;
    TextTrainingRun run(make_documents(200, 3), std::nullopt, "", options, TextTrainingCallbacks{});
    run.run();
    BOOST_TEST(run.classifier().max_length() == 4u);
    run.classifier().save(scratch("cut.model"));
    TextClassifier model = TextClassifier::load(scratch("cut.model"));
    BOOST_TEST(model.max_length() == 4u);
    BOOST_TEST(contains(model.summary(), "texts cut to their first 4 tokens"));

    // Words after the fourth token change nothing; the prediction says it was cut.
    const std::string head = "the film was superb";
    const TextPrediction short_text = model.predict(head);
    const TextPrediction long_text = model.predict(head + " awful awful dreadful boring");
    BOOST_TEST(!short_text.truncated);
    BOOST_TEST(long_text.truncated);
    BOOST_TEST(long_text.tokens == 4u);
    BOOST_TEST(long_text.probabilities == short_text.probabilities, boost::test_tools::per_element());
    BOOST_TEST(model.encode(head + " and more words here").size() == 4u);
    // The network's own road (no folding) and the batch call agree.
    model.drop_folding();
    const std::vector<std::string> both = {head, head + " awful awful dreadful boring"};
    const auto batch = model.predict(both);
    BOOST_TEST(batch[1].truncated);
    for (std::size_t k = 0; k < 2; ++k) BOOST_TEST(std::abs(batch[1].probabilities[k] - batch[0].probabilities[k]) < 1e-6f);
    // Quantizing keeps it.
    model.quantize();
    const TextClassifier quantized = TextClassifier::from_model_file(decode_model_file(model_bytes(model), "q.model"));
    BOOST_TEST(quantized.max_length() == 4u);
    BOOST_TEST(quantized.predict(head + " awful awful").truncated);

    // A model without the limit does not write the key (older textcnn versions read it).
    BOOST_TEST(decode_string_map(trained().model().to_model_file().require("TOKN", 1), "t").count("max_tokens") == 0u);
    // A bad stored value is an InputError naming the file and the section.
    for (const std::string bad : {"0", "-1", "4x", "", "99999999999"}) {
        ModelFile f = run.classifier().to_model_file();
        auto map = decode_string_map(f.require("TOKN", 1), "t");
        map["max_tokens"] = bad;
        f.set("TOKN", 1, encode_string_map(map));
        const std::string m = load_error(encode_model_file(f), "crafted.model");
        BOOST_CHECK_MESSAGE(starts_with(m, "crafted.model: section 'TOKN': 'max_tokens' must be"), m);
    }
}

// --- Ensembles ---------------------------------------------------------------------------------

namespace {

// Members of the same data and validation split, trainer seeds as `textcnn train --ensemble`.
std::vector<TextClassifier> trained_members(std::size_t count, std::uint64_t seed) {
    std::vector<TextClassifier> members;
    for (std::size_t k = 0; k < count; ++k) {
        TextTrainingOptions o = tiny_options(3, ensemble_member_seed(seed, k));
        o.validation_split = 0.2;
        o.validation_seed = seed;
        TextTrainingRun run(make_documents(200, 5), std::nullopt, "", o, {});
        run.run();
        members.push_back(run.take_classifier());
    }
    return members;
}

}  // namespace

BOOST_AUTO_TEST_CASE(ensemble_member_seeds) {
    BOOST_CHECK_EQUAL(ensemble_member_seed(7, 0), 7u);
    std::set<std::uint64_t> seen;
    for (std::uint64_t seed : {1, 2, 3})
        for (std::size_t k = 0; k < 10; ++k) {
            const std::uint64_t s = ensemble_member_seed(seed, k);
            BOOST_CHECK_LT(s, std::uint64_t{1} << 32);
            seen.insert(s);
        }
    BOOST_CHECK_EQUAL(seen.size(), 30u);  // neighbouring seeds' ensembles share no member
}

// The last M of K members get the naive-Bayes branch; every member holds out the split of the
// base seed and trains from its own; member 0 of one is the base itself.
BOOST_AUTO_TEST_CASE(ensemble_member_options_compose_an_ensemble) {
    const TextTrainingOptions base = tiny_options(3, 9);
    for (std::size_t k = 0; k < 5; ++k) {
        const TextTrainingOptions o = ensemble_member_options(base, k, 5, 2);
        BOOST_CHECK_EQUAL(o.trainer.seed, ensemble_member_seed(9, k));
        BOOST_CHECK_EQUAL(o.validation_seed.value_or(0), 9u);
        BOOST_CHECK_EQUAL(o.naive_bayes_ngram_init, k >= 3);
        BOOST_CHECK_EQUAL(o.model.word_ngrams, k >= 3 ? 2u : base.model.word_ngrams);
        BOOST_CHECK_EQUAL(is_naive_bayes_member(k, 5, 2), k >= 3);
    }
    BOOST_CHECK_EQUAL(ensemble_member_options(base, 0, 1, 0).trainer.seed, 9u);
    BOOST_CHECK(ensemble_member_options(base, 0, 1, 1).naive_bayes_ngram_init);
    BOOST_CHECK(!ensemble_member_options(base, 4, 5, 0).naive_bayes_ngram_init);
    BOOST_CHECK_EXCEPTION(ensemble_member_options(base, 5, 5, 0), ConfigError, [](const ConfigError& e) {
        return std::string(e.what()) == "ensemble member index 5 is out of range for 5 networks (0-based)";
    });
    BOOST_CHECK_THROW(ensemble_member_options(base, 0, 2, 3), ConfigError);
}

// --member-validation own: each member holds out the split of its own seed, the vocabulary
// spans the held-out documents too (so the members still form one ensemble), the positions name
// the documents held out, and the out-of-bag evaluation averages exactly the members that held
// each document out.
BOOST_AUTO_TEST_CASE(members_with_validation_splits_of_their_own_form_an_ensemble) {
    TextTrainingOptions base = tiny_options(2, 4);
    base.validation_split = 0.2;
    const std::vector<Document> docs = make_documents(200, 5);
    std::vector<TextClassifier> members;
    std::vector<Evaluation> evaluations;
    std::vector<std::vector<std::size_t>> positions;
    for (std::size_t k = 0; k < 3; ++k) {
        const TextTrainingOptions o = ensemble_member_options(base, k, 3, 0, MemberValidation::own);
        BOOST_CHECK(o.vocabulary_from_held_out_too);
        BOOST_CHECK_EQUAL(o.validation_seed.value_or(0), ensemble_member_seed(4, k));
        TextTrainingRun run(docs, std::nullopt, "", o, {});
        run.run();
        positions.push_back(run.validation_positions());
        BOOST_REQUIRE_EQUAL(positions.back().size(), 40u);
        BOOST_CHECK(std::is_sorted(positions.back().begin(), positions.back().end()));
        evaluations.push_back(run.evaluate_validation());
        const Evaluation& e = evaluations.back();
        for (std::size_t i = 0; i < e.labels.size(); ++i) {
            const Document& d = docs[positions.back()[i]];
            BOOST_CHECK_EQUAL(run.classifier().labels()[e.labels[i]], *d.label);
            const TextPrediction p = run.classifier().predict(d.text);
            for (std::size_t c = 0; c < e.classes; ++c)
                BOOST_CHECK_SMALL(p.probabilities[c] - e.probabilities[i * e.classes + c], 1e-5f);
        }
        members.push_back(run.take_classifier());
    }
    BOOST_CHECK(positions[0] != positions[1] && positions[1] != positions[2]);
    // One member of a single network's "ensemble" is the single network: its own vocabulary.
    BOOST_CHECK(!ensemble_member_options(base, 0, 1, 0, MemberValidation::own).vocabulary_from_held_out_too);
    {
        // Built from the documents trained on alone, two splits' vocabularies differ (ids follow
        // the counts), so without the held-out documents the members could not form an ensemble.
        TextTrainingOptions a = ensemble_member_options(base, 0, 3, 0, MemberValidation::own);
        TextTrainingOptions b = ensemble_member_options(base, 1, 3, 0, MemberValidation::own);
        a.vocabulary_from_held_out_too = b.vocabulary_from_held_out_too = false;
        TextTrainingRun ra(docs, std::nullopt, "", a, {}), rb(docs, std::nullopt, "", b, {});
        BOOST_CHECK(!ra.classifier().vocabulary().same_ids(rb.classifier().vocabulary()));
    }
    const TextClassifier ensemble = TextClassifier::ensemble(std::move(members));
    BOOST_CHECK_EQUAL(ensemble.ensemble_size(), 3u);

    const OutOfBagEvaluation oob = out_of_bag_evaluation(evaluations, positions);
    std::set<std::size_t> held(positions[0].begin(), positions[0].end());
    for (std::size_t k = 1; k < 3; ++k) held.insert(positions[k].begin(), positions[k].end());
    BOOST_REQUIRE_EQUAL(oob.positions.size(), held.size());
    BOOST_CHECK(std::equal(oob.positions.begin(), oob.positions.end(), held.begin()));
    std::size_t correct = 0, judged = 0;
    for (std::size_t r = 0; r < oob.positions.size(); ++r) {
        std::vector<double> mean(2, 0.0);
        std::size_t judges = 0;
        for (std::size_t k = 0; k < 3; ++k) {
            const auto it = std::find(positions[k].begin(), positions[k].end(), oob.positions[r]);
            if (it == positions[k].end()) continue;
            const std::size_t i = static_cast<std::size_t>(it - positions[k].begin());
            for (std::size_t c = 0; c < 2; ++c) mean[c] += evaluations[k].probabilities[i * 2 + c];
            ++judges;
        }
        BOOST_CHECK_EQUAL(oob.judges[r], judges);
        judged += judges;
        for (std::size_t c = 0; c < 2; ++c)
            BOOST_CHECK_SMALL(oob.evaluation.probabilities[r * 2 + c] - static_cast<float>(mean[c] / judges), 1e-6f);
        correct += oob.evaluation.predictions[r] == oob.evaluation.labels[r];
    }
    BOOST_CHECK_EQUAL(judged, 120u);
    BOOST_CHECK_CLOSE(oob.evaluation.accuracy, static_cast<double>(correct) / oob.positions.size(), 1e-9);
    BOOST_CHECK_GT(oob.evaluation.loss, 0.0);
}

// check_validation_split refuses exactly the splits the run's constructor refuses: a label whose
// documents all land in the held-out share (two identical texts move together) is found
// without training, for whichever seeds draw it so.
BOOST_AUTO_TEST_CASE(validation_splits_are_checked_before_training) {
    std::vector<Document> docs = make_documents(40, 6);
    for (const char* text : {"a lone heron", "a lone heron", "a second heron"}) {
        Document d;
        d.label = " heron ";  // trimmed by the data checks, as the run trims it
        d.text = text;
        d.line = docs.size() + 2;
        docs.push_back(d);
    }
    std::size_t refused = 0, accepted = 0;
    for (std::uint64_t seed = 1; seed <= 12; ++seed) {
        TextTrainingOptions o = tiny_options(1, seed);
        o.validation_split = 0.5;
        bool constructor_refused = false;
        try {
            TextTrainingRun run(docs, std::nullopt, "", o, {});
        } catch (const InputError& e) {
            constructor_refused = true;
            BOOST_CHECK_MESSAGE(contains(e.what(), "label 'heron' has no training document left"), e.what());
        }
        bool check_refused = false;
        try {
            check_validation_split(docs, o);
        } catch (const InputError& e) {
            check_refused = true;
            BOOST_CHECK_MESSAGE(contains(e.what(), "label 'heron' has no training document left"), e.what());
        }
        BOOST_CHECK_EQUAL(check_refused, constructor_refused);
        (check_refused ? refused : accepted) += 1;
    }
    BOOST_CHECK_GT(refused, 0u);  // both outcomes occur among the seeds
    BOOST_CHECK_GT(accepted, 0u);
    // An ensemble's members with splits of their own: refused when one member's is, naming it.
    TextTrainingOptions base = tiny_options(1, 1);
    base.validation_split = 0.5;
    std::optional<std::size_t> first_refused;
    for (std::size_t k = 0; k < 6 && !first_refused; ++k) {
        try {
            check_validation_split(docs, ensemble_member_options(base, k, 6, 0, MemberValidation::own));
        } catch (const InputError&) {
            first_refused = k;
        }
    }
    BOOST_REQUIRE(first_refused);
    BOOST_CHECK(contains(testing::error_of<InputError>([&] {
                             check_ensemble_validation_splits(docs, base, 6, 0, MemberValidation::own);
                         }),
                         "ensemble member " + std::to_string(*first_refused + 1) + " of 6 (its validation split"));
    BOOST_CHECK_NO_THROW(check_ensemble_validation_splits(docs, base, 6, 0, MemberValidation::shared));
    TextTrainingOptions none = tiny_options(1, 1);
    BOOST_CHECK_NO_THROW(check_validation_split(docs, none));  // no split, nothing to check
    none.validation_split = 0.001;
    BOOST_CHECK(contains(testing::error_of<InputError>([&] { check_validation_split(docs, none); }), "holds out no document"));
}

// The ensemble's validation scores from its members' evaluations: the mean of the probabilities,
// arg-max and accuracy; mismatched evaluations are refused, not averaged.
BOOST_AUTO_TEST_CASE(mean_and_out_of_bag_evaluations) {
    Evaluation a, b;
    a.classes = b.classes = 2;
    a.labels = {0, 1, 1};
    a.probabilities = {0.9f, 0.1f, 0.6f, 0.4f, 0.2f, 0.8f};
    b.labels = {0, 1, 1};
    b.probabilities = {0.7f, 0.3f, 0.2f, 0.8f, 0.6f, 0.4f};
    const std::vector<Evaluation> both{a, b};
    const Evaluation mean = mean_evaluation(both);
    BOOST_CHECK_SMALL(mean.probabilities[0] - 0.8f, 1e-6f);
    BOOST_CHECK_SMALL(mean.probabilities[2] - 0.4f, 1e-6f);
    BOOST_CHECK(mean.predictions == (std::vector<std::uint32_t>{0, 1, 1}));
    BOOST_CHECK_CLOSE(mean.accuracy, 1.0, 1e-9);
    BOOST_CHECK_CLOSE(mean.loss, -(std::log(0.8) + std::log(0.6) + std::log(0.6)) / 3, 1e-4);

    BOOST_CHECK_THROW(mean_evaluation(std::vector<Evaluation>{}), ConfigError);
    Evaluation other = b;
    other.labels = {1, 1, 1};
    BOOST_CHECK(contains(testing::error_of<ConfigError>([&] { mean_evaluation(std::vector<Evaluation>{a, other}); }),
                         "member 2 was evaluated on other documents"));

    // a held out the documents at positions 3, 8, 9; c those at 1, 8, 9.
    Evaluation c;
    c.classes = 2;
    c.labels = {1, 1, 1};
    c.probabilities = {0.3f, 0.7f, 0.2f, 0.8f, 0.6f, 0.4f};
    const std::vector<Evaluation> members{a, c};
    const std::vector<std::vector<std::size_t>> positions{{3, 8, 9}, {1, 8, 9}};
    const OutOfBagEvaluation oob = out_of_bag_evaluation(members, positions);
    BOOST_CHECK(oob.positions == (std::vector<std::size_t>{1, 3, 8, 9}));
    BOOST_CHECK(oob.judges == (std::vector<std::uint32_t>{1, 1, 2, 2}));
    BOOST_CHECK(oob.evaluation.labels == (std::vector<std::uint32_t>{1, 0, 1, 1}));
    const std::vector<float> expected{0.3f, 0.7f, 0.9f, 0.1f, 0.4f, 0.6f, 0.4f, 0.6f};
    for (std::size_t i = 0; i < expected.size(); ++i)
        BOOST_CHECK_SMALL(oob.evaluation.probabilities[i] - expected[i], 1e-6f);
    BOOST_CHECK_CLOSE(oob.evaluation.accuracy, 1.0, 1e-9);

    Evaluation conflicting = c;
    conflicting.labels[1] = 0;  // position 8: label 1 for a, 0 here
    BOOST_CHECK(contains(testing::error_of<ConfigError>([&] {
                             out_of_bag_evaluation(std::vector<Evaluation>{a, conflicting}, positions);
                         }),
                         "disagree on the label of the document at position 8"));
    BOOST_CHECK_THROW(out_of_bag_evaluation(members, std::vector<std::vector<std::size_t>>{{3, 8, 9}}), ConfigError);
    BOOST_CHECK_THROW(out_of_bag_evaluation(members, std::vector<std::vector<std::size_t>>{{3, 8}, {1, 8, 9}}),
                      ConfigError);
    BOOST_CHECK(out_of_bag_evaluation({}, {}).positions.empty());
}

// K members that are one model predict exactly as that model: the mean is a running mean, so
// equal probabilities stay equal to the last bit; folded and through the network.
BOOST_AUTO_TEST_CASE(ensemble_of_identical_members_predicts_as_one) {
    const std::string path = scratch("member.model");
    trained().model().save(path);
    const TextClassifier single = TextClassifier::load(path);
    std::vector<TextClassifier> copies;
    for (int k = 0; k < 3; ++k) copies.push_back(TextClassifier::load(path));
    TextClassifier ensemble = TextClassifier::ensemble(std::move(copies));
    BOOST_CHECK_EQUAL(ensemble.ensemble_size(), 3u);
    BOOST_CHECK(ensemble.folded());
    const auto texts = probe_texts();
    const auto batch = ensemble.predict(std::span<const std::string>(texts));
    for (std::size_t i = 0; i < texts.size(); ++i) {
        const TextPrediction a = single.predict(texts[i]), e = ensemble.predict(texts[i]);
        BOOST_CHECK_EQUAL(a.label, e.label);
        BOOST_CHECK_MESSAGE(same_bits(a.probabilities, e.probabilities), "ensemble differs for '" << texts[i] << "'");
        BOOST_CHECK(same_bits(batch[i].probabilities, e.probabilities));
    }
    TextClassifier unfolded_single = TextClassifier::load(path);
    unfolded_single.drop_folding();
    ensemble.drop_folding();
    BOOST_CHECK(!ensemble.folded());
    for (const auto& text : texts)
        BOOST_CHECK(same_bits(unfolded_single.predict(text).probabilities, ensemble.predict(text).probabilities));
}

// Members trained from different seeds: the ensemble's probabilities are their mean; saved in one
// file (ENSM, no WGHT) and loaded back bit for bit; the folded road equals the network road;
// quantized, every member is quantized and the labels stay.
BOOST_AUTO_TEST_CASE(ensemble_saves_loads_folds_and_quantizes) {
    std::vector<TextClassifier> members = trained_members(3, 11);
    std::vector<std::vector<float>> alone;
    const auto texts = probe_texts();
    for (const auto& text : texts)
        for (const auto& m : members) alone.push_back(m.predict(text).probabilities);
    BOOST_CHECK(!same_bits(alone[0], alone[1]));  // the seeds made different networks
    const auto member_parameters = parameters_of(members[1]);
    TextClassifier model = TextClassifier::ensemble(std::move(members));
    model.metadata["what"] = "three members";
    BOOST_CHECK_EQUAL(model.ensemble_size(), 3u);
    BOOST_CHECK(testing::error_of<ConfigError>([&] { (void)std::as_const(model).network(); }).find("ensemble of 3") !=
                std::string::npos);
    BOOST_CHECK(testing::error_of<ConfigError>([&] { (void)std::as_const(model).network(3); }).find("member 3") !=
                std::string::npos);
    const auto p = std::as_const(model).network(1).parameters();
    BOOST_CHECK(same_bits({p.begin(), p.end()}, member_parameters));
    for (std::size_t i = 0; i < texts.size(); ++i) {
        const TextPrediction e = model.predict(texts[i]);
        for (std::size_t c = 0; c < 2; ++c) {
            const float mean = (alone[3 * i][c] + alone[3 * i + 1][c] + alone[3 * i + 2][c]) / 3.0f;
            BOOST_CHECK_SMALL(e.probabilities[c] - mean, 1e-6f);
        }
    }
    const ModelFile file = model.to_model_file();
    BOOST_CHECK(file.find("ENSM") && file.find("ARCH") && !file.find("WGHT") && !file.find("QFLD"));
    const std::string path = scratch("ensemble.model");
    model.save(path);
    const TextClassifier loaded = TextClassifier::load(path);
    BOOST_CHECK_EQUAL(loaded.ensemble_size(), 3u);
    BOOST_CHECK(loaded.folded());
    BOOST_CHECK(loaded.metadata == model.metadata);
    BOOST_CHECK(model_bytes(loaded) == model_bytes(model));
    BOOST_CHECK(contains(loaded.summary(), "Ensemble of 3 networks"));
    const std::size_t member_tables = loaded.vocabulary().size() * (3 + 4 + 5) * 8 * sizeof(float);
    BOOST_CHECK_EQUAL(loaded.fold_table_bytes(), 3 * member_tables);
    TextClassifier unfolded = TextClassifier::load(path);
    unfolded.drop_folding();
    // The fold budget is the model's, not each member's: with room for two members' tables the
    // third predicts through its network.
    TextClassifier partly = TextClassifier::load(path);
    BOOST_CHECK(!partly.fold_for_prediction(3 * member_tables - 1));
    BOOST_CHECK(!partly.folded());
    for (const auto& text : texts) {
        const TextPrediction a = model.predict(text), b = unfolded.predict(text), f = loaded.predict(text);
        BOOST_CHECK(same_bits(a.probabilities, b.probabilities));
        const TextPrediction m = partly.predict(text);
        for (std::size_t c = 0; c < 2; ++c) {
            BOOST_CHECK_SMALL(f.probabilities[c] - a.probabilities[c], 1e-5f);
            BOOST_CHECK_SMALL(m.probabilities[c] - a.probabilities[c], 1e-5f);
        }
        BOOST_CHECK_EQUAL(f.label, a.label);
        BOOST_CHECK_EQUAL(m.label, a.label);
    }
    BOOST_CHECK(partly.fold_for_prediction(3 * member_tables));
    BOOST_CHECK(partly.folded());
    TextClassifier quantized = TextClassifier::load(path);
    quantized.quantize();
    BOOST_CHECK(quantized.quantized());
    BOOST_CHECK_EQUAL(quantized.quantization_error_bound().size(), 2u);
    const std::string qpath = scratch("ensemble_q.model");
    quantized.save(qpath);
    const TextClassifier qloaded = TextClassifier::load(qpath);
    BOOST_CHECK(qloaded.quantized());
    BOOST_CHECK_EQUAL(qloaded.ensemble_size(), 3u);
    std::size_t same_label = 0;
    for (const auto& text : texts) {
        const TextPrediction q = qloaded.predict(text), f = loaded.predict(text);
        BOOST_CHECK(same_bits(q.probabilities, quantized.predict(text).probabilities));
        same_label += q.label == f.label;
    }
    BOOST_CHECK_GE(same_label, texts.size() - 2);
}

BOOST_AUTO_TEST_CASE(ensemble_members_must_agree) {
    BOOST_CHECK(contains(testing::error_of<ConfigError>([] { TextClassifier::ensemble(std::vector<TextClassifier>()); }), "at least one member"));
    const std::string path = scratch("member_a.model");
    trained().model().save(path);
    // Trained on other documents: another vocabulary.
    std::vector<TextClassifier> members;
    members.push_back(TextClassifier::load(path));
    members.push_back(std::move(trained_members(1, 3).front()));
    BOOST_CHECK(contains(testing::error_of<ConfigError>([&] { TextClassifier::ensemble(std::move(members)); }),
                         "ensemble member 2 has another vocabulary than the first"));
    members.clear();
    members.push_back(TextClassifier::load(path));
    members.push_back(TextClassifier::load(path));
    members.back().set_max_length(5);
    BOOST_CHECK(contains(testing::error_of<ConfigError>([&] { TextClassifier::ensemble(std::move(members)); }),
                         "ensemble member 2 cuts texts at 5 tokens"));
}

BOOST_AUTO_TEST_CASE(crafted_ensemble_sections_give_input_errors) {
    std::vector<TextClassifier> members;
    const std::string path = scratch("member_b.model");
    trained().model().save(path);
    for (int k = 0; k < 2; ++k) members.push_back(TextClassifier::load(path));
    const ModelFile good = TextClassifier::ensemble(std::move(members)).to_model_file();
    const std::vector<std::uint8_t> member = encode_model_file(trained().model().to_model_file());
    auto error_with = [&](const std::function<void(ByteWriter&)>& write, bool with_weights = false) {
        ModelFile f = good;
        std::vector<std::uint8_t> payload;
        ByteWriter w(payload);
        write(w);
        f.set("ENSM", 1, std::move(payload));
        if (with_weights) f.set("WGHT", 1, {0, 0, 0, 0, 0, 0, 0, 0});
        return load_error(encode_model_file(f), "crafted.model");
    };
    const auto one_member = [&](ByteWriter& w) {
        w.put<std::uint64_t>(member.size());
        w.put_bytes(member);
    };
    std::string m = error_with([](ByteWriter& w) { w.put<std::uint64_t>(0); });
    BOOST_CHECK_MESSAGE(starts_with(m, "crafted.model section 'ENSM'") && contains(m, "an ensemble of 0 members"), m);
    m = error_with([](ByteWriter& w) { w.put<std::uint64_t>(std::uint64_t{1} << 60); });
    BOOST_CHECK_MESSAGE(starts_with(m, "crafted.model section 'ENSM'") && contains(m, "member count"), m);
    m = error_with([](ByteWriter& w) {
        w.put<std::uint64_t>(1);
        w.put<std::uint64_t>(std::uint64_t{1} << 40);
    });
    BOOST_CHECK_MESSAGE(starts_with(m, "crafted.model section 'ENSM'") && contains(m, "truncated"), m);
    m = error_with([&](ByteWriter& w) {
        w.put<std::uint64_t>(1);
        one_member(w);
        w.put<std::uint8_t>(0);
    });
    BOOST_CHECK_MESSAGE(contains(m, "bytes after the last member"), m);
    m = error_with([&](ByteWriter& w) {
        w.put<std::uint64_t>(1);
        w.put<std::uint64_t>(8);
        w.put<std::uint64_t>(0);
    });
    BOOST_CHECK_MESSAGE(starts_with(m, "crafted.model ensemble member 1"), m);
    m = error_with(
        [&](ByteWriter& w) {
            w.put<std::uint64_t>(1);
            one_member(w);
        },
        true);
    BOOST_CHECK_MESSAGE(contains(m, "with weights of its own"), m);
    // A member whose embedding has another number of rows than the vocabulary has ids.
    TextTrainingOptions small = tiny_options(1, 3);
    small.vocabulary.max_size = 10;
    TextTrainingRun small_run(make_documents(50, 6), std::nullopt, "", small, {});
    ModelFile other = small_run.classifier().to_model_file();
    for (const char* tag : {"TOKN", "VOCB", "LABL", "META"}) other.set(tag, 1, {});
    const auto foreign = encode_model_file(other);
    m = error_with([&](ByteWriter& w) {
        w.put<std::uint64_t>(1);
        w.put<std::uint64_t>(foreign.size());
        w.put_bytes(foreign);
    });
    BOOST_CHECK_MESSAGE(starts_with(m, "crafted.model ensemble member 1") && contains(m, "but the vocabulary has"), m);
    // One good member is a model.
    BOOST_CHECK_EQUAL(error_with([&](ByteWriter& w) {
                          w.put<std::uint64_t>(1);
                          one_member(w);
                      }),
                      "no error");
}
