#include "chunked_prediction.h"

#include "image_model.h"

#include "textcnn/error.h"
#include "textcnn/loss.h"

#include <algorithm>
#include <cstring>

namespace imagecnn {

using namespace textcnn;

Tensor predict_probabilities_chunked(const Network& network, const Tensor& images, std::size_t batch_size) {
    const Shape& want = network.sample_shape();
    const Shape& have = images.shape();
    if (have.rank() != want.rank() || have.per_sample() != want.per_sample() ||
        !std::equal(have.dims().begin() + 1, have.dims().end(), want.dims().begin() + 1))
        throw ShapeError("images of shape " + have.with_batch(1).str() + " (1, channels, height, width) but the model "
                         "expects " + want.with_batch(1).str());
    const std::size_t n = have.batch();
    const std::size_t classes = network.output_shape(1)[1];
    Tensor result(Shape{n, classes});
    if (n == 0) return result;
    Network::ChunkedWorkspace ws = network.make_chunked_workspace();
    Tensor batch, probabilities;
    for (std::size_t first = 0; first < n; first += batch_size) {
        const std::size_t count = std::min(batch_size, n - first);
        // forward_chunked() copies its chunks anyway: a batch of everything needs no copy of its own.
        const Tensor* input = &images;
        if (count != n) {
            copy_samples(images, first, count, batch);
            input = &batch;
        }
        softmax(network.forward_chunked(*input, ws), probabilities);
        std::memcpy(result.sample(first), probabilities.data(), count * classes * sizeof(float));
    }
    return result;
}

}  // namespace imagecnn
