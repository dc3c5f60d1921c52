// Training a TextClassifier from labelled documents: labels, validation split, vocabulary,
// optional pretrained vectors, then the shared Trainer (trainer.h) over packed batches.
// This is what `textcnn train` runs; a program that links textcnn can call it directly:
//
//     std::vector<textcnn::Document> train = textcnn::read_all("train.csv", {.require_label = true}).documents;
//     textcnn::TextTrainingOptions options;
//     options.trainer.epochs = 10;
//     textcnn::TextTrainingRun run(std::move(train), std::nullopt, "", options, {});
//     textcnn::TextTrainingReport report = run.run();
//     run.classifier().save("model.bin");
//
// Like text_classifier.h, this header includes no Armadillo, oneTBB or ICU header.
#pragma once

#include "textcnn/nn/training_settings.h"
#include "textcnn/text/data_checks.h"
#include "textcnn/text/document_reader.h"
#include "textcnn/text/text_classifier.h"
#include "textcnn/text/tokenizer.h"
#include "textcnn/text/vocabulary.h"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace textcnn {

struct TextTrainingOptions {
    TextModelSettings model;
    TokenizerSettings tokenizer;
    VocabularyOptions vocabulary;
    /// Epochs, batch size, seed, optimizer, patience... Defaults here are Kim's: 25 epochs,
    /// batch 50, Adadelta (rho 0.95, eps 1e-6), max-norm 3 on the output layer, and of equal
    /// dev accuracies the later model is kept.
    /// trainer.max_norm is Kim's limit s, which refers to his dropout: it is not inverted (it
    /// trains the output weights on the unscaled kept units and multiplies them by 1 - rate at
    /// test time), while ours scales the kept units by 1 / (1 - rate) in training. Our output
    /// weights are therefore his times (1 - rate), and the run holds their columns to
    /// s * (1 - model.dropout): the same constraint on the same function.
    TrainerSettings trainer = kim_trainer_settings();
    /// Share of the training documents held out for validation when no dev set is given
    /// (grouped_stratified_split: stratified, identical texts on one side, drawn from the seed);
    /// 0 = none. A share too small to hold out a single
    /// document is an InputError, not a silent run without validation.
    double validation_split = 0.0;
    /// The seed that draws the validation split; unset = trainer.seed. The members of an
    /// ensemble share one (the same held-out documents, hence the same vocabulary) while their
    /// trainer.seed differs (ensemble_member_seed()).
    std::optional<std::uint64_t> validation_seed;
    /// With a validation split: the vocabulary is built from every training document, the
    /// held-out ones too (their words' embedding rows start random and this run never trains
    /// them, as in Kim's code, whose vocabulary spans all the data), so runs that hold out
    /// different documents of the same data share one vocabulary, which an ensemble's members
    /// must (MemberValidation::own). false = from the documents trained on only.
    bool vocabulary_from_held_out_too = false;
    /// Names the training data in error messages (the file name, say).
    std::string train_source = "training data";
    /// How warnings name a training document from its Document::line (data_checks.h's
    /// DocumentNamer): empty = "line 41" of train_source.
    DocumentNamer train_document_name{};
    /// The data's column names, when its file had a header: rows that repeat them are
    /// reported by the data checks (data_checks.h). Empty = not checked.
    std::string label_column, text_column;
    /// Weight the loss by n / (classes * count) per class (sklearn's "balanced").
    bool balanced_class_weights = false;
    /// Pretrained vectors (word2vec text/binary, GloVe, fastText .vec); empty = random.
    std::string embeddings_path;
    /// Longest text in tokens; longer ones are cut and counted (0 = no limit).
    std::size_t max_length = 0;
    Initializer initializer{Initializer::Kind::glorot_uniform, 0.25f};
    /// Kim's output layer (the LogisticRegression of his code) starts with zero weights and
    /// bias; false = initialised by `initializer` like the other layers.
    bool zero_output_layer = true;

    /// With a wide branch (model.word_ngrams > 0): start row c of every n-gram column that
    /// occurs in the training data at the naive-Bayes log-count ratio of class c against the
    /// others, r = log((p / |p|_1) / (q / |q|_1)), p and q the binarized counts of the column
    /// in the documents of class c and of the other classes plus 1 (Wang & Manning 2012,
    /// NBSVM; norms over the columns that occur), for c < min(classes, model.ngram_dim); the
    /// other rows and columns keep their random start. false = random rows only.
    bool naive_bayes_ngram_init = false;

    /// The `trainer` default above. Thread-safe.
    static TrainerSettings kim_trainer_settings();

