#include "textcnn/text/text_classifier.h"

#include "nn/held_section.h"
#include "text/folded_text_cnn.h"
#include "text/quantized_text_cnn.h"
#include "textcnn/text/batching.h"
#include "textcnn/text/data_checks.h"
#include "textcnn/core/bytes.h"
#include "textcnn/core/error.h"
#include "textcnn/nn/loss.h"
#include "textcnn/nn/model_file.h"
#include "textcnn/nn/limits.h"
#include "textcnn/nn/network.h"
#include "textcnn/text/tokenizer.h"
#include "textcnn/text/utf8.h"
#include "textcnn/text/vocabulary.h"

#include <fmt/format.h>
#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/enumerable_thread_specific.h>
#include <oneapi/tbb/parallel_for.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
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
    if (!(settings.word_dropout >= 0.0f && settings.word_dropout < 1.0f))  // NaN and < 0 were taken for 0
        throw ConfigError(fmt::format("word dropout must be in [0, 1), got {}", settings.word_dropout));
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

namespace detail {

/// One network of a text model: a single model has one, an ensemble several.
struct TextNetwork {
    TextNetwork(ModelSpec spec_, Shape sample_shape_)
        : spec(std::move(spec_)), sample_shape(std::move(sample_shape_)), gap(widest_padding(spec)) {
        // The forward pass's floats for a packed stream of P positions: fixed + per_position x P.
        try {
            const auto growth = Network::activation_growth(spec);
            fixed = growth.fixed;
            per_position = growth.per_position;
        } catch (const Error&) {
            per_position = limits::max_activation_elements;  // not even one position fits
        }
    }

    ModelSpec spec;  ///< the architecture (kept when a quantized model drops the network)
    Shape sample_shape;
    std::size_t gap = 0;
    std::size_t fixed = 0, per_position = 0;  ///< activation floats of the network path, see above
    std::optional<Network> network;  ///< none in a quantized model
    std::unique_ptr<const FoldedTextCnn> folded;
    std::unique_ptr<const QuantizedTextCnn> quantized;

    Network& checked_network() const {
        if (!network)
            throw ConfigError("this text model is quantized for prediction (textcnn quantize): it holds no float "
                              "weights to train or inspect; use the model it was quantized from");
        return const_cast<Network&>(*network);
    }
    bool fold(std::size_t max_bytes) {
        if (quantized) return true;
        auto tables = FoldedTextCnn::fold(*network, max_bytes);
        if (tables) folded = std::make_unique<const FoldedTextCnn>(std::move(*tables));
        else folded.reset();
        return folded != nullptr;
    }
    std::size_t table_bytes() const { return quantized ? quantized->table_bytes() : FoldedTextCnn::table_bytes(*network); }
    /// The int8 tables of this network (none when quantized already).
    std::unique_ptr<const QuantizedTextCnn> quantized_tables(TextClassifier::QuantizedTables form) const {
        if (quantized) return nullptr;
        std::optional<FoldedTextCnn> fresh;
        const FoldedTextCnn* tables = folded.get();
        if (!tables) {
            fresh = FoldedTextCnn::fold(*network, TextClassifier::default_fold_limit);
            if (!fresh)
                throw ConfigError("quantize: only a text CNN whose embedding folds into its convolutions (Kim's "
                                  "layout, tables under " +
                                  std::to_string(TextClassifier::default_fold_limit >> 20) + " MiB) can be quantized");
            tables = &*fresh;
        }
        using Form = TextClassifier::QuantizedTables;
        if (form == Form::stored || form == Form::refined)
            return std::make_unique<const QuantizedTextCnn>(QuantizedTextCnn::quantize(*tables, form == Form::refined));
        return std::make_unique<const QuantizedTextCnn>(QuantizedTextCnn::quantize_compact(
            *tables, *FoldedTextCnn::table_inputs(*network), form == Form::compact_refined));
    }
    /// Takes the tables quantized_tables() made, dropping the float network.
    void use(std::unique_ptr<const QuantizedTextCnn> tables) {
        if (!tables) return;
        quantized = std::move(tables);
        folded.reset();
        network.reset();
    }
    /// ARCH and WGHT, or ARCH and QFLD.
    void add_sections(ModelFile& file) const {
        if (quantized) {
            add_architecture_section(file, spec, sample_shape);
            file.set(QuantizedTextCnn::section_tag, quantized->encoded_version(), quantized->encode());
        } else {
            add_network_sections(file, *network);
        }
    }
};

}  // namespace detail

