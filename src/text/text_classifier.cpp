#include "textcnn/text/text_classifier.h"

#include "text/folded_text_cnn.h"
#include "text/quantized_text_cnn.h"
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
#include <charconv>
#include <optional>
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

/// The key of "TOKN" that holds TextClassifier::max_length() (not a tokenizer setting: the cut
/// is made after vocabulary lookup, but an older textcnn must refuse it like one).
constexpr const char* max_tokens_key = "max_tokens";

std::size_t parse_max_tokens(const std::string& value) {
    std::size_t tokens = 0;
    const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), tokens);
    if (error != std::errc() || end != value.data() + value.size() || tokens == 0 || tokens > (std::size_t{1} << 24))
        throw ConfigError("'max_tokens' must be a whole number from 1 to 16777216, not '" + value + "'");
    return tokens;
}

}  // namespace

struct TextClassifier::Impl {
    Impl(TokenizerSettings tokenizer_settings, Vocabulary vocabulary, std::vector<std::string> labels,
         ModelSpec spec, Shape sample_shape)
        : tokenizer_settings(tokenizer_settings),
          tokenizer(tokenizer_settings),
          vocabulary(std::move(vocabulary)),
          labels(std::move(labels)),
          spec(std::move(spec)),
          sample_shape(std::move(sample_shape)),
          gap(widest_padding(this->spec)) {}

    struct PerThread {
        Network::Workspace workspace;
        Tensor packed;
        Tensor probabilities;
        std::vector<std::string> tokens;
        std::vector<std::vector<std::uint32_t>> ids;
        std::vector<float> folded_scratch;
        detail::QuantizedTextCnn::Scratch quantized_scratch;
        std::vector<float> text_probabilities;  ///< predict(text)
    };

    TokenizerSettings tokenizer_settings;
    Tokenizer tokenizer;
    Vocabulary vocabulary;
    std::vector<std::string> labels;
    ModelSpec spec;      ///< the network's architecture (kept when a quantized model drops the network)
    Shape sample_shape;
    std::optional<Network> network;  ///< none in a quantized model
    std::size_t gap = 0;
    std::size_t max_length = 0;  ///< 0 = no limit
    tbb::enumerable_thread_specific<PerThread> threads;

    /// Cuts ids to max_length; whether it did.
    bool cut(std::vector<std::uint32_t>& ids) const {
        if (max_length == 0 || ids.size() <= max_length) return false;
        ids.resize(max_length);
        return true;
    }
    std::unique_ptr<const detail::FoldedTextCnn> folded;
    std::unique_ptr<const detail::QuantizedTextCnn> quantized;

    Network& checked_network() const {
        if (!network)
            throw ConfigError("this text model is quantized for prediction (textcnn quantize): it holds no float "
                              "weights to train or inspect; use the model it was quantized from");
        return const_cast<Network&>(*network);
    }
};

TextClassifier::TextClassifier(TokenizerSettings tokenizer, Vocabulary vocabulary, std::vector<std::string> labels,
                               Network network)
    : impl_(std::make_unique<Impl>(tokenizer, std::move(vocabulary), std::move(labels), network.spec(),
                                   network.sample_shape())) {
    impl_->network.emplace(std::move(network));
    const Shape out = impl_->network->output_shape(1);
    if (out.rank() != 2 || out.channels() != impl_->labels.size())
        throw ShapeError("text classifier: the network's output " + out.str() + " does not give one logit for each of " +
                         std::to_string(impl_->labels.size()) + " labels");
}

