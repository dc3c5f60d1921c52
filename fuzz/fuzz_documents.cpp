// libFuzzer target: the document reader (text/document_reader.h) on arbitrary bytes, in every
// format (CSV, TSV, fastText, plain, and automatic by the source's extension), with random
// column choices (header names and 1-based positions), label requirement, bad-row skipping
// and invalid-UTF-8 policy taken from the first two bytes.
#include "fuzz_input.h"

#include "textcnn/text/document_reader.h"

#include <array>
#include <sstream>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace textcnn;
    fuzz::FuzzInput input(data, size);
    const std::uint8_t first = input.take_byte();
    const std::uint8_t second = input.take_byte();
    static const std::array<InputFormat, 5> formats = {InputFormat::automatic, InputFormat::csv, InputFormat::tsv,
                                                       InputFormat::fasttext, InputFormat::plain};
    static const std::array<const char*, 4> sources = {"fuzz.csv", "fuzz.tsv", "fuzz.ft", "fuzz.txt"};
    static const std::array<const char*, 6> columns = {"text", "label", "1", "2", "3", "0"};
    DocumentReaderOptions options;
    options.format = formats[first % formats.size()];
    options.require_label = (first & 0x08) != 0;
    options.skip_bad_rows = (first & 0x10) != 0;
    options.invalid_utf8 = (first & 0x20) != 0 ? InvalidUtf8::replace : InvalidUtf8::error;
    options.text_column = columns[second % columns.size()];
    options.label_column = columns[(second >> 3) % columns.size()];
    const std::string source = sources[(first >> 6) % sources.size()];

    std::istringstream in(std::string(input.rest_text()), std::ios::binary);
    fuzz::refuse_cleanly([&] {
        DocumentReader reader(in, source, options);
        Document document;
        while (reader.next(document)) {
        }
        (void)reader.report().warnings();
    });
    return 0;
}
