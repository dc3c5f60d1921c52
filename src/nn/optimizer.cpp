#include "textcnn/nn/optimizer.h"

#include "textcnn/core/error.h"

#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_for.h>

#include <bit>
#include <cmath>
#include <string>

namespace textcnn {

const std::vector<std::string>& OptimizerSettings::names() {
    static const std::vector<std::string> known = {"adadelta", "adam", "rmsprop", "sgd"};
    return known;
}

OptimizerSettings OptimizerSettings::defaults_for(const std::string& name) {
    OptimizerSettings s;
    s.name = name;
    if (name == "sgd") {
        s.learning_rate = 0.01f;
    } else if (name == "adadelta") {
        s.learning_rate = 1.0f;
        s.rho = 0.95f;
        s.epsilon = 1e-6f;
    } else if (name == "adam") {
        s.learning_rate = 1e-3f;
        s.epsilon = 1e-8f;
    } else if (name == "rmsprop") {
        s.learning_rate = 1e-3f;
        s.rho = 0.9f;
        s.epsilon = 1e-7f;
    } else {
        throw unknown_name("optimizer", name, names());
    }
    return s;
}

namespace {

// Element loops are split into chunks of this many floats: big enough that TBB's overhead
// vanishes, small enough that a 2-core machine gets several chunks of a large group.
constexpr std::size_t grain = 8192;

// Partial sums of squares are taken over fixed blocks of this many floats and added in block
// order, so the norm does not depend on how TBB splits the work.
constexpr std::size_t norm_block = 4096;

// The optimizer state is a float vector (optimizer.h); integers travel bit-cast.
void push_u32(std::vector<float>& out, std::uint32_t v) { out.push_back(std::bit_cast<float>(v)); }
void push_u64(std::vector<float>& out, std::uint64_t v) {
    push_u32(out, static_cast<std::uint32_t>(v));
    push_u32(out, static_cast<std::uint32_t>(v >> 32));
}
std::uint32_t read_u32(const std::vector<float>& in, std::size_t& pos) { return std::bit_cast<std::uint32_t>(in[pos++]); }
std::uint64_t read_u64(const std::vector<float>& in, std::size_t& pos) {
    const std::uint64_t lo = read_u32(in, pos);
    const std::uint64_t hi = read_u32(in, pos);
    return lo | (hi << 32);
}

constexpr std::uint32_t state_format = 1;

std::uint32_t kind_tag(const std::string& name) {
    if (name == "sgd") return 1;
    if (name == "adadelta") return 2;
    if (name == "adam") return 3;
    if (name == "rmsprop") return 4;
    return 0;
}
std::string kind_name(std::uint32_t tag) {
    switch (tag) {
        case 1: return "sgd";
        case 2: return "adadelta";
        case 3: return "adam";
        case 4: return "rmsprop";
        default: return "unknown optimizer " + std::to_string(tag);
    }
}

// Sum of squares of one float range, in fixed blocks combined in order.
double sum_of_squares(const float* g, std::size_t n) {
    const std::size_t blocks = (n + norm_block - 1) / norm_block;
    if (blocks <= 1) {
        double s = 0.0;
        for (std::size_t i = 0; i < n; ++i) s += static_cast<double>(g[i]) * g[i];
        return s;
    }
    std::vector<double> partial(blocks, 0.0);
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, blocks), [&](const tbb::blocked_range<std::size_t>& r) {
        for (std::size_t b = r.begin(); b != r.end(); ++b) {
            const std::size_t begin = b * norm_block, end = std::min(n, begin + norm_block);
            double s = 0.0;
            for (std::size_t i = begin; i < end; ++i) s += static_cast<double>(g[i]) * g[i];
            partial[b] = s;
        }
    });
    double total = 0.0;
    for (double s : partial) total += s;
    return total;
}

void check_touched_column(const ParameterGroup& group, std::uint32_t col) {
    if (col >= group.info.cols)
        throw ShapeError(group.layer_label + ": touched column " + std::to_string(col) + " of parameter '" +
                         group.info.name + "' is outside its " + std::to_string(group.info.cols) + " columns");
}

