// The textcnn program end to end, run as a user would: train a tiny Kim CNN on a CSV written
// here from template sentences, then eval (--json keys, confusion rows = true labels, unknown
// labels), predict (one output line per input line, --prob, --format, --top, --threshold),
// summary, tokenize; the model file read back by the library; --resume of a checkpoint
// (written by the library, and by Ctrl-C) equal to an uninterrupted run; bad input with the
// exact messages and exit codes (0 ok, 1 input/runtime error, 2 usage error, 130 interrupted).
#define BOOST_TEST_MODULE textcnn_cli
#include <boost/test/unit_test.hpp>

#include "test_helpers.h"
#include "program_runs.h"

#include "textcnn/text/document_reader.h"
#include "textcnn/nn/model_file.h"
#include "textcnn/core/rng.h"
#include "textcnn/text/text_classifier.h"
#include "textcnn/text/text_training.h"
#include "textcnn/nn/trainer.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <cmath>
#include <csignal>
#include <fcntl.h>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <utility>
#include <vector>

using namespace textcnn;
using nlohmann::json;

namespace {

const std::string program = std::string(TEXTCNN_BINARY_DIR) + "/textcnn";

std::string scratch(const std::string& name) { return testing::scratch_path("test_textcnn_cli_files", name); }

using testing::read_text;
using testing::write_text;

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::size_t start = 0;
    while (start < text.size()) {
        const std::size_t end = text.find('\n', start);
        if (end == std::string::npos) {
            lines.push_back(text.substr(start));
            break;
        }
        lines.push_back(text.substr(start, end - start));
        start = end + 1;
    }
    return lines;
}

std::vector<std::string> split(const std::string& line, char delimiter) {
    std::vector<std::string> fields(1);
    for (char c : line) {
        if (c == delimiter) fields.emplace_back();
        else fields.back() += c;
    }
    return fields;
}

using Run = testing::ProgramRun;

// Runs textcnn with `args` (shell-quoted where needed); stdin from `input_file` if given.
Run run(const std::string& args, const std::string& input_file = "") {
    return testing::run_program(program + " " + args, scratch("stderr.txt"), input_file);
}

// --- Data: sentiment words planted in neutral sentences ------------------------------------------

const std::vector<std::string> positive_words = {"great",  "wonderful", "excellent", "delightful",
                                                 "superb", "brilliant", "charming",  "moving"};
const std::vector<std::string> negative_words = {"awful", "terrible", "boring",  "dreadful",
                                                 "dull",  "painful",  "clumsy", "tedious"};
const std::vector<std::string> nouns = {"film", "movie", "story", "acting", "script", "ending", "soundtrack", "cast"};

std::string sentence(Rng& rng, bool positive) {
    const auto& words = positive ? positive_words : negative_words;
    const std::string word = words[rng.below(words.size())];
    const std::string noun = nouns[rng.below(nouns.size())];
    switch (rng.below(7)) {
    case 0: return "the " + noun + " was " + word + " from start to finish";
    case 1: return "I thought the " + noun + " felt " + word;
    case 2: return "Honestly, a " + word + " " + noun + ", really";
    case 3: return "what a " + word + " " + noun + " this turned out to be";
    case 4: return "the " + noun + ", sadly or not, was " + word;
    case 5: return "she called the " + noun + " \"" + word + "\", twice";
    default: return "my friends found the " + noun + " " + word + "!";
    }
}

std::string csv_field(const std::string& s) {
    if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
    std::string quoted = "\"";
    for (char c : s) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
    return quoted + "\"";
}

struct Row {
    std::string label;
    std::string text;
};

// `count` rows, labels alternating neg, pos.
std::vector<Row> make_rows(std::size_t count, std::uint64_t seed) {
    Rng rng(seed);
    std::vector<Row> rows;
    for (std::size_t i = 0; i < count; ++i) rows.push_back({i % 2 ? "pos" : "neg", sentence(rng, i % 2 == 1)});
    return rows;
}

// `count` rows as make_rows(.., seed) gives them, but none with a text of `others` (dev data that
// repeats training texts is warned about).
std::vector<Row> make_rows_apart(std::size_t count, std::uint64_t seed, const std::vector<Row>& others) {
    std::set<std::string> taken;
    for (const auto& r : others) taken.insert(r.text);
    std::vector<Row> rows;
    for (const auto& r : make_rows(20 * count, seed))
        if (rows.size() < count && taken.insert(r.text).second) rows.push_back(r);
    return rows;
}

std::string to_csv(const std::vector<Row>& rows) {
    std::string out = "label,text\n";
    for (const auto& r : rows) out += csv_field(r.label) + "," + csv_field(r.text) + "\n";
    return out;
}

const std::string tiny = "--embedding-dim 16 --maps 8 --epochs 5 --batch 10 --seed 1";

// Trains once (CLI) for every test that only reads the model.
struct Trained {
    std::string train_csv = scratch("train.csv");
    std::string dev_csv = scratch("dev.csv");
    std::string model = scratch("sentiment.model");
    std::string log = scratch("log.jsonl");
    Run train;
    std::optional<TextClassifier> library_model;
    Trained() {
        write_text(train_csv, to_csv(make_rows(300, 1)));
        write_text(dev_csv, to_csv(make_rows_apart(60, 2, make_rows(300, 1))));
        std::filesystem::remove(model);
        train = run("train --train " + train_csv + " --dev " + dev_csv + " --model " + model + " " + tiny +
                    " --quiet --json --log-json " + log);
        if (train.code == 0) library_model.emplace(TextClassifier::load(model));
    }
};
Trained& trained() {
    static Trained t;
    BOOST_REQUIRE_MESSAGE(t.train.code == 0, "textcnn train failed: " << t.train.err);
    return t;
}

// The CLI's options for `tiny` as library options (the CLI's defaults are Kim's, as here).
TextTrainingOptions tiny_options(std::size_t epochs) {
    TextTrainingOptions o;
    o.model.embedding_dim = 16;
    o.model.maps = 8;
    o.trainer.epochs = epochs;
    o.trainer.batch_size = 10;
    o.trainer.seed = 1;
    return o;
}

std::vector<Document> read_labelled(const std::string& path) {
    DocumentReaderOptions o;
    o.require_label = true;
    return read_all(path, o).documents;
}

bool same_parameters(const TextClassifier& a, const TextClassifier& b) {
    const auto pa = a.network().parameters(), pb = b.network().parameters();
    return pa.size() == pb.size() && std::memcmp(pa.data(), pb.data(), pa.size() * sizeof(float)) == 0;
}

// Whether ensemble member `member` of `model` has the parameters the library trains with `o`
// from the ensemble's member seed of --seed 1 on the shared training and dev files.
bool member_is_library_run(const TextClassifier& model, std::size_t member, TextTrainingOptions o,
                           const std::string& train_csv, const std::string& dev_csv) {
    o.trainer.seed = ensemble_member_seed(1, member);
    TextTrainingRun library(read_labelled(train_csv), read_labelled(dev_csv), dev_csv, o, {});
    library.run();
    const auto own = std::as_const(library.classifier()).network().parameters(),
               stored = model.network(member).parameters();
    return std::equal(own.begin(), own.end(), stored.begin(), stored.end());
}

std::string with_commas(std::size_t n) {
    std::string digits = std::to_string(n), out;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return out;
}

}  // namespace

// --- train ----------------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(train_writes_a_model_and_a_json_result) {
    Trained& t = trained();
    const json result = json::parse(t.train.out);
    BOOST_CHECK_EQUAL(result.at("model").get<std::string>(), t.model);
    BOOST_CHECK_EQUAL(result.at("train_documents").get<int>(), 300);
    BOOST_CHECK_EQUAL(result.at("dev_documents").get<int>(), 60);
    BOOST_CHECK_EQUAL(result.at("epochs_completed").get<int>(), 5);
    const int best = result.at("best_epoch").get<int>();
    BOOST_CHECK(best >= 1 && best <= 5);
    BOOST_CHECK_GE(result.at("dev_accuracy").get<double>(), 0.95);
    BOOST_CHECK_EQUAL(t.train.err, "");  // --quiet
    // --log-json: a start line, a dev check and an epoch line per epoch, an end line with the
    // evaluation on the dev data.
    const auto log = lines_of(read_text(t.log));
    BOOST_REQUIRE_EQUAL(log.size(), 12u);
    BOOST_CHECK_EQUAL(json::parse(log.front()).at("event"), "start");
    std::vector<json> epochs;
    for (const auto& line : log)
        if (json::parse(line).at("event") == "epoch") epochs.push_back(json::parse(line));
    BOOST_REQUIRE_EQUAL(epochs.size(), 5u);
    for (std::size_t e = 0; e < epochs.size(); ++e) {
        BOOST_CHECK_EQUAL(epochs[e].at("epoch").get<int>(), static_cast<int>(e + 1));
        BOOST_CHECK(epochs[e].contains("dev_accuracy") && epochs[e].contains("train_loss") &&
                    epochs[e].contains("learning_rate"));
    }
    const json end = json::parse(log.back());
    BOOST_CHECK_EQUAL(end.at("event"), "end");
    BOOST_CHECK_EQUAL(end.at("evaluation").at("samples").get<int>(), 60);
    BOOST_CHECK_EQUAL(end.at("evaluation").at("accuracy").get<double>(), result.at("dev_accuracy").get<double>());
}

BOOST_AUTO_TEST_CASE(cli_model_loads_in_the_library_and_predicts_the_same) {
    Trained& t = trained();
    const TextClassifier& model = *t.library_model;
    BOOST_CHECK(model.labels() == (std::vector<std::string>{"neg", "pos"}));
    BOOST_CHECK_EQUAL(model.metadata.at("training_data"), t.train_csv);
    BOOST_CHECK_EQUAL(model.metadata.at("training_documents"), "300");
    BOOST_CHECK_EQUAL(model.metadata.at("dev_data"), t.dev_csv);
    BOOST_CHECK_EQUAL(model.metadata.at("seed"), "1");

    // The CLI and the library, given the same data and options, train the same parameters.
    TextTrainingRun library(read_labelled(t.train_csv), read_labelled(t.dev_csv), t.dev_csv, tiny_options(5), {});
    library.run();
    BOOST_CHECK_MESSAGE(same_parameters(library.classifier(), model), "CLI and library training differ");

    // predict --prob prints the library's probabilities (to 6 significant digits) for the same
    // batch of texts. (A text scored alone may differ in the last bit: see the library test.)
    const std::vector<Row> rows = make_rows(40, 5);
    std::string input;
    std::vector<std::string> texts;
    for (const auto& r : rows) {
        input += r.text + "\n";
        texts.push_back(r.text);
    }
    const auto predictions = model.predict(std::span<const std::string>(texts));
    write_text(scratch("library_vs_cli.txt"), input);
    const Run r = run("predict --quiet --prob --model " + t.model + " " + scratch("library_vs_cli.txt"));
    BOOST_REQUIRE_EQUAL(r.code, 0);
    auto lines = lines_of(r.out);
    BOOST_REQUIRE_EQUAL(lines.size(), rows.size() + 1);
    BOOST_CHECK_EQUAL(lines[0], "label\tneg\tpos");  // --prob's header line
    lines.erase(lines.begin());
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const TextPrediction& p = predictions[i];
        BOOST_CHECK_EQUAL(lines[i], fmt::format("{}\t{:.6g}\t{:.6g}", model.labels()[p.label], p.probabilities[0],
                                                p.probabilities[1]));
    }
}

BOOST_AUTO_TEST_CASE(train_with_a_wide_ngram_branch) {
    Trained& t = trained();
    const std::string model = scratch("wide.model");
    const Run r = run("train --train " + t.train_csv + " --dev " + t.dev_csv + " --model " + model + " " + tiny +
                      " --word-ngrams 2 --buckets 1000 --ngram-dim 4 --ngram-reduce mean --ngram-init nb --quiet --json");
    BOOST_REQUIRE_MESSAGE(r.code == 0, r.err);
    BOOST_CHECK_GE(json::parse(r.out).at("dev_accuracy").get<double>(), 0.9);
    // The library with the same options trains the same parameters.
    TextTrainingOptions o = tiny_options(5);
    o.model.word_ngrams = 2;
    o.model.ngram_buckets = 1000;
    o.model.ngram_dim = 4;
    o.model.ngram_reduce = "mean";
    o.naive_bayes_ngram_init = true;
    TextTrainingRun library(read_labelled(t.train_csv), read_labelled(t.dev_csv), t.dev_csv, o, {});
    library.run();
    const TextClassifier loaded = TextClassifier::load(model);
    BOOST_CHECK(loaded.folded());
    BOOST_CHECK_MESSAGE(same_parameters(library.classifier(), loaded), "CLI and library training differ");
    const Run summary = run("summary --model " + model);
    BOOST_REQUIRE_EQUAL(summary.code, 0);
    BOOST_CHECK(summary.out.find("ngram_bag 'ngrams'") != std::string::npos);
    BOOST_CHECK(summary.out.find("1..2-grams, vocab") != std::string::npos);
    // The n-gram options need the branch.
    const Run bad = run("train --train " + t.train_csv + " --model " + scratch("bad.model") + " " + tiny +
                        " --ngram-init nb --quiet");
    BOOST_CHECK_EQUAL(bad.code, 2);  // a ConfigError: a usage error
    BOOST_CHECK(bad.err.find("naive-Bayes n-gram initialisation needs a model with a wide n-gram branch") !=
                std::string::npos);
    // Found by a new-user run: the branch's other options, and a frozen embedding mode without
    // vectors, were taken silently.
    for (const std::string option : {"--buckets 1000", "--ngram-dim 4", "--ngram-reduce mean"}) {
        const Run shaped = run("train --train " + t.train_csv + " --model " + scratch("bad.model") + " " + tiny + " " +
                               option + " --quiet");
        BOOST_CHECK_EQUAL(shaped.code, 2);
        BOOST_CHECK_MESSAGE(shaped.err.find(option.substr(0, option.find(' ')) +
                                            " shapes the wide n-gram branch, which this run does not build") !=
                                std::string::npos,
                            shaped.err);
    }
    const Run frozen = run("train --train " + t.train_csv + " --model " + scratch("bad.model") + " " + tiny +
                           " --embedding-mode static --quiet");
    BOOST_CHECK_EQUAL(frozen.code, 2);
    BOOST_CHECK(frozen.err.find("--embedding-mode static keeps pretrained vectors") != std::string::npos);
}

// --ensemble K: K networks in one file, member k trained as the library trains seed
// ensemble_member_seed(1, k) on the same data; summary lists them; one network's options refused.
BOOST_AUTO_TEST_CASE(train_an_ensemble) {
    Trained& t = trained();
    const std::string model = scratch("ensemble.model");
    const Run r = run("train --train " + t.train_csv + " --dev " + t.dev_csv + " --model " + model + " " + tiny +
                      " --ensemble 3 --quiet --json");
    BOOST_REQUIRE_MESSAGE(r.code == 0, r.err);
    const json j = json::parse(r.out);
    BOOST_CHECK_EQUAL(j.at("ensemble").get<int>(), 3);
    BOOST_REQUIRE_EQUAL(j.at("members").size(), 3u);
    BOOST_CHECK_EQUAL(j.at("members")[0].at("seed").get<std::uint64_t>(), 1u);
    BOOST_CHECK_EQUAL(j.at("members")[2].at("seed").get<std::uint64_t>(), ensemble_member_seed(1, 2));
    BOOST_CHECK_GE(j.at("dev_accuracy").get<double>(), 0.9);
    const TextClassifier loaded = TextClassifier::load(model);
    BOOST_REQUIRE_EQUAL(loaded.ensemble_size(), 3u);
    // Member 1 is the single model of --seed 1; member 3 the library's run of its seed.
    const std::span<const float> first = loaded.network(0).parameters(), single = std::as_const(*t.library_model).network().parameters();
    BOOST_CHECK(std::equal(first.begin(), first.end(), single.begin(), single.end()));
    BOOST_CHECK(member_is_library_run(loaded, 2, tiny_options(5), t.train_csv, t.dev_csv));

    const Run summary = run("summary --model " + model);
    BOOST_REQUIRE_EQUAL(summary.code, 0);
    BOOST_CHECK(summary.out.find("Ensemble of 3 networks of this architecture") != std::string::npos);
    BOOST_CHECK(summary.out.find("ensemble_seeds: 1, " + std::to_string(ensemble_member_seed(1, 1))) != std::string::npos);
    const Run summary_json = run("summary --json --model " + model);
    BOOST_REQUIRE_EQUAL(summary_json.code, 0);
    BOOST_CHECK_EQUAL(json::parse(summary_json.out).at("ensemble_size").get<int>(), 3);
    const Run predicted = run("predict --model " + model + " --quiet " + t.dev_csv);
    BOOST_REQUIRE_EQUAL(predicted.code, 0);
    BOOST_CHECK_EQUAL(lines_of(predicted.out).size(), 60u);
    const Run text_line = run("train --train " + t.train_csv + " --dev " + t.dev_csv + " --model " + model + " " + tiny +
                              " --ensemble 2 --quiet");
    BOOST_REQUIRE_MESSAGE(text_line.code == 0, text_line.err);
    BOOST_CHECK_MESSAGE(text_line.out.find("(ensemble of 2 networks, dev accuracy ") != std::string::npos, text_line.out);

    // The log marks each member's lines; the report draws member 1's curves and the ensemble's evaluation.
    const std::string log = scratch("ensemble.jsonl"), page = scratch("ensemble.html");
    const Run logged = run("train --train " + t.train_csv + " --dev " + t.dev_csv + " --model " + model + " " + tiny +
                           " --ensemble 2 --quiet --log-json " + log + " --report " + page);
    BOOST_REQUIRE_MESSAGE(logged.code == 0, logged.err);
    std::size_t member_lines = 0, second_member_epochs = 0;
    for (const auto& line : lines_of(read_text(log))) {
        const json e = json::parse(line);
        member_lines += e.at("event") == "member";
        second_member_epochs += e.at("event") == "epoch" && e.value("member", 0) == 2;
    }
    BOOST_CHECK_EQUAL(member_lines, 2u);
    BOOST_CHECK_EQUAL(second_member_epochs, 5u);
    BOOST_CHECK(read_text(page).find("the curves are those of its first member") != std::string::npos);
    const Run report = run("report --log " + log + " -o " + scratch("ensemble_again.html"));
    BOOST_CHECK_MESSAGE(report.code == 0, report.err);

    for (const std::string& option : {"--resume " + model, "--checkpoint " + scratch("e.ckpt")}) {
        const Run refused = run("train --train " + t.train_csv + " --model " + scratch("refused.model") + " " + tiny +
                                " --ensemble 2 --quiet " + option);
        BOOST_CHECK_EQUAL(refused.code, 2);
        BOOST_CHECK_MESSAGE(refused.err.find(option.substr(0, option.find(' ')) +
                                             " follows one network's training; it cannot be used with --ensemble 2") !=
                                std::string::npos,
                            refused.err);
    }
}