namespace {

using detail::TextNetwork;

/// The section of an ensemble's members (text_classifier.h, load()).
constexpr const char* ensemble_tag = "ENSM";
constexpr std::uint32_t ensemble_version = 1;
/// More members than this is a corrupt count, not an ensemble anyone trained.
constexpr std::uint64_t max_ensemble_members = 1024;

// A quantized section's convolutions must be the stored architecture's, in order: the section
// is what prediction runs, the architecture what summary shows (a crafted section of one
// branch 258 wide with dilation 65,536 took 38 s per text behind a summary of widths 3,4,5).
void check_quantized_convolutions(const ModelSpec& spec, const detail::QuantizedTextCnn& q, const std::string& source) {
    std::vector<std::array<std::size_t, 3>> architecture;
    const auto collect = [&](const auto& self, const std::vector<LayerSpec>& layers) -> void {
        for (const LayerSpec& layer : layers) {
            if (layer.type == "conv") {
                const auto first = [&](const char* key, long fallback) {
                    const auto values = layer.get_ints(key, {fallback});
                    return values.empty() || values[0] < 1 ? std::size_t{0} : static_cast<std::size_t>(values[0]);
                };
                architecture.push_back({first("kernel", 0), first("dilation", 1),
                                        static_cast<std::size_t>(std::max(0L, layer.get_int("filters", 0)))});
            }
            for (const auto& branch : layer.branches) self(self, branch);
        }
    };
    try {
        collect(collect, spec);
    } catch (const ConfigError&) {
        architecture.clear();  // unreadable settings: no match below
    }
    const auto described = [](const std::vector<std::array<std::size_t, 3>>& convolutions) {
        std::string text;
        for (const auto& [width, dilation, filters] : convolutions)
            text += (text.empty() ? "" : ", ") + std::to_string(filters) + " of width " + std::to_string(width) +
                    (dilation > 1 ? " dilation " + std::to_string(dilation) : "");
        return text.empty() ? std::string("none") : text;
    };
    if (q.convolutions() != architecture)
        throw InputError(source + ": section '" + detail::QuantizedTextCnn::section_tag + "' holds convolutions (" +
                         described(q.convolutions()) + ") other than the stored architecture's (" +
                         described(architecture) + ")");
    // The wide branch as the architecture describes it (summary shows that one): {n-gram order,
    // buckets, binary, mean}.
    using Bag = std::array<std::size_t, 4>;
    std::optional<Bag> bag;
    const auto find_bag = [&](const auto& self, const std::vector<LayerSpec>& layers) -> void {
        for (const LayerSpec& layer : layers) {
            if (layer.type == "ngram_bag")
                bag = Bag{static_cast<std::size_t>(std::max(0L, layer.get_int("ngrams", 2))),
                          static_cast<std::size_t>(std::max(0L, layer.get_int("buckets", 0))),
                          layer.get_bool("binary", true), layer.get_string("reduce", "sum") == "mean"};
            for (const auto& branch : layer.branches) self(self, branch);
        }
    };
    try {
        find_bag(find_bag, spec);
    } catch (const ConfigError&) {
        bag.reset();
    }
    const auto bag_text = [](const std::optional<Bag>& b) {
        return b ? "order " + std::to_string((*b)[0]) + ", " + std::to_string((*b)[1]) + " buckets, " +
                       ((*b)[2] ? "binary" : "counts") + ", " + ((*b)[3] ? "mean" : "sum")
                 : std::string("none");
    };
    const std::optional<Bag> stored = q.has_wide_branch() ? std::optional<Bag>(q.wide_branch()) : std::nullopt;
    if (stored != bag)
        throw InputError(source + ": section '" + detail::QuantizedTextCnn::section_tag + "' holds a wide branch (" +
                         bag_text(stored) + ") other than the stored architecture's (" + bag_text(bag) + ")");
}

// Every layer that reads the token ids (the first layer, or the first of each branch of a first
// parallel layer: the wide-and-deep form) must know exactly the vocabulary's ids.
// A text network reads texts packed into one stream: windowed pooling and flatten refuse such
// input, so a model holding them loaded, summarized and then failed every prediction.
void check_sequence_layers(const ModelSpec& spec, const std::string& source) {
    const auto check = [&](const auto& self, const std::vector<LayerSpec>& layers) -> void {
        for (const LayerSpec& layer : layers) {
            if (layer.type == "max_pool" || layer.type == "avg_pool" || layer.type == "flatten")
                throw InputError(fmt::format("{}: the text network holds {}, which texts of any length cannot pass "
                                             "(over time, a text network pools with global_max_pool or "
                                             "global_avg_pool)",
                                             source, layer.label()));
            for (const auto& branch : layer.branches) self(self, branch);
        }
    };
    check(check, spec);
}

void check_id_readers(const ModelSpec& spec, std::size_t vocab, const std::string& source) {
    std::vector<const LayerSpec*> readers;
    const auto collect = [&](const auto& self, const LayerSpec& first) -> void {
        if (first.type == "parallel") {
            for (const auto& branch : first.branches)
                if (!branch.empty()) self(self, branch.front());
        } else {
            readers.push_back(&first);
        }
    };
    if (spec.empty()) throw InputError(source + ": the stored architecture has no layers");
    collect(collect, spec.front());
    for (const LayerSpec* reader : readers) {
        const bool bag = reader->type == "ngram_bag";
        if ((reader->type != "embedding" && !bag) || static_cast<std::size_t>(reader->get_int("vocab", 0)) != vocab)
            throw InputError(source + ": the " + (bag ? "n-gram bag's word columns number " : "embedding table has ") +
                             reader->get_string("vocab", "?") + (bag ? "" : " rows") + " but the vocabulary has " +
                             std::to_string(vocab) + " ids");
    }
}

// The network of `file` (ARCH + WGHT, or ARCH + QFLD whose payload is passed apart), checked
// against the model's vocabulary and labels. InputError naming file.source.
// `table_budget`: bytes a compact quantized form may make at load (what an ensemble's earlier
// members left of TextClassifier::default_fold_limit).
TextNetwork network_of(const ModelFile& file, detail::UnfilledBytes quantized_payload, std::size_t vocab,
                       std::size_t classes, std::size_t table_budget = TextClassifier::default_fold_limit) {
    const std::string& source = file.source;
    const bool quantized = file.find(detail::QuantizedTextCnn::section_tag) != nullptr;
    std::optional<Network> network;
    StoredArchitecture arch;
    std::uint32_t quantized_version = 0;
    if (quantized) {
        quantized_version =
            file.require(detail::QuantizedTextCnn::section_tag, detail::QuantizedTextCnn::section_version).version;
        arch = architecture_from_sections(file);
    } else {
        network.emplace(network_from_sections(file));
        arch.spec = network->spec();
        arch.sample_shape = network->sample_shape();
    }
    if (arch.sample_shape.rank() != 3 || arch.sample_shape.channels() != 1)
        throw InputError(source + ": the network does not take token ids (sample shape " + arch.sample_shape.str() + ")");
    TextNetwork member(std::move(arch.spec), std::move(arch.sample_shape));
    if (quantized) {
        member.quantized = std::make_unique<const detail::QuantizedTextCnn>(detail::QuantizedTextCnn::decode(
            std::move(quantized_payload), quantized_version, source, {vocab, classes, table_budget}));
        check_quantized_convolutions(member.spec, *member.quantized, source);
    } else {
        // The constructor checks this too, but with a ShapeError that cannot name the file.
        const Shape out = network->output_shape(1);
        if (out.rank() != 2 || out.channels() != classes)
            throw InputError(source + ": the network's output " + out.str() + " does not give one logit for each of " +
                             std::to_string(classes) + " labels");
        member.network = std::move(network);
    }
    check_id_readers(member.spec, vocab, source);
    check_sequence_layers(member.spec, source);
    return member;
}

// The members stored in an "ENSM" payload.
std::vector<TextNetwork> ensemble_of(const ModelFile& file, std::size_t vocab, std::size_t classes) {
    const ModelSection& section = file.require(ensemble_tag, ensemble_version);
    ByteReader in(section.payload, file.source + " section '" + ensemble_tag + "'");
    const std::uint64_t count = in.get_count(sizeof(std::uint64_t), "member count");
    if (count < 1 || count > max_ensemble_members)
        in.error("an ensemble of " + std::to_string(count) + " members (1 to " + std::to_string(max_ensemble_members) +
                 " are read)");
    std::vector<TextNetwork> members;
    members.reserve(count);
    std::size_t table_budget = TextClassifier::default_fold_limit;
    for (std::uint64_t k = 0; k < count; ++k) {
        const std::uint64_t length = in.get<std::uint64_t>("member length");
        const auto bytes = in.get_bytes(length, "member");
        ModelFile member = decode_model_file(bytes, file.source + " ensemble member " + std::to_string(k + 1));
        const std::vector<std::uint8_t> quantized = member.take_payload(detail::QuantizedTextCnn::section_tag);
        members.push_back(network_of(member, {quantized.begin(), quantized.end()}, vocab, classes, table_budget));
        // The tables a compact member made count against the members after it, as folded
        // tables do (fold_for_prediction): 1 GiB for the model, not for each of up to 1,024.
        if (const auto& q = members.back().quantized; q && q->compact())
            table_budget -= std::min(table_budget, q->table_bytes());
    }
    if (!in.at_end()) in.error("bytes after the last member");
    return members;
}

}  // namespace

