// textcnn and imagecnn as one program family (issue 11, section 6): the same option gives the
// same value list, message and exit code in both (--optimizer, --init, --format, "-" for standard
// input), both print their results alike (the final line, accuracy as a percentage for people and
// a fraction in JSON, numbers in JSON as numbers), and both end a Ctrl-C or SIGTERM the same way
// (the model so far, the checkpoint MODEL.ckpt, exit code 130 or 143). Inputs are written here.
#define BOOST_TEST_MODULE program_family
#include <boost/test/unit_test.hpp>

#include "program_runs.h"
#include "synthetic_images.h"
#include "test_helpers.h"

#include "textcnn/core/rng.h"
#include "textcnn/image/idx.h"
#include "textcnn/image/image_io.h"
#include "textcnn/nn/training_settings.h"

#include <nlohmann/json.hpp>

#include <csignal>
#include <filesystem>
#include <regex>
#include <set>
#include <string>
#include <vector>

using nlohmann::json;
using Run = textcnn::testing::ProgramRun;

namespace {

const std::string textcnn_program = std::string(TEXTCNN_BINARY_DIR) + "/textcnn";
const std::string imagecnn_program = std::string(TEXTCNN_BINARY_DIR) + "/imagecnn";

std::string scratch(const std::string& name) { return textcnn::testing::scratch_path("test_program_family_files", name); }

Run run(const std::string& program, const std::string& args, const std::string& input_file = "") {
    return textcnn::testing::run_program(program + " " + args, scratch("stderr.txt"), input_file);
}
Run text(const std::string& args, const std::string& input_file = "") { return run(textcnn_program, args, input_file); }
Run image(const std::string& args, const std::string& input_file = "") { return run(imagecnn_program, args, input_file); }

std::vector<std::string> lines_of(const std::string& s) {
    std::vector<std::string> lines;
    std::size_t start = 0;
    for (std::size_t end; (end = s.find('\n', start)) != std::string::npos; start = end + 1)
        lines.push_back(s.substr(start, end - start));
    return lines;
}

std::string joined(const std::vector<std::string>& names, const std::string& separator) {
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "" : separator) + n;
    return out;
}

// Labelled reviews, two words of a sentiment among neutral ones, and unlabelled texts.
void write_text_data() {
    const std::vector<std::string> good = {"good", "great", "fine", "lovely"}, bad = {"bad", "awful", "poor", "dull"};
    textcnn::Rng rng(3);
    std::string csv = "label,text\n", plain;
    for (int i = 0; i < 80; ++i) {
        const auto& words = i % 2 ? good : bad;
        const std::string sentence = "the film was " + words[rng.below(4)] + " and " + words[rng.below(4)] + " " +
                                     std::to_string(i);
        csv += std::string(i % 2 ? "pos," : "neg,") + sentence + "\n";
        if (i < 6) plain += sentence + "\n";
    }
    textcnn::testing::write_text(scratch("reviews.csv"), csv);
    textcnn::testing::write_text(scratch("texts.txt"), plain);
}

void write_image_data() {
    const auto shapes = textcnn::testing::make_shapes(150, 1);
    textcnn::write_file_bytes(scratch("images.idx"), textcnn::encode_idx_images(shapes.pixels, 150, 12, 12));
    textcnn::write_file_bytes(scratch("labels.idx"), textcnn::encode_idx_labels(shapes.labels));
    textcnn::write_png(scratch("first.png"),
                       textcnn::Image{12, 12, 1, std::vector<std::uint8_t>(shapes.pixels.begin(), shapes.pixels.begin() + 144)});
    textcnn::testing::write_text(scratch("arch.json"), textcnn::testing::small_architecture);
}

// The training options of both programs' tiny runs (`extra` after them), with a value of
// --init and --optimizer each program takes from the same library lists.
std::string text_train_args(const std::string& model, const std::string& extra) {
    return "train --train " + scratch("reviews.csv") + " --model " + model +
           " --embedding-dim 8 --maps 4 --batch 10 --validation-split 0.25 --seed 1 --init he_uniform "
           "--optimizer adam " + extra;
}
std::string image_train_args(const std::string& model, const std::string& extra) {
    return "train --images " + scratch("images.idx") + " --labels " + scratch("labels.idx") + " --arch-file " +
           scratch("arch.json") + " --class-names a,b,c --batch 16 --seed 1 --init he_uniform --optimizer adam --model " +
           model + " " + extra;
}

