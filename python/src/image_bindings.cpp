// textcnn.ImageClassifier (load, predict, predict_proba, labels, save) over NumPy arrays, and the
// training entry point behind textcnn.ImageCNNClassifier.fit(): ImageTrainingRun with its
// settings from the hyperparameter table below. Prediction and training run without the GIL.
#include "bindings.h"
#include "hyperparameters.h"
#include "training_hooks.h"

#include "textcnn/core/error.h"
#include "textcnn/core/runtime.h"
#include "textcnn/image/image_classifier.h"
#include "textcnn/image/image_training.h"

#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace textcnn_python {
namespace {

using textcnn::ImageBatch;
using textcnn::ImageClassifier;
using textcnn::ImageShape;
using textcnn::ImageTrainingOptions;

/// What ImageCNNClassifier's keyword arguments set: the library's training options, and the
/// thread count of the run.
struct ImageFit {
    ImageTrainingOptions options;
    std::size_t threads = 0;
};

const std::vector<Hyperparameter<ImageFit>>& image_hyperparameters() {
    static const std::vector<Hyperparameter<ImageFit>> table = [] {
        const auto o = &ImageFit::options;
        std::vector<Hyperparameter<ImageFit>> t{
            field<ImageFit>("architecture", "built-in architecture: cnn_1, cnn_1_with_pooling, cnn_2, cnn_fashion", o,
                            &ImageTrainingOptions::architecture),
            field<ImageFit>("architecture_file", "an architecture JSON file used instead of `architecture` ('' = none)",
                            o, &ImageTrainingOptions::architecture_file),
            field<ImageFit>("initializer",
                            "glorot_uniform | he_uniform | torch; '' = the architecture's own, else glorot_uniform", o,
                            &ImageTrainingOptions::initializer),
            field<ImageFit>("validation_split",
                            "share of the images held out to pick the best epoch: the LAST ones, as in Keras", o,
                            &ImageTrainingOptions::validation_split),
        };
        for (auto& row : trainer_hyperparameters<ImageFit>(o, &ImageTrainingOptions::trainer))
            t.push_back(std::move(row));
        t.push_back(field<ImageFit>("threads", "threads for training (0 = all cores)", &ImageFit::threads));
        return t;
    }();
    return table;
}

/// Images from Python as the library's view: a C-contiguous N x H x W (one channel) or
/// N x H x W x C array of uint8 (0..255) or floats (already scaled to [0, 1]; converted to
/// float32). The array is kept alive with the view.
class ImageArray {
public:
    explicit ImageArray(py::handle images) {
        py::array any = py::array::ensure(images);
        if (!any) throw py::type_error("images: expected a NumPy array (N x H x W or N x H x W x C)");
        if (any.ndim() != 3 && any.ndim() != 4)
            throw textcnn::ShapeError("images: expected N x H x W or N x H x W x C, got an array of " +
                                      std::to_string(any.ndim()) + " dimensions");
        shape_ = {static_cast<std::size_t>(any.shape(0)), static_cast<std::size_t>(any.shape(1)),
                  static_cast<std::size_t>(any.shape(2)),
                  any.ndim() == 4 ? static_cast<std::size_t>(any.shape(3)) : std::size_t{1}};
        const char kind = any.dtype().kind();
        if (kind == 'u' && any.itemsize() == 1) {
            is_float_ = false;
            bytes_ = py::array_t<std::uint8_t, py::array::c_style | py::array::forcecast>::ensure(any);
        } else if (kind == 'f') {
            is_float_ = true;
            floats_ = py::array_t<float, py::array::c_style | py::array::forcecast>::ensure(any);
            check_scaled(std::span<const float>(floats_.data(), shape_.values()));
        } else {
            throw py::type_error("images: dtype " + py::str(any.dtype()).cast<std::string>() +
                                 " is neither uint8 (0..255) nor float (0..1)");
        }
    }

    ImageBatch batch() const {
        if (!is_float_) return ImageBatch(std::span<const std::uint8_t>(bytes_.data(), shape_.values()), shape_);
        return ImageBatch(std::span<const float>(floats_.data(), shape_.values()), shape_);
    }
    const ImageShape& shape() const { return shape_; }

private:
    static void check_scaled(std::span<const float> values) {
        for (std::size_t i = 0; i < values.size(); ++i)
            if (!(values[i] >= 0.0f && values[i] <= 1.0f))
                throw textcnn::InputError("images: float pixels must be in [0, 1] (value / 255); value " +
                                          std::to_string(i) + " (flat index) is " + std::to_string(values[i]));
    }