struct TextClassifier::Impl {
    Impl(TokenizerSettings tokenizer_settings, Vocabulary vocabulary, std::vector<std::string> labels)
        : tokenizer_settings(tokenizer_settings),
          tokenizer(tokenizer_settings),
          vocabulary(std::move(vocabulary)),
          labels(std::move(labels)) {}

    struct PerThread {
        std::vector<Network::Workspace> workspaces;  ///< one per member
        Tensor packed;
        Tensor probabilities;
        std::vector<std::string> tokens;
        std::vector<std::vector<std::uint32_t>> ids;
        std::vector<float> folded_scratch;
        detail::QuantizedTextCnn::Scratch quantized_scratch;
        std::vector<float> member_probabilities;  ///< an ensemble's members, one at a time
        std::vector<float> text_probabilities;    ///< predict(text)
        /// Per text of the last member_probabilities(): the most its logits can be off (0 for a
        /// float member), and an ensemble's bounds on its averaged probabilities (texts x labels).
        std::vector<float> logit_bounds, probability_bounds;
        std::vector<float> text_member, text_mean;  ///< settle_doubts(): one text's member and mean
    };

    /// The classifier of `file`'s sections, the quantized tables' payload passed apart (empty
    /// when the file has none: a float model or an ensemble). InputError naming file.source.
    static TextClassifier assemble(const ModelFile& file, detail::UnfilledBytes quantized_payload);

    TokenizerSettings tokenizer_settings;
    Tokenizer tokenizer;
    Vocabulary vocabulary;
    std::vector<std::string> labels;
    std::vector<TextNetwork> members;  ///< at least one
    std::size_t max_length = 0;        ///< 0 = no limit
    LabelThresholds decision;          ///< set_decision_thresholds()
    tbb::enumerable_thread_specific<PerThread> threads;