// --nb-members M: the last M members have the naive-Bayes wide branch (as the library's
// naive_bayes_member_options), the others are Kim networks; more than --ensemble is refused.
BOOST_AUTO_TEST_CASE(an_ensemble_with_naive_bayes_members) {
    Trained& t = trained();
    const std::string model = scratch("mixed.model");
    const Run r = run("train --train " + t.train_csv + " --dev " + t.dev_csv + " --model " + model + " " + tiny +
                      " --buckets 1000 --ensemble 2 --nb-members 1 --quiet --json");
    BOOST_REQUIRE_MESSAGE(r.code == 0, r.err);
    const json j = json::parse(r.out);
    BOOST_REQUIRE_EQUAL(j.at("members").size(), 2u);
    BOOST_CHECK_EQUAL(j.at("members")[0].at("naive_bayes_branch").get<bool>(), false);
    BOOST_CHECK_EQUAL(j.at("members")[1].at("naive_bayes_branch").get<bool>(), true);
    const TextClassifier loaded = TextClassifier::load(model);
    BOOST_REQUIRE_EQUAL(loaded.ensemble_size(), 2u);
    const std::span<const float> first = loaded.network(0).parameters(),
                                 single = std::as_const(*t.library_model).network().parameters();
    BOOST_CHECK(std::equal(first.begin(), first.end(), single.begin(), single.end()));
    TextTrainingOptions o = tiny_options(5);
    o.model.ngram_buckets = 1000;
    o = naive_bayes_member_options(o);
    BOOST_CHECK_EQUAL(o.model.word_ngrams, 2u);
    BOOST_CHECK(o.naive_bayes_ngram_init);
    BOOST_CHECK(member_is_library_run(loaded, 1, o, t.train_csv, t.dev_csv));
    const Run summary = run("summary --model " + model);
    BOOST_REQUIRE_EQUAL(summary.code, 0);
    BOOST_CHECK(summary.out.find("Member 2:") != std::string::npos);
    BOOST_CHECK(summary.out.find("ngram_bag 'ngrams'") != std::string::npos);
    BOOST_CHECK(summary.out.find("ensemble_nb_members: 1") != std::string::npos);
    // --json lists every member's layers: the second has the n-gram bag, the first not.
    const Run summary_json = run("summary --json --model " + model);
    BOOST_REQUIRE_EQUAL(summary_json.code, 0);
    const json members = json::parse(summary_json.out).at("members");
    BOOST_REQUIRE_EQUAL(members.size(), 2u);
    const auto has_ngram_bag = [](const json& network) {
        const json& layers = network.at("layers");
        return std::any_of(layers.begin(), layers.end(), [](const json& l) { return l.at("type") == "ngram_bag"; });
    };
    BOOST_CHECK(!has_ngram_bag(members[0]));
    BOOST_CHECK(has_ngram_bag(members[1]));
    BOOST_CHECK_EQUAL(members[0].at("naive_bayes_branch").get<bool>(), false);
    BOOST_CHECK_EQUAL(members[1].at("naive_bayes_branch").get<bool>(), true);
    BOOST_CHECK_EQUAL(members[1].at("parameters").get<std::size_t>(), loaded.network(1).parameter_count());
    BOOST_CHECK_EQUAL(members[1].at("seed").get<std::string>(), std::to_string(ensemble_member_seed(1, 1)));
    // A given --word-ngrams is kept.
    TextTrainingOptions three = tiny_options(5);
    three.model.word_ngrams = 3;
    BOOST_CHECK_EQUAL(naive_bayes_member_options(three).model.word_ngrams, 3u);

    // One network with --nb-members 1 is that member alone.
    const std::string alone = scratch("nb_alone.model");
    const Run one = run("train --train " + t.train_csv + " --dev " + t.dev_csv + " --model " + alone + " " +
                        tiny.substr(0, tiny.rfind(" --seed")) + " --buckets 1000 --nb-members 1 --seed " + std::to_string(ensemble_member_seed(1, 1)) + " --quiet");
    BOOST_REQUIRE_MESSAGE(one.code == 0, one.err);
    const TextClassifier alone_loaded = TextClassifier::load(alone);
    const std::span<const float> single_nb = alone_loaded.network().parameters(),
                                 second = loaded.network(1).parameters();
    BOOST_CHECK(std::equal(single_nb.begin(), single_nb.end(), second.begin(), second.end()));

    const Run refused = run("train --train " + t.train_csv + " --model " + scratch("refused.model") + " " + tiny +
                            " --ensemble 2 --nb-members 3 --quiet");
    BOOST_CHECK_EQUAL(refused.code, 2);
    BOOST_CHECK_MESSAGE(refused.err.find("--nb-members 3 is more than the 2 members of --ensemble 2") != std::string::npos,
                        refused.err);
    const Run no_ensemble = run("train --train " + t.train_csv + " --model " + scratch("refused.model") + " " + tiny +
                                " --nb-members 2 --quiet");
    BOOST_CHECK_EQUAL(no_ensemble.code, 2);
    BOOST_CHECK_MESSAGE(no_ensemble.err.find("--nb-members 2 needs --ensemble 2 or more (one network is trained by default)") !=
                            std::string::npos,
                        no_ensemble.err);

    // --ngram-init nb for all: every member is marked as started at the naive-Bayes ratios.
    const Run all_nb = run("train --train " + t.train_csv + " --model " + scratch("all_nb.model") + " " + tiny +
                           " --buckets 1000 --word-ngrams 2 --ngram-init nb --ensemble 2 --nb-members 1 --quiet --json");
    BOOST_REQUIRE_MESSAGE(all_nb.code == 0, all_nb.err);
    const json all_nb_json = json::parse(all_nb.out);  // kept alive: the loop runs over a part of it
    for (const auto& member : all_nb_json.at("members")) BOOST_CHECK_EQUAL(member.at("naive_bayes_branch").get<bool>(), true);
}

// --- eval -----------------------------------------------------------------------------------------

// A --validation-predictions file: the header, `rows` rows, each naming a line of `data_csv`
// whose label it gives, probabilities summing to 1.
void check_validation_predictions(const std::string& path, const std::string& data_csv,
                                  const std::vector<std::string>& labels, std::size_t rows) {
    std::map<std::size_t, std::string> label_at;
    for (const Document& d : read_labelled(data_csv)) label_at[d.line] = *d.label;
    const auto lines = lines_of(read_text(path));
    BOOST_REQUIRE_EQUAL(lines.size(), rows + 1);
    std::string header = "line\tlabel";
    for (const auto& l : labels) header += "\t" + l;
    BOOST_CHECK_EQUAL(lines[0], header);
    std::set<std::size_t> seen;
    for (std::size_t i = 1; i < lines.size(); ++i) {
        std::vector<std::string> f;
        std::istringstream in(lines[i]);
        for (std::string field; std::getline(in, field, '\t');) f.push_back(field);
        BOOST_REQUIRE_EQUAL(f.size(), 2 + labels.size());
        const std::size_t line = std::stoul(f[0]);
        BOOST_CHECK(seen.insert(line).second);
        BOOST_CHECK_EQUAL(f[1], label_at.at(line));
        double sum = 0;
        for (std::size_t c = 0; c < labels.size(); ++c) sum += std::stod(f[2 + c]);
        BOOST_CHECK_CLOSE(sum, 1.0, 1e-4);
    }
}

// --member-validation own: member k holds out the split of its own seed (as the library's
// ensemble_member_options), the dev accuracy is out of bag over every document some member held
// out, and the option is refused where it means nothing.
BOOST_AUTO_TEST_CASE(ensemble_members_with_validation_splits_of_their_own) {
    Trained& t = trained();
    const std::string model = scratch("own_splits.model");
    const Run r = run("train --train " + t.train_csv + " --model " + model + " " + tiny +
                      " --validation-split 0.2 --ensemble 3 --member-validation own --quiet --json");
    BOOST_REQUIRE_MESSAGE(r.code == 0, r.err);
    const json j = json::parse(r.out);
    BOOST_CHECK_EQUAL(j.at("member_validation").get<std::string>(), "own");
    const std::size_t documents = read_labelled(t.train_csv).size(), held = j.at("dev_documents").get<std::size_t>();
    // Three splits of a fifth each: more than one fifth of the documents held out by some member.
    BOOST_CHECK_GT(held, documents / 5 + 5);
    BOOST_CHECK_LT(held, 3 * documents / 5 + 3);
    const TextClassifier loaded = TextClassifier::load(model);
    BOOST_REQUIRE_EQUAL(loaded.ensemble_size(), 3u);
    TextTrainingOptions base = tiny_options(5);
    base.validation_split = 0.2;
    const TextTrainingOptions third = ensemble_member_options(base, 2, 3, 0, MemberValidation::own);
    TextTrainingRun library(read_labelled(t.train_csv), std::nullopt, "", third, {});
    library.run();
    const auto own = std::as_const(library.classifier()).network().parameters(), stored = loaded.network(2).parameters();
    BOOST_CHECK(std::equal(own.begin(), own.end(), stored.begin(), stored.end()));
    BOOST_CHECK(loaded.metadata.at("ensemble_member_validation").find("own") == 0);

    // --validation-predictions: the out-of-bag probabilities, a row per document some member
    // held out, named by its line in the training file.
    const std::string predictions = scratch("own_splits.tsv");
    const Run written = run("train --train " + t.train_csv + " --model " + model + " " + tiny +
                            " --validation-split 0.2 --ensemble 3 --member-validation own --quiet --json"
                            " --validation-predictions " + predictions);
    BOOST_REQUIRE_MESSAGE(written.code == 0, written.err);
    check_validation_predictions(predictions, t.train_csv, loaded.labels(), held);

    const std::string page = scratch("own_splits.html");
    const Run text_line = run("train --train " + t.train_csv + " --model " + model + " " + tiny +
                              " --validation-split 0.2 --ensemble 2 --member-validation own --quiet --report " + page);
    BOOST_REQUIRE_MESSAGE(text_line.code == 0, text_line.err);
    BOOST_CHECK_MESSAGE(text_line.out.find("out of bag (") != std::string::npos, text_line.out);
    BOOST_CHECK(read_text(page).find("out of bag (each document judged by the members that held it out)") !=
                std::string::npos);
    BOOST_CHECK(read_text(page).find("a split of its own for each member") != std::string::npos);

    // A member whose split would leave a label without training documents (two of its three
    // texts are one, and move together) stops the run before any member trains.
    const std::string herons = scratch("herons.csv");
    write_text(herons, read_text(t.train_csv) + "heron,a lone heron\nheron,a lone heron\nheron,a second heron\n");
    const std::string unsplit = scratch("unsplit.model");
    const Run refused_split = run("train --train " + herons + " --model " + unsplit + " " + tiny +
                                  " --validation-split 0.5 --ensemble 6 --member-validation own --quiet");
    BOOST_CHECK_EQUAL(refused_split.code, 1);
    BOOST_CHECK_MESSAGE(refused_split.err.find("nothing trained): ") != std::string::npos &&
                            refused_split.err.find("label 'heron' has no training document left") != std::string::npos,
                        refused_split.err);
    BOOST_CHECK(!std::filesystem::exists(unsplit));

    // One network on dev data: a row per dev document, lines of the dev file.
    const Run single = run("train --train " + t.train_csv + " --dev " + t.dev_csv + " --model " + scratch("single.model") +
                           " " + tiny + " --quiet --validation-predictions " + predictions);
    BOOST_REQUIRE_MESSAGE(single.code == 0, single.err);
    check_validation_predictions(predictions, t.dev_csv, loaded.labels(), read_labelled(t.dev_csv).size());
    const Run nothing = run("train --train " + t.train_csv + " --model " + scratch("refused.model") + " " + tiny +
                            " --quiet --validation-predictions " + predictions);
    BOOST_CHECK_EQUAL(nothing.code, 2);
    BOOST_CHECK_MESSAGE(nothing.err.find("give --validation-split S or --dev FILE") != std::string::npos, nothing.err);

    const Run one = run("train --train " + t.train_csv + " --model " + scratch("refused.model") + " " + tiny +
                        " --validation-split 0.2 --member-validation own --quiet");
    BOOST_CHECK_EQUAL(one.code, 2);
    BOOST_CHECK_MESSAGE(one.err.find("it needs --ensemble K") != std::string::npos, one.err);
    const Run with_dev = run("train --train " + t.train_csv + " --dev " + t.dev_csv + " --model " +
                             scratch("refused.model") + " " + tiny + " --ensemble 2 --member-validation own --quiet");
    BOOST_CHECK_EQUAL(with_dev.code, 2);
    BOOST_CHECK_MESSAGE(with_dev.err.find("it needs --validation-split S (not --dev") != std::string::npos, with_dev.err);
}

BOOST_AUTO_TEST_CASE(eval_on_clean_data_is_accurate) {
    Trained& t = trained();
    const std::string data = scratch("test.csv");
    write_text(data, to_csv(make_rows(200, 3)));
    const Run r = run("eval --model " + t.model + " --data " + data);
    BOOST_REQUIRE_MESSAGE(r.code == 0, r.err);
    BOOST_CHECK(contains(r.out, "precision"));
    BOOST_CHECK(contains(r.out, "confusion (rows: true label, columns: predicted)"));
    BOOST_CHECK(contains(r.out, "ROC-AUC (pos as positive): "));
    const Run j = run("eval --json --model " + t.model + " --data " + data);
    BOOST_REQUIRE_EQUAL(j.code, 0);
    const json report = json::parse(j.out);
    BOOST_CHECK_GE(report.at("accuracy").get<double>(), 0.95);
    BOOST_CHECK_GE(report.at("roc_auc").get<double>(), 0.98);
}

BOOST_AUTO_TEST_CASE(eval_on_data_without_one_label_says_so) {
    Trained& t = trained();
    Rng rng(12);
    std::vector<Row> rows;
    for (int i = 0; i < 10; ++i) rows.push_back({"pos", sentence(rng, true)});
    const std::string data = scratch("only_pos.csv");
    write_text(data, to_csv(rows));
    const Run r = run("eval --model " + t.model + " --data " + data);
    BOOST_REQUIRE_MESSAGE(r.code == 0, r.err);
    BOOST_CHECK_EQUAL(r.err, "warning: no document of " + data + " has the label 'neg' (1 of the model's 2 labels): "
                             "recall and F1 are undefined there, shown as 0 and counted as 0 in macro F1; ROC-AUC "
                             "needs documents of both labels\n");
    BOOST_CHECK(contains(r.out, "ROC-AUC (pos as positive): undefined (the documents have one label only)\n"));
    // A file of a header alone has no documents at all (it said "no document with a label the
    // model knows"); one of unknown labels only still says that.
    write_text(scratch("header_only.csv"), "label,text\n");
    const Run empty = run("eval --model " + t.model + " --data " + scratch("header_only.csv"));
    BOOST_CHECK_EQUAL(empty.code, 1);
    BOOST_CHECK_EQUAL(empty.err, "textcnn eval: " + scratch("header_only.csv") +
                                     ": no documents to evaluate (the file holds no data row)\n");
    write_text(scratch("strangers.csv"), "label,text\nmeh,a film\n");
    BOOST_CHECK(contains(run("eval --model " + t.model + " --data " + scratch("strangers.csv")).err,
                         ": no document with a label the model knows\n"));
}

BOOST_AUTO_TEST_CASE(eval_json_keys_confusion_rows_and_unknown_labels) {
    Trained& t = trained();
    // 40 negative texts labelled neg, 30 positive labelled pos, 20 negative texts labelled pos
    // (a model that reads the words puts those in row pos, column neg), and 3 rows with a
    // label the model does not know.
    Rng rng(11);
    std::vector<Row> rows;
    for (int i = 0; i < 40; ++i) rows.push_back({"neg", sentence(rng, false)});
    for (int i = 0; i < 30; ++i) rows.push_back({"pos", sentence(rng, true)});
    for (int i = 0; i < 20; ++i) rows.push_back({"pos", sentence(rng, false)});
    rows.insert(rows.begin() + 5, {"meh", "the film was fine"});
    rows.push_back({"meh", "an ordinary story"});
    rows.push_back({"Pos", "a great film"});
    const std::string data = scratch("mislabelled.csv");
    write_text(data, to_csv(rows));

    const Run r = run("eval --json --model " + t.model + " --data " + data);
    BOOST_REQUIRE_MESSAGE(r.code == 0, r.err);
    BOOST_CHECK_EQUAL(r.err, "warning: 3 documents have labels the model does not know and were not scored (first: " +
                                 data + ":7: label 'meh')\n");
    const json j = json::parse(r.out);
    // The documented keys (issue 4), plus samples, roc_auc (two classes) and unknown_labels, and
    // what textcnn report --eval draws (issue 16): data, the curves, average precision, threshold.
    std::set<std::string> keys;
    for (const auto& [k, v] : j.items()) keys.insert(k);
    BOOST_CHECK((keys == std::set<std::string>{"accuracy", "macro_f1", "per_class", "labels", "confusion", "samples",
                                               "roc_auc", "unknown_labels", "tokens", "unknown_token_share",
                                               "documents_without_known_token", "data", "average_precision",
                                               "threshold", "roc_curve", "pr_curve"}));
    BOOST_CHECK_EQUAL(j.at("threshold").get<double>(), 0.5);
    BOOST_CHECK(j.at("roc_curve").front() == json::parse("[0.0, 0.0, null]"));
    BOOST_CHECK(j.at("roc_curve").back().at(0) == 1.0 && j.at("roc_curve").back().at(1) == 1.0);
    BOOST_CHECK(j.at("pr_curve").back().at(0) == 1.0);  // recall 1 at the lowest threshold
    BOOST_CHECK_EQUAL(j.at("unknown_labels").get<int>(), 3);
    BOOST_CHECK_EQUAL(j.at("samples").get<int>(), 90);
    const auto labels = j.at("labels").get<std::vector<std::string>>();
    BOOST_REQUIRE(labels == (std::vector<std::string>{"neg", "pos"}));
    const auto confusion = j.at("confusion").get<std::vector<std::vector<int>>>();
    BOOST_REQUIRE_EQUAL(confusion.size(), 2u);
    BOOST_REQUIRE_EQUAL(confusion[0].size(), 2u);
    BOOST_REQUIRE_EQUAL(confusion[1].size(), 2u);
    // Rows are true labels: they sum to the supports 40 and 50 (columns would sum to ~60 and ~30).
    BOOST_CHECK_EQUAL(confusion[0][0] + confusion[0][1], 40);
    BOOST_CHECK_EQUAL(confusion[1][0] + confusion[1][1], 50);
    BOOST_CHECK_GE(confusion[1][0], 18);  // the negative texts labelled pos
    BOOST_CHECK_GE(confusion[0][0], 38);
    const int correct = confusion[0][0] + confusion[1][1];
    BOOST_CHECK_CLOSE(j.at("accuracy").get<double>(), correct / 90.0, 1e-9);

    double f1_sum = 0;
    for (std::size_t c = 0; c < 2; ++c) {
        const json& m = j.at("per_class").at(labels[c]);
        std::set<std::string> metric_keys;
        for (const auto& [k, v] : m.items()) metric_keys.insert(k);
        BOOST_CHECK((metric_keys == std::set<std::string>{"precision", "recall", "f1", "support", "false_positive_rate"}));
        const double tp = confusion[c][c];
        const double support = confusion[c][0] + confusion[c][1];
        const double predicted = confusion[0][c] + confusion[1][c];
        BOOST_CHECK_EQUAL(m.at("support").get<int>(), static_cast<int>(support));
        BOOST_CHECK_CLOSE(m.at("recall").get<double>(), tp / support, 1e-9);
        BOOST_CHECK_CLOSE(m.at("precision").get<double>(), tp / predicted, 1e-9);
        const double p = tp / predicted, rc = tp / support;
        BOOST_CHECK_CLOSE(m.at("f1").get<double>(), 2 * p * rc / (p + rc), 1e-9);
        f1_sum += m.at("f1").get<double>();
    }
    BOOST_CHECK_CLOSE(j.at("macro_f1").get<double>(), f1_sum / 2, 1e-9);
}

// --- predict --------------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(predict_gives_one_line_per_input_line) {
    Trained& t = trained();
    struct Case {
        std::string name, content;
        std::size_t lines;
    };
    const std::vector<Case> cases = {
        {"no_final_newline.txt", "a great film\n\nthe movie was awful\n\n\nsuperb", 6},
        {"final_newline.txt", "a great film\n\nthe movie was awful\n\n\nsuperb\n", 6},
        {"only_empty_lines.txt", "\n\n\n", 3},
        {"crlf.txt", "a great film\r\n\r\nawful\r\n", 3},
        {"lone_cr.txt", "great\rawful\r\r", 3},
        {"empty.txt", "", 0},
        {"bom.txt", "\xEF\xBB\xBFgreat\n\n", 2},
    };
    for (const auto& c : cases) {
        const std::string path = scratch(c.name);
        write_text(path, c.content);
        const Run r = run("predict --quiet --model " + t.model + " " + path);
        BOOST_CHECK_EQUAL(r.code, 0);
        BOOST_CHECK_MESSAGE(lines_of(r.out).size() == c.lines,
                            c.name << ": " << lines_of(r.out).size() << " output lines, expected " << c.lines);
        // Empty lines have no token the model knows: an empty label field.
        for (const auto& line : lines_of(r.out)) BOOST_CHECK(line == "neg" || line == "pos" || line.empty());
        // The same from stdin.
        const Run s = run("predict --quiet --model " + t.model, path);
        BOOST_CHECK_EQUAL(s.out, r.out);
    }
    // Several files: their lines in order.
    const Run both = run("predict --quiet --model " + t.model + " " + scratch("final_newline.txt") + " " +
                         scratch("only_empty_lines.txt"));
    BOOST_CHECK_EQUAL(lines_of(both.out).size(), 9u);
    // Without --quiet, a throughput line on stderr and nothing else on stdout.
    const Run loud = run("predict --model " + t.model + " " + scratch("crlf.txt"));
    BOOST_CHECK_EQUAL(lines_of(loud.out).size(), 3u);
    BOOST_CHECK(loud.err.rfind("scored 3 documents", 0) == 0);
    // Labels from the words.
    const auto lines = lines_of(run("predict --quiet --model " + t.model + " " + scratch("final_newline.txt")).out);
    BOOST_REQUIRE_EQUAL(lines.size(), 6u);
    BOOST_CHECK_EQUAL(lines[0], "pos");
    BOOST_CHECK_EQUAL(lines[2], "neg");
    BOOST_CHECK_EQUAL(lines[5], "pos");
}