struct Trained {
    std::string text_model = scratch("text.model"), image_model = scratch("image.model");
    Run text_train, image_train;
    Trained() {
        write_text_data();
        write_image_data();
        text_train = text(text_train_args(text_model, "--epochs 2 --quiet --json"));
        image_train = image(image_train_args(image_model, "--epochs 2 --quiet --json"));
    }
};
const Trained& trained() {
    static const Trained t;
    BOOST_REQUIRE_MESSAGE(t.text_train.code == 0, "textcnn train: " << t.text_train.err);
    BOOST_REQUIRE_MESSAGE(t.image_train.code == 0, "imagecnn train: " << t.image_train.err);
    return t;
}

// Every string in `j` (keys aside) that reads as a JSON number: a number printed as a string.
void collect_numbers_as_strings(const json& j, const std::string& where, std::vector<std::string>& found) {
    if (j.is_string()) {
        if (json::parse(j.get<std::string>(), nullptr, false).is_number()) found.push_back(where + " = " + j.dump());
    } else if (j.is_object()) {
        for (const auto& [key, value] : j.items()) collect_numbers_as_strings(value, where + "." + key, found);
    } else if (j.is_array()) {
        for (std::size_t i = 0; i < j.size(); ++i) collect_numbers_as_strings(j[i], where + "[" + std::to_string(i) + "]", found);
    }
}
void check_numbers_are_numbers(const json& j, const std::string& what) {
    std::vector<std::string> found;
    collect_numbers_as_strings(j, what, found);
    BOOST_CHECK_MESSAGE(found.empty(), what << ": numbers as strings: " << joined(found, ", "));
}

// A usage error as both programs print it: "<program> <command>: <message>", the help hint, exit 2.
void check_usage_error(const Run& r, const std::string& command, const std::string& message) {
    BOOST_CHECK_EQUAL(r.code, 2);
    BOOST_CHECK_EQUAL(r.err, command + ": " + message + "\nRun with --help for more information.\n");
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_bad_optimizer_or_format_gets_the_same_message_and_exit_code) {
    const std::string optimizer = "--optimizer: unknown optimizer 'adagrad' (known: " +
                                  joined(textcnn::OptimizerSettings::names(), ", ") + ")";
    BOOST_CHECK_EQUAL(optimizer, "--optimizer: unknown optimizer 'adagrad' (known: adadelta, adam, rmsprop, sgd)");
    check_usage_error(text("train --train a.csv --model m --optimizer adagrad"), "textcnn train", optimizer);
    check_usage_error(image("train --images a --labels b --model m --optimizer adagrad"), "imagecnn train", optimizer);

    const std::string format = "--format: unknown format 'xml' (known: tsv, csv, jsonl)";
    check_usage_error(text("predict --model m --format xml a.txt"), "textcnn predict", format);
    check_usage_error(image("predict --model m --format xml a.png"), "imagecnn predict", format);

    // The help lists the same values.
    for (const auto& program : {textcnn_program, imagecnn_program}) {
        BOOST_CHECK_MESSAGE(run(program, "train --help").out.find("adadelta | adam | rmsprop | sgd") != std::string::npos,
                            program);
        BOOST_CHECK_MESSAGE(run(program, "predict --help").out.find("tsv | csv | jsonl") != std::string::npos, program);
    }
}

BOOST_AUTO_TEST_CASE(a_bad_number_is_named_for_what_it_is_in_both) {
    // A minus sign in a count (CLI11 alone reads "-1" into an unsigned option as 2^64 - 1, and
    // `--epochs -1` trained for ever), a word where a number belongs, a value outside its range.
    check_usage_error(text("train --train a.csv --model m --epochs -1"), "textcnn train", "--epochs: -1 is not positive");
    check_usage_error(image("train --images a --labels b --model m --epochs -2"), "imagecnn train",
                      "--epochs: -2 is not positive");
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"train --train a.csv --model m --widths 3,-4", "--widths: '-4' is not a whole number of 0 or more"},
        {"train --train a.csv --model m --min-count 0", "--min-count: 0 is not positive"},
        {"train --train a.csv --model m --batch 0", "--batch: 0 is not positive"},
        {"train --train a.csv --model m --ensemble x", "--ensemble: 'x' is not a whole number of 0 or more"},
        {"train --train a.csv --model m --ensemble 65", "--ensemble: 65 is not between 1 and 64"},
        {"train --train a.csv --model m --dropout 0.97", "--dropout: 0.97 is not between 0 and 0.95"},
        {"train --train a.csv --model m --label-smoothing 1", "--label-smoothing: 1 is not between 0 and 0.9"},
        {"train --train a.csv --model m --validation-split half", "--validation-split: 'half' is not a number"},
        {"predict --model m --chunk 1.5 a.txt", "--chunk: '1.5' is not a whole number of 0 or more"},
        // CLI11 alone clamped these to 2^64 - 1, read hex, or took NaN and "" (as 0).
        {"train --train a.csv --model m --epochs 99999999999999999999999",
         "--epochs: '99999999999999999999999' is too large (the limits are 0 and 18446744073709551615)"},
        {"train --train a.csv --model m --maps 0x10", "--maps: '0x10' is not a whole number of 0 or more"},
        {"train --train a.csv --model m --lr nan", "--lr: 'nan' is not a finite number"},
        {"split --data a.csv --train-out b.csv --test-out c.csv --test-share NaN", "--test-share: 'NaN' is not a finite number"},
        {"predict --model m --top '' a.txt",
         "--top: the value is empty (an unset shell variable?); leave the option out for its default"},
    };
    for (const auto& [args, message] : cases)
        check_usage_error(text(args), "textcnn " + args.substr(0, args.find(' ')), message);
}

