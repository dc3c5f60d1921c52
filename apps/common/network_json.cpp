#include "network_json.h"

namespace cli_common {

nlohmann::ordered_json network_json(const textcnn::Network& network) {
    nlohmann::ordered_json layers = nlohmann::ordered_json::array();
    for (const auto& row : network.summary())
        layers.push_back({{"depth", row.depth},
                          {"layer", row.label},
                          {"type", row.type},
                          {"details", row.details},
                          {"output_shape", row.output_shape.dims()},
                          {"parameters", row.parameters}});
    return {{"layers", layers},
            {"parameters", network.parameter_count()},
            {"trainable_parameters", network.trainable_parameter_count()}};
}

}  // namespace cli_common
