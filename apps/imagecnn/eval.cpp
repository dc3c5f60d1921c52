// imagecnn eval: accuracy, per-class metrics and the confusion matrix of a model on IDX data.
#include "commands.h"
#include "output_fields.h"
#include "shared_options.h"

#include "textcnn/core/error.h"
#include "textcnn/core/files.h"
#include "textcnn/image/idx.h"
#include "textcnn/image/image_classifier.h"
#include "textcnn/nn/metrics.h"
#include "textcnn/core/runtime.h"

#include <fmt/format.h>

#include <chrono>
#include <memory>

namespace imagecnn {

namespace {

struct EvalOptions {
    std::string model;
    std::string images;
    std::string labels;
    bool json = false;
    bool quiet = false;
    // Images per Network::forward_chunked() call: it bounds memory, not speed (each call runs in
    // cache-sized chunks of 8 in parallel), so it is the reference protocol's 1000.
    std::size_t batch = 1000;
    std::size_t threads = 0;
};

void run_eval(const EvalOptions& options) {
    cli_common::check_one_standard_input({{"--images", options.images}, {"--labels", options.labels}});
    textcnn::ThreadLimit limit(options.threads);
    const auto model = textcnn::ImageClassifier::load(options.model);
    const textcnn::LabelledImages data = textcnn::read_idx_dataset(options.images, options.labels);
    // An all-zero report with exit code 0 would look like a result (as textcnn eval, exit 1).
    if (data.labels.empty())
        throw textcnn::InputError(textcnn::input_name(options.images) + ": holds no images; nothing to evaluate");
    for (std::size_t i = 0; i < data.labels.size(); ++i)
        if (data.labels[i] >= model.labels().size())
            throw textcnn::InputError(fmt::format("{}: label {} of item {} is not a class of the model ({} classes)",
                                                  textcnn::input_name(options.labels), data.labels[i], i,
                                                  model.labels().size()));

    const textcnn::Shape& shape = data.images.shape();  // (count, 1, rows, cols)
    const textcnn::ImageBatch images(data.images.values(), {shape[0], shape[2], shape[3], shape[1]});
    const auto start = std::chrono::steady_clock::now();
    const auto predictions = model.predict(images, options.batch);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::vector<std::uint32_t> predicted(predictions.size());
    for (std::size_t i = 0; i < predictions.size(); ++i) predicted[i] = predictions[i].label;

    textcnn::ConfusionMatrix confusion(model.labels());
    confusion.add(data.labels, predicted);
    const textcnn::ClassificationReport report = textcnn::classification_report(confusion);
    if (options.json)
        fmt::print("{}\n", textcnn::to_json(report));
    else
        fmt::print("{}", textcnn::to_text(report));
    if (!options.quiet)
        cli_common::print_stderr("evaluated {} images in {:.3f} s ({:.0f} images/s, batch {})\n", data.labels.size(), seconds,
                   data.labels.size() / std::max(seconds, 1e-9), options.batch);
}

}  // namespace

Command add_eval_command(CLI::App& app) {
    auto options = std::make_shared<EvalOptions>();
    CLI::App* cmd = app.add_subcommand("eval", "Evaluate a model on labelled IDX images: accuracy, per-class "
                                               "precision/recall/F1, macro-F1, confusion matrix");
    cmd->add_option("--model", options->model, "Model written by imagecnn train")->required();
    cmd->add_option("--images", options->images, "IDX image file (gzip or plain; '-' = standard input)")->required();
    cmd->add_option("--labels", options->labels, "IDX label file (gzip or plain; '-' = standard input)")->required();
    cmd->add_flag("--json", options->json,
                  "One JSON object: accuracy, macro_f1, per_class, labels, confusion (as textcnn eval)");
    cmd->add_option("--batch", options->batch, "Images per forward pass (each runs in parallel chunks of 8 images)")
        ->check(cli_common::positive<decltype(options->batch)>())
        ->capture_default_str();
    cmd->add_flag("--quiet", options->quiet, "No timing line on stderr");
    add_threads_option(*cmd, options->threads);
    return {cmd, [options] { run_eval(*options); }};
}

}  // namespace imagecnn