// Lists (--widths 3,4,5) refuse an empty element, which CLI11 alone dropped without a word
// ("3,,4" trained widths 3 and 4; "1,,28,28" was a shape of three numbers), and --widths a
// width given twice, which built two sets of filters of one width.
BOOST_AUTO_TEST_CASE(lists_refuse_empty_elements_and_a_width_given_twice) {
    const std::string train = "train --train a.csv --model m ";
    const std::vector<std::pair<std::string, std::string>> text_cases = {
        {train + "--widths 3,,4", "--widths: empty element in '3,,4'"},
        {train + "--widths 3,4,", "--widths: empty element in '3,4,'"},
        {train + "--widths ,3", "--widths: empty element in ',3'"},
        {train + "--widths 3,3,4", "--widths: width 3 is given twice; for more feature maps of one width, raise --maps"},
        {train + "--widths 4 --widths 2,4",
         "--widths: width 4 is given twice; for more feature maps of one width, raise --maps"},
        {train + "--widths 3,0", "--widths: 0 is not positive"},
    };
    for (const auto& [args, message] : text_cases)
        BOOST_TEST_CONTEXT(args) { check_usage_error(text(args), "textcnn train", message); }
    const std::vector<std::pair<std::string, std::string>> image_cases = {
        {"train --images a --labels b --model m --lr-decay-at 10,,13", "--lr-decay-at: empty element in '10,,13'"},
        {"train --images a --labels b --model m --lr-decay-at 0", "--lr-decay-at: epochs count from 1 (0 is not an epoch)"},
        {"filter --kernel gaussian,,laplace a.png b.png", "--kernel: empty element in 'gaussian,,laplace'"},
        {"summary --arch cnn_1 --input 1,,28,28", "--input: empty element in '1,,28,28'"},
        {"summary --arch cnn_1 --input 1,28", "--input: give 3 numbers, channels,height,width (2 given)"},
        {"summary --arch cnn_1 --input 1,0,28", "--input: 0 is not positive"},
    };
    for (const auto& [args, message] : image_cases)
        BOOST_TEST_CONTEXT(args) { check_usage_error(image(args), "imagecnn " + args.substr(0, args.find(' ')), message); }

    // The lists still take what they took: comma-separated, space-separated and repeated values.
    for (const std::string input : {"1,20,20", "1 20 20", "1,20 --input 20"}) {
        const Run r = image("summary --arch cnn_1 --json --input " + input);
        BOOST_REQUIRE_MESSAGE(r.code == 0, input << ": " << r.err);
        const json shape = json::parse(r.out).at("input");
        BOOST_CHECK_EQUAL(shape.at("channels").get<int>(), 1);
        BOOST_CHECK_EQUAL(shape.at("height").get<int>(), 20);
        BOOST_CHECK_EQUAL(shape.at("width").get<int>(), 20);
    }
    trained();
    const std::string model = scratch("widths.model");
    const Run t = text(text_train_args(model, "--epochs 1 --quiet --widths 2 --widths 4,5"));
    BOOST_REQUIRE_MESSAGE(t.code == 0, t.err);
    const Run summary = text("summary --model " + model);
    BOOST_REQUIRE_MESSAGE(summary.code == 0, summary.err);
    for (const std::string layer : {"conv_2", "conv_4", "conv_5"})
        BOOST_CHECK_MESSAGE(summary.out.find(layer) != std::string::npos, layer << " in " << summary.out);
    BOOST_CHECK_MESSAGE(summary.out.find("conv_3") == std::string::npos, summary.out);
    // Two classes of one name would be one label in the output.
    std::string names = image_train_args(scratch("names.model"), "--epochs 1 --quiet");
    names.replace(names.find("--class-names a,b,c"), 19, "--class-names a,b,a");
    check_usage_error(image(names), "imagecnn train",
                      "--class-names: 'a' is named twice (each class needs a name of its own)");
}