// Files are read, scored and written as a pipeline of batches (--chunk documents, a batch may
// span two files): whatever the chunk and thread count, the lines are those of one document at
// a time, in input order; a read error in a later file keeps the lines of the batches before it.
BOOST_AUTO_TEST_CASE(predict_pipeline_keeps_order_across_chunks_files_and_errors) {
    Trained& t = trained();
    std::string first, second;
    for (int i = 0; i < 37; ++i) first += (i % 3 ? "what a great film number " : "awful boring plot number ") + std::to_string(i) + "\n";
    for (int i = 0; i < 23; ++i) second += (i % 2 ? "superb acting " : "the movie was awful ") + std::to_string(i) + "\n";
    write_text(scratch("pipeline_first.txt"), first);
    write_text(scratch("pipeline_second.txt"), second);
    const std::string files = scratch("pipeline_first.txt") + " " + scratch("pipeline_second.txt");
    // One document at a time through stdin's line-by-line road is the reference.
    std::string reference;
    for (const auto& text : lines_of(first + second)) {
        write_text(scratch("pipeline_one.txt"), text + "\n");
        reference += run("predict --quiet --prob --format jsonl --model " + t.model, scratch("pipeline_one.txt")).out;
    }
    for (const std::string chunk : {"1", "5", "36", "37", "8192"})
        for (const std::string threads : {"1", "2"}) {
            const Run r = run("predict --quiet --prob --format jsonl --chunk " + chunk + " --threads " + threads +
                              " --model " + t.model + " " + files);
            BOOST_CHECK_EQUAL(r.code, 0);
            BOOST_CHECK_MESSAGE(r.out == reference, "--chunk " << chunk << " --threads " << threads);
        }
    // Past a file's first, smaller batches (256 documents, then twice as many each time up to
    // --chunk): 1,000 documents over two files, against one document per batch.
    std::string many_first, many_second;
    for (int i = 0; i < 700; ++i) many_first += (i % 7 ? "a warm and funny story " : "dull and far too long ") + std::to_string(i) + "\n";
    for (int i = 0; i < 300; ++i) many_second += (i % 4 ? "the cast is wonderful " : "i want my evening back ") + std::to_string(i) + "\n";
    write_text(scratch("pipeline_many_first.txt"), many_first);
    write_text(scratch("pipeline_many_second.txt"), many_second);
    const std::string many = " --model " + t.model + " " + scratch("pipeline_many_first.txt") + " " + scratch("pipeline_many_second.txt");
    const Run one_at_a_time = run("predict --quiet --prob --format jsonl --chunk 1 --threads 1" + many);
    BOOST_CHECK_EQUAL(lines_of(one_at_a_time.out).size(), 1000u);
    for (const std::string chunk : {"300", "8192"}) {
        const Run r = run("predict --quiet --prob --format jsonl --threads 2 --chunk " + chunk + many);
        BOOST_CHECK_EQUAL(r.code, 0);
        BOOST_CHECK_MESSAGE(r.out == one_at_a_time.out, "1,000 documents, --chunk " << chunk);
    }
    // Invalid UTF-8 on the second file's line 3: the error names it, exit 1, and the first
    // file's 37 lines are written (with --chunk 1 every batch before the error is complete; the
    // reader checks a buffer of the file at a time, so the bad file's own first lines may not be).
    write_text(scratch("pipeline_bad.txt"), "superb acting\nawful\nbad \xff byte\nnever read\n");
    const Run bad = run("predict --quiet --chunk 1 --model " + t.model + " " + scratch("pipeline_first.txt") + " " +
                        scratch("pipeline_bad.txt"));
    BOOST_CHECK_EQUAL(bad.code, 1);
    BOOST_CHECK_MESSAGE(bad.err.find("pipeline_bad.txt:3: invalid UTF-8") != std::string::npos, bad.err);
    const auto written = lines_of(bad.out);
    BOOST_REQUIRE(written.size() >= 37u && written.size() <= 39u);
    const auto all_lines = lines_of(run("predict --quiet --model " + t.model + " " + scratch("pipeline_first.txt")).out);
    BOOST_CHECK(std::equal(all_lines.begin(), all_lines.end(), written.begin(), written.begin() + 37));
    // The default --chunk, whose first batch (256 documents) the error cuts short, and a pipe with
    // a --chunk far beyond any input: the documents read before the error are written too (the
    // cut batch was dropped, and from a pipe the batch reserved room for --chunk documents).
    const std::string bad_files = scratch("pipeline_first.txt") + " " + scratch("pipeline_bad.txt");
    const Run bad_default = run("predict --quiet --model " + t.model + " " + bad_files);
    const Run bad_piped = testing::run_program("(cat " + bad_files + " | " + program + " predict --quiet --chunk " +
                                                   "18446744073709551615 --model " + t.model + ")",
                                               scratch("stderr.txt"));
    for (const Run* r : {&bad_default, &bad_piped}) {
        BOOST_CHECK_EQUAL(r->code, 1);
        BOOST_CHECK_MESSAGE(r->err.find("invalid UTF-8") != std::string::npos, r->err);
        const auto lines = lines_of(r->out);
        BOOST_REQUIRE(lines.size() >= 37u && lines.size() <= 39u);
        BOOST_CHECK(std::equal(all_lines.begin(), all_lines.end(), lines.begin()));
    }
}

// A predict process behind two pipes, as a mail filter or `parallel --pipe` drives it: write a
// line, read its answer (within `timeout_ms`), write the next.
class PipedPredict {
public:
    explicit PipedPredict(const std::vector<std::string>& args) {
        int in_pipe[2], out_pipe[2];
        BOOST_REQUIRE(pipe(in_pipe) == 0 && pipe(out_pipe) == 0);
        pid_ = fork();
        BOOST_REQUIRE(pid_ >= 0);
        if (pid_ == 0) {
            dup2(in_pipe[0], 0);
            dup2(out_pipe[1], 1);
            for (int fd : {in_pipe[0], in_pipe[1], out_pipe[0], out_pipe[1]}) close(fd);
            std::vector<char*> argv{const_cast<char*>(program.c_str())};
            for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
            argv.push_back(nullptr);
            execv(program.c_str(), argv.data());
            _exit(127);
        }
        close(in_pipe[0]);
        close(out_pipe[1]);
        to_child_ = in_pipe[1];
        from_child_ = out_pipe[0];
    }
    ~PipedPredict() {
        close_input();
        if (from_child_ >= 0) close(from_child_);
        if (pid_ > 0) waitpid(pid_, nullptr, 0);
    }
    void write(const std::string& bytes) {
        BOOST_REQUIRE(::write(to_child_, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()));
    }
    /// The next output line, or nullopt when none arrives in time.
    std::optional<std::string> read_line(int timeout_ms = 20000) {
        while (true) {
            if (const auto end = pending_.find('\n'); end != std::string::npos) {
                std::string line = pending_.substr(0, end);
                pending_.erase(0, end + 1);
                return line;
            }
            pollfd p{from_child_, POLLIN, 0};
            if (poll(&p, 1, timeout_ms) <= 0) return std::nullopt;
            char buffer[4096];
            const ssize_t n = ::read(from_child_, buffer, sizeof buffer);
            if (n <= 0) return std::nullopt;
            pending_.append(buffer, static_cast<std::size_t>(n));
        }
    }
    void close_input() {
        if (to_child_ >= 0) close(to_child_);
        to_child_ = -1;
    }
    int wait() {
        int status = 0;
        waitpid(pid_, &status, 0);
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 1000 + WTERMSIG(status);
    }

private:
    pid_t pid_ = -1;
    int to_child_ = -1, from_child_ = -1;
    std::string pending_;
};

// Issue 11: predict behind a pipe answered only at the end of the input, even with --chunk 1.
BOOST_AUTO_TEST_CASE(predict_answers_a_pipe_line_by_line) {
    Trained& t = trained();
    {
        PipedPredict p({"predict", "--quiet", "--model", t.model});
        const std::vector<std::pair<std::string, std::string>> exchanges = {
            {"a great film\n", "pos"}, {"the movie was awful\n", "neg"}, {"\n", ""},
            {"superb\r\n", "pos"},      {"awful\r", "neg"}};
        for (const auto& [line, answer] : exchanges) {
            p.write(line);
            const auto got = p.read_line();
            BOOST_REQUIRE_MESSAGE(got, "no answer to " << json(line).dump() << " while the input stays open");
            BOOST_CHECK_EQUAL(*got, answer);
        }
        // A line written in two pieces is answered once, when it is complete.
        p.write("a gre");
        BOOST_CHECK(!p.read_line(300));
        p.write("at film\n");
        BOOST_CHECK_EQUAL(p.read_line().value_or("(none)"), "pos");
        p.close_input();
        BOOST_CHECK(!p.read_line(2000));
        BOOST_CHECK_EQUAL(p.wait(), 0);
    }
    {
        // CSV through a pipe, jsonl out: the header first, then each row answered on its own.
        PipedPredict p({"predict", "--quiet", "--model", t.model, "--input-format", "csv", "--format", "jsonl"});
        p.write("id,text\n1,a great film\n");
        BOOST_CHECK_EQUAL(p.read_line().value_or("(none)"), R"({"label":"pos"})");
        p.write("2,\"the movie was awful\"\n");
        BOOST_CHECK_EQUAL(p.read_line().value_or("(none)"), R"({"label":"neg"})");
        p.close_input();
        BOOST_CHECK_EQUAL(p.wait(), 0);
    }
    // Many lines at once through a pipe: one answer each, in order (batched as they arrive).
    std::string many, expected;
    for (int i = 0; i < 3000; ++i) {
        many += i % 2 ? "the movie was awful\n" : "a great film\n";
        expected += i % 2 ? "neg\n" : "pos\n";
    }
    write_text(scratch("many.txt"), many);
    const Run piped = testing::run_program("(cat " + scratch("many.txt") + " | " + program + " predict --quiet --model " +
                                               t.model + " | cat)",
                                           scratch("stderr.txt"));
    BOOST_CHECK_EQUAL(piped.code, 0);
    BOOST_CHECK(piped.out == expected);
}

BOOST_AUTO_TEST_CASE(predict_probabilities_formats_top_and_threshold) {
    Trained& t = trained();
    const TextClassifier& model = *t.library_model;
    const std::vector<std::string> texts = {"a great film", "", "the movie was awful", "zzz qqq", "superb, really",
                                            "the cast was dull but the ending was moving"};
    std::string input;
    for (const auto& s : texts) input += s + "\n";
    const std::string path = scratch("probe.txt");
    write_text(path, input);
    const std::vector<TextPrediction> expected = model.predict(std::span<const std::string>(texts));

    // --prob (tsv): label, then one probability per label in the model's order, summing to 1.
    // A first line names the labels.
    const auto tsv = lines_of(run("predict --quiet --no-known-token predict --prob --model " + t.model + " " + path).out);
    BOOST_REQUIRE_EQUAL(tsv.size(), texts.size() + 1);
    BOOST_CHECK_EQUAL(tsv[0], "label\tneg\tpos");
    for (std::size_t i = 0; i < texts.size(); ++i) {
        const auto f = split(tsv[i + 1], '\t');
        BOOST_REQUIRE_EQUAL(f.size(), 3u);
        const double p0 = std::stod(f[1]), p1 = std::stod(f[2]);
        BOOST_CHECK_SMALL(p0 + p1 - 1.0, 2e-6);
        BOOST_CHECK(p0 >= 0 && p1 >= 0);
        BOOST_CHECK_EQUAL(f[0], p1 > p0 ? "pos" : "neg");
    }
    // jsonl: label and exactly the probabilities as floats.
    const auto jsonl = lines_of(run("predict --quiet --no-known-token predict --prob --format jsonl --model " + t.model + " " + path).out);
    BOOST_REQUIRE_EQUAL(jsonl.size(), texts.size());
    for (std::size_t i = 0; i < texts.size(); ++i) {
        const json j = json::parse(jsonl[i]);
        BOOST_CHECK_EQUAL(j.at("label").get<std::string>(), model.labels()[expected[i].label]);
        BOOST_CHECK_EQUAL(j.at("probabilities").size(), 2u);
        BOOST_CHECK_EQUAL(j.at("probabilities").at("neg").get<float>(), expected[i].probabilities[0]);
        BOOST_CHECK_EQUAL(j.at("probabilities").at("pos").get<float>(), expected[i].probabilities[1]);
    }
    // --no-fold: the network's own forward pass, exactly as a model that was not folded.
    BOOST_REQUIRE(model.folded());
    TextClassifier unfolded = TextClassifier::load(t.model);
    unfolded.drop_folding();
    const std::vector<TextPrediction> network_road = unfolded.predict(std::span<const std::string>(texts));
    const auto no_fold = lines_of(run("predict --quiet --no-known-token predict --prob --no-fold --format jsonl --model " + t.model + " " + path).out);
    BOOST_REQUIRE_EQUAL(no_fold.size(), texts.size());
    for (std::size_t i = 0; i < texts.size(); ++i) {
        const json j = json::parse(no_fold[i]);
        BOOST_CHECK_EQUAL(j.at("probabilities").at("neg").get<float>(), network_road[i].probabilities[0]);
        BOOST_CHECK_EQUAL(j.at("probabilities").at("pos").get<float>(), network_road[i].probabilities[1]);
        BOOST_CHECK_SMALL(network_road[i].probabilities[1] - expected[i].probabilities[1], 1e-5f);
    }
    // jsonl without --prob: the label only.
    const auto plain_jsonl = lines_of(run("predict --quiet --no-known-token predict --format jsonl --model " + t.model + " " + path).out);
    BOOST_REQUIRE_EQUAL(plain_jsonl.size(), texts.size());
    BOOST_CHECK_EQUAL(plain_jsonl[0], R"({"label":"pos"})");
    // csv.
    const auto csv = lines_of(run("predict --quiet --no-known-token predict --prob --format csv --model " + t.model + " " + path).out);
    BOOST_REQUIRE_EQUAL(csv.size(), texts.size() + 1);
    BOOST_CHECK_EQUAL(csv[0], "label,neg,pos");
    for (std::size_t i = 0; i < texts.size(); ++i)
        BOOST_CHECK_EQUAL(csv[i + 1], fmt::format("{},{:.6g},{:.6g}", model.labels()[expected[i].label],
                                              expected[i].probabilities[0], expected[i].probabilities[1]));
    // --top 1: label, best label, its probability.
    const auto top = lines_of(run("predict --quiet --no-known-token predict --top 1 --model " + t.model + " " + path).out);
    BOOST_REQUIRE_EQUAL(top.size(), texts.size());
    for (std::size_t i = 0; i < texts.size(); ++i) {
        const std::string label = model.labels()[expected[i].label];
        BOOST_CHECK_EQUAL(top[i], fmt::format("{}\t{}\t{:.6g}", label, label, expected[i].probabilities[expected[i].label]));
    }
    // --top 2 with two labels: both, best first.
    const auto top2 = lines_of(run("predict --quiet --no-known-token predict --top 2 --model " + t.model + " " + path).out);
    BOOST_REQUIRE_EQUAL(top2.size(), texts.size());
    BOOST_CHECK_EQUAL(split(top2[0], '\t').size(), 5u);
    BOOST_CHECK_EQUAL(split(top2[0], '\t')[1], "pos");
    BOOST_CHECK_EQUAL(split(top2[2], '\t')[1], "neg");

    // --threshold pos=T: "pos" exactly when P(pos) >= T.
    for (double threshold : {0.0, 0.9, 0.999}) {
        const auto lines = lines_of(run(fmt::format("predict --quiet --no-known-token predict --threshold pos={} --model {} {}",
                                                    threshold, t.model, path)).out);
        BOOST_REQUIRE_EQUAL(lines.size(), texts.size());
        for (std::size_t i = 0; i < texts.size(); ++i)
            BOOST_CHECK_EQUAL(lines[i], expected[i].probabilities[1] >= static_cast<float>(threshold) ? "pos" : "neg");
    }
    // 0.9 changes some decision (the empty text is close to 0.5), else the loop above tests nothing.
    std::size_t changed = 0;
    for (const auto& p : expected) changed += (p.label == 1) != (p.probabilities[1] >= 0.9f);
    BOOST_CHECK_GE(changed, 1u);
    // Usage errors.
    BOOST_CHECK_EQUAL(run("predict --quiet --threshold pos=1.5 --model " + t.model + " " + path).code, 2);
    BOOST_CHECK_EQUAL(run("predict --quiet --no-known-token predict --format xml --model " + t.model + " " + path).code, 2);
}

// With --no-fold, a text whose forward pass alone would pass the network's bound (2 million
// tokens for this model) is refused by the library. predict scores every other line, gives
// the refused one an empty line with its fields in place, names it by file and line, and
// exits 1; it stopped the whole run, naming no line. eval names the line and stops.
BOOST_AUTO_TEST_CASE(a_text_the_model_refuses_is_named_and_the_others_scored) {
    Trained& t = trained();
    std::string huge;
    for (std::size_t i = 0; i < 2'000'000; ++i) huge += "great ";
    const std::string path = scratch("huge_line.txt");
    write_text(path, "a great film\n" + huge + "\nthe movie was awful\n");
    const Run tsv = run("predict --quiet --prob --no-fold --model " + t.model + " " + path);
    BOOST_CHECK_EQUAL(tsv.code, 1);
    const auto lines = lines_of(tsv.out);
    BOOST_REQUIRE_EQUAL(lines.size(), 4u);  // the header, then one line per document
    BOOST_CHECK(lines[1].starts_with("pos\t"));
    BOOST_CHECK_EQUAL(lines[2], "\t\t");
    BOOST_CHECK(lines[3].starts_with("neg\t"));
    BOOST_CHECK_MESSAGE(contains(tsv.err, "error: " + path + ":2: not scored: text classifier: a text of 2000000 tokens"),
                        tsv.err);
    BOOST_CHECK_MESSAGE(contains(tsv.err, "1 of 3 documents could not be scored (first: " + path + ":2; each named"),
                        tsv.err);
    const Run jsonl = run("predict --quiet --no-fold --format jsonl --model " + t.model + " " + path);
    BOOST_CHECK_EQUAL(jsonl.code, 1);
    const auto records = lines_of(jsonl.out);
    BOOST_REQUIRE_EQUAL(records.size(), 3u);
    BOOST_CHECK_EQUAL(records[1], R"({"label":null,"not_scored":true})");
    // The folded tables score it.
    const Run folded = run("predict --quiet --model " + t.model + " " + path);
    BOOST_CHECK_EQUAL(folded.code, 0);
    BOOST_CHECK_EQUAL(lines_of(folded.out)[1], "pos");

    const std::string csv = scratch("huge_line.csv");
    write_text(csv, "label,text\npos,a great film\npos," + huge + "\n");
    const Run eval = run("eval --no-fold --model " + t.model + " --data " + csv);
    BOOST_CHECK_EQUAL(eval.code, 1);
    BOOST_CHECK_MESSAGE(contains(eval.err, csv + ":3: text classifier: a text of 2000000 tokens"), eval.err);
}

