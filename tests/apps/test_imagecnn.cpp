// The imagecnn program end to end (train, eval, predict, summary, filter run as a user would,
// exit codes and messages included). The library's ImageClassifier and ImageTrainingRun are
// tested in tests/image/test_image_classifier.cpp.
#define BOOST_TEST_MODULE imagecnn
#include <boost/test/unit_test.hpp>

#include <sys/stat.h>

#include "test_helpers.h"
#include "program_runs.h"
#include "synthetic_images.h"

#include "textcnn/nn/architecture.h"
#include "textcnn/core/error.h"
#include "textcnn/image/idx.h"
#include "textcnn/image/image_classifier.h"
#include "textcnn/image/image_io.h"
#include "textcnn/core/rng.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <vector>

using namespace textcnn;

namespace {

const std::string program = std::string(TEXTCNN_BINARY_DIR) + "/imagecnn";

std::string scratch(const std::string& name) { return testing::scratch_path("test_imagecnn_files", name); }

using testing::read_text;

using Run = testing::ProgramRun;

// Runs imagecnn with `args` (already shell-quoted where needed).
Run run(const std::string& args) { return testing::run_program(program + " " + args, scratch("stderr.txt")); }

using testing::make_shapes;
using testing::small_architecture;
using Synthetic = testing::SyntheticShapes;

// Writes the synthetic data set and trains a model once for the tests that need one.
struct TrainedModel {
    std::string model = scratch("shapes.model");
    Run train;
    TrainedModel() {
        const Synthetic train_set = make_shapes(900, 1), test_set = make_shapes(300, 2);
        write_file_bytes(scratch("train-images.gz"), gzip_bytes(encode_idx_images(train_set.pixels, 900, 12, 12)));
        write_file_bytes(scratch("train-labels"), encode_idx_labels(train_set.labels));
        write_file_bytes(scratch("test-images"), encode_idx_images(test_set.pixels, 300, 12, 12));
        write_file_bytes(scratch("test-labels.gz"), gzip_bytes(encode_idx_labels(test_set.labels)));
        std::ofstream(scratch("tiny.json")) << small_architecture;
        train = run("train --images " + scratch("train-images.gz") + " --labels " + scratch("train-labels") +
                    " --test-images " + scratch("test-images") + " --test-labels " + scratch("test-labels.gz") +
                    " --arch-file " + scratch("tiny.json") + " --class-names vertical,horizontal,square" +
                    " --epochs 15 --batch 32 --seed 3 --json --quiet --model " + model + " --log-json " +
                    scratch("run.jsonl") + " --report " + scratch("run.html"));
    }
};
const TrainedModel& trained() {
    static const TrainedModel model;
    return model;
}

}  // namespace

BOOST_AUTO_TEST_CASE(training_on_a_synthetic_task_reaches_high_accuracy) {
    const auto& t = trained();
    BOOST_TEST_REQUIRE(t.train.code == 0, t.train.err);
    const auto result = nlohmann::json::parse(t.train.out);
    BOOST_TEST(result["train_images"].get<int>() == 720);  // the last 20 % held out
    BOOST_TEST(result["validation_images"].get<int>() == 180);
    BOOST_TEST(result["epochs_completed"].get<int>() == 15);
    BOOST_TEST(result["optimizer"].get<std::string>() == "rmsprop");
    BOOST_TEST(result["init"].get<std::string>() == "glorot_uniform");
    BOOST_TEST(result["test_accuracy"].get<double>() >= 0.95, t.train.out);
    BOOST_TEST(result["dev_accuracy"].get<double>() >= 0.95, t.train.out);
    BOOST_TEST(result["model"].get<std::string>() == t.model);
    BOOST_TEST(result["stopped_early"].get<bool>() == false);
}