// Where a trainable group's accumulators live in each slot vector.
struct GroupLayout {
    std::size_t offset = 0;       // in the parameter block
    std::size_t size = 0;
    std::size_t rows = 0;
    std::size_t cols = 0;
    bool sparse = false;
    bool trainable = false;
    std::size_t slot_offset = 0;  // in each slot vector (trainable groups only)
};

// Shared machinery: layout, step count, lazy bookkeeping of sparse columns, clipping, weight
// decay and the state format. Subclasses implement one element update over a range.
class BlockOptimizer : public Optimizer {
public:
    BlockOptimizer(const OptimizerSettings& settings, const Network& net, std::size_t slots)
        : settings_(settings), parameter_count_(net.parameter_count()) {
        for (const auto& g : net.groups()) {
            GroupLayout l;
            l.offset = g.offset;
            l.size = g.info.size();
            l.rows = g.info.rows;
            l.cols = g.info.cols;
            l.sparse = g.info.sparse_columns;
            l.trainable = g.info.trainable;
            if (l.trainable) {
                l.slot_offset = trainable_count_;
                trainable_count_ += l.size;
            }
            layout_.push_back(l);
            last_step_.emplace_back(l.trainable && l.sparse ? l.cols : 0, 0);
        }
        slots_.assign(slots, std::vector<float>(trainable_count_, 0.0f));
    }

    void step(Network& net) override {
        check_network(net);
        ++step_;
        begin_step();
        float grad_scale = 1.0f;
        if (settings_.clip_norm > 0.0f) {
            const double norm = gradient_norm(net);
            if (norm > settings_.clip_norm) grad_scale = static_cast<float>(settings_.clip_norm / norm);
        }
        float* params = net.parameters().data();
        const float* grads = net.gradients().data();
        for (std::size_t gi = 0; gi < layout_.size(); ++gi) {
            const GroupLayout& l = layout_[gi];
            if (!l.trainable) continue;
            if (!l.sparse) {
                tbb::parallel_for(tbb::blocked_range<std::size_t>(0, l.size, grain),
                                  [&](const tbb::blocked_range<std::size_t>& r) {
                                      update(params + l.offset, grads + l.offset, l.slot_offset, r.begin(), r.end(),
                                             grad_scale, 0);
                                  });
                continue;
            }
            const auto& touched = net.groups()[gi].touched_columns;
            for (std::uint32_t col : touched) check_touched_column(net.groups()[gi], col);
            auto& last = last_step_[gi];
            const std::size_t cols_per_task = std::max<std::size_t>(1, grain / std::max<std::size_t>(1, l.rows));
            tbb::parallel_for(tbb::blocked_range<std::size_t>(0, touched.size(), cols_per_task),
                              [&](const tbb::blocked_range<std::size_t>& r) {
                                  for (std::size_t k = r.begin(); k != r.end(); ++k) {
                                      const std::size_t col = touched[k];
                                      const std::uint64_t skipped = step_ - 1 - last[col];
                                      update(params + l.offset, grads + l.offset, l.slot_offset, col * l.rows,
                                             (col + 1) * l.rows, grad_scale, skipped);
                                      last[col] = step_;
                                  }
                              });
        }
    }

    std::vector<float> state() const override {
        std::vector<float> out;
        push_u32(out, kind_tag(settings_.name));
        push_u32(out, state_format);
        push_u64(out, step_);
        push_u64(out, trainable_count_);
        push_u32(out, static_cast<std::uint32_t>(slots_.size()));
        for (const auto& slot : slots_) out.insert(out.end(), slot.begin(), slot.end());
        for (const auto& last : last_step_)
            for (std::uint64_t s : last) push_u64(out, s);
        return out;
    }

    void set_learning_rate(float rate) override {
        if (!(rate > 0.0f) || !std::isfinite(rate))
            throw ConfigError("optimizer " + settings_.name + ": learning rate must be > 0");
        settings_.learning_rate = rate;
    }