BOOST_AUTO_TEST_CASE(thresholds_name_their_label_and_texts_without_known_tokens_are_marked) {
    Trained& t = trained();
    const TextClassifier& model = *t.library_model;
    const std::vector<std::string> texts = {"a great film", "", "the movie was awful", "zzz qqq", "superb, really",
                                            "the cast was dull but the ending was moving"};
    std::string input;
    for (const auto& s : texts) input += s + "\n";
    const std::string path = scratch("thresholds.txt");
    write_text(path, input);
    const std::vector<TextPrediction> expected = model.predict(std::span<const std::string>(texts));
    BOOST_REQUIRE(expected[1].no_known_token() && expected[3].no_known_token());
    BOOST_REQUIRE(!expected[0].no_known_token() && expected[0].tokens == 3 && expected[0].unknown_tokens == 0);

    // The threshold applies to the label it names, whatever its place among the labels: neg here.
    const Run neg = run("predict --quiet --threshold neg=0.9 --model " + t.model + " " + path);
    BOOST_REQUIRE_MESSAGE(neg.code == 0, neg.err);
    const auto lines = lines_of(neg.out);
    BOOST_REQUIRE_EQUAL(lines.size(), texts.size());
    for (std::size_t i = 0; i < texts.size(); ++i) {
        const std::string want = expected[i].no_known_token() ? "" : expected[i].probabilities[0] >= 0.9f ? "neg" : "pos";
        BOOST_CHECK_EQUAL(lines[i], want);
    }
    // Texts without a known token: an empty label field and a warning that counts them, even with --quiet.
    BOOST_CHECK(contains(neg.err, "warning: 2 of 6 documents have no token the model knows"));
    // ... or the model's answer to an empty text, marked in jsonl either way.
    const auto marked = lines_of(run("predict --quiet --format jsonl --no-known-token predict --model " + t.model + " " + path).out);
    BOOST_REQUIRE_EQUAL(marked.size(), texts.size());
    BOOST_CHECK(json::parse(marked[3]).at("no_known_token").get<bool>());
    BOOST_CHECK_EQUAL(json::parse(marked[3]).at("label").get<std::string>(), model.labels()[expected[3].label]);
    BOOST_CHECK(!json::parse(marked[0]).contains("no_known_token"));
    BOOST_CHECK(json::parse(lines_of(run("predict --quiet --format jsonl --model " + t.model + " " + path).out)[1]).at("label").is_null());

    // A threshold on every label: below both, no label at all, said on stderr.
    const Run both = run("predict --quiet --threshold neg=0.999999 --threshold pos=0.999999 --model " + t.model + " " + path);
    BOOST_REQUIRE_EQUAL(both.code, 0);
    std::size_t undecided = 0;
    for (std::size_t i = 0; i < texts.size(); ++i) {
        const bool passes = !expected[i].no_known_token() && (expected[i].probabilities[0] >= 0.999999f ||
                                                              expected[i].probabilities[1] >= 0.999999f);
        if (!passes) BOOST_CHECK_EQUAL(lines_of(both.out)[i], "");
        undecided += !passes && !expected[i].no_known_token();
    }
    if (undecided) BOOST_CHECK(contains(both.err, fmt::format("warning: {} of 6 documents reached no label's threshold", undecided)));
    // eval refuses that: every document must get a label to be counted.
    BOOST_CHECK_EQUAL(run("eval --threshold neg=0.5 --threshold pos=0.5 --model " + t.model + " --data " + t.train_csv).code, 2);

    // --top 1 with a threshold never names a label other than the decision.
    const auto top = lines_of(run("predict --quiet --no-known-token predict --top 1 --threshold pos=0.0 --model " + t.model + " " + path).out);
    for (const auto& line : top) {
        const auto f = split(line, '\t');
        BOOST_REQUIRE_EQUAL(f.size(), 3u);
        BOOST_CHECK_EQUAL(f[0], "pos");
        BOOST_CHECK_EQUAL(f[1], "pos");
    }

    // Usage errors name what to write instead.
    const Run bare = run("predict --quiet --threshold 0.9 --model " + t.model + " " + path);
    BOOST_CHECK_EQUAL(bare.code, 2);
    BOOST_CHECK_EQUAL(bare.err, "textcnn predict: --threshold 0.9: name the label it applies to, as LABEL=P (this "
                                "model's labels: neg, pos), e.g. --threshold pos=0.9\nRun with --help for more information.\n");
    const Run no_value = run("predict --quiet --threshold pos --model " + t.model + " " + path);
    BOOST_CHECK_EQUAL(no_value.code, 2);
    BOOST_CHECK_EQUAL(no_value.err, "textcnn predict: --threshold pos: give the probability too, as LABEL=P (this "
                                    "model's labels: neg, pos), e.g. --threshold pos=0.9\nRun with --help for more "
                                    "information.\n");
    // Another letter case names the label (one label matches so).
    const Run upper = run("predict --quiet --threshold POS=1.0 --model " + t.model + " " + path);
    BOOST_CHECK_EQUAL(upper.code, 0);
    BOOST_CHECK_EQUAL(upper.out, run("predict --quiet --threshold pos=1.0 --model " + t.model + " " + path).out);
    // ... and says so (eval tells labels apart by case; it was taken unsaid).
    const std::string taken = "warning: --threshold POS=1.0: taken for the model's label 'pos' (the letter case differs)\n";
    BOOST_CHECK_MESSAGE(upper.err.starts_with(taken) && upper.err.find(taken, 1) == std::string::npos,  // once (de44829: twice)
                        upper.err);
    // Two labels in that letter case: the message says so (it said "no such label" alone).
    {
        std::vector<Row> rows = make_rows(60, 7);
        for (std::size_t i = 0; i < rows.size(); i += 4) rows[i].label = "Pos";
        write_text(scratch("cased.csv"), to_csv(rows));
        const Run cased = run("train --quiet --train " + scratch("cased.csv") + " --model " + scratch("cased.model") +
                              " --epochs 1 --embedding-dim 8 --maps 4 --threads 1");
        BOOST_REQUIRE_MESSAGE(cased.code == 0, cased.err);
        const Run ambiguous = run("predict --quiet --threshold POS=0.9 --model " + scratch("cased.model") + " " + path);
        BOOST_CHECK_EQUAL(ambiguous.code, 2);
        BOOST_CHECK_MESSAGE(contains(ambiguous.err, "threshold for 'POS': no such label (labels: Pos, neg, pos); 2 labels "
                                                    "differ from it only in letter case: name one exactly"),
                            ambiguous.err);
    }
    const Run unknown = run("predict --quiet --threshold spam=0.9 --model " + t.model + " " + path);
    BOOST_CHECK_EQUAL(unknown.code, 2);
    BOOST_CHECK(contains(unknown.err, "threshold for 'spam': no such label (labels: neg, pos)"));
    // A label that only looks like one of the model's is named with what does not show spelled out.
    const Run hidden = run("predict --quiet --threshold 'p\u200Bos=0.9' --model " + t.model + " " + path);
    BOOST_CHECK_EQUAL(hidden.code, 2);
    BOOST_CHECK_MESSAGE(contains(hidden.err, "threshold for 'p<U+200B>os': no such label (labels: neg, pos)"), hidden.err);
    BOOST_CHECK_EQUAL(run("predict --quiet --threshold pos=0.5 --threshold pos=0.6 --model " + t.model + " " + path).code, 2);
    BOOST_CHECK_EQUAL(run("predict --quiet --threshold pos=high --model " + t.model + " " + path).code, 2);

    // eval reports the unknown-token share.
    const Run e = run("eval --json --model " + t.model + " --data " + t.train_csv);
    BOOST_REQUIRE_EQUAL(e.code, 0);
    const json j = json::parse(e.out);
    BOOST_CHECK(j.at("tokens").get<std::size_t>() > 0);
    BOOST_CHECK_EQUAL(j.at("unknown_token_share").get<double>(), 0.0);  // its own training data
}

BOOST_AUTO_TEST_CASE(labels_with_tabs_newlines_and_delimiters_keep_one_line_per_document) {
    // Training refuses such labels (a CSV field quoted across lines, most likely), naming the
    // line; a model trained before that refusal may hold them, and its output stays one
    // document per line (tsv, jsonl) or record (csv).
    const std::string data = scratch("odd_labels.csv");
    const std::string model = scratch("odd_labels.model");
    std::string csv = "label,text\n";
    for (int i = 0; i < 30; ++i) csv += "good,a great film number " + std::to_string(i) + "\n";
    write_text(data, csv + "\"bad,\nline\",an awful film\n");
    const Run refused = run("train --train " + data + " --model " + model + " " + tiny + " --quiet");
    BOOST_CHECK_EQUAL(refused.code, 1);
    BOOST_CHECK_EQUAL(refused.err, "textcnn train: " + data +
                                       ":32: the label holds U+000A (line feed) at byte 5: a label is one line of text "
                                       "without control characters (a quoted CSV field that runs across lines?)\n");
    write_text(data, csv + "\"good\tone\",a fine film\n");
    BOOST_CHECK(run("train --train " + data + " --model " + model + " " + tiny + " --quiet").err.find(
                    "the label holds U+0009 (tab) at byte 5") != std::string::npos);

    csv = "label,text\n";
    for (int i = 0; i < 30; ++i) {
        csv += "good,a great film number " + std::to_string(i) + "\n";
        csv += "bad,an awful film number " + std::to_string(i) + "\n";
    }
    write_text(data, csv);
    const Run train = run("train --train " + data + " --model " + model + " " + tiny + " --quiet");
    BOOST_REQUIRE_MESSAGE(train.code == 0, train.err);
    textcnn::ModelFile file = textcnn::read_model_file(model);  // as an older build wrote them
    textcnn::set_labels(file, {"bad,\nline", "good\tone"});
    textcnn::write_model_file(model, file);
    const std::string input = scratch("odd_labels.txt");
    write_text(input, "a great film\nan awful film\n");
    const auto tsv = lines_of(run("predict --quiet --prob --model " + model + " " + input).out);
    BOOST_REQUIRE_EQUAL(tsv.size(), 3u);
    BOOST_CHECK_EQUAL(tsv[0], "label\tbad,\\nline\tgood\\tone");
    BOOST_CHECK_EQUAL(split(tsv[1], '\t')[0], "good\\tone");
    BOOST_CHECK_EQUAL(split(tsv[2], '\t')[0], "bad,\\nline");
    const auto csv_out = lines_of(run("predict --quiet --format csv --model " + model + " " + input).out);
    BOOST_REQUIRE_EQUAL(csv_out.size(), 3u);  // the quoted newline splits the text, not the record count
    BOOST_CHECK_EQUAL(csv_out[0], "good\tone");
    BOOST_CHECK_EQUAL(csv_out[1] + "\n" + csv_out[2], "\"bad,\nline\"");
    const auto jsonl = lines_of(run("predict --quiet --format jsonl --model " + model + " " + input).out);
    BOOST_REQUIRE_EQUAL(jsonl.size(), 2u);
    BOOST_CHECK_EQUAL(json::parse(jsonl[1]).at("label").get<std::string>(), "bad,\nline");

    // Other control characters reach no terminal through tsv either: an escape sequence of a
    // crafted label (here one that would paint the screen red), DEL, a C1 control, U+2028.
    textcnn::set_labels(file, {"bad\x1b[31m\x7f", "good\xc2\x85\xe2\x80\xa8"});
    textcnn::write_model_file(model, file);
    const Run escaped = run("predict --quiet --prob --model " + model + " " + input);
    BOOST_REQUIRE_MESSAGE(escaped.code == 0, escaped.err);
    BOOST_CHECK_EQUAL(escaped.out, "label\tbad\\x1b[31m\\x7f\tgood\\u0085\\u2028\n"
                                   "good\\u0085\\u2028\t" + split(tsv[1], '\t')[1] + "\t" + split(tsv[1], '\t')[2] + "\n"
                                   "bad\\x1b[31m\\x7f\t" + split(tsv[2], '\t')[1] + "\t" + split(tsv[2], '\t')[2] + "\n");
    // And a --threshold message shows them spelled out.
    const Run threshold = run("predict --quiet --threshold nope=0.5 --model " + model + " " + input);
    BOOST_CHECK_EQUAL(threshold.code, 2);
    BOOST_CHECK_MESSAGE(threshold.err.find("\x1b") == std::string::npos && threshold.err.find("<U+001B>") != std::string::npos,
                        threshold.err);
}

BOOST_AUTO_TEST_CASE(predict_reads_a_csv_column) {
    Trained& t = trained();
    const std::string path = scratch("to_score.csv");
    write_text(path, "id,review\n1,\"Well, a great film, honestly\"\n2,\"\"\n3,\"she said \"\"awful\"\", twice\"\n");
    const Run r = run("predict --quiet --text-column review --model " + t.model + " " + path);
    BOOST_REQUIRE_MESSAGE(r.code == 0, r.err);
    // The empty text has no token the model knows: its label field is empty.
    BOOST_CHECK_EQUAL(r.out, "pos\n\nneg\n");
    const Run bad = run("predict --quiet --text-column nope --model " + t.model + " " + path);
    BOOST_CHECK_EQUAL(bad.code, 1);
    BOOST_CHECK_EQUAL(bad.err, "textcnn predict: " + path + ":1: no column 'nope' (columns: 'id', 'review')\n");

    // --id-column: the row's id leads every line, so scores join back to their rows.
    const std::string with_ids = "predict --quiet --text-column review --id-column id --model " + t.model + " ";
    BOOST_CHECK_EQUAL(run(with_ids + path).out, "1\tpos\n2\t\n3\tneg\n");
    BOOST_CHECK_EQUAL(run(with_ids + "--format csv " + path).out, "1,pos\n2,\n3,neg\n");
    BOOST_CHECK_EQUAL(run(with_ids + "--format jsonl " + path).out,
                      "{\"id\":\"1\",\"label\":\"pos\"}\n{\"id\":\"2\",\"label\":null,\"no_known_token\":true}\n"
                      "{\"id\":\"3\",\"label\":\"neg\"}\n");
    const auto prob = lines_of(run(with_ids + "--prob " + path).out);
    BOOST_REQUIRE_EQUAL(prob.size(), 4u);
    BOOST_CHECK_EQUAL(prob[0], "id\tlabel\tneg\tpos");
    BOOST_CHECK_EQUAL(split(prob[3], '\t')[0], "3");
    BOOST_CHECK_EQUAL(run("predict --quiet --text-column 2 --id-column 1 --model " + t.model + " " + path).out,
                      "1\tpos\n2\t\n3\tneg\n");  // by number
    const Run no_id = run("predict --quiet --text-column review --id-column key --model " + t.model + " " + path);
    BOOST_CHECK_EQUAL(no_id.code, 1);
    BOOST_CHECK_EQUAL(no_id.err, "textcnn predict: " + path + ":1: no id column 'key' (columns: 'id', 'review')\n");
    write_text(scratch("plain.txt"), "a great film\n");
    const Run plain = run("predict --quiet --id-column id --model " + t.model + " " + scratch("plain.txt"));
    BOOST_CHECK_EQUAL(plain.code, 2);
    BOOST_CHECK_EQUAL(plain.err, "textcnn predict: " + scratch("plain.txt") + ": an id column needs CSV or TSV input, not plain\n");
}

BOOST_AUTO_TEST_CASE(three_classes_threshold_and_eval_keys) {
    // A third class ("neu": neither word list) makes a three-class model.
    Rng rng(21);
    std::vector<Row> rows = make_rows(150, 6);
    for (int i = 0; i < 75; ++i) rows.push_back({"neu", "the " + nouns[rng.below(nouns.size())] + " was " + nouns[rng.below(nouns.size())]});
    const std::string data = scratch("three.csv");
    write_text(data, to_csv(rows));
    const std::string model = scratch("three.model");
    const Run train = run("train --train " + data + " --model " + model + " " + tiny + " --quiet");
    BOOST_REQUIRE_MESSAGE(train.code == 0, train.err);
    const std::string input = scratch("three_input.txt");
    write_text(input, "a great film\n\nthe film was story\nawful\n");
    const Run r = run("predict --quiet --threshold 0.5 --model " + model, input);
    BOOST_CHECK_EQUAL(r.code, 2);
    BOOST_CHECK_EQUAL(r.err, "textcnn predict: --threshold 0.5: name the label it applies to, as LABEL=P (this model's "
                             "labels: neg, neu, pos), e.g. --threshold pos=0.5\n"
                             "Run with --help for more information.\n");
    // With three labels, a threshold on one: neu only at P(neu) >= 0.99, else the better of neg and pos.
    TextClassifier three = TextClassifier::load(model);
    const std::vector<std::string> probe = {"a great film", "the film was story", "awful", "the cast was ending"};
    std::string probe_text;
    for (const auto& line : probe) probe_text += line + "\n";
    write_text(input, probe_text);
    const auto decided = lines_of(run("predict --quiet --threshold neu=0.99 --model " + model, input).out);
    BOOST_REQUIRE_EQUAL(decided.size(), probe.size());
    for (std::size_t i = 0; i < probe.size(); ++i) {
        const auto p = three.predict(probe[i]).probabilities;
        const std::string expected = p[1] >= 0.99f ? "neu" : p[0] >= p[2] ? "neg" : "pos";
        BOOST_CHECK_EQUAL(decided[i], expected);
    }
    const Run top = run("predict --quiet --top 2 --format jsonl --model " + model, input);
    BOOST_REQUIRE_EQUAL(top.code, 0);
    BOOST_CHECK_EQUAL(lines_of(top.out).size(), 4u);
    for (const auto& line : lines_of(top.out)) BOOST_CHECK_EQUAL(json::parse(line).at("probabilities").size(), 2u);
    // No ROC-AUC with three classes.
    const Run e = run("eval --json --model " + model + " --data " + data);
    BOOST_REQUIRE_EQUAL(e.code, 0);
    const json j = json::parse(e.out);
    BOOST_CHECK(!j.contains("roc_auc"));
    BOOST_CHECK(j.at("labels").get<std::vector<std::string>>() == (std::vector<std::string>{"neg", "neu", "pos"}));
    BOOST_CHECK_EQUAL(j.at("confusion").size(), 3u);
    BOOST_CHECK_EQUAL(j.at("per_class").at("neu").at("support").get<int>(), 75);
}

// --- summary and tokenize -------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(summary_text_and_json) {
    Trained& t = trained();
    const std::size_t vocab = t.library_model->vocabulary().size();
    // Kim's CNN: embedding V x 16, convolutions of widths 3, 4, 5 with 8 maps (+ biases), output 24 x 2 + 2.
    const std::size_t parameters = vocab * 16 + (3 + 4 + 5) * 16 * 8 + 3 * 8 + 24 * 2 + 2;
    const Run r = run("summary --model " + t.model);
    BOOST_REQUIRE_EQUAL(r.code, 0);
    BOOST_CHECK_MESSAGE(contains(r.out, "Total params: " + with_commas(parameters)), r.out);
    BOOST_CHECK(contains(r.out, "Labels (2): neg pos"));
    BOOST_CHECK(contains(r.out, "Vocabulary: " + std::to_string(vocab) + " ids"));
    BOOST_CHECK(contains(r.out, "training_data: " + t.train_csv));
    BOOST_CHECK(contains(r.out, "built_with: textcnn ") && contains(r.out, "; ICU "));
    BOOST_CHECK(contains(r.out, "conv 'conv_5'"));
    BOOST_CHECK(contains(r.out, "Prediction: embedding folded into the convolutions at load"));

    const Run j = run("summary --json --model " + t.model);
    BOOST_REQUIRE_EQUAL(j.code, 0);
    const json s = json::parse(j.out);
    BOOST_CHECK_EQUAL(s.at("parameters").get<std::size_t>(), parameters);
    BOOST_CHECK_EQUAL(s.at("trainable_parameters").get<std::size_t>(), parameters);
    BOOST_CHECK_EQUAL(s.at("vocabulary_size").get<std::size_t>(), vocab);
    // One row per word: (3 + 4 + 5) taps x 8 maps floats.
    BOOST_CHECK_EQUAL(s.at("fold_table_bytes").get<std::size_t>(), vocab * 12 * 8 * sizeof(float));
    BOOST_CHECK(s.at("labels").get<std::vector<std::string>>() == (std::vector<std::string>{"neg", "pos"}));
    // Numbers as JSON numbers, true and false as booleans; text stays text.
    BOOST_CHECK_EQUAL(s.at("metadata").at("training_documents").get<int>(), 300);
    BOOST_CHECK_EQUAL(s.at("metadata").at("seed").get<int>(), 1);
    BOOST_CHECK(s.at("metadata").at("dev_accuracy").is_number_float());
    BOOST_CHECK_EQUAL(s.at("metadata").at("training_data").get<std::string>(), t.train_csv);
    BOOST_CHECK_EQUAL(s.at("tokenizer").at("lowercase").get<bool>(), true);
    BOOST_CHECK_EQUAL(s.at("tokenizer").at("punctuation").get<std::string>(), "keep");
    std::size_t layer_parameters = 0;
    for (const auto& layer : s.at("layers"))
        if (layer.at("depth").get<int>() == 0) layer_parameters += layer.at("parameters").get<std::size_t>();
    BOOST_CHECK_EQUAL(layer_parameters, parameters);
}

// A quantized model's wide branch must be the one its architecture describes (summary shows
// that one), and its n-gram order is bounded as the layer's: an order of 2^62 in a file with a
// valid checksum made prediction run forever (found by a helper's hostile-file run).
BOOST_AUTO_TEST_CASE(a_quantized_wide_branch_other_than_the_architecture_is_refused) {
    Trained& t = trained();
    const std::string wide = scratch("wide_q.model"), quantized = scratch("wide_q.quantized");
    BOOST_REQUIRE_EQUAL(run("train --train " + t.train_csv + " --model " + wide + " " + tiny +
                            " --word-ngrams 2 --buckets 1000 --quiet").code, 0);
    BOOST_REQUIRE_EQUAL(run("quantize --model " + wide + " --out " + quantized).code, 0);
    ModelFile file = read_model_file(quantized);
    const ModelSection* arch = file.find("ARCH");
    BOOST_REQUIRE(arch != nullptr);
    std::string text(arch->payload.begin(), arch->payload.end());
    const std::string order = "\"ngrams\":\"2\"";
    BOOST_REQUIRE(text.find(order) != std::string::npos);
    text.replace(text.find(order), order.size(), "\"ngrams\":\"3\"");
    file.set("ARCH", arch->version, std::vector<std::uint8_t>(text.begin(), text.end()));
    write_model_file(quantized, file);
    const Run r = run("predict --quiet --model " + quantized + " " + t.train_csv);
    BOOST_CHECK_EQUAL(r.code, 1);
    BOOST_CHECK_MESSAGE(contains(r.err, quantized + ": section 'QFLD' holds a wide branch (order 2, 1000 buckets, binary, "
                                        "sum) other than the stored architecture's (order 3, 1000 buckets, binary, sum)"),
                        r.err);
}