    /// Cuts ids to max_length; whether it did.
    bool cut(std::vector<std::uint32_t>& ids) const {
        if (max_length == 0 || ids.size() <= max_length) return false;
        ids.resize(max_length);
        return true;
    }
    TextNetwork& member(std::size_t k) const {
        if (k >= members.size())
            throw ConfigError("ensemble member " + std::to_string(k) + " of a model with " +
                              std::to_string(members.size()) + (members.size() == 1 ? " network" : " networks"));
        return const_cast<TextNetwork&>(members[k]);
    }
    TextNetwork& single() const {
        if (members.size() != 1)
            throw ConfigError("this text model is an ensemble of " + std::to_string(members.size()) +
                              " networks: network(member) gives one of them");
        return member(0);
    }
    /// Probabilities of `texts` under member `k` into probabilities (texts x labels); the
    /// logits' error bounds into local.logit_bounds.
    void member_probabilities(std::size_t k, std::span<const std::vector<std::uint32_t>> texts, float* probabilities,
                              PerThread& local) const;
    /// Whether the quantized members all hold residual codes (and one does at least), and the
    /// decision is one QuantizedTextCnn::logits() does not settle alone: an ensemble's averaged
    /// label, or a decision under thresholds. It can then be settled as one network's label is.
    bool can_settle() const {
        const auto refined = [](const TextNetwork& m) { return m.quantized && m.quantized->refined(); };
        return (members.size() > 1 || !decision.empty()) && std::any_of(members.begin(), members.end(), refined) &&
               std::all_of(members.begin(), members.end(), [&](const TextNetwork& m) { return !m.quantized || refined(m); });
    }
    /// The texts whose decision (arg-max of the averaged probabilities, or `decision`'s rule)
    /// the members' rounding leaves in doubt (LabelThresholds::in_doubt with the probability
    /// bounds) are scored again, every refined member from its residual codes.
    void settle_doubts(std::span<const std::vector<std::uint32_t>> texts, float* probabilities, PerThread& local) const;
};

void TextClassifier::Impl::member_probabilities(std::size_t k, std::span<const std::vector<std::uint32_t>> texts,
                                                float* probabilities, PerThread& local) const {
    const TextNetwork& m = members[k];
    const std::size_t classes = labels.size();
    local.logit_bounds.assign(texts.size(), 0.0f);
    // The tables (quantized or float): each text on its own, logits then softmax in place.
    const auto each_text = [&](const auto& logits) {
        for (std::size_t i = 0; i < texts.size(); ++i) {
            float* p = probabilities + i * classes;
            logits(i, p);
            softmax_row(p, classes, p);
        }
    };
    if (m.quantized) {
        each_text([&](std::size_t i, float* p) {
            const bool again = m.quantized->logits(texts[i], p, local.quantized_scratch);
            local.logit_bounds[i] = m.quantized->largest_logit_bound(again);
        });
        return;
    }
    if (m.folded) {
        each_text([&](std::size_t i, float* p) { m.folded->logits(texts[i], p, local.folded_scratch); });
        return;
    }
    // The forward pass holds every position's activations: texts that would need more than
    // limits::max_activation_elements floats packed together are scored in parts, and a text
    // that alone would (16 MB on one line: 4.9 GB) is refused. The folded tables, a few
    // hundred tokens at a time, have no such bound.
    std::size_t positions = m.gap;
    for (const auto& ids : texts) positions += std::max<std::size_t>(ids.size(), 1) + m.gap;
    if (positions > (limits::max_activation_elements - std::min(m.fixed, limits::max_activation_elements)) /
                        std::max<std::size_t>(m.per_position, 1)) {
        if (texts.size() == 1)
            throw InputError(fmt::format(
                "text classifier: a text of {} tokens needs about {:.2f} GiB in the network's forward pass, above the "
                "limit of 1 GiB; folded prediction or a model with a maximum length bounds it",
                texts[0].size(),  // rounded up: just past the limit reads "1.01 GiB", not "1.0"
                std::ceil((double(m.fixed) + double(m.per_position) * double(positions)) * sizeof(float) / (1 << 30) *
                          100.0) / 100.0));
        const std::size_t half = texts.size() / 2;
        member_probabilities(k, texts.first(half), probabilities, local);
        member_probabilities(k, texts.subspan(half), probabilities + half * classes, local);
        local.logit_bounds.assign(texts.size(), 0.0f);
        return;
    }
    if (local.workspaces.size() != members.size()) local.workspaces.resize(members.size());
    if (local.workspaces[k].states.empty()) local.workspaces[k] = m.network->make_workspace();
    pack_sequences(texts, PackOptions{m.gap, 1, 0}, local.packed);
    const Tensor& logits = m.network->forward(local.packed, local.workspaces[k], RunContext{Mode::inference});
    softmax(logits, local.probabilities);
    std::copy_n(local.probabilities.data(), texts.size() * classes, probabilities);
    // A workspace kept for the next batch holds what this one needed: an ensemble's members
    // each kept theirs, so long texts cost members x the bound. Past 64 MiB it is let go, and
    // a thread holds at most one such workspace at a time.
    if (m.fixed + m.per_position * positions > (std::size_t{64} << 20) / sizeof(float))
        local.workspaces[k] = Network::Workspace{};
}

