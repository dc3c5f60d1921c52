// textcnn quantize: writes a prediction-only copy of a text model whose folded tables are int8
// (one scale per filter) and stored in the file, without the float weights: smaller in memory,
// nothing to build at load (fastText's word for its own compression step).
#include "commands.h"

#include "textcnn/core/error.h"
#include "textcnn/nn/model_file.h"
#include "textcnn/text/text_classifier.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <memory>

namespace textcnn_cli {
namespace {

struct QuantizeOptions {
    std::string model_path, out_path;
    bool compact = false;
};

void run_quantize(const QuantizeOptions& o) {
    using namespace textcnn;
    TextClassifier model = TextClassifier::from_model_file(read_model_file(o.model_path));
    if (model.quantized()) throw UsageError(o.model_path + " is already quantized");
    const std::size_t float_bytes = model.fold_table_bytes();
    try {
        model.quantize(o.compact ? TextClassifier::QuantizedTables::compact : TextClassifier::QuantizedTables::stored);
    } catch (const ConfigError& e) {
        throw UsageError(o.model_path + ": " + e.what());
    }
    model.metadata["quantized_from"] = o.model_path;
    model.save(o.out_path);
    const auto bound = model.quantization_error_bound();
    fmt::print(stderr,
               "{}: int8 tables of {:.1f} MB (float tables: {:.1f} MB); file {:.1f} MB -> {:.1f} MB; "
               "each logit within {:.3g} of the float model's\n",
               o.out_path, model.fold_table_bytes() / 1e6, float_bytes / 1e6,
               std::filesystem::file_size(o.model_path) / 1e6, std::filesystem::file_size(o.out_path) / 1e6,
               bound.empty() ? 0.0f : *std::max_element(bound.begin(), bound.end()));
}

}  // namespace

Command add_quantize_command(CLI::App& app) {
    auto o = std::make_shared<QuantizeOptions>();
    CLI::App* cmd = app.add_subcommand(
        "quantize", "Write a prediction-only copy of a model with int8 folded tables stored in the file (smaller, "
                    "faster to load and to score; labels rarely change)");
    cmd->add_option("--model", o->model_path, "Model file written by textcnn train")->required();
    cmd->add_option("--out", o->out_path, "Where to write the quantized model")->required();
    cmd->add_flag("--compact", o->compact,
                  "Store int8 embeddings (one scale per word) and the convolution weights instead of the tables, "
                  "which are made again at load: a quarter of the stored tables' bytes for Kim's model (a file "
                  "about a third of the float model's), and a GEMM at each load");
    return {cmd, [o] { run_quantize(*o); }};
}

}  // namespace textcnn_cli
