// What fit() needs around a library training run: the run goes on without the GIL, and after
// every batch (the library's progress callback, on the thread that called fit()) the hooks take
// the GIL back to hand progress and epoch summaries to Python callables and to run Python's
// signal handlers (PyErr_CheckSignals). A Python exception from either (KeyboardInterrupt from
// Ctrl-C, or one raised by a callback) sets the run's stop flag, so the library stops after
// the current batch; rethrow_if_failed() then raises it in the caller.
#pragma once

#include "textcnn/nn/training_settings.h"

#include <pybind11/pybind11.h>

#include <atomic>
#include <functional>
#include <optional>
#include <string>

namespace textcnn_python {

namespace py = pybind11;

/// Python callables for a run; each may be None. Use from the thread that calls fit() only.
class TrainingHooks {
public:
    /// progress(dict) after every batch, epoch_end(dict) after every epoch, message(str) for
    /// the library's one-off messages, warning(str) for its warnings about the data.
    TrainingHooks(py::object progress, py::object epoch_end, py::object message, py::object warning);
    ~TrainingHooks();
    TrainingHooks(const TrainingHooks&) = delete;
    TrainingHooks& operator=(const TrainingHooks&) = delete;

    /// Library callbacks that call the Python ones with the GIL held; the progress callback
    /// checks for signals too, even when `progress` is None.
    std::function<void(const textcnn::TrainingProgress&)> on_progress();
    std::function<void(const textcnn::EpochSummary&)> on_epoch_end();
    /// Null when the Python callable is None.
    std::function<void(const std::string&)> on_message();
    std::function<void(const std::string&)> on_warning();
    /// The flag the run checks after every batch.
    const std::atomic<bool>* stop_flag() const { return &stop_; }

    /// With the GIL held: raises the Python exception that stopped the run, if any.
    void rethrow_if_failed();

private:
    /// Runs `call` with the GIL held (nothing once a call has failed); a Python exception is
    /// kept and stops the run.
    void with_python(const std::function<void()>& call);

    py::object progress_, epoch_end_, message_, warning_;
    std::atomic<bool> stop_{false};
    std::optional<py::error_already_set> error_;
};

/// The fields of a progress report / epoch summary as a dict (the names of training_settings.h).
py::dict to_dict(const textcnn::TrainingProgress& progress);
py::dict to_dict(const textcnn::EpochSummary& summary);
/// "completed", "early_stopped" or "interrupted".
const char* stop_reason_name(textcnn::StopReason reason);

}  // namespace textcnn_python
