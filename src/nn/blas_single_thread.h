// Private: a scope during which OpenBLAS runs single-threaded, for code that calls BLAS from
// inside oneTBB tasks (one level of parallelism at a time). Process-wide and nesting-safe: the
// outermost scope saves the thread count and restores it when it ends.
// Used by the im2col convolution (one small sgemm per chunk of samples) and by
// Network::forward_chunked; one shared counter, so unrelated threads may enter and leave.
#pragma once

namespace textcnn::detail {

class BlasSingleThreadScope {
public:
    BlasSingleThreadScope();
    ~BlasSingleThreadScope();
    BlasSingleThreadScope(const BlasSingleThreadScope&) = delete;
    BlasSingleThreadScope& operator=(const BlasSingleThreadScope&) = delete;
};

}  // namespace textcnn::detail
