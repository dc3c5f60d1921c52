// Writes the seed corpora of the fuzz targets: small inputs written for this project (no
// data set is copied), built with the library's own encoders where the format is binary.
//   make_seeds OUT_DIR FIXTURES_DIR
// creates OUT_DIR/<target>/<name> for every target of fuzz/ (FIXTURES_DIR is tests/fixtures:
// its models become model-file seeds, and a checkpoint is made from one of them).
#include "textcnn/image/idx.h"
#include "textcnn/image/image_io.h"
#include "textcnn/nn/architecture.h"
#include "textcnn/nn/model_file.h"
#include "textcnn/nn/trainer.h"
#include "textcnn/text/text_classifier.h"
#include "textcnn/text/tokenizer.h"
#include "textcnn/text/vocabulary.h"

#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<std::uint8_t>;

Bytes bytes_of(std::string_view text) { return {text.begin(), text.end()}; }

// A seed: option byte(s) the target reads first, then the data.
Bytes with_options(std::initializer_list<std::uint8_t> options, const Bytes& data) {
    Bytes out(options);
    out.insert(out.end(), data.begin(), data.end());
    return out;
}

void write_seed(const fs::path& dir, const std::string& name, const Bytes& bytes) {
    fs::create_directories(dir);
    std::ofstream out(dir / name, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (!out) throw std::runtime_error("cannot write " + (dir / name).string());
}

void tokenizer_seeds(const fs::path& dir) {
    const std::vector<std::string> texts = {
        "The lantern's glow didn't reach 3.14 metres; a.b.c stayed whole.",
        "Mail me@example.org or see https://example.org/a?b=1 and www.example.com, $5.99 or 10\xe2\x82\xac!",
        "Stra\xc3\x9f" "e \xce\xa3\xce\x91\xce\xa3 \xef\xac\x81ne \xef\xbc\xa1 e\xcc\x81",  // NFKC and case folding
        "\xe6\x88\x91\xe4\xbb\xac\xe5\x9c\xa8\xe6\xb2\xb3\xe8\xbe\xb9 \xe0\xb8\xaa\xe0\xb8\xa7\xe0\xb8\xb1\xe0\xb8\xaa\xe0\xb8\x94\xe0\xb8\xb5",
        "\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd \xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x91\xa7 ok",
        "bad \xc3\x28 bytes \xed\xa0\x80 and \xf4\x90\x80\x80 end \xe2\x82",
        "",
        "(quoted) \"words\" -- and ... 1,000,000 _x_ @user #tag"};
    for (std::size_t i = 0; i < texts.size(); ++i)
        for (std::uint8_t options : {0x00, 0x03, 0x0f, 0x0c})
            write_seed(dir, "text" + std::to_string(i) + "_" + std::to_string(options),
                       with_options({options}, bytes_of(texts[i])));
}

void document_seeds(const fs::path& dir) {
    const std::vector<std::pair<std::uint8_t, std::string>> files = {
        {0x01, "label,text\npos,a warm and quiet film\nneg,\"cold, \"\"slow\"\" and\nlong\"\n"},
        {0x01, "\xef\xbb\xbftext,label\r\nthe river rose,up\r\nthe stone sank,down\r\n"},
        {0x02, "label\ttext\npos\tgood lantern\nneg\tbad\tlamp\n"},
        {0x03, "__label__spam __label__ads win a prize now\n__label__ham see you at noon\nno label here\n"},
        {0x04, "first line of plain text\n\nthird line after a blank one"},
        {0x00, "label,text\n1,auto by extension\n"},
        {0x21, "label,text\npos,caf\xc3\xa9 \xff broken\n"},
        {0x11, "label,text\npos\nneg,two,many,fields\npos,fine\n"}};
    for (std::size_t i = 0; i < files.size(); ++i)
        for (std::uint8_t columns : {0x00, 0x0b, 0x13})
            write_seed(dir, "doc" + std::to_string(i) + "_" + std::to_string(columns),
                       with_options({files[i].first, columns}, bytes_of(files[i].second)));
}

void vectors_seeds(const fs::path& dir) {
    write_seed(dir, "header", with_options({0x00}, bytes_of("3 4\nriver 0.1 0.2 0.3 0.4\nstone -1 0 1e-3 2\nmoon 1 1 1 1\n")));
    write_seed(dir, "no_header", with_options({0x03}, bytes_of("lantern 0.5 0.25 -0.125\nquiet 1 2 3\n")));
    write_seed(dir, "normalized", with_options({0x0a}, bytes_of("2 2\nSTRASSE 1 2\n\xc3\x89 3 4\n")));
    Bytes binary = bytes_of("2 3\n");
    for (const char* word : {"river", "stone"}) {
        const Bytes w = bytes_of(std::string(word) + " ");
        binary.insert(binary.end(), w.begin(), w.end());
        const float values[3] = {0.5f, -1.0f, 2.0f};
        const auto* p = reinterpret_cast<const std::uint8_t*>(values);
        binary.insert(binary.end(), p, p + sizeof values);
        binary.push_back('\n');
    }
    write_seed(dir, "word2vec_binary", with_options({0x03}, binary));
}

void idx_seeds(const fs::path& dir) {
    const Bytes pixels = {0, 64, 128, 255, 1, 2, 3, 4, 5, 6, 7, 8};
    const Bytes images = textcnn::encode_idx_images(pixels, 2, 3, 2);
    const Bytes labels = textcnn::encode_idx_labels(Bytes{3, 1, 4});
    write_seed(dir, "images", images);
    write_seed(dir, "labels", labels);
    write_seed(dir, "images_gz", textcnn::gzip_bytes(images));
    write_seed(dir, "labels_gz", textcnn::gzip_bytes(labels));
    Bytes two_members = textcnn::gzip_bytes(Bytes(images.begin(), images.begin() + 10));
    const Bytes second = textcnn::gzip_bytes(Bytes(images.begin() + 10, images.end()));
    two_members.insert(two_members.end(), second.begin(), second.end());
    write_seed(dir, "images_two_members_gz", two_members);
}

void image_seeds(const fs::path& dir) {
    for (std::size_t channels = 1; channels <= 4; ++channels) {
        textcnn::Image image{5, 3, channels, {}};
        for (std::size_t i = 0; i < 5 * 3 * channels; ++i) image.pixels.push_back(static_cast<std::uint8_t>(i * 17));
        write_seed(dir, "png_" + std::to_string(channels), with_options({0}, textcnn::encode_png(image)));
    }
    write_seed(dir, "pgm_binary", with_options({1}, bytes_of("P5\n# grey\n3 2\n255\n\x01\x02\x03\x04\x05\x06")));
    write_seed(dir, "pgm_ascii", with_options({0}, bytes_of("P2\n2 2\n15\n0 5\n10 15\n")));
    write_seed(dir, "ppm_binary", with_options({3}, bytes_of("P6 1 2 255 \x10\x20\x30\x40\x50\x60")));
    write_seed(dir, "ppm_ascii_16bit", with_options({0}, bytes_of("P3 1 1 65535 1000 20000 65535\n")));
}

void architecture_seeds(const fs::path& dir) {
    for (const auto& name : textcnn::builtin_architecture_names())
        write_seed(dir, name, bytes_of(textcnn::builtin_architecture_text(name)));
    write_seed(dir, "text_branches", bytes_of(R"({"name": "kim", "input": [8, 12], "layers": [
      {"type": "parallel", "branches": [
        [{"type": "conv", "filters": 4, "kernel": 3, "dilation": 2}, {"type": "relu"}, {"type": "max_pool", "window": 2}],
        [{"type": "conv", "filters": 4, "kernel": 5}, {"type": "relu"}]]},
      {"type": "flatten"}, {"type": "dropout", "rate": 0.5}, {"type": "dense", "units": "classes"}]})"));
}