TextClassifier::TextClassifier(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

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
const Network& TextClassifier::network() const { return impl_->checked_network(); }
std::size_t TextClassifier::gap() const { return impl_->gap; }
bool TextClassifier::folded() const { return impl_->folded != nullptr || impl_->quantized != nullptr; }
bool TextClassifier::quantized() const { return impl_->quantized != nullptr; }

Network& TextClassifier::network() {
    Network& network = impl_->checked_network();
    drop_folding();
    return network;
}

bool TextClassifier::fold_for_prediction(std::size_t max_bytes) {
    if (impl_->quantized) return true;
    auto folded = detail::FoldedTextCnn::fold(*impl_->network, max_bytes);
    if (folded) impl_->folded = std::make_unique<const detail::FoldedTextCnn>(std::move(*folded));
    else impl_->folded.reset();
    return impl_->folded != nullptr;
}

void TextClassifier::drop_folding() { impl_->folded.reset(); }

std::size_t TextClassifier::fold_table_bytes() const {
    if (impl_->quantized) return impl_->quantized->table_bytes();
    return detail::FoldedTextCnn::table_bytes(*impl_->network);
}

void TextClassifier::quantize() {
    if (impl_->quantized) return;
    std::optional<detail::FoldedTextCnn> fresh;
    const detail::FoldedTextCnn* folded = impl_->folded.get();
    if (!folded) {
        fresh = detail::FoldedTextCnn::fold(*impl_->network, default_fold_limit);
        if (!fresh)
            throw ConfigError("quantize: only a text CNN whose embedding folds into its convolutions (Kim's layout, "
                              "tables under " + std::to_string(default_fold_limit >> 20) + " MiB) can be quantized");
        folded = &*fresh;
    }
    impl_->quantized = std::make_unique<const detail::QuantizedTextCnn>(detail::QuantizedTextCnn::quantize(*folded));
    impl_->folded.reset();
    impl_->network.reset();
}

std::vector<float> TextClassifier::quantization_error_bound() const {
    return impl_->quantized ? impl_->quantized->logit_error_bound() : std::vector<float>{};
}

ModelFile TextClassifier::to_model_file() const {
    ModelFile file;
    if (impl_->quantized) {
        add_architecture_section(file, impl_->spec, impl_->sample_shape);
        file.set(detail::QuantizedTextCnn::section_tag, detail::QuantizedTextCnn::section_version,
                 impl_->quantized->encode());
    } else {
        add_network_sections(file, *impl_->network);
    }
    auto tokenizer = impl_->tokenizer_settings.to_map();
    if (impl_->max_length) tokenizer[max_tokens_key] = std::to_string(impl_->max_length);
    file.set("TOKN", 1, encode_string_map(tokenizer));
    std::vector<std::uint8_t> vocab;
    impl_->vocabulary.write(vocab);
    file.set("VOCB", 1, std::move(vocab));
    set_labels(file, impl_->labels);
    set_metadata(file, metadata);
    return file;
}

TextClassifier TextClassifier::from_model_file(const ModelFile& file) {
    if (const ModelSection* quantized = file.find(detail::QuantizedTextCnn::section_tag))
        return assemble(file, std::vector<std::uint8_t>(quantized->payload));
    return assemble(file, {});
}

TextClassifier TextClassifier::from_model_file(ModelFile&& file) {
    std::vector<std::uint8_t> quantized = file.take_payload(detail::QuantizedTextCnn::section_tag);
    return assemble(file, std::move(quantized));
}

TextClassifier TextClassifier::assemble(const ModelFile& file, std::vector<std::uint8_t> quantized_payload) {
    const std::string& source = file.source;
    for (const char* tag : {"TOKN", "VOCB", "LABL"})
        if (!file.find(tag))
            throw InputError(source + ": not a text model (no '" + std::string(tag) +
                             "' section; an image model is used with imagecnn)");
    // A quantized model has tables instead of weights: its network is not built.
    const bool quantized = file.find(detail::QuantizedTextCnn::section_tag) != nullptr;
    std::optional<Network> network;
    StoredArchitecture arch;
    if (quantized) {
        file.require(detail::QuantizedTextCnn::section_tag, detail::QuantizedTextCnn::section_version);
        arch = architecture_from_sections(file);
    } else {
        network.emplace(network_from_sections(file));
        arch.spec = network->spec();
        arch.sample_shape = network->sample_shape();
    }
    // A setting this build does not know comes from a newer textcnn whose tokenization cannot
    // be reproduced: a problem of the file (InputError naming it), not of the caller's options.
    TokenizerSettings tokenizer;
    std::size_t max_length = 0;
    try {
        auto map = decode_string_map(file.require("TOKN", 1), source);
        if (auto it = map.find(max_tokens_key); it != map.end()) {
            max_length = parse_max_tokens(it->second);
            map.erase(it);
        }
        tokenizer = TokenizerSettings::from_map(map);
    } catch (const ConfigError& e) {
        throw InputError(source + ": section 'TOKN': " + e.what());
    }
    auto vocabulary = Vocabulary::read(file.require("VOCB", 1).payload, source);
    auto labels = labels_of(file);
    if (arch.sample_shape.rank() != 3 || arch.sample_shape.channels() != 1)
        throw InputError(source + ": the network does not take token ids (sample shape " + arch.sample_shape.str() + ")");
    auto impl = std::make_unique<Impl>(tokenizer, std::move(vocabulary), std::move(labels), std::move(arch.spec),
                                       std::move(arch.sample_shape));
    if (quantized) {
        impl->quantized = std::make_unique<const detail::QuantizedTextCnn>(
            detail::QuantizedTextCnn::decode(std::move(quantized_payload), source));
        if (impl->quantized->vocab() != impl->vocabulary.size() || impl->quantized->classes() != impl->labels.size())
            throw InputError(source + ": the quantized tables are for " + std::to_string(impl->quantized->vocab()) +
                             " ids and " + std::to_string(impl->quantized->classes()) + " labels, the model has " +
                             std::to_string(impl->vocabulary.size()) + " ids and " +
                             std::to_string(impl->labels.size()) + " labels");
    } else {
        // The constructor checks this too, but with a ShapeError that cannot name the file.
        const Shape out = network->output_shape(1);
        if (out.rank() != 2 || out.channels() != impl->labels.size())
            throw InputError(source + ": the network's output " + out.str() + " does not give one logit for each of " +
                             std::to_string(impl->labels.size()) + " labels");
        impl->network = std::move(network);
    }
    impl->max_length = max_length;
    TextClassifier model(std::move(impl));
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
    if (model.impl_->spec.empty()) throw InputError(source + ": the stored architecture has no layers");
    collect(collect, model.impl_->spec.front());
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

std::size_t TextClassifier::max_length() const { return impl_->max_length; }
void TextClassifier::set_max_length(std::size_t tokens) { impl_->max_length = tokens; }

std::vector<std::uint32_t> TextClassifier::encode(std::string_view text) const {
    auto ids = impl_->vocabulary.lookup(impl_->tokenizer.tokenize(text));
    impl_->cut(ids);
    return ids;
}

void TextClassifier::predict_encoded(std::span<const std::vector<std::uint32_t>> texts,
                                     std::vector<float>& probabilities) const {
    const std::size_t k = impl_->labels.size();
    probabilities.resize(texts.size() * k);
    if (texts.empty()) return;
    auto& local = impl_->threads.local();
    // The tables (quantized or float): each text on its own, logits then softmax in place.
    const auto each_text = [&](const auto& logits) {
        for (std::size_t i = 0; i < texts.size(); ++i) {
            float* p = probabilities.data() + i * k;
            logits(texts[i], p);
            softmax_row(p, k, p);
        }
    };
    if (impl_->quantized) {
        each_text([&](const auto& ids, float* p) { impl_->quantized->logits(ids, p, local.quantized_scratch); });
        return;
    }
    if (impl_->folded) {
        each_text([&](const auto& ids, float* p) { impl_->folded->logits(ids, p, local.folded_scratch); });
        return;
    }
    if (local.workspace.states.empty()) local.workspace = impl_->network->make_workspace();
    pack_sequences(texts, PackOptions{impl_->gap, 1, 0}, local.packed);
    const Tensor& logits = impl_->network->forward(local.packed, local.workspace, RunContext{Mode::inference});
    softmax(logits, local.probabilities);
    std::copy_n(local.probabilities.data(), texts.size() * k, probabilities.data());
}

namespace {
TextPrediction to_prediction(const float* p, std::size_t k, const std::vector<std::uint32_t>& ids, bool truncated) {
    TextPrediction prediction;
    prediction.truncated = truncated;
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
    const bool truncated = impl_->cut(local.ids[0]);
    predict_encoded(std::span(local.ids.data(), 1), local.text_probabilities);
    return to_prediction(local.text_probabilities.data(), impl_->labels.size(), local.ids[0], truncated);
}

std::vector<TextPrediction> TextClassifier::predict(std::span<const std::string> texts) const {
    std::vector<TextPrediction> out;
    if (impl_->folded || impl_->quantized) {
        // Each text on its own, from tokens to probabilities, parallel over texts (oneTBB), no
        // BLAS involved and no token lists kept for the whole batch.
        out.resize(texts.size());
        tbb::parallel_for(tbb::blocked_range<std::size_t>(0, texts.size(), 64),
                          [&](const tbb::blocked_range<std::size_t>& r) {
                              for (std::size_t i = r.begin(); i < r.end(); ++i) out[i] = predict(texts[i]);
                          });
        return out;
    }
    // Tokenize in parallel (oneTBB), then run the network over large chunks: each chunk is one
    // packed batch whose convolutions are single big GEMMs using the BLAS threads. One level
    // of parallelism at a time.
    const auto tokens = impl_->tokenizer.tokenize_batch(texts);
    std::vector<std::vector<std::uint32_t>> ids(texts.size());
    std::vector<char> truncated(texts.size());
    for (std::size_t i = 0; i < texts.size(); ++i) {
        impl_->vocabulary.lookup(tokens[i], ids[i]);
        truncated[i] = impl_->cut(ids[i]);
    }
    const std::size_t k = impl_->labels.size();
    constexpr std::size_t chunk = 1024;
    out.reserve(texts.size());
    std::vector<float> probabilities;
    for (std::size_t start = 0; start < ids.size(); start += chunk) {
        const std::size_t n = std::min(chunk, ids.size() - start);
        predict_encoded(std::span(ids).subspan(start, n), probabilities);
        for (std::size_t i = 0; i < n; ++i) out.push_back(to_prediction(probabilities.data() + i * k, k, ids[start + i], truncated[start + i] != 0));
    }
    return out;
}

std::string TextClassifier::summary() const {
    std::ostringstream s;
    // A quantized model's architecture is shown as built (its float weights are not stored).
    if (impl_->network) s << impl_->network->summary_table();
    else s << Network(impl_->spec, impl_->sample_shape).summary_table();
    s << "\nVocabulary: " << impl_->vocabulary.size() << " ids (" << impl_->vocabulary.word_count() << " words, 2 reserved";
    if (impl_->vocabulary.subword_buckets()) s << ", " << impl_->vocabulary.subword_buckets() << " subword buckets";
    s << ")\nLabels (" << impl_->labels.size() << "):";
    for (const auto& l : impl_->labels) s << ' ' << l;
    s << "\nTokenizer: " << impl_->tokenizer_settings.describe();
    if (impl_->max_length) s << "; texts cut to their first " << impl_->max_length << " tokens";
    s << '\n';
    if (impl_->quantized)
        s << "Prediction: quantized: int8 folded tables stored in the file (" << impl_->quantized->vocab() << " words x "
          << impl_->quantized->row_bytes() << " bytes, one scale per filter; "
          << (impl_->quantized->table_bytes() + 500000) / 1000000
          << " MB); float weights not stored (prediction only)\n";
    else if (const std::size_t bytes = fold_table_bytes())
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