// Values that mean nothing are refused by their option, in the words of the number checks above,
// while the command line is parsed: a learning rate of 0 or less was taken (textcnn read it as
// "the optimizer's", imagecnn took 0 so), a negative --max-norm, --clip or --weight-decay failed
// in the library once the data was read, and --maps 0 there without naming the option.
BOOST_AUTO_TEST_CASE(meaningless_numbers_are_refused_by_their_option) {
    const std::string train = "train --train a.csv --model m ";
    const std::vector<std::pair<std::string, std::string>> text_cases = {
        {train + "--lr -1", "--lr: -1 is not positive"},
        {train + "--lr 0", "--lr: 0 is not positive"},
        {train + "--lr 1e-50", "--lr: '1e-50' is too close to 0"},
        {train + "--max-norm -1", "--max-norm: -1 is not 0 or more"},
        {train + "--clip -0.5", "--clip: -0.5 is not 0 or more"},
        {train + "--weight-decay -1e-4", "--weight-decay: -1e-4 is not 0 or more"},
        {train + "--maps 0", "--maps: 0 is not positive"},
        {train + "--embedding-dim 0", "--embedding-dim: 0 is not positive"},
    };
    for (const auto& [args, message] : text_cases)
        BOOST_TEST_CONTEXT(args) { check_usage_error(text(args), "textcnn train", message); }
    const std::string image_train = "train --images a --labels b --model m ";
    const std::vector<std::pair<std::string, std::string>> image_cases = {
        {image_train + "--lr 0", "--lr: 0 is not positive"},
        {image_train + "--lr -0.001", "--lr: -0.001 is not positive"},
        {image_train + "--batch 0", "--batch: 0 is not positive"},
        {image_train + "--eval-batch 0", "--eval-batch: 0 is not positive"},
        {"eval --model m --images a --labels b --batch 0", "--batch: 0 is not positive"},
        {"predict --model m --batch 0 a.png", "--batch: 0 is not positive"},
    };
    for (const auto& [args, message] : image_cases)
        BOOST_TEST_CONTEXT(args) { check_usage_error(image(args), "imagecnn " + args.substr(0, args.find(' ')), message); }
}

// --threads took 4294967297 (and 2^63 failed with "out of memory"): at most 1024, said in the help.
BOOST_AUTO_TEST_CASE(threads_have_an_upper_bound_in_every_command) {
    const std::vector<std::pair<std::string, std::string>> text_cases = {
        {"train --train a.csv --model m --threads 4294967297", "--threads: 4294967297 is not between 0 and 1024"},
        {"train --train a.csv --model m --threads 9223372036854775808",
         "--threads: 9223372036854775808 is not between 0 and 1024"},
        {"train --train a.csv --model m --threads 99999999999999999999999",
         "--threads: 99999999999999999999999 is not between 0 and 1024"},
        {"predict --model m --threads 1025 a.txt", "--threads: 1025 is not between 0 and 1024"},
        {"eval --model m --data a.csv --threads 5000", "--threads: 5000 is not between 0 and 1024"},
        {"tokenize --threads 5000 a.txt", "--threads: 5000 is not between 0 and 1024"},
    };
    for (const auto& [args, message] : text_cases)
        BOOST_TEST_CONTEXT(args) { check_usage_error(text(args), "textcnn " + args.substr(0, args.find(' ')), message); }
    for (const std::string command : {"train --images a --labels b --model m", "eval --model m --images a --labels b",
                                      "predict --model m a.png", "filter --kernel gaussian a.png b.png"})
        BOOST_TEST_CONTEXT(command) {
            check_usage_error(image(command + " --threads 4294967297"), "imagecnn " + command.substr(0, command.find(' ')),
                              "--threads: 4294967297 is not between 0 and 1024");
        }
    for (const auto& program : {textcnn_program, imagecnn_program})
        BOOST_CHECK_MESSAGE(run(program, "train --help").out.find("0 = every core; at most 1024") != std::string::npos,
                            program);
    // Within the bound, as before.
    const auto& t = trained();
    BOOST_CHECK_EQUAL(text("predict --quiet --threads 1024 --model " + t.text_model + " " + scratch("texts.txt")).code, 0);
}

BOOST_AUTO_TEST_CASE(init_takes_the_library_initializers_in_both) {
    // Both take the library's initializer names (the trained models used he_uniform); textcnn
    // adds kim, Kim's zero output layer, its default.
    const std::string known = joined(textcnn::initializer_names(), ", ");
    check_usage_error(text("train --train a.csv --model m --init zeros"), "textcnn train",
                      "--init: unknown initializer 'zeros' (known: kim, " + known + ")");
    check_usage_error(image("train --images a --labels b --model m --init zeros"), "imagecnn train",
                      "--init: unknown initializer 'zeros' (known: " + known + ")");
    const auto& t = trained();
    BOOST_CHECK_EQUAL(json::parse(t.image_train.out).at("init").get<std::string>(), "he_uniform");
}