void model_seeds(const fs::path& dir, const fs::path& fixtures) {
    for (const auto& entry : fs::directory_iterator(fixtures / "models")) {
        std::ifstream in(entry.path(), std::ios::binary);
        const Bytes bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        write_seed(dir, entry.path().filename().string(), bytes);
    }
    // A checkpoint: a fixture model plus the optimizer and trainer sections.
    textcnn::ModelFile file = textcnn::read_model_file((fixtures / "models" / "kim_v1.model").string());
    const textcnn::Network net = textcnn::network_from_sections(file);
    textcnn::TrainerState state;
    state.seed = 7;
    state.train_count = 40;
    state.batch_size = 10;
    state.epoch = 1;
    state.best_accuracy = 0.5;
    state.best_parameters.assign(net.parameters().begin(), net.parameters().end());
    state.optimizer_name = "adam";
    textcnn::add_checkpoint_sections(file, net, state);
    write_seed(dir, "kim_checkpoint", textcnn::encode_model_file(file));
    // A small text model (Kim's layout) as an ensemble (section ENSM) of four members: float,
    // quantized with stored tables (QFLD v1), compact (QFLD v2), refined (QFLD v3) and compact
    // refined (QFLD v4).
    const std::vector<std::vector<std::string>> documents = {{"a", "calm", "sea"}, {"a", "rough", "sea", "today"}};
    const textcnn::Vocabulary vocabulary = textcnn::Vocabulary::build(documents);
    textcnn::TextModelSettings settings;
    settings.embedding_dim = 4;
    settings.maps = 3;
    settings.widths = {2, 3};
    textcnn::Network network(textcnn::text_cnn_spec(settings, vocabulary.size(), 2), textcnn::Shape{1, 1, 1});
    network.initialize(textcnn::Initializer{textcnn::Initializer::Kind::glorot_uniform, 0.25f}, 3);
    const textcnn::TextClassifier text_model({}, vocabulary, {"calm", "rough"}, std::move(network));
    const textcnn::ModelFile text_file = text_model.to_model_file();
    std::vector<textcnn::TextClassifier> members;
    for (int k = 0; k < 5; ++k) members.push_back(textcnn::TextClassifier::from_model_file(text_file));
    members[1].quantize();
    members[2].quantize(textcnn::TextClassifier::QuantizedTables::compact);
    members[3].quantize(textcnn::TextClassifier::QuantizedTables::refined);
    members[4].quantize(textcnn::TextClassifier::QuantizedTables::compact_refined);
    write_seed(dir, "text_model", textcnn::encode_model_file(text_file));
    write_seed(dir, "text_ensemble",
               textcnn::encode_model_file(textcnn::TextClassifier::ensemble(std::move(members)).to_model_file()));
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: make_seeds OUT_DIR FIXTURES_DIR\n");
        return 2;
    }
    try {
        const fs::path out = argv[1];
        tokenizer_seeds(out / "fuzz_tokenizer");
        document_seeds(out / "fuzz_documents");
        vectors_seeds(out / "fuzz_vectors");
        idx_seeds(out / "fuzz_idx");
        image_seeds(out / "fuzz_image");
        architecture_seeds(out / "fuzz_architecture");
        model_seeds(out / "fuzz_model_file", argv[2]);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "make_seeds: %s\n", e.what());
        return 1;
    }
    return 0;
}
