// Training a TextClassifier from labelled documents: labels, validation split, vocabulary,
// optional pretrained vectors, then the shared Trainer (trainer.h) over packed batches.
// This is what `textcnn train` runs; a program that links textcnn can call it directly.
#pragma once

#include "textcnn/text/document_reader.h"
#include "textcnn/text/text_classifier.h"
#include "textcnn/nn/trainer.h"
#include "textcnn/text/vocabulary.h"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
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
    /// (stratified, drawn from the seed); 0 = none. A share too small to hold out a single
    /// document is an InputError, not a silent run without validation.
    double validation_split = 0.0;
    /// Names the training data in error messages (the file name, say).
    std::string train_source = "training data";
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

    static TrainerSettings kim_trainer_settings();
};

/// Stratified hold-out: moves round(share * n_c) documents of every label c, chosen by a
/// permutation drawn from `seed`, from `documents` to `held_out` (both keep file order).
void stratified_split(std::vector<Document>& documents, std::vector<Document>& held_out, double share,
                      std::uint64_t seed);

/// What the caller should tell the user besides progress lines.
struct TextTrainingReport {
    std::size_t train_documents = 0;
    std::size_t validation_documents = 0;
    std::size_t truncated_documents = 0;
    std::vector<std::string> warnings;  ///< e.g. embeddings coverage, truncation
    TrainResult result;
};

struct TextTrainingCallbacks {
    std::function<void(const std::string&)> info;  ///< one-off messages ("vocabulary: 16,185 ids")
    std::function<void(const TrainingProgress&)> progress;
    std::function<void(const EpochSummary&)> epoch_end;
    const std::atomic<bool>* stop = nullptr;  ///< set by a SIGINT handler
};

/// A prepared run: data encoded, network initialised, trainer ready. Separate from run() so
/// that a caller can resume a checkpoint or write one when interrupted.
class TextTrainingRun {
public:
    /// `train` must hold labelled documents of at least two classes; `dev` (optional) must use
    /// only labels seen in training (InputError naming its file, line and label otherwise).
    TextTrainingRun(std::vector<Document> train, std::optional<std::vector<Document>> dev, const std::string& dev_source,
                    const TextTrainingOptions& options, TextTrainingCallbacks callbacks);
    ~TextTrainingRun();

    /// Continue a checkpoint: the model file written by write_checkpoint() holds the
    /// vocabulary, labels and tokenizer too, and they must match this run's data.
    void resume_from(const std::string& checkpoint_path);
    TextTrainingReport run();
    /// The classifier with the current (after run(): the best) parameters.
    TextClassifier& classifier();
    /// A checkpoint file: the classifier's sections plus the trainer state.
    void write_checkpoint(const std::string& path) const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace textcnn
