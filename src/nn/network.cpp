#include "textcnn/nn/network.h"

#include "textcnn/core/checked.h"
#include "textcnn/core/error.h"
#include "textcnn/core/number_text.h"
#include "textcnn/nn/limits.h"

#include "nn/blas_single_thread.h"

#include <fmt/format.h>
#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/task_arena.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <string>

namespace textcnn {

namespace {

std::size_t parameter_total(const Layer& layer) {
    std::size_t n = 0;
    for (const auto& p : layer.parameters()) n += p.size();
    return n;
}

// Shapes print with "None" for the batch, as Keras does.
std::string shape_text(const Shape& s) {
    if (s.rank() == 0) return "?";
    std::string out = "(None";
    for (std::size_t i = 1; i < s.rank(); ++i) out += ", " + std::to_string(s[i]);
    return out + ")";
}


std::string bytes_text(std::size_t bytes) {
    if (bytes < 1024) return std::to_string(bytes) + " B";
    if (bytes < 1024 * 1024) return fmt::format("{:.2f} KiB", bytes / 1024.0);
    return fmt::format("{:.2f} MiB", bytes / (1024.0 * 1024.0));
}

// Children of a container layer with their output shapes: a parallel layer lists its branches'
// layers in order, so the branch specs tell which input each child sees.
void add_children(const Layer& parent, const Shape& parent_input, int depth, std::vector<LayerSummary>& rows) {
    const auto kids = parent.children();
    if (kids.empty()) return;
    std::size_t spec_count = 0;
    for (const auto& branch : parent.spec().branches) spec_count += branch.size();
    const bool shapes_known = spec_count == kids.size() && parent_input.rank() != 0;
    std::size_t k = 0;
    auto add = [&](const Layer& child, const Shape& in) {
        Shape out;
        if (in.rank() != 0) {
            try {
                out = child.output_shape(in);
            } catch (const Error&) {
                out = Shape();
            }
        }
        rows.push_back({depth, child.label(), child.spec().type, child.details(),
                        out.rank() ? out.with_batch(0) : out, parameter_total(child)});
        add_children(child, in, depth + 1, rows);
        return out;
    };
    if (shapes_known) {
        for (const auto& branch : parent.spec().branches) {
            Shape shape = parent_input;
            for (std::size_t j = 0; j < branch.size(); ++j) shape = add(*kids[k++], shape);
        }
    } else {
        for (const Layer* kid : kids) add(*kid, Shape());
    }
}

}  // namespace

namespace {

// The layers of `spec` for samples of `sample_shape`, their input shapes and the parameter
// count, every size checked against limits.h before the caller allocates anything.
struct BuiltLayers {
    std::vector<std::unique_ptr<Layer>> layers;
    std::vector<Shape> input_shapes;
    Shape output_shape;
    std::size_t parameters = 0;
    std::size_t activations = 0;  ///< ActivationBudget's total
};

void check_sample_size(const Shape& shape, const std::string& what) {
    const std::size_t n = checked_mul(shape.channels(), shape.positions(), what + " " + shape_text(shape));
    checked_limit(n, limits::max_sample_elements, what + " " + shape_text(shape) + ": floats per sample");
}

// One sample's forward pass: the input and every output held, plus the largest scratch of a
// layer, against limits::max_activation_elements. Each term is below 2^28 (check_sample_size)
// or checked, so the sums cannot overflow before the bound is hit.
class ActivationBudget {
public:
    explicit ActivationBudget(std::size_t input) : held_(input) {}

    void add(const Layer& layer, const Shape& in, const Shape& out) {
        held_ += out.per_sample();
        const std::size_t scratch = layer.workspace_elements(in);
        if (scratch > scratch_) {
            scratch_ = scratch;
            largest_ = layer.label();
        }
        if (scratch_ > limits::max_activation_elements || held_ + scratch_ > limits::max_activation_elements)
            throw ShapeError(fmt::format(
                "network: one sample's forward pass up to {} needs {} floats ({} for the layers' outputs, {} for the "
                "scratch of {}), above the limit of {} (1 GiB)",
                layer.label(), saturated_sum(), held_, scratch_, largest_.empty() ? "no layer" : largest_,
                limits::max_activation_elements));
    }

