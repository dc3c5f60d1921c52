// Private: single-precision GEMM with explicit leading dimensions (OpenBLAS sgemm_ through
// Armadillo's BLAS binding; ARMA_DONT_USE_WRAPPER is defined project-wide).
//
// Note: BLAS checks lda/ldb >= the stored matrix's row count, so overlapping columns (the
// channels-innermost input read as an im2col matrix with leading dimension C) are rejected
// ("parameter number 10 had an illegal value"). The 1D convolution therefore runs one GEMM
// per kernel tap over shifted, non-overlapping views (K = channels each) instead; measured
// on this machine it is as fast as a single GEMM on a materialised im2col matrix.
#pragma once

#include <armadillo>

#include <algorithm>
#include <cstddef>

namespace textcnn::detail {

/// C = alpha * op(A) * op(B) + beta * C, all column-major; op(X) = X^T when trans_x.
/// A is m x k after op, B is k x n after op, C is m x n. One BLAS call.
inline void sgemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, float alpha,
                  const float* a, std::size_t lda, const float* b, std::size_t ldb, float beta, float* c,
                  std::size_t ldc) {
    if (m == 0 || n == 0) return;
    const char ta = trans_a ? 'T' : 'N';
    const char tb = trans_b ? 'T' : 'N';
    const auto bm = static_cast<arma::blas_int>(m);
    const auto bn = static_cast<arma::blas_int>(n);
    const auto bk = static_cast<arma::blas_int>(k);
    const auto blda = static_cast<arma::blas_int>(lda);
    const auto bldb = static_cast<arma::blas_int>(ldb);
    const auto bldc = static_cast<arma::blas_int>(ldc);
    arma::blas::gemm<float>(&ta, &tb, &bm, &bn, &bk, &alpha, a, &blda, b, &bldb, &beta, c, &bldc);
}

/// OpenBLAS (0.3.21 here) blocks the inner dimension differently on 1 and on 2 threads for
/// many K above 384 (measured: K = 385, 392, 600, 1200, 5000 change most elements of the
/// product; no K up to 384 changes any), which would make results depend on --threads.
constexpr std::size_t thread_stable_k_block = 384;

/// sgemm() for calls that may run on several BLAS threads: a longer inner dimension is summed
/// block by block, in order, each block at most thread_stable_k_block long, so the result has
/// the same bits whatever the number of BLAS threads. With K <= 384 it is one plain call.
/// (Calls made with BLAS held to one thread, BlasSingleThreadScope, need not use it.)
inline void sgemm_thread_stable(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k,
                                float alpha, const float* a, std::size_t lda, const float* b, std::size_t ldb,
                                float beta, float* c, std::size_t ldc) {
    std::size_t first = 0;
    do {
        const std::size_t block = std::min(thread_stable_k_block, k - first);
        // Block `first` of the inner dimension: columns of A (rows if transposed), rows of B
        // (columns if transposed).
        sgemm(trans_a, trans_b, m, n, block, alpha, a + (trans_a ? first : first * lda), lda,
              b + (trans_b ? first * ldb : first), ldb, first == 0 ? beta : 1.0f, c, ldc);
        first += block;
    } while (first < k);
}

}  // namespace textcnn::detail