    /// The weight initialisations by name: "kim" (Glorot-uniform weights and a zero output
    /// layer, as Kim's code; the default) and the initializer names (initializer_names():
    /// glorot_uniform, he_uniform, torch, uniform; the output layer drawn like the others).
    /// Thread-safe.
    static const std::vector<std::string>& initialization_names();
    /// Sets `initializer` and `zero_output_layer` for one of initialization_names() (or an
    /// alias parse_initializer_kind() takes: glorot, he). ConfigError "unknown initializer
    /// 'NAME' (known: kim, glorot_uniform, he_uniform, torch, uniform)" otherwise.
    void set_initialization(const std::string& name);
};

/// The trainer seed of member `member` (0-based) of an ensemble trained from `seed`: member 0
/// uses `seed` itself (a one-member ensemble is the single model), the others a SplitMix64
/// mix of both below 2^32, so the ensembles of neighbouring seeds share no member. Thread-safe.
std::uint64_t ensemble_member_seed(std::uint64_t seed, std::size_t member);

/// The options of an ensemble's naive-Bayes member (`textcnn train --nb-members`): `options` with
/// the wide n-gram branch (model.word_ngrams; 2, uni- and bigrams, when it was 0) started at the
/// naive-Bayes log-count ratios (naive_bayes_ngram_init; Wang & Manning 2012). Such a member on
/// its own is about as accurate as a Kim network, but it errs on other documents, so averaging a
/// few of them with Kim networks gains more than more Kim networks do (README, Accuracy). Throws
/// nothing. Thread-safe.
TextTrainingOptions naive_bayes_member_options(TextTrainingOptions options);

/// Whether member `member` (0-based) of an ensemble of `members` networks whose last
/// `naive_bayes_members` have the naive-Bayes wide branch is one of those. Throws nothing.
bool is_naive_bayes_member(std::size_t member, std::size_t members, std::size_t naive_bayes_members);

/// Which training documents the members of an ensemble hold out, with a validation split
/// (TextTrainingOptions::validation_split; dev data is the same for every member).
enum class MemberValidation {
    /// One split, drawn from the base seed, for every member: each member picks its epoch on
    /// the same documents, which no member trains on, and the averaged probabilities are judged
    /// on them (mean_evaluation()).
    shared,
    /// A split of its own for every member, drawn from its ensemble_member_seed(): what one
    /// member validates on the others train on, as bagging varies its members' data (Breiman
    /// 1996), and no document is left out of every member's training. The ensemble is judged
    /// out of bag (out_of_bag_evaluation()). Measured on validation data (README, Accuracy): no
    /// gain over `shared` on TREC (-0.27 +- 0.51 points, 5 Kim networks, 6 outer hold-outs) nor
    /// SMS, where thresholds picked out of bag run low (the smaller ensembles that judge each
    /// document are less sure than the whole), so it is not the default.
    own,
};

/// The training options of member `member` (0-based) of an ensemble of `members` networks
/// trained from `base` (`textcnn train --ensemble K --nb-members M --member-validation V`,
/// Python's `ensemble`, `nb_members` and `member_validation`): trainer.seed =
/// ensemble_member_seed(base.trainer.seed, member); the validation split drawn, with
/// MemberValidation::shared, from base's seed for every member (validation_seed, unless base
/// sets one), so all members hold out the same documents; with MemberValidation::own from
/// ensemble_member_seed(that seed, member), and, for more than one member, the vocabulary from
/// the held-out documents too (vocabulary_from_held_out_too: members share one);
/// naive_bayes_member_options() for the last `naive_bayes_members`. Member 0 of a one-network
/// ensemble trains as `base` would (same seed and split; the branch when naive_bayes_members is
/// 1). ConfigError when member >= members or naive_bayes_members > members. Thread-safe.
TextTrainingOptions ensemble_member_options(const TextTrainingOptions& base, std::size_t member, std::size_t members,
                                            std::size_t naive_bayes_members,
                                            MemberValidation validation = MemberValidation::shared);

/// The ensemble's evaluation on validation documents every member was evaluated on (dev data,
/// or a split shared by all: MemberValidation::shared): the members' probabilities (samples x
/// classes, TextTrainingRun::evaluate_validation()) averaged, arg-max predictions and accuracy;
/// loss = mean cross-entropy of the averaged probabilities. ConfigError when `members` is empty
/// or the members' samples, classes or labels differ. Thread-safe.
Evaluation mean_evaluation(std::span<const Evaluation> members);

