// The plain settings and reports of training: how weights start (Initializer), the
// optimizer's and the trainer's settings, and what the trainer reports while and after it runs.
// No Armadillo here, so the everyday API (<textcnn/textcnn.h>) can offer them; the classes
// that use them are in layer.h, optimizer.h and trainer.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace textcnn {

/// How weights are initialised.
struct Initializer {
    enum class Kind {
        glorot_uniform,  ///< Keras default: U(+-sqrt(6 / (fan_in + fan_out))), zero bias
        he_uniform,      ///< U(+-sqrt(6 / fan_in)), zero bias
        torch_default,   ///< PyTorch default: weights and bias U(+-1 / sqrt(fan_in))
        uniform,         ///< U(+-scale) for weights, zero bias (Kim's embeddings: 0.25)
    };
    Kind kind = Kind::glorot_uniform;
    float scale = 0.25f;  ///< for Kind::uniform
};

/// The names of the initializer kinds, as parse_initializer_kind() (architecture.h) reads them
/// and initializer_kind_name() writes them: glorot_uniform, he_uniform, torch, uniform.
/// Thread-safe.
const std::vector<std::string>& initializer_names();

/// The optimizer and its hyper-parameters (optimizer.h applies them).
struct OptimizerSettings {
    std::string name = "adadelta";  ///< sgd | adadelta | adam | rmsprop
    float learning_rate = 1.0f;     ///< Adadelta: 1.0 (Kim); Adam 1e-3; RMSprop 1e-3; SGD 0.01
    float momentum = 0.0f;          ///< sgd
    bool nesterov = false;          ///< sgd
    float rho = 0.95f;              ///< adadelta 0.95 (Kim), rmsprop 0.9 (Keras)
    float epsilon = 1e-6f;          ///< adadelta 1e-6 (Kim), rmsprop 1e-7 (Keras), adam 1e-8
    float beta1 = 0.9f;             ///< adam
    float beta2 = 0.999f;           ///< adam
    float weight_decay = 0.0f;      ///< L2 decay added to the gradient (coupled)
    float clip_norm = 0.0f;         ///< > 0: scale the whole gradient to at most this L2 norm

    /// The usual defaults for an optimizer name (learning rate, rho, epsilon). ConfigError
    /// "unknown optimizer 'NAME' (known: adadelta, adam, rmsprop, sgd)" for another name.
    /// Thread-safe.
    static OptimizerSettings defaults_for(const std::string& name);
    /// The optimizer names defaults_for() and make_optimizer() know: adadelta, adam, rmsprop,
    /// sgd. Thread-safe.
    static const std::vector<std::string>& names();
};

/// Step decay: after each epoch listed in `decay_after_epochs` (1-based: 10 = after the 10th
/// epoch) the learning rate is multiplied by `decay_factor`. The Trainer sets the rate at the
/// start of every epoch, so a run resumed from a checkpoint continues at the right rate.
/// Empty = a constant rate. The Trainer throws ConfigError for an epoch 0 or a factor outside
/// (0, 1].
struct LearningRateSchedule {
    std::vector<std::size_t> decay_after_epochs;
    float decay_factor = 0.1f;

    /// The rate of epoch `epochs_done + 1`, starting from `base`.
    float rate_after(float base, std::size_t epochs_done) const {
        float rate = base;
        for (std::size_t e : decay_after_epochs)
            if (e <= epochs_done) rate *= decay_factor;
        return rate;
    }
};