BOOST_AUTO_TEST_CASE(quantize_plain_refined_compact_and_compact_refined) {
    Trained& t = trained();
    const std::string texts = scratch("quantize_texts.txt");
    std::string lines;
    for (const auto& row : make_rows(200, 9)) lines += row.text + "\n";
    write_text(texts, lines);
    const Run float_run = run("predict --model " + t.model + " --prob --quiet " + texts);
    BOOST_REQUIRE_EQUAL(float_run.code, 0);
    const auto float_lines = lines_of(float_run.out);
    struct Form {
        std::string option, name, said, summary;
        unsigned version;
    };
    for (const Form& form : {Form{"", "stored", "each logit within", "Prediction: quantized: int8 folded tables stored", 1},
                             Form{"--refine", "refined", "within", "4-bit residual code", 3},
                             Form{"--compact", "compact", "each logit within", "Prediction: quantized, compact", 2},
                             Form{"--compact --refine", "compact_refined", "(made at load)", "made at load too", 4}})
        BOOST_TEST_CONTEXT("quantize " << form.option) {
            const std::string out = scratch("quantized_" + form.name + ".model");
            const Run q = run("quantize --model " + t.model + " --out " + out + " " + form.option);
            BOOST_REQUIRE_MESSAGE(q.code == 0, q.err);
            BOOST_CHECK_MESSAGE(contains(q.err, form.said), q.err);
            const bool refined = contains(form.option, "--refine");
            BOOST_CHECK_EQUAL(contains(q.err, "scored again"), refined);
            BOOST_CHECK_EQUAL(read_model_file(out).find("QFLD")->version, form.version);
            const Run summary = run("summary --model " + out);
            BOOST_CHECK_MESSAGE(contains(summary.out, form.summary), summary.out);
            const json j = json::parse(run("summary --json --model " + out).out);
            BOOST_CHECK_EQUAL(j.at("quantized_form").get<std::string>(), form.name);
            BOOST_CHECK_GT(j.at("parameters").get<std::size_t>(), 0u);      // the architecture's
            BOOST_CHECK_EQUAL(j.at("trainable_parameters").get<std::size_t>(), 0u);  // none stored to train
            BOOST_CHECK_EQUAL(j.at("quantization_error_bound").size(), 2u);
            BOOST_CHECK_EQUAL(j.contains("refined_error_bound"), refined);
            const Run p = run("predict --model " + out + " --prob --quiet " + texts);
            BOOST_REQUIRE_EQUAL(p.code, 0);
            const auto got = lines_of(p.out);
            BOOST_REQUIRE_EQUAL(got.size(), float_lines.size());
            for (std::size_t i = 1; i < got.size(); ++i)  // the label field, after the header line
                BOOST_CHECK_EQUAL(got[i].substr(0, got[i].find('\t')), float_lines[i].substr(0, float_lines[i].find('\t')));
            const Run no_fold = run("predict --no-fold --quiet --model " + out + " " + texts);
            BOOST_CHECK_EQUAL(no_fold.code, 0);
            BOOST_CHECK_MESSAGE(contains(no_fold.err, "--no-fold: " + out + " is quantized"), no_fold.err);
            // Already quantized: bad input (exit 1), the float model it came from named, nothing written.
            const Run again = run("quantize --model " + out + " --out " + scratch("twice.model"));
            BOOST_CHECK_EQUAL(again.code, 1);
            BOOST_CHECK_MESSAGE(contains(again.err, "is already quantized") &&
                                    contains(again.err, "quantize the float model it was made from: " + t.model),
                                again.err);
            BOOST_CHECK(!std::filesystem::exists(scratch("twice.model")));
        }
    BOOST_CHECK(!json::parse(run("summary --json --model " + t.model).out).contains("quantized_form"));
    // Written to a device (no file size to report): said so rather than failing after the write;
    // --threads as in every command.
    const Run to_device = run("quantize --threads 1 --model " + t.model + " --out /dev/null");
    BOOST_CHECK_EQUAL(to_device.code, 0);
    BOOST_CHECK_MESSAGE(contains(to_device.err, "a file without a size (not a regular file)"), to_device.err);
    // --out over --model (the float model would be lost: the copy is for prediction only): refused,
    // nothing written; the message gives the input's size.
    const std::string copy = scratch("replaced.model");
    std::filesystem::copy_file(t.model, copy, std::filesystem::copy_options::overwrite_existing);
    const Run replaced = run("quantize --refine --model " + copy + " --out " + copy);
    BOOST_CHECK_EQUAL(replaced.code, 2);
    BOOST_CHECK_MESSAGE(contains(replaced.err, "--out " + copy + " is also --model"), replaced.err);
    BOOST_CHECK(read_model_file(copy).find("QFLD") == nullptr);
    const Run quantized = run("quantize --refine --model " + copy + " --out " + scratch("not_replaced.model"));
    BOOST_REQUIRE_EQUAL(quantized.code, 0);
    BOOST_CHECK_MESSAGE(contains(quantized.err, fmt::format("file {:.1f} kB ->", std::filesystem::file_size(t.model) / 1e3)),
                        quantized.err);
    // --model - names the file "-" (quantize reads no standard input): an --out naming that
    // file is refused too.
    const std::string dash_dir = scratch("dash_dir");
    std::filesystem::create_directories(dash_dir);
    std::filesystem::copy_file(t.model, dash_dir + "/-", std::filesystem::copy_options::overwrite_existing);
    const auto dash = testing::run_program("cd " + dash_dir + " && " + program + " quantize --model - --out ./-",
                                           scratch("stderr.txt"));
    BOOST_CHECK_EQUAL(dash.code, 2);
    BOOST_CHECK_MESSAGE(contains(dash.err, "--out ./- is also --model: the output would overwrite it"), dash.err);
    BOOST_CHECK(read_model_file(dash_dir + "/-").find("QFLD") == nullptr);
    // The compact file whatever the residual codes made at load.
    BOOST_CHECK_EQUAL(std::filesystem::file_size(scratch("quantized_compact_refined.model")),
                      std::filesystem::file_size(scratch("quantized_compact.model")));
}

// predict --threshold on a refined model: the text whose int8 probability moved most, with a
// threshold halfway between its float and its int8 probability, gets the float model's
// decision (scored again from the residual codes) where the plain int8 model's is the other.
BOOST_AUTO_TEST_CASE(refined_model_decides_thresholds_as_the_float_model) {
    Trained& t = trained();
    const std::string texts = scratch("threshold_texts.txt"), stored = scratch("threshold_stored.model"),
                      refined = scratch("threshold_refined.model");
    std::string lines;
    for (const auto& row : make_rows(300, 17)) lines += row.text + "\n";
    write_text(texts, lines);
    BOOST_REQUIRE_EQUAL(run("quantize --model " + t.model + " --out " + stored).code, 0);
    BOOST_REQUIRE_EQUAL(run("quantize --refine --model " + t.model + " --out " + refined).code, 0);
    const auto probabilities = [&](const std::string& model, const std::string& options) {
        const Run r = run("predict --quiet --prob --model " + model + " " + options + " " + texts);
        BOOST_REQUIRE_EQUAL(r.code, 0);
        return lines_of(r.out);  // a header, then label, P(label 1), P(label 2)
    };
    const auto exact = probabilities(t.model, ""), int8 = probabilities(stored, "");
    const std::string label = split(exact[0], '\t')[2];
    std::size_t moved = 0;
    double largest = 0.0;
    for (std::size_t i = 1; i < exact.size(); ++i) {
        const double change = std::abs(std::stod(split(int8[i], '\t')[2]) - std::stod(split(exact[i], '\t')[2]));
        if (change > largest) largest = change, moved = i;
    }
    BOOST_REQUIRE_GT(largest, 2e-5);  // six digits printed: the halfway point falls between them
    const double p = std::stod(split(exact[moved], '\t')[2]), q = std::stod(split(int8[moved], '\t')[2]);
    const std::string threshold = fmt::format("--threshold {}={:.7f}", label, (p + q) / 2);
    const auto decided = [&](const std::string& model) {
        return split(probabilities(model, threshold)[moved], '\t')[0];
    };
    BOOST_TEST_MESSAGE("line " << moved << ": float " << p << ", int8 " << q << "; " << threshold);
    BOOST_CHECK_NE(decided(stored), decided(t.model));
    BOOST_CHECK_EQUAL(decided(refined), decided(t.model));
}

BOOST_AUTO_TEST_CASE(tokenize_prints_what_the_model_sees) {
    Trained& t = trained();
    const std::string path = scratch("tokenize.txt");
    write_text(path, "Hello, World! Don't panic.\n\nÉTÉ 3.14\n");
    const Run r = run("tokenize " + path);
    BOOST_CHECK_EQUAL(r.code, 0);
    BOOST_CHECK_EQUAL(r.out, "hello , world ! don't panic .\n\nété 3.14\n");
    const Run p = run("tokenize --punctuation drop --placeholders " + path);
    BOOST_CHECK_EQUAL(p.out, "hello world don't panic\n\nété <num>\n");
    // --model --ids: the model's vocabulary ids (unknown words are 1).
    write_text(path, "The film was zzz\n");
    const Run ids = run("tokenize --ids --model " + t.model + " " + path);
    BOOST_CHECK_EQUAL(ids.code, 0);
    std::string expected;
    for (std::uint32_t id : t.library_model->encode("The film was zzz")) {
        if (!expected.empty()) expected += ' ';
        expected += std::to_string(id);
    }
    BOOST_CHECK_EQUAL(ids.out, expected + "\n");
    BOOST_CHECK(expected.size() > 2 && expected.substr(expected.size() - 2) == " 1");
    BOOST_CHECK_EQUAL(run("tokenize --ids " + path).code, 2);  // --ids needs --model
}

// --- resume ---------------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(resume_a_library_checkpoint_with_the_cli) {
    Trained& t = trained();
    // Interrupt a library run in the middle of epoch 2, as Ctrl-C would.
    std::atomic<bool> stop{false};
    TextTrainingCallbacks callbacks;
    callbacks.stop = &stop;
    callbacks.progress = [&](const TrainingProgress& p) {
        if (p.epoch == 2 && p.batch == 15) stop = true;
    };
    const std::string checkpoint = scratch("library.ckpt"), kept = scratch("library_copy.ckpt");
    {
        TextTrainingRun run(read_labelled(t.train_csv), read_labelled(t.dev_csv), t.dev_csv, tiny_options(5), callbacks);
        BOOST_REQUIRE(run.run().result.reason == StopReason::interrupted);
        run.write_checkpoint(checkpoint);
        run.write_checkpoint(kept);
    }
    const std::string model = scratch("resumed.model");
    std::filesystem::remove(model);
    const Run r = run("train --train " + t.train_csv + " --dev " + t.dev_csv + " --model " + model + " " + tiny +
                      " --quiet --resume " + checkpoint);
    BOOST_REQUIRE_MESSAGE(r.code == 0, r.err);
    BOOST_CHECK(contains(r.out, "saved " + model));
    // The same parameters as the uninterrupted CLI run.
    BOOST_CHECK_MESSAGE(same_parameters(TextClassifier::load(model), *t.library_model),
                        "resumed training ended elsewhere than the uninterrupted run");
    // A checkpoint resumed from another path than this run's own (MODEL.ckpt) is the user's
    // file: the finished run leaves it as it was.
    BOOST_CHECK(std::filesystem::exists(checkpoint));
    BOOST_CHECK(read_text(checkpoint) == read_text(kept));
    // --epochs no larger than the epochs the checkpoint completed: nothing to train, said.
    const Run done = run("train --train " + t.train_csv + " --dev " + t.dev_csv + " --model " + scratch("done.model") +
                         " --embedding-dim 16 --maps 8 --epochs 1 --batch 10 --seed 1 --quiet --resume " + checkpoint);
    BOOST_CHECK_EQUAL(done.code, 0);
    BOOST_CHECK_MESSAGE(contains(done.err, "warning: " + checkpoint + " had completed 1 epoch and --epochs is 1: nothing "
                                           "was trained (a larger --epochs goes on)"),
                        done.err);
    BOOST_CHECK(!contains(r.err, "nothing was trained"));

    // A checkpoint that does not fit this run's options: exit 2, naming the checkpoint.
    const Run other = run("train --train " + t.train_csv + " --dev " + t.dev_csv + " --model " + model +
                          " --embedding-dim 16 --maps 8 --epochs 5 --batch 20 --seed 1 --quiet --resume " + checkpoint);
    BOOST_CHECK_EQUAL(other.code, 2);
    BOOST_CHECK_EQUAL(other.err, "textcnn train: " + checkpoint +
                                     ": trainer: the checkpoint was made with batch size 10, this run has 20\n");
    const Run wider = run("train --train " + t.train_csv + " --dev " + t.dev_csv + " --model " + model +
                          " --embedding-dim 16 --maps 9 --epochs 5 --batch 10 --seed 1 --quiet --resume " + checkpoint);
    BOOST_CHECK_EQUAL(wider.code, 2);
    BOOST_CHECK(contains(wider.err, checkpoint + ": the checkpoint's architecture differs"));
}

// Ctrl-C for real: SIGINT once the first epoch is reported, exit 130 with a checkpoint; then
// --resume to one epoch after the checkpoint's gives what an uninterrupted run of that many
// epochs gives.
BOOST_AUTO_TEST_CASE(sigint_writes_a_checkpoint_that_resumes_exactly) {
    Trained& t = trained();
    const std::string model = scratch("interrupted.model");
    const std::string checkpoint = scratch("interrupted.ckpt");
    std::filesystem::remove(checkpoint);
    const std::vector<std::string> args = {program,  "train",    "--train",         t.train_csv, "--dev",  t.dev_csv,
                                           "--model", model,     "--embedding-dim", "16",        "--maps", "8",
                                           "--epochs", "100000", "--batch",         "10",        "--seed", "1",
                                           "--checkpoint", checkpoint};
    // Not a terminal: one line per epoch, written from inside run(), after the handler is set.
    const Run interrupted = testing::signal_after(args, "epoch 1/100000", SIGINT);
    const std::string& err = interrupted.err;
    BOOST_REQUIRE_MESSAGE(interrupted.code != -1, "no epoch line seen: " << err);
    BOOST_CHECK_EQUAL(interrupted.code, 130);
    BOOST_CHECK(contains(err, "interrupted: checkpoint written to " + checkpoint + "; continue with --resume " + checkpoint));
    BOOST_REQUIRE(std::filesystem::exists(checkpoint));
    // Issue 11: the best model so far is written too, usable at once.
    BOOST_CHECK_MESSAGE(contains(err, "interrupted: the model so far written to " + model + " (best dev accuracy "), err);
    const TextClassifier so_far = TextClassifier::load(model);
    BOOST_CHECK_EQUAL(so_far.metadata.at("interrupted"), "yes");
    BOOST_CHECK_EQUAL(so_far.labels().size(), 2u);

    const TrainerState state = trainer_state_from_sections(read_model_file(checkpoint));
    BOOST_CHECK_GE(state.epoch, 1u);
    BOOST_TEST_MESSAGE("interrupted after " << state.epoch << " epochs and " << state.batch << " batches");
    const std::size_t epochs = state.epoch + 1;
    std::filesystem::remove(model);
    // The checkpoint given to predict or quantize instead of the model: it works, and is said
    // (it was silent).
    const Run on_checkpoint = run("predict --model " + checkpoint, t.dev_csv);
    BOOST_CHECK_EQUAL(on_checkpoint.code, 0);
    BOOST_CHECK_MESSAGE(contains(on_checkpoint.err, "warning: " + checkpoint + " is a training checkpoint, not a saved "
                                                    "model") &&
                            contains(on_checkpoint.err, "train --resume " + checkpoint + " continues the run"),
                        on_checkpoint.err);
    const Run quantized_checkpoint = run("quantize --model " + checkpoint + " --out " + scratch("checkpoint_q.model"));
    BOOST_CHECK_MESSAGE(contains(quantized_checkpoint.err, "is a training checkpoint"), quantized_checkpoint.err);
    const Run on_model = run("predict --model " + t.model, t.dev_csv);
    BOOST_CHECK_EQUAL(on_model.code, 0);
    BOOST_CHECK(!contains(on_model.err, "checkpoint"));
    // Issue 11: `--resume CKPT` alone continues with the run's stored options; a changed option
    // that matters is named. (Copies, so that the checkpoint stays as it is for the run below.)
    const std::string alone = scratch("interrupted_alone.ckpt"), other_seed = scratch("interrupted_seed.ckpt");
    std::filesystem::copy_file(checkpoint, alone, std::filesystem::copy_options::overwrite_existing);
    std::filesystem::copy_file(checkpoint, other_seed, std::filesystem::copy_options::overwrite_existing);
    const Run seed = run(fmt::format("train --resume {} --seed 2 --quiet", other_seed));
    BOOST_CHECK_EQUAL(seed.code, 2);
    BOOST_CHECK_MESSAGE(contains(seed.err, "seed") && contains(seed.err, "options that differ from the run that wrote " +
                                                                              other_seed + ": --seed 2 (there: 1)"),
                        seed.err);
    const std::string model_alone = scratch("interrupted_alone.model");
    const Run resumed_alone =
        run(fmt::format("train --resume {} --epochs {} --model {} --checkpoint {} --quiet", alone, epochs, model_alone,
                        scratch("alone_next.ckpt")));
    BOOST_REQUIRE_MESSAGE(resumed_alone.code == 0, resumed_alone.err);
    // Resumed from another path than its own checkpoint: the resumed file stays, its own is gone.
    BOOST_CHECK(std::filesystem::exists(alone));
    BOOST_CHECK(!std::filesystem::exists(scratch("alone_next.ckpt")));
    // A checkpoint with no stored options (written by the library) cannot be resumed alone.
    TextTrainingRun library_run(read_labelled(t.train_csv), std::nullopt, "", tiny_options(1), {});
    library_run.write_checkpoint(scratch("library.ckpt"));
    const Run bare = run("train --resume " + scratch("library.ckpt"));
    BOOST_CHECK_EQUAL(bare.code, 2);
    BOOST_CHECK_MESSAGE(contains(bare.err, "textcnn train: " + scratch("library.ckpt") +
                                               " holds no record of the options of the run that wrote it"),
                        bare.err);
    // A model given for the checkpoint is named as such (it was "a checkpoint of an older version").
    const Run a_model = run("train --resume " + t.model);
    BOOST_CHECK_EQUAL(a_model.code, 2);
    BOOST_CHECK_MESSAGE(contains(a_model.err, t.model + " is a model, not a checkpoint (no trainer state)"), a_model.err);
    // The same with the data options given beside it: it was "the checkpoint's architecture
    // differs from this run's options" (or the training data's), though no checkpoint was given.
    const Run a_model_with_data = run(fmt::format("train --train {} --model {} --resume {} --quiet", t.train_csv,
                                                  scratch("resumed_model.model"), t.model));
    BOOST_CHECK_EQUAL(a_model_with_data.code, 2);
    BOOST_CHECK_MESSAGE(contains(a_model_with_data.err, t.model + " is a model, not a checkpoint"), a_model_with_data.err);
    // Found by a new-user run: a new run with the same --checkpoint (or MODEL.ckpt) removed the
    // interrupted run's checkpoint when it ended ("the run is complete"). Now refused, the
    // checkpoint untouched.
    const auto checkpoint_bytes = std::filesystem::file_size(checkpoint);
    const Run fresh = run(fmt::format("train --train {} --model {} --embedding-dim 16 --maps 8 --epochs 1 --quiet "
                                      "--checkpoint {}",
                                      t.train_csv, scratch("fresh.model"), checkpoint));
    BOOST_CHECK_EQUAL(fresh.code, 2);
    BOOST_CHECK_MESSAGE(contains(fresh.err, "--checkpoint " + checkpoint + " holds the checkpoint of an interrupted run") &&
                            contains(fresh.err, "continue that run with --resume " + checkpoint),
                        fresh.err);
    BOOST_CHECK_EQUAL(std::filesystem::file_size(checkpoint), checkpoint_bytes);
    // ... and resuming a run that validated without its dev data trained epochs that the kept
    // best weights then replaced. Now refused, naming the option left out.
    const Run no_dev = run(fmt::format("train --resume {} --train {} --model {} --embedding-dim 16 --maps 8 --epochs {} "
                                       "--batch 10 --seed 1 --quiet --checkpoint {}",
                                       checkpoint, t.train_csv, scratch("no_dev.model"), epochs, checkpoint));
    BOOST_CHECK_EQUAL(no_dev.code, 2);
    BOOST_CHECK_MESSAGE(contains(no_dev.err, "this run has no validation data") &&
                            contains(no_dev.err, "--dev unset (there: " + t.dev_csv + ")"),
                        no_dev.err);
    const Run r = run(fmt::format("train --train {} --dev {} --model {} --embedding-dim 16 --maps 8 --epochs {} --batch 10 "
                                  "--seed 1 --quiet --checkpoint {} --resume {}",
                                  t.train_csv, t.dev_csv, model, epochs, checkpoint, checkpoint));
    BOOST_REQUIRE_MESSAGE(r.code == 0, r.err);
    // The finished run removed its own checkpoint, which it no longer needs.
    BOOST_CHECK(!std::filesystem::exists(checkpoint));
    TextTrainingRun straight(read_labelled(t.train_csv), read_labelled(t.dev_csv), t.dev_csv, tiny_options(epochs), {});
    straight.run();
    BOOST_CHECK_MESSAGE(same_parameters(TextClassifier::load(model), straight.classifier()),
                        "resumed after SIGINT, the parameters differ from an uninterrupted run");
    BOOST_CHECK_MESSAGE(same_parameters(TextClassifier::load(model_alone), straight.classifier()),
                        "resumed with --resume alone, the parameters differ from an uninterrupted run");
}