    std::size_t total() const { return held_ + scratch_; }

private:
    std::size_t saturated_sum() const {
        return scratch_ > SIZE_MAX - held_ ? SIZE_MAX : held_ + scratch_;
    }
    std::size_t held_ = 0;
    std::size_t scratch_ = 0;
    std::string largest_;
};

BuiltLayers build_layers(const ModelSpec& spec, const Shape& sample_shape) {
    if (spec.empty()) throw ConfigError("network: the model has no layers");
    if (sample_shape.rank() < 2)
        throw ShapeError("network: sample shape " + sample_shape.str() + " needs at least (batch, channels)");
    for (std::size_t i = 1; i < sample_shape.rank(); ++i)
        checked_limit(sample_shape[i], limits::max_setting,
                      "network: sample shape " + sample_shape.str() + ": dimension " + std::to_string(i));
    Shape shape = sample_shape.with_batch(1);
    if (shape.per_sample() == 0)
        throw ShapeError(spec.front().label() + ": input shape " + shape_text(shape) + " is empty");
    check_sample_size(shape, spec.front().label() + ": input shape");
    BuiltLayers built;
    ActivationBudget activations(shape.per_sample());
    for (const LayerSpec& s : spec) {
        auto layer = make_layer(s, shape);
        Shape out = layer->output_shape(shape);
        check_sample_size(out, layer->label() + ": output shape");
        if (out.per_sample() == 0)
            throw ShapeError(layer->label() + ": output shape " + shape_text(out) + " for input " + shape_text(shape) +
                             " is empty");
        activations.add(*layer, shape, out);
        built.input_shapes.push_back(shape);
        shape = out;
        for (const ParameterInfo& info : layer->parameters()) {
            const std::string what = layer->label() + ": parameter '" + info.name + "'";
            const std::size_t size = checked_mul(info.rows, info.cols, what + " (rows x columns)");
            built.parameters = checked_add(built.parameters, size, what + ": parameter count");
        }
        checked_limit(built.parameters, limits::max_parameters,
                      "network: the parameter count up to " + layer->label());
        built.layers.push_back(std::move(layer));
    }
    built.output_shape = shape;
    built.activations = activations.total();
    return built;
}

}  // namespace

std::size_t Network::parameter_count(const ModelSpec& spec, const Shape& sample_shape) {
    return build_layers(spec, sample_shape).parameters;
}

std::size_t Network::activation_elements(const ModelSpec& spec, const Shape& sample_shape) {
    return build_layers(spec, sample_shape).activations;
}

Network::ActivationGrowth Network::activation_growth(const ModelSpec& spec, std::size_t channels) {
    const std::size_t one = activation_elements(spec, Shape{1, channels, 1});
    for (const std::size_t far : {std::size_t{4096}, std::size_t{256}, std::size_t{16}, std::size_t{1}}) {
        try {
            const std::size_t many = activation_elements(spec, Shape{1, channels, 1 + far});
            return {one, std::max<std::size_t>((std::max(many, one) - one + far - 1) / far, 1)};
        } catch (const ShapeError&) {
            // that length passes the bound: nearer
        }
    }
    return {one, limits::max_activation_elements};
}

Network::Network(ModelSpec spec, Shape sample_shape) : spec_(std::move(spec)), sample_shape_(std::move(sample_shape)) {
    BuiltLayers built = build_layers(spec_, sample_shape_);
    layers_ = std::move(built.layers);
    input_shapes_ = std::move(built.input_shapes);
    output_shape_ = built.output_shape;
    activation_elements_ = built.activations;

    std::size_t total = 0;
    first_trainable_ = layers_.size();
    for (std::size_t i = 0; i < layers_.size(); ++i) {
        for (const ParameterInfo& info : layers_[i]->parameters()) {
            groups_.push_back({layers_[i]->label(), info, total, {}});
            total += info.size();  // checked in build_layers()
            if (info.trainable && info.size() > 0) first_trainable_ = std::min(first_trainable_, i);
        }
    }
    parameters_.assign(total, 0.0f);
    gradients_.assign(total, 0.0f);
    bind_all();
}

Network::~Network() = default;
Network::Network(Network&&) noexcept = default;
Network& Network::operator=(Network&&) noexcept = default;

void Network::bind_all() {
    std::size_t g = 0;
    for (auto& layer : layers_) {
        const std::size_t n = layer->parameters().size();
        std::vector<ParameterBinding> bindings;
        for (std::size_t k = 0; k < n; ++k, ++g) {
            ParameterGroup& group = groups_[g];
            bindings.push_back({parameters_.data() + group.offset, gradients_.data() + group.offset,
                                &group.touched_columns});
        }
        layer->bind(bindings);
    }
}

Shape Network::output_shape(std::size_t n) const { return output_shape_.with_batch(n); }

std::span<const ParameterGroup> Network::layer_groups(std::size_t i) const {
    std::size_t first = 0;
    for (std::size_t j = 0; j < i; ++j) first += layers_.at(j)->parameters().size();
    return std::span(groups_).subspan(first, layers_.at(i)->parameters().size());
}

std::size_t Network::trainable_parameter_count() const {
    std::size_t n = 0;
    for (const auto& g : groups_)
        if (g.info.trainable) n += g.info.size();
    return n;
}

void Network::initialize(const Initializer& init, std::uint64_t seed) {
    // A NaN, negative or overflowing scale drew weights that diverged at the first batch, and
    // was blamed on the learning rate.
    if (init.kind == Initializer::Kind::uniform && !(init.scale >= 0.0f && init.scale <= 1e6f))
        throw ConfigError(fmt::format("initializer: the uniform scale must be in [0, 1e6], got {}", init.scale));
    std::fill(parameters_.begin(), parameters_.end(), 0.0f);
    for (std::size_t i = 0; i < layers_.size(); ++i) {
        Rng rng(seed, i);
        layers_[i]->initialize(init, rng);
    }
}

Network::Workspace Network::make_workspace() const {
    Workspace ws;
    for (const auto& layer : layers_) ws.states.push_back(layer->make_state());
    ws.activations.resize(layers_.size());
    ws.d_activations.resize(layers_.size());
    return ws;
}

void Network::check_input(const Tensor& input) const {
    const Shape& in = input.shape();
    const Shape expected = sample_shape_.with_batch(0);
    if (in.rank() != sample_shape_.rank() || in.channels() != sample_shape_.channels())
        throw ShapeError(layers_.front()->label() + ": input shape " + in.str() + " does not fit the model's sample shape " +
                         shape_text(expected));
    if (input.size() == 0 || input.samples() == 0)
        throw ShapeError(layers_.front()->label() + ": empty input of shape " + in.str() + " (model sample shape " +
                         shape_text(expected) + ")");
}

const Tensor& Network::forward(const Tensor& input, Workspace& ws, const RunContext& ctx) const {
    if (ws.states.size() != layers_.size() || ws.activations.size() != layers_.size())
        throw ConfigError("network: the workspace was made for another network (" + std::to_string(ws.states.size()) +
                          " layers, this one has " + std::to_string(layers_.size()) + ")");
    check_input(input);
    RunContext c = ctx;
    for (std::size_t i = 0; i < layers_.size(); ++i) {
        c.layer_index = static_cast<std::uint32_t>(i);
        layers_[i]->forward(i == 0 ? input : ws.activations[i - 1], ws.activations[i], *ws.states[i], c);
    }
    return ws.activations.back();
}

// Lanes of a ChunkedWorkspace: one Workspace (plus the chunk's input copy and a one-thread
// arena) per chunk in flight. A chunk takes an idle lane and gives it back, so lanes are made
// only as many as chunks ever run at once (the thread count), and keep their buffers between
// calls.
struct Network::ChunkedWorkspace::Lanes {
    struct Lane {
        Workspace ws;
        Tensor input;
        // The chunk runs inside this arena of one thread: the layers' own parallel loops then
        // run serially in the thread that owns the chunk (its data stays in that core's cache;
        // the parallelism is across chunks), and the thread cannot pick up another chunk while
        // it waits inside one (no re-entry into the lane it holds).
        tbb::task_arena arena{1, 1};
    };
    const Network* network = nullptr;  // the lanes' workspaces were made for this network
    std::mutex mutex;
    std::vector<std::unique_ptr<Lane>> lanes;
    std::vector<Lane*> idle;

