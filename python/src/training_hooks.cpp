#include "training_hooks.h"

#include <Python.h>

#include <utility>

namespace textcnn_python {

TrainingHooks::TrainingHooks(py::object progress, py::object epoch_end, py::object message, py::object warning)
    : progress_(std::move(progress)),
      epoch_end_(std::move(epoch_end)),
      message_(std::move(message)),
      warning_(std::move(warning)) {}

TrainingHooks::~TrainingHooks() {
    // The Python objects may be released on a thread without the GIL (an exception unwinding
    // through a gil_scoped_release): take it for them.
    py::gil_scoped_acquire gil;
    error_.reset();
    progress_ = epoch_end_ = message_ = warning_ = py::object();
}

void TrainingHooks::with_python(const std::function<void()>& call) {
    py::gil_scoped_acquire gil;
    if (error_) return;
    try {
        call();
    } catch (py::error_already_set& e) {
        error_.emplace(std::move(e));
        stop_ = true;
    }
}

std::function<void(const textcnn::TrainingProgress&)> TrainingHooks::on_progress() {
    return [this](const textcnn::TrainingProgress& p) {
        with_python([&] {
            if (!progress_.is_none()) progress_(to_dict(p));
            // Ctrl-C: Python's handler raises KeyboardInterrupt here, between two batches.
            if (PyErr_CheckSignals() != 0) throw py::error_already_set();
        });
    };
}

std::function<void(const textcnn::EpochSummary&)> TrainingHooks::on_epoch_end() {
    return [this](const textcnn::EpochSummary& e) {
        with_python([&] {
            if (!epoch_end_.is_none()) epoch_end_(to_dict(e));
        });
    };
}

std::function<void(const std::string&)> TrainingHooks::on_message() {
    if (message_.is_none()) return {};
    return [this](const std::string& m) { with_python([&] { message_(m); }); };
}

std::function<void(const std::string&)> TrainingHooks::on_warning() {
    if (warning_.is_none()) return {};
    return [this](const std::string& m) { with_python([&] { warning_(m); }); };
}

void TrainingHooks::rethrow_if_failed() {
    if (!error_) return;
    py::error_already_set error = std::move(*error_);
    error_.reset();
    throw error;
}

py::dict to_dict(const textcnn::TrainingProgress& p) {
    py::dict d;
    d["epoch"] = p.epoch;
    d["epochs"] = p.epochs;
    d["batch"] = p.batch;
    d["batches"] = p.batches;
    d["step"] = p.step;
    d["loss"] = p.loss;
    d["accuracy"] = p.accuracy;
    d["items_per_second"] = p.items_per_second;
    d["eta_seconds"] = p.eta_seconds;
    return d;
}

py::dict to_dict(const textcnn::EpochSummary& e) {
    py::dict d;
    d["epoch"] = e.epoch;
    d["epochs"] = e.epochs;
    d["train_loss"] = e.train_loss;
    d["train_accuracy"] = e.train_accuracy;
    d["has_validation"] = e.has_validation;
    d["validation_loss"] = e.validation_loss;
    d["validation_accuracy"] = e.validation_accuracy;
    d["improved"] = e.improved;
    d["best_epoch"] = e.best_epoch;
    d["best_accuracy"] = e.best_accuracy;
    d["seconds"] = e.seconds;
    d["items_per_second"] = e.items_per_second;
    d["learning_rate"] = e.learning_rate;
    return d;
}

const char* stop_reason_name(textcnn::StopReason reason) {
    switch (reason) {
        case textcnn::StopReason::completed: return "completed";
        case textcnn::StopReason::early_stopped: return "early_stopped";
        case textcnn::StopReason::interrupted: return "interrupted";
    }
    return "completed";
}

}  // namespace textcnn_python
