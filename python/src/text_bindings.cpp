// textcnn.TextClassifier (load, predict, predict_proba, labels, save) and the training entry
// point behind textcnn.TextCNNClassifier.fit(): TextTrainingRun with its settings taken from the
// hyperparameter table below. Prediction and training run without the GIL.
#include "bindings.h"
#include "hyperparameters.h"
#include "training_hooks.h"

#include "textcnn/core/error.h"
#include "textcnn/core/runtime.h"
#include "textcnn/nn/architecture.h"
#include "textcnn/text/text_classifier.h"
#include "textcnn/text/text_training.h"
#include "textcnn/text/tokenizer.h"
#include "textcnn/text/utf8.h"

#include <cstdio>

#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace textcnn_python {
namespace {

using textcnn::TextClassifier;
using textcnn::TextModelSettings;
using textcnn::TextTrainingOptions;
using textcnn::TokenizerSettings;
using textcnn::VocabularyOptions;

/// What TextCNNClassifier's keyword arguments set: the library's training options, and the
/// thread count of the run.
struct TextFit {
    TextTrainingOptions options;
    std::size_t threads = 0;
    std::size_t ensemble = 1;    ///< networks trained and averaged (textcnn train --ensemble)
    std::size_t nb_members = 0;  ///< the last of them with the naive-Bayes wide branch (--nb-members)
    /// Which documents the members hold out (--member-validation).
    textcnn::MemberValidation member_validation = textcnn::MemberValidation::shared;
};

/// A row for a setting with named values: get() names the settings' value, set() applies one
/// (ConfigError naming the row and the allowed names for another).
Hyperparameter<TextFit> choice(std::string name, std::string doc, std::function<std::string(const TextFit&)> get,
                               std::vector<std::pair<std::string, std::function<void(TextFit&)>>> values) {
    return {name, std::move(doc),
            [get](const TextFit& f) {
                const std::string value = get(f);
                return value == "None" ? py::object(py::none()) : py::object(py::str(value));
            },
            [name, values](TextFit& f, py::handle value) {
                const std::string given = value.is_none() ? "None" : from_python<std::string>(value, name);
                std::string allowed;
                for (const auto& [value_name, apply] : values) {
                    if (value_name == given) return apply(f);
                    allowed += (allowed.empty() ? "" : ", ") + value_name;
                }
                throw textcnn::ConfigError("hyperparameter '" + name + "': '" + given + "' is not one of " + allowed);
            }};
}

const std::vector<Hyperparameter<TextFit>>& text_hyperparameters() {
    static const std::vector<Hyperparameter<TextFit>> table = [] {
        using textcnn::Initializer;
        using textcnn::Punctuation;
        const auto o = &TextFit::options;
        const auto model = &TextTrainingOptions::model;
        std::vector<Hyperparameter<TextFit>> t{
            field<TextFit>("widths", "filter widths side by side", o, model, &TextModelSettings::widths),
            field<TextFit>("maps", "feature maps (filters) per width", o, model, &TextModelSettings::maps),
            field<TextFit>("embedding_dim", "word vector size", o, model, &TextModelSettings::embedding_dim),
            field<TextFit>("embedding_mode", "non-static | static | multichannel", o, model,
                           &TextModelSettings::embedding_mode),
            field<TextFit>("embeddings", "pretrained vectors file (word2vec, GloVe, fastText .vec); '' = random", o,
                           &TextTrainingOptions::embeddings_path),
            field<TextFit>("activation", "relu | tanh | sigmoid | identity", o, model, &TextModelSettings::activation),
            field<TextFit>("dropout", "dropout rate before the output layer", o, model, &TextModelSettings::dropout),
            field<TextFit>("word_dropout", "share of known words read as the unknown word in training", o, model,
                           &TextModelSettings::word_dropout),
            field<TextFit>("word_ngrams", "wide branch: bag of word n-grams of 1..n beside the convolutions (0 = none)",
                           o, model, &TextModelSettings::word_ngrams),
            field<TextFit>("ngram_buckets", "wide branch: hash buckets of the n-grams of n >= 2", o, model,
                           &TextModelSettings::ngram_buckets),
            field<TextFit>("ngram_dim", "wide branch: features per text", o, model, &TextModelSettings::ngram_dim),
            field<TextFit>("ngram_reduce", "wide branch: sum | mean", o, model, &TextModelSettings::ngram_reduce),
            choice("ngram_init", "wide branch: random | nb (naive-Bayes log-count ratios, Wang & Manning 2012)",
                   [](const TextFit& f) { return f.options.naive_bayes_ngram_init ? "nb" : "random"; },
                   {{"random", [](TextFit& f) { f.options.naive_bayes_ngram_init = false; }},
                    {"nb", [](TextFit& f) { f.options.naive_bayes_ngram_init = true; }}}),
            // The library's names (TextTrainingOptions::initialization_names()) and its setter.
            Hyperparameter<TextFit>{
                "init",
                [] {
                    std::string names;
                    for (const auto& name : TextTrainingOptions::initialization_names())
                        if (name != "kim") names += " | " + name;
                    return "kim (Glorot weights, zero output layer, as Kim's code)" + names +
                           " (the output layer drawn like the others)";
                }(),
                [](const TextFit& f) {
                    return py::object(py::str(f.options.zero_output_layer
                                                  ? std::string("kim")
                                                  : textcnn::initializer_kind_name(f.options.initializer.kind)));
                },
                [](TextFit& f, py::handle value) {
                    try {
                        f.options.set_initialization(from_python<std::string>(value, "init"));
                    } catch (const textcnn::ConfigError& e) {
                        throw textcnn::ConfigError(std::string("hyperparameter 'init': ") + e.what());
                    }
                }},
            field<TextFit>("max_norm", "Kim's max L2 norm of the output weight vectors (0 = off)", o,
                           &TextTrainingOptions::trainer, &textcnn::TrainerSettings::max_norm),
            field<TextFit>("label_smoothing",
                           "e in [0, 1): train towards (1 - e) on the true label and e / classes on every label", o,
                           &TextTrainingOptions::trainer, &textcnn::TrainerSettings::label_smoothing),
            choice("class_weight", "None | balanced (loss weighted by n / (classes * count), as in scikit-learn)",
                   [](const TextFit& f) { return f.options.balanced_class_weights ? "balanced" : "None"; },
                   {{"None", [](TextFit& f) { f.options.balanced_class_weights = false; }},
                    {"balanced", [](TextFit& f) { f.options.balanced_class_weights = true; }}}),
            field<TextFit>("validation_split", "share of the documents held out (stratified) to pick the best epoch",
                           o, &TextTrainingOptions::validation_split),
            field<TextFit>("max_length", "cut texts to this many tokens (0 = never)", o,
                           &TextTrainingOptions::max_length),
            field<TextFit>("min_count", "leave out words seen fewer times", o, &TextTrainingOptions::vocabulary,
                           &VocabularyOptions::min_count),
            field<TextFit>("max_vocab", "keep at most this many words (0 = all)", o, &TextTrainingOptions::vocabulary,
                           &VocabularyOptions::max_size),
            field<TextFit>("subword_buckets", "hash unknown words into this many suffix buckets (0 = off)", o,
                           &TextTrainingOptions::vocabulary, &VocabularyOptions::subword_buckets),
            field<TextFit>("lowercase", "tokenizer: Unicode case folding", o, &TextTrainingOptions::tokenizer,
                           &TokenizerSettings::lowercase),
            field<TextFit>("normalize", "tokenizer: NFKC", o, &TextTrainingOptions::tokenizer,
                           &TokenizerSettings::normalize),
            choice("punctuation", "tokenizer: keep | drop",
                   [](const TextFit& f) {
                       return f.options.tokenizer.punctuation == Punctuation::keep ? "keep" : "drop";
                   },
                   {{"keep", [](TextFit& f) { f.options.tokenizer.punctuation = Punctuation::keep; }},
                    {"drop", [](TextFit& f) { f.options.tokenizer.punctuation = Punctuation::drop; }}}),
            field<TextFit>("placeholders", "tokenizer: URLs, e-mail addresses, numbers, money as placeholder tokens",
                           o, &TextTrainingOptions::tokenizer, &TokenizerSettings::placeholders),
        };
        for (auto& row : trainer_hyperparameters<TextFit>(o, &TextTrainingOptions::trainer)) t.push_back(std::move(row));
        t.push_back(field<TextFit>("ensemble",
                                   "networks trained from seeds derived from seed (ensemble_member_seed) on the same "
                                   "data and validation split, their probabilities averaged (1 = one network)",
                                   &TextFit::ensemble));
        t.push_back(field<TextFit>("nb_members",
                                   "of the ensemble's networks, the last nb_members have the wide branch of word "
                                   "n-grams (word_ngrams, 2 when 0) started at the naive-Bayes log-count ratios "
                                   "(naive_bayes_member_options; textcnn train --nb-members)",
                                   &TextFit::nb_members));
        t.push_back(choice("member_validation",
                           "shared | own: with ensemble > 1 and validation_split, every member holds out the same "
                           "documents, or each a split of its own drawn from its seed, so every document trains "
                           "most members (bagging; textcnn train --member-validation)",
                           [](const TextFit& f) {
                               return f.member_validation == textcnn::MemberValidation::own ? "own" : "shared";
                           },
                           {{"shared", [](TextFit& f) { f.member_validation = textcnn::MemberValidation::shared; }},
                            {"own", [](TextFit& f) { f.member_validation = textcnn::MemberValidation::own; }}}));
        t.push_back(field<TextFit>("threads", "threads for training (0 = all cores)", &TextFit::threads));
        return t;
    }();
    return table;
}

/// InputError for a text (a bytes object: a str is always valid) that is not valid UTF-8: the
/// library would read it with U+FFFD for the bad bytes, and the CLI refuses such input.
void check_utf8(const std::vector<std::string>& texts, const char* call) {
    for (std::size_t i = 0; i < texts.size(); ++i)
        if (const auto bad = textcnn::find_invalid_utf8(texts[i]))
            throw textcnn::InputError(std::string(call) + ": texts[" + std::to_string(i) + "] is not valid UTF-8 (at "
                                      "byte offset " + std::to_string(*bad) + "); decode it first, e.g. "
                                      "bytes.decode('utf-8', 'replace')");
}

std::vector<textcnn::TextPrediction> predict_without_gil(const TextClassifier& model,
                                                         const std::vector<std::string>& texts, const char* call) {
    check_utf8(texts, call);
    py::gil_scoped_release release;
    const std::shared_lock lock(model_mutex());
    return model.predict(std::span<const std::string>(texts));
}

py::list predict_labels(const TextClassifier& model, const std::vector<std::string>& texts) {
    const auto predictions = predict_without_gil(model, texts, "predict()");
    return predicted_labels(predictions, model.labels());
}

py::array_t<float> predict_proba(const TextClassifier& model, const std::vector<std::string>& texts) {
    return probabilities_array(predict_without_gil(model, texts, "predict_proba()"), model.labels().size());
}

/// Trains a classifier on texts[i] labelled labels[i]: what TextCNNClassifier.fit() calls.
py::tuple train_text(std::vector<std::string> texts, std::vector<std::string> labels, const py::dict& params,
                     py::object progress, py::object epoch_end, py::object message, py::object warning) {
    if (texts.size() != labels.size())
        throw textcnn::InputError("fit(): " + std::to_string(texts.size()) + " texts but " +
                                  std::to_string(labels.size()) + " labels");
    check_utf8(texts, "fit()");
    TextFit fit;
    fit.options.train_source = "fit() documents";
    apply_hyperparameters(text_hyperparameters(), params, fit);
    std::vector<textcnn::Document> documents(texts.size());
    for (std::size_t i = 0; i < texts.size(); ++i)
        documents[i] = {std::move(labels[i]), std::move(texts[i]), i + 1};

    TrainingHooks hooks(std::move(progress), std::move(epoch_end), std::move(message), std::move(warning));
    textcnn::TextTrainingCallbacks callbacks;
    callbacks.info = hooks.on_message();
    callbacks.warning = hooks.on_warning();
    callbacks.progress = hooks.on_progress();
    callbacks.epoch_end = hooks.on_epoch_end();
    callbacks.stop = hooks.stop_flag();
    if (fit.ensemble < 1 || fit.ensemble > 64)
        throw textcnn::ConfigError("hyperparameter 'ensemble': " + std::to_string(fit.ensemble) +
                                   " networks (1 to 64 are trained)");
    if (fit.nb_members > fit.ensemble)
        throw textcnn::ConfigError("hyperparameter 'nb_members': " + std::to_string(fit.nb_members) +
                                   " is more than the " + std::to_string(fit.ensemble) +
                                   (fit.ensemble == 1 ? " network" : " networks") + " of 'ensemble'");
    if (fit.member_validation == textcnn::MemberValidation::own && (fit.ensemble == 1 || fit.options.validation_split <= 0.0))
        throw textcnn::ConfigError(std::string("hyperparameter 'member_validation': 'own' gives each member of an "
                                               "ensemble a validation split of its own: it needs ") +
                                   (fit.ensemble == 1 ? "ensemble >= 2" : "validation_split > 0"));
    std::optional<TextClassifier> model;
    textcnn::TextTrainingReport report;
    std::string seeds;  ///< an ensemble's member seeds, "1, 3203108257, ..."
    std::optional<double> ensemble_dev_accuracy;
    {
        py::gil_scoped_release release;
        textcnn::ThreadLimit threads(fit.threads);
        // One run per member on the same documents and validation split (as textcnn train --ensemble).
        // The history and counts reported are member 1's (as the CLI's report draws its curves).
        std::vector<TextClassifier> members;
        std::vector<textcnn::Evaluation> evaluations;          // each member's on its validation documents
        std::vector<std::vector<std::size_t>> positions;       // and which documents those are
        textcnn::check_ensemble_validation_splits(documents, fit.options, fit.ensemble, fit.nb_members,
                                                  fit.member_validation);  // before any member trains
        for (std::size_t k = 0; k < fit.ensemble; ++k) {
            const bool naive_bayes = textcnn::is_naive_bayes_member(k, fit.ensemble, fit.nb_members);
            const TextTrainingOptions options = textcnn::ensemble_member_options(fit.options, k, fit.ensemble, fit.nb_members,
                                                                                fit.member_validation);
            if (fit.ensemble > 1 && callbacks.info)
                callbacks.info("ensemble member " + std::to_string(k + 1) + "/" + std::to_string(fit.ensemble) +
                               " (seed " + std::to_string(options.trainer.seed) +
                               (naive_bayes ? ", naive-Bayes wide branch)" : ")"));
            const bool last = k + 1 == fit.ensemble;
            textcnn::TextTrainingRun run(last ? std::move(documents) : documents, std::nullopt, "", options, callbacks);
            const textcnn::TextTrainingReport member = run.run();
            if (k == 0) report = member;
            if (fit.ensemble > 1 && member.validation_documents && member.result.reason != textcnn::StopReason::interrupted) {
                evaluations.push_back(run.evaluate_validation());
                positions.push_back(run.validation_positions());
            }
            members.push_back(run.take_classifier());
            if (member.result.reason == textcnn::StopReason::interrupted) break;
            seeds += (k ? ", " : "") + std::to_string(options.trainer.seed);
        }
        model.emplace(TextClassifier::ensemble(std::move(members)));
        // The ensemble's dev accuracy, as textcnn train --ensemble gives it: of the averaged
        // probabilities on the shared split, or out of bag.
        if (!evaluations.empty())
            ensemble_dev_accuracy = fit.member_validation == textcnn::MemberValidation::own
                                        ? textcnn::out_of_bag_evaluation(evaluations, positions).evaluation.accuracy
                                        : textcnn::mean_evaluation(evaluations).accuracy;
    }
    if (ensemble_dev_accuracy) {
        char text[32];
        std::snprintf(text, sizeof text, "%.4f", *ensemble_dev_accuracy);
        model->metadata["dev_accuracy"] = text;
    }
    if (fit.ensemble > 1) model->metadata["ensemble_seeds"] = seeds;
    if (fit.nb_members > 0 && fit.ensemble > 1) model->metadata["ensemble_nb_members"] = std::to_string(fit.nb_members);
    if (fit.member_validation == textcnn::MemberValidation::own)
        model->metadata["ensemble_member_validation"] = "own (out-of-bag dev accuracy)";
    hooks.rethrow_if_failed();
    model->metadata["training_data"] = "Python fit()";
    model->metadata["training_documents"] = std::to_string(report.train_documents);
    model->metadata["seed"] = std::to_string(fit.options.trainer.seed);
    model->metadata["built_with"] = textcnn::build_info();
    if (fit.ensemble == 1) {  // an ensemble's members each have their own (as textcnn train --ensemble)
        model->metadata["epochs_completed"] = std::to_string(report.result.epochs_completed);
        if (report.result.best_epoch) model->metadata["best_epoch"] = std::to_string(report.result.best_epoch);
    }
    model->fold_for_prediction();

    py::dict facts = train_result_dict(report.result);
    facts["train_documents"] = report.train_documents;
    facts["validation_documents"] = report.validation_documents;
    facts["truncated_documents"] = report.truncated_documents;
    facts["warnings"] = report.warnings;
    return py::make_tuple(std::move(*model), facts);
}

}  // namespace

