// imagecnn: image classifiers (Fashion-MNIST and the like) on the textcnn backend.
//   imagecnn train | eval | predict | summary | filter   (each with --help)
#include "commands.h"

#include "textcnn/core/error.h"
#include "textcnn/core/runtime.h"

#include <fmt/format.h>

#include <vector>

namespace imagecnn {

void add_threads_option(CLI::App& command, std::size_t& threads) {
    command.add_option("--threads", threads, "Threads for TBB and OpenBLAS (0 = every core)")->capture_default_str();
}

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

void add_architecture_options(CLI::App& command, ArchitectureChoice& choice, bool with_default) {
    std::string names;
    for (const auto& name : textcnn::builtin_architecture_names()) names += (names.empty() ? "" : ", ") + name;
    auto* arch = command.add_option("--arch", choice.name, "Built-in architecture: " + names);
    if (with_default) arch->capture_default_str();
    auto* file = command.add_option("--arch-file", choice.file,
                                    "Architecture file (JSON; format in data/architectures/README.md)");
    arch->excludes(file);
}

textcnn::Architecture load_architecture(const ArchitectureChoice& choice) {
    if (!choice.file.empty()) return textcnn::read_architecture_file(choice.file);
    try {
        (void)textcnn::builtin_architecture_text(choice.name);
    } catch (const textcnn::ConfigError& e) {
        throw UsageError(std::string("--arch: ") + e.what());
    }
    return textcnn::builtin_architecture(choice.name);
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
