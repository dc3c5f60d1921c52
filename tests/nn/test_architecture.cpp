#define BOOST_TEST_MODULE architecture
#include <boost/test/unit_test.hpp>

#include "program_runs.h"

#include "textcnn/nn/architecture.h"
#include "textcnn/core/error.h"
#include "textcnn/nn/network.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

using namespace textcnn;

namespace {

template <typename F>
std::string config_error(F&& f) {
    try {
        f();
    } catch (const ConfigError& e) {
        return e.what();
    }
    BOOST_FAIL("no ConfigError thrown");
    return {};
}

using testing::read_text;

// Parameter count of each layer with parameters, by name, for 28x28x1 inputs and 10 classes.
std::map<std::string, std::size_t> layer_parameters(const std::string& name, std::size_t* total) {
    Architecture arch = builtin_architecture(name);
    BOOST_TEST(bind_class_count(arch.layers, 10) == 1u);
    Network net(arch.layers, Shape{1, 1, 28, 28});
    *total = net.parameter_count();
    std::map<std::string, std::size_t> counts;
    for (const auto& row : net.summary())
        if (row.parameters) counts[row.label] = row.parameters;
    return counts;
}

}  // namespace

BOOST_AUTO_TEST_CASE(builtin_parameter_counts) {
    std::size_t total = 0;
    auto counts = layer_parameters("cnn_1", &total);
    BOOST_TEST(total == 63522u);  // 208 + 584 + 62,730
    BOOST_TEST(counts["conv 'conv_1'"] == 208u);
    BOOST_TEST(counts["conv 'conv_2'"] == 584u);
    BOOST_TEST(counts["dense 'logits'"] == 62730u);

    counts = layer_parameters("cnn_1_with_pooling", &total);
    BOOST_TEST(total == 4722u);  // 208 + 584 + (7 * 7 * 8 + 1) * 10
    BOOST_TEST(counts["dense 'logits'"] == 3930u);

    counts = layer_parameters("cnn_2", &total);
    BOOST_TEST(total == 63522u);

    counts = layer_parameters("cnn_fashion", &total);
    BOOST_TEST(total == 824458u);
    BOOST_TEST(counts["conv 'conv_1'"] == 320u);        // 3 * 3 * 1 * 32 + 32
    BOOST_TEST(counts["conv 'conv_2'"] == 18496u);      // 3 * 3 * 32 * 64 + 64
    BOOST_TEST(counts["dense 'dense_1'"] == 803072u);   // (7 * 7 * 64 + 1) * 256
    BOOST_TEST(counts["dense 'logits'"] == 2570u);      // (256 + 1) * 10
}

BOOST_AUTO_TEST_CASE(builtins_are_the_data_files) {
    // The compiled-in texts must be the files users read and copy.
    const auto names = builtin_architecture_names();
    BOOST_TEST(names.size() == 4u);
    std::size_t files = 0;
    for (const auto& entry : std::filesystem::directory_iterator(std::string(TEXTCNN_SOURCE_DIR) + "/data/architectures")) {
        if (entry.path().extension() != ".json") continue;
        ++files;
        const std::string name = entry.path().stem().string();
        BOOST_TEST_CONTEXT(name) {
            BOOST_TEST(std::string(builtin_architecture_text(name)) == read_text(entry.path().string()));
            const Architecture arch = read_architecture_file(entry.path().string());
            BOOST_TEST(arch.name == name);
            BOOST_TEST((arch == builtin_architecture(name)));
        }
    }
    BOOST_TEST(files == names.size());
}

