// libFuzzer target: image decoding (image/image_io.h): PNG through libpng, JPEG through
// libjpeg-turbo and the project's PGM/PPM parser, with the channel conversion chosen by the
// first byte and a pixel budget of 2^20 (the budget check is part of what is tested; a
// smaller budget than the default keeps each run fast).
#include "fuzz_input.h"

#include "textcnn/image/image_io.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace textcnn;
    constexpr std::size_t max_pixels = std::size_t{1} << 20;
    fuzz::FuzzInput input(data, size);
    const std::size_t channels = input.take_byte() % 5;  // 0 = the file's own
    fuzz::refuse_cleanly([&] {
        const Image image = decode_image(input.rest(), "fuzz.img", channels, max_pixels);
        fuzz::fuzz_require(image.width * image.height <= max_pixels, "the pixel budget holds");
        fuzz::fuzz_require(image.pixels.size() == image.width * image.height * image.channels,
                           "pixels = width x height x channels");
        fuzz::fuzz_require(channels == 0 || image.channels == channels, "the channels asked for");
        const Tensor tensor = image_to_tensor(image);
        fuzz::fuzz_require(tensor.size() == image.pixels.size(), "one value per pixel");
    });
    return 0;
}
