// libFuzzer target: IDX images and labels (image/idx.h), plain or gzip-compressed, as
// read_file_maybe_gzip() and the IDX parsers see a file's bytes. The inflated size is bounded
// at 1 MiB here, so a gzip bomb input is refused instead of exhausting the fuzzer's memory -
// the bound itself is what is tested.
#include "fuzz_input.h"

#include "textcnn/image/idx.h"

#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace textcnn;
    constexpr std::uint64_t max_inflated = 1 << 20;
    const std::span<const std::uint8_t> bytes(data, size);
    fuzz::refuse_cleanly([&] {
        std::vector<std::uint8_t> plain;
        std::span<const std::uint8_t> content = bytes;
        if (size >= 2 && data[0] == 0x1f && data[1] == 0x8b) {
            plain = gunzip_bytes(bytes, "fuzz.idx.gz", max_inflated);
            fuzz::fuzz_require(plain.size() <= max_inflated, "gunzip stays within its bound");
            content = plain;
        }
        if (content.size() >= 4 && content[3] == 0x01) {
            const auto labels = parse_idx_labels(content, "fuzz.idx");
            fuzz::fuzz_require(labels.size() + 8 == content.size(), "one label per byte after the header");
        } else {
            const Tensor images = parse_idx_images(content, "fuzz.idx");
            fuzz::fuzz_require(images.size() + 16 == content.size(), "one pixel per byte after the header");
        }
    });
    return 0;
}
