// libFuzzer target: architecture JSON (nn/architecture.h) as the image tools read it from a
// file, then what a caller does with it: bind the class count, count the parameters with the
// limits of nn/limits.h, and build the network when it is small.
//
// Invariants: serialise_architecture() reads back to an equal Architecture; a network is
// built only after Network::parameter_count() accepted the spec, and has that many parameters.
#include "fuzz_input.h"

#include "textcnn/nn/architecture.h"
#include "textcnn/nn/network.h"

#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace textcnn;
    // Networks up to this size are built (allocated and shape-checked layer by layer); larger
    // ones are only counted, which is where a forged size must be stopped anyway.
    constexpr std::size_t max_built = std::size_t{1} << 20;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    fuzz::refuse_cleanly([&] {
        Architecture arch = parse_architecture(text, "fuzz.json");
        const Architecture again = parse_architecture(serialise_architecture(arch), "fuzz.json");
        fuzz::fuzz_require(again == arch, "serialise_architecture reads back equal");
        bind_class_count(arch.layers, 3);
        const Shape input = arch.input ? *arch.input : Shape{0, 1, 8, 8};
        const std::size_t count = Network::parameter_count(arch.layers, input);
        if (count <= max_built && input.per_sample() <= max_built) {
            const Network net(arch.layers, input);
            fuzz::fuzz_require(net.parameter_count() == count, "parameter_count predicts the network");
        }
    });
    return 0;
}
