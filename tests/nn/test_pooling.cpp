#define BOOST_TEST_MODULE pooling
#include <boost/test/unit_test.hpp>

#include "textcnn/core/error.h"
#include "textcnn/nn/pooling.h"
#include "textcnn/core/runtime.h"

#include "gradient_check.h"

#include <functional>
#include <map>
#include <ostream>
#include <string>
#include <vector>

namespace textcnn {
inline std::ostream& operator<<(std::ostream& os, const Shape& s) { return os << s.str(); }
}  // namespace textcnn

using namespace textcnn;
using textcnn::testing::check_gradients;

namespace {

LayerSpec spec(const std::string& type, std::map<std::string, std::string> settings = {}, const std::string& name = "") {
    LayerSpec s;
    s.type = type;
    s.name = name;
    s.settings = std::move(settings);
    return s;
}

Tensor run(const Layer& layer, const Tensor& in, LayerState& state) {
    Tensor out;
    layer.forward(in, out, state, RunContext{Mode::training});
    return out;
}

std::vector<float> values(const Tensor& t) { return {t.values().begin(), t.values().end()}; }

// Distinct values spaced 0.05 apart in a scrambled order: max pooling has no near-ties, so
// finite differences of step 0.01 never move the arg-max.
Tensor distinct_tensor(const Shape& shape, std::uint64_t seed) {
    Tensor t(shape);
    const std::size_t n = t.size();
    std::vector<std::size_t> order(n);
    for (std::size_t i = 0; i < n; ++i) order[i] = i;
    Rng rng(seed);
    for (std::size_t i = n; i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
    for (std::size_t i = 0; i < n; ++i) t[order[i]] = -1.0f + 0.05f * static_cast<float>(i);
    return t;
}

void expect_close(const std::vector<float>& got, const std::vector<float>& expected) {
    BOOST_TEST_REQUIRE(got.size() == expected.size());
    for (std::size_t i = 0; i < got.size(); ++i) BOOST_TEST(got[i] == expected[i], boost::test_tools::tolerance(1e-6f));
}

std::string message_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    return "<no exception>";
}

}  // namespace

BOOST_AUTO_TEST_CASE(max_pool_2x2_stride_2_on_a_4x4_map) {
    // One channel, row-major:
    //   1 3 | 2 1
    //   4 2 | 0 5
    //   ----+----
    //   7 0 | 1 1
    //   1 8 | 2 3
    Tensor in(Shape{1, 1, 4, 4}, {1, 3, 2, 1, 4, 2, 0, 5, 7, 0, 1, 1, 1, 8, 2, 3});
    PoolLayer max_pool(spec("max_pool", {{"window", "2,2"}}));
    auto state = max_pool.make_state();
    const Tensor out = run(max_pool, in, *state);
    BOOST_TEST(out.shape() == (Shape{1, 1, 2, 2}));
    BOOST_TEST(values(out) == (std::vector<float>{4, 5, 8, 3}), boost::test_tools::per_element());
    // The gradient goes to the arg-max of each window only.
    Tensor d_out(out.shape(), {1, 2, 3, 4});
    Tensor d_in(in.shape());
    max_pool.backward(in, out, d_out, &d_in, *state, RunContext{Mode::training});
    BOOST_TEST(values(d_in) == (std::vector<float>{0, 0, 0, 0, 1, 0, 0, 2, 0, 0, 0, 0, 0, 3, 0, 4}),
               boost::test_tools::per_element());

    PoolLayer avg_pool(spec("avg_pool", {{"window", "2,2"}}));
    auto avg_state = avg_pool.make_state();
    // (1+3+4+2)/4, (2+1+0+5)/4, (7+0+1+8)/4, (1+1+2+3)/4
    BOOST_TEST(values(run(avg_pool, in, *avg_state)) == (std::vector<float>{2.5f, 2.0f, 4.0f, 1.75f}),
               boost::test_tools::per_element());
    BOOST_TEST(avg_pool.details() == "window 2x2, stride 2, valid");
}