void bind_text(py::module_& m) {
    py::class_<TextClassifier> cls(m, "TextClassifier", R"doc(
A trained text classifier (a Kim 2014 CNN): tokenizer settings, vocabulary, labels and network
from one model file, as written by `textcnn train` or TextCNNClassifier.

Thread-safe: predict() and predict_proba() may run in any number of Python threads at once;
they release the GIL while the library works (and use every core through oneTBB).
)doc");
    def_load_save(cls, "text");
    cls.def_property_readonly("labels", &TextClassifier::labels,
                               "The labels (list of str), in the order of predict_proba()'s columns.")
        .def("predict", &predict_labels, py::arg("texts"),
             "The most probable label (str) of each text of `texts` (a list of str; any text, an empty one too).")
        .def("predict_proba", &predict_proba, py::arg("texts"),
             "Softmax probabilities: a float32 array of len(texts) x len(labels), rows summing to 1.")
        .def(
            "quantize",
            [](TextClassifier& c, const std::string& form) {
                const auto tables = TextClassifier::quantized_tables_from_name(form);
                if (!tables)
                    throw textcnn::ConfigError("quantize: form '" + form + "' is not one of stored, refined, compact, compact_refined");
                // As textcnn quantize: a quantized model has no float weights left to quantize.
                if (const auto current = c.quantized_form())
                    throw textcnn::ConfigError(std::string("quantize: the model is already quantized (") +
                                               TextClassifier::quantized_tables_name(*current) +
                                               "): quantize the float model it came from");
                // With the GIL held (model_mutex()): no call can read the model while it changes.
                const std::unique_lock lock(model_mutex());
                c.quantize(*tables);
            },
            py::arg("form") = "stored",
            R"doc(Replaces the float network by int8 folded tables, for prediction only (as `textcnn quantize`):
faster and smaller in memory; save() then writes the quantized model. `form`: "stored" (the int8
tables in the file), "refined" (plus a 4-bit residual code per value: a text whose label the int8
tables leave in doubt is scored again, so labels are the float model's unless it puts a text
within about twice refined_error_bound() of a tie; the file and memory grow by half the tables),
"compact" (int8 embeddings and the float convolution weights in the file, about a third of the
float file; the tables are made at load), "compact_refined" (the compact file; the residual codes of
"refined" are made at load too, so only the embedding's rounding remains in a text scored again).
Other threads' predictions wait until it is done. ConfigError for an unknown form, a network that cannot be folded,
or a model that is quantized already.)doc")
        .def_property_readonly("quantized", &TextClassifier::quantized,
                               "Whether the model is quantized (quantize(), or loaded from a quantized file).")
        .def("quantization_error_bound", &TextClassifier::quantization_error_bound,
             "Per label, in the order of `labels`: the most a logit of a quantized model can differ from the float "
             "model's (an empty list for a float model).")
        .def("refined_error_bound", &TextClassifier::refined_error_bound,
             "Per label: the same for a text scored again by a model quantized with form=\"refined\" (a 14th of "
             "quantization_error_bound()); an empty list otherwise.")
        .def_readonly("metadata", &TextClassifier::metadata, "Facts saved with the model (dict of str).")
        .def("summary", &TextClassifier::summary, "Layers, vocabulary, labels, tokenizer settings and metadata.")
        .def("__repr__", [](const TextClassifier& c) {
            return "<textcnn.TextClassifier with " + std::to_string(c.labels().size()) + " labels>";
        });

    m.def("text_hyperparameters", [] { return describe_hyperparameters(text_hyperparameters()); },
          "(name, default, description) of every TextCNNClassifier keyword argument, in the order fit() applies them.");
    m.def("train_text", &train_text, py::arg("texts"), py::arg("labels"), py::arg("params"), py::arg("progress"),
          py::arg("epoch_end"), py::arg("message"), py::arg("warning"),
          "Trains a TextClassifier (TextTrainingRun) on texts labelled by labels (lists of str) with the "
          "keyword arguments in params; returns (classifier, facts). The callables (or None) receive progress "
          "dicts after every batch, epoch dicts, messages and warnings. Ctrl-C (or an exception from a "
          "callable) stops the run after the current batch and is raised here.");
}

}  // namespace textcnn_python
