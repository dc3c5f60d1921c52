#include "image/image_model.h"

#include "textcnn/core/checked.h"
#include "textcnn/core/error.h"
#include "textcnn/nn/loss.h"
#include "textcnn/nn/model_file.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>

namespace textcnn {

using json = nlohmann::ordered_json;

ModelFile image_model_file(const ImageModel& model) {
    ModelFile file;
    add_network_sections(file, model.network);
    set_labels(file, model.labels);
    set_metadata(file, {{"architecture", model.architecture}, {"training", model.training_json}});
    json input;
    const Shape& shape = model.input_shape();
    input["input"] = std::vector<std::size_t>(shape.dims().begin() + 1, shape.dims().end());
    input["pixel_scaling"] = "value / 255";
    const std::string text = input.dump();
    file.set(image_section_tag, image_section_version, std::vector<std::uint8_t>(text.begin(), text.end()));
    return file;
}

namespace {

// The image section as a JSON object, checked key by key, so that a damaged section is
// described in plain words rather than by the JSON library's exception ids.
json image_section(const ModelSection& section, const std::string& where) {
    json meta;
    check_json_nesting(std::string_view(reinterpret_cast<const char*>(section.payload.data()), section.payload.size()),
                       where);
    try {
        meta = json::parse(section.payload.begin(), section.payload.end());
    } catch (const json::exception& e) {
        throw InputError(where + " is not valid JSON (" + e.what() + ")");
    }
    if (!meta.is_object()) throw InputError(where + " must hold a JSON object");
    return meta;
}

// Version 1 (imagecnn before the library's image path) kept labels, architecture and training
// facts in the image section; version 2 keeps them in LABL and META like a text model.
void read_version_1(const json& meta, const std::string& where, ImageModel& model) {
    const auto labels = meta.find("labels");
    if (labels == meta.end()) throw InputError(where + ": missing key 'labels'");
    if (!labels->is_array()) throw InputError(where + ": 'labels' must be a list of strings");
    for (const auto& label : *labels) {
        if (!label.is_string()) throw InputError(where + ": 'labels' must be a list of strings, got " + label.dump());
        model.labels.push_back(label.get<std::string>());
    }
    check_stored_labels(model.labels, where);
    if (const auto arch = meta.find("architecture"); arch != meta.end()) {
        if (!arch->is_string()) throw InputError(where + ": 'architecture' must be a string");
        model.architecture = arch->get<std::string>();
    }
    if (const auto training = meta.find("training"); training != meta.end()) model.training_json = training->dump();
}

void read_version_2(const ModelFile& file, ImageModel& model) {
    model.labels = labels_of(file);
    auto metadata = metadata_of(file);
    model.architecture = metadata["architecture"];
    const std::string training = metadata.count("training") ? metadata["training"] : "{}";
    json facts;
    check_json_nesting(training, file.source + ": section 'META': 'training'");
    try {
        facts = json::parse(training);
    } catch (const json::exception&) {
        throw InputError(file.source + ": section 'META': 'training' is not a JSON object");
    }
    if (!facts.is_object()) throw InputError(file.source + ": section 'META': 'training' is not a JSON object");
    model.training_json = facts.dump();
}

}  // namespace

ImageModel image_model_from_file(const ModelFile& file) {
    const std::string& path = file.source;
    if (!file.find(image_section_tag))
        throw InputError(path + ": not an image model (no section '" + image_section_tag +
                         "'; a text model is read by TextClassifier, the textcnn program)");
    const ModelSection& section = file.require(image_section_tag, image_section_version);
    ImageModel model{network_from_sections(file), {}, {}, "{}"};
    const std::string where = path + ": section '" + image_section_tag + "'";
    const json meta = image_section(section, where);
    if (section.version == 1) read_version_1(meta, where, model);
    else read_version_2(file, model);
    const Shape out = model.network.output_shape(1);
    if (out.rank() != 2 || out[1] != model.labels.size())
        throw InputError(path + ": the network outputs " + out.str() + " for one image but the model has " +
                         std::to_string(model.labels.size()) + " labels");
    if (model.input_shape().rank() != 4)
        throw InputError(path + ": the network's input " + model.input_shape().str() +
                         " is not (1, channels, height, width)");
    return model;
}

void save_image_model(const std::string& path, const ImageModel& model) {
    write_model_file(path, image_model_file(model));
}

ImageModel load_image_model(const std::string& path) { return image_model_from_file(read_model_file(path)); }

void copy_samples(const Tensor& images, std::size_t first, std::size_t count, Tensor& batch) {
    batch.resize(images.shape().with_batch(count));
    const std::size_t per = images.shape().per_sample();
    std::memcpy(batch.data(), images.sample(first), count * per * sizeof(float));
}

Tensor predict_probabilities(const Network& network, const Tensor& images, std::size_t batch_size) {
    const Shape& want = network.sample_shape();
    const Shape& have = images.shape();
    if (have.rank() != want.rank() || have.per_sample() != want.per_sample() ||
        !std::equal(have.dims().begin() + 1, have.dims().end(), want.dims().begin() + 1))
        throw ShapeError("images of shape " + have.with_batch(1).str() + " (1, channels, height, width) but the model "
                         "expects " + want.with_batch(1).str());
    const std::size_t n = have.batch();
    const std::size_t classes = network.output_shape(1)[1];
    Tensor result(Shape{n, classes});
    if (n == 0) return result;
    Network::ChunkedWorkspace ws = network.make_chunked_workspace();
    Tensor batch, probabilities;
    for (std::size_t first = 0; first < n; first += batch_size) {
        const std::size_t count = std::min(batch_size, n - first);
        // forward_chunked() copies its chunks anyway: a batch of everything needs no copy of its own.
        const Tensor* input = &images;
        if (count != n) {
            copy_samples(images, first, count, batch);
            input = &batch;
        }
        softmax(network.forward_chunked(*input, ws), probabilities);
        std::memcpy(result.sample(first), probabilities.data(), count * classes * sizeof(float));
    }
    return result;
}


std::vector<std::uint32_t> argmax_rows(const Tensor& scores) {
    const std::size_t n = scores.shape().batch(), k = scores.shape().per_sample();
    std::vector<std::uint32_t> best(n);
    for (std::size_t i = 0; i < n; ++i) {
        const float* row = scores.sample(i);
        best[i] = static_cast<std::uint32_t>(std::max_element(row, row + k) - row);
    }
    return best;
}

}  // namespace textcnn
