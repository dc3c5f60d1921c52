#include "nn/blas_single_thread.h"

#include "textcnn/core/runtime.h"

#include <mutex>

namespace textcnn::detail {

namespace {

struct BlasThreadCount {
    std::mutex mutex;
    int depth = 0;
    int saved = 1;
};

BlasThreadCount& blas_thread_count() {
    static BlasThreadCount count;
    return count;
}

}  // namespace

BlasSingleThreadScope::BlasSingleThreadScope() {
    BlasThreadCount& c = blas_thread_count();
    std::lock_guard<std::mutex> lock(c.mutex);
    if (c.depth++ == 0) {
        c.saved = blas_threads();
        if (c.saved != 1) set_blas_threads(1);
    }
}

BlasSingleThreadScope::~BlasSingleThreadScope() {
    BlasThreadCount& c = blas_thread_count();
    std::lock_guard<std::mutex> lock(c.mutex);
    if (--c.depth == 0 && c.saved != 1) set_blas_threads(c.saved);
}

}  // namespace textcnn::detail
