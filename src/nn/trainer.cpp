#include "textcnn/nn/trainer.h"

#include "textcnn/core/bytes.h"
#include "textcnn/core/error.h"
#include "textcnn/nn/loss.h"
#include "textcnn/core/rng.h"
#include "textcnn/core/number_text.h"
#include "textcnn/core/runtime.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>

namespace textcnn {

namespace {
std::size_t accumulators_per_weight(const OptimizerSettings& optimizer) {
    if (optimizer.name == "adadelta" || optimizer.name == "adam") return 2;
    if (optimizer.name == "rmsprop") return 1;
    return optimizer.momentum != 0.0f ? 1 : 0;
}
}  // namespace

std::uint64_t least_training_bytes(std::size_t parameters, const OptimizerSettings& optimizer) {
    return std::uint64_t{parameters} * sizeof(float) * (2 + accumulators_per_weight(optimizer));
}

void check_training_memory(std::size_t parameters, const OptimizerSettings& optimizer, std::string_view smaller_model) {
    const std::uint64_t needed = least_training_bytes(parameters, optimizer);
    const auto headroom = memory_headroom();
    if (!headroom || needed <= headroom->bytes) return;
    const std::size_t slots = accumulators_per_weight(optimizer);
    throw ResourceError(fmt::format(
        "training needs at least {} for {} parameters (weights, gradients{}) but {} is left under {}: a smaller "
        "model ({}) or more memory",
        byte_size_text(needed), with_thousands_separators(parameters),
        slots ? fmt::format(" and {}'s {} accumulator{} per weight", optimizer.name, slots, slots == 1 ? "" : "s") : "",
        byte_size_text(headroom->bytes), headroom->limit, smaller_model));
}

ResourceError training_allocation_error(std::size_t parameters, const OptimizerSettings& optimizer,
                                        std::string_view batch, std::string_view smaller) {
    return ResourceError(fmt::format("out of memory while training: the network's {} parameters and their optimizer "
                                     "state take at least {}, and {} its activations besides; a smaller {}",
                                     with_thousands_separators(parameters),
                                     byte_size_text(least_training_bytes(parameters, optimizer)), batch,
                                     smaller));
}

ResourceError network_allocation_error(std::size_t parameters) {
    return ResourceError(fmt::format("out of memory allocating the network's {} parameters ({})",
                                     with_thousands_separators(parameters),
                                     byte_size_text(std::uint64_t{parameters} * sizeof(float))));
}


namespace {

// Random stream of epoch e's shuffle: far from the small stream numbers Network::initialize uses
// for layers, so the two never draw the same numbers.
constexpr std::uint64_t shuffle_stream = 0x5348554646000000ULL;  // "SHUFF"

constexpr std::uint32_t optimizer_section_version = 1;
constexpr std::uint32_t trainer_section_version = 1;

using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point t) { return std::chrono::duration<double>(clock_type::now() - t).count(); }

std::size_t arg_max(const float* row, std::size_t k) {
    return static_cast<std::size_t>(std::max_element(row, row + k) - row);  // first maximum on ties
}

// The logits must be (samples, classes) with one label per sample, each a class.
void check_batch(const Network& net, const Tensor& logits, std::span<const std::uint32_t> labels) {
    const std::string label = net.layer(net.layer_count() - 1).label();
    if (logits.shape().batch() != labels.size())
        throw ShapeError(label + ": the batch has " + std::to_string(labels.size()) + " labels but the output shape is " +
                         logits.shape().str());
    const std::size_t k = logits.shape().channels();
    for (std::size_t i = 0; i < labels.size(); ++i)
        if (labels[i] >= k)
            throw ShapeError(label + ": label " + std::to_string(labels[i]) + " of sample " + std::to_string(i) +
                             " is not one of the " + std::to_string(k) + " classes of the output shape " +
                             logits.shape().str());
}

}  // namespace

struct Trainer::Impl {
    Impl(Network& n, TrainerSettings s)
        : net(n),
          settings(std::move(s)),
          loss_bound(Trainer::max_sane_loss *
                     std::max(1.0, settings.class_weights.empty()
                                       ? 1.0
                                       : static_cast<double>(*std::max_element(settings.class_weights.begin(),
                                                                               settings.class_weights.end())))) {}

