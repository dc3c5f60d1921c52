#include "textcnn/text/text_classifier.h"

#include "text/folded_text_cnn.h"
#include "textcnn/text/batching.h"
#include "textcnn/core/bytes.h"
#include "textcnn/core/error.h"
#include "textcnn/nn/loss.h"
#include "textcnn/nn/model_file.h"
#include "textcnn/nn/network.h"
#include "textcnn/text/tokenizer.h"
#include "textcnn/text/vocabulary.h"

#include <fmt/format.h>
#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/enumerable_thread_specific.h>
#include <oneapi/tbb/parallel_for.h>

#include <algorithm>
#include <sstream>

namespace textcnn {

ModelSpec text_cnn_spec(const TextModelSettings& settings, std::size_t vocab_size, std::size_t classes) {
    if (settings.widths.empty()) throw ConfigError("text model: at least one filter width is needed");
    if (settings.maps == 0) throw ConfigError("text model: maps must be at least 1");
    if (settings.embedding_dim == 0) throw ConfigError("text model: embedding_dim must be at least 1");
    if (classes < 2) throw ConfigError("text model: at least 2 classes are needed, got " + std::to_string(classes));
    ModelSpec spec;
    LayerSpec embedding{"embedding",
                        "embedding",
                        {{"vocab", std::to_string(vocab_size)},
                         {"dim", std::to_string(settings.embedding_dim)},
                         {"mode", settings.embedding_mode}},
                        {}};
    // Only when used, so models trained without it keep the settings older readers know.
    if (settings.word_dropout > 0.0f) embedding.settings["word_dropout"] = fmt::format("{}", settings.word_dropout);
    spec.push_back(std::move(embedding));
    LayerSpec parallel{"parallel", "widths", {}, {}};
    for (std::size_t width : settings.widths) {
        if (width == 0) throw ConfigError("text model: filter width 0");
        const std::string w = std::to_string(width);
        parallel.branches.push_back({
            {"conv", "conv_" + w, {{"filters", std::to_string(settings.maps)}, {"kernel", w}, {"padding", "full"}}, {}},
            {settings.activation, settings.activation + "_" + w, {}, {}},
            {"global_max_pool", "max_over_time_" + w, {}, {}},
        });
    }
    spec.push_back(std::move(parallel));
    spec.push_back({"dropout", "dropout", {{"rate", std::to_string(settings.dropout)}}, {}});
    if (settings.word_ngrams > 0) {
        // Wide and deep: the token ids go to the convolutions (the deep branch, ending in its
        // dropout) and to the n-gram bag (the wide branch); one output layer reads both.
        if (settings.word_ngrams >= 2 && settings.ngram_buckets == 0)
            throw ConfigError("text model: word n-grams of n >= 2 need at least one hash bucket");
        if (settings.ngram_dim == 0) throw ConfigError("text model: the n-gram bag needs a dimension of at least 1");
        LayerSpec bag{"ngram_bag",
                      "ngrams",
                      {{"vocab", std::to_string(vocab_size)},
                       {"dim", std::to_string(settings.ngram_dim)},
                       {"ngrams", std::to_string(settings.word_ngrams)},
                       {"buckets", std::to_string(settings.word_ngrams >= 2 ? settings.ngram_buckets : 0)},
                       {"reduce", settings.ngram_reduce}},
                      {}};
        LayerSpec both{"parallel", "wide_and_deep", {}, {}};
        both.branches.push_back(std::move(spec));
        both.branches.push_back({std::move(bag)});
        spec = ModelSpec{std::move(both)};
    }
    spec.push_back({"dense", "output", {{"units", std::to_string(classes)}}, {}});
    return spec;
}

namespace {

// The widest zero padding any convolution of the spec asks for: the gap packed texts need.
std::size_t widest_padding(const std::vector<LayerSpec>& layers) {
    std::size_t widest = 0;
    for (const LayerSpec& layer : layers) {
        if (layer.type == "conv") {
            const std::string padding = layer.get_string("padding", "valid");
            const auto kernel = layer.get_ints("kernel", {1});
            const auto dilation = layer.get_ints("dilation", {1});
            const std::size_t extent = static_cast<std::size_t>(dilation.front() * (kernel.front() - 1));
            if (padding == "full") widest = std::max(widest, extent);
            if (padding == "same") widest = std::max(widest, extent - extent / 2);
        }
        for (const auto& branch : layer.branches) widest = std::max(widest, widest_padding(branch));
    }
    return widest;
}

}  // namespace

struct TextClassifier::Impl {
    Impl(TokenizerSettings tokenizer_settings, Vocabulary vocabulary, std::vector<std::string> labels,
         Network network)
        : tokenizer_settings(tokenizer_settings),
          tokenizer(tokenizer_settings),
          vocabulary(std::move(vocabulary)),
          labels(std::move(labels)),
          network(std::move(network)),
          gap(widest_padding(this->network.spec())) {}

