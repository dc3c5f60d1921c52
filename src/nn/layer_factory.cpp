// make_layer(): the one place that maps a layer type name to its class (layer.h).
#include "textcnn/nn/activation.h"
#include "textcnn/nn/conv.h"
#include "textcnn/nn/dense.h"
#include "textcnn/nn/dropout.h"
#include "textcnn/nn/embedding.h"
#include "textcnn/core/error.h"
#include "textcnn/nn/flatten.h"
#include "textcnn/nn/layer.h"
#include "textcnn/nn/ngram_bag.h"
#include "textcnn/nn/parallel.h"
#include "textcnn/nn/pooling.h"

#include <string>

namespace textcnn {

namespace {

constexpr const char* known_types =
    "conv, max_pool, avg_pool, global_max_pool, global_avg_pool, dense, flatten, dropout, relu, tanh, sigmoid, "
    "identity, embedding, ngram_bag, parallel";

}  // namespace

std::unique_ptr<Layer> make_layer(const LayerSpec& spec, const Shape& input_shape) {
    const std::string& type = spec.type;
    std::unique_ptr<Layer> layer;
    if (type == "conv") {
        LayerSpec filled = spec;
        filled.settings["in_channels"] = std::to_string(input_shape.channels());
        layer = std::make_unique<ConvLayer>(filled);
    } else if (type == "dense") {
        // in_units from the channel count; a rank-3/4 input is refused by output_shape()
        // below with a hint to add flatten.
        LayerSpec filled = spec;
        filled.settings["in_units"] = std::to_string(input_shape.channels());
        layer = std::make_unique<DenseLayer>(filled);
    } else if (type == "max_pool" || type == "avg_pool") {
        layer = std::make_unique<PoolLayer>(spec);
    } else if (type == "global_max_pool" || type == "global_avg_pool") {
        layer = std::make_unique<GlobalPoolLayer>(spec);
    } else if (type == "flatten") {
        layer = std::make_unique<FlattenLayer>(spec);
    } else if (type == "dropout") {
        layer = std::make_unique<DropoutLayer>(spec);
    } else if (type == "relu" || type == "tanh" || type == "sigmoid" || type == "identity") {
        layer = std::make_unique<ActivationLayer>(spec);
    } else if (type == "embedding") {
        layer = std::make_unique<EmbeddingLayer>(spec);
    } else if (type == "ngram_bag") {
        layer = std::make_unique<NgramBagLayer>(spec);
    } else if (type == "parallel") {
        layer = std::make_unique<ParallelLayer>(spec, input_shape);
    } else {
        throw ConfigError(spec.label() + ": unknown layer type '" + type + "' (known types: " + known_types + ")");
    }
    if (type != "parallel" && !spec.branches.empty())
        throw ConfigError(spec.label() + ": only parallel layers have branches");
    layer->output_shape(input_shape);  // ShapeError now rather than at the first batch
    return layer;
}

}  // namespace textcnn
