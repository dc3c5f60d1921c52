#define BOOST_TEST_MODULE model_file
#include <boost/test/unit_test.hpp>

#include "nn/held_section.h"
#include "textcnn/core/bytes.h"
#include "textcnn/core/error.h"
#include "textcnn/nn/limits.h"
#include "textcnn/nn/model_file.h"
#include "textcnn/nn/network.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <cmath>
#include <iterator>
#include <limits>
#include <numeric>
#include <string>
#include <thread>
#include <unistd.h>

using namespace textcnn;
namespace fs = std::filesystem;

namespace {

LayerSpec layer(std::string type, std::string name, std::map<std::string, std::string> settings = {}) {
    return LayerSpec{std::move(type), std::move(name), std::move(settings), {}};
}

// A small Kim-like text network: embedding -> widths 2 and 3 (relu, max over time) -> dropout
// -> dense.
ModelSpec kim_spec() {
    auto branch = [](const std::string& width) {
        return std::vector<LayerSpec>{layer("conv", "conv_" + width, {{"filters", "3"}, {"kernel", width}}),
                                      layer("relu", ""), layer("global_max_pool", "")};
    };
    LayerSpec parallel = layer("parallel", "convs");
    parallel.branches = {branch("2"), branch("3")};
    return {layer("embedding", "emb", {{"vocab", "20"}, {"dim", "4"}}), parallel, layer("dropout", "", {{"rate", "0.5"}}),
            layer("dense", "output", {{"units", "2"}})};
}

// A small image network: conv -> max_pool -> flatten -> dense.
ModelSpec image_spec() {
    return {layer("conv", "conv_1", {{"filters", "2"}, {"kernel", "3,3"}}), layer("relu", ""),
            layer("max_pool", "pool", {{"window", "2,2"}}), layer("flatten", ""), layer("dense", "output", {{"units", "3"}})};
}

Tensor kim_input() {
    // Two sentences of 7 token ids (0 = padding).
    return Tensor(Shape{2, 1, 7}, {2, 5, 9, 13, 1, 0, 0, 19, 3, 3, 7, 11, 17, 4});
}

Tensor image_input() {
    Tensor t(Shape{2, 1, 6, 6});
    for (std::size_t i = 0; i < t.size(); ++i) t[i] = float((i * 37) % 11) / 10.0f - 0.5f;
    return t;
}

Tensor predict(const Network& net, const Tensor& input) {
    auto ws = net.make_workspace();
    return net.forward(input, ws, RunContext{});
}

struct TempDir {
    fs::path path;
    TempDir() {
        path = fs::temp_directory_path() / ("textcnn_model_file_" + std::to_string(::getpid()));
        fs::create_directories(path);
    }
    ~TempDir() { fs::remove_all(path); }
};

std::vector<std::uint8_t> encoded_kim_model() {
    Network net(kim_spec(), Shape{1, 1, 7});
    net.initialize({}, 42);
    ModelFile file;
    add_network_sections(file, net);
    return encode_model_file(file);
}

bool message_is(const Error& e, const std::string& expected) {
    if (e.what() == expected) return true;
    BOOST_TEST_MESSAGE("got: " << e.what());
    return false;
}

// The fixture's expected outputs: input tensor and logits, in a section of their own ("XPCT"),
// which readers of networks ignore.
std::vector<std::uint8_t> expectation_payload(const Tensor& input, const Tensor& output) {
    std::vector<std::uint8_t> out;
    ByteWriter w(out);
    w.put<std::uint32_t>(static_cast<std::uint32_t>(input.shape().rank()));
    for (std::size_t d : input.shape().dims()) w.put<std::uint64_t>(d);
    w.put_floats(input.values());
    w.put_floats(output.values());
    return out;
}

fs::path fixture_dir() { return fs::path(TEXTCNN_SOURCE_DIR) / "tests" / "fixtures" / "models"; }

// A stored architecture as model files hold it: a Kim-like text network with `vocab` words of
// `dim` dimensions and one branch of 4 width-3 filters. Numbers are strings, as in the file.
std::string kim_json(const std::string& vocab, const std::string& dim, const std::string& conv_extra = "") {
    return R"({"sample_shape": [1, 1, 7], "layers": [)"
           R"({"type": "embedding", "name": "emb", "settings": {"vocab": ")" + vocab + R"(", "dim": ")" + dim + R"("}},)"
           R"({"type": "parallel", "name": "convs", "branches": [[)"
           R"({"type": "conv", "name": "c", "settings": {"filters": "4", "kernel": "3", "padding": "full")" + conv_extra +
           R"(}}, {"type": "relu"}, {"type": "global_max_pool"}]]},)"
           R"({"type": "dense", "name": "output", "settings": {"units": "2"}}]})";
}

// A model file with that architecture and a weights section of `count` floats, sent through
// the writer's encoding (checksum included) and the reader's decoding, so that the forged
// numbers reach the section parsers as they would from disk.
ModelFile forged_model(const std::string& arch_json, std::size_t count) {
    ModelFile file;
    file.set("ARCH", 1, {arch_json.begin(), arch_json.end()});
    std::vector<std::uint8_t> weights;
    ByteWriter w(weights);
    w.put_floats(std::vector<float>(count, 0.5f));
    file.set("WGHT", 1, std::move(weights));
    return decode_model_file(encode_model_file(file), "forged.model");
}

// The peak resident memory of this process so far, in MB.
long peak_rss_mb() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_maxrss / 1024;
}

}  // namespace