    Lane* acquire(const Network& net) {
        std::lock_guard<std::mutex> lock(mutex);
        if (idle.empty()) {
            lanes.push_back(std::make_unique<Lane>());
            lanes.back()->ws = net.make_workspace();
            return lanes.back().get();
        }
        Lane* lane = idle.back();
        idle.pop_back();
        return lane;
    }
    void release(Lane* lane) {
        std::lock_guard<std::mutex> lock(mutex);
        idle.push_back(lane);
    }
    // Holds a lane for one chunk; gives it back even when the forward throws.
    struct Hold {
        Lanes& lanes;
        Lane* lane;
        Hold(Lanes& l, const Network& net) : lanes(l), lane(l.acquire(net)) {}
        ~Hold() { lanes.release(lane); }
        Hold(const Hold&) = delete;
        Hold& operator=(const Hold&) = delete;
    };
};

Network::ChunkedWorkspace::ChunkedWorkspace() : lanes_(std::make_unique<Lanes>()) {}
Network::ChunkedWorkspace::~ChunkedWorkspace() = default;
Network::ChunkedWorkspace::ChunkedWorkspace(ChunkedWorkspace&&) noexcept = default;
Network::ChunkedWorkspace& Network::ChunkedWorkspace::operator=(ChunkedWorkspace&&) noexcept = default;

Network::ChunkedWorkspace Network::make_chunked_workspace() const {
    ChunkedWorkspace ws;
    ws.lanes_->network = this;
    return ws;
}

namespace {

// Chunks of forward_chunked() for n samples: enough that none exceeds max_chunk samples, and
// at least min_chunks (when every chunk can keep >= 2 samples) so that the threads share a
// small batch evenly. A function of n and max_chunk only: the thread count never changes it.
constexpr std::size_t min_chunks = 8;

std::size_t chunk_count(std::size_t n, std::size_t max_chunk) {
    const std::size_t by_size = (n + max_chunk - 1) / max_chunk;
    const std::size_t for_balance = std::min(min_chunks, n / 2);
    return std::max<std::size_t>({1, by_size, for_balance});
}

}  // namespace

const Tensor& Network::forward_chunked(const Tensor& input, ChunkedWorkspace& ws, std::size_t max_chunk_samples) const {
    using Lanes = ChunkedWorkspace::Lanes;
    // A moved-from workspace, or one made for another network: start afresh.
    if (!ws.lanes_ || ws.lanes_->network != this) {
        ws.lanes_ = std::make_unique<Lanes>();
        ws.lanes_->network = this;
    }
    Lanes& lanes = *ws.lanes_;
    check_input(input);
    const RunContext ctx{Mode::inference};
    const std::size_t n = input.shape().batch();
    // A chunk's activations within the per-sample bound: 8 images of a network near it held
    // 8 GiB per running chunk.
    const std::size_t fitting = std::max<std::size_t>(1, limits::max_activation_elements / std::max<std::size_t>(activation_elements_, 1));
    const std::size_t chunks =
        input.packed() ? 1
                       : chunk_count(n, std::min(max_chunk_samples == 0 ? default_chunk_samples : max_chunk_samples, fitting));
    if (chunks == 1) {
        // One chunk is the plain forward, with the layers' own parallelism.
        const Lanes::Hold hold(lanes, *this);
        return forward(input, hold.lane->ws, ctx);
    }

    const Shape out_shape = output_shape(n);
    ws.output_.resize(out_shape);
    ws.output_.spans.clear();
    const std::size_t in_per_sample = input.shape().per_sample();
    const std::size_t out_per_sample = out_shape.per_sample();
    float* output = ws.output_.data();
    detail::BlasSingleThreadScope single_thread_blas;
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, chunks, 1), [&](const tbb::blocked_range<std::size_t>& r) {
        for (std::size_t c = r.begin(); c != r.end(); ++c) {
            const std::size_t first = c * n / chunks;
            const std::size_t count = (c + 1) * n / chunks - first;
            const Lanes::Hold hold(lanes, *this);
            Lanes::Lane* lane = hold.lane;
            lane->arena.execute([&] {
                lane->input.resize(input.shape().with_batch(count));
                std::memcpy(lane->input.data(), input.sample(first), count * in_per_sample * sizeof(float));
                const Tensor& out = forward(lane->input, lane->ws, ctx);
                std::memcpy(output + first * out_per_sample, out.data(), count * out_per_sample * sizeof(float));
            });
        }
    });
    return ws.output_;
}