    void set_state(const std::vector<float>& state) override {
        std::size_t sparse_columns = 0;
        for (const auto& last : last_step_) sparse_columns += last.size();
        const std::size_t header = 7;  // tag, format, step (2), trainable count (2), slot count
        const std::size_t expected = header + slots_.size() * trainable_count_ + 2 * sparse_columns;
        if (state.size() < header)
            throw InputError("optimizer state: " + std::to_string(state.size()) + " values is too short");
        std::size_t pos = 0;
        const std::uint32_t tag = read_u32(state, pos);
        if (tag != kind_tag(settings_.name))
            throw InputError("optimizer state: saved by " + kind_name(tag) + ", this run uses " + settings_.name);
        const std::uint32_t format = read_u32(state, pos);
        if (format != state_format)
            throw InputError("optimizer state: format " + std::to_string(format) + " is not supported (" +
                             std::to_string(state_format) + ")");
        const std::uint64_t step = read_u64(state, pos);
        const std::uint64_t trainable = read_u64(state, pos);
        const std::uint32_t slots = read_u32(state, pos);
        if (trainable != trainable_count_ || slots != slots_.size() || state.size() != expected)
            throw InputError("optimizer state: saved for " + std::to_string(trainable) +
                             " trainable parameters and " + std::to_string(slots) + " accumulators (" +
                             std::to_string(state.size()) + " values); this model has " +
                             std::to_string(trainable_count_) + " and " + kind_name(tag) + " keeps " +
                             std::to_string(slots_.size()) + " (" + std::to_string(expected) + " values)");
        step_ = step;
        for (auto& slot : slots_) {
            std::copy_n(state.begin() + static_cast<std::ptrdiff_t>(pos), trainable_count_, slot.begin());
            pos += trainable_count_;
        }
        for (auto& last : last_step_)
            for (auto& s : last) s = read_u64(state, pos);
    }

protected:
    // Updates elements [begin, end) of one group. `p`, `g` point at the group's first value and
    // gradient, `slot_offset` at its first accumulator. `skipped` counts the steps since this
    // range was last updated (sparse columns only; 0 for dense groups).
    virtual void update(float* p, const float* g, std::size_t slot_offset, std::size_t begin, std::size_t end,
                        float grad_scale, std::uint64_t skipped) = 0;
    // Per-step scalars (Adam's bias correction).
    virtual void begin_step() {}

    float effective_gradient(float g, float p, float grad_scale) const {
        return grad_scale * g + settings_.weight_decay * p;
    }
    // rho^skipped: what `skipped` steps of zero gradient do to a decaying accumulator.
    static float decay(float rho, std::uint64_t skipped) {
        return skipped == 0 ? 1.0f : static_cast<float>(std::pow(static_cast<double>(rho), static_cast<double>(skipped)));
    }

    OptimizerSettings settings_;
    std::vector<std::vector<float>> slots_;
    std::uint64_t step_ = 0;

private:
    void check_network(const Network& net) const {
        if (net.parameter_count() != parameter_count_ || net.groups().size() != layout_.size())
            throw ConfigError("optimizer: made for a network of " + std::to_string(parameter_count_) +
                              " parameters in " + std::to_string(layout_.size()) + " groups, stepped with one of " +
                              std::to_string(net.parameter_count()) + " in " + std::to_string(net.groups().size()));
    }

    std::size_t parameter_count_ = 0;
    std::size_t trainable_count_ = 0;
    std::vector<GroupLayout> layout_;
    std::vector<std::vector<std::uint64_t>> last_step_;  // per group; per column for sparse groups
};

// SGD, Keras form: v = momentum * v - lr * g; p += v (Nesterov: p += momentum * v - lr * g).
class Sgd final : public BlockOptimizer {
public:
    Sgd(const OptimizerSettings& s, const Network& net) : BlockOptimizer(s, net, s.momentum != 0.0f ? 1 : 0) {}

protected:
    void update(float* p, const float* g, std::size_t so, std::size_t begin, std::size_t end, float grad_scale,
                std::uint64_t) override {
        const float lr = settings_.learning_rate, mu = settings_.momentum;
        if (slots_.empty()) {
            for (std::size_t i = begin; i < end; ++i) p[i] -= lr * effective_gradient(g[i], p[i], grad_scale);
            return;
        }
        float* v = slots_[0].data() + so;
        for (std::size_t i = begin; i < end; ++i) {
            const float gi = effective_gradient(g[i], p[i], grad_scale);
            v[i] = mu * v[i] - lr * gi;
            p[i] += settings_.nesterov ? mu * v[i] - lr * gi : v[i];
        }
    }
};