BOOST_AUTO_TEST_CASE(sections_round_trip) {
    ModelFile file;
    file.set("ABCD", 1, {1, 2, 3});
    file.set("EMPT", 7, {});
    file.set("ABCD", 2, {4, 5});  // replaces
    const auto bytes = encode_model_file(file);
    // 8 magic + 4 version + 4 count + 2 * 16 section headers + 2 payload + 8 checksum
    BOOST_TEST(bytes.size() == 58u);
    BOOST_TEST(std::string(bytes.begin(), bytes.begin() + 8) == std::string("TEXTCNN\x1a", 8));
    const ModelFile back = decode_model_file(bytes, "mem");
    BOOST_REQUIRE_EQUAL(back.sections().size(), 2u);
    BOOST_TEST(back.sections()[0].tag == "ABCD");
    BOOST_TEST(back.sections()[0].version == 2u);
    BOOST_TEST((back.sections()[0].payload == std::vector<std::uint8_t>{4, 5}));
    BOOST_TEST(back.find("EMPT")->version == 7u);
    BOOST_TEST(back.find("NONE") == nullptr);
    BOOST_CHECK_EXCEPTION(back.require("NONE", 1), InputError,
                          [](const InputError& e) { return message_is(e, "mem: missing section 'NONE'"); });
    BOOST_CHECK_EXCEPTION(back.require("EMPT", 1), InputError, [](const InputError& e) {
        return message_is(e, "mem: section 'EMPT' version 7 is newer than this build supports (1)");
    });
    BOOST_CHECK_THROW(file.set("TOOLONG", 1, {}), ConfigError);
}

BOOST_AUTO_TEST_CASE(network_round_trip_predicts_bit_identically) {
    TempDir dir;
    for (int which = 0; which < 2; ++which) {
        const bool text = which == 0;
        Network net(text ? kim_spec() : image_spec(), text ? Shape{1, 1, 7} : Shape{1, 1, 6, 6});
        net.initialize({}, 7);
        const std::string path = (dir.path / (text ? "kim.model" : "image.model")).string();
        write_network(path, net);
        // Atomic write: nothing but the model is left behind.
        std::size_t files = 0;
        for (const auto& entry : fs::directory_iterator(dir.path)) files += entry.path().string().find(".tmp.") == std::string::npos;
        BOOST_TEST(files == std::size_t(which + 1));
        const Network back = read_network(path);
        BOOST_TEST((back.spec() == net.spec()));
        BOOST_TEST((back.sample_shape() == net.sample_shape()));
        BOOST_TEST(std::equal(back.parameters().begin(), back.parameters().end(), net.parameters().begin(),
                              net.parameters().end()));
        const Tensor input = text ? kim_input() : image_input();
        const Tensor a = predict(net, input), b = predict(back, input);
        BOOST_TEST((a.shape() == b.shape()));
        BOOST_TEST(std::equal(a.values().begin(), a.values().end(), b.values().begin(), b.values().end()));
    }
}

// Every prefix of a valid file must be refused with an InputError, never a crash or a huge
// allocation (run under the ASan build too).
// Found by a new-user run: threads saving one model to one path at once shared the temporary
// name (the process id), and failed ("cannot rename ... No such file or directory"). Each write
// has its own; the file is whole after all of them. An empty path is named as such.
BOOST_AUTO_TEST_CASE(threads_writing_one_path_at_once_all_succeed) {
    TempDir dir;
    const std::string path = (dir.path / "shared.model").string();
    const Network net(image_spec(), Shape{1, 1, 6, 6});
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&] {
            for (int i = 0; i < 25; ++i) {
                try {
                    write_network(path, net);
                } catch (const std::exception&) {
                    ++failures;
                }
            }
        });
    for (auto& t : threads) t.join();
    BOOST_TEST(failures.load() == 0);
    BOOST_TEST(read_network(path).parameters().size() == net.parameters().size());
    std::size_t left = 0;
    for (const auto& entry : fs::directory_iterator(dir.path)) left += entry.path().string().find(".tmp.") != std::string::npos;
    BOOST_TEST(left == 0u);
    BOOST_CHECK_EXCEPTION(write_network("", net), IoError, [](const IoError& e) {
        return std::string(e.what()) == "cannot write a file of an empty name: the file to write needs a name";
    });
}