namespace {

// std::fill_n(p, n, 0) split over the threads when n is large.
void zero_in_parallel(float* p, std::size_t n) {
    constexpr std::size_t grain = std::size_t{1} << 15;  // 128 KiB
    if (n <= 2 * grain) {
        std::fill_n(p, n, 0.0f);
        return;
    }
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n, grain),
                      [&](const tbb::blocked_range<std::size_t>& r) { std::fill(p + r.begin(), p + r.end(), 0.0f); });
}

}  // namespace

void Network::backward(const Tensor& input, const Tensor& d_output, Workspace& ws, const RunContext& ctx,
                       bool want_input_gradient) const {
    if (ws.states.size() != layers_.size() || ws.d_activations.size() != layers_.size())
        throw ConfigError("network: the workspace was made for another network");
    const Tensor& logits = ws.activations.back();
    if (d_output.shape() != logits.shape())
        throw ShapeError(layers_.back()->label() + ": output gradient shape " + d_output.shape().str() +
                         " differs from the output shape " + logits.shape().str());
    // Layers before the first trainable one need no backward pass unless the caller wants the
    // input gradient (a static embedding, fixed filters).
    const std::size_t stop = want_input_gradient ? 0 : first_trainable_;
    RunContext c = ctx;
    for (std::size_t i = layers_.size(); i-- > stop;) {
        c.layer_index = static_cast<std::uint32_t>(i);
        const Tensor& in = i == 0 ? input : ws.activations[i - 1];
        const Tensor& d_out = i + 1 == layers_.size() ? d_output : ws.d_activations[i];
        Tensor* d_in = nullptr;
        if (i == 0) {
            if (want_input_gradient) d_in = &ws.d_input;
        } else if (want_input_gradient || i > first_trainable_) {
            d_in = &ws.d_activations[i - 1];
        }
        if (d_in) {
            // Input gradients are accumulated by the layers (layer.h), so start from zero, on
            // every thread: the embedding's gradient (positions x 300) zeroed on one thread was
            // 2 % of a 2-thread Kim CNN training step while the other waited.
            d_in->resize(in.shape(), false);
            zero_in_parallel(d_in->data(), d_in->size());
            d_in->spans.assign(in.spans.begin(), in.spans.end());
        }
        layers_[i]->backward(in, ws.activations[i], d_out, d_in, *ws.states[i], c);
    }
}