    Network& net;
    TrainerSettings settings;
    double loss_bound;  ///< a batch's loss above it is divergence (run())
    std::unique_ptr<Optimizer> optimizer;
    std::size_t train_count = 0;
    BatchSource train_source;
    std::size_t validation_count = 0;
    BatchSource validation_source;
    std::function<void(const TrainingProgress&)> progress_callback;
    std::function<void(const EpochSummary&)> epoch_callback;
    std::function<void(const ValidationCheck&)> validation_callback;
    const std::atomic<bool>* stop = nullptr;
    TrainerState state;
    bool resumed = false;
    bool improved_this_epoch = false;  // a mid-epoch validation improved (for EpochSummary::improved)

    // Reused across batches.
    Network::Workspace workspace;
    Tensor input;
    Tensor d_logits;
    std::vector<std::uint32_t> labels;
    std::vector<std::size_t> order;

    float current_learning_rate() const {
        return settings.learning_rate_schedule.rate_after(settings.optimizer.learning_rate, state.epoch);
    }

    bool stop_requested() const { return stop && stop->load(std::memory_order_relaxed); }

    void shuffle(std::uint64_t epoch) {
        order.resize(train_count);
        std::iota(order.begin(), order.end(), std::size_t{0});
        if (!settings.shuffle) return;
        Rng rng(settings.seed, shuffle_stream + epoch);
        for (std::size_t i = order.size(); i-- > 1;) std::swap(order[i], order[rng.below(i + 1)]);
    }

    void train_batch(std::span<const std::size_t> indices) {
        labels.clear();
        train_source(indices, input, labels);
        if (labels.size() != indices.size())
            throw ConfigError("trainer: the batch source gave " + std::to_string(labels.size()) + " labels for " +
                              std::to_string(indices.size()) + " samples");
        const RunContext ctx{Mode::training, settings.seed, state.step, 0};
        const Tensor& logits = net.forward(input, workspace, ctx);
        check_batch(net, logits, labels);
        const double loss = softmax_cross_entropy(logits, labels, settings.class_weights, &d_logits, nullptr,
                                                  settings.label_smoothing);
        if (!std::isfinite(loss))
            throw Error(fmt::format("trainer: the loss became {} at epoch {} batch {}; try a lower learning rate", loss,
                                    state.epoch + 1, state.batch + 1));
        if (loss > loss_bound)
            throw Error(fmt::format("trainer: the training diverged at epoch {} batch {}: the batch's loss is {:.3g}, "
                                    "beyond what any trained model reaches ({:.3g}); try a lower learning rate",
                                    state.epoch + 1, state.batch + 1, loss, loss_bound));
        const std::size_t k = logits.shape().channels();
        std::size_t correct = 0;
        for (std::size_t i = 0; i < labels.size(); ++i) correct += arg_max(logits.data() + i * k, k) == labels[i];
        net.backward(input, d_logits, workspace, ctx);
        optimizer->step(net);
        if (settings.max_norm > 0.0f && !settings.max_norm_groups.empty())
            apply_max_norm(net, settings.max_norm_groups, settings.max_norm);
        ++state.step;
        state.epoch_loss_sum += loss * static_cast<double>(labels.size());
        state.epoch_correct += correct;
        state.epoch_samples += labels.size();
    }

    void snapshot_optimizer() {
        state.optimizer_name = settings.optimizer.name;
        state.optimizer_state = optimizer->state();
    }

    TrainResult finish(TrainResult result, StopReason reason) {
        result.reason = reason;
        if (reason != StopReason::interrupted) {
            if (settings.restore_best && !state.best_parameters.empty())
                std::copy(state.best_parameters.begin(), state.best_parameters.end(), net.parameters().begin());
            state.finished = true;
        }
        result.epochs_completed = state.epoch;
        result.best_epoch = state.best_epoch;
        result.best_accuracy = std::max(0.0, state.best_accuracy);
        snapshot_optimizer();
        return result;
    }