/// Checks options.validation_split of `train` (when above 0) as TextTrainingRun's constructor
/// would split it (its labels trimmed as the data checks trim them; warnings dropped), without
/// tokenizing or training: InputError when the split holds out no document or leaves a label
/// without training documents, or the data is refused (data_checks.h); ConfigError for a split
/// of 1 or more. An ensemble whose members hold out splits of their own (MemberValidation::own)
/// checks every member's before the first trains. Thread-safe.
void check_validation_split(std::vector<Document> train, const TextTrainingOptions& options);

/// check_validation_split() for every member of an ensemble trained from `base`
/// (ensemble_member_options()), before any trains: with MemberValidation::own the members hold
/// out different documents, and one's split may leave a label without training documents where
/// another's does not. InputError "ensemble member 2 of 5 (its validation split drawn from seed
/// S; nothing trained): ..." for the first that fails; nothing to check with a shared split
/// (the first run's constructor checks it). Thread-safe.
void check_ensemble_validation_splits(const std::vector<Document>& train, const TextTrainingOptions& base,
                                      std::size_t members, std::size_t naive_bayes_members, MemberValidation validation);

/// What out_of_bag_evaluation() returns.
struct OutOfBagEvaluation {
    Evaluation evaluation;
    std::vector<std::size_t> positions;  ///< of each sample, in the training documents
    std::vector<std::uint32_t> judges;   ///< members that held each sample out
};
/// An ensemble judged out of bag (Breiman 1996's out-of-bag estimate, with members' validation
/// splits in place of bootstrap samples): each document held out by at least one member
/// (members[k] evaluated member k on the documents at positions[k], TextTrainingRun::
/// validation_positions()) scored by the mean of the probabilities of the members that held it
/// out. Samples in ascending position order; `positions` of the result gives each one's.
/// Every document is judged by fewer networks than the ensemble has, so the estimate is of a
/// smaller ensemble's accuracy (below the whole one's, as a rule). ConfigError when the spans'
/// sizes differ, a member's positions and samples differ in number, classes differ, or two
/// members give one position different labels. Thread-safe.
OutOfBagEvaluation out_of_bag_evaluation(std::span<const Evaluation> members,
                                         std::span<const std::vector<std::size_t>> positions);

/// Stratified hold-out: moves round(share * n_c) documents of every label c, chosen by a
/// permutation drawn from `seed`, from `documents` to `held_out` (both keep file order).
/// Requires every document to have a label and share in [0, 1]. Throws nothing beyond
/// std::bad_alloc. Thread-safe for distinct vectors.
void stratified_split(std::vector<Document>& documents, std::vector<Document>& held_out, double share,
                      std::uint64_t seed);

/// What grouped_stratified_split found among identical texts.
struct DuplicateTexts {
    std::size_t repeated_documents = 0;  ///< documents whose text an earlier document has
    std::size_t conflicting_texts = 0;   ///< distinct texts that carry more than one label
    /// Up to three of those: "'good value' (lines 4, 9: pos, neg)".
    std::vector<std::string> conflict_examples;
};

/// stratified_split where documents with byte-identical texts move together, so no text lands
/// on both sides (a test set that repeats training texts overstates accuracy). A group counts
/// in the stratum of its most frequent label (the first document's on a tie); every stratum
/// holds out whole groups, in an order drawn from `seed`, until it has round(share * n_c)
/// documents or more. Without repeated texts the result equals stratified_split's. Same
/// requirements, exceptions and thread-safety as stratified_split.
/// `held_out_positions`, when given, receives the positions in `documents` (as given) of the
/// documents held out, ascending.
DuplicateTexts grouped_stratified_split(std::vector<Document>& documents, std::vector<Document>& held_out,
                                        double share, std::uint64_t seed,
                                        std::vector<std::size_t>* held_out_positions = nullptr);

/// What the caller should tell the user besides progress lines.
struct TextTrainingReport {
    std::size_t train_documents = 0;
    std::size_t validation_documents = 0;
    std::size_t truncated_documents = 0;
    std::vector<std::string> warnings;  ///< e.g. embeddings coverage, truncation
    TrainResult result;
};

