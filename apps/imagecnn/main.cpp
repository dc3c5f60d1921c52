// imagecnn: image classifiers (Fashion-MNIST and the like) on the textcnn backend.
//   imagecnn train | eval | predict | summary | filter   (each with --help)
#include "commands.h"

#include "textcnn/core/error.h"
#include "textcnn/core/runtime.h"
#include "textcnn/image/image_network.h"

#include <fmt/format.h>

#include <vector>

namespace imagecnn {

void add_max_pixels_option(CLI::App& command, std::size_t& max_pixels) {
    command
        .add_option("--max-pixels", max_pixels,
                    "Refuse PNG, JPEG and PGM/PPM images of more than this many pixels (width x height), from the "
                    "file's header before decoding (a small file can claim a huge image); raise it for larger photos")
        ->capture_default_str();
}

void check_max_pixels(std::size_t max_pixels) {
    if (max_pixels == 0) throw UsageError("--max-pixels must be at least 1");
}

void add_architecture_options(CLI::App& command, std::string& name, std::string& file, bool with_default) {
    std::string names;
    for (const auto& known : textcnn::builtin_architecture_names()) names += (names.empty() ? "" : ", ") + known;
    auto* arch = command.add_option("--arch", name, "Built-in architecture: " + names);
    if (with_default) arch->capture_default_str();
    auto* arch_file = command.add_option("--arch-file", file,
                                         "Architecture file (JSON; format in data/architectures/README.md)");
    arch->excludes(arch_file);
}

void check_architecture_name(const std::string& name, const std::string& file) {
    if (!file.empty()) return;
    try {
        (void)textcnn::builtin_architecture_text(name);
    } catch (const textcnn::ConfigError& e) {
        throw UsageError(std::string("--arch: ") + e.what());
    }
}

textcnn::Architecture load_architecture(const std::string& name, const std::string& file) {
    check_architecture_name(name, file);
    return textcnn::image_architecture(name, file);
}

}  // namespace imagecnn

int main(int argc, char** argv) {
    using namespace imagecnn;
    CLI::App app{"imagecnn: train and run image classifiers (Fashion-MNIST and the like) on the textcnn backend"};
    app.set_version_flag("--version", [] { return textcnn::build_info(); });
    app.require_subcommand(1);
    app.fallthrough(false);
    std::vector<Command> commands = {add_train_command(app), add_eval_command(app), add_predict_command(app),
                                     add_summary_command(app), add_filter_command(app)};
    return cli_common::run_program(app, commands, "imagecnn", argc, argv);
}