    TrainResult run() {
        if (!train_source || train_count == 0) throw ConfigError("trainer: no training data");
        if (!resumed) {
            state.seed = settings.seed;
            state.train_count = train_count;
            state.batch_size = settings.batch_size;
        } else if (state.train_count != train_count) {
            throw ConfigError("trainer: the checkpoint was made with " + std::to_string(state.train_count) +
                              " training samples, this run has " + std::to_string(train_count));
        }
        const std::size_t bs = settings.batch_size;
        const std::size_t batches = (train_count + bs - 1) / bs;
        if (state.batch >= batches && state.batch != 0)
            throw InputError("trainer: the checkpoint is at batch " + std::to_string(state.batch) + " of an epoch of " +
                             std::to_string(batches) + " (a corrupt checkpoint)");
        TrainResult result;
        const std::size_t remaining_start =
            (settings.epochs > state.epoch ? (settings.epochs - state.epoch) * train_count : 0) -
            std::min<std::size_t>(state.batch * bs, train_count);
        std::size_t processed = 0;  // samples trained by this call
        const auto run_start = clock_type::now();
        while (state.epoch < settings.epochs) {
            shuffle(state.epoch);
            optimizer->set_learning_rate(current_learning_rate());
            const auto epoch_start = clock_type::now();
            std::size_t epoch_processed = 0;
            bool interrupted = false;
            while (state.batch < batches) {
                const std::size_t begin = state.batch * bs, end = std::min(train_count, begin + bs);
                train_batch({order.data() + begin, end - begin});
                ++state.batch;
                if (mid_epoch_validation(state.batch, batches)) {
                    check_parameters(state.batch);
                    if (validate(state.batch, batches).second) improved_this_epoch = true;
                }
                processed += end - begin;
                epoch_processed += end - begin;
                if (progress_callback) {
                    TrainingProgress p;
                    p.epoch = state.epoch + 1;
                    p.epochs = settings.epochs;
                    p.batch = state.batch;
                    p.batches = batches;
                    p.step = state.step;
                    p.loss = state.epoch_loss_sum / static_cast<double>(state.epoch_samples);
                    p.accuracy = static_cast<double>(state.epoch_correct) / static_cast<double>(state.epoch_samples);
                    const double elapsed = seconds_since(run_start);
                    p.items_per_second = elapsed > 0.0 ? static_cast<double>(processed) / elapsed : 0.0;
                    p.eta_seconds = p.items_per_second > 0.0
                                        ? static_cast<double>(remaining_start - processed) / p.items_per_second
                                        : 0.0;
                    progress_callback(p);
                }
                if (state.batch < batches && stop_requested()) {
                    interrupted = true;
                    break;
                }
            }
            if (interrupted) return finish(std::move(result), StopReason::interrupted);
            result.history.push_back(end_epoch(batches, seconds_since(epoch_start), epoch_processed));
            if (epoch_callback) epoch_callback(result.history.back());
            if (settings.patience > 0 &&
                state.epochs_without_improvement >= settings.patience * std::max<std::size_t>(1, settings.validations_per_epoch))
                return finish(std::move(result), StopReason::early_stopped);
            if (stop_requested() && state.epoch < settings.epochs)
                return finish(std::move(result), StopReason::interrupted);
        }
        return finish(std::move(result), StopReason::completed);
    }

    // Evaluates the validation data and keeps the parameters when they are the best so far.
    // Patience counts validations without improvement (validations_per_epoch per epoch).
    // `batch` of `batches` is where in the epoch (for the validation callback).
    std::pair<Evaluation, bool> validate(std::size_t batch, std::size_t batches) {
        Evaluation v = evaluate(net, validation_count, validation_source,
                                settings.eval_batch_size ? settings.eval_batch_size : settings.batch_size);
        const bool improved = v.accuracy > state.best_accuracy ||
                              (settings.later_best_on_ties && v.accuracy == state.best_accuracy);
        if (improved) {
            state.best_accuracy = v.accuracy;
            state.best_epoch = state.epoch + 1;
            state.best_parameters.assign(net.parameters().begin(), net.parameters().end());
            state.epochs_without_improvement = 0;
        } else {
            ++state.epochs_without_improvement;
        }
        if (validation_callback)
            validation_callback({state.epoch + 1, batch, batches, v.loss, v.accuracy, improved});
        return {std::move(v), improved};
    }

    // Mid-epoch validation points: batches round(k * batches / V) for k = 1 .. V-1.
    bool mid_epoch_validation(std::size_t batch, std::size_t batches) const {
        const std::size_t v = settings.validations_per_epoch;
        if (v <= 1 || !validation_source || validation_count == 0 || batch >= batches) return false;
        for (std::size_t k = 1; k < v; ++k)
            if (batch == (k * batches + v / 2) / v) return true;
        return false;
    }

