// imagecnn filter: the article's predefined kernels (Sobel x/y, Laplace, Gaussian) applied to an
// image through the backend's convolution layer, the feature map written as a PNG.
//
// The image is read as grey (RGB -> luma, see image_io.h) and scaled to [0, 1]. Each kernel of
// the chain is one conv layer {"filter": NAME, "padding": "same"} (3x3, fixed weights, no bias,
// cross-correlation as in every CNN library; see filters.h), so the map keeps the image's size
// and the border sees zero padding. The float map is then written with one of three scalings:
//   abs     |v| / max|v| * 255: edge strength whatever its sign (default for edge kernels)
//   minmax  (v - min) / (max - min) * 255: the signed response, 0 at mid grey when symmetric
//   clip    clamp(v, 0, 1) * 255: the input's own scale (default when every kernel is gaussian,
//           so a smoothed image keeps its brightness)
#include "output_fields.h"
#include "commands.h"
#include "shared_options.h"

#include "textcnn/core/files.h"
#include "textcnn/core/error.h"
#include "textcnn/nn/filters.h"
#include "textcnn/image/image_io.h"
#include "textcnn/nn/network.h"
#include "textcnn/core/runtime.h"

#include <fmt/format.h>

#include <algorithm>
#include <memory>

namespace imagecnn {

namespace {

struct FilterOptions {
    std::vector<std::string> kernels;
    bool smooth = false;
    std::string scale = "auto";
    std::string input;
    std::string output;
    std::size_t threads = 0;
    std::size_t max_pixels = textcnn::default_max_image_pixels;
};

void run_filter(const FilterOptions& options) {
    const auto known = textcnn::predefined_filter_names();
    std::vector<std::string> chain;
    if (options.smooth) chain.push_back("gaussian");
    for (const auto& name : options.kernels) {
        if (std::find(known.begin(), known.end(), name) == known.end()) {
            std::string list;
            for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
            throw UsageError("--kernel: unknown kernel '" + name + "' (known: " + list + ")");
        }
        chain.push_back(name);
    }
    if (chain.empty()) throw UsageError("--kernel: give at least one kernel");
    check_max_pixels(options.max_pixels);
    std::string scale = options.scale;
    if (scale == "auto")
        scale = std::all_of(chain.begin(), chain.end(), [](const std::string& k) { return k == "gaussian"; }) ? "clip"
                                                                                                              : "abs";
    textcnn::PixelScaling scaling;
    try {
        scaling = textcnn::parse_pixel_scaling(scale);
    } catch (const textcnn::ConfigError& e) {
        throw UsageError(std::string("--scale: ") + e.what());
    }

    cli_common::check_distinct_files({{"output", options.output}}, {{"input", options.input}});
    textcnn::ThreadLimit limit(options.threads);
    const textcnn::Image image = textcnn::read_image(options.input, 1, options.max_pixels);
    const textcnn::Tensor input = textcnn::image_to_tensor(image);

    textcnn::ModelSpec spec;
    for (std::size_t i = 0; i < chain.size(); ++i) {
        textcnn::LayerSpec conv;
        conv.type = "conv";
        conv.name = fmt::format("{}_{}", chain[i], i + 1);
        conv.settings = {{"filter", chain[i]}, {"padding", "same"}};
        spec.push_back(conv);
    }
    textcnn::Network net(spec, input.shape());
    net.initialize(textcnn::Initializer{}, 0);  // loads the fixed kernels
    auto ws = net.make_workspace();
    textcnn::RunContext ctx;
    const textcnn::Tensor& map = net.forward(input, ws, ctx);

    textcnn::write_png(options.output, textcnn::tensor_to_image(map, 0, 0, scaling));
    const auto values = map.values();
    const auto [lo, hi] = std::minmax_element(values.begin(), values.end());
    std::string names;
    for (const auto& k : chain) names += (names.empty() ? "" : " -> ") + k;
    // On stdout, unless the feature map went there (`filter ... /dev/stdout | display`).
    std::FILE* said = textcnn::output_target(options.output).descriptor == STDOUT_FILENO ? stderr : stdout;
    fmt::print(said, "{}: {}x{} feature map of {} (response {:.4g} .. {:.4g}), written with scaling {}\n",
               cli_common::tsv_field(options.output),
               image.width, image.height, names, *lo, *hi, scale);
}

}  // namespace

Command add_filter_command(CLI::App& app) {
    auto options = std::make_shared<FilterOptions>();
    CLI::App* cmd = app.add_subcommand(
        "filter", "Apply predefined kernels (sobel-x, sobel-y, laplace, gaussian) to an image through the backend's "
                  "convolution layer and write the feature map as a PNG");
    cli_common::add_list_option<std::string>(
        *cmd, "--kernel", options->kernels,
        "Kernels applied in order, comma-separated: sobel-x, sobel-y, laplace, gaussian (e.g. gaussian,laplace)",
        "NAME,...",
        [](const std::string& element, std::string& name) {
            name = element;
            return std::string();
        })
        ->required();
    cmd->add_flag("--smooth", options->smooth, "Gaussian smoothing before the first kernel (advised before laplace)");
    cmd->add_option("--scale", options->scale,
                    "Feature map -> pixels: abs (|v|/max|v|), minmax, clip (v in [0,1]); auto = clip for "
                    "gaussian-only chains, abs otherwise")
        ->capture_default_str();
    add_threads_option(*cmd, options->threads);
    add_max_pixels_option(*cmd, options->max_pixels);
    cmd->add_option("input", options->input,
                    "Input image (PNG, JPEG, PGM/PPM; colour is converted to grey; '-' = standard input)")
        ->required();
    cmd->add_option("output", options->output, "Output PNG")->required();
    return {cmd, [options] { run_filter(*options); }};
}

}  // namespace imagecnn
