#define BOOST_TEST_MODULE batching
#include <boost/test/unit_test.hpp>

#include "textcnn/text/batching.h"
#include "textcnn/core/error.h"

using namespace textcnn;
using Ids = std::vector<std::uint32_t>;
using Spans = std::vector<SequenceSpan>;

namespace {

std::vector<float> values_of(const Tensor& t) { return {t.values().begin(), t.values().end()}; }

template <class E>
std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const E& e) {
        return e.what();
    }
    return "no error";
}

}  // namespace

BOOST_TEST_DONT_PRINT_LOG_VALUE(SequenceSpan)

BOOST_AUTO_TEST_CASE(packed_layout_with_gaps_and_an_empty_sequence) {
    const std::vector<Ids> seqs = {{5, 6, 7}, {8}, {}};
    Tensor out;
    BOOST_TEST(pack_sequences(seqs, PackOptions{2, 1, 0}, out) == 0u);
    BOOST_TEST((out.shape() == Shape{1, 1, 13}));
    BOOST_TEST(values_of(out) == (std::vector<float>{0, 0, 5, 6, 7, 0, 0, 8, 0, 0, 0, 0, 0}));
    BOOST_TEST((out.spans == Spans{{2, 3}, {7, 1}, {10, 1}}));  // the empty one: length 1 of id 0
    BOOST_TEST(out.samples() == 3u);
}

BOOST_AUTO_TEST_CASE(no_gap) {
    const std::vector<Ids> seqs = {{1, 2}, {3}};
    Tensor out;
    pack_sequences(seqs, PackOptions{0, 1, 0}, out);
    BOOST_TEST(values_of(out) == (std::vector<float>{1, 2, 3}));
    BOOST_TEST((out.spans == Spans{{0, 2}, {2, 1}}));
}

BOOST_AUTO_TEST_CASE(short_sequences_padded_to_min_length) {
    const std::vector<Ids> seqs = {{9}, {1, 2, 3, 4, 5, 6}};
    Tensor out;
    pack_sequences(seqs, PackOptions{1, 5, 0}, out);
    BOOST_TEST(values_of(out) == (std::vector<float>{0, 9, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 0}));
    BOOST_TEST((out.spans == Spans{{1, 5}, {7, 6}}));
}

BOOST_AUTO_TEST_CASE(max_length_truncates_and_counts) {
    const std::vector<Ids> seqs = {{1, 2, 3, 4}, {5, 6}, {7, 8, 9}};
    Tensor out;
    BOOST_TEST(pack_sequences(seqs, PackOptions{1, 1, 2}, out) == 2u);
    BOOST_TEST(values_of(out) == (std::vector<float>{0, 1, 2, 0, 5, 6, 0, 7, 8, 0}));
    BOOST_TEST((out.spans == Spans{{1, 2}, {4, 2}, {7, 2}}));
}

BOOST_AUTO_TEST_CASE(packing_by_index_for_shuffled_batches) {
    const std::vector<Ids> seqs = {{1}, {2, 2}, {3, 3, 3}};
    const std::vector<std::size_t> order = {2, 0, 2};
    Tensor out;
    pack_sequences(seqs, order, PackOptions{1, 1, 0}, out);
    BOOST_TEST(values_of(out) == (std::vector<float>{0, 3, 3, 3, 0, 1, 0, 3, 3, 3, 0}));
    BOOST_TEST((out.spans == Spans{{1, 3}, {5, 1}, {7, 3}}));
    const std::vector<std::size_t> bad = {0, 3};
    BOOST_TEST(error_of<ConfigError>([&] { pack_sequences(seqs, bad, PackOptions{}, out); }) ==
               "batching: index 3 (position 1) is out of range for 3 sequences");
}

BOOST_AUTO_TEST_CASE(buffers_are_reused_and_gaps_rezeroed) {
    Tensor out;
    const std::vector<Ids> big = {{1, 2, 3, 4, 5, 6, 7, 8}, {9, 9, 9}};
    pack_sequences(big, PackOptions{2, 1, 0}, out);
    const float* storage = out.data();
    const std::vector<Ids> small = {{4}, {5, 6}};
    pack_sequences(small, PackOptions{2, 1, 0}, out);
    BOOST_TEST(out.data() == storage);
    BOOST_TEST(values_of(out) == (std::vector<float>{0, 0, 4, 0, 0, 5, 6, 0, 0}));
    BOOST_TEST(out.spans.size() == 2u);
}

BOOST_AUTO_TEST_CASE(padded_layout) {
    const std::vector<Ids> seqs = {{1, 2, 3}, {}, {4}};
    const std::vector<std::size_t> all = {0, 1, 2};
    Tensor out;
    BOOST_TEST(pad_sequences(seqs, all, PackOptions{0, 4, 0}, out) == 0u);
    BOOST_TEST((out.shape() == Shape{3, 1, 4}));
    BOOST_TEST(values_of(out) == (std::vector<float>{1, 2, 3, 0, 0, 0, 0, 0, 4, 0, 0, 0}));
    BOOST_TEST(!out.packed());
    BOOST_TEST(pad_sequences(seqs, all, PackOptions{0, 1, 2}, out) == 1u);
    BOOST_TEST((out.shape() == Shape{3, 1, 2}));
    BOOST_TEST(values_of(out) == (std::vector<float>{1, 2, 0, 0, 4, 0}));
}

BOOST_AUTO_TEST_CASE(invalid_ids_and_options) {
    Tensor out;
    const std::vector<Ids> huge = {{1}, {2, 1u << 24}};
    BOOST_TEST(error_of<InputError>([&] { pack_sequences(huge, PackOptions{}, out); }) ==
               "batching: sequence 1 position 1: id 16777216 does not fit a float exactly (>= 2^24)");
    const std::vector<Ids> fine = {{(1u << 24) - 1}};
    pack_sequences(fine, PackOptions{}, out);
    BOOST_TEST(out[0] == 16777215.0f);
    BOOST_TEST(error_of<ConfigError>([&] { pack_sequences(fine, PackOptions{0, 0, 0}, out); }) ==
               "batching: min_length must be at least 1");
    BOOST_TEST(error_of<ConfigError>([&] { pack_sequences(fine, PackOptions{0, 5, 3}, out); }) ==
               "batching: min_length 5 exceeds max_length 3");
}

BOOST_AUTO_TEST_CASE(empty_batch) {
    Tensor out;
    pack_sequences(std::vector<Ids>{}, PackOptions{3, 1, 0}, out);
    BOOST_TEST((out.shape() == Shape{1, 1, 3}));
    BOOST_TEST(out.spans.empty());
}