TextClassifier::TextClassifier(TokenizerSettings tokenizer, Vocabulary vocabulary, std::vector<std::string> labels,
                               Network network)
    : impl_(std::make_unique<Impl>(tokenizer, std::move(vocabulary), std::move(labels))) {
    check_new_labels(impl_->labels, "text classifier");  // as training does
    TextNetwork& member = impl_->members.emplace_back(network.spec(), network.sample_shape());
    member.network.emplace(std::move(network));
    const Shape out = member.network->output_shape(1);
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
    // The quantized tables' section read straight into huge pages (nn/held_section.h).
    detail::UnfilledBytes quantized;
    const ModelFile file = detail::read_model_file_holding(path, detail::QuantizedTextCnn::section_tag, quantized);
    TextClassifier model = Impl::assemble(file, std::move(quantized));
    model.fold_for_prediction();
    return model;
}

const std::vector<std::string>& TextClassifier::labels() const { return impl_->labels; }
const Tokenizer& TextClassifier::tokenizer() const { return impl_->tokenizer; }
const Vocabulary& TextClassifier::vocabulary() const { return impl_->vocabulary; }
const Network& TextClassifier::network() const { return impl_->single().checked_network(); }
const Network& TextClassifier::network(std::size_t member) const { return impl_->member(member).checked_network(); }
std::size_t TextClassifier::ensemble_size() const { return impl_->members.size(); }

StoredArchitecture TextClassifier::architecture(std::size_t member) const {
    const TextNetwork& m = impl_->member(member);
    return {m.spec, m.sample_shape, Network::parameter_count(m.spec, m.sample_shape)};
}

std::size_t TextClassifier::gap() const {
    std::size_t widest = 0;
    for (const auto& m : impl_->members) widest = std::max(widest, m.gap);
    return widest;
}

bool TextClassifier::folded() const {
    return std::all_of(impl_->members.begin(), impl_->members.end(),
                       [](const TextNetwork& m) { return m.folded != nullptr || m.quantized != nullptr; });
}

bool TextClassifier::quantized() const {
    return std::all_of(impl_->members.begin(), impl_->members.end(),
                       [](const TextNetwork& m) { return m.quantized != nullptr; });
}

Network& TextClassifier::network() {
    impl_->single();
    return network(0);
}

Network& TextClassifier::network(std::size_t member) {
    TextNetwork& m = impl_->member(member);
    Network& network = m.checked_network();
    m.folded.reset();
    return network;
}

bool TextClassifier::fold_for_prediction(std::size_t max_bytes) {
    // One budget for the model: an ensemble's members fold in order while their tables fit in
    // what the earlier ones left (quantized members' tables made at load count too); the rest
    // predict through their networks. Per member, 4 members of 1 GiB tables took 4.2 GB.
    bool all = true;
    for (auto& m : impl_->members) {
        if (m.quantized) {
            if (m.quantized->compact()) max_bytes -= std::min(max_bytes, m.quantized->table_bytes());
            continue;
        }
        all = m.fold(max_bytes) && all;
        if (m.folded) max_bytes -= std::min(max_bytes, m.folded->table_bytes());
    }
    return all;
}

void TextClassifier::drop_folding() {
    for (auto& m : impl_->members) m.folded.reset();
}

std::size_t TextClassifier::fold_table_bytes() const {
    std::size_t bytes = 0;
    for (const auto& m : impl_->members) {
        const std::size_t b = m.table_bytes();
        if (b == 0) return 0;
        bytes += b;
    }
    return bytes;
}

void TextClassifier::quantize(QuantizedTables form) {
    // Every member's tables first, so that a member that cannot be quantized leaves all as they were.
    std::vector<std::unique_ptr<const detail::QuantizedTextCnn>> tables;
    for (const auto& m : impl_->members) tables.push_back(m.quantized_tables(form));
    // A compact form's tables are made again at each load, within one budget for the model
    // (load refuses more): an 8-member compact model was written that no load could read.
    std::size_t made = 0;
    for (const auto& t : tables)
        if (t && t->compact()) made += t->table_bytes();
    if (made > default_fold_limit)
        throw ConfigError(fmt::format("quantize: the compact tables of the {} members would take {:.2f} GiB at each "
                                      "load, above the {} GiB a model may make; the stored form keeps them in the file",
                                      tables.size(), static_cast<double>(made) / (1 << 30), default_fold_limit >> 30));
    for (std::size_t k = 0; k < tables.size(); ++k) impl_->members[k].use(std::move(tables[k]));
}

namespace {

// The largest per-label bound `of` gives over the members that have one.
template <class Members, class Of>
std::vector<float> largest_bound(const Members& members, Of of) {
    std::vector<float> bound;
    for (const auto& m : members) {
        if (!m.quantized) continue;
        const auto b = of(*m.quantized);
        if (b.empty()) continue;
        if (bound.empty()) bound.assign(b.size(), 0.0f);
        for (std::size_t c = 0; c < b.size(); ++c) bound[c] = std::max(bound[c], b[c]);
    }
    return bound;
}

}  // namespace

