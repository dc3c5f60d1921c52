// imagecnn predict: the label and probabilities of each image in IDX, PNG, JPEG or PGM files.
//
// An IDX file gives one line per image, named FILE#INDEX (0-based); any other file is decoded
// as one image. Images are not resized: one whose size differs from the model's input is an
// error naming both sizes. Colour images are converted to grey for a one-channel model (luma,
// see image_io.h), grey ones replicated for a three-channel model.
#include "commands.h"

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
    std::string format = "tsv";
    // Images per Network::forward_chunked() call: it bounds memory, not speed (each call runs in
    // cache-sized chunks of 8 in parallel), so it is the reference protocol's 1000.
    std::size_t batch = 1000;
    std::size_t threads = 0;
    std::size_t max_pixels = textcnn::ImageClassifier::default_max_pixels;
};

void run_predict(const PredictOptions& options) {
    if (options.format != "tsv" && options.format != "jsonl")
        throw UsageError("--format must be tsv or jsonl, got '" + options.format + "'");
    if (options.batch == 0) throw UsageError("--batch must be at least 1");
    textcnn::ThreadLimit limit(options.threads);
    const auto model = textcnn::ImageClassifier::load(options.model);
    check_max_pixels(options.max_pixels);
    const auto predictions = model.predict_files(options.files, options.batch, options.max_pixels);
    const auto& labels = model.labels();
    std::string out;
    for (const auto& [name, prediction] : predictions) {
        const std::vector<float>& p = prediction.probabilities;
        const std::size_t best = prediction.label;
        if (options.format == "jsonl") {
            nlohmann::ordered_json line;
            line["input"] = name;
            line["label"] = labels[best];
            line["probability"] = p[best];
            nlohmann::ordered_json all;
            for (std::size_t k = 0; k < labels.size(); ++k) all[labels[k]] = p[k];
            line["probabilities"] = all;
            out += line.dump() + "\n";
        } else {
            out += fmt::format("{}\t{}\t{:.6f}", name, labels[best], p[best]);
            if (options.probabilities)
                for (std::size_t k = 0; k < labels.size(); ++k) out += fmt::format("\t{}={:.6f}", labels[k], p[k]);
            out += "\n";
        }
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
                   "each). tsv: input, label, probability [, label=probability for every class with --prob]");
    cmd->add_option("--model", options->model, "Model written by imagecnn train")->required();
    cmd->add_flag("--prob", options->probabilities, "tsv: also the probability of every class");
    cmd->add_option("--format", options->format, "tsv or jsonl (jsonl always has every probability)")
        ->capture_default_str();
    cmd->add_option("--batch", options->batch, "Images per forward pass (each runs in parallel chunks of 8 images)")
        ->capture_default_str();
    add_threads_option(*cmd, options->threads);
    cmd->add_option("files", options->files, "Image or IDX files")->required();
    add_max_pixels_option(*cmd, options->max_pixels);
    return {cmd, [options] { run_predict(*options); }};
}

}  // namespace imagecnn
