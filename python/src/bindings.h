// What the binding files share: their entry points (called by module.cpp) and the conversions
// of predictions and training results to Python objects.
#pragma once

#include "textcnn/nn/training_settings.h"

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <algorithm>
#include <cstddef>
#include <shared_mutex>
#include <string>
#include <vector>

namespace textcnn_python {

namespace py = pybind11;

/// textcnn.TextClassifier, text_hyperparameters(), train_text() (text_bindings.cpp).
void bind_text(py::module_& m);
/// textcnn.ImageClassifier, image_hyperparameters(), train_image() (image_bindings.cpp).
void bind_image(py::module_& m);

/// The probabilities of `predictions` (TextPrediction or ImagePrediction, each with `labels`
/// probabilities) as a float32 array of predictions x labels.
template <class Prediction>
py::array_t<float> probabilities_array(const std::vector<Prediction>& predictions, std::size_t labels) {
    py::array_t<float> out({predictions.size(), labels});
    float* data = out.mutable_data();
    for (const auto& p : predictions) data = std::copy(p.probabilities.begin(), p.probabilities.end(), data);
    return out;
}

/// The predicted label (the names in `labels`) of every prediction, as a list of str.
template <class Prediction>
py::list predicted_labels(const std::vector<Prediction>& predictions, const std::vector<std::string>& labels) {
    py::list out;
    for (const auto& p : predictions) out.append(labels[p.label]);
    return out;
}

/// Guards loaded models against TextClassifier.quantize(), the one call that changes one: the
/// calls that read a model without the GIL (predict, predict_proba, save) hold it shared, and
/// quantize() holds it exclusively and keeps the GIL, so the calls made under the GIL (labels,
/// summary, ...) cannot run beside it either. One lock for every model: a quantize() holds up
/// other models' predictions while it runs (a second or so for a large vocabulary).
std::shared_mutex& model_mutex();

/// A path argument as the library takes it: str, bytes or os.PathLike (pathlib.Path), through
/// os.fsdecode.
std::string path_text(const py::object& path);

/// load(path) and save(path) of a classifier class (TextClassifier, ImageClassifier), both
/// without the GIL; `kind` ("text", "image") names the model files it reads.
template <class Classifier>
void def_load_save(py::class_<Classifier>& cls, const std::string& kind) {
    const std::string load_doc = "Reads a model file (path: str or os.PathLike). Raises textcnn.IoError when it "
                                 "cannot be read, textcnn.InputError when it is not a " + kind + " model or is corrupt.";
    cls.def_static(
           "load",
           [](const py::object& path) {
               const std::string p = path_text(path);
               py::gil_scoped_release release;
               return Classifier::load(p);
           },
           py::arg("path"), load_doc.c_str())
        .def(
            "save",
            [](const Classifier& c, const py::object& path) {
                const std::string p = path_text(path);
                py::gil_scoped_release release;
                const std::shared_lock lock(model_mutex());
                c.save(p);
            },
            py::arg("path"),
            "Writes the model file atomically (path: str or os.PathLike). Raises textcnn.IoError when it cannot be "
            "written.");
}

/// Why a run stopped, its epochs and the per-epoch history, as a dict: reason,
/// epochs_completed, best_epoch, best_accuracy, history (list of epoch dicts).
py::dict train_result_dict(const textcnn::TrainResult& result);

}  // namespace textcnn_python
