// A network's layers as JSON, for the programs' `summary --json`: one table for text and
// image models alike.
#pragma once

#include "textcnn/nn/network.h"

#include <nlohmann/json.hpp>

namespace cli_common {

/// {"layers": [{"depth", "layer", "type", "details", "output_shape", "parameters"}, ...],
///  "parameters": N, "trainable_parameters": N}: Network::summary() rows, counts as numbers,
/// output shapes as arrays (batch first, 0: any, as Keras' None).
nlohmann::ordered_json network_json(const textcnn::Network& network);

}  // namespace cli_common