// TextClassifier::load reads the quantized tables' section apart, into huge pages: the same
// bytes and checks as read_model_file.
BOOST_AUTO_TEST_CASE(a_section_held_apart_reads_as_in_the_whole_file) {
    TempDir dir;
    ModelFile file;
    file.set("HEAD", 1, {1, 2, 3});
    std::vector<std::uint8_t> large((std::size_t{5} << 20) + 123);
    for (std::size_t i = 0; i < large.size(); ++i) large[i] = static_cast<std::uint8_t>(i * 31 + 7);
    file.set("QFLD", 3, large);
    file.set("TAIL", 2, {9});
    const std::string path = (dir.path / "held.model").string();
    write_model_file(path, file);

    textcnn::detail::UnfilledBytes held(7, 1);
    const ModelFile read = textcnn::detail::read_model_file_holding(path, "QFLD", held);
    BOOST_CHECK(std::equal(held.begin(), held.end(), large.begin(), large.end()));
    BOOST_REQUIRE_EQUAL(read.sections().size(), 3u);
    BOOST_TEST(read.find("QFLD")->version == 3u);
    BOOST_TEST(read.find("QFLD")->payload.empty());
    BOOST_TEST((read.find("HEAD")->payload == std::vector<std::uint8_t>{1, 2, 3}));
    BOOST_TEST((read.find("TAIL")->payload == std::vector<std::uint8_t>{9}));
    BOOST_TEST(read.source == path);

    const ModelFile without = textcnn::detail::read_model_file_holding(path, "NONE", held);
    BOOST_TEST(held.empty());
    BOOST_TEST((without.find("QFLD")->payload == large));

    // A flipped byte in the held section: the checksum, as for any section.
    auto bytes = encode_model_file(file);
    bytes[bytes.size() / 2] ^= 0x10;
    {
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    }
    BOOST_CHECK_EXCEPTION(textcnn::detail::read_model_file_holding(path, "QFLD", held), InputError,
                          [&](const InputError& e) { return message_is(e, path + ": checksum mismatch: the file is corrupt"); });
}

BOOST_AUTO_TEST_CASE(truncation_at_every_offset_is_an_input_error) {
    const auto bytes = encoded_kim_model();
    BOOST_TEST_MESSAGE("model of " << bytes.size() << " bytes");
    for (std::size_t n = 0; n < bytes.size(); ++n) {
        BOOST_TEST_INFO("truncated to " << n << " bytes");
        BOOST_CHECK_THROW(network_from_sections(decode_model_file({bytes.data(), n}, "cut.model")), InputError);
    }
    BOOST_CHECK_EXCEPTION(decode_model_file({bytes.data(), bytes.size() - 3}, "cut.model"), InputError,
                          [](const InputError& e) {
                              return std::string(e.what()).starts_with("cut.model: offset ") &&
                                     std::string(e.what()).ends_with("(truncated or corrupt file)");
                          });
}

BOOST_AUTO_TEST_CASE(flipped_bytes_are_detected) {
    const auto bytes = encoded_kim_model();
    // A byte inside the last section's payload (the weights): only the checksum can tell.
    auto flipped = bytes;
    flipped[bytes.size() - 20] ^= 0x01;
    BOOST_CHECK_EXCEPTION(decode_model_file(flipped, "model.bin"), InputError, [](const InputError& e) {
        return message_is(e, "model.bin: checksum mismatch: the file is corrupt");
    });
    // Any single flipped byte anywhere: an InputError, whatever it hits.
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        auto copy = bytes;
        copy[i] ^= 0x5a;
        BOOST_TEST_INFO("byte " << i);
        BOOST_CHECK_THROW(network_from_sections(decode_model_file(copy, "model.bin")), InputError);
    }
}

BOOST_AUTO_TEST_CASE(newer_format_version_is_named) {
    auto bytes = encoded_kim_model();
    bytes[8] = 3;
    BOOST_CHECK_EXCEPTION(decode_model_file(bytes, "model.bin"), InputError, [](const InputError& e) {
        return message_is(e, "model.bin: format version 3 is newer than this build supports (1)");
    });
}

