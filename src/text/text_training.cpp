#include "textcnn/text/text_training.h"

#include "textcnn/text/batching.h"
#include "textcnn/text/data_checks.h"
#include "textcnn/core/error.h"
#include "textcnn/core/number_text.h"
#include "textcnn/core/runtime.h"
#include "textcnn/nn/architecture.h"
#include "textcnn/nn/limits.h"
#include "textcnn/nn/loss.h"
#include "textcnn/nn/model_file.h"
#include "textcnn/nn/network.h"
#include "textcnn/nn/trainer.h"
#include "textcnn/nn/ngram_bag.h"
#include "textcnn/core/rng.h"
#include "textcnn/text/vectors.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <set>
#include <span>
#include <string_view>
#include <unordered_map>

namespace textcnn {

TrainerSettings TextTrainingOptions::kim_trainer_settings() {
    TrainerSettings s;
    s.epochs = 25;
    s.batch_size = 50;
    s.optimizer = OptimizerSettings::defaults_for("adadelta");
    s.max_norm = 3.0f;
    s.later_best_on_ties = true;
    return s;
}

const std::vector<std::string>& TextTrainingOptions::initialization_names() {
    static const std::vector<std::string> known = [] {
        std::vector<std::string> names{"kim"};
        for (const auto& n : initializer_names()) names.push_back(n);
        return names;
    }();
    return known;
}

void TextTrainingOptions::set_initialization(const std::string& name) {
    Initializer::Kind kind = Initializer::Kind::glorot_uniform;
    if (name != "kim") {
        try {
            kind = parse_initializer_kind(name);
        } catch (const ConfigError&) {
            throw unknown_name("initializer", name, initialization_names());
        }
    }
    initializer = {kind, 0.25f};
    zero_output_layer = name == "kim";
}

namespace {

struct EncodedSet {
    std::vector<std::vector<std::uint32_t>> ids;
    std::vector<std::uint32_t> labels;
};

// Holds out whole groups (lists of document indices): per stratum, groups in an order drawn from
// `seed` until round(share * documents of the stratum) are held. Singleton groups in file order
// give exactly the permutation of a plain stratified split.
void hold_out_groups(std::vector<Document>& train, std::vector<Document>& held_out,
                     const std::vector<std::vector<std::size_t>>& groups, const std::vector<std::string>& group_labels,
                     double share, std::uint64_t seed, std::vector<std::size_t>* held_out_positions) {
    std::map<std::string, std::vector<std::size_t>> by_label;  // label -> group ids
    std::map<std::string, std::size_t> documents_of;
    for (std::size_t g = 0; g < groups.size(); ++g) {
        by_label[group_labels[g]].push_back(g);
        documents_of[group_labels[g]] += groups[g].size();
    }
    std::vector<char> hold(train.size(), 0);
    Rng rng(seed, 0x5eed5);
    for (auto& [label, ids] : by_label) {
        for (std::size_t i = ids.size(); i > 1; --i) std::swap(ids[i - 1], ids[rng.below(i)]);
        const auto n = static_cast<std::size_t>(share * static_cast<double>(documents_of[label]) + 0.5);
        std::size_t held = 0;
        for (std::size_t k = 0; k < ids.size() && held < n; ++k) {
            for (std::size_t i : groups[ids[k]]) hold[i] = 1;
            held += groups[ids[k]].size();
        }
    }
    std::vector<Document> kept;
    if (held_out_positions) held_out_positions->clear();
    for (std::size_t i = 0; i < train.size(); ++i) {
        if (hold[i] && held_out_positions) held_out_positions->push_back(i);
        (hold[i] ? held_out : kept).push_back(std::move(train[i]));
    }
    train = std::move(kept);
}

}  // namespace

void stratified_split(std::vector<Document>& train, std::vector<Document>& held_out, double share, std::uint64_t seed) {
    std::vector<std::vector<std::size_t>> groups(train.size());
    std::vector<std::string> labels(train.size());
    for (std::size_t i = 0; i < train.size(); ++i) {
        groups[i] = {i};
        labels[i] = *train[i].label;
    }
    hold_out_groups(train, held_out, groups, labels, share, seed, nullptr);
}

// The longest text whose forward activations, and as many gradients, stay within
// limits::max_activation_elements (Network::activation_growth).
static std::size_t training_tokens_bound(const Network::ActivationGrowth& growth) {
    const std::size_t budget = limits::max_activation_elements / 2;  // activations and their gradients
    return growth.fixed >= budget ? 0 : (budget - growth.fixed) / growth.per_position;
}

DuplicateTexts grouped_stratified_split(std::vector<Document>& train, std::vector<Document>& held_out, double share,
                                        std::uint64_t seed, std::vector<std::size_t>* held_out_positions) {
    std::unordered_map<std::string_view, std::size_t> group_of;
    std::vector<std::vector<std::size_t>> groups;
    for (std::size_t i = 0; i < train.size(); ++i) {
        const auto [it, fresh] = group_of.try_emplace(train[i].text, groups.size());
        if (fresh) groups.emplace_back();
        groups[it->second].push_back(i);
    }
    DuplicateTexts report;
    report.repeated_documents = train.size() - groups.size();
    std::vector<std::string> labels(groups.size());
    for (std::size_t g = 0; g < groups.size(); ++g) {
        std::map<std::string, std::size_t> counts;
        std::vector<std::string> order;  // labels in file order of their first document
        for (std::size_t i : groups[g])
            if (counts[*train[i].label]++ == 0) order.push_back(*train[i].label);
        labels[g] = order.front();
        for (const auto& l : order)
            if (counts[l] > counts[labels[g]]) labels[g] = l;
        if (order.size() < 2) continue;
        if (++report.conflicting_texts > 3) continue;
        std::string lines, names;
        for (std::size_t i : groups[g]) {
            lines += (lines.empty() ? "" : ", ") + std::to_string(train[i].line);
            names += (names.empty() ? "" : ", ") + *train[i].label;
        }
        const std::string& text = train[groups[g].front()].text;
        report.conflict_examples.push_back(
            fmt::format("'{}{}' (lines {}: {})", text.substr(0, 60), text.size() > 60 ? "..." : "", lines, names));
    }
    hold_out_groups(train, held_out, groups, labels, share, seed, held_out_positions);
    return report;
}

namespace {

// The n-gram bag of a wide-and-deep text model (text_cnn_spec), or null.
const NgramBagLayer* find_ngram_bag(const Layer& layer) {
    if (const auto* bag = dynamic_cast<const NgramBagLayer*>(&layer)) return bag;
    for (const Layer* child : layer.children())
        if (const NgramBagLayer* bag = find_ngram_bag(*child)) return bag;
    return nullptr;
}

// Naive-Bayes log-count ratios (TextTrainingOptions::naive_bayes_ngram_init) into the bag's
// table: one-vs-rest per class, binarized counts, smoothing 1, norms over the columns seen.
void naive_bayes_ngram_init(Network& network, const std::vector<std::vector<std::uint32_t>>& ids,
                            const std::vector<std::uint32_t>& labels, std::size_t classes) {
    const NgramBagLayer* bag = nullptr;
    for (std::size_t i = 0; i < network.layer_count() && !bag; ++i) bag = find_ngram_bag(network.layer(i));
    if (!bag) throw ConfigError("naive-Bayes n-gram initialisation needs a model with a wide n-gram branch");
    ParameterGroup* group = nullptr;
    for (ParameterGroup& g : network.groups())
        if (g.info.name == "ngram_table") group = &g;
    const std::size_t columns = bag->columns(), dim = bag->dim();
    std::vector<double> counts(classes * columns, 0.0);  // class-major
    std::vector<char> seen(columns, 0);
    std::vector<std::uint32_t> cols;
    for (std::size_t d = 0; d < ids.size(); ++d) {
        cols.clear();
        NgramBagLayer::ngram_columns(ids[d], bag->ngrams(), bag->vocab(), bag->buckets(), true, cols);
        for (std::uint32_t c : cols) {
            counts[labels[d] * columns + c] += 1.0;
            seen[c] = 1;
        }
    }
    std::vector<double> total(columns, 0.0);
    for (std::size_t k = 0; k < classes; ++k)
        for (std::size_t c = 0; c < columns; ++c) total[c] += counts[k * columns + c];
    float* table = network.parameters().data() + group->offset;
    for (std::size_t k = 0; k < std::min(classes, dim); ++k) {
        double p_norm = 0.0, q_norm = 0.0;
        for (std::size_t c = 0; c < columns; ++c)
            if (seen[c]) {
                p_norm += 1.0 + counts[k * columns + c];
                q_norm += 1.0 + total[c] - counts[k * columns + c];
            }
        for (std::size_t c = 0; c < columns; ++c)
            if (seen[c]) {
                const double p = (1.0 + counts[k * columns + c]) / p_norm;
                const double q = (1.0 + total[c] - counts[k * columns + c]) / q_norm;
                table[c * dim + k] = static_cast<float>(std::log(p / q));
            }
    }
}

// Every parameter of the network's last layer (the output dense layer) set to 0.
void zero_output_layer(Network& network) {
    for (const ParameterGroup& group : network.layer_groups(network.layer_count() - 1))
        std::fill_n(network.parameters().begin() + static_cast<std::ptrdiff_t>(group.offset), group.info.size(), 0.0f);
}

}  // namespace

struct TextTrainingRun::Impl {
    TextTrainingOptions options;
    TextTrainingCallbacks callbacks;
    std::vector<std::string> labels;
    EncodedSet train;
    /// Tokens one text may have for its activations and their gradients to fit in
    /// limits::max_activation_elements (set once the network's shape is known).
    std::size_t max_text_tokens = std::numeric_limits<std::size_t>::max();
    Network::ActivationGrowth growth;  ///< of the network's activations with a packed batch's length
    EncodedSet validation;
    std::vector<std::size_t> validation_positions;  ///< of a validation split's documents in the training data given
    std::optional<TextClassifier> classifier;
    std::unique_ptr<Trainer> trainer;
    TextTrainingReport report;
    PackOptions pack;