BOOST_AUTO_TEST_CASE(parse_reads_settings_as_strings) {
    const Architecture arch = parse_architecture(R"({
        "name": "t", "input": [1, 8, 8], "init": "torch",
        "layers": [
          {"type": "conv", "filters": 4, "kernel": [3, 3], "padding": "same", "bias": false},
          {"type": "relu"},
          {"type": "dropout", "rate": 0.25},
          {"type": "conv", "name": "c", "filters": 2, "kernel": "5,5"},
          {"type": "global_max_pool"},
          {"type": "dense", "units": "classes"}
        ]})",
                                                 "t.json");
    BOOST_TEST(arch.name == "t");
    BOOST_TEST(arch.input->str() == "(0, 1, 8, 8)");
    BOOST_TEST((*arch.init == Initializer::Kind::torch_default));
    BOOST_TEST(arch.layers.size() == 6u);
    const LayerSpec& conv = arch.layers[0];
    BOOST_TEST(conv.name == "conv_1");  // generated
    BOOST_TEST(conv.settings.at("filters") == "4");
    BOOST_TEST(conv.settings.at("kernel") == "3,3");
    BOOST_TEST(conv.settings.at("bias") == "false");
    BOOST_TEST(arch.layers[2].settings.at("rate") == "0.25");
    BOOST_TEST(arch.layers[3].name == "c");
    BOOST_TEST(arch.layers[3].settings.at("kernel") == "5,5");
    BOOST_TEST(arch.layers[4].name == "global_max_pool_1");
}

BOOST_AUTO_TEST_CASE(generated_names_avoid_explicit_ones) {
    const Architecture arch = parse_architecture(
        R"({"layers": [{"type": "relu"}, {"type": "relu", "name": "relu_1"}, {"type": "relu"}]})", "n.json");
    BOOST_TEST(arch.layers[0].name == "relu_2");
    BOOST_TEST(arch.layers[1].name == "relu_1");
    BOOST_TEST(arch.layers[2].name == "relu_3");
}

BOOST_AUTO_TEST_CASE(parallel_branches_round_trip) {
    const Architecture arch = parse_architecture(R"({"layers": [
        {"type": "embedding", "vocab": 100, "dim": 8},
        {"type": "parallel", "branches": [
            [{"type": "conv", "filters": 3, "kernel": 3}, {"type": "relu"}, {"type": "global_max_pool"}],
            [{"type": "conv", "filters": 3, "kernel": 4}, {"type": "relu"}, {"type": "global_max_pool"}]]},
        {"type": "dropout", "rate": 0.5},
        {"type": "dense", "units": 2}]})",
                                                 "p.json");
    BOOST_TEST(arch.layers[1].branches.size() == 2u);
    BOOST_TEST(arch.layers[1].branches[1][0].name == "conv_2");
    BOOST_TEST(arch.layers[1].branches[1][0].settings.at("kernel") == "4");
    const std::string text = serialise_architecture(arch);
    const Architecture back = parse_architecture(text, "again");
    BOOST_TEST((back == arch));
    BOOST_TEST(serialise_architecture(back) == text);
}

BOOST_AUTO_TEST_CASE(serialise_writes_numbers_lists_and_strings) {
    Architecture arch;
    arch.name = "s";
    LayerSpec spec;
    spec.type = "conv";
    spec.name = "c";
    spec.settings = {{"filters", "8"}, {"kernel", "5,5"}, {"padding", "same"}, {"bias", "true"}, {"stride", "007"}};
    arch.layers.push_back(spec);
    const std::string text = serialise_architecture(arch);
    BOOST_TEST(text.find("\"filters\": 8,") != std::string::npos, text);
    BOOST_TEST(text.find("\"bias\": true,") != std::string::npos, text);
    BOOST_TEST(text.find("\"padding\": \"same\"") != std::string::npos, text);
    BOOST_TEST(text.find("\"stride\": \"007\"") != std::string::npos, text);  // not canonical: kept as text
    BOOST_TEST((parse_architecture(text, "s") == arch));
}