    // Once per epoch (and before each validation): a full pass over the parameters is cheap
    // at that rate. A step that made a weight non-finite is otherwise caught by the next
    // batch's loss; this catches the last batch of an epoch and finite but overflowing weights.
    void check_parameters(std::size_t batch) const {
        if (const auto bad = unusable_parameter(net))
            throw Error(fmt::format("trainer: the weights diverged by epoch {} batch {} ({}); try a lower learning "
                                    "rate",
                                    state.epoch + 1, batch, *bad));
    }

    EpochSummary end_epoch(std::size_t batches, double seconds, std::size_t epoch_processed) {
        check_parameters(batches);
        EpochSummary e;
        e.epoch = state.epoch + 1;
        e.epochs = settings.epochs;
        e.train_loss = state.epoch_loss_sum / static_cast<double>(state.epoch_samples);
        e.train_accuracy = static_cast<double>(state.epoch_correct) / static_cast<double>(state.epoch_samples);
        if (validation_source && validation_count > 0) {
            const auto [v, improved] = validate(batches, batches);
            e.has_validation = true;
            e.validation_loss = v.loss;
            e.validation_accuracy = v.accuracy;
            e.improved = improved || improved_this_epoch;
        }
        improved_this_epoch = false;
        e.best_epoch = state.best_epoch;
        e.best_accuracy = std::max(0.0, state.best_accuracy);
        e.seconds = seconds;
        e.items_per_second = seconds > 0.0 ? static_cast<double>(epoch_processed) / seconds : 0.0;
        e.learning_rate = current_learning_rate();
        ++state.epoch;
        state.batch = 0;
        state.epoch_loss_sum = 0.0;
        state.epoch_correct = 0;
        state.epoch_samples = 0;
        (void)batches;
        return e;
    }
};

Trainer::Trainer(Network& net, TrainerSettings settings) : impl_(std::make_unique<Impl>(net, std::move(settings))) {
    const TrainerSettings& s = impl_->settings;
    if (s.batch_size == 0) throw ConfigError("trainer: batch size must be > 0");
    const Shape out = net.output_shape(1);
    const std::string last = net.layer(net.layer_count() - 1).label();
    if (out.rank() != 2)
        throw ShapeError(last + ": output shape " + out.with_batch(0).str() +
                         " is not (batch, classes); end the network with a dense layer");
    if (!s.class_weights.empty() && s.class_weights.size() != out.channels())
        throw ConfigError("trainer: " + std::to_string(s.class_weights.size()) + " class weights for the " +
                          std::to_string(out.channels()) + " classes of " + last);
    // NaN and 0 counts were taken for "off" or 1 unsaid: refused like the other bad values.
    if (!(s.max_norm >= 0.0f) || !std::isfinite(s.max_norm))
        throw ConfigError(fmt::format("trainer: max-norm must be a finite number >= 0 (0 = off), got {}", s.max_norm));
    if (s.epochs == 0) throw ConfigError("trainer: epochs must be at least 1 (0 returns the untrained network)");
    if (s.validations_per_epoch == 0)
        throw ConfigError("trainer: validations per epoch must be at least 1 (validation at each epoch's end)");
    if (!(s.label_smoothing >= 0.0 && s.label_smoothing < 1.0))
        throw ConfigError(fmt::format("trainer: label smoothing must be in [0, 1), got {}", s.label_smoothing));
    const LearningRateSchedule& schedule = s.learning_rate_schedule;
    if (!(schedule.decay_factor > 0.0f && schedule.decay_factor <= 1.0f))
        throw ConfigError(fmt::format("trainer: the learning-rate decay factor must be in (0, 1], got {}",
                                      schedule.decay_factor));
    for (std::size_t e : schedule.decay_after_epochs) {
        if (e == 0) throw ConfigError("trainer: learning-rate decay epochs count from 1 (after epoch 1, 2, ...)");
        if (e >= s.epochs)
            throw ConfigError(fmt::format("trainer: a learning-rate decay after epoch {} acts on no epoch of the {} "
                                          "trained",
                                          e, s.epochs));
    }
    for (std::size_t g : s.max_norm_groups) {
        if (g >= net.groups().size())
            throw ConfigError("trainer: max-norm group " + std::to_string(g) + " does not exist (the network has " +
                              std::to_string(net.groups().size()) + ")");
        if (!net.groups()[g].info.max_norm_columns)
            throw ConfigError("trainer: max-norm group " + std::to_string(g) + " (" + net.groups()[g].layer_label +
                              " '" + net.groups()[g].info.name + "') has no weight-vector columns");
    }
    impl_->optimizer = make_optimizer(s.optimizer, net);
    impl_->workspace = net.make_workspace();
    impl_->snapshot_optimizer();
}