// Found by a new-user run: jsonl --top gave the probabilities sorted by label (tsv: best first),
// and tokenize --model printed every token of a model that reads the first --max-length.
BOOST_AUTO_TEST_CASE(jsonl_top_is_best_first_and_tokenize_cuts_where_the_model_does) {
    Trained& t = trained();
    write_text(scratch("top.txt"), "a truly wonderful and moving film\n");
    const Run top = run("predict --quiet --top 2 --format jsonl --model " + t.model + " " + scratch("top.txt"));
    BOOST_REQUIRE_EQUAL(top.code, 0);
    const auto j = nlohmann::ordered_json::parse(top.out);
    const auto& probabilities = j.at("probabilities");
    BOOST_REQUIRE_EQUAL(probabilities.size(), 2u);
    BOOST_TEST(probabilities.begin().value().get<double>() >= std::next(probabilities.begin()).value().get<double>());
    BOOST_TEST(probabilities.begin().key() == j.at("label").get<std::string>());
    const std::string cut_model = scratch("cut.model");
    std::filesystem::remove(cut_model);
    BOOST_REQUIRE_EQUAL(run("train --train " + t.train_csv + " --model " + cut_model + " " + tiny + " --max-length 3 --quiet").code, 0);
    const Run tokens = run("tokenize --model " + cut_model + " " + scratch("top.txt"));
    BOOST_TEST(tokens.out == "a truly wonderful\n");
    BOOST_TEST(tokens.err == "1 document was cut to the model's maximum length of 3 tokens, as the model reads it\n");
}

// --- bad input ------------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(missing_files) {
    Trained& t = trained();
    const std::string missing = scratch("no_such_file.csv");
    // A missing file is a bad-input error (exit 1) naming the file, whichever option names it.
    Run r = run("train --train " + missing + " --model " + scratch("x.model") + " --quiet");
    BOOST_CHECK_EQUAL(r.code, 1);
    BOOST_CHECK_EQUAL(r.err, "textcnn train: " + missing + ": cannot open: No such file or directory\n");
    r = run("eval --model " + scratch("no_such.model") + " --data " + t.train_csv);
    BOOST_CHECK_EQUAL(r.code, 1);
    BOOST_CHECK(contains(r.err, scratch("no_such.model") + ": cannot open"));
    // Input files of predict are opened as they come: an input error.
    r = run("predict --quiet --model " + t.model + " " + missing);
    BOOST_CHECK_EQUAL(r.code, 1);
    BOOST_CHECK_EQUAL(r.err, "textcnn predict: " + missing + ": cannot open: No such file or directory\n");
    BOOST_CHECK_EQUAL(r.out, "");
}

// Found by a new-user trial: a missing second file failed after the first file's lines (as many
// as --chunk let through), and "- -" read standard input once and the second "-" as empty.
BOOST_AUTO_TEST_CASE(predict_checks_its_inputs_before_it_writes) {
    Trained& t = trained();
    const std::string first = scratch("inputs_first.txt"), missing = scratch("inputs_missing.txt");
    std::string lines;
    for (int i = 0; i < 20; ++i) lines += i % 2 ? "a great film\n" : "the movie was awful\n";
    write_text(first, lines);
    for (const std::string chunk : {"1", "8192"}) {
        const Run r = run("predict --quiet --chunk " + chunk + " --model " + t.model + " " + first + " " + missing);
        BOOST_CHECK_EQUAL(r.code, 1);
        BOOST_CHECK_EQUAL(r.out, "");
        BOOST_CHECK_EQUAL(r.err, "textcnn predict: " + missing + ": cannot open: No such file or directory\n");
    }
    const std::string folder = std::filesystem::path(first).parent_path().string();
    const Run directory = run("predict --quiet --chunk 1 --model " + t.model + " " + first + " " + folder);
    BOOST_CHECK_EQUAL(directory.code, 1);
    BOOST_CHECK_EQUAL(directory.out, "");
    BOOST_CHECK_EQUAL(directory.err, "textcnn predict: " + folder + ": is a directory, not a data file\n");
    // tokenize reads its files as predict does.
    const Run tokens = run("tokenize --chunk 1 " + first + " " + missing);
    BOOST_CHECK_EQUAL(tokens.code, 1);
    BOOST_CHECK_EQUAL(tokens.out, "");
    BOOST_CHECK_EQUAL(tokens.err, "textcnn tokenize: " + missing + ": cannot open: No such file or directory\n");

    // Standard input named twice.
    for (const std::string& command : {"predict --quiet --model " + t.model, std::string("tokenize")}) {
        const Run twice = run(command + " - " + first + " -", first);
        BOOST_CHECK_EQUAL(twice.code, 2);
        BOOST_CHECK_EQUAL(twice.out, "");
        BOOST_CHECK_EQUAL(twice.err, "textcnn " + command.substr(0, command.find(' ')) +
                                         ": standard input ('-') is named 2 times among the input files; it can be "
                                         "read only once\nRun with --help for more information.\n");
    }
    BOOST_CHECK_EQUAL(run("predict --quiet --model " + t.model + " -", first).code, 0);
}

// --top 5 with two labels: both on every line, and one warning (before, the labels were cut
// without a word), --quiet or not (it silences the throughput lines, not warnings).
BOOST_AUTO_TEST_CASE(predict_top_beyond_the_labels_says_so_once) {
    Trained& t = trained();
    const std::string first = scratch("top_texts.txt");
    std::string lines;
    for (int i = 0; i < 20; ++i) lines += i % 2 ? "a great film\n" : "the movie was awful\n";
    write_text(first, lines);
    const Run top = run("predict --quiet --top 5 --model " + t.model + " " + first);
    BOOST_CHECK_EQUAL(top.code, 0);
    BOOST_REQUIRE_EQUAL(lines_of(top.out).size(), 20u);
    BOOST_CHECK_EQUAL(split(lines_of(top.out)[0], '\t').size(), 5u);
    BOOST_CHECK_EQUAL(top.err, "warning: --top 5, but the model has only 2 labels: each line lists 2\n");
    const Run two = run("predict --quiet --top 2 --model " + t.model + " " + first);
    BOOST_CHECK_EQUAL(two.out, top.out);
    BOOST_CHECK_EQUAL(two.err, "");
}

BOOST_AUTO_TEST_CASE(bad_training_data) {
    Trained& t = trained();
    const std::string model = scratch("never.model");
    std::filesystem::remove(model);
    const std::string opts = " --model " + model + " --embedding-dim 16 --maps 8 --epochs 1 --quiet";

    Run r = run("train --train " + t.train_csv + " --text-column nope" + opts);
    BOOST_CHECK_EQUAL(r.code, 1);
    BOOST_CHECK_EQUAL(r.err, "textcnn train: " + t.train_csv + ":1: no column 'nope' (columns: 'label', 'text')\n");
    r = run("train --train " + t.train_csv + " --label-column stars" + opts);
    BOOST_CHECK_EQUAL(r.code, 1);
    BOOST_CHECK_EQUAL(r.err, "textcnn train: " + t.train_csv + ":1: no label column 'stars' (columns: 'label', 'text')\n");

    std::vector<Row> positive;
    for (const auto& row : make_rows(40, 1))
        if (row.label == "pos") positive.push_back(row);
    const std::string one_class = scratch("one_class.csv");
    write_text(one_class, to_csv(positive));
    r = run("train --train " + one_class + opts);
    BOOST_CHECK_EQUAL(r.code, 1);
    BOOST_CHECK_EQUAL(r.err, "textcnn train: " + one_class + ": only one class ('pos' on all 20 documents); a classifier "
                             "needs at least two\n");

    const std::string header_only = scratch("header_only.csv");
    write_text(header_only, "label,text\n");
    r = run("train --train " + header_only + opts);
    BOOST_CHECK_EQUAL(r.code, 1);
    BOOST_CHECK_EQUAL(r.err, "textcnn train: " + header_only + ": no documents\n");
    // A validation share that rounds to no document would silently switch off model selection.
    r = run("train --train " + t.train_csv + " --validation-split 0.001" + opts);
    BOOST_CHECK_EQUAL(r.code, 1);
    BOOST_CHECK_MESSAGE(r.err.rfind("textcnn train: " + t.train_csv + ": a validation split of 0.001 holds out no document of ", 0) == 0, r.err);
    // An empty dev file would silently switch off model selection.
    r = run("train --train " + t.train_csv + " --dev " + header_only + opts);
    BOOST_CHECK_EQUAL(r.code, 1);
    BOOST_CHECK(r.err.rfind("textcnn train: " + header_only + ": no documents", 0) == 0);
    const std::string empty = scratch("zero_bytes.csv");
    write_text(empty, "");
    r = run("train --train " + empty + opts);
    BOOST_CHECK_EQUAL(r.code, 1);
    BOOST_CHECK_EQUAL(r.err, "textcnn train: " + empty + ": the file is empty: expected a header row\n");
    // A dev label the training data never had.
    auto dev_rows = make_rows(10, 2);
    dev_rows[4].label = "meh";
    const std::string dev = scratch("dev_unknown_label.csv");
    write_text(dev, to_csv(dev_rows));
    r = run("train --train " + t.train_csv + " --dev " + dev + opts);
    BOOST_CHECK_EQUAL(r.code, 1);
    BOOST_CHECK_EQUAL(r.err, "textcnn train: " + dev +
                                 ":6: label 'meh' does not occur in the training data (labels: neg, pos)\n");
    BOOST_CHECK(!std::filesystem::exists(model));
    // Labelled data whose format the name cannot tell: the error names the option that can.
    const std::string as_text = scratch("labelled.txt");
    write_text(as_text, to_csv(make_rows(40, 3)));
    r = run("train --train " + as_text + opts);
    BOOST_CHECK_EQUAL(r.code, 2);
    BOOST_CHECK_EQUAL(r.err, "textcnn train: " + as_text + ": its name does not end in .csv, .tsv or .ft, so it "
                             "would be read as plain text, which has no labels; add --input-format csv, tsv or "
                             "fasttext\nRun with --help for more information.\n");
    r = run("train --train -" + opts, as_text);
    BOOST_CHECK_EQUAL(r.code, 2);
    BOOST_CHECK_MESSAGE(r.err.find("<stdin>: standard input has no name to tell its format by") != std::string::npos, r.err);
    BOOST_CHECK_EQUAL(run("eval --model " + t.model + " --data -", as_text).code, 2);
    r = run("train --train - --input-format csv" + opts, as_text);
    BOOST_CHECK_MESSAGE(r.code == 0, r.err);
    BOOST_CHECK(std::filesystem::remove(model));
    // Usage errors.
    BOOST_CHECK_EQUAL(run("train --train " + t.train_csv + opts + " --no-such-option").code, 2);
    BOOST_CHECK_EQUAL(run("train --train " + t.train_csv + opts + " --dropout 2").code, 2);
    BOOST_CHECK_EQUAL(run("").code, 2);
}

BOOST_AUTO_TEST_CASE(training_never_ends_in_a_broken_model_or_lost_work) {
    Trained& t = trained();
    // A learning rate that blows the weights up: the run stops with exit 1, names where, and
    // writes no model (an earlier model at that path stays as it was).
    const std::string model = scratch("diverged.model");
    write_text(model, "an earlier model");
    for (const std::string& options : {std::string(" --optimizer sgd --lr 1e30 --max-norm 0"), std::string(" --optimizer sgd --lr 1e12 --max-norm 0")}) {
        const Run r = run("train --train " + t.train_csv + " --model " + model +
                          " --embedding-dim 16 --maps 8 --epochs 3 --batch 10 --quiet" + options);
        BOOST_CHECK_EQUAL(r.code, 1);
        BOOST_CHECK_MESSAGE(contains(r.err, "textcnn train: trainer: the ") && contains(r.err, "try a lower learning rate"),
                            r.err);
        BOOST_CHECK_EQUAL(read_text(model), "an earlier model");
    }
    // Adadelta at --lr 1e8 (Kim's optimizer, the rate a typo gives): the weights stay finite for
    // a while but the loss explodes; that is divergence too, caught at its batch.
    const Run adadelta = run("train --train " + t.train_csv + " --model " + model +
                             " --embedding-dim 16 --maps 8 --batch 10 --quiet --lr 1e8");
    BOOST_CHECK_EQUAL(adadelta.code, 1);
    BOOST_CHECK_MESSAGE(contains(adadelta.err, "textcnn train: trainer: the training diverged at epoch ") &&
                            contains(adadelta.err, "beyond what any trained model reaches (1e+04); try a lower learning rate"),
                        adadelta.err);
    BOOST_CHECK_EQUAL(read_text(model), "an earlier model");
    // A model path that cannot be written fails before training, not after it.
    const std::string nowhere = scratch("no_such_dir") + "/m.model";
    const Run r = run("train --train " + t.train_csv + " --model " + nowhere + " " + tiny + " --quiet");
    BOOST_CHECK_EQUAL(r.code, 1);
    BOOST_CHECK_EQUAL(r.err, "textcnn train: --model " + nowhere + ": the directory " + scratch("no_such_dir") +
                                 " does not exist\n");
    // Options that cannot act without dev data are refused.
    BOOST_CHECK_EQUAL(run("train --train " + t.train_csv + " --model " + scratch("p.model") + " " + tiny + " --quiet --patience 2").code, 2);
    BOOST_CHECK_EQUAL(
        run("train --train " + t.train_csv + " --model " + scratch("p.model") + " " + tiny + " --quiet --validations-per-epoch 3").code, 2);
}

BOOST_AUTO_TEST_CASE(outputs_never_overwrite_inputs_or_each_other) {
    Trained& t = trained();
    const std::string data = scratch("overwrite.csv");
    write_text(data, read_text(t.train_csv));
    const std::string before = read_text(data);
    const std::string base = "train --train " + data + " " + tiny + " --quiet";
    const std::string model = scratch("overwrite.model");
    // Each refused before anything is read or written (exit 2), the data left as it was.
    for (const auto& [options, message] : std::vector<std::pair<std::string, std::string>>{
             {" --model " + data, "--model " + data + " is also --train: the output would overwrite it"},
             {" --model " + model + " --log-json " + data, "--log-json " + data + " is also --train: the output would overwrite it"},
             {" --model " + model + " --dev " + data + " --report " + data,
              "--report " + data + " is also --train: the output would overwrite it"},
             {" --model " + model + " --checkpoint " + model,
              "--checkpoint " + model + " is also --model: one output would overwrite the other"},
             {" --model " + model + " --report " + model, "--report " + model + " is also --model: one output would overwrite the other"},
             {" --model " + data + ".ckpt --checkpoint " + data, "--checkpoint " + data + " is also --train: the output would overwrite it"}}) {
        const Run r = run(base + options);
        BOOST_CHECK_EQUAL(r.code, 2);
        BOOST_CHECK_MESSAGE(contains(r.err, "textcnn train: " + message + "\n"), r.err);
        BOOST_CHECK_EQUAL(read_text(data), before);
    }
    // A directory where a file is to be written fails before training.
    const Run dir = run(base + " --model " + scratch(""));
    BOOST_CHECK_EQUAL(dir.code, 1);
    BOOST_CHECK_MESSAGE(contains(dir.err, ": is a directory; the file to write needs a name"), dir.err);
    // Standard input redirected from the file an output names; a dangling link to another
    // output; an output named "-" (not standard output: refused, ./- is a file of that name).
    const Run piped = run("train --train - --input-format csv " + tiny + " --quiet --model " + data, data);
    BOOST_CHECK_EQUAL(piped.code, 2);
    BOOST_CHECK_MESSAGE(contains(piped.err, "--model " + data + " is also --train (standard input): the output would "
                                            "overwrite it"),
                        piped.err);
    const std::string link = scratch("dangling.jsonl"), target = scratch("target.html");
    std::filesystem::remove(link);
    std::filesystem::remove(target);
    std::filesystem::create_symlink(target, link);
    const Run dangling = run(base + " --model " + model + " --log-json " + link + " --report " + target);
    BOOST_CHECK_EQUAL(dangling.code, 2);
    BOOST_CHECK_MESSAGE(contains(dangling.err, "--report " + target + " is also --log-json: one output would overwrite"),
                        dangling.err);
    const bool had_dash = std::filesystem::exists("-");  // another run's leftover, if any
    for (const std::string option : {"--model", "--log-json", "--report"}) {
        const Run dash = run(base + (option == "--model" ? "" : " --model " + model) + " " + option + " -");
        BOOST_CHECK_EQUAL(dash.code, 2);
        BOOST_CHECK_MESSAGE(contains(dash.err, option + " -: this output is a file, not standard output; give it a "
                                                        "name (./- for a file named '-')"),
                            dash.err);
    }
    BOOST_CHECK_EQUAL(std::filesystem::exists("-"), had_dash);
    // A character device or FIFO is written into, never replaced by a file.
    const std::string fifo = scratch("report.fifo");
    std::filesystem::remove(fifo);
    BOOST_REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    std::thread reader([&] { (void)read_text(fifo); });
    const Run into_fifo = run(base + " --model " + model + " --report " + fifo);
    reader.join();
    BOOST_CHECK_EQUAL(into_fifo.code, 0);
    BOOST_CHECK(std::filesystem::is_fifo(fifo));
    // A finished run removes its checkpoint only if the file there is one: never a model or data.
    const std::string keep = scratch("keep.model");
    write_text(keep, read_text(t.model));
    const Run finished = run(base + " --model " + model + " --checkpoint " + keep);
    BOOST_CHECK_EQUAL(finished.code, 0);
    BOOST_CHECK_EQUAL(read_text(keep), read_text(t.model));
    // split: an output over its input or the other output, and a share that empties a side.
    const Run over = run("split --data " + data + " --train-out " + data + " --test-out " + scratch("b.csv"));
    BOOST_CHECK_EQUAL(over.code, 2);
    BOOST_CHECK_MESSAGE(contains(over.err, "--train-out " + data + " is also --data"), over.err);
    std::filesystem::remove(scratch("a.csv"));
    const Run both = run("split --data " + data + " --train-out " + scratch("a.csv") + " --test-out " + scratch("a.csv"));
    BOOST_CHECK_EQUAL(both.code, 2);
    // A --test-out that cannot be written fails before --train-out is written.
    const Run nowhere = run("split --data " + data + " --train-out " + scratch("a.csv") + " --test-out " +
                            scratch("no_such_dir") + "/b.csv");
    BOOST_CHECK_EQUAL(nowhere.code, 1);
    BOOST_CHECK(!std::filesystem::exists(scratch("a.csv")));
    // Found by a new-user run: TSV parts written under .csv names, which then read as CSV.
    const Run renamed = run("split --data " + data + " --train-out " + scratch("a.tsv") + " --test-out " + scratch("b.csv"));
    BOOST_CHECK_EQUAL(renamed.code, 2);
    BOOST_CHECK_MESSAGE(contains(renamed.err, "--train-out " + scratch("a.tsv") +
                                                  ": the parts are written in the input's format (csv)"),
                        renamed.err);
    // So are CSV parts under a name read as plain text (train then refused them), unless the
    // input's format was given, not taken from its name.
    const Run text_named = run("split --data " + data + " --train-out " + scratch("a.txt") + " --test-out " + scratch("b.csv"));
    BOOST_CHECK_EQUAL(text_named.code, 2);
    BOOST_CHECK_MESSAGE(contains(text_named.err, "--train-out " + scratch("a.txt") +
                                                     ": the parts are written in the input's format (csv), which this "
                                                     "name's extension does not announce; name it .csv"),
                        text_named.err);
    BOOST_CHECK_EQUAL(run("split --data " + data + " --input-format csv --train-out " + scratch("a.txt") +
                          " --test-out " + scratch("b.txt"))
                          .code,
                      0);
    const std::string small = scratch("small.csv");
    write_text(small, "label,text\npos,one\npos,two\npos,three\nneg,four\nneg,five\nneg,six\n");
    const Run empty = run("split --data " + small + " --train-out " + scratch("a.csv") + " --test-out " + scratch("b.csv") +
                          " --test-share 0.01");
    BOOST_CHECK_EQUAL(empty.code, 1);
    BOOST_CHECK_MESSAGE(contains(empty.err, "--test-share 0.01 leaves the test part empty (6 training and 0 test") &&
                            contains(empty.err, "nothing written"),
                        empty.err);
    BOOST_CHECK(!std::filesystem::exists(scratch("a.csv")));
    BOOST_CHECK_EQUAL(read_text(data), before);
}