BOOST_AUTO_TEST_CASE(text_file_given_as_model) {
    TempDir dir;
    const std::string path = (dir.path / "train.csv").string();
    std::ofstream(path) << "label,text\npos,a fine film\n";
    BOOST_CHECK_EXCEPTION(read_network(path), InputError, [&](const InputError& e) {
        return message_is(e, path + ": not a textcnn model file (it does not start with \"TEXTCNN\\x1a\")");
    });
    const std::string empty = (dir.path / "empty.model").string();
    std::ofstream(empty).flush();
    BOOST_CHECK_THROW(read_network(empty), InputError);
    const std::string missing = (dir.path / "missing.model").string();
    BOOST_CHECK_EXCEPTION(read_network(missing), IoError, [&](const IoError& e) {
        return message_is(e, missing + ": cannot open: No such file or directory");
    });
    BOOST_CHECK_EXCEPTION(read_network(dir.path.string()), IoError, [&](const IoError& e) {
        return message_is(e, dir.path.string() + ": is a directory, not a model file");
    });
    BOOST_CHECK_EXCEPTION(write_network((dir.path / "no" / "such" / "dir.model").string(), Network(image_spec(), Shape{1, 1, 6, 6})),
                          IoError, [](const IoError& e) {
                              return std::string(e.what()).find("cannot create temporary file") != std::string::npos;
                          });
}

BOOST_AUTO_TEST_CASE(weights_must_match_the_architecture) {
    Network kim(kim_spec(), Shape{1, 1, 7});
    Network image(image_spec(), Shape{1, 1, 6, 6});
    ModelFile file, other;
    add_network_sections(file, kim);
    add_network_sections(other, image);
    file.set("WGHT", 1, other.find("WGHT")->payload);
    file.source = "mixed.model";
    BOOST_CHECK_EXCEPTION(network_from_sections(file), InputError, [&](const InputError& e) {
        return message_is(e, "mixed.model: the weights section holds " + std::to_string(image.parameter_count()) +
                                 " parameters, the architecture needs " + std::to_string(kim.parameter_count()));
    });
    ModelFile bad;
    bad.source = "bad.model";
    const std::string json = R"({"sample_shape": [1, 1, 7], "layers": [{"type": "warp_drive"}]})";
    bad.set("ARCH", 1, {json.begin(), json.end()});
    BOOST_CHECK_EXCEPTION(network_from_sections(bad), InputError, [](const InputError& e) {
        return std::string(e.what()).starts_with("bad.model: the stored architecture cannot be built: warp_drive: unknown layer type");
    });
    const std::string broken = R"({"sample_shape": [1, 1, 7], "layers": [{"type": 5}]})";
    bad.set("ARCH", 1, {broken.begin(), broken.end()});
    BOOST_CHECK_EXCEPTION(network_from_sections(bad), InputError, [](const InputError& e) {
        return message_is(e, "bad.model section 'ARCH': layers[0].type must be a string, got a number");
    });
    const std::string deep = std::string(10000, '[') + std::string(10000, ']');
    bad.set("ARCH", 1, {deep.begin(), deep.end()});
    BOOST_CHECK_EXCEPTION(network_from_sections(bad), InputError, [](const InputError& e) {
        return message_is(e, "bad.model section 'ARCH': the architecture nests deeper than 64 levels");
    });
}

BOOST_AUTO_TEST_CASE(diverged_weights_are_never_saved_nor_loaded) {
    Network net(kim_spec(), Shape{1, 1, 7});
    net.initialize({}, 42);
    BOOST_TEST(!unusable_parameter(net).has_value());
    ModelFile good;
    add_network_sections(good, net);
    const ParameterGroup& last = net.groups().back();
    for (float bad : {std::nanf(""), std::numeric_limits<float>::infinity(), -3e20f}) {
        Network broken(kim_spec(), Shape{1, 1, 7});
        broken.initialize({}, 42);
        broken.parameters()[last.offset + 1] = bad;
        const auto what = unusable_parameter(broken);
        BOOST_REQUIRE(what.has_value());
        BOOST_TEST(what->starts_with("parameter 1 of '" + last.info.name + "' in " + last.layer_label + " is "));
        ModelFile file;
        BOOST_CHECK_EXCEPTION(add_network_sections(file, broken), Error, [&](const Error& e) {
            return message_is(e, "refusing to save a network whose weights diverged: " + *what);
        });
        // A file altered to hold such a weight (checksum and all) is refused at load.
        ModelFile altered = good;
        altered.source = "altered.model";
        std::vector<std::uint8_t> weights;
        ByteWriter w(weights);
        w.put_floats(broken.parameters());
        altered.set("WGHT", 1, std::move(weights));
        BOOST_CHECK_EXCEPTION(network_from_sections(altered), InputError, [&](const InputError& e) {
            return message_is(e, "altered.model: the model's weights are unusable (" + *what +
                                     "): it was saved from a training run that diverged, or the file was altered");
        });
    }
}

