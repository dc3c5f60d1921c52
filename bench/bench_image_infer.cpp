// Inference speed of an image network: Network::forward over batches (the plain path) against
// Network::forward_chunked over the same batches, interleaved in one run so that a loaded
// machine slows both alike, and whether their outputs are bit-identical.
//
//   bench_image_infer [--arch cnn_1_with_pooling] [--images IDX] [--batches 100,1000]
//                     [--chunks 16,32,64] [--threads 2] [--repeats 7]
//
// Weights are Glorot-uniform from seed 1 (speed does not depend on their values); images come
// from the IDX file (default: Fashion-MNIST's 10,000 test images) or are random when it is
// missing. Each timed pass covers every image, batch by batch, copying each batch out of the
// image tensor as imagecnn does; printed: the median images/s over the repeats.
#include "textcnn/nn/architecture.h"
#include "textcnn/image/idx.h"
#include "textcnn/nn/network.h"
#include "textcnn/core/rng.h"
#include "textcnn/core/runtime.h"

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

using namespace textcnn;

namespace {

std::vector<std::size_t> parse_list(const std::string& text) {
    std::vector<std::size_t> out;
    std::size_t start = 0;
    while (start <= text.size()) {
        const std::size_t end = std::min(text.find(',', start), text.size());
        out.push_back(std::stoul(text.substr(start, end - start)));
        start = end + 1;
    }
    return out;
}

double seconds_of(const std::function<void()>& f) {
    const auto a = std::chrono::steady_clock::now();
    f();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - a).count();
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
    std::string arch_name = "cnn_1_with_pooling";
    std::string images_path = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz";
    std::vector<std::size_t> batches{100, 1000}, chunks{16, 32, 64};
    std::size_t threads = 2, repeats = 7;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string key = argv[i], value = argv[i + 1];
        if (key == "--arch") arch_name = value;
        else if (key == "--images") images_path = value;
        else if (key == "--batches") batches = parse_list(value);
        else if (key == "--chunks") chunks = parse_list(value);
        else if (key == "--threads") threads = std::stoul(value);
        else if (key == "--repeats") repeats = std::max<std::size_t>(1, std::stoul(value));
        else {
            fmt::print(stderr, "bench_image_infer: unknown option {}\n", key);
            return 2;
        }
    }
    ThreadLimit limit(threads);
    Architecture arch = builtin_architecture(arch_name);
    bind_class_count(arch.layers, 10);
    Tensor images;
    if (std::filesystem::exists(images_path)) {
        images = read_idx_images(images_path);
    } else {
        images = Tensor(Shape{10000, 1, 28, 28});
        Rng rng(7);
        for (float& v : images.values()) v = rng.uniform(0.0f, 1.0f);
        images_path = "random pixels";
    }
    const std::size_t n = images.shape().batch();
    Network net(arch.layers, images.shape().with_batch(1));
    net.initialize(Initializer{}, 1);
    fmt::print("{}: {} images of {} ({}), {} threads, median of {} passes\n", arch_name, n,
               images.shape().with_batch(1).str(), images_path, threads, repeats);

    const std::size_t classes = net.output_shape(1).per_sample();
    for (const std::size_t batch_size : batches) {
        // Plain path: one Workspace, forward per batch.
        Network::Workspace ws = net.make_workspace();
        Tensor batch;
        std::vector<float> plain_out(n * classes);
        const auto plain = [&] {
            for (std::size_t first = 0; first < n; first += batch_size) {
                const std::size_t count = std::min(batch_size, n - first);
                batch.resize(images.shape().with_batch(count));
                std::memcpy(batch.data(), images.sample(first), batch.size() * sizeof(float));
                const Tensor& out = net.forward(batch, ws, RunContext{Mode::inference});
                std::memcpy(plain_out.data() + first * classes, out.data(), out.size() * sizeof(float));
            }
        };
        std::vector<Network::ChunkedWorkspace> chunked_ws;
        std::vector<std::vector<float>> chunked_out(chunks.size(), std::vector<float>(n * classes));
        for (std::size_t k = 0; k < chunks.size(); ++k) chunked_ws.push_back(net.make_chunked_workspace());
        const auto chunked = [&](std::size_t k) {
            for (std::size_t first = 0; first < n; first += batch_size) {
                const std::size_t count = std::min(batch_size, n - first);
                batch.resize(images.shape().with_batch(count));
                std::memcpy(batch.data(), images.sample(first), batch.size() * sizeof(float));
                const Tensor& out = net.forward_chunked(batch, chunked_ws[k], chunks[k]);
                std::memcpy(chunked_out[k].data() + first * classes, out.data(), out.size() * sizeof(float));
            }
        };
        plain();  // warm-up: buffers sized, threads started
        for (std::size_t k = 0; k < chunks.size(); ++k) chunked(k);
        std::vector<double> plain_t;
        std::vector<std::vector<double>> chunked_t(chunks.size());
        for (std::size_t r = 0; r < repeats; ++r) {
            plain_t.push_back(seconds_of(plain));
            for (std::size_t k = 0; k < chunks.size(); ++k) chunked_t[k].push_back(seconds_of([&] { chunked(k); }));
        }
        const double plain_rate = n / median(plain_t);
        fmt::print("batch {:5}: forward         {:8.0f} images/s\n", batch_size, plain_rate);
        for (std::size_t k = 0; k < chunks.size(); ++k) {
            float max_diff = 0.0f;
            for (std::size_t i = 0; i < plain_out.size(); ++i)
                max_diff = std::max(max_diff, std::abs(plain_out[i] - chunked_out[k][i]));
            const bool identical = std::memcmp(plain_out.data(), chunked_out[k].data(), plain_out.size() * sizeof(float)) == 0;
            const double rate = n / median(chunked_t[k]);
            fmt::print("batch {:5}: chunked <= {:3}  {:8.0f} images/s ({:.2f}x), outputs {}\n", batch_size, chunks[k], rate,
                       rate / plain_rate, identical ? "bit-identical" : fmt::format("differ by up to {:g}", max_diff));
        }
    }
}
