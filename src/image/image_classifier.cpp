#include "textcnn/image/image_classifier.h"

#include "image/image_model.h"
#include "textcnn/core/checked.h"
#include "textcnn/core/error.h"
#include "textcnn/core/files.h"
#include "textcnn/image/idx.h"
#include "textcnn/image/image_io.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>

namespace textcnn {

static_assert(ImageClassifier::default_max_pixels == default_max_image_pixels, "one pixel budget");


namespace {

std::string shape_text(const ImageShape& s) {
    return fmt::format("{}x{}x{} (height x width x channels)", s.height, s.width, s.channels);
}

bool is_idx_images(const std::vector<std::uint8_t>& bytes) {
    return bytes.size() >= 4 && bytes[0] == 0 && bytes[1] == 0 && bytes[2] == 0x08 && bytes[3] == 0x03;
}

bool is_idx_labels(const std::vector<std::uint8_t>& bytes) {
    return bytes.size() >= 4 && bytes[0] == 0 && bytes[1] == 0 && bytes[2] == 0x08 && bytes[3] == 0x01;
}

// Every image of `paths` as one (N, C, H, W) tensor of the model's input shape, with a name each.
Tensor read_inputs(std::span<const std::string> paths, const Shape& want, std::vector<std::string>& names,
                   std::size_t max_pixels) {
    const std::size_t channels = want[1], height = want[2], width = want[3];
    std::vector<float> values;
    for (const auto& path : paths) {
        const std::string file = input_name(path);
        const auto bytes = read_file_maybe_gzip(path);
        if (is_idx_images(bytes)) {
            const Tensor idx = parse_idx_images(bytes, file);
            const auto& s = idx.shape();
            if (s[2] != height || s[3] != width || channels != 1)
                throw InputError(fmt::format("{}: images are {}x{}x1 (width x height x channels), the model expects "
                                             "{}x{}x{}",
                                             file, s[3], s[2], width, height, channels));
            values.insert(values.end(), idx.values().begin(), idx.values().end());
            for (std::size_t i = 0; i < s[0]; ++i) names.push_back(fmt::format("{}#{}", file, i));
            continue;
        }
        if (is_idx_labels(bytes))
            throw InputError(file + ": an IDX label file; predict takes images (eval takes images and labels)");
        const Image image = decode_image(bytes, file, channels, max_pixels);
        if (image.width != width || image.height != height)
            throw InputError(fmt::format("{}: image is {}x{} (width x height), the model expects {}x{}; resize it first",
                                         file, image.width, image.height, width, height));
        const Tensor tensor = image_to_tensor(image);
        values.insert(values.end(), tensor.values().begin(), tensor.values().end());
        names.push_back(file);
    }
    const std::size_t count = values.size() / want.per_sample();
    return Tensor(want.with_batch(count), std::move(values));
}

std::vector<ImagePrediction> predictions_of(const Tensor& probabilities) {
    const std::vector<std::uint32_t> best = argmax_rows(probabilities);
    const std::size_t classes = probabilities.shape().per_sample();
    std::vector<ImagePrediction> out(best.size());
    for (std::size_t i = 0; i < best.size(); ++i) {
        out[i].label = best[i];
        out[i].probabilities.assign(probabilities.sample(i), probabilities.sample(i) + classes);
    }
    return out;
}

void check_pixels(const ImageShape& shape, std::size_t size) {
    if (shape.height == 0 || shape.width == 0 || shape.channels == 0)
        throw ShapeError("images of " + shape_text(shape) + ": height, width and channels must be positive");
    // The product, checked: a count of 2^60 + 1 wrapped it around to a batch's real size.
    const std::string what = "images of " + shape_text(shape);
    checked_mul(checked_mul(checked_mul(shape.count, shape.height, what), shape.width, what), shape.channels, what);
    if (size != shape.values())
        throw ShapeError(fmt::format("{} images of {} are {} pixel values, not {}", shape.count, shape_text(shape),
                                     shape.values(), size));
}

void check_batch_size(std::size_t batch_size) {
    if (batch_size == 0) throw ConfigError("image prediction: the batch size must be at least 1");
}

}  // namespace

ImageBatch::ImageBatch(std::span<const std::uint8_t> pixels, ImageShape shape) : bytes_(pixels.data()), shape_(shape) {
    check_pixels(shape, pixels.size());
}

ImageBatch::ImageBatch(std::span<const float> pixels, ImageShape shape)
    : floats_(pixels.data()), is_float_(true), shape_(shape) {
    check_pixels(shape, pixels.size());
    // As the Python binding's: NaN, infinite or out-of-range pixels gave answers, unsaid.
    const auto bad = std::find_if(pixels.begin(), pixels.end(), [](float v) { return !(v >= 0.0f && v <= 1.0f); });
    if (bad != pixels.end())
        throw InputError(fmt::format("images: float pixels must be in [0, 1] (value / 255); value {} (flat index) is {}",
                                     bad - pixels.begin(), *bad));
}

void ImageBatch::copy_scaled(std::size_t first, std::size_t count, float* out) const {
    const std::size_t per = shape_.height * shape_.width * shape_.channels;
    if (is_float_) {
        std::copy_n(floats_ + first * per, count * per, out);
        return;
    }
    const std::uint8_t* in = bytes_ + first * per;
    for (std::size_t i = 0; i < count * per; ++i) out[i] = static_cast<float>(in[i]) / 255.0f;
}

ImageClassifier::ImageClassifier(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ImageClassifier::ImageClassifier(ImageClassifier&&) noexcept = default;
ImageClassifier& ImageClassifier::operator=(ImageClassifier&&) noexcept = default;
ImageClassifier::~ImageClassifier() = default;

ImageClassifier ImageClassifier::load(const std::string& path) {
    return ImageClassifier(std::make_unique<Impl>(Impl{load_image_model(path)}));
}

void ImageClassifier::save(const std::string& path) const { save_image_model(path, impl_->model); }

const std::vector<std::string>& ImageClassifier::labels() const { return impl_->model.labels; }

ImageShape ImageClassifier::input_shape() const {
    const Shape& s = impl_->model.input_shape();
    return ImageShape{1, s[2], s[3], s[1]};
}

const std::string& ImageClassifier::architecture() const { return impl_->model.architecture; }

const std::string& ImageClassifier::training_facts() const { return impl_->model.training_json; }

void ImageClassifier::set_training_facts(const std::string& json_object) {
    nlohmann::ordered_json facts;
    if (json_nesting_depth(json_object) > max_json_nesting)
        throw ConfigError("training facts: nested deeper than " + std::to_string(max_json_nesting) + " levels");
    try {
        facts = nlohmann::ordered_json::parse(json_object);
    } catch (const nlohmann::json::exception& e) {
        throw ConfigError(std::string("training facts: not JSON: ") + e.what());
    }
    if (!facts.is_object()) throw ConfigError("training facts: a JSON object is needed, got " + json_object);
    impl_->model.training_json = facts.dump();
}

std::vector<ImagePrediction> ImageClassifier::predict(const ImageBatch& images, std::size_t batch_size) const {
    check_batch_size(batch_size);
    const ImageShape want = input_shape(), have = images.shape();
    if (have.height != want.height || have.width != want.width || have.channels != want.channels)
        throw ShapeError("images of " + shape_text(have) + " but the model expects " + shape_text(want));
    if (have.count == 0) return {};
    const Network& net = impl_->model.network;
    const std::size_t classes = labels().size();
    Tensor probabilities(Shape{have.count, classes});
    // Copied (and scaled) batch_size images at a time: that bounds the memory of a call.
    Tensor batch;
    for (std::size_t first = 0; first < have.count; first += batch_size) {
        const std::size_t count = std::min(batch_size, have.count - first);
        batch.resize(net.sample_shape().with_batch(count));
        images.copy_scaled(first, count, batch.data());
        const Tensor part = predict_probabilities(net, batch, count);
        std::copy_n(part.data(), count * classes, probabilities.sample(first));
    }
    return predictions_of(probabilities);
}

std::vector<NamedImagePrediction> ImageClassifier::predict_files(std::span<const std::string> paths,
                                                                 std::size_t batch_size, std::size_t max_pixels) const {
    check_batch_size(batch_size);
    std::vector<std::string> names;
    const Tensor images = read_inputs(paths, impl_->model.input_shape(), names, max_pixels);
    std::vector<ImagePrediction> predictions =
        predictions_of(predict_probabilities(impl_->model.network, images, batch_size));
    std::vector<NamedImagePrediction> out(names.size());
    for (std::size_t i = 0; i < names.size(); ++i) out[i] = {std::move(names[i]), std::move(predictions[i])};
    return out;
}

std::size_t ImageClassifier::parameter_count() const { return impl_->model.network.parameter_count(); }

std::string ImageClassifier::summary() const { return impl_->model.network.summary_table(); }

const Network& ImageClassifier::network() const { return impl_->model.network; }

Network& ImageClassifier::network() { return impl_->model.network; }

}  // namespace textcnn