Trainer::~Trainer() = default;

void Trainer::set_training_data(std::size_t count, BatchSource source) {
    impl_->train_count = count;
    impl_->train_source = std::move(source);
}

void Trainer::set_validation_data(std::size_t count, BatchSource source) {
    impl_->validation_count = count;
    impl_->validation_source = std::move(source);
}

void Trainer::on_progress(std::function<void(const TrainingProgress&)> callback) {
    impl_->progress_callback = std::move(callback);
}

void Trainer::on_validation(std::function<void(const ValidationCheck&)> callback) {
    impl_->validation_callback = std::move(callback);
}

void Trainer::on_epoch_end(std::function<void(const EpochSummary&)> callback) {
    impl_->epoch_callback = std::move(callback);
}

void Trainer::set_stop_flag(const std::atomic<bool>* flag) { impl_->stop = flag; }

void Trainer::resume(const TrainerState& state) {
    const TrainerSettings& s = impl_->settings;
    if (state.seed != s.seed)
        throw ConfigError("trainer: the checkpoint was made with seed " + std::to_string(state.seed) +
                          ", this run has seed " + std::to_string(s.seed));
    if (state.batch_size != s.batch_size)
        throw ConfigError("trainer: the checkpoint was made with batch size " + std::to_string(state.batch_size) +
                          ", this run has " + std::to_string(s.batch_size));
    if (state.optimizer_name != s.optimizer.name)
        throw ConfigError("trainer: the checkpoint was made with optimizer " + state.optimizer_name +
                          ", this run uses " + s.optimizer.name);
    // The position inside the epoch is the checkpoint's own state, not an option: a value past
    // the end of the epoch is corruption (InputError), found here rather than at run().
    if (impl_->train_count != 0 && state.train_count == impl_->train_count && state.batch != 0 &&
        state.batch >= (state.train_count + s.batch_size - 1) / s.batch_size)
        throw InputError("trainer: the checkpoint is at batch " + std::to_string(state.batch) + " of an epoch of " +
                         std::to_string((state.train_count + s.batch_size - 1) / s.batch_size) + " (a corrupt checkpoint)");
    if (state.epoch_correct > state.epoch_samples || state.epoch_samples > state.train_count ||
        state.best_epoch > state.epoch + 1)
        throw InputError("trainer: the checkpoint's counts contradict each other (" + std::to_string(state.epoch_correct) +
                         " correct of " + std::to_string(state.epoch_samples) + " samples this epoch, " +
                         std::to_string(state.train_count) + " per epoch; best epoch " +
                         std::to_string(state.best_epoch) + " at epoch " + std::to_string(state.epoch) +
                         "): a corrupt checkpoint");
    // A damaged state trains on from nonsense: NaN or infinite accumulators read as "the weights
    // diverged, try a lower learning rate", a NaN loss sum or best accuracy went unnoticed.
    const auto finite = [](const std::vector<float>& values) {
        return std::all_of(values.begin(), values.end(), [](float v) { return std::isfinite(v); });
    };
    if (!std::isfinite(state.epoch_loss_sum) || state.epoch_loss_sum < 0.0 || !std::isfinite(state.best_accuracy) ||
        state.best_accuracy < -1.0 || state.best_accuracy > 1.0 || !finite(state.optimizer_state) ||
        !finite(state.best_parameters))
        throw InputError("trainer: the checkpoint's loss sum, best accuracy, optimizer state or best weights are not "
                         "finite numbers in their range (a corrupt checkpoint)");
    constexpr std::uint64_t most_epochs = 1'000'000'000;  // a billion epochs: no real run
    if (state.epoch > most_epochs)
        throw InputError("trainer: the checkpoint says " + std::to_string(state.epoch) + " epochs were completed, more "
                         "than any run has (a corrupt checkpoint)");
    if (!state.best_parameters.empty() && state.best_parameters.size() != impl_->net.parameter_count())
        throw InputError("trainer: the checkpoint's best parameters (" + std::to_string(state.best_parameters.size()) +
                         ") do not fit the network (" + std::to_string(impl_->net.parameter_count()) + ")");
    // A run that validated keeps its best weights and puts them back at the end: continued
    // without validation data, nothing would ever beat them and every epoch from here on
    // would be thrown away.
    if (!state.best_parameters.empty() && (!impl_->validation_source || impl_->validation_count == 0))
        throw ConfigError("trainer: the checkpoint's run kept its best weights by validation (best epoch " +
                          std::to_string(state.best_epoch) +
                          "), and this run has no validation data: the epochs trained now would be discarded for "
                          "those weights; give it the same validation data");
    impl_->optimizer->set_state(state.optimizer_state);
    impl_->state = state;
    impl_->state.finished = false;
    impl_->resumed = true;
}