const char* TextClassifier::quantized_tables_name(QuantizedTables form) {
    switch (form) {
    case QuantizedTables::stored: return "stored";
    case QuantizedTables::refined: return "refined";
    case QuantizedTables::compact: return "compact";
    case QuantizedTables::compact_refined: return "compact_refined";
    }
    return "stored";
}

std::optional<TextClassifier::QuantizedTables> TextClassifier::quantized_tables_from_name(std::string_view name) {
    for (const QuantizedTables form : {QuantizedTables::stored, QuantizedTables::refined, QuantizedTables::compact,
                                       QuantizedTables::compact_refined})
        if (name == quantized_tables_name(form)) return form;
    return std::nullopt;
}

std::optional<TextClassifier::QuantizedTables> TextClassifier::quantized_form() const {
    if (!quantized()) return std::nullopt;
    const detail::QuantizedTextCnn& q = *impl_->members.front().quantized;
    if (q.compact()) return q.refined() ? QuantizedTables::compact_refined : QuantizedTables::compact;
    return q.refined() ? QuantizedTables::refined : QuantizedTables::stored;
}

std::vector<float> TextClassifier::quantization_error_bound() const {
    return largest_bound(impl_->members, [](const detail::QuantizedTextCnn& q) { return q.logit_error_bound(); });
}

std::vector<float> TextClassifier::refined_error_bound() const {
    return largest_bound(impl_->members, [](const detail::QuantizedTextCnn& q) { return q.refined_logit_error_bound(); });
}

TextClassifier TextClassifier::ensemble(std::vector<TextClassifier> members) {
    if (members.empty()) throw ConfigError("an ensemble needs at least one member");
    TextClassifier out = std::move(members.front());
    for (std::size_t k = 1; k < members.size(); ++k) {
        Impl& m = *members[k].impl_;
        const std::string which = "ensemble member " + std::to_string(k + 1);
        if (m.labels != out.impl_->labels) throw ConfigError(which + " has other labels than the first");
        if (m.tokenizer_settings != out.impl_->tokenizer_settings)
            throw ConfigError(which + " tokenizes otherwise than the first (" + m.tokenizer_settings.describe() +
                              " against " + out.impl_->tokenizer_settings.describe() + ")");
        if (m.max_length != out.impl_->max_length)
            throw ConfigError(which + " cuts texts at " + std::to_string(m.max_length) + " tokens, the first at " +
                              std::to_string(out.impl_->max_length) + " (0 = never)");
        if (!m.vocabulary.same_ids(out.impl_->vocabulary))
            throw ConfigError(which + " has another vocabulary than the first (" + std::to_string(m.vocabulary.size()) +
                              " against " + std::to_string(out.impl_->vocabulary.size()) +
                              " ids): members must be trained on the same training documents");
    }
    for (std::size_t k = 1; k < members.size(); ++k)
        for (auto& network : members[k].impl_->members) out.impl_->members.push_back(std::move(network));
    return out;
}