// Issue 15: a dimension of 9114861777597660799 made vocab x dim wrap around in size_t to 81, so
// an 81-float weights section passed and predict read far outside the parameter block. Every
// setting is bounded (limits.h) and every product checked before anything is allocated.
BOOST_AUTO_TEST_CASE(forged_sizes_are_refused_before_anything_is_allocated) {
    const std::string cannot_build = "forged.model: the stored architecture cannot be built: ";
    BOOST_CHECK_EXCEPTION(network_from_sections(forged_model(kim_json("35", "9114861777597660799"), 81)), InputError,
                          [&](const InputError& e) {
                              return message_is(e, cannot_build + "embedding 'emb': setting 'dim' is "
                                                                  "9114861777597660799, above the limit of 16777216");
                          });
    BOOST_CHECK_EXCEPTION(network_from_sections(forged_model(kim_json("35", "16777217"), 81)), InputError,
                          [&](const InputError& e) {
                              return message_is(e, cannot_build +
                                                       "embedding 'emb': setting 'dim' is 16777217, above the limit of 16777216");
                          });
    // Each setting within its limit, their product not: 2^24 x 2^24 parameters.
    BOOST_CHECK_EXCEPTION(network_from_sections(forged_model(kim_json("16777216", "16777216"), 81)), InputError,
                          [&](const InputError& e) {
                              return message_is(e, cannot_build + "network: the parameter count up to embedding 'emb' "
                                                                  "is 281474976710656, above the limit of 1073741824");
                          });
    // The same for an image network: 2^24 filters of 3x3 over 2^24 channels.
    const std::string image = R"({"sample_shape": [1, 16, 4, 4], "layers": [)"
                              R"({"type": "conv", "name": "c", "settings": {"filters": "16777216", "kernel": "3,3"}},)"
                              R"({"type": "flatten"}, {"type": "dense", "name": "output", "settings": {"units": "3"}}]})";
    BOOST_CHECK_EXCEPTION(network_from_sections(forged_model(image, 81)), InputError, [&](const InputError& e) {
        return message_is(e, cannot_build + "network: the parameter count up to conv 'c' is 2432696320, above the limit "
                                            "of 1073741824");
    });
    // A sample shape whose element count overflows, and one that is merely too large.
    const std::string huge = R"({"sample_shape": [1, 16777216, 16777216, 16777216], "layers": [{"type": "flatten"}]})";
    BOOST_CHECK_EXCEPTION(network_from_sections(forged_model(huge, 1)), InputError, [](const InputError& e) {
        return message_is(e, "forged.model section 'ARCH': invalid architecture: shape (1, 16777216, 16777216, "
                             "16777216): the element count overflows");
    });
    const std::string large = R"({"sample_shape": [1, 4096, 4096, 4096], "layers": [{"type": "flatten"}]})";
    BOOST_CHECK_EXCEPTION(network_from_sections(forged_model(large, 1)), InputError, [&](const InputError& e) {
        return message_is(e, cannot_build + "flatten: input shape (None, 4096, 4096, 4096): floats per sample is "
                                            "68719476736, above the limit of 268435456");
    });
    // Dilation sizes the padding of every text at prediction.
    BOOST_CHECK_EXCEPTION(network_from_sections(forged_model(kim_json("35", "8", R"(, "dilation": "16777216")"), 81)),
                          InputError, [&](const InputError& e) {
                              return message_is(e, cannot_build + "conv 'c': settings 'kernel' 3 and 'dilation' 16777216 "
                                                                  "give a receptive extent of 33554433, above the limit "
                                                                  "of 4096");
                          });
}

// Issue 15: F4_arch_dim16777217 took 11 GB and 20 s before "the weights do not match". Sizes
// within the limits are compared with the weights section before the network is allocated:
// here 49 million parameters (390 MB with their gradients) that the file does not hold.
BOOST_AUTO_TEST_CASE(parameter_count_is_compared_with_the_weights_before_allocating) {
    const ModelFile file = forged_model(kim_json("35", "1048576"), 81);
    const long before = peak_rss_mb();
    BOOST_CHECK_EXCEPTION(network_from_sections(file), InputError, [](const InputError& e) {
        return message_is(e, "forged.model: the weights section holds 81 parameters, the architecture needs 49283086");
    });
    BOOST_CHECK_LT(peak_rss_mb() - before, 100);
    // The count agrees (35 x 2 embedding, 3 x 2 x 4 + 4 conv, 4 x 2 + 2 dense) but the values are missing.
    BOOST_CHECK_NO_THROW(network_from_sections(forged_model(kim_json("35", "2"), 108)));
    ModelFile short_values = forged_model(kim_json("35", "2"), 108);
    std::vector<std::uint8_t> weights;
    ByteWriter w(weights);
    w.put<std::uint64_t>(108);
    short_values.set("WGHT", 1, weights);
    BOOST_CHECK_EXCEPTION(network_from_sections(short_values), InputError, [](const InputError& e) {
        return message_is(e, "forged.model section 'WGHT': offset 8: the weights section holds 0 bytes of values for 108 "
                             "parameters (108 x 4 bytes expected)");
    });
}

