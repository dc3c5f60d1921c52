// imagecnn predict: the label and probabilities of each image in IDX, PNG, JPEG or PGM files.
//
// An IDX file gives one line per image, named FILE#INDEX (0-based); any other file is decoded
// as one image. Images are not resized: one whose size differs from the model's input is an
// error naming both sizes. Colour images are converted to grey for a one-channel model (luma,
// see image_io.h), grey ones replicated for a three-channel model.
#include "commands.h"
#include "output_fields.h"
#include "shared_options.h"

#include "textcnn/core/error.h"
#include "textcnn/image/image_classifier.h"
#include "textcnn/core/runtime.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <memory>

namespace imagecnn {

namespace {

struct PredictOptions {
    std::string model;
    std::vector<std::string> files;
    bool probabilities = false;
    std::size_t top = 0;
    std::string format = "tsv";
    // Images per Network::forward_chunked() call: it bounds memory, not speed (each call runs in
    // cache-sized chunks of 8 in parallel), so it is the reference protocol's 1000.
    std::size_t batch = 1000;
    std::size_t threads = 0;
    std::size_t max_pixels = textcnn::ImageClassifier::default_max_pixels;
};

// One line of jsonl: input, label, probability (of the label) and every label's probability
// (with --top, the K best, best first).
std::string jsonl_line(const PredictOptions& o, const std::string& name, const textcnn::ImagePrediction& p,
                       const std::vector<std::string>& labels) {
    nlohmann::ordered_json line;
    line["input"] = name;
    line["label"] = labels[p.label];
    line["probability"] = p.probabilities[p.label];
    nlohmann::ordered_json all;
    if (o.top) {
        for (std::size_t k : cli_common::ranked_labels(p.probabilities, p.label, o.top)) all[labels[k]] = p.probabilities[k];
    } else {
        for (std::size_t k = 0; k < labels.size(); ++k) all[labels[k]] = p.probabilities[k];
    }
    line["probabilities"] = all;
    return cli_common::json_text(line) + "\n";
}

// One line of tsv or csv: input, label, probability and, with --prob, every label's
// probability in the order the header line names them; with --top, the K best labels and
// their probabilities, best first (the decision leading, as textcnn predict --top).
std::string delimited_line(const PredictOptions& o, const std::string& name, const textcnn::ImagePrediction& p,
                           const std::vector<std::string>& labels) {
    const char d = cli_common::output_delimiter(o.format);
    std::string line = cli_common::output_field(o.format, name) + d + cli_common::output_field(o.format, labels[p.label]) +
                       d + cli_common::probability_text(p.probabilities[p.label]);
    if (o.top) {
        for (std::size_t k : cli_common::ranked_labels(p.probabilities, p.label, o.top))
            line += d + cli_common::output_field(o.format, labels[k]) + d + cli_common::probability_text(p.probabilities[k]);
    } else if (o.probabilities) {
        for (float v : p.probabilities) line += d + cli_common::probability_text(v);
    }
    return line + "\n";
}

// With --prob in tsv and csv, a first line names the columns (as textcnn predict's).
std::string header_line(const PredictOptions& o, const std::vector<std::string>& labels) {
    if (!o.probabilities || o.top || o.format == "jsonl") return "";
    const char d = cli_common::output_delimiter(o.format);
    std::string line = std::string("input") + d + "label" + d + "probability";
    for (const auto& l : labels) line += d + cli_common::output_field(o.format, l);
    return line + "\n";
}

void run_predict(const PredictOptions& options) {
    cli_common::check_standard_input_once(options.files);
    textcnn::ThreadLimit limit(options.threads);
    const auto model = textcnn::ImageClassifier::load(options.model);
    check_max_pixels(options.max_pixels);
    const auto predictions = model.predict_files(options.files, options.batch, options.max_pixels);
    const auto& labels = model.labels();
    cli_common::warn_top_beyond_labels(options.top, labels.size());
    std::string out = header_line(options, labels);
    for (const auto& [name, prediction] : predictions) {
        out += options.format == "jsonl" ? jsonl_line(options, name, prediction, labels)
                                         : delimited_line(options, name, prediction, labels);
        if (out.size() > (1 << 16)) {
            std::fwrite(out.data(), 1, out.size(), stdout);
            out.clear();
        }
    }
    std::fwrite(out.data(), 1, out.size(), stdout);
}

}  // namespace

Command add_predict_command(CLI::App& app) {
    auto options = std::make_shared<PredictOptions>();
    CLI::App* cmd = app.add_subcommand(
        "predict", "Label images: IDX files (one line per image, NAME#INDEX), PNG, JPEG or PGM/PPM files (one line "
                   "each). tsv and csv: input, label, probability [, every class's probability with --prob]");
    cmd->add_option("--model", options->model, "Model written by imagecnn train")->required();
    CLI::Option* prob = cmd->add_flag("--prob", options->probabilities,
                                      "tsv and csv: also the probability of every class, in the model's label order (a "
                                      "first line names them; jsonl always has them)");
    // As textcnn predict's: 0 was taken for "off", and --prob beside it dropped, unsaid.
    cmd->add_option("--top", options->top,
                    "The K most probable classes with their probabilities, best first (after input, label, "
                    "probability; in jsonl, the K in 'probabilities'; not with --prob)")
        ->check(cli_common::positive<decltype(options->top)>())
        ->excludes(prob);
    cli_common::add_format_option(*cmd, options->format, "Output format");
    cmd->add_option("--batch", options->batch, "Images per forward pass (each runs in parallel chunks of 8 images)")
        ->check(cli_common::positive<decltype(options->batch)>())
        ->capture_default_str();
    add_threads_option(*cmd, options->threads);
    cmd->add_option("files", options->files, "Image or IDX files ('-' = standard input)")->required();
    add_max_pixels_option(*cmd, options->max_pixels);
    return {cmd, [options] { run_predict(*options); }};
}

}  // namespace imagecnn