BOOST_AUTO_TEST_CASE(standard_input_is_read_once) {
    check_usage_error(text("train --train - --dev - --model m"), "textcnn train",
                      "--train and --dev both read standard input ('-'); only one input can");
    check_usage_error(image("eval --model m --images - --labels -"), "imagecnn eval",
                      "--images and --labels both read standard input ('-'); only one input can");
    // Among the files of predict (the second "-" read as empty before).
    const std::string twice = "standard input ('-') is named 2 times among the input files; it can be read only once";
    check_usage_error(text("predict --model m - -"), "textcnn predict", twice);
    check_usage_error(image("predict --model m - -"), "imagecnn predict", twice);
}

// Results that never reached stdout (a full disk: /dev/full) are an error, not exit 0.
BOOST_AUTO_TEST_CASE(results_that_cannot_be_written_are_an_error_in_both) {
    if (!std::filesystem::exists("/dev/full")) return;
    const auto& t = trained();
    const std::vector<std::pair<std::string, Run>> runs = {
        {"textcnn predict", text("predict --quiet --model " + t.text_model + " " + scratch("texts.txt") + " >/dev/full")},
        {"textcnn predict", text("predict --quiet --model " + t.text_model + " >/dev/full", scratch("texts.txt"))},
        {"textcnn summary", text("summary --model " + t.text_model + " >/dev/full")},
        {"imagecnn predict", image("predict --model " + t.image_model + " " + scratch("first.png") + " >/dev/full")},
        // Found by a new-user run: tokenize gave no reason, eval --json fmt's "cannot write to
        // file", --version and --help exit 0.
        {"textcnn tokenize", text("tokenize " + scratch("texts.txt") + " >/dev/full")},
        {"textcnn", text("--version >/dev/full")},
        {"textcnn", text("--help >/dev/full")},
        {"imagecnn", image("--version >/dev/full")},
    };
    for (const auto& [command, r] : runs) {
        BOOST_TEST_CONTEXT(command) {
            BOOST_CHECK_EQUAL(r.code, 1);
            BOOST_CHECK_MESSAGE(r.err.rfind(command + ": stdout: write error", 0) == 0, r.err);
            if (command.find(' ') != std::string::npos)
                BOOST_CHECK_MESSAGE(r.err.find("write error: No space left on device") != std::string::npos, r.err);
        }
    }
}

// --top 0 and --prob beside --top: usage errors in both (imagecnn took them, unsaid).
BOOST_AUTO_TEST_CASE(top_zero_and_prob_beside_top_are_refused_in_both) {
    check_usage_error(text("predict --model m --top 0 x.txt"), "textcnn predict", "--top: 0 is not positive");
    check_usage_error(image("predict --model m --top 0 x.png"), "imagecnn predict", "--top: 0 is not positive");
    check_usage_error(text("predict --model m --top 2 --prob x.txt"), "textcnn predict", "--prob excludes --top");
    check_usage_error(image("predict --model m --top 2 --prob x.png"), "imagecnn predict", "--prob excludes --top");
}

BOOST_AUTO_TEST_CASE(top_beyond_the_labels_gets_one_warning_in_both) {
    const auto& t = trained();
    const Run text_top = text("predict --quiet --top 3 --model " + t.text_model + " " + scratch("texts.txt"));
    BOOST_CHECK_EQUAL(text_top.code, 0);
    BOOST_CHECK_EQUAL(text_top.err, "warning: --top 3, but the model has only 2 labels: each line lists 2\n");
    const Run image_top = image("predict --top 4 --model " + t.image_model + " " + scratch("first.png"));
    BOOST_CHECK_EQUAL(image_top.code, 0);
    BOOST_CHECK_EQUAL(image_top.err, "warning: --top 4, but the model has only 3 labels: each line lists 3\n");
    BOOST_CHECK_EQUAL(image("predict --top 3 --model " + t.image_model + " " + scratch("first.png")).err, "");
}

