#define BOOST_TEST_MODULE conv
#include <boost/test/unit_test.hpp>

#include "textcnn/nn/conv.h"
#include "textcnn/core/error.h"
#include "textcnn/core/runtime.h"

#include "gradient_check.h"

#include <cmath>
#include <functional>
#include <map>
#include <ostream>
#include <string>
#include <vector>

namespace textcnn {
// Lets BOOST_TEST print shapes when a comparison fails.
inline std::ostream& operator<<(std::ostream& os, const Shape& s) { return os << s.str(); }
}  // namespace textcnn

using namespace textcnn;
using textcnn::testing::bind_fresh;
using textcnn::testing::BoundParameters;
using textcnn::testing::check_gradients;
using textcnn::testing::random_tensor;

namespace {

LayerSpec conv_spec(std::map<std::string, std::string> settings, const std::string& name = "c1") {
    LayerSpec s;
    s.type = "conv";
    s.name = name;
    s.settings = std::move(settings);
    return s;
}

// Independent description of a convolution for the reference loops below (nothing shared
// with src/nn/conv.cpp but the layout conventions).
struct Ref {
    std::size_t N, C, H, W, F, kh, kw, sh, sw, dh, dw, top, left, OH, OW;
    bool bias;
};

std::size_t ref_before(const std::string& padding, std::size_t k, std::size_t d) {
    const std::size_t span = d * (k - 1);
    if (padding == "same") return span / 2;
    if (padding == "full") return span;
    return 0;
}

std::size_t ref_total(const std::string& padding, std::size_t k, std::size_t d) {
    const std::size_t span = d * (k - 1);
    if (padding == "same") return span;
    if (padding == "full") return 2 * span;
    return 0;
}

Ref make_ref(const Shape& in, std::size_t F, std::vector<std::size_t> k, std::vector<std::size_t> s,
             std::vector<std::size_t> d, const std::string& padding, bool bias) {
    Ref r{};
    r.N = in.batch();
    r.C = in.channels();
    r.F = F;
    r.bias = bias;
    const bool two_d = in.rank() == 4;
    r.H = two_d ? in.spatial(0) : 1;
    r.W = in.spatial(two_d ? 1 : 0);
    r.kh = two_d ? k[0] : 1;
    r.kw = k.back();
    r.sh = two_d ? s[0] : 1;
    r.sw = s.back();
    r.dh = two_d ? d[0] : 1;
    r.dw = d.back();
    r.top = two_d ? ref_before(padding, r.kh, r.dh) : 0;
    r.left = ref_before(padding, r.kw, r.dw);
    r.OH = two_d ? (r.H + ref_total(padding, r.kh, r.dh) - r.dh * (r.kh - 1) - 1) / r.sh + 1 : 1;
    r.OW = (r.W + ref_total(padding, r.kw, r.dw) - r.dw * (r.kw - 1) - 1) / r.sw + 1;
    return r;
}

// The plain nested-loop convolution (cross-correlation), accumulated in double.
std::vector<double> naive_forward(const Ref& r, const float* x, const std::vector<float>& w,
                                  const std::vector<float>& b) {
    const std::size_t K = r.kh * r.kw * r.C;
    std::vector<double> out(r.N * r.F * r.OH * r.OW);
    for (std::size_t n = 0; n < r.N; ++n)
        for (std::size_t oy = 0; oy < r.OH; ++oy)
            for (std::size_t ox = 0; ox < r.OW; ++ox)
                for (std::size_t f = 0; f < r.F; ++f) {
                    double acc = r.bias ? b[f] : 0.0;
                    for (std::size_t i = 0; i < r.kh; ++i)
                        for (std::size_t j = 0; j < r.kw; ++j)
                            for (std::size_t c = 0; c < r.C; ++c) {
                                const long y = long(oy * r.sh + i * r.dh) - long(r.top);
                                const long xx = long(ox * r.sw + j * r.dw) - long(r.left);
                                if (y < 0 || y >= long(r.H) || xx < 0 || xx >= long(r.W)) continue;
                                acc += double(x[((n * r.H + y) * r.W + xx) * r.C + c]) *
                                       w[f * K + (i * r.kw + j) * r.C + c];
                            }
                    out[((n * r.OH + oy) * r.OW + ox) * r.F + f] = acc;
                }
    return out;
}

// The plain nested-loop backward: weight, bias and input gradients.
void naive_backward(const Ref& r, const float* x, const std::vector<float>& w, const float* dy,
                    std::vector<double>& dw, std::vector<double>& db, std::vector<double>& dx) {
    const std::size_t K = r.kh * r.kw * r.C;
    dw.assign(K * r.F, 0.0);
    db.assign(r.F, 0.0);
    dx.assign(r.N * r.H * r.W * r.C, 0.0);
    for (std::size_t n = 0; n < r.N; ++n)
        for (std::size_t oy = 0; oy < r.OH; ++oy)
            for (std::size_t ox = 0; ox < r.OW; ++ox)
                for (std::size_t f = 0; f < r.F; ++f) {
                    const double g = dy[((n * r.OH + oy) * r.OW + ox) * r.F + f];
                    db[f] += g;
                    for (std::size_t i = 0; i < r.kh; ++i)
                        for (std::size_t j = 0; j < r.kw; ++j)
                            for (std::size_t c = 0; c < r.C; ++c) {
                                const long y = long(oy * r.sh + i * r.dh) - long(r.top);
                                const long xx = long(ox * r.sw + j * r.dw) - long(r.left);
                                if (y < 0 || y >= long(r.H) || xx < 0 || xx >= long(r.W)) continue;
                                const std::size_t xi = ((n * r.H + y) * r.W + xx) * r.C + c;
                                dw[f * K + (i * r.kw + j) * r.C + c] += g * x[xi];
                                dx[xi] += g * w[f * K + (i * r.kw + j) * r.C + c];
                            }
                }
}

template <typename A, typename B>
double max_scaled_difference(const A& a, const B& b, std::size_t n) {
    double worst = 0.0;
    for (std::size_t i = 0; i < n; ++i)
        worst = std::max(worst, std::abs(double(a[i]) - double(b[i])) / (1.0 + std::abs(double(b[i]))));
    return worst;
}

void set_values(BoundParameters& p, std::uint64_t seed) {
    Rng rng(seed);
    for (auto& v : p.values)
        for (float& x : v) x = rng.uniform(-1.0f, 1.0f);
}

std::string message_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    return "<no exception>";
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

BOOST_AUTO_TEST_CASE(shapes_and_parameter_counts) {
    ConvLayer image(conv_spec({{"in_channels", "3"}, {"filters", "8"}, {"kernel", "3,3"}}));
    std::size_t count = 0;
    for (const auto& p : image.parameters()) count += p.size();
    BOOST_TEST(count == 224u);  // 3*3*3*8 + 8
    BOOST_TEST(image.parameters()[0].rows == 27u);
    BOOST_TEST(image.parameters()[0].cols == 8u);
    BOOST_TEST(image.parameters()[0].max_norm_columns);
    BOOST_TEST(!image.parameters()[1].max_norm_columns);
    BOOST_TEST(image.output_shape(Shape{2, 3, 28, 28}) == (Shape{2, 8, 26, 26}));
    BOOST_TEST(image.output_shape(Shape{0, 3, 28, 28}) == (Shape{0, 8, 26, 26}));  // batch 0 = "None"

    ConvLayer text(conv_spec({{"in_channels", "300"}, {"filters", "100"}, {"kernel", "4"}, {"bias", "false"}}));
    BOOST_TEST(text.parameters().size() == 1u);
    BOOST_TEST(text.parameters()[0].size() == 4u * 300u * 100u);
    BOOST_TEST(text.output_shape(Shape{50, 300, 64}) == (Shape{50, 100, 61}));

    ConvLayer same(conv_spec({{"in_channels", "1"}, {"filters", "2"}, {"kernel", "4"}, {"padding", "same"}}));
    BOOST_TEST(same.output_shape(Shape{1, 1, 10}) == (Shape{1, 2, 10}));
    ConvLayer full(conv_spec({{"in_channels", "1"}, {"filters", "2"}, {"kernel", "4"}, {"padding", "full"}}));
    BOOST_TEST(full.output_shape(Shape{1, 1, 10}) == (Shape{1, 2, 13}));
    // floor((m + p_total - d*(f-1) - 1) / s) + 1 = floor((28 + 4 - 8 - 1) / 2) + 1 = 12
    ConvLayer strided(conv_spec(
        {{"in_channels", "1"}, {"filters", "2"}, {"kernel", "5,3"}, {"stride", "2"}, {"dilation", "2,1"}, {"padding", "same"}}));
    BOOST_TEST(strided.output_shape(Shape{1, 1, 28, 9}) == (Shape{1, 2, 14, 5}));
    BOOST_TEST(strided.details() == "2 filters 5x3, stride 2, dilation 2x1, same");

    BOOST_TEST(conv_axis_padding(Padding::same, 4, 1).before == 1u);  // even kernel: odd pixel after
    BOOST_TEST(conv_axis_padding(Padding::same, 4, 1).after == 2u);
    BOOST_TEST(conv_axis_padding(Padding::full, 3, 2).before == 4u);
}

// The article's example: a 5x5 binary image and the 3x3 "X" filter [[1,0,1],[0,1,0],[1,0,1]].
BOOST_AUTO_TEST_CASE(hand_computed_5x5_valid_same_full) {
    const std::vector<float> image{1, 1, 1, 0, 0,  //
                                   0, 1, 1, 1, 0,  //
                                   0, 0, 1, 1, 1,  //
                                   0, 0, 1, 1, 0,  //
                                   0, 1, 1, 0, 0};
    const std::vector<float> kernel{1, 0, 1, 0, 1, 0, 1, 0, 1};
    Tensor in(Shape{1, 1, 5, 5}, image);
    auto run = [&](const std::string& padding) {
        ConvLayer layer(conv_spec({{"in_channels", "1"}, {"filters", "1"}, {"kernel", "3,3"}, {"padding", padding}}));
        BoundParameters p = bind_fresh(layer);
        p.values[0] = kernel;
        p.values[1] = {0.0f};
        auto state = layer.make_state();
        Tensor out;
        layer.forward(in, out, *state, RunContext{});
        return out;
    };
    // valid: output (0,0) = window rows 0-2, cols 0-2 = [[1,1,1],[0,1,1],[0,0,1]]; the X picks
    // the corners 1 + 1 + 0 + 1 and the centre 1 = 4. (0,1): corners 1+0+0+1, centre 1 = 3 ...
    const Tensor valid = run("valid");
    BOOST_TEST(valid.shape() == (Shape{1, 1, 3, 3}));
    const std::vector<float> expected_valid{4, 3, 4, 2, 4, 3, 2, 3, 4};
    BOOST_TEST(std::vector<float>(valid.values().begin(), valid.values().end()) == expected_valid,
               boost::test_tools::per_element());

    // same (pad 1): the interior equals valid; corner (0,0) sees only the centre x(0,0) = 1 and
    // the corner tap on x(1,1) = 1, so 2; (4,4): centre x(4,4)=0 + corner x(3,3)=1 = 1.
    const Tensor same = run("same");
    BOOST_TEST(same.shape() == (Shape{1, 1, 5, 5}));
    BOOST_TEST(same[0] == 2.0f);
    BOOST_TEST(same[2 * 5 + 2] == 4.0f);  // = valid (1,1)
    BOOST_TEST(same[1 * 5 + 1] == 4.0f);  // = valid (0,0)
    BOOST_TEST(same[4 * 5 + 4] == 1.0f);
    // (0,2): centre x(0,2)=1, corners x(1,1)=1, x(1,3)=1 (the upper ones are padding) = 3.
    BOOST_TEST(same[2] == 3.0f);

    // full (pad 2): (0,0) only the bottom-right tap touches x(0,0) = 1; (6,6) only the
    // top-left tap touches x(4,4) = 0; (3,3) = valid (1,1) = 4.
    const Tensor full = run("full");
    BOOST_TEST(full.shape() == (Shape{1, 1, 7, 7}));
    BOOST_TEST(full[0] == 1.0f);
    BOOST_TEST(full[48] == 0.0f);
    BOOST_TEST(full[3 * 7 + 3] == 4.0f);
    // (0,2): bottom row of the kernel over image row 0, cols 0..2 = corners x(0,0)=1 + x(0,2)=1.
    BOOST_TEST(full[2] == 2.0f);
}

BOOST_AUTO_TEST_CASE(sobel_x_on_a_step_edge) {
    // Two identical channels: bright (1) in columns 0-1, dark (0) in columns 2-4.
    std::vector<float> values;
    for (int y = 0; y < 5; ++y)
        for (int x = 0; x < 5; ++x)
            for (int c = 0; c < 2; ++c) values.push_back(x < 2 ? 1.0f : 0.0f);
    Tensor in(Shape{1, 2, 5, 5}, values);
    ConvLayer sobel(conv_spec({{"in_channels", "2"}, {"filter", "sobel-x"}}));
    BOOST_TEST(sobel.parameters().size() == 1u);  // no bias by default with a fixed filter
    BOOST_TEST(!sobel.parameters()[0].trainable);
    BoundParameters p = bind_fresh(sobel);
    Rng rng(1);
    sobel.initialize(Initializer{}, rng);
    auto state = sobel.make_state();
    Tensor out;
    sobel.forward(in, out, *state, RunContext{});
    BOOST_TEST(out.shape() == (Shape{1, 1, 3, 3}));
    // Window columns 0-2: per row left - right = 1 - 0, weighted 1, 2, 1 -> 4 per channel,
    // 8 for the two channels. Columns 1-3: same, 8. Columns 2-4: all dark, 0.
    for (int y = 0; y < 3; ++y) {
        BOOST_TEST(out[y * 3 + 0] == 8.0f);
        BOOST_TEST(out[y * 3 + 1] == 8.0f);
        BOOST_TEST(out[y * 3 + 2] == 0.0f);
    }
    ConvLayer sobel_y(conv_spec({{"in_channels", "2"}, {"filter", "sobel-y"}, {"padding", "same"}}));
    BoundParameters py = bind_fresh(sobel_y);
    sobel_y.initialize(Initializer{}, rng);
    auto state_y = sobel_y.make_state();
    sobel_y.forward(in, out, *state_y, RunContext{});
    // Inside (rows 1-3) a vertical edge gives no vertical gradient; on row 0 the padding makes
    // one: column 0 sees -(2*1 + 1*1) per channel = -3, doubled = -6.
    BOOST_TEST(out[1 * 5 + 0] == 0.0f);
    BOOST_TEST(out[0] == -6.0f);
    BOOST_TEST(sobel_y.details() == "1 filter 3x3, stride 1, same, no bias, sobel-y, fixed");

    const std::string m = message_of([] { ConvLayer bad(conv_spec({{"in_channels", "1"}, {"filter", "emboss"}})); });
    BOOST_TEST(contains(m, "conv 'c1'"), m);
    BOOST_TEST(contains(m, "sobel-x, sobel-y, laplace, gaussian"), m);
    const std::string t = message_of(
        [] { ConvLayer bad(conv_spec({{"in_channels", "1"}, {"filter", "laplace"}, {"trainable", "true"}})); });
    BOOST_TEST(contains(t, "cannot be trainable"), t);
}

BOOST_AUTO_TEST_CASE(initializers_respect_their_limits) {
    ConvLayer layer(conv_spec({{"in_channels", "4"}, {"filters", "6"}, {"kernel", "3"}}));
    BoundParameters p = bind_fresh(layer);
    Rng rng(5);
    layer.initialize(Initializer{Initializer::Kind::glorot_uniform}, rng);
    const float glorot = std::sqrt(6.0f / (12 + 18));  // fan_in = k*C, fan_out = k*F
    float biggest = 0.0f;
    for (float v : p.values[0]) biggest = std::max(biggest, std::abs(v));
    BOOST_TEST(biggest <= glorot);
    BOOST_TEST(biggest > 0.8f * glorot);
    BOOST_TEST(p.values[1] == std::vector<float>(6, 0.0f), boost::test_tools::per_element());
    layer.initialize(Initializer{Initializer::Kind::torch_default}, rng);
    const float torch = 1.0f / std::sqrt(12.0f);
    float bias_biggest = 0.0f;
    for (float v : p.values[1]) bias_biggest = std::max(bias_biggest, std::abs(v));
    BOOST_TEST(bias_biggest > 0.0f);
    BOOST_TEST(bias_biggest <= torch);
}

BOOST_AUTO_TEST_CASE(fast_conv_matches_reference_loops_on_random_shapes) {
    Rng rng(2024);
    const char* paddings[] = {"valid", "same", "full"};
    for (int trial = 0; trial < 40; ++trial) {
        const bool two_d = trial % 2 == 1;
        const std::size_t C = 1 + rng.below(5), F = 1 + rng.below(6), N = 1 + rng.below(3);
        std::vector<std::size_t> k{1 + rng.below(4)}, s{1 + rng.below(3)}, d{1 + rng.below(2)};
        if (trial % 4 == 0) s[0] = 1;  // exercise the 1D stride-1 stream path often
        if (two_d) {
            k.push_back(1 + rng.below(4));
            s.push_back(1 + rng.below(2));
            d.push_back(1 + rng.below(2));
        }
        const std::string padding = paddings[rng.below(3)];
        const bool bias = rng.below(2) == 0;
        std::vector<std::size_t> dims{N, C};
        for (std::size_t a = 0; a < k.size(); ++a) dims.push_back(d[a] * (k[a] - 1) + 1 + rng.below(7));
        const Shape shape(dims);
        auto list = [](const std::vector<std::size_t>& v) {
            std::string t;
            for (std::size_t i = 0; i < v.size(); ++i) {
                if (i) t += ',';
                t += std::to_string(v[i]);
            }
            return t;
        };
        ConvLayer layer(conv_spec({{"in_channels", std::to_string(C)}, {"filters", std::to_string(F)},
                                   {"kernel", list(k)}, {"stride", list(s)}, {"dilation", list(d)},
                                   {"padding", padding}, {"bias", bias ? "true" : "false"}}));
        BoundParameters p = bind_fresh(layer);
        set_values(p, trial);
        const Tensor in = random_tensor(shape, 100 + trial);
        auto state = layer.make_state();
        Tensor out;
        layer.forward(in, out, *state, RunContext{Mode::training});
        const Ref r = make_ref(shape, F, k, s, d, padding, bias);
        const std::vector<float> no_bias;
        const auto expected = naive_forward(r, in.data(), p.values[0], bias ? p.values[1] : no_bias);
        const std::string what = "trial " + std::to_string(trial) + " input " + shape.str() + " kernel " + list(k) +
                                 " stride " + list(s) + " dilation " + list(d) + " " + padding;
        BOOST_TEST_REQUIRE(out.size() == expected.size(), what);
        BOOST_TEST(max_scaled_difference(out.values(), expected, expected.size()) < 1e-5, what);

        const Tensor d_out = random_tensor(out.shape(), 200 + trial);
        Tensor d_in(shape);
        d_in.fill(0.5f);  // accumulated into, not assigned
        layer.backward(in, out, d_out, &d_in, *state, RunContext{Mode::training});
        std::vector<double> dw, db, dx;
        naive_backward(r, in.data(), p.values[0], d_out.data(), dw, db, dx);
        for (double& v : dx) v += 0.5;
        BOOST_TEST(max_scaled_difference(p.gradients[0], dw, dw.size()) < 1e-5, what);
        if (bias) BOOST_TEST(max_scaled_difference(p.gradients[1], db, db.size()) < 1e-5, what);
        BOOST_TEST(max_scaled_difference(d_in.values(), dx, dx.size()) < 1e-5, what);
    }
}

// A packed batch is computed exactly as each sentence alone, zero-padded.
BOOST_AUTO_TEST_CASE(packed_spans_equal_separate_sentences) {
    for (const std::string padding : {"valid", "same", "full"}) {
        const std::size_t C = 3, F = 4, k = 3;
        const std::vector<std::size_t> lengths{5, 3, 7};
        const std::size_t gap = 2;  // >= padding on either side (full: 2)
        std::vector<SequenceSpan> spans;
        std::size_t pos = gap;
        for (std::size_t len : lengths) {
            spans.push_back({static_cast<std::uint32_t>(pos), static_cast<std::uint32_t>(len)});
            pos += len + gap;
        }
        Tensor packed = random_tensor(Shape{1, C, pos}, 3);
        // Zero outside the spans (the packed invariant).
        std::vector<bool> inside(pos, false);
        for (const auto& s : spans)
            for (std::size_t t = s.offset; t < s.offset + s.length; ++t) inside[t] = true;
        for (std::size_t t = 0; t < pos; ++t)
            if (!inside[t])
                for (std::size_t c = 0; c < C; ++c) packed[t * C + c] = 0.0f;
        packed.spans = spans;

        ConvLayer layer(conv_spec({{"in_channels", "3"}, {"filters", "4"}, {"kernel", "3"}, {"padding", padding}}));
        BoundParameters p = bind_fresh(layer);
        set_values(p, 9);
        auto state = layer.make_state();
        Tensor out;
        layer.forward(packed, out, *state, RunContext{});
        BOOST_TEST(out.shape() == (Shape{1, F, pos}));
        BOOST_TEST_REQUIRE(out.spans.size() == spans.size());
        const std::size_t before = ref_before(padding, k, 1);
        std::vector<bool> out_inside(pos, false);
        for (std::size_t i = 0; i < spans.size(); ++i) {
            Tensor alone(Shape{1, C, lengths[i]});
            std::copy_n(packed.data() + spans[i].offset * C, lengths[i] * C, alone.data());
            const Ref r = make_ref(alone.shape(), F, {k}, {1}, {1}, padding, true);
            const auto expected = naive_forward(r, alone.data(), p.values[0], p.values[1]);
            BOOST_TEST(out.spans[i].offset == spans[i].offset - before);
            BOOST_TEST_REQUIRE(out.spans[i].length == r.OW);
            const float* got = out.data() + out.spans[i].offset * F;
            BOOST_TEST(max_scaled_difference(got, expected, expected.size()) < 1e-5, padding);
            for (std::size_t t = 0; t < r.OW; ++t) out_inside[out.spans[i].offset + t] = true;
        }
        bool zero_outside = true;
        for (std::size_t t = 0; t < pos; ++t)
            if (!out_inside[t])
                for (std::size_t f = 0; f < F; ++f) zero_outside = zero_outside && out[t * F + f] == 0.0f;
        BOOST_TEST(zero_outside, padding);

        testing::GradientCheckOptions opt;
        ConvLayer fresh(conv_spec({{"in_channels", "3"}, {"filters", "4"}, {"kernel", "3"}, {"padding", padding}}));
        const auto result = check_gradients(fresh, packed, opt);
        BOOST_TEST(result.passed, padding << ": worst " << result.worst_error << " at " << result.worst_where);
    }
}

BOOST_AUTO_TEST_CASE(gradient_checks) {
    struct Case {
        std::map<std::string, std::string> settings;
        Shape input;
    };
    const std::vector<Case> cases{
        {{{"filters", "3"}, {"kernel", "3"}}, Shape{2, 2, 7}},
        {{{"filters", "3"}, {"kernel", "4"}, {"padding", "same"}}, Shape{2, 2, 6}},
        {{{"filters", "2"}, {"kernel", "2"}, {"padding", "full"}}, Shape{2, 3, 5}},
        {{{"filters", "2"}, {"kernel", "3"}, {"dilation", "2"}, {"padding", "same"}}, Shape{2, 2, 9}},
        {{{"filters", "2"}, {"kernel", "3"}, {"stride", "2"}}, Shape{2, 2, 9}},
        {{{"filters", "2"}, {"kernel", "4"}, {"stride", "2"}, {"padding", "same"}}, Shape{1, 2, 8}},
        {{{"filters", "3"}, {"kernel", "3,3"}}, Shape{2, 2, 5, 5}},
        {{{"filters", "2"}, {"kernel", "2,2"}, {"padding", "same"}}, Shape{2, 2, 4, 5}},
        {{{"filters", "2"}, {"kernel", "3,2"}, {"stride", "2"}, {"padding", "full"}}, Shape{1, 2, 5, 6}},
        {{{"filters", "2"}, {"kernel", "3,3"}, {"dilation", "2"}, {"padding", "same"}}, Shape{1, 2, 6, 6}},
        {{{"filters", "2"}, {"kernel", "3,3"}, {"bias", "false"}, {"stride", "1,2"}}, Shape{2, 1, 5, 6}},
    };
    for (const auto& c : cases) {
        auto settings = c.settings;
        settings["in_channels"] = std::to_string(c.input.channels());
        ConvLayer layer(conv_spec(settings));
        const auto result = check_gradients(layer, random_tensor(c.input, 11));
        BOOST_TEST(result.passed, layer.details() << " on " << c.input.str() << ": worst " << result.worst_error
                                                  << " at " << result.worst_where);
        BOOST_TEST(result.checked > 0u);
        BOOST_TEST_MESSAGE(layer.details() << " on " << c.input.str() << ": " << result.checked << " checks, worst "
                                           << result.worst_error << " at " << result.worst_where);
    }
}

// After max-over-time pooling d_out has one non-zero per filter per sentence: the sparse
// backward must give what the dense one gives.
BOOST_AUTO_TEST_CASE(sparse_backward_equals_dense) {
    for (const std::string padding : {"valid", "same", "full"}) {
        for (const bool packed : {false, true}) {
            for (const std::size_t dilation : {1u, 2u}) {
                const std::size_t C = 7, F = 5, k = 4, N = 6, L = 40;
                const std::size_t gap = dilation * (k - 1);
                Tensor in;
                if (packed) {
                    std::vector<SequenceSpan> spans;
                    std::size_t pos = gap;
                    for (std::size_t n = 0; n < N; ++n) {
                        const std::size_t len = 10 + 5 * n;
                        spans.push_back({static_cast<std::uint32_t>(pos), static_cast<std::uint32_t>(len)});
                        pos += len + gap;
                    }
                    in = Tensor(Shape{1, C, pos});
                    const Tensor noise = random_tensor(in.shape(), 4);
                    for (const auto& s : spans)
                        std::copy_n(noise.data() + s.offset * C, s.length * C, in.data() + s.offset * C);
                    in.spans = spans;
                } else {
                    in = random_tensor(Shape{N, C, L}, 4);
                }
                const auto settings = std::map<std::string, std::string>{
                    {"in_channels", "7"}, {"filters", "5"}, {"kernel", "4"},
                    {"dilation", std::to_string(dilation)}, {"padding", padding}};
                ConvLayer layer(conv_spec(settings));
                BoundParameters p = bind_fresh(layer);
                set_values(p, 8);
                auto state = layer.make_state();
                Tensor out;
                layer.forward(in, out, *state, RunContext{Mode::training});
                // One non-zero per (sentence, filter), at a pseudo-random position of its span.
                Tensor d_out(out.shape());
                Rng rng(12);
                const std::size_t sentences = packed ? out.spans.size() : N;
                for (std::size_t n = 0; n < sentences; ++n) {
                    const std::size_t first = packed ? out.spans[n].offset : n * out.shape().spatial(0);
                    const std::size_t len = packed ? out.spans[n].length : out.shape().spatial(0);
                    for (std::size_t f = 0; f < F; ++f) d_out[(first + rng.below(len)) * F + f] = rng.uniform(-1, 1);
                }
                auto run = [&](ConvLayer::BackwardPath path, std::size_t threads) {
                    ThreadLimit limit(threads);
                    layer.set_backward_path(path);
                    Tensor d_in(in.shape());
                    layer.backward(in, out, d_out, &d_in, *state, RunContext{Mode::training});
                    std::vector<float> all(d_in.values().begin(), d_in.values().end());
                    all.insert(all.end(), p.gradients[0].begin(), p.gradients[0].end());
                    all.insert(all.end(), p.gradients[1].begin(), p.gradients[1].end());
                    return all;
                };
                const auto dense = run(ConvLayer::BackwardPath::dense, 2);
                const auto sparse = run(ConvLayer::BackwardPath::sparse, 2);
                const auto sparse_one_thread = run(ConvLayer::BackwardPath::sparse, 1);
                const auto automatic = run(ConvLayer::BackwardPath::automatic, 2);
                // The same d_out as its non-zeros (layer.h's sparse gradient chain).
                std::vector<GradientEntry> entries;
                for (std::size_t i = 0; i < d_out.size(); ++i)
                    if (d_out[i] != 0.0f)
                        entries.push_back({static_cast<std::uint32_t>(i / F), static_cast<std::uint32_t>(i % F), d_out[i]});
                auto from_entries = [&](ConvLayer::BackwardPath path, std::span<const GradientEntry> list) {
                    layer.set_backward_path(path);
                    Tensor d_in(in.shape());
                    if (!layer.backward_from_entries(in, out, list, &d_in, *state, RunContext{Mode::training}))
                        return std::vector<float>{};
                    std::vector<float> all(d_in.values().begin(), d_in.values().end());
                    all.insert(all.end(), p.gradients[0].begin(), p.gradients[0].end());
                    all.insert(all.end(), p.gradients[1].begin(), p.gradients[1].end());
                    return all;
                };
                const std::string what = padding + (packed ? " packed" : " batch") + " dilation " + std::to_string(dilation);
                BOOST_TEST(from_entries(ConvLayer::BackwardPath::automatic, entries) == sparse, what);
                BOOST_TEST(from_entries(ConvLayer::BackwardPath::dense, entries).empty(), what);  // declined
                std::swap(entries[0], entries[1]);
                BOOST_TEST(message_of([&] { from_entries(ConvLayer::BackwardPath::automatic, entries); })
                               .ends_with("gradient entry 1 (position " + std::to_string(entries[1].position) +
                                          ", channel " + std::to_string(entries[1].channel) +
                                          ") lies outside the output or out of order"),
                           what);
                BOOST_TEST(max_scaled_difference(sparse, dense, dense.size()) < 1e-5, what);
                BOOST_TEST(sparse == sparse_one_thread, what);  // deterministic whatever the threads
                BOOST_TEST(automatic == sparse, what);          // density 1/len < 1/8 picks sparse
                double norm = 0;
                for (float v : dense) norm += std::abs(v);
                BOOST_TEST(norm > 1.0, what);  // the comparison is not between zeros
            }
        }
    }
}

// Text repeats words: the distinct-columns forward multiplies each distinct column once and
// gathers the taps. Words here come from a vocabulary of six vectors, two of which differ from
// a third in one channel only (the first; the last, which the hash reads outside its vector
// lanes with 11 channels), so equal-hash-but-different columns must stay apart.
BOOST_AUTO_TEST_CASE(distinct_columns_forward_matches_reference_loops) {
    const std::size_t C = 11, F = 6, N = 5, L = 9;
    const Tensor words = random_tensor(Shape{6, C, 1}, 31);
    std::vector<float> vocabulary(words.data(), words.data() + 6 * C);
    std::copy_n(vocabulary.data() + 2 * C, C, vocabulary.data() + 3 * C);
    std::copy_n(vocabulary.data() + 2 * C, C, vocabulary.data() + 4 * C);
    vocabulary[3 * C] += 0.25f;
    vocabulary[4 * C + C - 1] -= 0.25f;
    Rng pick(5);
    for (const std::string padding : {"valid", "same", "full"}) {
        for (const std::size_t k : {3u, 4u}) {
            for (const std::size_t dilation : {1u, 2u}) {
                const std::string what = padding + " kernel " + std::to_string(k) + " dilation " + std::to_string(dilation);
                ConvLayer layer(conv_spec({{"in_channels", std::to_string(C)}, {"filters", std::to_string(F)},
                                           {"kernel", std::to_string(k)}, {"dilation", std::to_string(dilation)},
                                           {"padding", padding}}));
                BoundParameters p = bind_fresh(layer);
                set_values(p, 17);
                // An ordinary batch of sentences drawn from the vocabulary, and the same sentences packed.
                Tensor batch(Shape{N, C, L});
                for (std::size_t t = 0; t < N * L; ++t)
                    std::copy_n(vocabulary.data() + pick.below(6) * C, C, batch.data() + t * C);
                const std::size_t gap = 2 * dilation * (k - 1);
                Tensor packed(Shape{1, C, gap + N * (L + gap)});
                for (std::size_t n = 0; n < N; ++n) {
                    const std::size_t offset = gap + n * (L + gap);
                    packed.spans.push_back({static_cast<std::uint32_t>(offset), static_cast<std::uint32_t>(L)});
                    std::copy_n(batch.sample(n), L * C, packed.data() + offset * C);
                }
                auto run = [&](const Tensor& in, ConvLayer::ForwardPath path, std::size_t threads) {
                    ThreadLimit limit(threads);
                    layer.set_forward_path(path);
                    auto state = layer.make_state();
                    Tensor out;
                    layer.forward(in, out, *state, RunContext{Mode::training});
                    return out;
                };
                const Ref r = make_ref(batch.shape(), F, {k}, {1}, {dilation}, padding, true);
                const auto expected = naive_forward(r, batch.data(), p.values[0], p.values[1]);
                const Tensor distinct = run(batch, ConvLayer::ForwardPath::distinct_columns, 2);
                BOOST_TEST_REQUIRE(distinct.size() == expected.size(), what);
                BOOST_TEST(max_scaled_difference(distinct.values(), expected, expected.size()) < 1e-5, what);
                const auto values = [](const Tensor& t) { return std::vector<float>(t.values().begin(), t.values().end()); };
                // Deterministic whatever the threads; `automatic` takes it (most columns repeat).
                BOOST_TEST(values(run(batch, ConvLayer::ForwardPath::distinct_columns, 1)) == values(distinct), what);
                BOOST_TEST(values(run(batch, ConvLayer::ForwardPath::automatic, 2)) == values(distinct), what);

                const Tensor packed_out = run(packed, ConvLayer::ForwardPath::distinct_columns, 2);
                const Tensor packed_direct = run(packed, ConvLayer::ForwardPath::direct, 2);
                BOOST_TEST_REQUIRE(packed_out.spans.size() == N, what);
                BOOST_TEST(max_scaled_difference(packed_out.values(), packed_direct.values(), packed_out.size()) < 1e-5,
                           what);
                std::vector<bool> inside(packed_out.shape().spatial(0), false);
                for (std::size_t n = 0; n < N; ++n) {
                    const SequenceSpan& s = packed_out.spans[n];
                    BOOST_TEST_REQUIRE(s.length == r.OW, what);
                    const double* want = expected.data() + n * r.OW * F;
                    BOOST_TEST(max_scaled_difference(packed_out.data() + s.offset * F, want, r.OW * F) < 1e-5, what);
                    for (std::size_t t = s.offset; t < s.offset + s.length; ++t) inside[t] = true;
                }
                bool zero_outside = true;
                for (std::size_t t = 0; t < inside.size(); ++t)
                    for (std::size_t f = 0; f < F && !inside[t]; ++f) zero_outside = zero_outside && packed_out[t * F + f] == 0.0f;
                BOOST_TEST(zero_outside, what);
            }
        }
    }
    // Columns that never repeat: `automatic` keeps the per-tap GEMMs.
    ConvLayer layer(conv_spec({{"in_channels", "7"}, {"filters", "5"}, {"kernel", "3"}}));
    BoundParameters p = bind_fresh(layer);
    set_values(p, 3);
    const Tensor in = random_tensor(Shape{4, 7, 20}, 8);
    auto forward = [&](ConvLayer::ForwardPath path) {
        layer.set_forward_path(path);
        auto state = layer.make_state();
        Tensor out;
        layer.forward(in, out, *state, RunContext{Mode::training});
        return std::vector<float>(out.values().begin(), out.values().end());
    };
    BOOST_TEST(forward(ConvLayer::ForwardPath::automatic) == forward(ConvLayer::ForwardPath::direct));
}

BOOST_AUTO_TEST_CASE(results_do_not_depend_on_thread_count) {
    for (const Shape& shape : {Shape{8, 6, 30}, Shape{4, 3, 12, 12}}) {
        const bool two_d = shape.rank() == 4;
        ConvLayer layer(conv_spec({{"in_channels", std::to_string(shape.channels())}, {"filters", "8"},
                                   {"kernel", two_d ? "3,3" : "5"}, {"padding", "same"}}));
        BoundParameters p = bind_fresh(layer);
        set_values(p, 1);
        const Tensor in = random_tensor(shape, 2);
        auto run = [&](std::size_t threads) {
            ThreadLimit limit(threads);
            auto state = layer.make_state();
            Tensor out;
            layer.forward(in, out, *state, RunContext{Mode::training});
            const Tensor d_out = random_tensor(out.shape(), 3);
            Tensor d_in(in.shape());
            layer.backward(in, out, d_out, &d_in, *state, RunContext{Mode::training});
            // The 2D path runs BLAS single-threaded inside TBB tasks; the count comes back.
            BOOST_TEST(blas_threads() == static_cast<int>(threads));
            std::vector<float> all(out.values().begin(), out.values().end());
            all.insert(all.end(), d_in.values().begin(), d_in.values().end());
            all.insert(all.end(), p.gradients[0].begin(), p.gradients[0].end());
            return all;
        };
        BOOST_TEST(run(1) == run(2), shape.str());
    }
}

BOOST_AUTO_TEST_CASE(bad_use_names_the_layer_and_shapes) {
    ConvLayer layer(conv_spec({{"in_channels", "3"}, {"filters", "8"}, {"kernel", "3,3"}}, "conv_1"));
    BoundParameters p = bind_fresh(layer);
    auto state = layer.make_state();
    Tensor out;
    auto forward = [&](const Tensor& in) { return message_of([&] { layer.forward(in, out, *state, RunContext{}); }); };

    const std::string channels = forward(Tensor(Shape{2, 4, 5, 5}));
    BOOST_TEST(channels == "conv 'conv_1': input (2, 4, 5, 5) has 4 channels, layer expects 3");
    BOOST_CHECK_THROW(layer.output_shape(Shape{2, 4, 5, 5}), ShapeError);

    const std::string small = forward(Tensor(Shape{1, 3, 2, 5}));
    BOOST_TEST(small == "conv 'conv_1': input (1, 3, 2, 5) is too small for kernel 3x3 (dilation 1x1, padding valid): "
                        "output size would be < 1");
    const std::string zero_spatial = forward(Tensor(Shape{1, 3, 0, 5}));
    BOOST_TEST(contains(zero_spatial, "conv 'conv_1': input (1, 3, 0, 5)"), zero_spatial);
    const std::string empty = forward(Tensor(Shape{0, 3, 5, 5}));
    BOOST_TEST(empty == "conv 'conv_1': empty input (0, 3, 5, 5)");
    const std::string rank = forward(Tensor(Shape{1, 3, 5}));
    BOOST_TEST(contains(rank, "conv 'conv_1': input (1, 3, 5) is 1D but kernel '3,3' is 2D"), rank);

    ConvLayer text(conv_spec({{"in_channels", "2"}, {"filters", "2"}, {"kernel", "3"}, {"padding", "full"}}, "w3"));
    BoundParameters tp = bind_fresh(text);
    auto text_state = text.make_state();
    const std::string one_number = message_of([&] { text.forward(Tensor(Shape{1, 2, 5, 5}), out, *text_state, RunContext{}); });
    BOOST_TEST(contains(one_number, "conv 'w3': input (1, 2, 5, 5) is 2D but kernel '3' has one size"), one_number);

    // Packed: 'full' with kernel 3 needs 2 zero positions between sentences.
    Tensor packed(Shape{1, 2, 20});
    packed.spans = {{2, 5}, {8, 4}};  // gap of 1 between them
    const std::string gap = message_of([&] { text.forward(packed, out, *text_state, RunContext{}); });
    BOOST_TEST(gap == "conv 'w3': packed sequence 1 (offset 8, length 4) has a gap of 1 zero positions before it; "
                      "padding full needs at least 2 (input (1, 2, 20))");
    packed.spans = {{2, 5}, {17, 2}};  // only one position after the last
    const std::string tail = message_of([&] { text.forward(packed, out, *text_state, RunContext{}); });
    BOOST_TEST(tail == "conv 'w3': the last packed sequence is followed by 1 zero positions; padding full needs at "
                       "least 2 (input (1, 2, 20))");

    ConvLayer valid5(conv_spec({{"in_channels", "2"}, {"filters", "2"}, {"kernel", "5"}}, "w5"));
    BoundParameters vp = bind_fresh(valid5);
    auto valid_state = valid5.make_state();
    packed.spans = {{0, 6}, {8, 3}};
    const std::string short_sentence = message_of([&] { valid5.forward(packed, out, *valid_state, RunContext{}); });
    BOOST_TEST(short_sentence == "conv 'w5': packed sequence 1 (offset 8, length 3) is too short for kernel 5 "
                                 "(dilation 1, padding valid): its output length would be < 1 (input (1, 2, 20))");

    const std::string missing = message_of([] { ConvLayer bad(conv_spec({{"filters", "2"}, {"kernel", "3"}}, "x")); });
    BOOST_TEST(missing == "conv 'x': missing setting 'in_channels'");
    const std::string bad_padding =
        message_of([] { ConvLayer bad(conv_spec({{"in_channels", "1"}, {"filters", "2"}, {"kernel", "3"}, {"padding", "causal"}}, "x")); });
    BOOST_TEST(bad_padding == "conv 'x': setting 'padding' must be valid, same or full, got 'causal'");
    const std::string zero_stride =
        message_of([] { ConvLayer bad(conv_spec({{"in_channels", "1"}, {"filters", "2"}, {"kernel", "3"}, {"stride", "0"}}, "x")); });
    BOOST_TEST(zero_stride == "conv 'x': setting 'stride' must be at least 1, got '0'");
}