TrainResult Trainer::run() { return impl_->run(); }

const TrainerState& Trainer::state() const { return impl_->state; }

std::vector<std::size_t> output_weight_groups(const Network& net) {
    const auto& groups = net.groups();
    for (std::size_t g = groups.size(); g-- > 0;)
        if (groups[g].info.max_norm_columns && groups[g].info.trainable) return {g};
    return {};
}

Evaluation evaluate(const Network& net, std::size_t count, const BatchSource& source, std::size_t batch_size,
                    std::span<const float> class_weights) {
    if (batch_size == 0) throw ConfigError("evaluate: batch size must be > 0");
    Evaluation result;
    const Shape out = net.output_shape(1);
    if (out.rank() != 2)
        throw ShapeError(net.layer(net.layer_count() - 1).label() + ": output shape " + out.with_batch(0).str() +
                         " is not (batch, classes)");
    result.classes = out.channels();
    // Chunked: an image batch runs in cache-sized chunks through all layers (a packed text batch
    // is one plain forward), the same road imagecnn's eval and predict take.
    auto ws = net.make_chunked_workspace();
    Tensor input, probabilities;
    std::vector<std::uint32_t> labels;
    std::vector<std::size_t> indices;
    double weighted_loss = 0.0, total_weight = 0.0;
    std::size_t correct = 0;
    const std::size_t k = result.classes;
    result.labels.reserve(count);
    result.predictions.reserve(count);
    result.probabilities.reserve(count * k);
    for (std::size_t begin = 0; begin < count; begin += batch_size) {
        const std::size_t end = std::min(count, begin + batch_size);
        indices.resize(end - begin);
        std::iota(indices.begin(), indices.end(), begin);
        labels.clear();
        source(indices, input, labels);
        if (labels.size() != indices.size())
            throw ConfigError("evaluate: the batch source gave " + std::to_string(labels.size()) + " labels for " +
                              std::to_string(indices.size()) + " samples");
        const Tensor& logits = net.forward_chunked(input, ws);
        check_batch(net, logits, labels);
        const double loss = softmax_cross_entropy(logits, labels, class_weights, nullptr, &probabilities);
        double batch_weight = 0.0;
        for (std::uint32_t y : labels) batch_weight += class_weights.empty() ? 1.0 : class_weights[y];
        weighted_loss += loss * batch_weight;
        total_weight += batch_weight;
        for (std::size_t i = 0; i < labels.size(); ++i) {
            const std::size_t predicted = arg_max(logits.data() + i * k, k);
            correct += predicted == labels[i];
            result.labels.push_back(labels[i]);
            result.predictions.push_back(static_cast<std::uint32_t>(predicted));
        }
        result.probabilities.insert(result.probabilities.end(), probabilities.data(),
                                    probabilities.data() + labels.size() * k);
    }
    result.loss = total_weight > 0.0 ? weighted_loss / total_weight : 0.0;
    result.accuracy = count ? static_cast<double>(correct) / static_cast<double>(count) : 0.0;
    return result;
}

// --- Checkpoints --------------------------------------------------------------------------------

