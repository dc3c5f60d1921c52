// textcnn tokenize: prints each input document's tokens on one line, separated by spaces, so
// users see exactly what the model sees (with --model, that model's tokenizer settings).
#include "commands.h"

#include "textcnn/runtime.h"
#include "textcnn/text_classifier.h"

#include <cstdio>
#include <optional>

namespace textcnn_cli {
namespace {

struct TokenizeOptions {
    std::string model_path;
    std::vector<std::string> files;
    std::size_t threads = 0, chunk = 8192;
    bool ids = false;
    TokenizerCliOptions tokenizer;
    ReaderCliOptions reader;
};

void run_tokenize(TokenizeOptions o) {
    using namespace textcnn;
    ThreadLimit threads(o.threads);
    std::optional<TextClassifier> model;
    if (!o.model_path.empty()) model.emplace(TextClassifier::load(o.model_path));
    else if (o.ids) throw UsageError("--ids needs --model (the ids come from its vocabulary)");
    const Tokenizer tokenizer = model ? model->tokenizer() : Tokenizer(o.tokenizer.settings());
    if (o.files.empty()) o.files.push_back("-");

    std::vector<std::string> texts;
    std::string line;
    auto flush = [&] {
        const auto tokens = tokenizer.tokenize_batch(texts);
        for (const auto& doc : tokens) {
            line.clear();
            for (std::size_t i = 0; i < doc.size(); ++i) {
                if (i) line += ' ';
                line += o.ids ? std::to_string(model->vocabulary().lookup(doc[i])) : doc[i];
            }
            line += '\n';
            std::fwrite(line.data(), 1, line.size(), stdout);
        }
        texts.clear();
    };
    for (const auto& path : o.files) {
        DocumentReader reader(path, o.reader.options(false));
        Document doc;
        while (reader.next(doc)) {
            texts.push_back(std::move(doc.text));
            if (texts.size() == o.chunk) flush();
        }
    }
    flush();
}

}  // namespace

Command add_tokenize_command(CLI::App& app) {
    auto o = std::make_shared<TokenizeOptions>();
    CLI::App* cmd = app.add_subcommand("tokenize", "Print each document's tokens on one line (stdin when no FILE)");
    cmd->add_option("files", o->files, "Input files (plain text: one document per line; CSV/TSV: --text-column)");
    auto* model = cmd->add_option("--model", o->model_path, "Use this model's tokenizer settings")->check(CLI::ExistingFile);
    cmd->add_flag("--ids", o->ids, "Print vocabulary ids instead of tokens (needs --model)");
    cmd->add_option("--threads", o->threads, "Threads (0 = every core)")->capture_default_str();
    o->tokenizer.add_to(*cmd);
    for (const char* name : {"--no-lowercase", "--no-normalize", "--punctuation", "--placeholders"})
        cmd->get_option(name)->excludes(model);
    o->reader.add_to(*cmd);
    return {cmd, [o] { run_tokenize(*o); }};
}

}  // namespace textcnn_cli