BOOST_AUTO_TEST_CASE(channels_are_pooled_independently) {
    // 1D, two channels, length 4: channel 0 = 1 5 2 2, channel 1 = 9 0 3 4 (interleaved storage).
    Tensor in(Shape{1, 2, 4}, {1, 9, 5, 0, 2, 3, 2, 4});
    PoolLayer max_pool(spec("max_pool", {{"window", "2"}}));
    auto state = max_pool.make_state();
    const Tensor out = run(max_pool, in, *state);
    BOOST_TEST(out.shape() == (Shape{1, 2, 2}));
    BOOST_TEST(values(out) == (std::vector<float>{5, 9, 2, 4}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(same_padding_is_ignored_by_max_and_excluded_from_the_average) {
    // Length 5, window 2, stride 2, same: ceil(5/2) = 3 outputs; pad total 1, all after (TF).
    Tensor in(Shape{1, 1, 5}, {-1, -2, -3, -4, -5});
    PoolLayer max_pool(spec("max_pool", {{"window", "2"}, {"padding", "same"}}));
    auto state = max_pool.make_state();
    BOOST_TEST(values(run(max_pool, in, *state)) == (std::vector<float>{-1, -3, -5}), boost::test_tools::per_element());
    PoolLayer avg_pool(spec("avg_pool", {{"window", "2"}, {"padding", "same"}}));
    auto avg_state = avg_pool.make_state();
    BOOST_TEST(values(run(avg_pool, in, *avg_state)) == (std::vector<float>{-1.5f, -3.5f, -5.0f}),
               boost::test_tools::per_element());
    // Window 3, stride 1, same on length 4: pad 1 before, 1 after.
    Tensor in4(Shape{1, 1, 4}, {2, 4, 6, 8});
    PoolLayer avg3(spec("avg_pool", {{"window", "3"}, {"stride", "1"}, {"padding", "same"}}));
    auto s3 = avg3.make_state();
    BOOST_TEST(values(run(avg3, in4, *s3)) == (std::vector<float>{3, 4, 6, 7}), boost::test_tools::per_element());
    // 2D: 3x3 map, 2x2 window, stride 2, same -> 2x2; the last row/column windows are partial.
    Tensor in9(Shape{1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
    PoolLayer avg2d(spec("avg_pool", {{"window", "2,2"}, {"padding", "same"}}));
    auto s2d = avg2d.make_state();
    BOOST_TEST(values(run(avg2d, in9, *s2d)) == (std::vector<float>{3.0f, 4.5f, 7.5f, 9.0f}),
               boost::test_tools::per_element());
    BOOST_TEST(avg2d.output_shape(Shape{8, 3, 3, 3}) == (Shape{8, 3, 2, 2}));
}

BOOST_AUTO_TEST_CASE(global_pools_on_batches_and_packed_spans) {
    // Two samples, two channels, length 3; sample 0 channel 0 has a tie (3 at t=0 and t=2).
    Tensor in(Shape{2, 2, 3}, {3, 1, 0, 2, 3, 6,  //
                               -1, -2, -4, -3, -5, -1});
    GlobalPoolLayer max_pool(spec("global_max_pool"));
    auto state = max_pool.make_state();
    const Tensor out = run(max_pool, in, *state);
    BOOST_TEST(out.shape() == (Shape{2, 2}));
    BOOST_TEST(values(out) == (std::vector<float>{3, 6, -1, -1}), boost::test_tools::per_element());
    Tensor d_out(out.shape(), {10, 20, 30, 40});
    Tensor d_in(in.shape());
    max_pool.backward(in, out, d_out, &d_in, *state, RunContext{Mode::training});
    // Ties go to the first position: sample 0 channel 0 -> t=0.
    BOOST_TEST(values(d_in) == (std::vector<float>{10, 0, 0, 0, 0, 20, 30, 0, 0, 0, 0, 40}),
               boost::test_tools::per_element());

    // The same gradients as their non-zeros (layer.h's sparse gradient chain): by position,
    // then channel, zeros left out. Channel 1's maximum comes before channel 0's here.
    const Tensor crossed(Shape{2, 2, 3}, {0, 5, 1, 0, 4, 0,  //
                                          3, 1, 0, 2, 3, 6});
    const Tensor crossed_out = run(max_pool, crossed, *state);
    std::vector<GradientEntry> entries;
    BOOST_TEST(max_pool.list_input_gradient(crossed, crossed_out, Tensor(out.shape(), {10, 20, 0, 40}), *state, entries));
    BOOST_REQUIRE(entries.size() == 3u);
    std::vector<float> listed;  // position, channel, value of each
    for (const GradientEntry& e : entries) listed.insert(listed.end(), {float(e.position), float(e.channel), e.value});
    BOOST_TEST(listed == (std::vector<float>{0, 1, 20, 2, 0, 10, 5, 1, 40}), boost::test_tools::per_element());

    GlobalPoolLayer avg_pool(spec("global_avg_pool"));
    auto avg_state = avg_pool.make_state();
    BOOST_TEST(!avg_pool.list_input_gradient(crossed, crossed_out, Tensor(out.shape()), *avg_state, entries));
    // Channel 0 of sample 0 is 3 0 3, channel 1 is 1 2 6; sample 1: -1 -4 -5 and -2 -3 -1.
    expect_close(values(run(avg_pool, in, *avg_state)), {2, 3, -10.0f / 3, -2});

    // Packed: one channel, spans [1, 3) and [5, 8); the rest is zero and must be ignored.
    Tensor packed(Shape{1, 1, 9}, {0, -2, -1, 0, 0, -7, -3, -9, 0});
    packed.spans = {{1, 2}, {5, 3}};
    const Tensor pout = run(max_pool, packed, *state);
    BOOST_TEST(pout.shape() == (Shape{2, 1}));
    BOOST_TEST(pout.spans.empty());
    BOOST_TEST(values(pout) == (std::vector<float>{-1, -3}), boost::test_tools::per_element());
    Tensor pd_in(packed.shape());
    max_pool.backward(packed, pout, Tensor(pout.shape(), {1, 2}), &pd_in, *state, RunContext{Mode::training});
    BOOST_TEST(values(pd_in) == (std::vector<float>{0, 0, 1, 0, 0, 0, 2, 0, 0}), boost::test_tools::per_element());
    const Tensor aout = run(avg_pool, packed, *avg_state);
    expect_close(values(aout), {-1.5f, -19.0f / 3});

    packed.spans = {{1, 2}, {5, 0}};
    const std::string empty = message_of([&] { run(max_pool, packed, *state); });
    BOOST_TEST(empty == "global_max_pool: packed sequence 1 (offset 5, length 0) is empty (input (1, 1, 9))");
}

BOOST_AUTO_TEST_CASE(gradient_checks) {
    struct Case {
        std::string type;
        std::map<std::string, std::string> settings;
        Shape input;
    };
    const std::vector<Case> cases{
        {"max_pool", {{"window", "2"}}, Shape{2, 3, 8}},
        {"max_pool", {{"window", "3"}, {"stride", "2"}, {"padding", "same"}}, Shape{2, 2, 8}},
        {"avg_pool", {{"window", "3"}, {"stride", "1"}, {"padding", "same"}}, Shape{2, 2, 7}},
        {"max_pool", {{"window", "2,2"}}, Shape{2, 2, 4, 6}},
        {"max_pool", {{"window", "3,3"}, {"stride", "2"}, {"padding", "same"}}, Shape{1, 2, 5, 5}},
        {"avg_pool", {{"window", "2,2"}, {"padding", "same"}}, Shape{2, 2, 5, 3}},
        {"avg_pool", {{"window", "3,2"}, {"stride", "1,2"}}, Shape{1, 3, 5, 4}},
        {"global_max_pool", {}, Shape{3, 4, 6}},
        {"global_avg_pool", {}, Shape{3, 4, 6}},
        {"global_max_pool", {}, Shape{2, 3, 3, 4}},
        {"global_avg_pool", {}, Shape{2, 3, 3, 4}},
    };
    for (const auto& c : cases) {
        std::unique_ptr<Layer> layer;
        if (c.type.rfind("global", 0) == 0) layer = std::make_unique<GlobalPoolLayer>(spec(c.type, c.settings));
        else layer = std::make_unique<PoolLayer>(spec(c.type, c.settings));
        const auto result = check_gradients(*layer, distinct_tensor(c.input, 5));
        BOOST_TEST(result.passed, c.type << " on " << c.input.str() << ": worst " << result.worst_error << " at "
                                         << result.worst_where);
        BOOST_TEST(result.checked >= c.input.elements());
    }
    // Packed spans through both global pools.
    for (const std::string type : {"global_max_pool", "global_avg_pool"}) {
        Tensor packed = distinct_tensor(Shape{1, 3, 16}, 6);
        packed.spans = {{1, 4}, {6, 1}, {9, 6}};
        GlobalPoolLayer layer(spec(type));
        const auto result = check_gradients(layer, packed);
        BOOST_TEST(result.passed, type << " packed: worst " << result.worst_error << " at " << result.worst_where);
    }
}

BOOST_AUTO_TEST_CASE(results_do_not_depend_on_thread_count) {
    const Tensor in = distinct_tensor(Shape{16, 8, 10, 10}, 1);
    PoolLayer layer(spec("max_pool", {{"window", "3,3"}, {"stride", "2"}, {"padding", "same"}}));
    auto go = [&](std::size_t threads) {
        ThreadLimit limit(threads);
        auto state = layer.make_state();
        const Tensor out = run(layer, in, *state);
        Tensor d_in(in.shape());
        layer.backward(in, out, out, &d_in, *state, RunContext{Mode::training});
        std::vector<float> all = values(out);
        all.insert(all.end(), d_in.values().begin(), d_in.values().end());
        return all;
    };
    BOOST_TEST(go(1) == go(2));
}

BOOST_AUTO_TEST_CASE(bad_use_names_the_layer_and_shapes) {
    PoolLayer pool(spec("max_pool", {{"window", "2,2"}}, "pool_1"));
    auto state = pool.make_state();
    BOOST_TEST(message_of([&] { run(pool, Tensor(Shape{1, 3, 1, 4}), *state); }) ==
               "max_pool 'pool_1': input (1, 3, 1, 4) is too small for window 2x2 (padding valid): output size would "
               "be < 1");
    BOOST_TEST(message_of([&] { run(pool, Tensor(Shape{1, 3, 8}), *state); }) ==
               "max_pool 'pool_1': input (1, 3, 8) is 1D but window '2,2' is 2D; give one size per spatial axis");
    BOOST_TEST(message_of([&] { run(pool, Tensor(Shape{0, 3, 4, 4}), *state); }) ==
               "max_pool 'pool_1': empty input (0, 3, 4, 4)");
    Tensor packed(Shape{1, 3, 8});
    packed.spans = {{0, 8}};
    PoolLayer pool1d(spec("avg_pool", {{"window", "2"}}, "p"));
    auto state1d = pool1d.make_state();
    BOOST_TEST(message_of([&] { run(pool1d, packed, *state1d); }) ==
               "avg_pool 'p': packed sequences are not supported (input (1, 3, 8)); use global_max_pool or "
               "global_avg_pool");
    BOOST_TEST(message_of([] { PoolLayer bad(spec("max_pool", {{"window", "2"}, {"padding", "full"}}, "p")); }) ==
               "max_pool 'p': setting 'padding' must be valid or same, got 'full'");
    BOOST_TEST(message_of([] { PoolLayer bad(spec("max_pool", {}, "p")); }) == "max_pool 'p': missing setting 'window'");
    // A window far larger than the input under 'same' padding reads the whole input for each
    // output (15 s per 256x256 image at 4096x4096): refused from the shapes, before any pixel.
    PoolLayer huge(spec("max_pool", {{"window", "4096,4096"}, {"stride", "1,1"}, {"padding", "same"}}, "h"));
    BOOST_TEST(message_of([&] { (void)huge.output_shape(Shape{1, 1, 256, 256}); }) ==
               "max_pool 'h': windows 4096x4096 over input (1, 1, 256, 256) read 4294967296 values per sample, above "
               "the limit of 1073741824 (a window as large as the input is global pooling: global_max_pool, "
               "global_avg_pool)");
    BOOST_TEST((huge.output_shape(Shape{1, 1, 28, 28}) == Shape{1, 1, 28, 28}));  // 28^4 reads: fine
    PoolLayer usual(spec("avg_pool", {{"window", "3,3"}, {"stride", "1,1"}, {"padding", "same"}}, "u"));
    BOOST_TEST((usual.output_shape(Shape{1, 64, 1024, 1024}) == Shape{1, 64, 1024, 1024}));  // 0.6 G reads
    GlobalPoolLayer global(spec("global_avg_pool", {}, "g"));
    auto gstate = global.make_state();
    BOOST_TEST(message_of([&] { run(global, Tensor(Shape{4, 10}), *gstate); }) ==
               "global_avg_pool 'g': input (4, 10) must be (batch, channels, length) or (batch, channels, height, width)");
    BOOST_TEST(message_of([&] { run(global, Tensor(Shape{4, 10, 0}), *gstate); }) ==
               "global_avg_pool 'g': input (4, 10, 0) has no positions to pool");
}