BOOST_AUTO_TEST_CASE(training_writes_its_log_and_report) {
    const auto& t = trained();
    BOOST_TEST_REQUIRE(t.train.code == 0, t.train.err);
    std::vector<nlohmann::json> lines;
    std::istringstream log(testing::read_text(scratch("run.jsonl")));
    for (std::string line; std::getline(log, line);) lines.push_back(nlohmann::json::parse(line));
    BOOST_REQUIRE_EQUAL(lines.size(), 1u + 15u * 2u + 1u);  // start, a dev check and an epoch each, end
    BOOST_TEST(lines.front()["event"] == "start");
    BOOST_TEST(lines.front()["data"]["classes"] == "vertical, horizontal, square");
    BOOST_TEST(lines[2]["event"] == "epoch");
    BOOST_TEST(lines[2]["learning_rate"].get<double>() > 0.0);
    const auto& end = lines.back();
    BOOST_TEST(end["event"] == "end");
    // The evaluation is the best epoch's model on the 180 validation images.
    BOOST_TEST(end["evaluation"]["samples"].get<int>() == 180);
    BOOST_TEST(end["evaluation"]["accuracy"].get<double>() ==
               nlohmann::json::parse(t.train.out)["dev_accuracy"].get<double>());
    const std::string html = testing::read_text(scratch("run.html"));
    BOOST_TEST(html.find("Confusion matrix") != std::string::npos);
    BOOST_TEST(html.find("images per second") != std::string::npos);
    BOOST_TEST(html.find("horizontal") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(eval_of_the_saved_model_matches_training) {
    const auto& t = trained();
    BOOST_TEST_REQUIRE(t.train.code == 0, t.train.err);
    const Run eval = run("eval --json --quiet --model " + t.model + " --images " + scratch("test-images") +
                         " --labels " + scratch("test-labels.gz"));
    BOOST_TEST_REQUIRE(eval.code == 0, eval.err);
    const auto report = nlohmann::json::parse(eval.out);
    for (const char* key : {"accuracy", "macro_f1", "per_class", "labels", "confusion"})
        BOOST_TEST(report.contains(key), key);
    // The accuracy train measured before saving, and eval after loading: the same predictions.
    BOOST_TEST(report["accuracy"].get<double>() == nlohmann::json::parse(t.train.out)["test_accuracy"].get<double>());
    BOOST_TEST(report["labels"] == nlohmann::json::parse(R"(["vertical", "horizontal", "square"])"));
    BOOST_TEST(report["confusion"].size() == 3u);

    const Run text = run("eval --model " + t.model + " --images " + scratch("test-images") + " --labels " +
                         scratch("test-labels.gz"));
    BOOST_TEST(text.code == 0);
    BOOST_TEST(text.out.find("vertical") != std::string::npos);
    BOOST_TEST(text.err.find("evaluated 300 images in") == 0u, text.err);
}

BOOST_AUTO_TEST_CASE(predict_on_idx_png_and_pgm) {
    const auto& t = trained();
    BOOST_TEST_REQUIRE(t.train.code == 0, t.train.err);
    // Image 0 of the test set (a vertical bar) as PNG and PGM files.
    const Synthetic test_set = make_shapes(300, 2);
    Image first{12, 12, 1, std::vector<std::uint8_t>(test_set.pixels.begin(), test_set.pixels.begin() + 144)};
    write_png(scratch("first.png"), first);
    std::string pgm = "P5 12 12 255\n";
    pgm.append(reinterpret_cast<const char*>(first.pixels.data()), first.pixels.size());
    std::ofstream(scratch("first.pgm"), std::ios::binary) << pgm;

    const Run r = run("predict --prob --model " + t.model + " " + scratch("test-images") + " " + scratch("first.png") +
                      " " + scratch("first.pgm"));
    BOOST_TEST_REQUIRE(r.code == 0, r.err);
    std::vector<std::string> lines;
    std::istringstream in(r.out);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    BOOST_TEST_REQUIRE(lines.size() == 303u);
    // --prob: a first line names the columns, one per class in the model's order (as textcnn's).
    BOOST_TEST(lines[0] == "input\tlabel\tprobability\tvertical\thorizontal\tsquare");
    BOOST_TEST(lines[1].find(scratch("test-images") + "#0\tvertical\t") == 0u, lines[1]);
    BOOST_TEST(std::count(lines[1].begin(), lines[1].end(), '\t') == 5);
    // The same pixels give the same line whatever the file format.
    const std::string idx_rest = lines[1].substr(lines[1].find('\t'));
    BOOST_TEST(lines[301] == scratch("first.png") + idx_rest);
    BOOST_TEST(lines[302] == scratch("first.pgm") + idx_rest);

    const Run jsonl = run("predict --format jsonl --model " + t.model + " " + scratch("first.png"));
    BOOST_TEST_REQUIRE(jsonl.code == 0, jsonl.err);
    const auto line = nlohmann::json::parse(jsonl.out);
    BOOST_TEST(line["label"].get<std::string>() == "vertical");
    BOOST_TEST(line["probabilities"].size() == 3u);
    double sum = 0;
    for (const auto& [k, v] : line["probabilities"].items()) sum += v.get<double>();
    BOOST_TEST(sum == 1.0, boost::test_tools::tolerance(1e-5));

    // --top 2: after input, label and probability, the two best classes, best first, as
    // textcnn predict --top; no header line; jsonl keeps only those two.
    const Run top = run("predict --top 2 --model " + t.model + " " + scratch("first.png"));
    BOOST_TEST_REQUIRE(top.code == 0, top.err);
    std::vector<std::string> fields;
    std::istringstream row(top.out.substr(0, top.out.find('\n')));
    for (std::string f; std::getline(row, f, '\t');) fields.push_back(f);
    BOOST_TEST_REQUIRE(fields.size() == 7u, top.out);
    BOOST_TEST(fields[1] == "vertical");
    BOOST_TEST(fields[3] == "vertical");
    BOOST_TEST(fields[4] == fields[2]);
    BOOST_TEST(std::stod(fields[6]) <= std::stod(fields[4]));
    BOOST_TEST(fields[5] != "vertical");
    const Run top_jsonl = run("predict --top 2 --format jsonl --model " + t.model + " " + scratch("first.png"));
    BOOST_TEST_REQUIRE(top_jsonl.code == 0, top_jsonl.err);
    const auto best = nlohmann::ordered_json::parse(top_jsonl.out)["probabilities"];
    BOOST_TEST_REQUIRE(best.size() == 2u);
    BOOST_TEST(best.begin().key() == "vertical");
}

BOOST_AUTO_TEST_CASE(predict_rejects_wrong_sizes_and_corrupt_files) {
    const auto& t = trained();
    BOOST_TEST_REQUIRE(t.train.code == 0, t.train.err);
    write_png(scratch("big.png"), Image{28, 20, 1, std::vector<std::uint8_t>(28 * 20, 7)});
    Run r = run("predict --model " + t.model + " " + scratch("big.png"));
    BOOST_TEST(r.code == 1);
    BOOST_TEST(r.err == "imagecnn predict: " + scratch("big.png") +
                            ": image is 28x20 (width x height), the model expects 12x12; resize it first\n");

    auto png = encode_png(Image{12, 12, 1, std::vector<std::uint8_t>(144, 9)});
    png.resize(png.size() / 2);
    write_file_bytes(scratch("half.png"), png);
    r = run("predict --model " + t.model + " " + scratch("half.png"));
    BOOST_TEST(r.code == 1);
    BOOST_TEST(r.err.find("imagecnn predict: " + scratch("half.png") + ": ") == 0u, r.err);

    const auto idx = encode_idx_images(std::vector<std::uint8_t>(3 * 144, 1), 3, 12, 12);
    write_file_bytes(scratch("cut.idx"), std::vector<std::uint8_t>(idx.begin(), idx.begin() + 200));
    r = run("predict --model " + t.model + " " + scratch("cut.idx"));
    BOOST_TEST(r.code == 1);
    BOOST_TEST(r.err == "imagecnn predict: " + scratch("cut.idx") +
                            ": truncated at offset 160: image 1 of 3 needs 144 bytes, 40 left (the header promises "
                            "448 bytes, the data has 200)\n");

    r = run("predict --model " + t.model + " " + scratch("test-labels.gz"));
    BOOST_TEST(r.code == 1);
    BOOST_TEST(r.err == "imagecnn predict: " + scratch("test-labels.gz") +
                            ": an IDX label file; predict takes images (eval takes images and labels)\n");

    r = run("predict --model " + scratch("test-images") + " " + scratch("big.png"));
    BOOST_TEST(r.code == 1);
    BOOST_TEST(r.err.find("imagecnn predict: " + scratch("test-images") + ": ") == 0u, r.err);
}

BOOST_AUTO_TEST_CASE(eval_rejects_labels_outside_the_model) {
    const auto& t = trained();
    BOOST_TEST_REQUIRE(t.train.code == 0, t.train.err);
    write_file_bytes(scratch("bad-labels"), encode_idx_labels(std::vector<std::uint8_t>(300, 7)));
    const Run r = run("eval --model " + t.model + " --images " + scratch("test-images") + " --labels " +
                      scratch("bad-labels"));
    BOOST_TEST(r.code == 1);
    BOOST_TEST(r.err == "imagecnn eval: " + scratch("bad-labels") +
                            ": label 7 of item 0 is not a class of the model (3 classes)\n");
}

// Issue 15: an IDX file with 0 images gave an all-zero report and exit code 0.
BOOST_AUTO_TEST_CASE(eval_of_no_images_is_an_error) {
    const auto& t = trained();
    BOOST_TEST_REQUIRE(t.train.code == 0, t.train.err);
    write_file_bytes(scratch("no-images"), encode_idx_images({}, 0, 12, 12));
    write_file_bytes(scratch("no-labels"), encode_idx_labels({}));
    const Run r = run("eval --model " + t.model + " --images " + scratch("no-images") + " --labels " + scratch("no-labels"));
    BOOST_TEST(r.code == 1);
    BOOST_TEST(r.err == "imagecnn eval: " + scratch("no-images") + ": holds no images; nothing to evaluate\n");
    BOOST_TEST(r.out == "");
}

// Issue 15: an architecture file that is a FIFO would block forever.
BOOST_AUTO_TEST_CASE(architecture_files_must_be_regular_files) {
    const std::string fifo = scratch("arch.fifo");
    std::filesystem::remove(fifo);
    BOOST_TEST_REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    const Run r = run("summary --arch-file " + fifo);
    BOOST_TEST(r.code == 1);
    BOOST_TEST(r.err == "imagecnn summary: " + fifo + ": not a regular file (a FIFO); an architecture file must be a "
                        "regular file\n");
    std::filesystem::remove(fifo);
}

BOOST_AUTO_TEST_CASE(summary_of_builtins_and_models) {
    Run r = run("summary --arch cnn_1");
    BOOST_TEST_REQUIRE(r.code == 0, r.err);
    BOOST_TEST(r.out.find("Total params: 63,522") != std::string::npos, r.out);
    BOOST_TEST(r.out.find("(None, 8, 28, 28)") != std::string::npos);
    r = run("summary --arch cnn_1_with_pooling");
    BOOST_TEST(r.out.find("Total params: 4,722") != std::string::npos, r.out);
    const auto& t = trained();
    BOOST_TEST_REQUIRE(t.train.code == 0, t.train.err);
    r = run("summary --model " + t.model);
    BOOST_TEST_REQUIRE(r.code == 0, r.err);
    BOOST_TEST(r.out.find("Labels (3): 0 vertical, 1 horizontal, 2 square") != std::string::npos, r.out);
    BOOST_TEST(r.out.find("Input: 12x12x1") != std::string::npos, r.out);
    // The same as JSON: counts as numbers, the layers as rows, the model's labels and input.
    r = run("summary --json --model " + t.model);
    BOOST_TEST_REQUIRE(r.code == 0, r.err);
    auto j = nlohmann::json::parse(r.out);
    BOOST_TEST(j.at("labels") == nlohmann::json({"vertical", "horizontal", "square"}), r.out);
    BOOST_TEST(j.at("input").at("height").get<int>() == 12);
    std::size_t sum = 0;
    for (const auto& layer : j.at("layers")) sum += layer.at("parameters").get<std::size_t>();
    BOOST_TEST(sum == j.at("parameters").get<std::size_t>());
    BOOST_TEST(j.at("training").is_object());
    r = run("summary --json --arch cnn_1");
    BOOST_TEST_REQUIRE(r.code == 0, r.err);
    j = nlohmann::json::parse(r.out);
    BOOST_TEST(j.at("parameters").get<std::size_t>() == 63522u);
    BOOST_TEST(j.at("layers").at(0).at("output_shape") == nlohmann::json({0, 8, 28, 28}), r.out);
}

BOOST_AUTO_TEST_CASE(filter_sobel_x_on_a_step_edge) {
    // 6x6: columns 0-2 black, 3-5 white. sobel-x (cross-correlation) is
    // [[1,0,-1],[2,0,-2],[1,0,-1]]: R(y,x) = sum_dy w(dy) * (I(y+dy, x-1) - I(y+dy, x+1)), w = 1,2,1,
    // with zeros outside the image ('same' padding). Rows 1-4 see all three weights (sum 4):
    //   x: 0  1  2   3   4  5
    //      0  0 -4  -4   0 +4    (x = 5: its right neighbour is padding)
    // Rows 0 and 5 lose one row of weights (sum 3): 0 0 -3 -3 0 +3.
    // --scale abs: |v| / 4 * 255 -> 255 for 4, round(191.25) = 191 for 3.
    Image step{6, 6, 1, {}};
    for (std::size_t y = 0; y < 6; ++y)
        for (std::size_t x = 0; x < 6; ++x) step.pixels.push_back(x >= 3 ? 255 : 0);
    write_png(scratch("step.png"), step);
    Run r = run("filter --kernel sobel-x --scale abs " + scratch("step.png") + " " + scratch("sobel.png"));
    BOOST_TEST_REQUIRE(r.code == 0, r.err);
    BOOST_TEST(r.out.find("response -4 .. 4") != std::string::npos, r.out);
    const Image out = read_image(scratch("sobel.png"));
    BOOST_TEST(out.size_text() == "6x6x1");
    const std::vector<std::uint8_t> edge_row = {0, 0, 191, 191, 0, 191}, inner_row = {0, 0, 255, 255, 0, 255};
    for (std::size_t y = 0; y < 6; ++y) {
        const std::vector<std::uint8_t> row(out.pixels.begin() + 6 * y, out.pixels.begin() + 6 * y + 6);
        BOOST_TEST(row == ((y == 0 || y == 5) ? edge_row : inner_row), boost::test_tools::per_element());
    }
    // minmax keeps the sign: -4 -> 0, 0 -> 128 (127.5 rounded to even), +4 -> 255, -3 -> 32.
    r = run("filter --kernel sobel-x --scale minmax " + scratch("step.png") + " " + scratch("sobel_mm.png"));
    BOOST_TEST_REQUIRE(r.code == 0, r.err);
    const Image signed_map = read_image(scratch("sobel_mm.png"));
    const std::vector<std::uint8_t> row0(signed_map.pixels.begin(), signed_map.pixels.begin() + 6);
    const std::vector<std::uint8_t> row2(signed_map.pixels.begin() + 12, signed_map.pixels.begin() + 18);
    BOOST_TEST(row0 == (std::vector<std::uint8_t>{128, 128, 32, 32, 128, 223}), boost::test_tools::per_element());
    BOOST_TEST(row2 == (std::vector<std::uint8_t>{128, 128, 0, 0, 128, 255}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(filter_gaussian_keeps_brightness_and_chains) {
    // All-white 5x5 through the gaussian [[1,2,1],[2,4,2],[1,2,1]] / 16 with zero padding:
    // corners 9/16, edges 12/16, inside 1. Default scaling for gaussian-only chains is clip.
    write_png(scratch("white.png"), Image{5, 5, 1, std::vector<std::uint8_t>(25, 255)});
    Run r = run("filter --kernel gaussian " + scratch("white.png") + " " + scratch("blur.png"));
    BOOST_TEST_REQUIRE(r.code == 0, r.err);
    const Image blur = read_image(scratch("blur.png"));
    const std::vector<std::uint8_t> top(blur.pixels.begin(), blur.pixels.begin() + 5);
    const std::vector<std::uint8_t> middle(blur.pixels.begin() + 10, blur.pixels.begin() + 15);
    BOOST_TEST(top == (std::vector<std::uint8_t>{143, 191, 191, 191, 143}), boost::test_tools::per_element());
    BOOST_TEST(middle == (std::vector<std::uint8_t>{191, 255, 255, 255, 191}), boost::test_tools::per_element());
    // --smooth puts a gaussian before laplace; the chain is reported in order.
    r = run("filter --smooth --kernel laplace " + scratch("white.png") + " " + scratch("log.png"));
    BOOST_TEST_REQUIRE(r.code == 0, r.err);
    BOOST_TEST(r.out.find("feature map of gaussian -> laplace") != std::string::npos, r.out);
    BOOST_TEST(r.out.find("scaling abs") != std::string::npos, r.out);
    // The output is a file: never the input, never '-' (not standard output); nothing written.
    r = run("filter --kernel gaussian " + scratch("white.png") + " " + scratch("white.png"));
    BOOST_TEST(r.code == 2);
    BOOST_TEST(r.err.find("output " + scratch("white.png") + " is also input") != std::string::npos, r.err);
    BOOST_TEST(read_image(scratch("white.png")).pixels == std::vector<std::uint8_t>(25, 255));
    r = run("filter --kernel gaussian " + scratch("white.png") + " -");
    BOOST_TEST(r.code == 2);
    BOOST_TEST(r.err.find("output -: this output is a file, not standard output") != std::string::npos, r.err);
}

BOOST_AUTO_TEST_CASE(max_pixels_refuses_large_images_before_decoding) {
    // The pixel budget is checked from the header: --max-pixels lowers (or raises) it.
    write_png(scratch("ten.png"), Image{10, 10, 1, std::vector<std::uint8_t>(100, 40)});
    std::filesystem::remove(scratch("ten_out.png"));
    Run r = run("filter --kernel gaussian --max-pixels 99 " + scratch("ten.png") + " " + scratch("ten_out.png"));
    BOOST_TEST(r.code == 1);
    BOOST_TEST(r.err == "imagecnn filter: " + scratch("ten.png") + ": image too large: 10 x 10 (limit 99 pixels)\n");
    BOOST_TEST(!std::filesystem::exists(scratch("ten_out.png")));
    r = run("filter --kernel gaussian --max-pixels 100 " + scratch("ten.png") + " " + scratch("ten_out.png"));
    BOOST_TEST(r.code == 0, r.err);
    r = run("filter --kernel gaussian --max-pixels 0 " + scratch("ten.png") + " " + scratch("ten_out.png"));
    BOOST_TEST(r.code == 2);
    BOOST_TEST(r.err == "imagecnn filter: --max-pixels must be at least 1\nRun with --help for more information.\n");

    const auto& t = trained();
    BOOST_TEST_REQUIRE(t.train.code == 0, t.train.err);
    write_png(scratch("twelve.png"), Image{12, 12, 1, std::vector<std::uint8_t>(144, 9)});
    r = run("predict --max-pixels 143 --model " + t.model + " " + scratch("twelve.png"));
    BOOST_TEST(r.code == 1);
    BOOST_TEST(r.err == "imagecnn predict: " + scratch("twelve.png") + ": image too large: 12 x 12 (limit 143 pixels)\n");
    r = run("predict --max-pixels 144 --model " + t.model + " " + scratch("twelve.png"));
    BOOST_TEST(r.code == 0, r.err);
    r = run("predict --help");
    BOOST_TEST(r.out.find("--max-pixels") != std::string::npos, r.out);
}

BOOST_AUTO_TEST_CASE(usage_and_input_errors_have_exit_codes) {
    Run r = run("filter --kernel sobel-z " + scratch("white.png") + " " + scratch("x.png"));
    BOOST_TEST(r.code == 2);
    BOOST_TEST(r.err.find("imagecnn filter: --kernel: unknown kernel 'sobel-z' (known: ") == 0u, r.err);
    r = run("filter " + scratch("white.png"));
    BOOST_TEST(r.code == 2);
    BOOST_TEST(r.err.find("imagecnn filter: ") == 0u, r.err);
    r = run("train --images x");
    BOOST_TEST(r.code == 2);
    r = run("frobnicate");
    BOOST_TEST(r.code == 2);
    r = run("");
    BOOST_TEST(r.code == 2);
    r = run("train --images a --labels b --model c --arch cnn_9");
    BOOST_TEST(r.code == 2);
    BOOST_TEST(r.err.find("imagecnn train: --arch: unknown architecture 'cnn_9'") == 0u, r.err);
    // Found by a new-user run: options that cannot act were accepted (textcnn refuses them).
    const std::vector<std::pair<std::string, std::string>> idle = {
        {"--validation-split 0 --patience 2", "--patience stops on validation accuracy"},
        {"--lr-decay 0.5", "--lr-decay multiplies the rate after the --lr-decay-at epochs, and none is given"},
        {"--epochs 1 --lr-decay-at 1", "--lr-decay-at 1: the run has 1 epoch, so no epoch comes after it"}};
    for (const auto& [options, message] : idle) {
        r = run("train --images a --labels b --model c " + options);
        BOOST_TEST(r.code == 2);
        BOOST_TEST(r.err.find("imagecnn train: " + message) == 0u, r.err);
    }

    std::ofstream(scratch("not-an-image.png")) << "hello";
    r = run("filter --kernel laplace " + scratch("not-an-image.png") + " " + scratch("x.png"));
    BOOST_TEST(r.code == 1);
    BOOST_TEST(r.err == "imagecnn filter: " + scratch("not-an-image.png") +
                            ": not a PNG, JPEG or PGM/PPM image (the file starts with 68 65 6c 6c)\n");
    r = run("train --images " + scratch("missing") + " --labels b --model c");
    BOOST_TEST(r.code == 1);
    BOOST_TEST(r.err == "imagecnn train: " + scratch("missing") + ": cannot open: No such file or directory\n");
}

BOOST_AUTO_TEST_CASE(same_seed_same_model_whatever_the_thread_count) {
    trained();  // writes the data files
    std::string predictions[2];
    for (int threads : {1, 2}) {
        const std::string model = scratch("threads" + std::to_string(threads) + ".model");
        const Run train = run("train --images " + scratch("train-images.gz") + " --labels " + scratch("train-labels") +
                              " --arch-file " + scratch("tiny.json") + " --class-names a,b,c --epochs 2 --batch 32" +
                              " --seed 11 --quiet --threads " + std::to_string(threads) + " --model " + model);
        BOOST_TEST_REQUIRE(train.code == 0, train.err);
        const Run predict = run("predict --format jsonl --threads 1 --model " + model + " " + scratch("test-images"));
        BOOST_TEST_REQUIRE(predict.code == 0, predict.err);
        predictions[threads - 1] = predict.out;
    }
    BOOST_TEST(predictions[0].size() > 1000u);
    BOOST_TEST(predictions[0] == predictions[1]);  // bit-identical probabilities, printed in full
    // The architecture file is an input: a --model naming it is refused before training.
    const std::string arch = scratch("arch_copy.json");
    std::filesystem::copy_file(scratch("tiny.json"), arch, std::filesystem::copy_options::overwrite_existing);
    const Run over = run("train --images " + scratch("train-images.gz") + " --labels " + scratch("train-labels") +
                         " --arch-file " + arch + " --class-names a,b,c --epochs 1 --quiet --model " + arch);
    BOOST_TEST(over.code == 2);
    BOOST_TEST(over.err.find("--model " + arch + " is also --arch-file") != std::string::npos, over.err);
    BOOST_TEST(read_text(arch) == read_text(scratch("tiny.json")));
}

BOOST_AUTO_TEST_CASE(learning_rate_stages_continue_seamlessly) {
    // A schedule is run as one trainer per stage, each continuing from the previous state. With a
    // factor of 1 the stages must give exactly the single run; with 0.1 something else.
    trained();
    auto train_and_predict = [](const std::string& name, const std::string& extra) {
        const std::string model = scratch(name + ".model");
        const Run train = run("train --images " + scratch("train-images.gz") + " --labels " + scratch("train-labels") +
                              " --arch-file " + scratch("tiny.json") + " --class-names a,b,c --epochs 4 --batch 32" +
                              " --seed 5 --quiet --model " + model + " " + extra);
        BOOST_TEST_REQUIRE(train.code == 0, train.err);
        const Run predict = run("predict --format jsonl --model " + model + " " + scratch("test-images"));
        BOOST_TEST_REQUIRE(predict.code == 0, predict.err);
        return predict.out;
    };
    const std::string single = train_and_predict("single", "");
    BOOST_TEST(train_and_predict("staged", "--lr-decay-at 1,3 --lr-decay 1") == single);
    BOOST_TEST(train_and_predict("decayed", "--lr-decay-at 2 --lr-decay 0.1") != single);
    const Run bad = run("train --images a --labels b --model c --lr-decay-at 0");
    BOOST_TEST(bad.code == 2);
    BOOST_TEST(bad.err.find("imagecnn train: --lr-decay-at: epochs count from 1") == 0u, bad.err);
}

BOOST_AUTO_TEST_CASE(help_and_version) {
    for (const char* command : {"train", "eval", "predict", "summary", "filter"}) {
        const Run r = run(std::string(command) + " --help");
        BOOST_TEST(r.code == 0, command);
        BOOST_TEST(r.out.find("--help") != std::string::npos, command);
    }
    const Run v = run("--version");
    BOOST_TEST(v.code == 0);
    BOOST_TEST(v.out.find("textcnn ") == 0u, v.out);
}

BOOST_AUTO_TEST_CASE(ctrl_c_writes_a_checkpoint_and_exits_130_like_textcnn) {
    // Run in the background of a non-interactive shell, where SIGINT starts out ignored: only
    // the program's own handler (apps/common/training_cli.h) can act on it.
    trained();
    const std::string model = scratch("interrupted.model");
    std::filesystem::remove(model + ".ckpt");
    const std::string train = program + " train --images " + scratch("train-images.gz") + " --labels " +
                              scratch("train-labels") + " --arch-file " + scratch("tiny.json") +
                              " --class-names a,b,c --epochs 100000 --batch 32 --seed 5 --quiet --model " + model;
    const Run r = testing::run_program("sh -c '" + train + " & pid=$!; sleep 1; kill -INT $pid; wait $pid'",
                                       scratch("stderr.txt"));
    BOOST_TEST(r.code == 130, r.err);
    // As textcnn: the best model so far beside the checkpoint, usable at once.
    BOOST_TEST(r.err.find("interrupted: the model so far written to " + model + " (") == 0u, r.err);
    BOOST_TEST(r.err.find("\ninterrupted: checkpoint written to " + model + ".ckpt; continue with --resume " + model +
                          ".ckpt\n") != std::string::npos, r.err);
    BOOST_TEST_REQUIRE(std::filesystem::exists(model + ".ckpt"));
    BOOST_TEST(std::filesystem::exists(model));
    BOOST_TEST(nlohmann::json::parse(textcnn::ImageClassifier::load(model).training_facts())["interrupted"] == true);
    // The checkpoint continues with the same settings; other settings are refused, naming it.
    const Run other = run("train --images " + scratch("train-images.gz") + " --labels " + scratch("train-labels") +
                          " --arch-file " + scratch("tiny.json") + " --class-names a,b,c --epochs 3 --batch 16" +
                          " --seed 5 --quiet --model " + model + " --resume " + model + ".ckpt");
    BOOST_TEST(other.code == 2);
    BOOST_TEST(other.err == "imagecnn train: " + model + ".ckpt: trainer: the checkpoint was made with batch size 32, "
                                                          "this run has 16\n");
}