/// How the Trainer (trainer.h) runs: epochs, batches, validation, early stopping.
struct TrainerSettings {
    std::size_t epochs = 25;
    std::size_t batch_size = 50;
    /// Batch size for validation and evaluate() (0 = batch_size).
    std::size_t eval_batch_size = 0;
    /// Drives the shuffles and dropout (the initial weights come from Network::initialize).
    std::uint64_t seed = 1;
    bool shuffle = true;  ///< a new permutation every epoch; false = the data order
    OptimizerSettings optimizer;
    /// Step decay of optimizer.learning_rate over the epochs (default: a constant rate).
    LearningRateSchedule learning_rate_schedule;
    /// Kim's constraint after every step: parameter groups (net.groups() indices) whose columns
    /// are rescaled to L2 norm <= max_norm; max_norm 0 = off.
    std::vector<std::size_t> max_norm_groups;
    float max_norm = 0.0f;
    /// Loss weight per class (empty = all 1); see loss.h and balanced_class_weights().
    std::vector<float> class_weights;
    /// Label smoothing e in [0, 1) of the training loss (loss.h): targets (1 - e) onehot + e / K.
    /// Validation and evaluate() report the plain cross-entropy.
    double label_smoothing = 0.0;
    /// Stop after this many epochs without a better validation accuracy (0 = never).
    std::size_t patience = 0;
    /// Validate this many times per epoch (evenly spaced; the last at the epoch's end), so
    /// the best model is picked at a finer grain on large training sets. Patience then counts
    /// validations: patience * validations_per_epoch of them without improvement stop the run.
    std::size_t validations_per_epoch = 1;
    /// At the end, put back the parameters of the epoch with the best validation accuracy.
    bool restore_best = true;
    /// A validation accuracy equal to the best so far counts as a new best: the later model
    /// is kept and patience starts again, as in Kim's code (`if val_perf >= best_val_perf`).
    /// False: the first of equal accuracies is kept.
    bool later_best_on_ties = false;
};

/// Reported after every batch.
struct TrainingProgress {
    std::size_t epoch = 0;    ///< 1-based
    std::size_t epochs = 0;
    std::size_t batch = 0;    ///< 1-based, within the epoch
    std::size_t batches = 0;  ///< per epoch
    std::uint64_t step = 0;   ///< optimizer steps so far
    double loss = 0.0;        ///< running mean over this epoch's batches so far
    double accuracy = 0.0;    ///< running training accuracy, 0..1
    double items_per_second = 0.0;
    double eta_seconds = 0.0;  ///< for the whole run (training batches only)
};

/// Reported at the end of every epoch.
struct EpochSummary {
    std::size_t epoch = 0;  ///< 1-based
    std::size_t epochs = 0;
    double train_loss = 0.0;
    double train_accuracy = 0.0;
    bool has_validation = false;
    double validation_loss = 0.0;  ///< unweighted mean cross-entropy
    double validation_accuracy = 0.0;
    bool improved = false;  ///< a new best validation accuracy
    std::size_t best_epoch = 0;
    double best_accuracy = 0.0;
    double seconds = 0.0;
    double items_per_second = 0.0;
    double learning_rate = 0.0;  ///< the optimizer's rate during this epoch
};

/// Reported after every validation (a dev check): validations_per_epoch times per epoch, the
/// last at the epoch's end (then just before the EpochSummary).
struct ValidationCheck {
    std::size_t epoch = 0;    ///< 1-based
    std::size_t batch = 0;    ///< batches of this epoch done (1-based; = batches at the epoch's end)
    std::size_t batches = 0;  ///< per epoch
    double loss = 0.0;        ///< unweighted mean cross-entropy on the validation data
    double accuracy = 0.0;    ///< 0..1
    bool improved = false;    ///< a new best validation accuracy
};

/// Per-sample results of running a network over a data set in inference mode.
struct Evaluation {
    double loss = 0.0;  ///< mean cross-entropy (class weights applied if given)
    double accuracy = 0.0;
    std::vector<std::uint32_t> labels;
    std::vector<std::uint32_t> predictions;  ///< arg-max, first on ties
    std::vector<float> probabilities;        ///< samples x classes, row-major
    std::size_t classes = 0;
};

/// Why Trainer::run() returned.
enum class StopReason { completed, early_stopped, interrupted };

/// What Trainer::run() returns.
struct TrainResult {
    StopReason reason = StopReason::completed;
    std::size_t epochs_completed = 0;
    std::size_t best_epoch = 0;      ///< 0 without validation data
    double best_accuracy = 0.0;      ///< validation accuracy of best_epoch
    std::vector<EpochSummary> history;  ///< the epochs this run() call went through
};

}  // namespace textcnn
