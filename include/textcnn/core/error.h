// Exception types thrown by the library. Library code never calls exit() or assert() on
// user input: it throws one of these, with a message that starts with where it happened
// ("conv2d 'conv_1': input has 2 channels, layer expects 3"). Only apps/ turns them into
// messages on stderr and exit codes.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace textcnn {

/// Base of every textcnn exception.
class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// A layer or model was used with tensors of the wrong shape, or configured so that an output
/// would be empty. The message names the layer and both shapes.
class ShapeError : public Error {
public:
    using Error::Error;
};

/// An invalid setting (unknown layer type, negative dropout, stride 0, unknown option value).
class ConfigError : public Error {
public:
    using Error::Error;
};

/// Bad input data: malformed CSV, invalid UTF-8, unknown label, corrupt model or vectors file.
/// The message names the file and the line, offset or field.
class InputError : public Error {
public:
    using Error::Error;
};

/// An operating-system level failure: a file that cannot be opened, read or written.
class IoError : public Error {
public:
    using Error::Error;
};

/// Not enough memory for the work asked, found before it starts (or an allocation that
/// failed): the message names what needed how much, and the limit that binds.
class ResourceError : public Error {
public:
    using Error::Error;
};

/// The ConfigError for a name that is not one of `known`, in the one wording the library uses
/// for such lists: "unknown optimizer 'adagrad' (known: adadelta, adam, rmsprop, sgd)".
inline ConfigError unknown_name(const std::string& kind, const std::string& name, const std::vector<std::string>& known) {
    std::string list;
    for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
    return ConfigError("unknown " + kind + " '" + name + "' (known: " + list + ")");
}

}  // namespace textcnn