// A damaged architecture is described in plain words, not by the JSON library's exception ids.
BOOST_AUTO_TEST_CASE(architecture_errors_name_the_key) {
    const auto error_of = [](const std::string& json) {
        try {
            network_from_sections(forged_model(json, 0));
        } catch (const InputError& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    const std::string prefix = "forged.model section 'ARCH': ";
    BOOST_TEST(error_of(R"({"sample_shape": [1, 1, 7]})") == prefix + "missing key 'layers'");
    BOOST_TEST(error_of(R"({"layers": []})") == prefix + "missing key 'sample_shape'");
    BOOST_TEST(error_of(R"({"sample_shape": [1, 1, 7], "layers": [{"name": "x"}]})") ==
               prefix + "layers[0]: missing key 'type'");
    BOOST_TEST(error_of(R"({"sample_shape": [1, -1, 7], "layers": []})") ==
               prefix + "sample_shape[1] must be a non-negative integer, got -1");
    BOOST_TEST(error_of(R"({"sample_shape": [1, 1, 7], "layers": [{"type": "dense", "settings": {"units": 2}}]})") ==
               prefix + "layers[0].settings.units must be a string, got a number");
    BOOST_TEST(error_of(R"({"sample_shape": [1, 1, 7], "layers": [{"type": "parallel", "branches": [{}]}]})") ==
               prefix + "layers[0].branches[0] must be a list of layers, got an object");
    BOOST_TEST(error_of("[1, 2]") == prefix + "the architecture must be a JSON object, got a list");
    BOOST_TEST(error_of("{").starts_with(prefix + "the architecture is not valid JSON ("));
}

// Issue 15: resuming a run without dev data read an empty "best parameters" list with
// memcpy(nullptr, p, 0), undefined behaviour (caught by UBSan: TEXTCNN_SANITIZE=ON).
BOOST_AUTO_TEST_CASE(empty_float_lists_round_trip) {
    std::vector<std::uint8_t> bytes;
    ByteWriter w(bytes);
    w.put_floats({});
    w.put<std::uint32_t>(7);
    ByteReader r(bytes, "empty");
    BOOST_TEST(r.get_floats("values").empty());
    BOOST_TEST(r.get<std::uint32_t>("after") == 7u);
    BOOST_TEST(r.at_end());
}

// Found by a hostile-file run: a count of 2^62 floats said "0 bytes needed" (wrapped).
BOOST_AUTO_TEST_CASE(a_count_too_large_to_multiply_is_said_as_a_product) {
    std::vector<std::uint8_t> bytes;
    ByteWriter(bytes).put<std::uint64_t>(std::uint64_t{1} << 62);
    ByteReader r(bytes, "big");
    BOOST_CHECK_EXCEPTION(r.get_floats("values"), InputError, [](const InputError& e) {
        return std::string(e.what()) == "big: truncated at offset 8 reading values (4611686018427387904 x 4 bytes needed, 0 left)";
    });
}

// Issue 15: a FIFO as --model blocked forever, /dev/zero said "cannot read: Success".
BOOST_AUTO_TEST_CASE(only_regular_files_are_read_as_models) {
    TempDir dir;
    const std::string fifo = (dir.path / "model.fifo").string();
    BOOST_REQUIRE_EQUAL(::mkfifo(fifo.c_str(), 0600), 0);
    BOOST_CHECK_EXCEPTION(read_model_file(fifo), IoError, [&](const IoError& e) {
        return message_is(e, fifo + ": not a regular file (a FIFO); a model file must be a regular file");
    });
    BOOST_CHECK_EXCEPTION(read_network("/dev/zero"), IoError, [](const IoError& e) {
        return message_is(e, "/dev/zero: not a regular file (a character device); a model file must be a regular file");
    });
}

// Issue 15: a huge regular file was read whole (allocated first). Its size alone now refuses
// it: a sparse file just over the bound costs neither memory nor time.
BOOST_AUTO_TEST_CASE(files_larger_than_any_model_are_refused_unread) {
    TempDir dir;
    const fs::path huge = dir.path / "huge.model";
    { std::ofstream(huge).put('T'); }
    fs::resize_file(huge, limits::max_model_file_bytes + 1);
    BOOST_CHECK_EXCEPTION(read_model_file(huge.string()), IoError, [&](const IoError& e) {
        return message_is(e, huge.string() + ": file too large: " + std::to_string(limits::max_model_file_bytes + 1) +
                                 " bytes (a model file may have at most " +
                                 std::to_string(limits::max_model_file_bytes) + ")");
    });
}

// A failed write names the path and the reason, and leaves no temporary file behind.
BOOST_AUTO_TEST_CASE(failed_writes_leave_no_temporary_file) {
    TempDir dir;
    const fs::path target = dir.path / "taken";
    fs::create_directories(target / "inside");  // a directory in the way: refused before any write
    BOOST_CHECK_EXCEPTION(write_network(target.string(), Network(image_spec(), Shape{1, 1, 6, 6})), IoError,
                          [&](const IoError& e) {
                              const std::string m = e.what();
                              BOOST_TEST_MESSAGE("got: " << m);
                              return m == target.string() + ": is a directory; the file to write needs a name";
                          });
    // A directory that cannot be written in: the temporary cannot be made.
    const fs::path locked = dir.path / "locked";
    fs::create_directories(locked);
    BOOST_CHECK_EXCEPTION(write_network((locked / "missing" / "m").string(), Network(image_spec(), Shape{1, 1, 6, 6})),
                          IoError, [&](const IoError& e) {
                              return std::string(e.what()).starts_with((locked / "missing" / "m").string() +
                                                                       ": cannot create temporary file ");
                          });
    // A FIFO is written into, not replaced (a reader drains it).
    const fs::path fifo = dir.path / "pipe";
    BOOST_REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    std::thread reader([&] {
        std::ifstream in(fifo, std::ios::binary);
        std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        BOOST_TEST(all.starts_with("TEXTCNN"));
    });
    write_network(fifo.string(), Network(image_spec(), Shape{1, 1, 6, 6}));
    reader.join();
    BOOST_TEST(fs::is_fifo(fifo));
    std::size_t left = 0;
    for (const auto& entry : fs::directory_iterator(dir.path)) left += entry.path().string().find(".tmp.") != std::string::npos;
    BOOST_TEST(left == 0u);
}

std::string read_text_of(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// A symbolic link at the path is followed, as a shell redirection would: the file it names is
// replaced and the link stays (it became a file, and the linked model was left as it was).
BOOST_AUTO_TEST_CASE(writes_follow_symbolic_links) {
    TempDir dir;
    const Network network(image_spec(), Shape{1, 1, 6, 6});
    fs::create_directories(dir.path / "models");
    const fs::path target = dir.path / "models" / "v3.model", link = dir.path / "current.model";
    std::ofstream(target) << "old";
    fs::create_symlink("models/v3.model", link);  // relative to the link's directory
    write_network(link.string(), network);
    BOOST_TEST(fs::is_symlink(link));
    BOOST_TEST(read_model_file(target.string()).find("ARCH") != nullptr);
    // A link to a link, and a dangling one: the file at the end is written (created).
    const fs::path chain = dir.path / "chain.model", dangling = dir.path / "dangling.model";
    fs::create_symlink(link, chain);
    fs::create_symlink(dir.path / "models" / "new.model", dangling);
    fs::remove(target);
    write_network(chain.string(), network);
    write_network(dangling.string(), network);
    BOOST_TEST(fs::is_symlink(chain));
    BOOST_TEST(fs::is_symlink(dangling));
    BOOST_TEST(fs::is_regular_file(target));
    BOOST_TEST(fs::is_regular_file(dir.path / "models" / "new.model"));
    // A name of one of this process's descriptors is written through it, at its offset (as
    // `>>`): /dev/fd/N of a file opened for appending, and a link to /proc/self/fd/N (as
    // /dev/stdout is): the link to /proc/self/fd/N led to "pipe:[N]" and a failed write.
    const fs::path appended = dir.path / "appended.bin";
    std::ofstream(appended) << "LOG\n";
    const int fd = ::open(appended.c_str(), O_WRONLY | O_APPEND);
    BOOST_REQUIRE(fd >= 0);
    const fs::path descriptor_link = dir.path / "descriptor";
    fs::create_symlink("/proc/self/fd/" + std::to_string(fd), descriptor_link);
    for (const std::string name : {"/dev/fd/" + std::to_string(fd), descriptor_link.string()}) {
        const auto before = fs::file_size(appended);
        write_network(name, network);
        BOOST_TEST(fs::file_size(appended) > before + 100);
    }
    ::close(fd);
    BOOST_TEST(read_text_of(appended).starts_with("LOG\nTEXTCNN"));
    BOOST_TEST(fs::is_symlink(descriptor_link));
    // A loop is refused, naming the path, and nothing is written.
    const fs::path a = dir.path / "a", b = dir.path / "b";
    fs::create_symlink(b, a);
    fs::create_symlink(a, b);
    BOOST_CHECK_EXCEPTION(write_network(a.string(), network), IoError, [&](const IoError& e) {
        BOOST_TEST_MESSAGE("got: " << e.what());
        return std::string(e.what()).find(": cannot write: Too many levels of symbolic links") != std::string::npos;
    });
    BOOST_TEST(fs::is_symlink(a));
    BOOST_TEST(fs::is_symlink(b));
    std::size_t left = 0;
    for (const auto& entry : fs::recursive_directory_iterator(dir.path)) left += entry.path().string().find(".tmp.") != std::string::npos;
    BOOST_TEST(left == 0u);
}

// Models written by format version 1 must keep loading and predicting the same (USERS.md theme
// 1). The fixtures were written by this test itself:
//   test_model_file --run_test=format_version_1_fixtures_keep_loading -- --write-fixtures
// Never regenerate them for a new format version: add new fixtures next to them instead.
BOOST_AUTO_TEST_CASE(format_version_1_fixtures_keep_loading) {
    const auto& suite = boost::unit_test::framework::master_test_suite();
    const bool write = suite.argc > 1 && std::string(suite.argv[1]) == "--write-fixtures";
    for (int which = 0; which < 2; ++which) {
        const bool text = which == 0;
        const fs::path path = fixture_dir() / (text ? "kim_v1.model" : "image_v1.model");
        const Tensor input = text ? kim_input() : image_input();
        if (write) {
            fs::create_directories(fixture_dir());
            Network net(text ? kim_spec() : image_spec(), text ? Shape{1, 1, 7} : Shape{1, 1, 6, 6});
            net.initialize({}, 2014);
            ModelFile file;
            add_network_sections(file, net);
            file.set("XPCT", 1, expectation_payload(input, predict(net, input)));
            write_model_file(path.string(), file);
        }
        BOOST_TEST_CONTEXT(path.filename().string()) {
            const ModelFile file = read_model_file(path.string());
            const Network net = network_from_sections(file);
            BOOST_TEST((net.spec() == (text ? kim_spec() : image_spec())));
            ByteReader r(file.require("XPCT", 1).payload, path.string());
            const auto rank = r.get<std::uint32_t>("rank");
            std::vector<std::size_t> dims;
            for (std::uint32_t i = 0; i < rank; ++i) dims.push_back(r.get<std::uint64_t>("dim"));
            const Tensor stored_input(Shape(dims), r.get_floats("input"));
            const std::vector<float> expected = r.get_floats("output");
            BOOST_TEST(std::equal(stored_input.values().begin(), stored_input.values().end(), input.values().begin(),
                                  input.values().end()));
            const Tensor output = predict(net, stored_input);
            BOOST_REQUIRE_EQUAL(output.size(), expected.size());
            for (std::size_t i = 0; i < expected.size(); ++i) BOOST_TEST(output[i] == expected[i], boost::test_tools::tolerance(1e-5f));
        }
    }
}

// read_model_file reads a file section by section (each payload straight into place); what it
// gives, or the error it throws, is decode_model_file's on the file's bytes: checked on a file of
// several sections (one of 3 MB, one empty) and on damaged copies of a small one: cut at every
// offset, each byte flipped, a byte added.
BOOST_AUTO_TEST_CASE(reading_in_place_equals_decoding_the_bytes) {
    TempDir dir;
    const std::string path = (dir.path / "m.model").string();
    const auto write = [&](const std::vector<std::uint8_t>& bytes) {
        std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()),
                                                    static_cast<std::streamsize>(bytes.size()));
    };
    const auto outcome = [&](auto&& read) -> std::string {
        try {
            const ModelFile file = read();
            std::string s = file.source;
            for (const auto& sec : file.sections())
                s += " " + sec.tag + "/" + std::to_string(sec.version) + "/" + std::to_string(sec.payload.size()) + "/" +
                     std::to_string(std::accumulate(sec.payload.begin(), sec.payload.end(), std::uint64_t{0},
                                                    [](std::uint64_t h, std::uint8_t b) { return h * 131 + b; }));
            return s;
        } catch (const InputError& e) {
            return std::string("InputError ") + e.what();
        }
    };
    const auto agree = [&](const std::vector<std::uint8_t>& bytes) {
        write(bytes);
        return outcome([&] { return read_model_file(path); }) == outcome([&] { return decode_model_file(bytes, path); });
    };
    ModelFile big;
    std::vector<std::uint8_t> table(3 << 20);
    for (std::size_t i = 0; i < table.size(); ++i) table[i] = static_cast<std::uint8_t>(i * 7 + i / 4096);
    big.set("HEAD", 1, {1, 2, 3});
    big.set("BIG_", 2, table);
    big.set("EMPT", 1, {});
    const auto big_bytes = encode_model_file(big);
    write(big_bytes);
    const ModelFile back = read_model_file(path);
    BOOST_TEST_REQUIRE(back.sections().size() == 3u);
    BOOST_TEST((back.find("BIG_")->payload == table));
    BOOST_TEST(back.find("BIG_")->version == 2u);
    BOOST_TEST(back.source == path);
    BOOST_TEST(agree(big_bytes));

    const auto bytes = encoded_kim_model();
    BOOST_TEST(agree(bytes));
    for (std::size_t n = 0; n < bytes.size(); n += 7) BOOST_TEST_REQUIRE(agree({bytes.begin(), bytes.begin() + n}), "cut to " << n);
    for (std::size_t i = 0; i < bytes.size(); i += 5) {
        auto copy = bytes;
        copy[i] ^= 0x5a;
        BOOST_TEST_REQUIRE(agree(copy), "byte " << i << " flipped");
    }
    auto longer = bytes;
    longer.push_back(0);
    BOOST_TEST(agree(longer));
}
