// Training an ImageClassifier from labelled images in memory: the architecture, the Keras
// validation split (the last share of the images, taken before any shuffling), weight
// initialisation, then the shared Trainer (trainer.h). This is what `imagecnn train` runs; a
// program that links textcnn can call it directly:
//
//     textcnn::ImageTrainingOptions options;
//     options.architecture = "cnn_1_with_pooling";
//     options.class_names = {"t-shirt", "trouser", ...};
//     textcnn::ImageTrainingRun run(textcnn::ImageBatch(pixels, {n, 28, 28, 1}), labels, options);
//     run.run();
//     run.classifier().save("fm.model");
//
// Defaults follow the article's train(): RMSprop (lr 1e-3, rho 0.9, eps 1e-7), batch 128,
// 5 epochs, validation split 0.2, Glorot-uniform weights with zero biases; the weights of the
// best validation epoch are the ones kept. Same options and data give bit-identical weights
// whatever the thread count.
//
// This header needs only the standard library (no Armadillo, oneTBB or ICU).
#pragma once

#include "textcnn/image/image_classifier.h"
#include "textcnn/nn/training_settings.h"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace textcnn {

struct ImageTrainingOptions {
    /// A built-in architecture: cnn_1, cnn_1_with_pooling, cnn_2 (the article's) or cnn_fashion
    /// (builtin_architecture_names(), architecture.h).
    std::string architecture = "cnn_fashion";
    /// An architecture file (JSON; data/architectures/README.md); when set, used instead of
    /// `architecture`.
    std::string architecture_file;
    /// Class names in label order; at least two, none empty, every label below their count.
    std::vector<std::string> class_names;
    /// Share of the images held out for validation, in [0, 1): the LAST part, as Keras'
    /// validation_split does. 0 = no validation (the last epoch's weights are kept).
    double validation_split = 0.2;
    /// Weights: glorot_uniform (Keras, zero bias), he_uniform or torch (PyTorch's default);
    /// empty = the architecture's own "init", else glorot_uniform.
    std::string initializer;
    /// Epochs, batch size, seed, optimizer, learning-rate schedule, patience...
    TrainerSettings trainer = article_trainer_settings();
    /// Names the training images in error messages (a file name, say).
    std::string train_source = "training images";

    /// The article's: RMSprop (lr 1e-3, rho 0.9, eps 1e-7), batch 128, 5 epochs, validation in
    /// batches of 1000, the best validation epoch's weights restored at the end.
    static TrainerSettings article_trainer_settings();
};

struct ImageTrainingCallbacks {
    std::function<void(const TrainingProgress&)> progress;  ///< after every batch
    std::function<void(const EpochSummary&)> epoch_end;     ///< after every epoch
    std::function<void(const ValidationCheck&)> validation;  ///< after every validation
    /// Checked after every batch (a SIGINT handler sets it): run() then returns with
    /// StopReason::interrupted and write_checkpoint() saves where it stopped.
    const std::atomic<bool>* stop = nullptr;
};

/// A prepared run: architecture built, weights initialised, data split, trainer ready.
/// Separate from run() so that a caller can resume a checkpoint or write one when interrupted.
/// Not thread-safe: one thread drives a run (the training itself uses every thread allowed).
class ImageTrainingRun {
public:
    /// `images` (N x H x W x C, image_classifier.h) and `labels` (N, each below the number of
    /// class names) are not copied: they must stay alive and unchanged until the run is
    /// destroyed. Throws InputError (naming options.train_source) for no images, a label count
    /// that differs from the image count, a label without a class name, or images whose shape
    /// the architecture's own input excludes; ConfigError for bad options (class names,
    /// validation split, initializer, trainer settings, architecture); ShapeError when the
    /// architecture's layers do not fit the images; IoError for an unreadable architecture file.
    ImageTrainingRun(const ImageBatch& images, std::span<const std::uint32_t> labels, const ImageTrainingOptions& options,
                     ImageTrainingCallbacks callbacks = {});
    ~ImageTrainingRun();
    ImageTrainingRun(const ImageTrainingRun&) = delete;
    ImageTrainingRun& operator=(const ImageTrainingRun&) = delete;

    /// Images trained on, and held out for validation (the last ones).
    std::size_t train_count() const;
    std::size_t validation_count() const;
    /// The initializer the weights were drawn with ("glorot_uniform", "he_uniform", "torch").
    std::string initializer() const;

    /// Continue from a checkpoint written by write_checkpoint() (or by imagecnn before this
    /// class existed): its weights and trainer state. Call before run(). IoError when the file
    /// cannot be read, InputError for a corrupt one, ConfigError naming the file when its
    /// network, class names, seed, batch size or optimizer differ from this run's; a different
    /// number of training images is a ConfigError from run().
    void resume_from(const std::string& checkpoint_path);
    /// Trains until the epochs are done, patience runs out or the stop flag is set. The
    /// result lists the epochs of this call. Errors of Trainer::run() (trainer.h).
    TrainResult run();
    /// The classifier with the current weights (after run(): the best epoch's, when there was
    /// validation data).
    ImageClassifier& classifier();
    /// The current network (after run(): the best epoch's) on the held-out validation images
    /// in inference mode: true labels, arg-max predictions, probabilities (images x classes).
    /// An Evaluation of no samples without a validation split. Not while run() runs.
    Evaluation evaluate_validation() const;
    /// A checkpoint file: the classifier's sections plus the trainer state (atomic write;
    /// IoError on failure).
    void write_checkpoint(const std::string& path) const;
    /// Saves the classifier (training facts included) with the best parameters validated so
    /// far, or the current ones when nothing was validated yet: what an interrupted run keeps
    /// besides its checkpoint. Returns the epoch of those best parameters (0: the current
    /// ones). Not while run() runs. IoError when the file cannot be written.
    std::uint64_t save_best_model(const std::string& path);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace textcnn