    void info(const std::string& message) const {
        if (callbacks.info) callbacks.info(message);
    }
    /// Classes whose sizes differ tenfold or more, with no class weights: said once, as
    /// accuracy then rewards the larger class (400 hams and 12 spams: 97 % for "always ham").
    void check_class_balance(const std::map<std::string, std::size_t>& counts) {
        if (options.balanced_class_weights || !options.trainer.class_weights.empty() || counts.size() < 2) return;
        const auto [smallest, largest] = std::minmax_element(
            counts.begin(), counts.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
        if (largest->second < 10 * smallest->second) return;
        warn(fmt::format("{}: the classes are imbalanced: '{}' has {}, '{}' {} ({:.0f}x as many); accuracy rewards "
                         "predicting the larger class: balanced class weights (each class's loss weighted by n / "
                         "(classes x n_c)) train the smaller one on equal terms, and macro-F1 judges both",
                         options.train_source, shown_label(smallest->first),
                         with_thousands_separators(smallest->second) +
                             (smallest->second == 1 ? " training document" : " training documents"),
                         shown_label(largest->first),
                         with_thousands_separators(largest->second),
                         static_cast<double>(largest->second) / static_cast<double>(smallest->second)));
    }

    /// A batch packs its texts into one sequence, so its activations grow with the tokens of all
    /// of them: the largest batch must fit in the memory left, or the kernel would kill training
    /// in the middle of an epoch. Checked before training for the training data (the batch-size
    /// longest texts: a shuffle can draw them together) and the validation data (its batches
    /// are in file order), naming the texts. The estimate is one forward pass's (activations and
    /// the largest scratch, Network::activation_growth); what training takes is less (Kim's
    /// network: 9.6 kB a token estimated, 4.8 kB measured with the backward pass), so only a
    /// batch that may not fit is refused.
    void check_batch_memory(const std::vector<Document>& train_docs, const std::string& train_source,
                            const std::vector<Document>& validation_docs, const std::string& validation_source,
                            const DocumentNamer& validation_names, std::size_t parameters) const {
        const std::size_t batch = std::max<std::size_t>(options.trainer.batch_size, 1);
        const auto positions = [&](const EncodedSet& set, std::span<const std::size_t> texts) {
            std::size_t n = pack.gap;  // the packed sequence: each text (at least 1 position) and a gap after it
            for (const std::size_t i : texts) n += std::max<std::size_t>(set.ids[i].size(), 1) + pack.gap;
            return n;
        };
        // Training: the batch-size longest texts, longest first (the first of equals on ties).
        std::vector<std::size_t> longest(train.ids.size());
        std::iota(longest.begin(), longest.end(), std::size_t{0});
        const std::size_t worst = std::min(batch, longest.size());
        std::partial_sort(longest.begin(), longest.begin() + static_cast<std::ptrdiff_t>(worst), longest.end(),
                          [&](std::size_t a, std::size_t b) {
                              return train.ids[a].size() != train.ids[b].size() ? train.ids[a].size() > train.ids[b].size()
                                                                                : a < b;
                          });
        longest.resize(worst);
        check_batch_fits(train, longest, positions(train, longest), train_docs, train_source,
                         options.train_document_name, "longest training texts", parameters);
        // Validation: its largest batch, as evaluate() cuts them.
        const std::size_t eval_batch = options.trainer.eval_batch_size ? options.trainer.eval_batch_size : batch;
        std::vector<std::size_t> largest, texts;
        std::size_t most = 0;
        for (std::size_t begin = 0; begin < validation.ids.size(); begin += eval_batch) {
            texts.resize(std::min(eval_batch, validation.ids.size() - begin));
            std::iota(texts.begin(), texts.end(), begin);
            if (const std::size_t n = positions(validation, texts); n > most) {
                most = n;
                largest = texts;
            }
        }
        if (largest.empty()) return;
        std::stable_sort(largest.begin(), largest.end(), [&](std::size_t a, std::size_t b) {
            return validation.ids[a].size() > validation.ids[b].size();
        });
        check_batch_fits(validation, largest, most, validation_docs, validation_source, validation_names,
                         "validation texts of one batch", parameters);
    }

    /// ResourceError when one batch of `texts` (`positions` packed positions; longest text first)
    /// may not fit in the memory left.
    void check_batch_fits(const EncodedSet& set, std::span<const std::size_t> texts, std::size_t positions,
                          const std::vector<Document>& docs, const std::string& source,
                          const DocumentNamer& names, std::string_view what, std::size_t parameters) const {
        const double needed =
            sizeof(float) * (static_cast<double>(growth.fixed) + static_cast<double>(growth.per_position) * positions);
        if (needed <= double(1u << 30)) return;
        const auto headroom = memory_headroom();
        if (!headroom) return;
        const double state = static_cast<double>(least_training_bytes(parameters, options.trainer.optimizer));
        const double left = std::max(0.0, static_cast<double>(headroom->bytes) - state);
        if (needed <= left) return;
        std::size_t tokens = 0;
        std::vector<std::size_t> lines;
        for (const std::size_t i : texts) {
            tokens += set.ids[i].size();
            if (lines.size() < 3) lines.push_back(docs[i].line);
        }
        // The longest maximum length whose batches of as many texts fit in 80 % of what is left:
        // the rest for what changes before the batch runs (an ensemble's next member starts
        // with its finished members held: 4 % less).
        const double fit_tokens = (0.8 * left / sizeof(float) - static_cast<double>(growth.fixed)) /
                                  static_cast<double>(std::max<std::size_t>(growth.per_position, 1));
        const double fit_length = fit_tokens / static_cast<double>(texts.size()) - static_cast<double>(pack.gap);
        throw ResourceError(fmt::format(
            "{}: the {} {} ({} tokens, the longest: {}) may take up to {} in one batch but {} is left under {} "
            "beside the network's training state; {}a smaller batch size or more memory",
            source, texts.size(), what, with_thousands_separators(tokens), documents_at(names, lines),
            byte_size_text(static_cast<std::uint64_t>(needed)), byte_size_text(static_cast<std::uint64_t>(left)),
            headroom->limit,
            fit_length >= 1.0 ? fmt::format("a maximum length of {} tokens, ",
                                            with_thousands_separators(static_cast<std::uint64_t>(fit_length)))
                              : std::string()));
    }

    void warn(const std::string& message) {
        if (callbacks.warning) callbacks.warning(message);
        else report.warnings.push_back(message);
    }

    EncodedSet encode(const std::vector<std::vector<std::string>>& tokens, const std::vector<Document>& docs,
                      const std::string& source) {
        EncodedSet set;
        set.ids.resize(tokens.size());
        set.labels.resize(tokens.size());
        for (std::size_t i = 0; i < tokens.size(); ++i) {
            classifier->vocabulary().lookup(tokens[i], set.ids[i]);
            if (options.max_length && set.ids[i].size() > options.max_length) {
                set.ids[i].resize(options.max_length);
                ++report.truncated_documents;
            }
            // The forward pass keeps every position's activations for the backward pass: a
            // 16 MB line of 4 million tokens asked for tens of GB in one batch.
            if (set.ids[i].size() > max_text_tokens)
                throw InputError(fmt::format(
                    "{}:{}: a text of {} tokens is more than training holds for one text ({} tokens for this network: "
                    "its activations and their gradients within 1 GiB); set a maximum length to cut such texts",
                    source, docs[i].line, set.ids[i].size(), max_text_tokens));
            auto it = std::lower_bound(labels.begin(), labels.end(), *docs[i].label);
            if (it == labels.end() || *it != *docs[i].label)
                throw InputError(source + ":" + std::to_string(docs[i].line) + ": label '" + shown_label(*docs[i].label) +
                                 "' does not occur in the training data (labels: " + [&] {
                                     std::string all;
                                     for (const auto& l : labels) all += (all.empty() ? "" : ", ") + shown_label(l);
                                     return all;
                                 }() + ")");
            set.labels[i] = static_cast<std::uint32_t>(it - labels.begin());
        }
        return set;
    }

    // What the validation documents cannot tell, said before training: labels with no document
    // among them (their accuracy, which picks the model, says nothing of those), documents that
    // repeat a training text (dev data given apart; the split keeps identical texts on one side),
    // and a vocabulary that knows few of their tokens (`unknown` of `tokens`: a text column that
    // differs between the files, or holds identifiers).
    void check_validation_data(const std::vector<Document>& train, const std::vector<Document>& held_out,
                               const std::string& source, std::size_t tokens, std::size_t unknown,
                               const DocumentNamer& dev_names) {
        std::set<std::string> present;
        for (const Document& d : held_out) present.insert(*d.label);
        std::vector<std::string> missing;
        for (const std::string& label : labels)
            if (!present.count(label)) missing.push_back("'" + shown_label(label) + "'");
        if (!missing.empty())
            warn(fmt::format("{}: no document of label{} {} ({} of {} labels): the validation accuracy that picks the "
                             "model says nothing of {}",
                             source, missing.size() == 1 ? "" : "s", fmt::join(missing, ", "), missing.size(),
                             labels.size(), missing.size() == 1 ? "it" : "them"));
        std::unordered_map<std::string_view, std::size_t> train_texts;
        for (const Document& d : train)
            if (!d.text.empty()) train_texts.emplace(d.text, d.line);
        std::size_t repeated = 0, first_line = 0, first_train_line = 0;
        for (const Document& d : held_out)
            if (const auto it = train_texts.find(d.text); it != train_texts.end() && repeated++ == 0) {
                first_line = d.line;
                first_train_line = it->second;
            }
        if (repeated)
            warn(fmt::format("{}: {} of {} documents repeat a training document's text (first: {}, training {}): the "
                             "validation accuracy that picks the model is partly measured on memorised texts",
                             source, repeated, held_out.size(), document_at(dev_names, first_line),
                             document_at(options.train_document_name, first_train_line)));
        if (tokens >= 20 && 2 * unknown > tokens)
            warn(fmt::format("{}: {:.1f} % of the tokens are unknown to the vocabulary of the training data: does the "
                             "text column hold the same kind of text in both (--text-column)?",
                             source, 100.0 * static_cast<double>(unknown) / static_cast<double>(tokens)));
    }

    BatchSource source_for(const EncodedSet& set) const {
        return [this, &set](std::span<const std::size_t> indices, Tensor& input, std::vector<std::uint32_t>& out) {
            pack_sequences(set.ids, indices, pack, input);
            out.resize(indices.size());
            for (std::size_t i = 0; i < indices.size(); ++i) out[i] = set.labels[indices[i]];
        };
    }
};

namespace {

// options.validation_split of `train` (labels checked) into `held_out`: InputError when it holds
// out nothing or leaves one of `labels` without a training document.
void split_for_validation(std::vector<Document>& train, std::vector<Document>& held_out,
                          const TextTrainingOptions& options, const std::vector<std::string>& labels,
                          std::vector<std::size_t>* positions) {
    const std::string& source = options.train_source;
    if (options.validation_split >= 1.0)
        throw ConfigError("a validation split of " + fmt::format("{}", options.validation_split) +
                          " leaves no training data; it must be below 1");
    // Identical texts stay on one side, as `textcnn split` keeps them: a validation set that
    // repeats training texts would pick the epoch on memorised answers.
    grouped_stratified_split(train, held_out, options.validation_split,
                             options.validation_seed.value_or(options.trainer.seed), positions);
    if (held_out.empty())
        throw InputError(source + ": a validation split of " + fmt::format("{}", options.validation_split) +
                         " holds out no document of " + std::to_string(train.size()) +
                         " (every class rounds to 0); give a larger share or dev data");
    std::set<std::string> kept;
    for (const Document& d : train) kept.insert(*d.label);
    for (const std::string& label : labels)
        if (!kept.count(label))
            throw InputError(fmt::format("{}: label '{}' has no training document left after the validation split (all "
                                         "its documents were held out): give it more documents, a smaller validation "
                                         "share, or dev data",
                                         source, shown_label(label)));
}

}  // namespace

void check_validation_split(std::vector<Document> train, const TextTrainingOptions& options) {
    if (!(options.validation_split > 0.0)) return;
    for (const Document& d : train)
        if (!d.label) throw InputError(options.train_source + ": line " + std::to_string(d.line) + " has no label");
    DataCheckOptions check;  // labels trimmed as the run trims them
    check.source = options.train_source;
    check.label_column = options.label_column;
    check.text_column = options.text_column;
    check.document_name = options.train_document_name;
    (void)check_labelled_documents(train, check);
    std::set<std::string> labels;
    for (const Document& d : train) labels.insert(*d.label);
    std::vector<Document> held_out;
    split_for_validation(train, held_out, options, std::vector<std::string>(labels.begin(), labels.end()), nullptr);
}

void check_ensemble_validation_splits(const std::vector<Document>& train, const TextTrainingOptions& base,
                                      std::size_t members, std::size_t naive_bayes_members, MemberValidation validation) {
    if (validation == MemberValidation::shared) return;
    for (std::size_t k = 0; k < members; ++k) {
        const TextTrainingOptions options = ensemble_member_options(base, k, members, naive_bayes_members, validation);
        try {
            check_validation_split(train, options);
        } catch (const InputError& e) {
            throw InputError(fmt::format("ensemble member {} of {} (its validation split drawn from seed {}; nothing "
                                         "trained): {}",
                                         k + 1, members, *options.validation_seed, e.what()));
        }
    }
}

TextTrainingRun::TextTrainingRun(std::vector<Document> train, std::optional<std::vector<Document>> dev,
                                 const std::string& dev_source, const TextTrainingOptions& options,
                                 TextTrainingCallbacks callbacks)
    : impl_(std::make_unique<Impl>()) {
    Impl& m = *impl_;
    m.options = options;
    m.callbacks = std::move(callbacks);
    const std::string& source = options.train_source;
    if (train.empty()) throw InputError(source + ": no documents");
    for (const Document& d : train)
        if (!d.label) throw InputError(source + ": line " + std::to_string(d.line) + " has no label");
    DataCheckOptions check;
    check.source = source;
    check.label_column = options.label_column;
    check.text_column = options.text_column;
    check.document_name = options.train_document_name;
    for (const std::string& w : check_labelled_documents(train, check)) m.warn(w);
    if (dev && !dev->empty()) {
        check.source = dev_source.empty() ? std::string("dev data") : dev_source;
        check.training = false;
        check.document_name = nullptr;
        for (const std::string& w : check_labelled_documents(*dev, check)) m.warn(w);
    }
    // Refused rather than read as "none" (NaN and negative shares), or dropped (a split beside
    // dev data; explicit class weights beside balanced ones), unsaid.
    if (!(options.validation_split >= 0.0 && options.validation_split < 1.0))
        throw ConfigError(fmt::format("the validation split must be in [0, 1), got {}", options.validation_split));
    if (dev && options.validation_split > 0.0)
        throw ConfigError("dev data and a validation split both choose the validation documents: give one");
    if (options.balanced_class_weights && !options.trainer.class_weights.empty())
        throw ConfigError("balanced class weights replace the class weights given: give one");
    const bool has_validation = (dev && !dev->empty()) || options.validation_split > 0.0;
    if (!has_validation && options.trainer.patience > 0)
        throw ConfigError("patience stops training when the validation accuracy stops improving, but there is no "
                          "validation data (give dev data or a validation split)");
    if (options.max_length > (std::size_t{1} << 24))
        throw ConfigError("the maximum length is " + std::to_string(options.max_length) +
                          " tokens; at most 16777216 (0 = no limit)");
    if (!has_validation && options.trainer.validations_per_epoch > 1)
        throw ConfigError("several validations per epoch need validation data (give dev data or a validation split)");

    std::set<std::string> label_set;
    for (const Document& d : train) label_set.insert(*d.label);
    if (label_set.size() < 2)
        throw InputError(source + ": only one class ('" + shown_label(*label_set.begin()) + "' on all " +
                          std::to_string(train.size()) + " documents); a classifier needs at least two");
    m.labels.assign(label_set.begin(), label_set.end());

    std::vector<Document> held_out;
    std::string validation_source = dev_source;
    bool held_out_from_training = false;  // a validation split (its documents named as training ones)
    if (dev) {
        // An empty dev set would silently turn off model selection and early stopping.
        if (dev->empty())
            throw InputError((dev_source.empty() ? std::string("dev data") : dev_source) +
                             ": no documents (the dev data picks the best model; give at least one labelled document)");
        held_out = std::move(*dev);
    } else if (options.validation_split > 0.0) {
        split_for_validation(train, held_out, options, m.labels, &m.validation_positions);
        validation_source = "validation split";
        held_out_from_training = true;
    }
    m.report.train_documents = train.size();
    m.report.validation_documents = held_out.size();
    std::map<std::string, std::size_t> label_counts;
    for (const Document& d : train) ++label_counts[*d.label];

    const Tokenizer tokenizer(options.tokenizer);
    std::vector<std::string> texts;
    texts.reserve(train.size());
    for (const Document& d : train) texts.push_back(d.text);
    const auto train_tokens = tokenizer.tokenize_batch(texts);
    std::vector<std::vector<std::string>> held_out_tokens;
    if (!held_out.empty()) {
        texts.clear();
        for (const Document& d : held_out) texts.push_back(d.text);
        held_out_tokens = tokenizer.tokenize_batch(texts);
    }
    const bool vocabulary_from_held_out = held_out_from_training && options.vocabulary_from_held_out_too;
    Vocabulary vocabulary = [&] {
        if (!vocabulary_from_held_out) return Vocabulary::build(train_tokens, options.vocabulary);
        VocabularyBuilder builder;  // counts do not depend on the documents' order
        for (const auto& tokens : train_tokens) builder.add(tokens);
        for (const auto& tokens : held_out_tokens) builder.add(tokens);
        return builder.build(options.vocabulary);
    }();
    m.info("vocabulary: " + with_thousands_separators(vocabulary.size()) + " ids (" +
           with_thousands_separators(vocabulary.word_count()) + " words from " +
           (vocabulary_from_held_out ? with_thousands_separators(train.size() + held_out.size()) +
                                           " documents, the held-out ones too"
                                     : with_thousands_separators(train.size()) + " training documents") +
           (vocabulary.dropped_words() ? ", " + with_thousands_separators(vocabulary.dropped_words()) + " rare words left out"
                                       : std::string()) +
           ")");

    {
        // Texts that are not empty but give no token (punctuation dropped, symbols only): the
        // empty-text warning (data_checks.h) counts texts empty as read, not these.
        std::size_t tokenless = 0, first = 0;
        for (std::size_t i = 0; i < train.size(); ++i)
            if (train_tokens[i].empty() && !train[i].text.empty() && tokenless++ == 0) first = train[i].line;
        if (tokenless)
            m.warn(fmt::format("{}: {} of {} texts give no token once tokenized (first: {}){}: the model reads "
                               "them as empty",
                               source, with_thousands_separators(tokenless), with_thousands_separators(train.size()),
                               document_at(options.train_document_name, first),
                               options.tokenizer.punctuation == Punctuation::drop
                                   ? "; punctuation is dropped, so a text of punctuation alone has none"
                                   : ""));
    }
    if (vocabulary.word_count() == 0 && vocabulary.subword_buckets() == 0)
        throw InputError(fmt::format(
            "{}: the vocabulary is empty: {} ({} documents); the model would see only unknown words. {}", source,
            vocabulary.dropped_words()
                ? fmt::format("all {} distinct words are rarer than the minimum count", vocabulary.dropped_words())
                : std::string("the texts hold no token"),
            train.size(),
            vocabulary.dropped_words() ? "Lower the minimum word count"
            : options.tokenizer.punctuation == Punctuation::drop
                ? "Check the text column: punctuation is dropped, so a text of punctuation alone has no token"
                : "Check the text column"));

    const ModelSpec spec = text_cnn_spec(options.model, vocabulary.size(), m.labels.size());
    m.growth = Network::activation_growth(spec);
    m.max_text_tokens = training_tokens_bound(m.growth);
    const std::size_t parameters = Network::parameter_count(spec, Shape{1, 1, 1});
    check_training_memory(parameters, options.trainer.optimizer, "embedding dimension, feature maps, vocabulary");
    Network network = [&] {
        try {
            return Network(spec, Shape{1, 1, 1});
        } catch (const std::bad_alloc&) {
            throw network_allocation_error(parameters);
        }
    }();
    network.initialize(options.initializer, options.trainer.seed);
    if (options.zero_output_layer) zero_output_layer(network);
    m.classifier.emplace(options.tokenizer, std::move(vocabulary), m.labels, std::move(network));
    m.classifier->set_max_length(options.max_length);
    m.pack = PackOptions{m.classifier->gap(), 1, 0};

    if (!options.embeddings_path.empty()) {
        VectorsOptions vo;
        vo.expected_dim = options.model.embedding_dim;
        vo.tokenizer = &m.classifier->tokenizer();
        const PretrainedVectors vectors = load_pretrained_vectors(options.embeddings_path, m.classifier->vocabulary(), vo);
        // Vectors for no word of the training data: the embedding stays random (and, static,
        // never learns). It trained so without a word.
        if (vectors.ids.empty()) {
            const std::string none = fmt::format("{}: none of the {} words of the training data has a vector there ({} "
                                                 "vectors read)",
                                                 options.embeddings_path, vectors.vocabulary_words, vectors.file_vectors);
            if (options.model.embedding_mode == "static")
                throw InputError(none + ": a static embedding would stay random");
            m.warn(none + ": the embedding starts random");
        }
        Network& net = m.classifier->network();
        for (auto& group : net.groups())
            if (group.info.name == "table" || group.info.name == "static_table")
                vectors.copy_into(net.parameters().subspan(group.offset, group.info.size()), group.info.cols);
        m.info("embeddings: " + vectors.coverage() + " in " + options.embeddings_path + " (" + vectors.format + ", dim " +
               std::to_string(vectors.dim) + ")");
        if (vectors.repeated_words)
            m.warn(fmt::format("{}: {} for a word given before (first: '{}'); the first vector of each word was kept",
                               options.embeddings_path,
                               vectors.repeated_words == 1 ? std::string("1 vector is")
                                                           : fmt::format("{} vectors are", vectors.repeated_words),
                               vectors.first_repeated_word));
    }

    m.train = m.encode(train_tokens, train, source);
    if (options.naive_bayes_ngram_init) {
        naive_bayes_ngram_init(m.classifier->network(), m.train.ids, m.train.labels, m.labels.size());
        m.info("n-gram bag: rows started at the naive-Bayes log-count ratios of the training data");
    }
    if (!held_out.empty()) m.validation = m.encode(held_out_tokens, held_out, validation_source);
    m.check_batch_memory(train, source, held_out,
                         !validation_source.empty() ? validation_source
                         : dev_source.empty()       ? std::string("dev data")
                                                    : dev_source,
                         held_out_from_training ? options.train_document_name : DocumentNamer{}, parameters);
    {
        // The summary line before training, then what the validation data cannot tell.
        std::string counts;
        for (const auto& [label, count] : label_counts)
            counts += fmt::format("{}{} {}", counts.empty() ? "" : ", ", shown_label(label), with_thousands_separators(count));
        std::string validation = "no validation data";
        std::size_t tokens = 0, unknown = 0;
        for (const auto& ids : m.validation.ids) {
            tokens += ids.size();
            unknown += static_cast<std::size_t>(std::count(ids.begin(), ids.end(), Vocabulary::unknown_id));
        }
        if (!held_out.empty()) {
            validation = fmt::format("{} validation documents ({:.1f} % of all; {}), {:.1f} % of their tokens unknown",
                                     with_thousands_separators(held_out.size()),
                                     100.0 * static_cast<double>(held_out.size()) /
                                         static_cast<double>(held_out.size() + train.size()),
                                     validation_source.empty() ? std::string("dev data") : validation_source,
                                     tokens ? 100.0 * static_cast<double>(unknown) / tokens : 0.0);
        }
        m.info(fmt::format("data: {} training documents, {} labels ({}); {}", with_thousands_separators(train.size()),
                           m.labels.size(), counts, validation));
        m.check_class_balance(label_counts);
        const std::size_t batches = (train.size() + std::max<std::size_t>(options.trainer.batch_size, 1) - 1) /
                                    std::max<std::size_t>(options.trainer.batch_size, 1);
        if (!held_out.empty() && options.trainer.validations_per_epoch > batches)
            m.warn(fmt::format("{} validations per epoch were asked for, but an epoch has {}: the validation runs "
                               "after each batch, {} times per epoch",
                               options.trainer.validations_per_epoch,
                               batches == 1 ? std::string("1 batch") : fmt::format("{} batches", batches), batches));
        if (!held_out.empty())
            m.check_validation_data(train, held_out,
                                    !validation_source.empty() ? validation_source
                                    : dev_source.empty()       ? std::string("dev data")
                                                               : dev_source,
                                    tokens, unknown,
                                    held_out_from_training ? options.train_document_name : DocumentNamer{});
    }
    if (m.report.truncated_documents)
        m.report.warnings.push_back(std::to_string(m.report.truncated_documents) + " documents were cut to the maximum length of " +
                                    std::to_string(options.max_length) + " tokens");

    TrainerSettings settings = options.trainer;
    if (settings.max_norm > 0) {
        settings.max_norm_groups = output_weight_groups(m.classifier->network());
        settings.max_norm *= 1.0f - options.model.dropout;  // Kim's limit on our inverted dropout (header)
    }
    if (options.balanced_class_weights) settings.class_weights = balanced_class_weights(m.train.labels, m.labels.size());
    m.trainer = std::make_unique<Trainer>(m.classifier->network(), settings);
    m.trainer->set_training_data(m.train.ids.size(), m.source_for(m.train));
    if (!m.validation.ids.empty()) m.trainer->set_validation_data(m.validation.ids.size(), m.source_for(m.validation));
    if (m.callbacks.progress) m.trainer->on_progress(m.callbacks.progress);
    if (m.callbacks.epoch_end) m.trainer->on_epoch_end(m.callbacks.epoch_end);
    if (m.callbacks.validation) m.trainer->on_validation(m.callbacks.validation);
    if (m.callbacks.stop) m.trainer->set_stop_flag(m.callbacks.stop);
}

TextTrainingRun::~TextTrainingRun() = default;

void TextTrainingRun::resume_from(const std::string& checkpoint_path) {
    Impl& m = *impl_;
    const ModelFile file = read_model_file(checkpoint_path);
    if (!file.find("TRNR"))  // before comparing what it holds: a model's options are not the point
        throw ConfigError(checkpoint_path + " is a model, not a checkpoint: it holds no trainer state to resume from");
    TextClassifier saved = TextClassifier::from_model_file(file);
    if (!(saved.vocabulary() == m.classifier->vocabulary()) || saved.labels() != m.labels ||
        !(saved.tokenizer().settings() == m.classifier->tokenizer().settings()))
        throw ConfigError(checkpoint_path + ": the checkpoint was made from other training data or tokenizer settings");
    if (saved.network().spec() != m.classifier->network().spec())
        throw ConfigError(checkpoint_path + ": the checkpoint's architecture differs from this run's options");
    std::copy(saved.network().parameters().begin(), saved.network().parameters().end(),
              m.classifier->network().parameters().begin());
    const TrainerState state = trainer_state_from_sections(file);  // its errors name the file
    try {
        m.trainer->resume(state);
    } catch (const ConfigError& e) {
        throw ConfigError(checkpoint_path + ": " + e.what());  // "trainer: the checkpoint was made with seed 7, ..."
    } catch (const InputError& e) {
        throw InputError(checkpoint_path + ": " + e.what());  // a corrupt state: "trainer: the checkpoint is at batch ..."
    }
    m.info("resuming " + checkpoint_path);
}

TextTrainingReport TextTrainingRun::run() {
    try {
        impl_->report.result = impl_->trainer->run();
    } catch (const std::bad_alloc&) {
        // What grows with the data: a batch's activations, longest text times batch size.
        const Impl& m = *impl_;
        std::size_t longest = 0;
        for (const auto& ids : m.train.ids) longest = std::max(longest, ids.size());
        throw training_allocation_error(
            m.classifier->network().parameter_count(), m.options.trainer.optimizer,
            fmt::format("each batch of {} documents (the longest {} tokens)", m.options.trainer.batch_size,
                        with_thousands_separators(longest)),
            "batch size, maximum length or model");
    }
    return impl_->report;
}

TextClassifier& TextTrainingRun::classifier() { return *impl_->classifier; }

TextClassifier TextTrainingRun::take_classifier() { return std::move(*impl_->classifier); }

std::uint64_t ensemble_member_seed(std::uint64_t seed, std::size_t member) {
    if (member == 0) return seed;
    std::uint64_t z = seed + 0x9e3779b97f4a7c15ULL * (member + 1);  // SplitMix64 (Steele et al. 2014)
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return (z ^ (z >> 31)) >> 32;
}

TextTrainingOptions naive_bayes_member_options(TextTrainingOptions options) {
    if (options.model.word_ngrams == 0) options.model.word_ngrams = 2;
    options.naive_bayes_ngram_init = true;
    return options;
}

bool is_naive_bayes_member(std::size_t member, std::size_t members, std::size_t naive_bayes_members) {
    return member < members && member + naive_bayes_members >= members;
}

TextTrainingOptions ensemble_member_options(const TextTrainingOptions& base, std::size_t member, std::size_t members,
                                            std::size_t naive_bayes_members, MemberValidation validation) {
    if (member >= members)
        throw ConfigError("ensemble member index " + std::to_string(member) + " is out of range for " +
                          std::to_string(members) + (members == 1 ? " network" : " networks") + " (0-based)");
    if (naive_bayes_members > members)
        throw ConfigError(std::to_string(naive_bayes_members) + " naive-Bayes members are more than the " +
                          std::to_string(members) + (members == 1 ? " network" : " networks") + " of the ensemble");
    TextTrainingOptions options =
        is_naive_bayes_member(member, members, naive_bayes_members) ? naive_bayes_member_options(base) : base;
    const std::uint64_t validation_seed = base.validation_seed.value_or(base.trainer.seed);
    options.validation_seed = validation == MemberValidation::own ? ensemble_member_seed(validation_seed, member)
                                                                  : validation_seed;
    if (validation == MemberValidation::own && members > 1) options.vocabulary_from_held_out_too = true;
    options.trainer.seed = ensemble_member_seed(base.trainer.seed, member);
    return options;
}

namespace {

// Arg-max predictions, accuracy and mean cross-entropy of `e`'s probabilities.
void score_probabilities(Evaluation& e) {
    const std::size_t n = e.labels.size();
    e.predictions.resize(n);
    std::size_t correct = 0;
    double loss = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
        const float* p = e.probabilities.data() + i * e.classes;
        e.predictions[i] = static_cast<std::uint32_t>(std::max_element(p, p + e.classes) - p);
        correct += e.predictions[i] == e.labels[i];
        loss -= std::log(std::max(static_cast<double>(p[e.labels[i]]), 1e-30));
    }
    e.accuracy = n ? static_cast<double>(correct) / static_cast<double>(n) : 0.0;
    e.loss = n ? loss / static_cast<double>(n) : 0.0;
}

}  // namespace

Evaluation mean_evaluation(std::span<const Evaluation> members) {
    if (members.empty()) throw ConfigError("mean_evaluation: no member evaluations");
    Evaluation mean = members.front();
    for (std::size_t k = 1; k < members.size(); ++k) {
        const Evaluation& e = members[k];
        if (e.classes != mean.classes || e.labels != mean.labels)
            throw ConfigError(fmt::format("mean_evaluation: member {} was evaluated on other documents or classes "
                                          "than member 1 ({} samples of {} classes against {} of {})",
                                          k + 1, e.labels.size(), e.classes, mean.labels.size(), mean.classes));
        for (std::size_t i = 0; i < mean.probabilities.size(); ++i)
            mean.probabilities[i] += (e.probabilities[i] - mean.probabilities[i]) / static_cast<float>(k + 1);
    }
    score_probabilities(mean);
    return mean;
}

OutOfBagEvaluation out_of_bag_evaluation(std::span<const Evaluation> members,
                                         std::span<const std::vector<std::size_t>> positions) {
    if (members.size() != positions.size())
        throw ConfigError(fmt::format("out_of_bag_evaluation: {} member evaluations but {} position lists",
                                      members.size(), positions.size()));
    OutOfBagEvaluation out;
    if (members.empty()) return out;
    const std::size_t classes = members.front().classes;
    std::map<std::size_t, std::size_t> row_of;  // position -> sample
    for (std::size_t k = 0; k < members.size(); ++k) {
        const Evaluation& e = members[k];
        if (e.classes != classes || positions[k].size() != e.labels.size() ||
            e.probabilities.size() != e.labels.size() * classes)
            throw ConfigError(fmt::format("out_of_bag_evaluation: member {} has {} samples of {} classes and {} "
                                          "positions (member 1: {} classes)",
                                          k + 1, e.labels.size(), e.classes, positions[k].size(), classes));
        for (std::size_t position : positions[k]) row_of.emplace(position, 0);
    }
    Evaluation& oob = out.evaluation;
    oob.classes = classes;
    std::size_t next = 0;
    for (auto& [position, row] : row_of) {
        row = next++;
        out.positions.push_back(position);
    }
    oob.labels.assign(next, 0);
    oob.probabilities.assign(next * classes, 0.0f);
    out.judges.assign(next, 0);
    for (std::size_t k = 0; k < members.size(); ++k) {
        const Evaluation& e = members[k];
        for (std::size_t i = 0; i < positions[k].size(); ++i) {
            const std::size_t row = row_of[positions[k][i]];
            if (out.judges[row]++ == 0)
                oob.labels[row] = e.labels[i];
            else if (oob.labels[row] != e.labels[i])
                throw ConfigError(fmt::format("out_of_bag_evaluation: members disagree on the label of the document "
                                              "at position {}",
                                              positions[k][i]));
            float* p = oob.probabilities.data() + row * classes;
            const float* q = e.probabilities.data() + i * classes;
            const float n = static_cast<float>(out.judges[row]);
            for (std::size_t c = 0; c < classes; ++c) p[c] += (q[c] - p[c]) / n;
        }
    }
    score_probabilities(oob);
    return out;
}

std::uint64_t TextTrainingRun::save_best_model(const std::string& path) {
    TextClassifier& c = *impl_->classifier;
    return save_with_best_parameters(c.network(), impl_->trainer->state(), [&] { c.save(path); });
}

const std::vector<std::size_t>& TextTrainingRun::validation_positions() const { return impl_->validation_positions; }

Evaluation TextTrainingRun::evaluate_validation() const {
    const Impl& m = *impl_;
    if (m.validation.ids.empty()) return {};
    const TrainerSettings& s = m.options.trainer;
    return evaluate(m.classifier->network(), m.validation.ids.size(), m.source_for(m.validation),
                    s.eval_batch_size ? s.eval_batch_size : s.batch_size);
}

void TextTrainingRun::write_checkpoint(const std::string& path) const {
    ModelFile file = impl_->classifier->to_model_file();
    add_checkpoint_sections(file, impl_->classifier->network(), impl_->trainer->state());
    write_model_file(path, file);
}

}  // namespace textcnn