void add_checkpoint_sections(ModelFile& file, const Network& net, const TrainerState& state) {
    add_network_sections(file, net);
    std::vector<std::uint8_t> optimizer;
    ByteWriter o(optimizer);
    o.put_string(state.optimizer_name);
    o.put_floats(state.optimizer_state);
    file.set("OPTM", optimizer_section_version, std::move(optimizer));

    std::vector<std::uint8_t> trainer;
    ByteWriter w(trainer);
    w.put<std::uint64_t>(state.seed);
    w.put<std::uint64_t>(state.train_count);
    w.put<std::uint64_t>(state.batch_size);
    w.put<std::uint64_t>(state.epoch);
    w.put<std::uint64_t>(state.batch);
    w.put<std::uint64_t>(state.step);
    w.put<double>(state.epoch_loss_sum);
    w.put<std::uint64_t>(state.epoch_correct);
    w.put<std::uint64_t>(state.epoch_samples);
    w.put<double>(state.best_accuracy);
    w.put<std::uint64_t>(state.best_epoch);
    w.put<std::uint64_t>(state.epochs_without_improvement);
    w.put<std::uint8_t>(state.finished ? 1 : 0);
    w.put_floats(state.best_parameters);
    file.set("TRNR", trainer_section_version, std::move(trainer));
}

TrainerState trainer_state_from_sections(const ModelFile& file) {
    TrainerState s;
    {
        ByteReader r(file.require("OPTM", optimizer_section_version).payload, file.source + " section 'OPTM'");
        s.optimizer_name = r.get_string("optimizer name");
        s.optimizer_state = r.get_floats("optimizer state");
        if (!r.at_end()) r.error(std::to_string(r.remaining()) + " unexpected bytes at the end");
    }
    ByteReader r(file.require("TRNR", trainer_section_version).payload, file.source + " section 'TRNR'");
    s.seed = r.get<std::uint64_t>("seed");
    s.train_count = r.get<std::uint64_t>("training sample count");
    s.batch_size = r.get<std::uint64_t>("batch size");
    s.epoch = r.get<std::uint64_t>("epoch");
    s.batch = r.get<std::uint64_t>("batch");
    s.step = r.get<std::uint64_t>("step");
    s.epoch_loss_sum = r.get<double>("epoch loss sum");
    s.epoch_correct = r.get<std::uint64_t>("epoch correct count");
    s.epoch_samples = r.get<std::uint64_t>("epoch sample count");
    s.best_accuracy = r.get<double>("best accuracy");
    s.best_epoch = r.get<std::uint64_t>("best epoch");
    s.epochs_without_improvement = r.get<std::uint64_t>("epochs without improvement");
    const auto finished = r.get<std::uint8_t>("finished flag");
    if (finished > 1) r.error("finished flag " + std::to_string(finished) + " is not 0 or 1");
    s.finished = finished == 1;
    s.best_parameters = r.get_floats("best parameters");
    if (!r.at_end()) r.error(std::to_string(r.remaining()) + " unexpected bytes at the end");
    return s;
}

std::uint64_t save_with_best_parameters(Network& net, const TrainerState& state, const std::function<void()>& save) {
    const std::span<float> parameters = net.parameters();
    if (state.best_parameters.size() != parameters.size()) {
        save();
        return 0;
    }
    const std::vector<float> current(parameters.begin(), parameters.end());
    std::copy(state.best_parameters.begin(), state.best_parameters.end(), parameters.begin());
    try {
        save();
    } catch (...) {
        std::copy(current.begin(), current.end(), parameters.begin());
        throw;
    }
    std::copy(current.begin(), current.end(), parameters.begin());
    return state.best_epoch;
}

void write_checkpoint(const std::string& path, const Network& net, const TrainerState& state) {
    ModelFile file;
    add_checkpoint_sections(file, net, state);
    write_model_file(path, file);
}

Checkpoint read_checkpoint(const std::string& path) {
    const ModelFile file = read_model_file(path);
    Network net = network_from_sections(file);
    TrainerState state = trainer_state_from_sections(file);
    if (!state.best_parameters.empty() && state.best_parameters.size() != net.parameter_count())
        throw InputError(path + ": the checkpoint's best parameters (" + std::to_string(state.best_parameters.size()) +
                         ") do not fit the network (" + std::to_string(net.parameter_count()) + ")");
    return {std::move(net), std::move(state)};
}

}  // namespace textcnn
