// Process-wide runtime settings (core/runtime.h): ending OpenBLAS's idle workers.
#define BOOST_TEST_MODULE runtime
#include <boost/test/unit_test.hpp>

#include "nn/gemm.h"
#include "textcnn/core/error.h"
#include "textcnn/core/runtime.h"

#include <dirent.h>

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

// C = A B of n x n matrices of small integers (exact in float), and the plain triple loop's.
bool product_is_exact(std::size_t n) {
    std::vector<float> a(n * n), b(n * n), c(n * n, -1.0f);
    for (std::size_t i = 0; i < n * n; ++i) {
        a[i] = static_cast<float>(i % 7) - 3.0f;
        b[i] = static_cast<float>(i % 5) - 2.0f;
    }
    detail::sgemm(false, false, n, n, n, 1.0f, a.data(), n, b.data(), n, 0.0f, c.data(), n);
    for (std::size_t col = 0; col < n; ++col)
        for (std::size_t row = 0; row < n; ++row) {
            float sum = 0.0f;
            for (std::size_t k = 0; k < n; ++k) sum += a[k * n + row] * b[col * n + k];
            if (c[col * n + row] != sum) return false;
        }
    return true;
}

}  // namespace

BOOST_AUTO_TEST_CASE(blas_works_after_its_workers_end) {
    ThreadLimit limit(2);
    BOOST_TEST(product_is_exact(300));  // large enough for OpenBLAS to use its workers
    const int before = threads_now();
    end_blas_workers();
    const int after = threads_now();
    if (blas_threads() > 1 && before > 0) BOOST_TEST(after < before);
    end_blas_workers();  // twice: nothing left to end
    BOOST_TEST(product_is_exact(300));  // the workers start again
    BOOST_TEST(threads_now() >= after);
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
