// Private: a scope during which OpenBLAS runs single-threaded, for code that calls BLAS from
// inside oneTBB tasks (one level of parallelism at a time). Process-wide and nesting-safe: the
// outermost scope saves the thread count and restores it when it ends.
//
// conv.cpp has its own copy of this guard (its BlasSingleThread); the two interoperate when
// nested (an inner scope finds BLAS already at 1 thread and changes nothing), but only a shared
// counter makes them safe for unrelated threads entering and leaving concurrently, so conv.cpp
// should move to this one.
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
