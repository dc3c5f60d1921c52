#include "nn/token_ids.h"

#include "textcnn/core/error.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace textcnn::detail {

namespace {

// "sample 3, position 7", or for packed input "sentence 2, position 4" / "position 30 between sentences".
std::string describe_position(const Tensor& in, std::size_t p) {
    const std::size_t length = in.shape().spatial(0);
    if (!in.packed()) return "sample " + std::to_string(p / length) + ", position " + std::to_string(p % length);
    for (std::size_t s = 0; s < in.spans.size(); ++s)
        if (p >= in.spans[s].offset && p < std::size_t{in.spans[s].offset} + in.spans[s].length)
            return "sentence " + std::to_string(s) + ", position " + std::to_string(p - in.spans[s].offset);
    return "position " + std::to_string(p) + " between sentences";
}

}  // namespace

void read_token_ids(const Tensor& in, std::size_t vocab, const std::string& layer, std::vector<std::uint32_t>& ids,
                    std::vector<SequenceSpan>& sorted_spans) {
    const std::size_t positions = in.size();
    ids.resize(positions);
    for (std::size_t p = 0; p < positions; ++p) {
        const float v = in[p];
        if (!(v >= 0.0f && v < static_cast<float>(vocab) && v == std::floor(v)))
            throw InputError(layer + ": token id " + fmt::format("{}", v) + " at " + describe_position(in, p) +
                             " is not an integer in [0, " + std::to_string(vocab) + ")");
        ids[p] = static_cast<std::uint32_t>(v);
    }
    if (!in.packed()) return;
    std::size_t next = 0;  // first position not yet known to lie in a span
    auto check_gap = [&](std::size_t begin, std::size_t end) {
        for (std::size_t p = begin; p < end; ++p)
            if (ids[p] != 0)
                throw InputError(layer + ": token id " + std::to_string(ids[p]) + " at " + describe_position(in, p) +
                                 "; gaps between packed sentences must be 0");
    };
    sorted_spans.assign(in.spans.begin(), in.spans.end());
    std::sort(sorted_spans.begin(), sorted_spans.end(), [](auto& a, auto& b) { return a.offset < b.offset; });
    for (const SequenceSpan& s : sorted_spans) {
        check_gap(next, std::max<std::size_t>(next, s.offset));
        next = std::max<std::size_t>(next, std::size_t{s.offset} + s.length);
    }
    check_gap(next, positions);
}

}  // namespace textcnn::detail
