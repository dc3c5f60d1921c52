// What the binding files share: their entry points (called by module.cpp) and the conversions
// of predictions and training results to Python objects.
#pragma once

#include "textcnn/nn/training_settings.h"

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <algorithm>
#include <cstddef>
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

/// Why a run stopped, its epochs and the per-epoch history, as a dict: reason,
/// epochs_completed, best_epoch, best_accuracy, history (list of epoch dicts).
py::dict train_result_dict(const textcnn::TrainResult& result);

}  // namespace textcnn_python