// Adadelta (Zeiler 2012; Keras form with a learning rate, Kim uses 1.0):
// Eg = rho Eg + (1-rho) g^2; d = sqrt(Ed + eps) / sqrt(Eg + eps) g; p -= lr d; Ed = rho Ed + (1-rho) d^2.
class Adadelta final : public BlockOptimizer {
public:
    Adadelta(const OptimizerSettings& s, const Network& net) : BlockOptimizer(s, net, 2) {}

protected:
    void update(float* p, const float* g, std::size_t so, std::size_t begin, std::size_t end, float grad_scale,
                std::uint64_t skipped) override {
        const float rho = settings_.rho, eps = settings_.epsilon, lr = settings_.learning_rate;
        const float d = decay(rho, skipped);
        float* eg = slots_[0].data() + so;
        float* ed = slots_[1].data() + so;
        for (std::size_t i = begin; i < end; ++i) {
            const float gi = effective_gradient(g[i], p[i], grad_scale);
            if (skipped != 0) {
                eg[i] *= d;
                ed[i] *= d;
            }
            eg[i] = rho * eg[i] + (1.0f - rho) * gi * gi;
            const float delta = std::sqrt(ed[i] + eps) / std::sqrt(eg[i] + eps) * gi;
            p[i] -= lr * delta;
            ed[i] = rho * ed[i] + (1.0f - rho) * delta * delta;
        }
    }
};

// RMSprop, Keras form: v = rho v + (1-rho) g^2; p -= lr g / (sqrt(v) + eps).
class Rmsprop final : public BlockOptimizer {
public:
    Rmsprop(const OptimizerSettings& s, const Network& net) : BlockOptimizer(s, net, 1) {}

protected:
    void update(float* p, const float* g, std::size_t so, std::size_t begin, std::size_t end, float grad_scale,
                std::uint64_t skipped) override {
        const float rho = settings_.rho, eps = settings_.epsilon, lr = settings_.learning_rate;
        const float d = decay(rho, skipped);
        float* v = slots_[0].data() + so;
        for (std::size_t i = begin; i < end; ++i) {
            const float gi = effective_gradient(g[i], p[i], grad_scale);
            if (skipped != 0) v[i] *= d;
            v[i] = rho * v[i] + (1.0f - rho) * gi * gi;
            p[i] -= lr * gi / (std::sqrt(v[i]) + eps);
        }
    }
};

// Adam (Kingma & Ba; the Keras form with the bias correction folded into the step size):
// m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2; p -= lr sqrt(1-b2^t)/(1-b1^t) m / (sqrt(v) + eps).
class Adam final : public BlockOptimizer {
public:
    Adam(const OptimizerSettings& s, const Network& net) : BlockOptimizer(s, net, 2) {}

protected:
    void begin_step() override {
        const double t = static_cast<double>(step_);
        alpha_ = static_cast<float>(settings_.learning_rate * std::sqrt(1.0 - std::pow(double(settings_.beta2), t)) /
                                    (1.0 - std::pow(double(settings_.beta1), t)));
    }
    void update(float* p, const float* g, std::size_t so, std::size_t begin, std::size_t end, float grad_scale,
                std::uint64_t) override {
        const float b1 = settings_.beta1, b2 = settings_.beta2, eps = settings_.epsilon;
        float* m = slots_[0].data() + so;
        float* v = slots_[1].data() + so;
        for (std::size_t i = begin; i < end; ++i) {
            const float gi = effective_gradient(g[i], p[i], grad_scale);
            m[i] = b1 * m[i] + (1.0f - b1) * gi;
            v[i] = b2 * v[i] + (1.0f - b2) * gi * gi;
            p[i] -= alpha_ * m[i] / (std::sqrt(v[i]) + eps);
        }
    }

private:
    float alpha_ = 0.0f;
};

