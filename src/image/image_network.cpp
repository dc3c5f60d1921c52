#include "textcnn/image/image_network.h"

#include "textcnn/core/error.h"

namespace textcnn {

Architecture image_architecture(const std::string& name, const std::string& file) {
    if (!file.empty()) return read_architecture_file(file);
    return builtin_architecture(name);
}

Shape image_sample_shape(const Architecture& arch, const std::vector<std::size_t>& input) {
    if (!input.empty()) {
        if (input.size() != 3 || input[0] == 0 || input[1] == 0 || input[2] == 0)
            throw ConfigError("an image input shape is channels, height, width (three positive numbers)");
        return Shape{1, input[0], input[1], input[2]};
    }
    if (arch.input) {
        if (arch.input->rank() != 4)
            throw ConfigError(arch.name + ": 'input' must be [channels, height, width] for an image network");
        return arch.input->with_batch(1);
    }
    return Shape{1, 1, 28, 28};
}

namespace {
// f(), its shape and configuration errors naming the architecture (and the input shape).
template <class F>
auto naming_architecture(const Architecture& arch, const Shape& sample, F&& f) {
    try {
        return f();
    } catch (const ShapeError& e) {
        throw ShapeError("architecture " + arch.name + " for inputs " + sample.str() + ": " + e.what());
    } catch (const ConfigError& e) {
        throw ConfigError("architecture " + arch.name + ": " + e.what());
    }
}
}  // namespace

Network build_image_network(Architecture arch, const Shape& sample, std::size_t classes) {
    bind_class_count(arch.layers, classes);
    return naming_architecture(arch, sample, [&] {
        Network net(arch.layers, sample);
        const Shape out = net.output_shape(1);
        if (out.rank() != 2 || out[1] != classes)
            throw ConfigError("the network outputs " + out.str() + " per image, the data has " +
                              std::to_string(classes) + " classes (end with a dense layer of \"units\": \"classes\")");
        return net;
    });
}

std::size_t image_network_parameter_count(Architecture arch, const Shape& sample, std::size_t classes) {
    bind_class_count(arch.layers, classes);
    return naming_architecture(arch, sample, [&] { return Network::parameter_count(arch.layers, sample); });
}

}  // namespace textcnn