    bool is_float_ = false;
    // One of the two holds the pixels (an unused one is an empty array, not a null one).
    py::array_t<std::uint8_t, py::array::c_style | py::array::forcecast> bytes_;
    py::array_t<float, py::array::c_style | py::array::forcecast> floats_;
    ImageShape shape_;
};

std::vector<textcnn::ImagePrediction> predict_without_gil(const ImageClassifier& model, const ImageArray& images) {
    const ImageBatch batch = images.batch();
    py::gil_scoped_release release;
    return model.predict(batch);
}

py::list predict_labels(const ImageClassifier& model, py::handle images) {
    const auto predictions = predict_without_gil(model, ImageArray(images));
    return predicted_labels(predictions, model.labels());
}

py::array_t<float> predict_proba(const ImageClassifier& model, py::handle images) {
    return probabilities_array(predict_without_gil(model, ImageArray(images)), model.labels().size());
}

/// Trains a classifier on images labelled labels[i] (indices into class_names): what
/// ImageCNNClassifier.fit() calls.
py::tuple train_image(py::handle images, const std::vector<std::uint32_t>& labels,
                      std::vector<std::string> class_names, const py::dict& params, py::object progress,
                      py::object epoch_end) {
    const ImageArray pixels(images);
    ImageFit fit;
    fit.options.train_source = "fit() images";
    apply_hyperparameters(image_hyperparameters(), params, fit);
    fit.options.class_names = std::move(class_names);

    TrainingHooks hooks(std::move(progress), std::move(epoch_end), py::none(), py::none());
    textcnn::ImageTrainingCallbacks callbacks;
    callbacks.progress = hooks.on_progress();
    callbacks.epoch_end = hooks.on_epoch_end();
    callbacks.stop = hooks.stop_flag();
    std::optional<ImageClassifier> model;
    textcnn::TrainResult result;
    std::size_t train_count = 0, validation_count = 0;
    {
        py::gil_scoped_release release;
        textcnn::ThreadLimit threads(fit.threads);
        textcnn::ImageTrainingRun run(pixels.batch(), labels, fit.options, callbacks);
        train_count = run.train_count();
        validation_count = run.validation_count();
        result = run.run();
        model.emplace(std::move(run.classifier()));
    }
    hooks.rethrow_if_failed();
    py::dict facts = train_result_dict(result);
    facts["train_images"] = train_count;
    facts["validation_images"] = validation_count;
    return py::make_tuple(std::move(*model), facts);
}

}  // namespace

void bind_image(py::module_& m) {
    py::class_<ImageClassifier> cls(m, "ImageClassifier", R"doc(
A trained image classifier: an image CNN with its class names and input shape, from one model
file, as written by `imagecnn train` or ImageCNNClassifier.

Images are NumPy arrays of N x H x W (one channel) or N x H x W x C, uint8 (0..255) or float
(already scaled to [0, 1], value / 255); H, W and C must be the model's input_shape.
Thread-safe: predict() and predict_proba() may run in any number of Python threads at once;
they release the GIL while the library works.
)doc");
    def_load_save(cls, "image");
    cls.def_property_readonly("labels", &ImageClassifier::labels,
                               "The class names (list of str), in the order of predict_proba()'s columns.")
        .def_property_readonly(
            "input_shape",
            [](const ImageClassifier& c) {
                const ImageShape s = c.input_shape();
                return py::make_tuple(s.height, s.width, s.channels);
            },
            "(height, width, channels) of one image.")
        .def_property_readonly("architecture", &ImageClassifier::architecture,
                               "The built-in architecture name or file the network was built from.")
        .def("predict", &predict_labels, py::arg("images"),
             "The most probable class name (str) of each image. textcnn.ShapeError for images of another size.")
        .def("predict_proba", &predict_proba, py::arg("images"),
             "Softmax probabilities: a float32 array of N x len(labels), rows summing to 1.")
        .def("summary", &ImageClassifier::summary, "The layers, output shapes and parameter counts.")
        .def("__repr__", [](const ImageClassifier& c) {
            return "<textcnn.ImageClassifier " + c.architecture() + " with " + std::to_string(c.labels().size()) +
                   " labels>";
        });

    m.def("image_hyperparameters", [] { return describe_hyperparameters(image_hyperparameters()); },
          "(name, default, description) of every ImageCNNClassifier keyword argument, in the order fit() applies "
          "them.");
    m.def("train_image", &train_image, py::arg("images"), py::arg("labels"), py::arg("class_names"),
          py::arg("params"), py::arg("progress"), py::arg("epoch_end"),
          "Trains an ImageClassifier (ImageTrainingRun) on images (as for predict) labelled by labels (indices "
          "into class_names) with the keyword arguments in params; returns (classifier, facts). Ctrl-C (or an "
          "exception from a callable) stops the run after the current batch and is raised here.");
}

}  // namespace textcnn_python