/// Optional hooks, each called on the thread that calls TextTrainingRun's constructor (info)
/// or run() (info, progress, epoch_end); the library itself never prints. An exception thrown
/// by a callback leaves run() through the caller.
struct TextTrainingCallbacks {
    std::function<void(const std::string&)> info;  ///< one-off messages ("vocabulary: 16,185 ids")
    /// Warnings found before training (data_checks.h; a class that lost its documents to the
    /// validation split...). Without this callback they go to TextTrainingReport::warnings.
    std::function<void(const std::string&)> warning;
    std::function<void(const TrainingProgress&)> progress;
    std::function<void(const EpochSummary&)> epoch_end;
    std::function<void(const ValidationCheck&)> validation;  ///< after every dev check
    /// Checked after every batch; when it becomes true run() returns with StopReason::interrupted
    /// (write_checkpoint() then saves the position). May be set from any thread or a signal
    /// handler; must outlive the run.
    const std::atomic<bool>* stop = nullptr;
};

/// A prepared run: data encoded, network initialised, trainer ready. Separate from run() so
/// that a caller can resume a checkpoint or write one when interrupted.
/// Thread safety: one run is used by one thread at a time (only callbacks.stop may be set
/// from elsewhere); separate runs may train side by side.
class TextTrainingRun {
public:
    /// Tokenizes `train`, builds the vocabulary and labels (sorted) from it, initialises the
    /// network from options.trainer.seed and, with options.embeddings_path, reads the vectors.
    /// Requires labelled documents of at least two classes in `train`; `dev` (optional; named
    /// `dev_source` in messages) must be non-empty and use only labels seen in training.
    /// Throws InputError naming the source, line and label for bad data (no documents, a
    /// missing label, one class, an unknown dev label, a validation split that holds out
    /// nothing), ConfigError for invalid options (a model setting, validation_split >= 1),
    /// IoError when the embeddings file cannot be read. The data is checked first
    /// (data_checks.h: labels trimmed, oddities warned about, hopeless data refused); also
    /// InputError when a class keeps no training document after the validation split or the
    /// vocabulary holds no word, ConfigError for patience or several validations per epoch
    /// without validation data; ResourceError when the network and its optimizer state cannot
    /// fit in the memory left (check_training_memory(), nn/trainer.h) or its allocation fails.
    TextTrainingRun(std::vector<Document> train, std::optional<std::vector<Document>> dev, const std::string& dev_source,
                    const TextTrainingOptions& options, TextTrainingCallbacks callbacks);
    ~TextTrainingRun();

    /// Continue a checkpoint: the model file written by write_checkpoint() holds the
    /// vocabulary, labels and tokenizer too, and they must match this run's data. Call before
    /// run(). Throws IoError/InputError for an unreadable or corrupt file, ConfigError when it
    /// was made from other data, settings or seed.
    void resume_from(const std::string& checkpoint_path);
    /// Trains until options.trainer.epochs are done, patience runs out or callbacks.stop is
    /// set; with validation data the best model is put back at the end. Returns the counts,
    /// warnings and the trainer's result (TrainResult::reason says why it stopped).
    /// Throws what the callbacks throw; ResourceError (naming the parameters, the batch size
    /// and the longest text) when an allocation fails.
    TextTrainingReport run();
    /// The classifier with the current (after run(): the best) parameters; valid as long as
    /// the run. Its network is the one being trained: do not predict while run() runs.
    TextClassifier& classifier();
    /// The current network (after run(): the best) on the validation data (dev set or held-out
    /// share) in inference mode: true labels, arg-max predictions and probabilities (documents x
    /// labels, in the order of classifier().labels()). An Evaluation of no samples when the run
    /// has no validation data. Not while run() runs; std::bad_alloc only.
    Evaluation evaluate_validation() const;
    /// With a validation split: the position, in the `train` vector given to the constructor,
    /// of each held-out document, ascending, in the order of evaluate_validation()'s samples
    /// (out_of_bag_evaluation() joins an ensemble's members by them). Empty with dev data or
    /// without validation. Throws nothing.
    const std::vector<std::size_t>& validation_positions() const;
    /// A checkpoint file: the classifier's sections plus the trainer state. Throws IoError
    /// when it cannot be written.
    void write_checkpoint(const std::string& path) const;
    /// Moves the classifier out (after run(): the best parameters), e.g. to make it a member of
    /// an ensemble (TextClassifier::ensemble()). The run may only be destroyed afterwards.
    TextClassifier take_classifier();
    /// Saves the classifier (metadata included) with the best parameters validated so far, or
    /// the current ones when nothing was validated yet: what an interrupted run keeps besides
    /// its checkpoint. Returns the epoch of those best parameters (0: the current ones). Not
    /// while run() runs. Throws IoError when the file cannot be written, InputError when a
    /// parameter is not finite (as TextClassifier::save).
    std::uint64_t save_best_model(const std::string& path);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace textcnn
