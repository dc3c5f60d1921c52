// imagecnn summary: the Keras-like table of a saved model or of an architecture.
#include "commands.h"
#include "output_fields.h"
#include "network_json.h"
#include "shared_options.h"
#include "textcnn/image/image_classifier.h"
#include "textcnn/image/image_network.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace imagecnn {

namespace {

struct SummaryOptions {
    std::string model;
    std::string arch, arch_file;
    std::vector<std::size_t> input;
    std::size_t classes = 10;
    bool json = false;
};

std::string labels_text(const std::vector<std::string>& labels) {
    std::string text;
    for (std::size_t i = 0; i < labels.size(); ++i) text += fmt::format("{}{} {}", i ? ", " : "", i, labels[i]);
    return text;
}

void run_summary(const SummaryOptions& options) {
    if (options.model.empty() == (options.arch.empty() && options.arch_file.empty()))
        throw UsageError("give either --model or --arch / --arch-file");
    if (!options.model.empty()) {
        const auto model = textcnn::ImageClassifier::load(options.model);
        const textcnn::ImageShape in = model.input_shape();
        if (options.json) {
            nlohmann::ordered_json j = cli_common::network_json(model.network());
            j["architecture"] = model.architecture();
            j["input"] = {{"height", in.height}, {"width", in.width}, {"channels", in.channels}};
            j["labels"] = model.labels();
            j["training"] = nlohmann::ordered_json::parse(model.training_facts());
            fmt::print("{}\n", cli_common::json_text(j, 2));
            return;
        }
        fmt::print("Model: {}\n", options.model);
        fmt::print("Architecture: {}\n", model.architecture());
        fmt::print("Input: {}x{}x{} (height x width x channels), pixels scaled by 1/255\n", in.height, in.width,
                   in.channels);
        fmt::print("Labels ({}): {}\n", model.labels().size(), labels_text(model.labels()));
        fmt::print("{}", model.summary());
        const auto training = nlohmann::ordered_json::parse(model.training_facts());
        if (!training.empty()) fmt::print("Training: {}\n", cli_common::json_text(training, 2));
        return;
    }
    textcnn::Architecture arch = load_architecture(options.arch, options.arch_file);
    const textcnn::Shape sample = textcnn::image_sample_shape(arch, options.input);
    const textcnn::Network net = textcnn::build_image_network(arch, sample, options.classes);
    if (options.json) {
        nlohmann::ordered_json j = cli_common::network_json(net);
        j["architecture"] = arch.name;
        j["description"] = arch.description;
        j["input"] = {{"height", sample[2]}, {"width", sample[3]}, {"channels", sample[1]}};
        j["classes"] = options.classes;
        fmt::print("{}\n", cli_common::json_text(j, 2));
        return;
    }
    fmt::print("Architecture: {}\n", arch.name);
    if (!arch.description.empty()) fmt::print("{}\n", arch.description);
    fmt::print("Input: {}x{}x{} (height x width x channels), {} classes\n", sample[2], sample[3], sample[1],
               options.classes);
    fmt::print("{}", net.summary_table());
}

}  // namespace

Command add_summary_command(CLI::App& app) {
    auto options = std::make_shared<SummaryOptions>();
    CLI::App* cmd = app.add_subcommand("summary", "Print a model's or an architecture's layers, output shapes and "
                                                  "parameter counts (like Keras model.summary())");
    cmd->add_option("--model", options->model, "A model written by imagecnn train");
    add_architecture_options(*cmd, options->arch, options->arch_file, false);
    cli_common::add_list_option<std::size_t>(
        *cmd, "--input", options->input,
        "Input shape channels,height,width for --arch (default: the file's, else 1,28,28)", "C,H,W",
        cli_common::positive_element<std::size_t>, [](const std::vector<std::size_t>& shape) {
            return shape.size() == 3 ? std::string()
                                     : "give 3 numbers, channels,height,width (" + std::to_string(shape.size()) + " given)";
        });
    cmd->add_option("--classes", options->classes, "Classes for --arch (the size of 'units: classes')")
        ->capture_default_str()
        ->check(cli_common::positive<decltype(options->classes)>());
    cmd->add_flag("--json", options->json, "As one JSON object (layers, parameter counts, input, labels, training)");
    return {cmd, [options] { run_summary(*options); }};
}

}  // namespace imagecnn
