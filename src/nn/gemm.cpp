#include "nn/gemm.h"

#include "nn/blas_single_thread.h"

#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/partitioner.h>

namespace textcnn::detail {

void sgemm_thread_stable(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, float alpha,
                         const float* a, std::size_t lda, const float* b, std::size_t ldb, float beta, float* c,
                         std::size_t ldc) {
    if (m == 0 || n == 0) return;
    BlasSingleThreadScope single;
    // Cut along whichever output dimension has more blocks; the cut depends on (m, n) only.
    const bool by_columns = n >= m;
    const std::size_t extent = by_columns ? n : m;
    const std::size_t blocks = (extent + thread_stable_block - 1) / thread_stable_block;
    if (blocks == 1) {
        sgemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        return;
    }
    tbb::parallel_for(
        tbb::blocked_range<std::size_t>(0, blocks, 1),
        [&](const tbb::blocked_range<std::size_t>& r) {
            for (std::size_t blk = r.begin(); blk < r.end(); ++blk) {
                const std::size_t first = blk * thread_stable_block;
                const std::size_t count = std::min(thread_stable_block, extent - first);
                if (by_columns) {
                    // Columns first.. of C are op(B)'s columns first..: B's columns, or its rows if transposed.
                    sgemm(trans_a, trans_b, m, count, k, alpha, a, lda, b + (trans_b ? first : first * ldb), ldb, beta,
                          c + first * ldc, ldc);
                } else {
                    // Rows first.. of C are op(A)'s rows: A's rows, or its columns if transposed.
                    sgemm(trans_a, trans_b, count, n, k, alpha, a + (trans_a ? first * lda : first), lda, b, ldb, beta,
                          c + first, ldc);
                }
            }
        },
        tbb::simple_partitioner());
}

}  // namespace textcnn::detail
