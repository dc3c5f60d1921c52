// libFuzzer target: the UTF-8 checker and repair (text/utf8.h) and the tokenizer
// (text/tokenizer.h) on arbitrary bytes, with every tokenizer setting.
//
// Invariants checked besides memory safety: repair gives valid UTF-8 and leaves valid text
// unchanged; every token is non-empty valid UTF-8; the ASCII fast path gives exactly the
// tokens of the ICU path (when the fast path is on).
#include "fuzz_input.h"

#include "textcnn/text/tokenizer.h"
#include "textcnn/text/utf8.h"

#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace textcnn;
    fuzz::FuzzInput input(data, size);
    const std::uint8_t choice = input.take_byte();
    TokenizerSettings settings;
    settings.lowercase = (choice & 1) != 0;
    settings.normalize = (choice & 2) != 0;
    settings.punctuation = (choice & 4) != 0 ? Punctuation::drop : Punctuation::keep;
    settings.placeholders = (choice & 8) != 0;
    const std::string_view text = input.rest_text();

    const std::string repaired = repair_utf8(text);
    fuzz::fuzz_require(is_valid_utf8(repaired), "repair_utf8 gives valid UTF-8");
    fuzz::fuzz_require(find_invalid_utf8(text).has_value() == (repaired != text),
                       "repair_utf8 changes exactly the invalid texts");

    fuzz::refuse_cleanly([&] {
        const Tokenizer tokenizer(settings);
        const std::vector<std::string> tokens = tokenizer.tokenize(text);
        for (const auto& token : tokens) {
            fuzz::fuzz_require(!token.empty(), "no empty token");
            fuzz::fuzz_require(is_valid_utf8(token), "every token is valid UTF-8");
        }
        if (is_ascii(text) && Tokenizer::ascii_fast_path())
            fuzz::fuzz_require(tokens == tokenizer.tokenize_with_icu(text), "ASCII fast path equals the ICU path");
        (void)tokenizer.normalize(text);
    });
    return 0;
}