void check_settings(const OptimizerSettings& s) {
    auto bad = [&](const std::string& what) { throw ConfigError("optimizer " + s.name + ": " + what); };
    if (!(s.learning_rate > 0.0f) || !std::isfinite(s.learning_rate)) bad("learning rate must be > 0");
    if (!(s.momentum >= 0.0f && s.momentum < 1.0f)) bad("momentum must be in [0, 1)");
    if (s.nesterov && s.momentum == 0.0f) bad("Nesterov momentum needs momentum > 0");
    if (!(s.rho > 0.0f && s.rho < 1.0f)) bad("rho must be in (0, 1)");
    if (!(s.epsilon > 0.0f)) bad("epsilon must be > 0");
    if (!(s.beta1 >= 0.0f && s.beta1 < 1.0f) || !(s.beta2 >= 0.0f && s.beta2 < 1.0f))
        bad("beta1 and beta2 must be in [0, 1)");
    if (!(s.weight_decay >= 0.0f)) bad("weight decay must be >= 0");
    if (!(s.clip_norm >= 0.0f)) bad("clip norm must be >= 0 (0 = off)");
}

}  // namespace

std::unique_ptr<Optimizer> make_optimizer(const OptimizerSettings& settings, const Network& net) {
    check_settings(settings);
    if (settings.name == "sgd") return std::make_unique<Sgd>(settings, net);
    if (settings.name == "adadelta") return std::make_unique<Adadelta>(settings, net);
    if (settings.name == "adam") return std::make_unique<Adam>(settings, net);
    if (settings.name == "rmsprop") return std::make_unique<Rmsprop>(settings, net);
    throw unknown_name("optimizer", settings.name, OptimizerSettings::names());
}

double gradient_norm(const Network& net) {
    const float* grads = net.gradients().data();
    double total = 0.0;
    for (const auto& group : net.groups()) {
        if (!group.info.trainable) continue;
        if (!group.info.sparse_columns) {
            total += sum_of_squares(grads + group.offset, group.info.size());
            continue;
        }
        for (std::uint32_t col : group.touched_columns) {
            check_touched_column(group, col);
            total += sum_of_squares(grads + group.offset + col * group.info.rows, group.info.rows);
        }
    }
    return std::sqrt(total);
}

void apply_max_norm(Network& net, const std::vector<std::size_t>& group_indices, float max_norm) {
    if (!(max_norm > 0.0f)) throw ConfigError("max-norm: the limit must be > 0, got " + std::to_string(max_norm));
    for (std::size_t gi : group_indices) {
        if (gi >= net.groups().size())
            throw ConfigError("max-norm: parameter group " + std::to_string(gi) + " does not exist (the network has " +
                              std::to_string(net.groups().size()) + ")");
        const ParameterGroup& group = net.groups()[gi];
        if (!group.info.max_norm_columns)
            throw ConfigError("max-norm: " + group.layer_label + " parameter '" + group.info.name +
                              "' has no weight-vector columns to constrain");
        if (!group.info.trainable) continue;
        float* values = net.parameters().data() + group.offset;
        const std::size_t rows = group.info.rows;
        tbb::parallel_for(tbb::blocked_range<std::size_t>(0, group.info.cols), [&](const tbb::blocked_range<std::size_t>& r) {
            for (std::size_t c = r.begin(); c != r.end(); ++c) {
                float* col = values + c * rows;
                double s = 0.0;
                for (std::size_t i = 0; i < rows; ++i) s += static_cast<double>(col[i]) * col[i];
                const double norm = std::sqrt(s);
                if (norm <= max_norm) continue;
                const float scale = static_cast<float>(max_norm / norm);
                for (std::size_t i = 0; i < rows; ++i) col[i] *= scale;
            }
        });
    }
}

}  // namespace textcnn
