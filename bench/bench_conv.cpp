// Convolution speed against OpenBLAS sgemm on the same matrix products, measured in one run.
//
//   bench_conv [--threads N] [--repeats R] [--filter TEXT]
//
// For each shape it prints the median over R repetitions of forward + backward of ConvLayer
// (GFLOP/s counting the dense products: forward 2*F*K*P, backward twice that with an input
// gradient, once without), the median time of the equivalent plain sgemm calls on
// pre-built matrices (forward W^T*X, backward X*dY^T and W*dY), and the ratio. The sparse rows
// run the backward after max-over-time pooling (one non-zero per filter per sentence): their
// GFLOP/s counts the dense-equivalent work, so they show the speed-up, not arithmetic rate.
#include "textcnn/nn/conv.h"
#include "textcnn/core/runtime.h"

#include "nn/gemm.h"

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <vector>

using namespace textcnn;

namespace {

double median_seconds(std::size_t repeats, const std::function<void()>& f) {
    f();  // warm-up: buffers sized, BLAS threads started
    std::vector<double> t;
    for (std::size_t r = 0; r < repeats; ++r) {
        const auto a = std::chrono::steady_clock::now();
        f();
        const auto b = std::chrono::steady_clock::now();
        t.push_back(std::chrono::duration<double>(b - a).count());
    }
    std::sort(t.begin(), t.end());
    return t[t.size() / 2];
}

Tensor random_tensor(const Shape& shape, std::uint64_t seed) {
    Tensor t(shape);
    Rng rng(seed);
    for (float& v : t.values()) v = rng.uniform(-1.0f, 1.0f);
    return t;
}

struct Case {
    std::string name;
    Shape input;
    std::map<std::string, std::string> settings;
    bool want_input_gradient = true;
    bool sparse = false;        // d_out has one non-zero per filter per sample
    std::size_t pack_gap = 0;   // > 0: pack the batch into one stream with this gap
};

void run_case(const Case& c, std::size_t repeats) {
    LayerSpec spec;
    spec.type = "conv";
    spec.name = c.name;
    spec.settings = c.settings;
    spec.settings["in_channels"] = std::to_string(c.input.channels());
    ConvLayer layer(spec);
    std::vector<std::vector<float>> values, grads;
    std::vector<std::vector<std::uint32_t>> touched(2);
    std::vector<ParameterBinding> bindings;
    for (const auto& p : layer.parameters()) {
        values.emplace_back(p.size());
        grads.emplace_back(p.size());
    }
    for (std::size_t i = 0; i < values.size(); ++i) bindings.push_back({values[i].data(), grads[i].data(), &touched[i]});
    layer.bind(bindings);
    Rng rng(1);
    layer.initialize(Initializer{}, rng);

    Tensor in = random_tensor(c.input, 2);
    const std::size_t N = c.input.batch();
    if (c.pack_gap > 0) {
        // The packed text path: sentences end to end with zero gaps.
        const std::size_t L = c.input.spatial(0), C = c.input.channels();
        const std::size_t total = c.pack_gap + N * (L + c.pack_gap);
        Tensor packed(Shape{1, C, total});
        for (std::size_t n = 0; n < N; ++n) {
            const std::size_t offset = c.pack_gap + n * (L + c.pack_gap);
            std::memcpy(packed.data() + offset * C, in.sample(n), L * C * sizeof(float));
            packed.spans.push_back({static_cast<std::uint32_t>(offset), static_cast<std::uint32_t>(L)});
        }
        in = std::move(packed);
    }
    auto state = layer.make_state();
    Tensor out;
    const RunContext ctx{Mode::training};
    layer.forward(in, out, *state, ctx);
    Tensor d_out = random_tensor(out.shape(), 3);
    if (c.sparse) {
        d_out.zero();
        const std::size_t F = layer.filters();
        for (std::size_t n = 0; n < N; ++n) {
            const std::size_t first = in.packed() ? out.spans[n].offset : n * out.shape().positions();
            const std::size_t len = in.packed() ? out.spans[n].length : out.shape().positions();
            for (std::size_t f = 0; f < F; ++f) d_out[(first + rng.below(len)) * F + f] = rng.uniform(-1.0f, 1.0f);
        }
    }
    Tensor d_in(in.shape());
    d_in.spans = in.spans;
    const double t_forward = median_seconds(repeats, [&] { layer.forward(in, out, *state, ctx); });
    const double t_backward = median_seconds(repeats, [&] {
        layer.backward(in, out, d_out, c.want_input_gradient ? &d_in : nullptr, *state, ctx);
    });

    // The equivalent products on ready-made matrices: M = filters, K = window, P = outputs.
    const std::size_t F = layer.filters();
    const std::size_t K = layer.window_size();
    std::size_t P = 0;
    if (in.packed()) {
        for (const auto& s : out.spans) P += s.length;
    } else {
        P = out.shape().batch() * out.shape().positions();
    }
    std::vector<float> cols(K * P, 0.5f), w(K * F, 0.25f), y(F * P), dy(F * P, 0.1f), dw(K * F), dcols(K * P);
    const double g_forward = median_seconds(repeats, [&] {
        detail::sgemm(true, false, F, P, K, 1.0f, w.data(), K, cols.data(), K, 0.0f, y.data(), F);
    });
    const double g_backward = median_seconds(repeats, [&] {
        detail::sgemm(false, true, K, F, P, 1.0f, cols.data(), K, dy.data(), F, 0.0f, dw.data(), K);
        if (c.want_input_gradient)
            detail::sgemm(false, false, K, P, F, 1.0f, w.data(), K, dy.data(), F, 0.0f, dcols.data(), K);
    });
    const double flops_forward = 2.0 * F * K * P;
    const double flops_backward = flops_forward * (c.want_input_gradient ? 2.0 : 1.0);
    const double conv_rate = (flops_forward + flops_backward) / (t_forward + t_backward) / 1e9;
    const double gemm_rate = (flops_forward + flops_backward) / (g_forward + g_backward) / 1e9;
    fmt::print("{:<34} {:>8.3f} {:>8.3f} {:>9.1f} {:>9.0f} | {:>8.3f} {:>9.1f} | {:>5.0f}%\n", c.name,
               t_forward * 1e3, t_backward * 1e3, conv_rate, N / (t_forward + t_backward), (g_forward + g_backward) * 1e3,
               gemm_rate, 100.0 * conv_rate / gemm_rate);
}

}  // namespace