// What the validation documents cannot tell is said before training: dev data that repeats
// training texts, a label with no validation document, tokens the vocabulary does not know.
BOOST_AUTO_TEST_CASE(validation_data_that_cannot_judge_the_model_is_named) {
    Trained& t = trained();
    const std::string model = scratch("judged.model"), dev = scratch("judge_dev.csv");
    const std::vector<Row> train_rows = make_rows(300, 1);
    std::vector<Row> rows(train_rows.begin(), train_rows.begin() + 20);  // training lines 2-21
    write_text(dev, to_csv(rows));
    const std::string one_epoch = "--embedding-dim 16 --maps 8 --epochs 1 --batch 10 --seed 1";
    const std::string train = "train --train " + t.train_csv + " --model " + model + " " + one_epoch + " --dev ";
    Run r = run(train + dev);
    BOOST_CHECK_EQUAL(r.code, 0);
    BOOST_CHECK_MESSAGE(contains(r.err, "warning: " + dev + ": 20 of 20 documents repeat a training document's text (first: "
                                        "line 2, training line 2): the validation accuracy that picks the model is "
                                        "partly measured on memorised texts\n"),
                        r.err);
    std::vector<Row> only_pos;
    for (const auto& row : make_rows_apart(40, 8, train_rows))
        if (row.label == "pos") only_pos.push_back(row);
    write_text(dev, to_csv(only_pos));
    r = run(train + dev);
    BOOST_CHECK_MESSAGE(contains(r.err, "warning: " + dev + ": no document of label 'neg' (1 of 2 labels): the validation "
                                        "accuracy that picks the model says nothing of it\n"),
                        r.err);
    BOOST_CHECK(!contains(r.err, "repeat a training document"));
    // Options that act, but not as one would think.
    r = run(train + dev + " --patience 3 --subword-buckets 10");
    BOOST_CHECK_MESSAGE(contains(r.err, "warning: --patience 3 with --epochs 1: the run ends before 3 epochs without a "
                                        "better dev accuracy can follow the best one, so early stopping cannot act\n"),
                        r.err);
    BOOST_CHECK_MESSAGE(contains(r.err, "warning: --subword-buckets 10: with --min-count 1 (and no --max-vocab) every "
                                        "training word is in the vocabulary, so the subword vectors never train"),
                        r.err);
    BOOST_CHECK(!contains(run(train + dev + " --subword-buckets 10 --min-count 2").err, "--subword-buckets 10:"));
    // More validations per epoch than batches: one after each batch.
    r = run(train + dev + " --validations-per-epoch 50");
    BOOST_CHECK_MESSAGE(contains(r.err, "warning: 50 validations per epoch were asked for, but an epoch has 30 batches: "
                                        "the validation runs after each batch, 30 times per epoch\n"),
                        r.err);
    BOOST_CHECK(!contains(run(train + dev + " --validations-per-epoch 30").err, "validations per epoch were asked"));
    // Classes tenfold apart: accuracy rewards the larger one (no warning with balanced weights).
    std::vector<Row> skewed;
    for (const auto& row : train_rows)
        if (row.label == "pos" || skewed.size() % 12 == 0) skewed.push_back(row);
    const std::string skewed_csv = scratch("skewed.csv");
    write_text(skewed_csv, to_csv(skewed));
    std::size_t negatives = 0;
    for (const auto& row : skewed) negatives += row.label == "neg";
    BOOST_REQUIRE_GE(150u, 10 * negatives);
    r = run("train --train " + skewed_csv + " --model " + model + " " + one_epoch);
    BOOST_CHECK_MESSAGE(contains(r.err, "warning: " + skewed_csv + ": the classes are imbalanced: 'neg' has " +
                                            std::to_string(negatives) + " training documents, 'pos' 150 (") &&
                            contains(r.err, "x as many); accuracy rewards predicting the larger class"),
                        r.err);
    r = run("train --train " + skewed_csv + " --model " + model + " " + one_epoch + " --class-weight balanced");
    BOOST_CHECK(!contains(r.err, "imbalanced"));
    // Texts of punctuation alone, with punctuation dropped: not empty as read, empty as seen.
    std::vector<Row> marks = train_rows;
    marks[3].text = "?!";
    marks[9].text = "...";
    const std::string marks_csv = scratch("marks.csv");
    write_text(marks_csv, to_csv(marks));
    r = run("train --train " + marks_csv + " --punctuation drop --model " + model + " " + one_epoch);
    BOOST_CHECK_MESSAGE(contains(r.err, "warning: " + marks_csv + ": 2 of 300 texts give no token once tokenized (first: "
                                        "line 5); punctuation is dropped, so a text of punctuation alone has none: the "
                                        "model reads them as empty\n"),
                        r.err);
    // A text column that holds identifiers: nearly every validation token is unknown.
    std::string ids = "id,label,text\n";
    for (int i = 0; i < 150; ++i) ids += std::to_string(5000 + i) + "," + (i % 2 ? "pos" : "neg") + ",a film number " +
                                        std::to_string(i) + "\n";
    const std::string by_id = scratch("by_id.csv");
    write_text(by_id, ids);
    r = run("train --train " + by_id + " --text-column id --validation-split 0.2 --model " + model + " " + one_epoch);
    BOOST_CHECK_MESSAGE(contains(r.err, "warning: " + by_id + ": 150 of 150 texts are a number and nothing else (first: line "
                                        "2): is the text column the right one?\n"),
                        r.err);
    BOOST_CHECK_MESSAGE(contains(r.err, "warning: validation split: 100.0 % of the tokens are unknown to the vocabulary of "
                                        "the training data: does the text column hold the same kind of text in both "
                                        "(--text-column)?\n"),
                        r.err);
}

BOOST_AUTO_TEST_CASE(eval_trims_labels_as_training_does) {
    Trained& t = trained();
    const std::string data = scratch("eval_trim.csv");
    write_text(data, "label,text\npos ,a good film\nPos,a good film\n neg,a dull film\n\u200Bneg\u3000,a flat film\n");
    const Run r = run("eval --model " + t.model + " --data " + data);
    BOOST_CHECK_EQUAL(r.code, 0);
    BOOST_CHECK_MESSAGE(contains(r.err, "warning: " + data + ": 3 labels had white space or invisible characters "
                                        "(zero-width spaces, byte-order marks...) around them and were trimmed (first: line 2)"),
                        r.err);
    const std::string alike_note = "which reads the same (letter case, Unicode form, width or invisible characters "
                                   "differ))";
    BOOST_CHECK_MESSAGE(contains(r.err, "(first: " + data + ":3: label 'Pos'; the model has 'pos', " + alike_note), r.err);
    // A label that differs by a code point that does not show is shown with it spelled out; so
    // is one in another character width (full-width 'ｐｏｓ').
    write_text(data, "label,text\np\u200Bos,a good film\npos,a good film\n");
    const Run hidden = run("eval --model " + t.model + " --data " + data);
    BOOST_CHECK_MESSAGE(contains(hidden.err, "(first: " + data + ":2: label 'p<U+200B>os'; the model has 'pos', " + alike_note),
                        hidden.err);
    write_text(data, "label,text\n\uFF50\uFF4F\uFF53,a good film\npos,a good film\n");
    const Run wide = run("eval --model " + t.model + " --data " + data);
    BOOST_CHECK_MESSAGE(contains(wide.err, "label '\uFF50\uFF4F\uFF53'; the model has 'pos', " + alike_note), wide.err);
    // Two labels that look alike ("very good" with a space and with a no-break space) get rows
    // that do not: eval's table spells out what does not show.
    const std::string alike = scratch("alike.csv"), alike_model = scratch("alike.model");
    write_text(alike, "label,text\nvery\u00A0good,a good film\nvery good,fine\nbad,a dull film\nbad,dull\n"
                      "very good,good\nvery\u00A0good,great\n");
    BOOST_REQUIRE_EQUAL(run("train --train " + alike + " --model " + alike_model +
                            " --epochs 1 --embedding-dim 8 --maps 4 --quiet --threads 1").code, 0);
    const Run table = run("eval --model " + alike_model + " --data " + alike);
    BOOST_CHECK_EQUAL(table.code, 0);
    BOOST_CHECK_MESSAGE(contains(table.out, "very<U+00A0>good ") && contains(table.out, "very good "), table.out);
}

BOOST_AUTO_TEST_CASE(malformed_csv_names_the_line) {
    const std::string model = scratch("never.model");
    const std::string opts = " --model " + model + " --embedding-dim 16 --maps 8 --epochs 1 --quiet";
    const std::string good = to_csv(make_rows(10, 1));  // header + 10 rows: lines 1..11

    const std::string extra_field = scratch("extra_field.csv");
    write_text(extra_field, good + "pos,a great film,5\n" + to_csv(make_rows(4, 2)).substr(11));
    Run r = run("train --train " + extra_field + opts);
    BOOST_CHECK_EQUAL(r.code, 1);
    BOOST_CHECK_EQUAL(r.err, "textcnn train: " + extra_field + ":12: expected 2 fields, found 3\n");
    // --skip-bad-rows trains anyway and says what it skipped.
    r = run("train --train " + extra_field + opts + " --skip-bad-rows");
    BOOST_CHECK_EQUAL(r.code, 0);
    BOOST_CHECK(contains(r.err, "skipped 1 bad row"));
    BOOST_CHECK(contains(r.err, extra_field + ":12: expected 2 fields, found 3"));

    const std::string open_quote = scratch("open_quote.csv");
    write_text(open_quote, good + "pos,\"a great film\n");
    r = run("train --train " + open_quote + opts);
    BOOST_CHECK_EQUAL(r.code, 1);
    BOOST_CHECK_EQUAL(r.err, "textcnn train: " + open_quote +
                                 ":12: unbalanced quote: the quoted field 2 that opens on line 12 is still open at the "
                                 "end of the file\n");
}

BOOST_AUTO_TEST_CASE(invalid_utf8_names_the_offset) {
    Trained& t = trained();
    const std::string model = scratch("utf8.model");
    const std::string opts = " --model " + model + " --embedding-dim 16 --maps 8 --epochs 1 --quiet";
    const std::string head = to_csv(make_rows(10, 1));
    const std::string path = scratch("invalid_utf8.csv");
    write_text(path, head + "pos,a gr\xFF" "eat film\n" + "neg,awful\n");
    const std::size_t offset = head.size() + std::string("pos,a gr").size();
    Run r = run("train --train " + path + opts);
    BOOST_CHECK_EQUAL(r.code, 1);
    BOOST_CHECK_EQUAL(r.err, fmt::format("textcnn train: {}:12: invalid UTF-8 at byte {} (0xff 0x65)\n", path, offset));
    r = run("train --train " + path + opts + " --invalid-utf8 replace");
    BOOST_CHECK_EQUAL(r.code, 0);
    BOOST_CHECK(contains(r.err, "replaced 1 invalid UTF-8 sequence with U+FFFD"));
    BOOST_CHECK_EQUAL(TextClassifier::load(model).metadata.at("training_documents"), "12");

    // predict: the same, and with replace still one line per input line.
    const std::string text = scratch("invalid_utf8.txt");
    write_text(text, "great\n\xC3\x28 film\n\nawful\n");
    r = run("predict --quiet --model " + t.model + " " + text);
    BOOST_CHECK_EQUAL(r.code, 1);
    BOOST_CHECK_EQUAL(r.err, "textcnn predict: " + text + ":2: invalid UTF-8 at byte 6 (0xc3 0x28)\n");
    r = run("predict --quiet --invalid-utf8 replace --model " + t.model + " " + text);
    BOOST_CHECK_EQUAL(r.code, 0);
    BOOST_CHECK_EQUAL(lines_of(r.out).size(), 4u);
}

BOOST_AUTO_TEST_CASE(broken_and_foreign_model_files) {
    Trained& t = trained();
    const std::string bytes = read_text(t.model);
    BOOST_REQUIRE_GT(bytes.size(), 1000u);
    // Truncated at several offsets: in the magic, the header, a section header, a payload, the checksum.
    for (std::size_t n : {std::size_t{0}, std::size_t{5}, std::size_t{8}, std::size_t{14}, std::size_t{20},
                          std::size_t{100}, bytes.size() / 2, bytes.size() - 9, bytes.size() - 1}) {
        const std::string path = scratch(fmt::format("cut_at_{}.model", n));
        write_text(path, bytes.substr(0, n));
        for (const char* command : {"summary", "predict --quiet"}) {
            const Run r = run(std::string(command) + " --model " + path, t.dev_csv);
            const std::string prefix = "textcnn " + split(command, ' ')[0] + ": " + path + ": ";
            BOOST_CHECK_MESSAGE(r.code == 1, command << " on a file cut at " << n << ": exit " << r.code);
            BOOST_CHECK_MESSAGE(r.err.rfind(prefix, 0) == 0 && lines_of(r.err).size() == 1,
                                command << " on a file cut at " << n << ": " << r.err);
            BOOST_CHECK_EQUAL(r.out, "");
        }
    }
    // A flipped byte in the weights.
    std::string flipped = bytes;
    flipped[bytes.size() / 2] ^= 0x04;
    const std::string flipped_path = scratch("flipped.model");
    write_text(flipped_path, flipped);
    Run r = run("eval --model " + flipped_path + " --data " + t.dev_csv);
    BOOST_CHECK_EQUAL(r.code, 1);
    BOOST_CHECK_EQUAL(r.err, "textcnn eval: " + flipped_path + ": checksum mismatch: the file is corrupt\n");
    // A text file.
    r = run("predict --model " + t.train_csv, t.dev_csv);
    BOOST_CHECK_EQUAL(r.code, 1);
    BOOST_CHECK_EQUAL(r.err, "textcnn predict: " + t.train_csv +
                                 ": not a textcnn model file (it does not start with \"TEXTCNN\\x1a\")\n");
    // A network without text sections (what an image model is).
    const std::string network_only = scratch("network_only.model");
    write_network(network_only, t.library_model->network());
    r = run("summary --model " + network_only);
    BOOST_CHECK_EQUAL(r.code, 1);
    BOOST_CHECK_EQUAL(r.err, "textcnn summary: " + network_only +
                                 ": not a text model (no 'TOKN' section; an image model is used with imagecnn)\n");
    // A model from a newer textcnn: format version 2.
    std::string newer = bytes;
    newer[8] = 2;
    const std::string newer_path = scratch("newer.model");
    write_text(newer_path, newer);
    r = run("summary --model " + newer_path);
    BOOST_CHECK_EQUAL(r.code, 1);
    BOOST_CHECK_EQUAL(r.err, "textcnn summary: " + newer_path +
                                 ": format version 2 is newer than this build supports (1)\n");
    // A checkpoint is a model file too: summary and predict read it.
    const std::string ckpt = scratch("library.ckpt");
    if (std::filesystem::exists(ckpt)) BOOST_CHECK_EQUAL(run("summary --model " + ckpt).code, 0);
}

// --- hostile input (issue 15) ---------------------------------------------------------------------

// A model whose stored architecture claims an embedding of 9114861777597660799 dimensions (the
// parameter count wrapped around to what the weights held; predict died with SIGSEGV), or of
// 2^24 + 1 (11 GB and 20 s before an error): refused at once, exit 1, naming file and setting.
BOOST_AUTO_TEST_CASE(forged_model_dimensions) {
    Trained& t = trained();
    for (const std::string dim : {"9114861777597660799", "16777217"}) {
        ModelFile file = read_model_file(t.model);
        const ModelSection* arch = file.find("ARCH");
        BOOST_REQUIRE(arch);
        std::string json(arch->payload.begin(), arch->payload.end());
        const std::string stored = "\"dim\":\"16\"";
        BOOST_REQUIRE_MESSAGE(contains(json, stored), json);
        json.replace(json.find(stored), stored.size(), "\"dim\":\"" + dim + "\"");
        file.set("ARCH", arch->version, {json.begin(), json.end()});
        const std::string path = scratch("forged_dim.model");
        write_model_file(path, file);  // a valid checksum: the numbers reach the parsers
        for (const char* command : {"summary", "predict --quiet --threads 1"}) {
            const Run r = run(std::string(command) + " --model " + path, t.dev_csv);
            BOOST_CHECK_EQUAL(r.code, 1);
            BOOST_CHECK_EQUAL(r.err, "textcnn " + split(command, ' ')[0] + ": " + path +
                                         ": the stored architecture cannot be built: embedding 'embedding': setting "
                                         "'dim' is " + dim + ", above the limit of 16777216\n");
            BOOST_CHECK_EQUAL(r.out, "");
        }
    }
}

// An error names the file it is about, and a file's name can hold an escape sequence: it
// reached the terminal raw (it could set the title, or hide the message).
BOOST_AUTO_TEST_CASE(errors_escape_the_control_characters_of_the_names_they_give) {
    Trained& t = trained();
    const std::string named = scratch("title\x1b]0;owned\x07.model");
    const Run r = run("predict --model '" + named + "'", t.dev_csv);
    BOOST_CHECK_EQUAL(r.code, 1);
    BOOST_CHECK_MESSAGE(contains(r.err, scratch("title\\x1b]0;owned\\x07.model") + ": cannot open: No such file"), r.err);
    BOOST_CHECK(r.err.find('\x1b') == std::string::npos && r.err.find('\x07') == std::string::npos);
}

// Outputs named by descriptors (found by a helper's run): standard output carries train's
// result line, so an output there is refused (the model was followed by "saved ..."); a
// descriptor that is not open for writing is refused before training (it failed after);
// a model on a descriptor needs --checkpoint (MODEL.ckpt is no file); --log-json through
// /dev/fd/N appends, as `>>` (it truncated the file).
BOOST_AUTO_TEST_CASE(training_outputs_named_by_descriptors) {
    Trained& t = trained();
    const std::string base = "train --train " + t.train_csv + " --embedding-dim 8 --maps 4 --epochs 1 --quiet ";
    for (const std::string option : {"--model", "--report", "--log-json"}) {
        const Run r = run(base + (option == "--model" ? "" : "--model " + scratch("fd.model") + " ") + option +
                          " /dev/stdout");
        BOOST_CHECK_EQUAL(r.code, 2);
        BOOST_CHECK_MESSAGE(contains(r.err, option + " /dev/stdout: standard output carries the run's result"), r.err);
    }
    const Run closed = run(base + "--model /dev/fd/9 --checkpoint " + scratch("fd.ckpt"));
    BOOST_CHECK_EQUAL(closed.code, 1);
    BOOST_CHECK_MESSAGE(contains(closed.err, "--model /dev/fd/9: descriptor 9 is not open for writing"), closed.err);
    BOOST_CHECK(!contains(closed.err, "epoch"));
    const std::string kept = scratch("fd_model.bin");
    const Run no_checkpoint = run(base + "--model /dev/fd/3 3>" + kept);
    BOOST_CHECK_EQUAL(no_checkpoint.code, 2);
    BOOST_CHECK_MESSAGE(contains(no_checkpoint.err, "--model /dev/fd/3 names a descriptor") &&
                            contains(no_checkpoint.err, "give --checkpoint FILE"),
                        no_checkpoint.err);
    const Run on_descriptor = run(base + "--model /dev/fd/3 --checkpoint " + scratch("fd3.ckpt") + " 3>" + kept);
    BOOST_CHECK_EQUAL(on_descriptor.code, 0);
    BOOST_CHECK_EQUAL(TextClassifier::load(kept).labels().size(), 2u);
    const std::string log = scratch("fd_log.jsonl");
    write_text(log, "earlier line\n");
    const Run appended = run(base + "--model " + scratch("fd_log.model") + " --log-json /dev/fd/3 3>>" + log);
    BOOST_CHECK_EQUAL(appended.code, 0);
    BOOST_CHECK(read_text(log).starts_with("earlier line\n{"));
}

// A FIFO blocked forever, /dev/zero never ended, a directory read as an empty file.
BOOST_AUTO_TEST_CASE(models_and_vectors_must_be_regular_files) {
    Trained& t = trained();
    const std::string fifo = scratch("hostile.fifo");
    std::filesystem::remove(fifo);
    BOOST_REQUIRE_EQUAL(mkfifo(fifo.c_str(), 0600), 0);
    Run r = run("summary --model " + fifo);
    BOOST_CHECK_EQUAL(r.code, 1);
    BOOST_CHECK_EQUAL(r.err, "textcnn summary: " + fifo + ": not a regular file (a FIFO); a model file must be a regular file\n");
    r = run("predict --model /dev/zero", t.dev_csv);
    BOOST_CHECK_EQUAL(r.code, 1);
    BOOST_CHECK_EQUAL(r.err, "textcnn predict: /dev/zero: not a regular file (a character device); a model file must be a "
                             "regular file\n");
    const std::string opts = " --model " + scratch("never.model") + " --embedding-dim 16 --maps 8 --epochs 1 --quiet";
    r = run("train --train " + t.train_csv + " --embeddings " + fifo + opts);
    BOOST_CHECK_EQUAL(r.code, 1);
    BOOST_CHECK_EQUAL(r.err, "textcnn train: " + fifo + ": not a regular file (a FIFO); a vectors file must be a regular file\n");
    const std::string dir = scratch("vectors_dir");
    std::filesystem::create_directories(dir);
    r = run("train --train " + t.train_csv + " --embeddings " + dir + opts);
    BOOST_CHECK_EQUAL(r.code, 1);
    BOOST_CHECK_EQUAL(r.err, "textcnn train: " + dir + ": is a directory, not a vectors file\n");
    std::filesystem::remove(fifo);
}