    struct PerThread {
        Network::Workspace workspace;
        Tensor packed;
        Tensor probabilities;
        std::vector<std::string> tokens;
        std::vector<std::vector<std::uint32_t>> ids;
        std::vector<float> folded_scratch;
    };

    TokenizerSettings tokenizer_settings;
    Tokenizer tokenizer;
    Vocabulary vocabulary;
    std::vector<std::string> labels;
    Network network;
    std::size_t gap = 0;
    tbb::enumerable_thread_specific<PerThread> threads;
    std::unique_ptr<const detail::FoldedTextCnn> folded;
};

TextClassifier::TextClassifier(TokenizerSettings tokenizer, Vocabulary vocabulary, std::vector<std::string> labels,
                               Network network)
    : impl_(std::make_unique<Impl>(tokenizer, std::move(vocabulary), std::move(labels), std::move(network))) {
    const Shape out = impl_->network.output_shape(1);
    if (out.rank() != 2 || out.channels() != impl_->labels.size())
        throw ShapeError("text classifier: the network's output " + out.str() + " does not give one logit for each of " +
                         std::to_string(impl_->labels.size()) + " labels");
}

TextClassifier::~TextClassifier() = default;
TextClassifier::TextClassifier(TextClassifier&&) noexcept = default;
TextClassifier& TextClassifier::operator=(TextClassifier&&) noexcept = default;

void TextClassifier::save(const std::string& path) const { write_model_file(path, to_model_file()); }

TextClassifier TextClassifier::load(const std::string& path) {
    TextClassifier model = from_model_file(read_model_file(path));
    model.fold_for_prediction();
    return model;
}

const std::vector<std::string>& TextClassifier::labels() const { return impl_->labels; }
const Tokenizer& TextClassifier::tokenizer() const { return impl_->tokenizer; }
const Vocabulary& TextClassifier::vocabulary() const { return impl_->vocabulary; }
const Network& TextClassifier::network() const { return impl_->network; }
std::size_t TextClassifier::gap() const { return impl_->gap; }
bool TextClassifier::folded() const { return impl_->folded != nullptr; }

Network& TextClassifier::network() {
    drop_folding();
    return impl_->network;
}

bool TextClassifier::fold_for_prediction(std::size_t max_bytes) {
    auto folded = detail::FoldedTextCnn::fold(impl_->network, max_bytes);
    if (folded) impl_->folded = std::make_unique<const detail::FoldedTextCnn>(std::move(*folded));
    else impl_->folded.reset();
    return impl_->folded != nullptr;
}

void TextClassifier::drop_folding() { impl_->folded.reset(); }

std::size_t TextClassifier::fold_table_bytes() const { return detail::FoldedTextCnn::table_bytes(impl_->network); }

ModelFile TextClassifier::to_model_file() const {
    ModelFile file;
    add_network_sections(file, impl_->network);
    file.set("TOKN", 1, encode_string_map(impl_->tokenizer_settings.to_map()));
    std::vector<std::uint8_t> vocab;
    impl_->vocabulary.write(vocab);
    file.set("VOCB", 1, std::move(vocab));
    set_labels(file, impl_->labels);
    set_metadata(file, metadata);
    return file;
}

TextClassifier TextClassifier::from_model_file(const ModelFile& file) {
    const std::string& source = file.source;
    for (const char* tag : {"TOKN", "VOCB", "LABL"})
        if (!file.find(tag))
            throw InputError(source + ": not a text model (no '" + std::string(tag) +
                             "' section; an image model is used with imagecnn)");
    Network network = network_from_sections(file);
    // A setting this build does not know comes from a newer textcnn whose tokenization cannot
    // be reproduced: a problem of the file (InputError naming it), not of the caller's options.
    TokenizerSettings tokenizer;
    try {
        tokenizer = TokenizerSettings::from_map(decode_string_map(file.require("TOKN", 1), source));
    } catch (const ConfigError& e) {
        throw InputError(source + ": section 'TOKN': " + e.what());
    }
    auto vocabulary = Vocabulary::read(file.require("VOCB", 1).payload, source);
    auto labels = labels_of(file);
    if (network.sample_shape().rank() != 3 || network.sample_shape().channels() != 1)
        throw InputError(source + ": the network does not take token ids (sample shape " +
                         network.sample_shape().str() + ")");
    // The constructor checks this too, but with a ShapeError that cannot name the file.
    const Shape out = network.output_shape(1);
    if (out.rank() != 2 || out.channels() != labels.size())
        throw InputError(source + ": the network's output " + out.str() + " does not give one logit for each of " +
                         std::to_string(labels.size()) + " labels");
    TextClassifier model(tokenizer, std::move(vocabulary), std::move(labels), std::move(network));
    model.metadata = metadata_of(file);
    // Every layer that reads the token ids (the first layer, or the first of each branch of a
    // first parallel layer: the wide-and-deep form) must know exactly the vocabulary's ids.
    std::vector<const LayerSpec*> readers;
    const auto collect = [&](const auto& self, const LayerSpec& first) -> void {
        if (first.type == "parallel") {
            for (const auto& branch : first.branches)
                if (!branch.empty()) self(self, branch.front());
        } else {
            readers.push_back(&first);
        }
    };
    collect(collect, model.impl_->network.spec().front());
    for (const LayerSpec* reader : readers) {
        const bool bag = reader->type == "ngram_bag";
        if ((reader->type != "embedding" && !bag) ||
            static_cast<std::size_t>(reader->get_int("vocab", 0)) != model.impl_->vocabulary.size())
            throw InputError(source + ": the " + (bag ? "n-gram bag's word columns number " : "embedding table has ") +
                             reader->get_string("vocab", "?") + (bag ? "" : " rows") + " but the vocabulary has " +
                             std::to_string(model.impl_->vocabulary.size()) + " ids");
    }
    return model;
}

std::vector<std::uint32_t> TextClassifier::encode(std::string_view text) const {
    return impl_->vocabulary.lookup(impl_->tokenizer.tokenize(text));
}

void TextClassifier::predict_encoded(std::span<const std::vector<std::uint32_t>> texts,
                                     std::vector<float>& probabilities) const {
    const std::size_t k = impl_->labels.size();
    probabilities.resize(texts.size() * k);
    if (texts.empty()) return;
    auto& local = impl_->threads.local();
    if (impl_->folded) {
        for (std::size_t i = 0; i < texts.size(); ++i) {
            float* p = probabilities.data() + i * k;
            impl_->folded->logits(texts[i], p, local.folded_scratch);
            softmax_row(p, k, p);
        }
        return;
    }
    if (local.workspace.states.empty()) local.workspace = impl_->network.make_workspace();
    pack_sequences(texts, PackOptions{impl_->gap, 1, 0}, local.packed);
    const Tensor& logits = impl_->network.forward(local.packed, local.workspace, RunContext{Mode::inference});
    softmax(logits, local.probabilities);
    std::copy_n(local.probabilities.data(), texts.size() * k, probabilities.data());
}

namespace {
TextPrediction to_prediction(const float* p, std::size_t k, const std::vector<std::uint32_t>& ids) {
    TextPrediction prediction;
    prediction.probabilities.assign(p, p + k);
    prediction.label = static_cast<std::uint32_t>(std::max_element(p, p + k) - p);
    prediction.tokens = ids.size();
    prediction.unknown_tokens = static_cast<std::size_t>(std::count(ids.begin(), ids.end(), Vocabulary::unknown_id));
    return prediction;
}
}  // namespace

TextPrediction TextClassifier::predict(std::string_view text) const {
    auto& local = impl_->threads.local();
    impl_->tokenizer.tokenize(text, local.tokens);
    local.ids.resize(1);
    impl_->vocabulary.lookup(local.tokens, local.ids[0]);
    std::vector<float> probabilities;
    predict_encoded(std::span(local.ids.data(), 1), probabilities);
    return to_prediction(probabilities.data(), impl_->labels.size(), local.ids[0]);
}

std::vector<TextPrediction> TextClassifier::predict(std::span<const std::string> texts) const {
    // Tokenize in parallel (oneTBB), then run the network over large chunks: each chunk is one
    // packed batch whose convolutions are single big GEMMs using the BLAS threads. One level
    // of parallelism at a time.
    const auto tokens = impl_->tokenizer.tokenize_batch(texts);
    std::vector<std::vector<std::uint32_t>> ids(texts.size());
    for (std::size_t i = 0; i < texts.size(); ++i) impl_->vocabulary.lookup(tokens[i], ids[i]);
    const std::size_t k = impl_->labels.size();
    std::vector<TextPrediction> out;
    if (impl_->folded) {
        // Each text on its own: parallel over texts, no BLAS involved.
        out.resize(texts.size());
        tbb::parallel_for(tbb::blocked_range<std::size_t>(0, texts.size(), 64),
                          [&](const tbb::blocked_range<std::size_t>& r) {
                              std::vector<float> probabilities;
                              predict_encoded(std::span(ids).subspan(r.begin(), r.size()), probabilities);
                              for (std::size_t i = r.begin(); i < r.end(); ++i)
                                  out[i] = to_prediction(probabilities.data() + (i - r.begin()) * k, k, ids[i]);
                          });
        return out;
    }
    constexpr std::size_t chunk = 1024;
    out.reserve(texts.size());
    std::vector<float> probabilities;
    for (std::size_t start = 0; start < ids.size(); start += chunk) {
        const std::size_t n = std::min(chunk, ids.size() - start);
        predict_encoded(std::span(ids).subspan(start, n), probabilities);
        for (std::size_t i = 0; i < n; ++i) out.push_back(to_prediction(probabilities.data() + i * k, k, ids[start + i]));
    }
    return out;
}

std::string TextClassifier::summary() const {
    std::ostringstream s;
    s << impl_->network.summary_table();
    s << "\nVocabulary: " << impl_->vocabulary.size() << " ids (" << impl_->vocabulary.word_count() << " words, 2 reserved";
    if (impl_->vocabulary.subword_buckets()) s << ", " << impl_->vocabulary.subword_buckets() << " subword buckets";
    s << ")\nLabels (" << impl_->labels.size() << "):";
    for (const auto& l : impl_->labels) s << ' ' << l;
    s << "\nTokenizer: " << impl_->tokenizer_settings.describe() << '\n';
    if (const std::size_t bytes = fold_table_bytes())
        s << "Prediction: embedding folded into the convolutions at load (" << (bytes + 500000) / 1000000
          << " MB of tables)\n";
    else
        s << "Prediction: through the network (this architecture cannot be folded)\n";
    if (!metadata.empty()) {
        s << "Training:\n";
        for (const auto& [k, v] : metadata) s << "  " << k << ": " << v << '\n';
    }
    return s.str();
}

}  // namespace textcnn
