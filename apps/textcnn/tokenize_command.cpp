// textcnn tokenize: prints exactly what a model sees — each input document's tokens on one
// line, separated by single spaces (with --model, that model's tokenizer settings; with --ids,
// its vocabulary ids). One output line per document: an empty document gives an empty line.
// Tokens never contain white space, so the output splits back unambiguously.
//
//   textcnn tokenize [tokenizer options | --model M [--ids]] [input options] [FILE...]
#include "commands.h"
#include "output_fields.h"
#include "shared_options.h"

#include "textcnn/text/document_reader.h"
#include "textcnn/core/error.h"
#include "textcnn/core/runtime.h"
#include "textcnn/nn/model_file.h"
#include "textcnn/text/text_classifier.h"
#include "textcnn/text/tokenizer.h"
#include "textcnn/text/vocabulary.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>

namespace textcnn_cli {
namespace {

struct TokenizeOptions {
    std::string model_path;
    std::vector<std::string> files;
    std::size_t threads = 0;
    std::size_t chunk = 8192;
    bool ids = false;
    TokenizerCliOptions tokenizer;
    ReaderCliOptions reader;
};

/// Documents are tokenized in parallel a chunk at a time; a chunk also stops at this many
/// bytes, so memory stays bounded whatever the input.
constexpr std::size_t chunk_bytes = std::size_t{8} << 20;

void write_stdout(const std::string& text) {
    if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size()) throw textcnn::IoError(std::string("stdout: write error: ") + std::strerror(errno));
}

void run_tokenize(TokenizeOptions o) {
    using namespace textcnn;
    ThreadLimit threads(o.threads);
    std::optional<TextClassifier> model;
    if (!o.model_path.empty()) model.emplace(TextClassifier::from_model_file(read_model_file(o.model_path)));
    else if (o.ids) throw UsageError("--ids needs --model (the ids come from its vocabulary)");
    const Tokenizer tokenizer = model ? model->tokenizer() : Tokenizer(o.tokenizer.settings());
    if (o.files.empty()) o.files.push_back("-");
    // Not the lines of the first files and then an error on a later one.
    cli_common::check_standard_input_once(o.files);
    cli_common::check_input_files_open(o.files);

    std::vector<std::string> texts;
    std::vector<std::vector<std::string>> tokens;
    std::string out;
    // What the model reads: a model trained with --max-length reads the first max_length()
    // tokens of a text (before: every token was printed, and nothing said so).
    const std::size_t max_length = model ? model->max_length() : 0;
    std::size_t cut = 0;
    const auto flush = [&] {
        tokenizer.tokenize_batch(texts, tokens);
        out.clear();
        for (std::size_t d = 0; d < texts.size(); ++d) {
            if (max_length && tokens[d].size() > max_length) {
                tokens[d].resize(max_length);
                ++cut;
            }
            for (std::size_t i = 0; i < tokens[d].size(); ++i) {
                if (i) out += ' ';
                out += o.ids ? std::to_string(model->vocabulary().lookup(tokens[d][i])) : tokens[d][i];
            }
            out += '\n';
        }
        write_stdout(out);
        texts.clear();
    };
    for (const auto& path : o.files) {
        DocumentReader reader(path, o.reader.options(false, path));
        Document doc;
        std::size_t bytes = 0;
        while (reader.next(doc)) {
            bytes += doc.text.size();
            texts.push_back(std::move(doc.text));
            if (texts.size() >= o.chunk || bytes >= chunk_bytes) {
                flush();
                bytes = 0;
            }
        }
        flush();
        print_reader_warnings(reader.report());
    }
    if (std::fflush(stdout) != 0) throw IoError(std::string("stdout: write error: ") + std::strerror(errno));
    if (cut)
        cli_common::print_stderr("{} document{} cut to the model's maximum length of {} tokens, as the model reads {}\n", cut,
                   cut == 1 ? " was" : "s were", max_length, cut == 1 ? "it" : "them");
}

}  // namespace

Command add_tokenize_command(CLI::App& app) {
    auto o = std::make_shared<TokenizeOptions>();
    CLI::App* cmd = app.add_subcommand("tokenize", "Print each document's tokens on one line (stdin when no FILE)");
    cmd->add_option("files", o->files,
                    "Input files: .csv .tsv .ft .txt by extension (or --input-format); plain text is one document "
                    "per line; '-' is stdin");
    auto* model = cmd->add_option("--model", o->model_path, "Use this model's tokenizer settings");
    cmd->add_flag("--ids", o->ids, "Print vocabulary ids instead of tokens (needs --model)");
    cli_common::add_threads_option(*cmd, o->threads);
    cmd->add_option("--chunk", o->chunk, "Documents tokenized together (memory bound)")
        ->check(cli_common::in_range<decltype(o->chunk)>(std::size_t{1}, std::size_t{1} << 24))
        ->capture_default_str();
    o->tokenizer.add_to(*cmd);
    for (const char* name : {"--no-lowercase", "--no-normalize", "--punctuation", "--placeholders"})
        cmd->get_option(name)->excludes(model);
    o->reader.add_to(*cmd);
    return {cmd, [o] { run_tokenize(*o); }};
}

}  // namespace textcnn_cli
