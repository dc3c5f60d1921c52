// The training loop both programs share (text and images): epochs of shuffled mini-batches,
// softmax cross-entropy, an optimizer step, Kim's max-norm constraint, a learning-rate
// schedule, per-epoch validation, best-model keeping, early stopping, stop requests and exact
// resumption from a checkpoint. Settings and reports: training_settings.h.
//
// Data comes through callbacks, so the loop knows nothing of text or pixels: a BatchSource is
// given sample numbers and fills the network input and the labels for them.
//
// Determinism: with the same settings (seed included) and data, a run gives bit-identical
// weights whatever the thread count, and a run interrupted and resumed from its checkpoint
// gives the same weights as one that was not. Randomness: the shuffle of epoch e is drawn
// from Rng(seed, shuffle_stream + e); dropout masks from (seed, layer, step) (layer.h).
//
// Programs install a SIGINT handler that sets an std::atomic<bool>; the trainer checks it
// after every batch, stops with StopReason::interrupted, and state() then holds everything a
// checkpoint needs (write_checkpoint()).
#pragma once

#include "textcnn/core/error.h"
#include "textcnn/nn/model_file.h"
#include "textcnn/nn/network.h"
#include "textcnn/nn/optimizer.h"
#include "textcnn/nn/training_settings.h"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace textcnn {

/// Fills one batch: `indices` are sample numbers in [0, count), in batch order. The callback
/// writes the network input of those samples to `input` (any layout the network takes, e.g. a
/// packed text batch; resize it, it is reused across batches) and their labels to `labels`
/// (one per sample, in the same order).
using BatchSource =
    std::function<void(std::span<const std::size_t> indices, Tensor& input, std::vector<std::uint32_t>& labels)>;

/// Everything a resumed run needs besides the network's current parameters.
struct TrainerState {
    // What the run was started with; a resume must use the same.
    std::uint64_t seed = 0;
    std::uint64_t train_count = 0;
    std::uint64_t batch_size = 0;
    // Position: the shuffle of an epoch is a function of (seed, epoch), so (epoch, batch) is the
    // whole random-number position.
    std::uint64_t epoch = 0;  ///< completed epochs
    std::uint64_t batch = 0;  ///< completed batches of the current epoch
    std::uint64_t step = 0;   ///< optimizer steps so far
    // Running sums of the current epoch (so resumed epochs report the same numbers).
    double epoch_loss_sum = 0.0;  ///< sum over batches of batch loss * batch samples
    std::uint64_t epoch_correct = 0;
    std::uint64_t epoch_samples = 0;
    // Best model by validation accuracy.
    double best_accuracy = -1.0;  ///< < 0: no validation yet
    std::uint64_t best_epoch = 0;
    std::uint64_t epochs_without_improvement = 0;  ///< validations without improvement, in fact
    std::vector<float> best_parameters;  ///< empty until a validation
    bool finished = false;               ///< ran to the end (or stopped early)
    std::string optimizer_name;
    std::vector<float> optimizer_state;
};

/// The least memory training a network of `parameters` floats with `optimizer` takes: its
/// weights, their gradients and the optimizer's accumulators (Adadelta and Adam 2 per weight,
/// RMSprop 1, SGD 1 with momentum), 4 bytes each; activations, data and the best weights kept
/// come on top. Thread-safe.
std::uint64_t least_training_bytes(std::size_t parameters, const OptimizerSettings& optimizer);
/// Before building a network to train: throws ResourceError when least_training_bytes()
/// exceed memory_headroom() (core/runtime.h), e.g. "training needs at least 6.4 GB for 400,000,000
/// parameters (weights, gradients and adadelta's 2 accumulators per weight) but 1.0 GB is left
/// under the address-space limit (ulimit -v): a smaller model (<smaller_model>) or more memory".
/// `smaller_model` says what makes this kind of network smaller ("embedding dimension, feature
/// maps, vocabulary"). Does nothing when the headroom is unknown. Thread-safe.
void check_training_memory(std::size_t parameters, const OptimizerSettings& optimizer, std::string_view smaller_model);
/// The error for a network of `parameters` floats whose allocation failed (std::bad_alloc):
/// ResourceError "out of memory allocating the network's 192,368,002 parameters (0.77 GB)".
ResourceError network_allocation_error(std::size_t parameters);
/// The error for an allocation that failed during training: "out of memory while training: the
/// network's N parameters and their optimizer state take at least X GB, and <batch> its
/// activations besides; a smaller <smaller>". `batch` says what a batch holds ("each batch of 50
/// documents (the longest 61 tokens)"), `smaller` what can shrink ("batch size, maximum length or
/// model").
ResourceError training_allocation_error(std::size_t parameters, const OptimizerSettings& optimizer,
                                        std::string_view batch, std::string_view smaller);

