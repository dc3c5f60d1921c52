// textcnn quantize: writes a prediction-only copy of a text model whose folded tables are int8
// (one scale per filter) and stored in the file, without the float weights: smaller in memory,
// nothing to build at load (fastText's word for its own compression step).
#include "commands.h"
#include "text_training_cli.h"
#include "output_fields.h"
#include "shared_options.h"

#include "textcnn/core/error.h"
#include "textcnn/core/number_text.h"
#include "textcnn/core/runtime.h"
#include "textcnn/nn/model_file.h"
#include "textcnn/text/text_classifier.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

namespace textcnn_cli {
namespace {

using textcnn::byte_size_text;

struct QuantizeOptions {
    std::string model_path, out_path;
    bool compact = false, refine = false;
    std::size_t threads = 0;
};

// The size of what was written at `path`, or what it is when it has none (a FIFO, a device).
std::string written_size(const std::string& path) {
    std::error_code error;
    const auto bytes = std::filesystem::file_size(path, error);
    return error ? std::string("a file without a size (not a regular file)") : byte_size_text(bytes);
}

void run_quantize(const QuantizeOptions& o) {
    using namespace textcnn;
    // The quantized copy is for prediction only: written over the float model, that is lost.
    cli_common::check_distinct_files({{"--out", o.out_path}}, {{"--model", o.model_path}});
    ThreadLimit threads(o.threads);
    TextClassifier model = TextClassifier::from_model_file(read_model_file(o.model_path));
    cli_common::warn_if_checkpoint(model, o.model_path);
    if (model.quantized()) {
        // Bad input rather than a bad command line (exit 1); the float model it came from, when recorded.
        const auto from = model.metadata.find("quantized_from");
        throw InputError(o.model_path + " is already quantized (its float weights are not in it); quantize the float model" +
                         (from != model.metadata.end() && !from->second.empty()
                              ? " it was made from: " + cli_common::tsv_field(from->second)
                              : std::string(" written by textcnn train")));
    }
    const auto input_bytes = std::filesystem::file_size(o.model_path);
    const std::size_t float_bytes = model.fold_table_bytes();
    try {
        using Form = TextClassifier::QuantizedTables;
        model.quantize(o.compact ? (o.refine ? Form::compact_refined : Form::compact)
                                 : (o.refine ? Form::refined : Form::stored));
    } catch (const ConfigError& e) {
        throw UsageError(o.model_path + ": " + e.what());
    }
    model.metadata["quantized_from"] = o.model_path;
    model.save(o.out_path);
    const auto largest = [](const std::vector<float>& bound) {
        return bound.empty() ? 0.0f : *std::max_element(bound.begin(), bound.end());
    };
    cli_common::print_stderr(
               "{}: int8 tables{}{} of {} (float tables: {}); file {} -> {}; "
               "each logit within {:.3g} of the float model's{}\n",
               o.out_path, o.refine ? " and residual codes" : "", o.compact ? " (made at load)" : "",
               byte_size_text(model.fold_table_bytes()), byte_size_text(float_bytes), byte_size_text(input_bytes),
               written_size(o.out_path),
               largest(model.quantization_error_bound()),
               o.refine ? fmt::format(", and within {:.3g} for a text scored again (its label in doubt)",
                                      largest(model.refined_error_bound()))
                        : std::string());
}

}  // namespace

Command add_quantize_command(CLI::App& app) {
    auto o = std::make_shared<QuantizeOptions>();
    CLI::App* cmd = app.add_subcommand(
        "quantize", "Write a prediction-only copy of a model with int8 folded tables (faster to load and to score, "
                    "smaller in memory; labels rarely change; --refine: the float model's labels; --compact: a "
                    "third of the file)");
    cmd->add_option("--model", o->model_path, "Model file written by textcnn train")->required();
    cmd->add_option("--out", o->out_path, "Where to write the quantized model")->required();
    cli_common::add_threads_option(*cmd, o->threads);
    cmd->add_flag("--compact", o->compact,
                  "Store int8 embeddings (one scale per word) and the convolution weights instead of the tables, "
                  "which are made again at load: a quarter of the stored tables' bytes for Kim's model (a file "
                  "about a third of the float model's), and a GEMM at each load");
    cmd->add_flag("--refine", o->refine,
                  "Also store a 4-bit residual code per table value (file and memory: half the tables' bytes "
                  "again): a text whose label the int8 tables leave in doubt is scored again at a 14th of their "
                  "rounding error, so arg-max labels differ from the float model's only for texts whose top two "
                  "logits it puts within twice that bound (printed here) of each other; --threshold decisions of "
                  "predict, eval and textcnn-mail classify likewise (a text near a threshold is scored again "
                  "too). With --compact, the file stays "
                  "compact and the residual codes are made at load; the embedding's rounding remains in the bound");
    return {cmd, [o] { run_quantize(*o); }};
}

}  // namespace textcnn_cli
