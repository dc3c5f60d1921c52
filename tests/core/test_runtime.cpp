// Process-wide runtime settings (core/runtime.h): ending OpenBLAS's idle workers.
#define BOOST_TEST_MODULE runtime
#include <boost/test/unit_test.hpp>

#include "nn/gemm.h"
#include "textcnn/core/error.h"
#include "textcnn/core/runtime.h"

#include <dirent.h>
#include <unistd.h>

#include <cstddef>
#include <string>
#include <vector>

using namespace textcnn;

namespace {

// Threads of this process (Linux: /proc/self/task).
int threads_now() {
    int n = 0;
    DIR* dir = ::opendir("/proc/self/task");
    if (dir == nullptr) return -1;
    while (const dirent* entry = ::readdir(dir)) n += entry->d_name[0] != '.';
    ::closedir(dir);
    return n;
}

// C = A B of n x n matrices of small integers (exact in float), and the plain triple loop's;
// with `thread_stable` by sgemm_thread_stable (oneTBB tasks, each in a BlasSingleThreadScope).
bool product_is_exact(std::size_t n, bool thread_stable = false) {
    std::vector<float> a(n * n), b(n * n), c(n * n, -1.0f);
    for (std::size_t i = 0; i < n * n; ++i) {
        a[i] = static_cast<float>(i % 7) - 3.0f;
        b[i] = static_cast<float>(i % 5) - 2.0f;
    }
    if (thread_stable)
        detail::sgemm_thread_stable(false, false, n, n, n, 1.0f, a.data(), n, b.data(), n, 0.0f, c.data(), n);
    else
        detail::sgemm(false, false, n, n, n, 1.0f, a.data(), n, b.data(), n, 0.0f, c.data(), n);
    for (std::size_t col = 0; col < n; ++col)
        for (std::size_t row = 0; row < n; ++row) {
            float sum = 0.0f;
            for (std::size_t k = 0; k < n; ++k) sum += a[k * n + row] * b[col * n + k];
            if (c[col * n + row] != sum) return false;
        }
    return true;
}

// threads_now() once it is below `count`, or after 2 s: a joined thread can stay listed in
// /proc/self/task for a moment after pthread_join returns (8 of 30 runs here counted it).
int threads_once_below(int count) {
    int n = threads_now();
    for (int waited_ms = 0; n >= count && waited_ms < 2000; waited_ms += 5) {
        ::usleep(5000);
        n = threads_now();
    }
    return n;
}

}  // namespace

BOOST_AUTO_TEST_CASE(blas_works_after_its_workers_end) {
    ThreadLimit limit(2);
    BOOST_TEST(product_is_exact(300));        // large enough for OpenBLAS to use its workers
    BOOST_TEST(product_is_exact(300, true));  // oneTBB's worker started too
    const bool threaded = blas_threads() > 1;
    const int before = threads_now();
    end_blas_workers();
    const int after = threaded && before > 0 ? threads_once_below(before) : threads_now();
    if (threaded && before > 0) BOOST_TEST(after < before);
    BOOST_TEST(blas_threads() == 1);  // BLAS calls run on their calling thread from here on
    // A BlasSingleThreadScope set the count from 2 to 1, and OpenBLAS 0.3.21 re-created its
    // workers there: one spun beside the two threads of a 2-thread predict's load. oneTBB may
    // end its idle worker and start it again, so the count is held against `before` (the
    // caller, oneTBB's one worker and OpenBLAS's): one fewer, whatever oneTBB did.
    BOOST_TEST(product_is_exact(300, true));
    if (threaded && before > 0) BOOST_TEST(threads_now() < before);
    end_blas_workers();  // twice: nothing left to end
    BOOST_TEST(product_is_exact(300));
    BOOST_TEST(product_is_exact(300, true));
    if (threaded && before > 0) BOOST_TEST(threads_now() < before);
    set_blas_threads(2);  // the workers start again
    BOOST_TEST(product_is_exact(300));
    {
        ThreadLimit one(1);
        end_blas_workers();
        BOOST_TEST(product_is_exact(200));
    }
}

// Found by a new-user run of the Python binding: threads=5000 was taken (the programs refuse
// it), and a count beyond an int reached OpenBLAS wrapped around.
BOOST_AUTO_TEST_CASE(thread_limits_beyond_the_maximum_are_refused) {
    BOOST_CHECK_EXCEPTION(textcnn::ThreadLimit(5000), textcnn::ConfigError, [](const textcnn::ConfigError& e) {
        return std::string(e.what()) == "threads: 5000 is not between 0 and 1024";
    });
    const textcnn::ThreadLimit most(textcnn::ThreadLimit::max_threads);
    BOOST_TEST(most.threads() == textcnn::ThreadLimit::max_threads);
}
