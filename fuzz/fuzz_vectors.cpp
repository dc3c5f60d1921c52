// libFuzzer target: the pretrained-vectors loader (text/vectors.h) on arbitrary bytes: word2vec
// binary, text with and without a header, for a small fixed vocabulary, with an expected
// dimension and tokenizer matching chosen by the first byte.
#include "fuzz_input.h"

#include "textcnn/text/tokenizer.h"
#include "textcnn/text/vectors.h"
#include "textcnn/text/vocabulary.h"

#include <sstream>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace textcnn;
    static const Vocabulary vocabulary = [] {
        const std::vector<std::vector<std::string>> documents = {
            {"river", "stone", "lantern", "quiet"}, {"stone", "lantern", "é", "straße"}};
        return Vocabulary::build(documents);
    }();
    static const Tokenizer tokenizer;
    fuzz::FuzzInput input(data, size);
    const std::uint8_t choice = input.take_byte();
    VectorsOptions options;
    options.expected_dim = choice & 0x07;  // 0 = the file's
    options.tokenizer = (choice & 0x08) != 0 ? &tokenizer : nullptr;
    options.max_line_bytes = 1 << 12;  // the line bound, small enough to be reached

    std::istringstream in(std::string(input.rest_text()), std::ios::binary);
    fuzz::refuse_cleanly([&] {
        const PretrainedVectors vectors = load_pretrained_vectors(in, "fuzz.vec", vocabulary, options);
        fuzz::fuzz_require(vectors.values.size() == vectors.ids.size() * vectors.dim, "dim floats per found id");
        std::vector<float> table(vectors.dim * vocabulary.size());
        vectors.copy_into(table, vocabulary.size());
        (void)vectors.coverage();
    });
    return 0;
}