// A vectors file that gives a word twice: the first vector is kept and the repeats counted.
BOOST_AUTO_TEST_CASE(repeated_vectors_are_counted) {
    Trained& t = trained();
    const std::string vectors = scratch("repeated.vec");
    std::string lines;
    for (const char* word : {"the", "was", "the", "zzz", "was", "the"}) lines += std::string(word) + " 0.5 -0.25 0.125 1\n";
    write_text(vectors, lines);
    const Run r = run("train --train " + t.train_csv + " --embeddings " + vectors + " --model " +
                      scratch("repeated.model") + " --embedding-dim 4 --maps 4 --epochs 1 --seed 1");
    BOOST_CHECK_EQUAL(r.code, 0);
    BOOST_CHECK_MESSAGE(contains(r.err, "warning: " + vectors + ": 3 vectors are for a word given before (first: 'the'); "
                                        "the first vector of each word was kept"),
                        r.err);
}

// Vectors of another dimension than the embedding: the option that sets it is named, with the
// vectors' dimension (it was "file has dim 4, model expects 16"), as a usage error, alone and in
// an ensemble.
BOOST_AUTO_TEST_CASE(vectors_of_another_dimension_name_the_option) {
    Trained& t = trained();
    const std::string vectors = scratch("four.vec");
    write_text(vectors, "the 0.5 -0.25 0.125 1\nwas 1 2 3 4\n");
    for (const std::string extra : {"", " --ensemble 2"}) {
        const Run r = run("train --train " + t.train_csv + " --embeddings " + vectors + " --model " +
                          scratch("four.model") + " --embedding-dim 16 --maps 4 --epochs 1 --quiet" + extra);
        BOOST_CHECK_EQUAL(r.code, 2);
        BOOST_CHECK_MESSAGE(contains(r.err, "textcnn train: " + vectors + ": the vectors have 4 dimensions, the model's "
                                            "embedding 16: they must be equal (--embedding-dim 4 gives the embedding "
                                            "theirs)\n"),
                            r.err);
    }
}

// Vectors for none of the training words: a warning (even with --quiet), an error for a static
// embedding, which would stay random (found by a new-user run: both trained unsaid).
BOOST_AUTO_TEST_CASE(vectors_for_no_training_word_are_said) {
    Trained& t = trained();
    const std::string vectors = scratch("strangers.vec");
    write_text(vectors, "zzqx 0.5 -0.25 0.125 1\nqqzy 1 2 3 4\n");
    const std::string args = "train --train " + t.train_csv + " --embeddings " + vectors + " --model " +
                             scratch("strangers.model") + " --embedding-dim 4 --maps 4 --epochs 1 --quiet";
    const Run warned = run(args);
    BOOST_CHECK_EQUAL(warned.code, 0);
    BOOST_CHECK_MESSAGE(contains(warned.err, "warning: " + vectors + ": none of the "), warned.err);
    BOOST_CHECK_MESSAGE(contains(warned.err, " words of the training data has a vector there (2 vectors read): the "
                                             "embedding starts random\n"),
                        warned.err);
    const Run refused = run(args + " --embedding-mode static");
    BOOST_CHECK_EQUAL(refused.code, 1);
    BOOST_CHECK_MESSAGE(contains(refused.err, "(2 vectors read): a static embedding would stay random\n"), refused.err);
}

// Options that could not act were taken without a word (found by a new-user run): column
// options and --no-header on input read as plain text or fastText lines, --prob beside --top.
BOOST_AUTO_TEST_CASE(options_that_cannot_act_are_refused) {
    Trained& t = trained();
    const std::string plain = scratch("plain_lines.txt");
    write_text(plain, "a fine film\na dull one\n");
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"predict --model " + t.model + " --text-column 2 " + plain,
         "textcnn predict: --text-column applies to CSV or TSV input; " + plain +
             " is read as plain text (by its name; --input-format csv or tsv reads it so)"},
        {"tokenize --no-header " + plain, "textcnn tokenize: --no-header applies to CSV or TSV input; " + plain +
                                              " is read as plain text (by its name; --input-format csv or tsv reads "
                                              "it so)"},
        {"predict --model " + t.model + " --input-format fasttext --label-column 1 " + plain,
         "textcnn predict: --label-column applies to CSV or TSV input; " + plain + " is read as fastText lines"},
        {"predict --model " + t.model + " --top 1 --prob " + plain, "textcnn predict: --prob excludes --top"},
    };
    for (const auto& [args, message] : cases) {
        const Run r = run(args);
        BOOST_CHECK_EQUAL(r.code, 2);
        BOOST_CHECK_EQUAL(r.out, "");
        BOOST_CHECK_MESSAGE(r.err.starts_with(message + "\n"), r.err);
    }
    // The same options where they act still work.
    BOOST_CHECK_EQUAL(run("predict --model " + t.model + " --input-format csv --no-header --text-column 1 " + plain).code, 0);
    // A label column named for predict or tokenize must exist (a typo read as "no labels").
    const std::string labelled = scratch("labelled.csv");
    write_text(labelled, "label,text\npos,a fine film\n");
    for (const std::string command : {"predict --model " + t.model, std::string("tokenize")}) {
        const Run r = run(command + " --label-column sentiment " + labelled);
        BOOST_CHECK_EQUAL(r.code, 1);
        BOOST_CHECK_MESSAGE(contains(r.err, labelled + ":1: no label column 'sentiment' (columns: 'label', 'text')"), r.err);
        BOOST_CHECK_EQUAL(run(command + " --label-column label " + labelled).code, 0);
    }
}

// report --eval with the evaluation of another model (other labels) drew it under this run's
// name (found by a new-user run); the run's own model's evaluation is taken.
BOOST_AUTO_TEST_CASE(report_refuses_the_evaluation_of_another_model) {
    Trained& t = trained();
    const Run e = run("eval --json --model " + t.model + " --data " + t.dev_csv);
    BOOST_REQUIRE_EQUAL(e.code, 0);
    const std::string own = scratch("own_eval.json"), other = scratch("other_eval.json");
    write_text(own, e.out);
    json j = json::parse(e.out);
    j["labels"] = json::array({"no", "yes"});
    j["per_class"] = json{{"no", j["per_class"]["neg"]}, {"yes", j["per_class"]["pos"]}};
    write_text(other, j.dump());
    BOOST_CHECK_EQUAL(run("report --log " + t.log + " --eval " + own + " -o " + scratch("own.html")).code, 0);
    const Run refused = run("report --log " + t.log + " --eval " + other + " -o " + scratch("other.html"));
    BOOST_CHECK_EQUAL(refused.code, 1);
    BOOST_CHECK_EQUAL(refused.err, "textcnn report: " + other + ": an evaluation of the labels no, yes, the run of " +
                                       t.log + " trained a model of the labels neg, pos: the evaluation of another "
                                       "model\n");
    BOOST_CHECK(!std::filesystem::exists(scratch("other.html")));
}

// `split` said only "write failed" and left its temporary file behind.
BOOST_AUTO_TEST_CASE(split_names_the_failed_write_and_cleans_up) {
    Trained& t = trained();
    const std::filesystem::path dir = scratch("split_target");
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir / "train.csv" / "inside");  // a non-empty directory in the way
    const Run r = run("split --data " + t.train_csv + " --train-out " + (dir / "train.csv").string() + " --test-out " +
                      (dir / "test.csv").string());
    BOOST_CHECK_EQUAL(r.code, 1);
    BOOST_CHECK_EQUAL(r.err, "textcnn split: --train-out " + (dir / "train.csv").string() +
                                 ": is a directory; the file to write needs a name\n");
    std::size_t temporaries = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir))
        temporaries += contains(entry.path().filename().string(), ".tmp");
    BOOST_CHECK_EQUAL(temporaries, 0u);
}

// Issue 11: split dropped every column but label and text, wrote CSV into .ft files, and put
// copies of one text on both sides (a test set that repeats training texts).
// split runs training's data checks: labels trimmed for the strata and warned about, as train
// would (before: 'pos ' made a stratum of its own, unsaid); the rows are written as read.
BOOST_AUTO_TEST_CASE(split_warns_about_labels_as_training_does) {
    std::string csv = "label,text\n";
    for (int i = 0; i < 30; ++i)
        csv += fmt::format("{},note {} of the week\n", i % 3 == 0 ? "neg" : i % 3 == 1 ? "pos" : i == 2 ? "Pos" : "pos ", i);
    const std::string in = scratch("split_labels.csv");
    write_text(in, csv);
    const Run r = run("split --data " + in + " --train-out " + scratch("sl_train.csv") + " --test-out " +
                      scratch("sl_test.csv") + " --test-share 0.2");
    BOOST_REQUIRE_MESSAGE(r.code == 0, r.err);
    BOOST_CHECK_MESSAGE(contains(r.err, "warning: " + in + ": 9 labels had white space or invisible characters"), r.err);
    BOOST_CHECK_MESSAGE(contains(r.err, "warning: " + in + ": labels 'Pos', 'pos' differ only in letter case"), r.err);
    const std::string written = read_text(scratch("sl_train.csv")) + read_text(scratch("sl_test.csv"));
    BOOST_CHECK(contains(written, "pos ,note 5 of the week"));  // the row as read
}

BOOST_AUTO_TEST_CASE(split_keeps_columns_format_and_identical_texts_together) {
    // 40 rows, an id column first and the label last; "the lamp was dim" four times with one
    // label, "an odd little tune" twice with two labels.
    std::string csv = "id,text,label\n";
    std::vector<std::string> texts;
    for (int i = 0; i < 40; ++i) {
        std::string text = i < 4 ? "the lamp was dim" : i < 6 ? "an odd little tune" : fmt::format("note {} of the day", i);
        if (i == 7) text = "a comma, and \"quotes\"";
        const std::string label = i < 4 ? "neg" : i % 2 ? "pos" : "neg";
        csv += fmt::format("{},{},{}\n", 100 + i, csv_field(text), label);
    }
    write_text(scratch("split_in.csv"), csv);
    for (std::uint64_t seed = 1; seed <= 6; ++seed) {
        const Run r = run(fmt::format("split --data {} --train-out {} --test-out {} --test-share 0.25 --seed {}",
                                      scratch("split_in.csv"), scratch("split_train.csv"), scratch("split_test.csv"), seed));
        BOOST_REQUIRE_MESSAGE(r.code == 0, r.err);
        BOOST_CHECK(contains(r.err, "4 documents repeat the text of an earlier one; identical texts were kept on one side"));
        BOOST_CHECK(contains(r.err, "warning: " + scratch("split_in.csv") + ": 1 text appears with different labels, e.g.\n"
                                    "  'an odd little tune' (lines 6, 7: neg, pos)\n"));
        const auto train_rows = read_all(scratch("split_train.csv"), {.require_label = true, .keep_fields = true});
        const auto test_rows = read_all(scratch("split_test.csv"), {.require_label = true, .keep_fields = true});
        BOOST_CHECK((train_rows.header == std::vector<std::string>{"id", "text", "label"}));
        BOOST_CHECK_EQUAL(train_rows.documents.size() + test_rows.documents.size(), 40u);
        std::set<std::string> train_texts, ids;
        for (const auto& d : train_rows.documents) {
            train_texts.insert(d.text);
            ids.insert(d.fields.at(0));
        }
        for (const auto& d : test_rows.documents) {
            BOOST_CHECK_MESSAGE(!train_texts.count(d.text), "seed " << seed << ": '" << d.text << "' on both sides");
            ids.insert(d.fields.at(0));
        }
        BOOST_CHECK_EQUAL(ids.size(), 40u);  // every id kept, once
    }
    // The quoted text survives exactly.
    const std::string both = read_text(scratch("split_train.csv")) + read_text(scratch("split_test.csv"));
    BOOST_CHECK(contains(both, ",\"a comma, and \"\"quotes\"\"\","));

    // TSV stays TSV, fastText stays fastText.
    write_text(scratch("split_in.tsv"), "label\ttext\tsource\npos\tbright and warm\tx\nneg\tcold and grey\ty\n"
                                        "pos\ta kind word\tz\nneg\ta sharp word\tw\n");
    Run r = run("split --data " + scratch("split_in.tsv") + " --train-out " + scratch("split_train.tsv") +
                " --test-out " + scratch("split_test.tsv") + " --test-share 0.5");
    BOOST_REQUIRE_MESSAGE(r.code == 0, r.err);
    BOOST_CHECK_EQUAL(lines_of(read_text(scratch("split_train.tsv")))[0], "label\ttext\tsource");
    BOOST_CHECK_EQUAL(lines_of(read_text(scratch("split_test.tsv"))).size(), 3u);
    write_text(scratch("split_in.ft"), "__label__pos bright and warm\n__label__neg cold and grey\n"
                                       "__label__pos a kind word\n__label__neg a sharp word\n");
    r = run("split --data " + scratch("split_in.ft") + " --train-out " + scratch("split_train.ft") + " --test-out " +
            scratch("split_test.ft") + " --test-share 0.5");
    BOOST_REQUIRE_MESSAGE(r.code == 0, r.err);
    for (const auto& line : lines_of(read_text(scratch("split_train.ft")) + read_text(scratch("split_test.ft"))))
        BOOST_CHECK_MESSAGE(line.rfind("__label__", 0) == 0, line);
}

// A second Ctrl-C while the checkpoint is written used to kill the program (the handler was
// reset first): no checkpoint, a .tmp.<pid> left. SIGINT now stays caught until the checkpoint
// is in place. Here SIGINT keeps coming every half millisecond from the first one to the end.
BOOST_AUTO_TEST_CASE(repeated_sigint_still_writes_the_checkpoint) {
    Trained& t = trained();
    const std::string model = scratch("sigint_storm.model");
    const std::string checkpoint = scratch("sigint_storm.ckpt");
    std::filesystem::remove(checkpoint);
    const std::vector<std::string> args = {program, "train", "--train", t.train_csv, "--model", model,
                                           "--embedding-dim", "16", "--maps", "8", "--epochs", "100000",
                                           "--batch", "10", "--seed", "1", "--checkpoint", checkpoint};
    const auto child = testing::start_with_stderr_pipe(args);
    const pid_t pid = child.first;
    const int err_fd = child.second;
    std::atomic<bool> done{false};
    std::optional<std::thread> storm;
    std::string err;
    char buffer[4096];
    ssize_t n;
    while ((n = read(err_fd, buffer, sizeof buffer)) > 0) {
        err.append(buffer, static_cast<std::size_t>(n));
        if (!storm && contains(err, "epoch 1/100000"))
            storm.emplace([&] {
                while (!done) {
                    kill(pid, SIGINT);
                    usleep(500);
                }
            });
    }
    close(err_fd);
    int status = 0;
    waitpid(pid, &status, 0);
    done = true;
    if (storm) storm->join();
    BOOST_REQUIRE_MESSAGE(storm.has_value(), "no epoch line seen: " << err);
    BOOST_REQUIRE_MESSAGE(WIFEXITED(status), "killed by signal " << (WIFSIGNALED(status) ? WTERMSIG(status) : 0));
    BOOST_CHECK_EQUAL(WEXITSTATUS(status), 130);
    BOOST_CHECK(std::filesystem::exists(checkpoint));
    BOOST_CHECK_NO_THROW(read_model_file(checkpoint));
    std::size_t temporaries = 0;
    for (const auto& entry : std::filesystem::directory_iterator(std::filesystem::path(checkpoint).parent_path()))
        temporaries += contains(entry.path().filename().string(), "sigint_storm.ckpt.tmp");
    BOOST_CHECK_EQUAL(temporaries, 0u);
}

BOOST_AUTO_TEST_CASE(max_length_cuts_at_prediction_as_at_training) {
    const std::string model = scratch("cut.model");
    const Run train = run("train --train " + trained().train_csv + " --model " + model + " " + tiny +
                          " --max-length 3 --quiet");
    BOOST_REQUIRE_MESSAGE(train.code == 0, train.err);
    BOOST_CHECK_MESSAGE(contains(train.err, "documents were cut to the maximum length of 3 tokens"), train.err);
    const Run summary = run("summary --model " + model);
    BOOST_CHECK_MESSAGE(contains(summary.out, "texts cut to their first 3 tokens"), summary.out);
    // The words after the third token change nothing, and stderr counts the cut documents.
    write_text(scratch("cut.txt"), "a superb film\na superb film awful awful dreadful\nsuperb\n");
    const Run p = run("predict --prob --format jsonl --model " + model + " " + scratch("cut.txt"));
    BOOST_REQUIRE_EQUAL(p.code, 0);
    const auto lines = lines_of(p.out);
    BOOST_REQUIRE_EQUAL(lines.size(), 3u);
    BOOST_CHECK_EQUAL(json::parse(lines[0]).at("probabilities").dump(), json::parse(lines[1]).at("probabilities").dump());
    BOOST_CHECK_MESSAGE(contains(p.err, "1 of 3 documents were longer than the model's maximum length and were cut to "
                                        "their first 3 tokens, as at training"),
                        p.err);
    // Out of range: a usage error before any work.
    const Run huge = run("train --train " + trained().train_csv + " --model " + scratch("huge.model") + " " + tiny +
                         " --max-length 99999999999 --quiet");
    BOOST_CHECK_EQUAL(huge.code, 2);
    BOOST_CHECK_MESSAGE(contains(huge.err, "at most 16777216"), huge.err);
}

// A CSV without a header row: read with one, its first document becomes the column names and
// every name is wrong; the warnings say so and point at --no-header, which reads it right.
BOOST_AUTO_TEST_CASE(headerless_csv_is_warned_about_and_read_with_no_header) {
    std::string body;
    for (const auto& r : make_rows(120, 7)) body += csv_field(r.label) + "," + csv_field(r.text) + "\n";
    const std::string headerless = scratch("headerless.csv");
    write_text(headerless, body);
    const std::string first_label = make_rows(1, 7)[0].label;
    // By position, with the header read as names: the header looks like data, and its label
    // name is a label of the data.
    Run r = run("train --train " + headerless + " --model " + scratch("h.model") + " " + tiny +
                " --label-column 1 --text-column 2 --quiet");
    BOOST_CHECK_MESSAGE(contains(r.err, "the header row looks like data (column names '"), r.err);
    BOOST_CHECK_MESSAGE(contains(r.err, "hint: --no-header reads a file without a header row"), r.err);
    BOOST_CHECK_MESSAGE(contains(r.err, "the label column's name in the header, '" + first_label + "', is also the label"),
                        r.err);
    // --no-header: every row is a document (label 1, text 2 by default); no such warning.
    r = run("train --train " + headerless + " --model " + scratch("h.model") + " " + tiny + " --no-header --quiet --json");
    BOOST_REQUIRE_MESSAGE(r.code == 0, r.err);
    BOOST_CHECK_EQUAL(json::parse(r.out).at("train_documents").get<int>(), 120);
    BOOST_CHECK_MESSAGE(!contains(r.err, "header"), r.err);
    // Names cannot choose a column without a header.
    r = run("train --train " + headerless + " --model " + scratch("h.model") + " " + tiny +
            " --no-header --text-column text --label-column 1 --quiet");
    BOOST_CHECK_EQUAL(r.code, 2);
    BOOST_CHECK_MESSAGE(contains(r.err, "without a header row columns are chosen by number (1 = the first), not by name "
                                        "('text')"),
                        r.err);
    // predict with an id column by number; split writes no header line either.
    write_text(scratch("headerless_ids.csv"), "17,a superb film\n18,an awful film\n");
    r = run("predict --quiet --no-header --text-column 2 --id-column 1 --model " + trained().model + " " +
            scratch("headerless_ids.csv"));
    BOOST_REQUIRE_MESSAGE(r.code == 0, r.err);
    BOOST_CHECK_EQUAL(r.out, "17\tpos\n18\tneg\n");
    r = run("split --no-header --data " + headerless + " --train-out " + scratch("h_train.csv") + " --test-out " +
            scratch("h_test.csv"));
    BOOST_REQUIRE_MESSAGE(r.code == 0, r.err);
    BOOST_CHECK_EQUAL(lines_of(read_text(scratch("h_train.csv"))).size() + lines_of(read_text(scratch("h_test.csv"))).size(),
                      120u);
}
