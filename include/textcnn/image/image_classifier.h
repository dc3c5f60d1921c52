// ImageClassifier: an image CNN with its class names and input shape, in one object and one
// model file, and prediction from pixels in memory or from image files:
//
//     auto model = textcnn::ImageClassifier::load("fm.model");
//     std::vector<std::uint8_t> pixels = ...;  // 28 x 28 x 1, row after row
//     auto p = model.predict(textcnn::ImageBatch(pixels, {1, 28, 28, 1}));
//     std::cout << model.labels()[p[0].label] << ' ' << p[0].probabilities[p[0].label] << '\n';
//
// Pixels go into the network scaled to [0, 1] (value / 255), as in training; images are not
// resized. The model file is the one `imagecnn train` writes (sections ARCH, WGHT and IMGM,
// model_file.h); files written by earlier versions keep loading.
//
// Thread safety: predict(), predict_files() and the other const members may be called from any
// number of threads at once on one classifier; each call keeps its scratch to itself.
//
// This header needs only the standard library (no Armadillo, oneTBB or ICU): the network lives
// behind a pointer. network() gives the backend's Network (network.h) to those who want it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace textcnn {

class Network;

/// The shape of images in memory, in this order: count x height x width x channels. The
/// pixels are row-major with the channels innermost: pixel (y, x) channel c of image n is
/// value [((n * height + y) * width + x) * channels + c], as PNG and JPEG decoders give them.
struct ImageShape {
    std::size_t count = 0;
    std::size_t height = 0;
    std::size_t width = 0;
    std::size_t channels = 1;

    /// count * height * width * channels.
    std::size_t values() const { return count * height * width * channels; }
    bool operator==(const ImageShape&) const = default;
};

/// A view of images in memory (see ImageShape for the order); the pixels are not copied, so
/// they must stay alive and unchanged while the view is used.
class ImageBatch {
public:
    /// 8-bit pixels, 0..255. ShapeError when pixels.size() != shape.values() (or that product
    /// overflows), or when the height, width or channels are 0.
    ImageBatch(std::span<const std::uint8_t> pixels, ImageShape shape);
    /// Pixels already scaled to [0, 1] (value / 255, what the IDX reader gives). The same
    /// ShapeErrors (and one when count x height x width x channels overflows); InputError
    /// naming the first value that is NaN or outside [0, 1]. Reads every value once.
    ImageBatch(std::span<const float> pixels, ImageShape shape);

    const ImageShape& shape() const { return shape_; }
    /// Writes images [first, first + count) as floats in [0, 1] to `out` (count * height *
    /// width * channels values). Requires first + count <= shape().count.
    void copy_scaled(std::size_t first, std::size_t count, float* out) const;

private:
    const std::uint8_t* bytes_ = nullptr;
    const float* floats_ = nullptr;
    bool is_float_ = false;
    ImageShape shape_;
};

struct ImagePrediction {
    std::uint32_t label = 0;           ///< index into ImageClassifier::labels(); arg-max, first on ties
    std::vector<float> probabilities;  ///< softmax, one per label in label order, in [0, 1], summing to 1
};

/// One image of ImageClassifier::predict_files().
struct NamedImagePrediction {
    std::string name;  ///< the file, or "FILE#INDEX" (0-based) for an image of an IDX file
    ImagePrediction prediction;
};

class ImageClassifier {
public:
    ImageClassifier(ImageClassifier&&) noexcept;
    ImageClassifier& operator=(ImageClassifier&&) noexcept;
    ~ImageClassifier();

    /// Reads a model file written by save() or by `imagecnn train`. InputError naming the file
    /// for anything missing, corrupt, foreign (a text model) or too new; IoError when it cannot
    /// be read.
    static ImageClassifier load(const std::string& path);
    /// Writes the model file atomically (temporary file + rename); IoError on failure.
    void save(const std::string& path) const;

    /// Class names; a prediction's label indexes them.
    const std::vector<std::string>& labels() const;
    /// The shape of one input image (count 1).
    ImageShape input_shape() const;
    /// The built-in architecture name or the architecture file the network was built from.
    const std::string& architecture() const;
    /// Facts about the training saved with the model (a JSON object as text, "{}" when none):
    /// data, epochs, seed, accuracies... `imagecnn summary` shows them.
    const std::string& training_facts() const;
    /// ConfigError when `json_object` is not the text of a JSON object.
    void set_training_facts(const std::string& json_object);

    /// Images per forward pass when none is given: it bounds the memory of one call, not the
    /// speed (each pass runs in parallel chunks of a few images).
    static constexpr std::size_t default_batch_size = 1000;
    /// Label and probabilities of every image, out[i] for image i. Images of another height,
    /// width or channel count than input_shape() are a ShapeError naming both shapes;
    /// batch_size 0 is a ConfigError. Thread-safe.
    std::vector<ImagePrediction> predict(const ImageBatch& images, std::size_t batch_size = default_batch_size) const;
    /// The pixel budget of predict_files(): 2^26 (8192 x 8192), image_io.h's default.
    static constexpr std::size_t default_max_pixels = std::size_t{1} << 26;
    /// The same for image files: an IDX image file gives one prediction per image (named
    /// FILE#INDEX), a PNG, JPEG or PGM/PPM file one (colour converted to grey for a
    /// one-channel model, grey replicated for a three-channel one, image_io.h), in the order of
    /// `paths`. InputError naming the file for an image of the wrong size, an IDX label file or
    /// a corrupt file, and for a PNG, JPEG or PGM/PPM of more than `max_pixels` pixels (checked
    /// from its header, before decoding: image_io.h); IoError when one cannot be read.
    /// Thread-safe.
    std::vector<NamedImagePrediction> predict_files(std::span<const std::string> paths,
                                                    std::size_t batch_size = default_batch_size,
                                                    std::size_t max_pixels = default_max_pixels) const;

    /// Total number of parameters (weights and biases).
    std::size_t parameter_count() const;
    /// The Keras-like table of layers, output shapes and parameter counts (Network::summary_table).
    std::string summary() const;
    /// The backend network (network.h), e.g. to train it further.
    const Network& network() const;
    Network& network();

private:
    struct Impl;
    explicit ImageClassifier(std::unique_ptr<Impl> impl);
    friend class ImageTrainingRun;
    std::unique_ptr<Impl> impl_;
};

}  // namespace textcnn
