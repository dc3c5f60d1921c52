// textcnn._textcnn: the compiled half of the Python package `textcnn` (python/textcnn/ holds the
// pure-Python half: the scikit-learn estimators). Library exceptions become Python exceptions
// of the same names, all derived from textcnn.Error:
//   textcnn::Error       -> textcnn.Error       (Exception)
//   textcnn::ShapeError  -> textcnn.ShapeError  (Error, ValueError)
//   textcnn::ConfigError -> textcnn.ConfigError (Error, ValueError)
//   textcnn::InputError  -> textcnn.InputError  (Error, ValueError)
//   textcnn::IoError     -> textcnn.IoError     (Error, OSError)
#include "bindings.h"
#include "training_hooks.h"

#include "textcnn/core/error.h"
#include "textcnn/core/runtime.h"
#include "textcnn/version.h"

#include <pybind11/pybind11.h>

#include <exception>

namespace textcnn_python {

std::shared_mutex& model_mutex() {
    static std::shared_mutex mutex;
    return mutex;
}

std::string path_text(const py::object& path) {
    return py::module_::import("os").attr("fsdecode")(path).cast<std::string>();
}

namespace {

struct PythonErrors {
    PyObject* error = nullptr;
    PyObject* shape = nullptr;
    PyObject* config = nullptr;
    PyObject* input = nullptr;
    PyObject* io = nullptr;
};

/// The exception types live as long as the process (the module is never unloaded).
PythonErrors& python_errors() {
    static PythonErrors errors;
    return errors;
}

PyObject* add_exception(py::module_& m, const char* name, const char* doc, py::object bases) {
    const std::string qualified = std::string("textcnn.") + name;
    PyObject* type = PyErr_NewExceptionWithDoc(qualified.c_str(), doc, bases.ptr(), nullptr);
    if (!type) throw py::error_already_set();
    m.attr(name) = py::reinterpret_borrow<py::object>(type);
    return type;
}

void register_exceptions(py::module_& m) {
    PythonErrors& e = python_errors();
    e.error = add_exception(m, "Error", "Base of every textcnn exception (textcnn::Error).",
                            py::reinterpret_borrow<py::object>(PyExc_Exception));
    auto with = [&](PyObject* other) {
        return py::make_tuple(py::reinterpret_borrow<py::object>(e.error), py::reinterpret_borrow<py::object>(other));
    };
    e.shape = add_exception(m, "ShapeError",
                            "Tensors or images of the wrong shape; the message names the layer and both shapes.",
                            with(PyExc_ValueError));
    e.config = add_exception(m, "ConfigError",
                             "An invalid setting (a hyperparameter out of range, an unknown name).",
                             with(PyExc_ValueError));
    e.input = add_exception(m, "InputError",
                            "Bad input data: labels, texts, a corrupt or foreign model file (named in the message).",
                            with(PyExc_ValueError));
    e.io = add_exception(m, "IoError", "A file that cannot be opened, read or written.", with(PyExc_OSError));

    py::register_exception_translator([](std::exception_ptr pointer) {
        const PythonErrors& types = python_errors();
        try {
            if (pointer) std::rethrow_exception(pointer);
        } catch (const textcnn::ShapeError& x) {
            PyErr_SetString(types.shape, x.what());
        } catch (const textcnn::ConfigError& x) {
            PyErr_SetString(types.config, x.what());
        } catch (const textcnn::InputError& x) {
            PyErr_SetString(types.input, x.what());
        } catch (const textcnn::IoError& x) {
            PyErr_SetString(types.io, x.what());
        } catch (const textcnn::Error& x) {
            PyErr_SetString(types.error, x.what());
        }
    });
}

}  // namespace

py::dict train_result_dict(const textcnn::TrainResult& result) {
    py::dict d;
    d["reason"] = stop_reason_name(result.reason);
    d["epochs_completed"] = result.epochs_completed;
    d["best_epoch"] = result.best_epoch;
    d["best_accuracy"] = result.best_accuracy;
    py::list history;
    for (const auto& epoch : result.history) history.append(to_dict(epoch));
    d["history"] = history;
    return d;
}

}  // namespace textcnn_python

PYBIND11_MODULE(_textcnn, m) {
    m.doc() = "textcnn's compiled module: TextClassifier, ImageClassifier, training entry points, exceptions.";
    textcnn_python::register_exceptions(m);
    textcnn_python::bind_text(m);
    textcnn_python::bind_image(m);
    m.attr("__version__") = TEXTCNN_VERSION_STRING;
    m.def("build_info", &textcnn::build_info, "Versions of textcnn, OpenBLAS, ICU and oneTBB, and the cores.");
}