BOOST_AUTO_TEST_CASE(dash_reads_standard_input_in_both) {
    const auto& t = trained();
    // textcnn: predict and eval read "-" as they read the file.
    const Run from_file = text("predict --quiet --model " + t.text_model + " " + scratch("texts.txt"));
    BOOST_REQUIRE_MESSAGE(from_file.code == 0, from_file.err);
    BOOST_CHECK_EQUAL(lines_of(from_file.out).size(), 6u);
    BOOST_CHECK_EQUAL(text("predict --quiet --model " + t.text_model + " -", scratch("texts.txt")).out, from_file.out);
    const Run eval_file = text("eval --model " + t.text_model + " --data " + scratch("reviews.csv"));
    BOOST_REQUIRE_MESSAGE(eval_file.code == 0, eval_file.err);
    // (Standard input has no file name to tell its format by: csv is said.)
    BOOST_CHECK_EQUAL(text("eval --input-format csv --model " + t.text_model + " --data -", scratch("reviews.csv")).out,
                      eval_file.out);

    // imagecnn: an image file, and IDX images for eval, from standard input.
    const Run png = image("predict --model " + t.image_model + " " + scratch("first.png"));
    BOOST_REQUIRE_MESSAGE(png.code == 0, png.err);
    const Run piped = image("predict --model " + t.image_model + " -", scratch("first.png"));
    BOOST_REQUIRE_MESSAGE(piped.code == 0, piped.err);
    BOOST_CHECK_EQUAL(piped.out, "<stdin>" + png.out.substr(png.out.find('\t')));
    const std::string eval = "eval --quiet --model " + t.image_model + " --labels " + scratch("labels.idx") + " --images ";
    const Run idx_file = image(eval + scratch("images.idx"));
    BOOST_REQUIRE_MESSAGE(idx_file.code == 0, idx_file.err);
    BOOST_CHECK_EQUAL(image(eval + "-", scratch("images.idx")).out, idx_file.out);
    // Nothing on standard input is named as such.
    const Run empty = image("predict --model " + t.image_model + " -");
    BOOST_CHECK_EQUAL(empty.code, 1);
    BOOST_CHECK_MESSAGE(empty.err.find("imagecnn predict: <stdin>: ") == 0u, empty.err);
}

BOOST_AUTO_TEST_CASE(training_results_share_keys_and_print_numbers_as_numbers) {
    const auto& t = trained();
    for (const auto& [name, out] : {std::pair{"textcnn", t.text_train.out}, std::pair{"imagecnn", t.image_train.out}}) {
        BOOST_TEST_CONTEXT(name) {
            const json r = json::parse(out);
            BOOST_CHECK(r.at("model").is_string());
            BOOST_CHECK_EQUAL(r.at("epochs_completed").get<int>(), 2);
            BOOST_CHECK(r.at("best_epoch").is_number_unsigned());
            BOOST_CHECK(r.at("seconds").is_number());
            BOOST_CHECK(r.at("stopped_early").is_boolean());
            // Accuracy in JSON: a fraction.
            const double accuracy = r.at("dev_accuracy").get<double>();
            BOOST_CHECK(accuracy >= 0.0 && accuracy <= 1.0);
            check_numbers_are_numbers(r, std::string(name) + " train --json");
        }
    }
    const Run summary = text("summary --json --model " + t.text_model);
    BOOST_REQUIRE_EQUAL(summary.code, 0);
    check_numbers_are_numbers(json::parse(summary.out), "textcnn summary --json");
}

BOOST_AUTO_TEST_CASE(eval_prints_accuracy_as_a_percentage_and_a_fraction_alike) {
    const auto& t = trained();
    const std::string text_eval = "eval --model " + t.text_model + " --data " + scratch("reviews.csv");
    const std::string image_eval = "eval --quiet --model " + t.image_model + " --images " + scratch("images.idx") +
                                   " --labels " + scratch("labels.idx");
    const std::regex percent_row(R"(\n *accuracy +\d+\.\d\d% +\d+\n)");
    for (const Run& r : {text(text_eval), image(image_eval)}) {
        BOOST_REQUIRE_MESSAGE(r.code == 0, r.err);
        BOOST_CHECK_MESSAGE(std::regex_search(r.out, percent_row), r.out);
    }
    for (const Run& r : {text(text_eval + " --json"), image(image_eval + " --json")}) {
        BOOST_REQUIRE_MESSAGE(r.code == 0, r.err);
        const json j = json::parse(r.out);
        BOOST_CHECK(j.at("accuracy").is_number_float() && j.at("accuracy").get<double>() <= 1.0);
        check_numbers_are_numbers(j, "eval --json");
    }
}

BOOST_AUTO_TEST_CASE(the_final_line_is_worded_alike) {
    trained();
    const std::string text_model = scratch("worded_text.model"), image_model = scratch("worded_image.model");
    const Run t = text(text_train_args(text_model, "--epochs 1 --quiet"));
    const Run i = image(image_train_args(image_model, "--epochs 1 --quiet"));
    for (const auto& [r, model] : {std::pair{t, text_model}, std::pair{i, image_model}}) {
        BOOST_REQUIRE_MESSAGE(r.code == 0, r.err);
        const std::regex line("saved " + model + R"( \(best dev accuracy \d+\.\d\d% at epoch 1\), 1 epochs in \d+\.\ds)");
        BOOST_CHECK_MESSAGE(std::regex_match(lines_of(r.out).at(0), line), r.out);
    }
}