BOOST_AUTO_TEST_CASE(errors_name_the_file_the_layer_and_the_key) {
    BOOST_TEST(config_error([] { parse_architecture(R"({"layers": [{"type": "relu"}, {"type": "conv", "filtres": 8}]})", "a.json"); }) ==
               "a.json: layer 1: unknown key 'filtres' for a conv layer (known: filters, kernel, stride, dilation, "
               "padding, bias, filter, trainable, in_channels)");
    BOOST_TEST(config_error([] { parse_architecture(R"({"layers": [{"type": "conv2d"}]})", "b.json"); }).find(
                   "b.json: layer 0: unknown layer type 'conv2d' (known: ") == 0u);
    BOOST_TEST(config_error([] { parse_architecture(R"({"layers": [{"name": "x"}]})", "c.json"); }) ==
               "c.json: layer 0: missing key 'type'");
    BOOST_TEST(config_error([] {
                   parse_architecture(
                       R"({"layers": [{"type": "parallel", "branches": [[{"type": "relu"}], [{"type": "dense", "units": {"n": 2}}]]}]})",
                       "d.json");
               }) == "d.json: layer 0 branch 1 layer 0: setting 'units' must be a string, a number, a boolean or a "
                     "list of integers, got {\"n\":2}");
    BOOST_TEST(config_error([] { parse_architecture(R"({"layers": [{"type": "conv", "kernel": [3, 1.5]}]})", "e.json"); }) ==
               "e.json: layer 0: setting 'kernel': a list must hold integers, got [3,1.5]");
    BOOST_TEST(config_error([] { parse_architecture(R"({"layers": []})", "f.json"); }) ==
               "f.json: 'layers' must be a non-empty list of layers");
    BOOST_TEST(config_error([] { parse_architecture(R"({"layer": []})", "g.json"); }) ==
               "g.json: unknown key 'layer' (known: name, description, input, init, layers)");
    BOOST_TEST(config_error([] { parse_architecture("{\"layers\": [\n{\"type\": \"relu\"},,]}", "h.json"); }).find(
                   "h.json: invalid JSON: parse error at line 2, column 18") == 0u);
    BOOST_TEST(config_error([] { parse_architecture(R"({"init": "zeros", "layers": [{"type": "relu"}]})", "i.json"); }).find(
                   "i.json: unknown initializer 'zeros'") == 0u);
    BOOST_TEST(config_error([] { parse_architecture(R"({"layers": [{"type": "relu", "name": "a"}, {"type": "relu", "name": "a"}]})", "j.json"); }) ==
               "j.json: layer 1: duplicate layer name 'a'");
    BOOST_TEST(config_error([] { parse_architecture(R"({"layers": [{"type": "relu", "branches": []}]})", "k.json"); }) ==
               "k.json: layer 0: key 'branches' is only for layers of type 'parallel'");
    BOOST_TEST(config_error([] { builtin_architecture("cnn_3"); }) ==
               "unknown architecture 'cnn_3' (built-in: cnn_1, cnn_1_with_pooling, cnn_2, cnn_fashion; or give a "
               "file)");
}

// Found by fuzz_architecture: a number beyond a double's range made nlohmann throw its own
// out_of_range exception past parse_architecture (a crash in the programs' terms).
BOOST_AUTO_TEST_CASE(numbers_beyond_double_range_are_config_errors) {
    BOOST_TEST(config_error([] { parse_architecture(R"({"layers": [{"type": "dropout", "rate": 1e309}]})", "l.json"); }) ==
               "l.json: invalid JSON: number overflow parsing '1e309'");
}

BOOST_AUTO_TEST_CASE(missing_file_is_an_io_error) {
    BOOST_CHECK_THROW(read_architecture_file("/nonexistent/arch.json"), IoError);
}

BOOST_AUTO_TEST_CASE(class_count_binding) {
    Architecture arch = builtin_architecture("cnn_1");
    BOOST_TEST(arch.layers.back().settings.at("units") == "classes");
    BOOST_TEST(bind_class_count(arch.layers, 3) == 1u);
    BOOST_TEST(arch.layers.back().settings.at("units") == "3");
    BOOST_TEST(bind_class_count(arch.layers, 3) == 0u);
}