int main(int argc, char** argv) {
    std::size_t threads = 2;
    std::size_t repeats = 9;
    std::string filter;  // run only the cases whose name contains this
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--threads" && i + 1 < argc) threads = std::strtoul(argv[++i], nullptr, 10);
        else if (a == "--filter" && i + 1 < argc) filter = argv[++i];
        else if (a == "--repeats" && i + 1 < argc) repeats = std::max<std::size_t>(1, std::strtoul(argv[++i], nullptr, 10));
        else {
            fmt::print(stderr, "usage: bench_conv [--threads N] [--repeats R] [--filter TEXT]\n");
            return 2;
        }
    }
    ThreadLimit limit(threads);
    fmt::print("{}\n", build_info());
    fmt::print("threads {}, median of {} repetitions\n\n", limit.threads(), repeats);
    fmt::print("{:<34} {:>8} {:>8} {:>9} {:>9} | {:>8} {:>9} | {:>6}\n", "case (fwd+bwd)", "fwd ms", "bwd ms", "GFLOP/s",
               "samples/s", "sgemm ms", "GFLOP/s", "ratio");
    std::vector<Case> cases;
    for (const char* width : {"3", "4", "5"}) {
        const std::map<std::string, std::string> s{{"filters", "100"}, {"kernel", width}};
        cases.push_back({fmt::format("text k={} dense", width), Shape{50, 300, 64}, s, true, false, 0});
        cases.push_back({fmt::format("text k={} sparse (max-pooled)", width), Shape{50, 300, 64}, s, true, true, 0});
        cases.push_back({fmt::format("text k={} packed dense", width), Shape{50, 300, 64}, s, true, false, 4});
        cases.push_back({fmt::format("text k={} packed sparse", width), Shape{50, 300, 64}, s, true, true, 4});
    }
    cases.push_back({"image 1x28x28 -> 8 5x5 same (no dX)", Shape{128, 1, 28, 28},
                     {{"filters", "8"}, {"kernel", "5,5"}, {"padding", "same"}}, false, false, 0});
    cases.push_back({"image 8x28x28 -> 8 3x3 same", Shape{128, 8, 28, 28},
                     {{"filters", "8"}, {"kernel", "3,3"}, {"padding", "same"}}, true, false, 0});
    for (const auto& c : cases)
        if (c.name.find(filter) != std::string::npos) run_case(c, repeats);
    return 0;
}