std::vector<LayerSummary> Network::summary() const {
    std::vector<LayerSummary> rows;
    for (std::size_t i = 0; i < layers_.size(); ++i) {
        const Layer& layer = *layers_[i];
        const Shape out = i + 1 < layers_.size() ? input_shapes_[i + 1] : output_shape_;
        rows.push_back({0, layer.label(), layer.spec().type, layer.details(), out.with_batch(0),
                        parameter_total(layer)});
        add_children(layer, input_shapes_[i], 1, rows);
    }
    return rows;
}

std::string Network::summary_table(Weights weights) const {
    const auto rows = summary();
    std::vector<std::string> names, shapes, counts;
    std::size_t name_w = std::string("Layer (type)").size(), shape_w = std::string("Output Shape").size(),
                count_w = std::string("Param #").size(), details_w = 0;
    for (const auto& r : rows) {
        names.push_back(std::string(2 * r.depth, ' ') + r.label);
        shapes.push_back(shape_text(r.output_shape));
        counts.push_back(with_thousands_separators(r.parameters));
        name_w = std::max(name_w, names.back().size());
        shape_w = std::max(shape_w, shapes.back().size());
        count_w = std::max(count_w, counts.back().size());
        details_w = std::max(details_w, r.details.size());
    }
    const std::size_t width = 1 + name_w + 3 + shape_w + 3 + count_w + 3 + std::max<std::size_t>(details_w, 7);
    std::string out;
    const std::string thin(width, '_'), thick(width, '=');
    auto line = [&](const std::string& a, const std::string& b, const std::string& c, const std::string& d) {
        std::string s = fmt::format(" {:<{}}   {:<{}}   {:>{}}   {}", a, name_w, b, shape_w, c, count_w, d);
        while (!s.empty() && s.back() == ' ') s.pop_back();
        out += s + "\n";
    };
    out += thin + "\n";
    line("Layer (type)", "Output Shape", "Param #", "Details");
    out += thick + "\n";
    for (std::size_t i = 0; i < rows.size(); ++i) line(names[i], shapes[i], counts[i], rows[i].details);
    out += thick + "\n";
    const std::size_t total = parameter_count(), trainable = trainable_parameter_count();
    if (weights == Weights::not_stored) {
        out += "Params of the architecture: " + with_thousands_separators(total) + " (" +
               bytes_text(total * sizeof(float)) + " as floats; not stored in this model)\n";
        out += thin + "\n";
        return out;
    }
    out += "Total params: " + with_thousands_separators(total) + " (" + bytes_text(total * sizeof(float)) + ")\n";
    out += "Trainable params: " + with_thousands_separators(trainable) + " (" + bytes_text(trainable * sizeof(float)) + ")\n";
    out += "Non-trainable params: " + with_thousands_separators(total - trainable) + " (" +
           bytes_text((total - trainable) * sizeof(float)) + ")\n";
    out += thin + "\n";
    return out;
}

}  // namespace textcnn

namespace textcnn {

std::optional<std::string> unusable_parameter(const Network& net) {
    const auto values = net.parameters();
    const auto bad = std::find_if(values.begin(), values.end(),
                                  [](float v) { return !(std::fabs(v) <= max_usable_parameter); });  // NaN too
    if (bad == values.end()) return std::nullopt;
    const auto index = static_cast<std::size_t>(bad - values.begin());
    const std::string value = std::isnan(*bad) ? "NaN" : std::isinf(*bad) ? (*bad > 0 ? "inf" : "-inf") : fmt::format("{:g}", *bad);
    for (const ParameterGroup& g : net.groups())
        if (index >= g.offset && index < g.offset + g.info.size())
            return fmt::format("parameter {} of '{}' in {} is {}", index - g.offset, g.info.name, g.layer_label, value);
    return fmt::format("parameter {} is {}", index, value);
}

}  // namespace textcnn