ModelFile TextClassifier::to_model_file() const {
    ModelFile file;
    if (impl_->members.size() == 1) {
        impl_->members.front().add_sections(file);
    } else {
        // The first member's architecture for readers of the description, but no "WGHT": a
        // textcnn that knows no ensembles refuses the file instead of using one member.
        add_architecture_section(file, impl_->members.front().spec, impl_->members.front().sample_shape);
        std::vector<std::uint8_t> payload;
        ByteWriter out(payload);
        out.put<std::uint64_t>(impl_->members.size());
        for (const auto& m : impl_->members) {
            ModelFile member;
            m.add_sections(member);
            const auto bytes = encode_model_file(member);
            out.put<std::uint64_t>(bytes.size());
            out.put_bytes(bytes);
        }
        file.set(ensemble_tag, ensemble_version, std::move(payload));
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
        return Impl::assemble(file, {quantized->payload.begin(), quantized->payload.end()});
    return Impl::assemble(file, {});
}

TextClassifier TextClassifier::from_model_file(ModelFile&& file) {
    return from_model_file(static_cast<const ModelFile&>(file));  // the quantized section is copied either way
}

TextClassifier TextClassifier::Impl::assemble(const ModelFile& file, detail::UnfilledBytes quantized_payload) {
    const std::string& source = file.source;
    for (const char* tag : {"TOKN", "VOCB", "LABL"})
        if (!file.find(tag))
            throw InputError(source + ": not a text model (no '" + std::string(tag) +
                             "' section; an image model is used with imagecnn)");
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
    auto labels = labels_of(file);  // UTF-8 as the vocabulary's words: JSON output needs it
    auto impl = std::make_unique<Impl>(tokenizer, std::move(vocabulary), std::move(labels));
    const std::size_t vocab = impl->vocabulary.size(), classes = impl->labels.size();
    if (file.find(ensemble_tag)) {
        if (file.find("WGHT") || file.find(detail::QuantizedTextCnn::section_tag))
            throw InputError(source + ": an ensemble ('" + std::string(ensemble_tag) +
                             "') with weights of its own beside its members");
        impl->members = ensemble_of(file, vocab, classes);
    } else {
        impl->members.push_back(network_of(file, std::move(quantized_payload), vocab, classes));
    }
    impl->max_length = max_length;
    TextClassifier model(std::move(impl));
    model.metadata = metadata_of(file);
    return model;
}

void TextClassifier::set_decision_thresholds(LabelThresholds thresholds) {
    if (!thresholds.empty() && thresholds.labels() != impl_->labels.size())
        throw ConfigError("decision thresholds for " + std::to_string(thresholds.labels()) + " labels; the model has " +
                          std::to_string(impl_->labels.size()));
    impl_->decision = std::move(thresholds);
}
const LabelThresholds& TextClassifier::decision_thresholds() const { return impl_->decision; }

std::size_t TextClassifier::max_length() const { return impl_->max_length; }
void TextClassifier::set_max_length(std::size_t tokens) {
    // What the model file can hold (parse_max_tokens): beyond it, a saved model did not load.
    if (tokens > (std::size_t{1} << 24))
        throw ConfigError("max_length: " + std::to_string(tokens) + " tokens; at most 16777216 (0 = no limit)");
    impl_->max_length = tokens;
}

std::vector<std::uint32_t> TextClassifier::encode(std::string_view text) const {
    auto ids = impl_->vocabulary.lookup(impl_->tokenizer.tokenize(text));
    impl_->cut(ids);
    return ids;
}

void TextClassifier::predict_encoded(std::span<const std::vector<std::uint32_t>> texts,
                                     std::vector<float>& probabilities) const {
    const std::size_t n = texts.size() * impl_->labels.size();
    probabilities.resize(n);
    if (texts.empty()) return;
    auto& local = impl_->threads.local();
    const std::size_t classes = impl_->labels.size(), members = impl_->members.size();
    const bool settle = impl_->can_settle();
    if (settle) local.probability_bounds.assign(n, 0.0f);
    // Logits within d of the float member's: every difference z_j - z_c within m = 2d of its, so
    // with S = sum over j != c of e^(z_j - z_c) = 1/p - 1 the float p_c = 1 / (1 + S') lies in
    // [p / (p + (1 - p) e^m), p / (p + (1 - p) e^-m)]: the larger distance from p is its bound
    // (an ensemble's mean: the sum of the members' bounds over their number).
    const auto add_bounds = [&](const float* p) {
        for (std::size_t i = 0; i < texts.size(); ++i) {
            const double m = 2.0 * local.logit_bounds[i], up = std::exp(-m), down = std::exp(m);
            for (std::size_t c = 0; c < classes; ++c) {
                const double q = p[i * classes + c];
                const double above = q / (q + (1.0 - q) * up) - q, below = q - q / (q + (1.0 - q) * down);
                local.probability_bounds[i * classes + c] +=
                    static_cast<float>(std::max(above, below) / static_cast<double>(members));
            }
        }
    };
    impl_->member_probabilities(0, texts, probabilities.data(), local);
    if (settle) add_bounds(probabilities.data());
    // An ensemble: the running mean m += (p - m) / k, so members that agree exactly give
    // exactly their probabilities.
    for (std::size_t k = 1; k < members; ++k) {
        local.member_probabilities.resize(n);
        impl_->member_probabilities(k, texts, local.member_probabilities.data(), local);
        if (settle) add_bounds(local.member_probabilities.data());
        const float share = 1.0f / static_cast<float>(k + 1);
        for (std::size_t i = 0; i < n; ++i)
            probabilities[i] += (local.member_probabilities[i] - probabilities[i]) * share;
    }
    if (settle) impl_->settle_doubts(texts, probabilities.data(), local);
    // Weights within the load checks' bounds (1e18) can still multiply past float's range
    // through three layers: such a model printed NaN probabilities with exit 0, and a spam
    // filter took every message for ham. No trained model gets near.
    for (std::size_t i = 0; i < texts.size(); ++i) {
        double sum = 0.0;
        for (std::size_t c = 0; c < classes; ++c) sum += probabilities[i * classes + c];
        if (!(std::abs(sum - 1.0) < 1e-3))
            throw InputError("the model's probabilities for a text sum to " + std::to_string(sum) +
                             ": its logits overflow float arithmetic (weights far beyond any trained model's: a damaged "
                             "or crafted model)");
    }
}

void TextClassifier::Impl::settle_doubts(std::span<const std::vector<std::uint32_t>> texts, float* probabilities,
                                         PerThread& local) const {
    const std::size_t classes = labels.size();
    for (std::size_t i = 0; i < texts.size(); ++i) {
        float* p = probabilities + i * classes;
        const float* bound = local.probability_bounds.data() + i * classes;
        // 1e-6: the float roundings of the softmax and the mean.
        if (!decision.in_doubt(std::span(p, classes), std::span(bound, classes), 1e-6f)) continue;
        local.text_mean.assign(classes, 0.0f);
        local.text_member.resize(classes);
        for (std::size_t k = 0; k < members.size(); ++k) {
            float* q = local.text_member.data();
            if (members[k].quantized) {
                members[k].quantized->refined_logits(texts[i], q, local.quantized_scratch);
                softmax_row(q, classes, q);
            } else {
                member_probabilities(k, texts.subspan(i, 1), q, local);
            }
            const float share = 1.0f / static_cast<float>(k + 1);  // the running mean, as above
            for (std::size_t c = 0; c < classes; ++c)
                local.text_mean[c] = k == 0 ? q[c] : local.text_mean[c] + (q[c] - local.text_mean[c]) * share;
        }
        std::copy_n(local.text_mean.data(), classes, p);
    }
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
    if (folded()) {
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
    const auto table = [](const TextNetwork& m) {
        return m.network ? m.network->summary_table()
                         : Network(m.spec, m.sample_shape).summary_table(Network::Weights::not_stored);
    };
    const auto& members = impl_->members;
    const bool alike = std::all_of(members.begin(), members.end(), [&](const TextNetwork& m) {
        return m.spec == members.front().spec && m.sample_shape == members.front().sample_shape;
    });
    if (members.size() == 1) {
        s << table(members.front());
    } else if (alike) {
        const TextNetwork& m = members.front();
        const std::size_t parameters =
            m.network ? m.network->parameter_count() : Network(m.spec, m.sample_shape).parameter_count();
        s << "Ensemble of " << members.size() << " networks of this architecture (" << members.size() << " x "
          << parameters << " parameters), their probabilities averaged:\n"
          << table(m);
    } else {
        s << "Ensemble of " << members.size() << " networks, their probabilities averaged:\n";
        for (std::size_t k = 0; k < members.size(); ++k) s << "Member " << k + 1 << ":\n" << table(members[k]);
    }
    s << "\nVocabulary: " << impl_->vocabulary.size() << " ids (" << impl_->vocabulary.word_count() << " words, 2 reserved";
    if (impl_->vocabulary.subword_buckets()) s << ", " << impl_->vocabulary.subword_buckets() << " subword buckets";
    s << ")\nLabels (" << impl_->labels.size() << "):";
    for (const auto& l : impl_->labels) s << ' ' << shown_label(l);  // <U+200B> for what does not show
    s << "\nTokenizer: " << impl_->tokenizer_settings.describe();
    if (impl_->max_length) s << "; texts cut to their first " << impl_->max_length << " tokens";
    s << '\n';
    const std::string each = members.size() == 1 ? "" : fmt::format(" for each of the {} members", members.size());
    std::size_t stored = 0;
    for (const auto& m : members) stored += m.quantized ? m.quantized->stored_bytes() : 0;
    if (quantized() && members.front().quantized->compact())
        s << "Prediction: quantized, compact: int8 folded tables (" << members.front().quantized->vocab() << " words x "
          << members.front().quantized->row_bytes() << " bytes" << each << ", one scale per filter; "
          << (fold_table_bytes() + 500000) / 1000000
          << " MB) built at load from int8 embeddings (one scale per word) and the float convolution weights ("
          << (stored + 500000) / 1000000 << " MB in the file)"
          << (members.front().quantized->refined()
                  ? ", with a 4-bit residual code per value made at load too: a text whose label the int8 logits "
                    "leave in doubt is scored again from them"
                  : "")
          << "; prediction only\n";
    else if (const auto q = std::count_if(members.begin(), members.end(), [](const TextNetwork& m) { return m.quantized != nullptr; });
             q > 0 && !quantized())
        s << "Prediction: " << q << " of the " << members.size()
          << " members quantized (int8 folded tables), the others folded at load (" << (fold_table_bytes() + 500000) / 1000000
          << " MB of tables in all)\n";
    else if (quantized())
        s << "Prediction: quantized: int8 folded tables stored in the file (" << members.front().quantized->vocab()
          << " words x " << members.front().quantized->row_bytes() << " bytes" << each << ", one scale per filter; "
          << (fold_table_bytes() + 500000) / 1000000 << " MB"
          << (members.front().quantized->refined()
                  ? ", with a 4-bit residual code per value: a text whose label the int8 logits leave in doubt is "
                    "scored again from them"
                  : "")
          << "); float weights not stored (prediction only)\n";
    else if (const std::size_t bytes = fold_table_bytes()) {
        // What load() folds: members in order while their tables fit in one budget (fold_for_prediction).
        std::size_t folded = 0, used = 0;
        for (const auto& m : members) {
            if (m.table_bytes() > default_fold_limit - used) break;
            used += m.table_bytes();
            ++folded;
        }
        const auto mb = [](std::size_t b) { return (b + 500000) / 1000000; };
        if (folded == members.size())
            s << "Prediction: embedding folded into the convolutions at load" << each << " (" << mb(bytes)
              << " MB of tables)\n";
        else if (folded == 0)
            s << "Prediction: through the network" << (members.size() == 1 ? "" : " for every member")
              << " (the folded tables would take " << mb(bytes) << " MB, above the " << (default_fold_limit >> 30)
              << " GiB a model may build at load)\n";
        else
            s << "Prediction: embedding folded into the convolutions at load for " << folded << " of the "
              << members.size() << " members (" << mb(used) << " MB of tables); the others through their networks "
              << "(the tables of all would take " << mb(bytes) << " MB, above the " << (default_fold_limit >> 30)
              << " GiB a model may build at load)\n";
    } else
        s << "Prediction: through the network (this architecture cannot be folded)\n";
    if (!metadata.empty()) {
        s << "Training:\n";
        for (const auto& [k, v] : metadata) s << "  " << k << ": " << v << '\n';
    }
    return s.str();
}

}  // namespace textcnn