class Trainer {
public:
    /// The network must outlive the trainer; its parameters are trained in place.
    Trainer(Network& net, TrainerSettings settings);
    ~Trainer();
    Trainer(const Trainer&) = delete;
    Trainer& operator=(const Trainer&) = delete;

    void set_training_data(std::size_t count, BatchSource source);
    /// Optional: evaluated after every epoch, drives best-model keeping and early stopping.
    void set_validation_data(std::size_t count, BatchSource source);
    void on_progress(std::function<void(const TrainingProgress&)> callback);
    void on_epoch_end(std::function<void(const EpochSummary&)> callback);
    /// After every validation, mid-epoch ones included (see ValidationCheck).
    void on_validation(std::function<void(const ValidationCheck&)> callback);
    /// Checked after every batch (a SIGINT handler sets it). May be set from any thread.
    void set_stop_flag(const std::atomic<bool>* flag);

    /// Continue from a checkpoint's state (call before run(); the network must already hold the
    /// checkpoint's parameters; validation data, if any, set before). ConfigError when the
    /// seed, batch size or training set size differ from the checkpointed run, or when that run
    /// validated and this one has no validation data (its kept best weights would replace
    /// everything trained from here); InputError for an incompatible optimizer state.
    void resume(const TrainerState& state);

    /// Trains until settings.epochs are complete, patience runs out or a stop is requested.
    /// ConfigError without training data; ShapeError naming the output layer when a label does
    /// not fit the network's output. Divergence stops it with an Error naming the epoch and
    /// batch: a non-finite loss; a batch's mean loss above max_sane_loss (times the largest
    /// class weight), which no trained model reaches (its true classes would have probability
    /// e^-10000: the weights are blowing up while still finite); weights that are not finite or
    /// beyond 1e18 (checked at each epoch's end and before each validation).
    TrainResult run();
    /// See run(): cross-entropy in nats.
    static constexpr double max_sane_loss = 1e4;

    /// The state after run() (or resume()), optimizer state included: with the network's
    /// parameters, what write_checkpoint() stores.
    const TrainerState& state() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

/// Kim's max-norm target: the weights of the last layer that has weight-vector columns (the
/// output dense layer), as a list for TrainerSettings::max_norm_groups; empty if none.
std::vector<std::size_t> output_weight_groups(const Network& net);

Evaluation evaluate(const Network& net, std::size_t count, const BatchSource& source, std::size_t batch_size,
                    std::span<const float> class_weights = {});

/// Calls `save` with `net`'s parameters set to state.best_parameters (the current ones when
/// nothing was validated yet, or when they do not fit) and puts the current ones back
/// afterwards, also when `save` throws: what an interrupted run keeps besides its checkpoint.
/// Returns the epoch of the parameters saved (0: the current ones).
std::uint64_t save_with_best_parameters(Network& net, const TrainerState& state, const std::function<void()>& save);

// --- Checkpoints --------------------------------------------------------------------------------

/// Adds ARCH and WGHT (the current parameters, model_file.h), "OPTM" (optimizer name and state)
/// and "TRNR" (the rest of the state) to `file`; programs add their own sections (vocabulary...).
void add_checkpoint_sections(ModelFile& file, const Network& net, const TrainerState& state);
/// Reads OPTM and TRNR; InputError naming file.source when missing or malformed.
TrainerState trainer_state_from_sections(const ModelFile& file);

struct Checkpoint {
    Network network;
    TrainerState state;
};
void write_checkpoint(const std::string& path, const Network& net, const TrainerState& state);
/// InputError when the best parameters stored do not fit the network.
Checkpoint read_checkpoint(const std::string& path);

}  // namespace textcnn
