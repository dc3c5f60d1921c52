// imagecnn predict: the label and probabilities of each image in IDX, PNG, JPEG or PGM files.
//
// An IDX file gives one line per image, named FILE#INDEX (0-based); any other file is decoded
// as one image. Images are not resized: one whose size differs from the model's input is an
// error naming both sizes. Colour images are converted to grey for a one-channel model (luma,
// see image_io.h), grey ones replicated for a three-channel model.
#include "commands.h"
#include "image_model.h"

#include "textcnn/core/error.h"
#include "textcnn/image/idx.h"
#include "textcnn/image/image_io.h"
#include "textcnn/core/runtime.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstring>
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
    std::size_t max_pixels = textcnn::default_max_image_pixels;
};

bool is_idx_images(const std::vector<std::uint8_t>& bytes) {
    return bytes.size() >= 4 && bytes[0] == 0 && bytes[1] == 0 && bytes[2] == 0x08 && bytes[3] == 0x03;
}

// Every input image as one (N, C, H, W) tensor with a name per image.
struct Inputs {
    textcnn::Tensor images;
    std::vector<std::string> names;
};

Inputs gather(const std::vector<std::string>& files, const textcnn::Shape& want, std::size_t max_pixels) {
    const std::size_t channels = want[1], height = want[2], width = want[3];
    const std::size_t per = want.per_sample();
    std::vector<float> values;
    Inputs inputs;
    for (const auto& file : files) {
        const auto bytes = textcnn::read_file_maybe_gzip(file);
        if (is_idx_images(bytes)) {
            const textcnn::Tensor idx = textcnn::parse_idx_images(bytes, file);
            const auto& s = idx.shape();
            if (s[2] != height || s[3] != width || channels != 1)
                throw textcnn::InputError(fmt::format("{}: images are {}x{}x1 (width x height x channels), the model "
                                                      "expects {}x{}x{}",
                                                      file, s[3], s[2], width, height, channels));
            values.insert(values.end(), idx.values().begin(), idx.values().end());
            for (std::size_t i = 0; i < s[0]; ++i) inputs.names.push_back(fmt::format("{}#{}", file, i));
            continue;
        }
        if (bytes.size() >= 4 && bytes[0] == 0 && bytes[1] == 0 && bytes[2] == 0x08 && bytes[3] == 0x01)
            throw textcnn::InputError(file + ": an IDX label file; predict takes images (eval takes images and labels)");
        const textcnn::Image image = textcnn::decode_image(bytes, file, channels, max_pixels);
        if (image.width != width || image.height != height)
            throw textcnn::InputError(fmt::format("{}: image is {}x{} (width x height), the model expects {}x{}; resize "
                                                  "it first",
                                                  file, image.width, image.height, width, height));
        const textcnn::Tensor tensor = textcnn::image_to_tensor(image);
        values.insert(values.end(), tensor.values().begin(), tensor.values().end());
        inputs.names.push_back(file);
    }
    const std::size_t count = values.size() / per;
    inputs.images = textcnn::Tensor(want.with_batch(count), std::move(values));
    return inputs;
}

void run_predict(const PredictOptions& options) {
    if (options.format != "tsv" && options.format != "jsonl")
        throw UsageError("--format must be tsv or jsonl, got '" + options.format + "'");
    if (options.batch == 0) throw UsageError("--batch must be at least 1");
    check_max_pixels(options.max_pixels);
    textcnn::ThreadLimit limit(options.threads);
    const ImageModel model = load_image_model(options.model);
    const Inputs inputs = gather(options.files, model.input_shape(), options.max_pixels);
    const textcnn::Tensor probabilities = predict_probabilities(model.network, inputs.images, options.batch);
    const auto best = argmax_rows(probabilities);
    const std::size_t classes = model.labels.size();
    std::string out;
    for (std::size_t i = 0; i < inputs.names.size(); ++i) {
        const float* p = probabilities.sample(i);
        if (options.format == "jsonl") {
            nlohmann::ordered_json line;
            line["input"] = inputs.names[i];
            line["label"] = model.labels[best[i]];
            line["probability"] = p[best[i]];
            nlohmann::ordered_json all;
            for (std::size_t k = 0; k < classes; ++k) all[model.labels[k]] = p[k];
            line["probabilities"] = all;
            out += line.dump() + "\n";
        } else {
            out += fmt::format("{}\t{}\t{:.6f}", inputs.names[i], model.labels[best[i]], p[best[i]]);
            if (options.probabilities)
                for (std::size_t k = 0; k < classes; ++k) out += fmt::format("\t{}={:.6f}", model.labels[k], p[k]);
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
    add_max_pixels_option(*cmd, options->max_pixels);
    cmd->add_option("files", options->files, "Image or IDX files")->required();
    return {cmd, [options] { run_predict(*options); }};
}

}  // namespace imagecnn
