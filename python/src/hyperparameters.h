// Keyword arguments of the Python estimators as a table over the library's settings structs:
// each row names one argument, says what it means, gives its default (read from the library's
// default settings, so the two never drift apart) and writes a Python value into the struct.
// TextCNNClassifier / ImageCNNClassifier build their __init__ signature, get_params() and
// docstring from these tables (textcnn/_estimators.py); fit() applies them in table order.
#pragma once

#include "textcnn/nn/training_settings.h"

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace textcnn_python {

namespace py = pybind11;

/// One keyword argument of fit() over the settings struct S.
template <class S>
struct Hyperparameter {
    std::string name;
    std::string doc;
    /// The value that stands for `settings` (the default when given default settings).
    std::function<py::object(const S& settings)> get;
    /// Writes `value` into the settings. Throws TypeError (py::type_error) for a value of the
    /// wrong type; the library checks ranges and names when the run starts (ConfigError).
    std::function<void(S& settings, py::handle value)> set;
};

/// "a non-negative int", "a number"...: what a type error says was expected.
template <class T>
const char* expected_kind() {
    if constexpr (std::is_same_v<T, bool>) return "a bool";
    else if constexpr (std::is_integral_v<T>) return "a non-negative int";
    else if constexpr (std::is_floating_point_v<T>) return "a number";
    else if constexpr (std::is_same_v<T, std::string>) return "a str";
    else return "a sequence of non-negative ints";
}

/// `value` as T; TypeError naming the hyperparameter otherwise.
template <class T>
T from_python(py::handle value, const std::string& name) {
    try {
        // True is an int to Python (and to pybind11): ensemble=True would train one network.
        if constexpr (!std::is_same_v<T, bool>)
            if (PyBool_Check(value.ptr())) throw py::cast_error();
        return value.cast<T>();
    } catch (const py::cast_error&) {
        throw py::type_error("hyperparameter '" + name + "' takes " + expected_kind<T>() + ", not " +
                             py::repr(value).cast<std::string>());
    }
}

/// Settings values as Python values; lists become tuples (immutable defaults in a signature),
/// floats the shortest decimal that reads back to the same float (0.9, not 0.8999999761581421).
template <class T>
py::object to_python(const T& value) {
    if constexpr (std::is_same_v<T, std::vector<std::size_t>>) {
        return py::tuple(py::cast(value));
    } else if constexpr (std::is_same_v<T, float>) {
        char text[32];
        std::snprintf(text, sizeof text, "%.9g", static_cast<double>(value));
        for (int digits = 1; digits < 9; ++digits) {
            std::snprintf(text, sizeof text, "%.*g", digits, static_cast<double>(value));
            if (std::strtof(text, nullptr) == value) break;
        }
        return py::float_(std::strtod(text, nullptr));
    } else {
        return py::cast(value);
    }
}

/// A row for the member reached from S through `path` (a chain of member pointers, e.g.
/// &TextFit::options, &TextTrainingOptions::trainer, &TrainerSettings::epochs).
template <class S, class... Path>
Hyperparameter<S> field(std::string name, std::string doc, Path... path) {
    using T = std::remove_cvref_t<decltype((std::declval<S&>().*....*path))>;
    return {name, std::move(doc), [=](const S& s) { return to_python((s.*....*path)); },
            [=](S& s, py::handle value) { (s.*....*path) = from_python<T>(value, name); }};
}

/// A row whose default is None, "whatever the optimizer (chosen by an earlier row) uses";
/// a value other than None is written like field()'s.
template <class S, class... Path>
Hyperparameter<S> optional_field(std::string name, std::string doc, Path... path) {
    Hyperparameter<S> row = field<S>(std::move(name), std::move(doc), path...);
    auto set = row.set;
    row.get = [](const S&) { return py::object(py::none()); };
    row.set = [set](S& s, py::handle value) {
        if (!value.is_none()) set(s, value);
    };
    return row;
}

/// The rows of TrainerSettings that both kinds of model share; `path` leads from S to its
/// TrainerSettings. "optimizer" comes before the optimizer's own numbers, which it resets.
template <class S, class... Path>
std::vector<Hyperparameter<S>> trainer_hyperparameters(Path... path) {
    using textcnn::OptimizerSettings;
    using textcnn::TrainerSettings;
    using textcnn::LearningRateSchedule;
    Hyperparameter<S> optimizer{
        "optimizer", "sgd | adadelta | adam | rmsprop, with that optimizer's usual learning rate, rho and epsilon",
        [=](const S& s) { return py::object(py::str((s.*....*path).optimizer.name)); },
        [=](S& s, py::handle value) {
            (s.*....*path).optimizer = OptimizerSettings::defaults_for(from_python<std::string>(value, "optimizer"));
        }};
    return {
        field<S>("epochs", "passes over the training data", path..., &TrainerSettings::epochs),
        field<S>("batch_size", "documents or images per optimizer step", path..., &TrainerSettings::batch_size),
        field<S>("seed", "drives the initial weights, shuffles, dropout and validation split", path...,
                 &TrainerSettings::seed),
        field<S>("shuffle", "a new order of the training data every epoch (False: data order)", path...,
                 &TrainerSettings::shuffle),
        optimizer,
        optional_field<S>("learning_rate", "None: the optimizer's usual (Adadelta 1.0, Adam and RMSprop 1e-3, SGD 0.01)",
                          path..., &TrainerSettings::optimizer, &OptimizerSettings::learning_rate),
        optional_field<S>("rho", "Adadelta / RMSprop decay; None: the optimizer's usual (0.95 / 0.9)", path...,
                          &TrainerSettings::optimizer, &OptimizerSettings::rho),
        optional_field<S>("epsilon", "None: the optimizer's usual (Adadelta 1e-6, RMSprop 1e-7, Adam 1e-8)", path...,
                          &TrainerSettings::optimizer, &OptimizerSettings::epsilon),
        field<S>("momentum", "SGD momentum", path..., &TrainerSettings::optimizer, &OptimizerSettings::momentum),
        field<S>("nesterov", "SGD with Nesterov momentum", path..., &TrainerSettings::optimizer,
                 &OptimizerSettings::nesterov),
        field<S>("beta1", "Adam", path..., &TrainerSettings::optimizer, &OptimizerSettings::beta1),
        field<S>("beta2", "Adam", path..., &TrainerSettings::optimizer, &OptimizerSettings::beta2),
        field<S>("weight_decay", "L2 decay added to the gradient", path..., &TrainerSettings::optimizer,
                 &OptimizerSettings::weight_decay),
        field<S>("clip_norm", "> 0: scale the whole gradient to at most this L2 norm", path...,
                 &TrainerSettings::optimizer, &OptimizerSettings::clip_norm),
        field<S>("lr_decay_after", "epochs (1-based) after which the learning rate is multiplied by lr_decay_factor",
                 path..., &TrainerSettings::learning_rate_schedule, &LearningRateSchedule::decay_after_epochs),
        field<S>("lr_decay_factor", "see lr_decay_after", path..., &TrainerSettings::learning_rate_schedule,
                 &LearningRateSchedule::decay_factor),
        field<S>("patience", "stop after this many validations without a better accuracy (0 = never)", path...,
                 &TrainerSettings::patience),
        field<S>("validations_per_epoch", "validate this many times per epoch", path...,
                 &TrainerSettings::validations_per_epoch),
        field<S>("restore_best", "keep the weights of the best validation, not the last ones", path...,
                 &TrainerSettings::restore_best),
    };
}

/// Applies `params` (name -> value) to `settings` in table order; names `params` lacks keep
/// their value. TypeError for a name the table lacks (listing the known ones) or a value of
/// the wrong type.
template <class S>
void apply_hyperparameters(const std::vector<Hyperparameter<S>>& table, const py::dict& params, S& settings) {
    std::vector<std::string> known;
    for (const auto& row : table) known.push_back(row.name);
    for (auto item : params) {
        const auto name = item.first.cast<std::string>();
        if (std::find(known.begin(), known.end(), name) == known.end()) {
            std::string list;
            for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
            throw py::type_error("unknown hyperparameter '" + name + "' (known: " + list + ")");
        }
    }
    for (const auto& row : table)
        if (params.contains(row.name)) row.set(settings, params[py::str(row.name)]);
}

/// (name, default, doc) of every row, in table order, for the Python side.
template <class S>
py::list describe_hyperparameters(const std::vector<Hyperparameter<S>>& table) {
    const S defaults{};
    py::list out;
    for (const auto& row : table) out.append(py::make_tuple(row.name, row.get(defaults), row.doc));
    return out;
}

}  // namespace textcnn_python