BOOST_AUTO_TEST_CASE(predict_formats_alike) {
    const auto& t = trained();
    const Run text_jsonl = text("predict --quiet --prob --format jsonl --model " + t.text_model + " " + scratch("texts.txt"));
    const Run image_jsonl = image("predict --format jsonl --model " + t.image_model + " " + scratch("images.idx"));
    for (const Run& r : {text_jsonl, image_jsonl}) {
        BOOST_REQUIRE_MESSAGE(r.code == 0, r.err);
        for (const auto& line : lines_of(r.out)) {
            const json j = json::parse(line);
            BOOST_CHECK(j.at("label").is_string());
            double sum = 0.0;
            for (const auto& [label, p] : j.at("probabilities").items()) sum += p.get<double>();
            BOOST_CHECK_CLOSE(sum, 1.0, 1e-3);
            check_numbers_are_numbers(j, "predict --format jsonl");
        }
    }
    // csv with --prob: a first line names the columns, the model's labels last, in its order.
    const Run text_csv = text("predict --quiet --prob --format csv --model " + t.text_model + " " + scratch("texts.txt"));
    const Run image_csv = image("predict --prob --format csv --model " + t.image_model + " " + scratch("images.idx"));
    BOOST_REQUIRE_MESSAGE(text_csv.code == 0, text_csv.err);
    BOOST_REQUIRE_MESSAGE(image_csv.code == 0, image_csv.err);
    BOOST_CHECK_EQUAL(lines_of(text_csv.out).at(0), "label,neg,pos");
    BOOST_CHECK_EQUAL(lines_of(image_csv.out).at(0), "input,label,probability,a,b,c");
    BOOST_CHECK_EQUAL(lines_of(image_csv.out).size(), 151u);
    BOOST_CHECK_EQUAL(lines_of(image_csv.out).at(1).rfind(scratch("images.idx") + "#0,", 0), 0u);
}

// Ctrl-C (and SIGTERM) once the first epoch is reported: both write the model so far and the
// checkpoint MODEL.ckpt, say so in the same words, and exit with 128 + the signal.
BOOST_AUTO_TEST_CASE(a_signal_ends_training_alike) {
    trained();
    for (const auto& [signal, code] : {std::pair{SIGINT, 130}, std::pair{SIGTERM, 143}}) {
        for (const auto& program : {textcnn_program, imagecnn_program}) {
            BOOST_TEST_CONTEXT(program << " signal " << signal) {
                const std::string model = scratch("signal.model");
                std::filesystem::remove(model);
                std::filesystem::remove(model + ".ckpt");
                const std::string args = program == textcnn_program ? text_train_args(model, "--epochs 100000")
                                                                     : image_train_args(model, "--epochs 100000");
                std::vector<std::string> argv = {program};
                for (std::size_t start = 0, end; start < args.size(); start = end + 1) {
                    end = args.find(' ', start);
                    if (end == std::string::npos) end = args.size();
                    if (end > start) argv.push_back(args.substr(start, end - start));
                }
                const Run r = textcnn::testing::signal_after(argv, "epoch 1/100000", signal);
                BOOST_REQUIRE_MESSAGE(r.code != -1, "no epoch line: " << r.err);
                BOOST_CHECK_EQUAL(r.code, code);
                // The last two messages, after the progress lines.
                const std::size_t tail = r.err.rfind("interrupted: the model so far written to ");
                BOOST_REQUIRE_MESSAGE(tail != std::string::npos, r.err);
                const auto last = lines_of(r.err.substr(tail));
                BOOST_REQUIRE_EQUAL(last.size(), 3u);
                const std::regex so_far("interrupted: the model so far written to " + model +
                                        R"( \(best dev accuracy \d+\.\d\d% at epoch \d+\))");
                BOOST_CHECK_MESSAGE(std::regex_match(last[0], so_far), last[0]);
                BOOST_CHECK_EQUAL(last[1], "");
                BOOST_CHECK_EQUAL(last[2], std::string(signal == SIGINT ? "interrupted" : "terminated (SIGTERM)") +
                                               ": checkpoint written to " + model + ".ckpt; continue with --resume " +
                                               model + ".ckpt");
                BOOST_CHECK(std::filesystem::exists(model));
                BOOST_CHECK(std::filesystem::exists(model + ".ckpt"));
            }
        }
    }
}

