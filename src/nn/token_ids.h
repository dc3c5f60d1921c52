// Private: reading token ids, the input of every layer that looks words up (embedding,
// ngram_bag). One reading, so both layers accept and refuse exactly the same inputs with the
// same messages.
#pragma once

#include "textcnn/nn/tensor.h"

#include <cstdint>
#include <string>
#include <vector>

namespace textcnn::detail {

/// Copies the ids of `in` ((N, 1, L), or packed (1, 1, L) with spans) into `ids`, validated
/// serially so an error names the first bad position whatever the threads. InputError naming
/// `layer`, the value and its place ("sample 3, position 7" / "sentence 2, position 4") for a
/// value that is not an integer in [0, vocab), and for a nonzero id in a gap between packed
/// sentences. `sorted_spans` is scratch (the spans by offset), kept by the caller to avoid
/// allocating per call. Spans must already be known to lie inside the input.
void read_token_ids(const Tensor& in, std::size_t vocab, const std::string& layer, std::vector<std::uint32_t>& ids,
                    std::vector<SequenceSpan>& sorted_spans);

}  // namespace textcnn::detail
