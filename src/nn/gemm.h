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

/// Output columns (or rows) per task of sgemm_thread_stable: a fixed number, so how a product
/// is cut into single-threaded BLAS calls depends on its shape alone, never on the thread count.
constexpr std::size_t thread_stable_block = 128;

/// sgemm() for products large enough to want both cores, with results that do not depend on
/// the number of threads. OpenBLAS's own threading is not bit-stable: on SkylakeX it blocks
/// the inner dimension differently on 1 and 2 threads for K above 384, and on Zen (0.3.21)
/// a column's bits depend on how the call's columns are split among threads and on the
/// call's width, for every K (measured: 10-20 % of the elements of M=100, K=300 products
/// change between 1 and 2 threads). So the output is cut into fixed blocks of
/// thread_stable_block columns (or rows, when there are few columns), each computed by one
/// single-threaded BLAS call inside a oneTBB task: the same calls, hence the same bits,
/// whatever --threads is. Must not be called with BLAS threads already in use by the caller's
/// caller; it holds a BlasSingleThreadScope itself.
void sgemm_thread_stable(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, float alpha,
                         const float* a, std::size_t lda, const float* b, std::size_t ldb, float beta, float* c,
                         std::size_t ldc);

}  // namespace textcnn::detail