// An empty value is refused for every option that takes text, in every command of the three
// programs (`--dev "$UNSET"` trained without dev data; `--report ""`, `--checkpoint ""` and
// `--validation-predictions ""` wrote nothing; none said so). The options are read from each
// command's --help, so an option added later is covered too.
BOOST_AUTO_TEST_CASE(no_program_takes_an_empty_value_in_silence) {
    const std::string mail_program = std::string(TEXTCNN_BINARY_DIR) + "/textcnn-mail";
    const std::regex command_line(R"(^  ([a-z]+)  +\S)");
    const std::regex option_line(R"(^  +(?:-[a-z],)?(--[a-z0-9-]+) ([A-Z][A-Za-z=]*)(\S*))");
    std::size_t checked = 0;
    for (const auto& [program, name] : std::vector<std::pair<std::string, std::string>>{
             {textcnn_program, "textcnn"}, {imagecnn_program, "imagecnn"}, {mail_program, "textcnn-mail"}}) {
        const std::string top = run(program, "--help").out;
        const std::string commands_part = top.substr(top.find("Subcommands:"));
        std::vector<std::string> commands;
        for (const std::string& line : lines_of(commands_part)) {
            std::smatch m;
            if (std::regex_search(line, m, command_line)) commands.push_back(m[1]);
        }
        BOOST_REQUIRE_MESSAGE(commands.size() >= 3, name << ": " << top);
        for (const std::string& command : commands) {
            for (const std::string& line : lines_of(run(program, command + " --help").out)) {
                std::smatch m;
                if (!std::regex_search(line, m, option_line)) continue;
                const std::string option = m[1], type = m[2];
                if (type == "Excludes" || type == "Needs") continue;  // a flag
                if (type.rfind("UINT", 0) == 0 || type.rfind("INT", 0) == 0 || type.rfind("FLOAT", 0) == 0) continue;
                // Both spellings: "--opt ''" and "--opt=" (CLI11 alone took the next argument as
                // a list option's value, or said "1 required TEXT missing").
                for (const std::string& given : {option + " ''", option + "="}) {
                    const Run r = run(program, command + " " + given);
                    const std::string context = name + " " + command + " " + given + " (" + type + m[3].str() + ")";
                    BOOST_CHECK_MESSAGE(r.code == 2, context << ": exit " << r.code << ", " << r.err);
                    const std::string said = name + " " + command + ": " + option + ": ";
                    BOOST_CHECK_MESSAGE(r.err.rfind(said, 0) == 0, context << ": " << r.err);
                    // A list may say so in its own words first ("an empty list"); the rest say this.
                    // A required option has no default to leave it out for.
                    const std::string advice = line.find(" REQUIRED ") != std::string::npos
                                                   ? "the option needs one\n"
                                                   : "leave the option out for its default\n";
                    if (m[3].str().find("...") == std::string::npos && type.find(',') == std::string::npos)
                        BOOST_CHECK_MESSAGE(r.err.rfind(said + "the value is empty (an unset shell variable?); " + advice, 0) == 0,
                                            context << ": " << r.err);
                }
                ++checked;
            }
        }
    }
    BOOST_TEST_MESSAGE(checked << " options given ''");
    BOOST_CHECK_GT(checked, 60u);
    // Arguments too: a file named "" is not a file.
    check_usage_error(text("predict --model m ''"), "textcnn predict", "files: an empty value (an unset shell variable?)");
    // What CLI11 alone did with these: took "--epochs" as the widths, turned the flag on (the
    // header row scored as a document), wrote a report to a file named "=", took "pos=0.9" as
    // the threshold and in.txt as the only file.
    const std::string empty = ": the value is empty (an unset shell variable?); leave the option out for its default";
    check_usage_error(text("train --train a.csv --model m --widths= --epochs 1"), "textcnn train", "--widths" + empty);
    check_usage_error(text("predict --model m --no-header= a.csv"), "textcnn predict", "--no-header" + empty);
    check_usage_error(text("report --log a.jsonl -o="), "textcnn report",
                      "-o: the value is empty (an unset shell variable?); the option needs one");  // required
    check_usage_error(text("predict --threshold= pos=0.9 --model m in.txt"), "textcnn predict", "--threshold" + empty);
    check_usage_error(image("train --images a --labels b --model m --lr-decay-at= 3"), "imagecnn train",
                      "--lr-decay-at" + empty);
    // A required option: no default to fall back on.
    check_usage_error(text("quantize --model= --out q.model"), "textcnn quantize",
                      "--model: the value is empty (an unset shell variable?); the option needs one");
    check_usage_error(text("quantize --model m --out ''"), "textcnn quantize",
                      "--out: the value is empty (an unset shell variable?); the option needs one");
    // After "--" everything is an argument: a file named "--dev=" is the validators' to judge.
    const Run after_dashes = text("predict --model m -- --dev=");
    BOOST_CHECK(after_dashes.err.find("the value is empty") == std::string::npos);
}
