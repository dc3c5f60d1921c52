#include "textcnn/core/runtime.h"

#include "textcnn/version.h"

#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/info.h>
#include <oneapi/tbb/version.h>
#include <unicode/uversion.h>

#include <string>
#include <thread>

extern "C" {
void openblas_set_num_threads(int);
int openblas_get_num_threads(void);
char* openblas_get_config(void);
char* openblas_get_corename(void);
}

namespace textcnn {

ThreadLimit::ThreadLimit(std::size_t threads) {
    if (threads == 0) threads = static_cast<std::size_t>(tbb::info::default_concurrency());
    threads_ = threads;
    control_ = std::make_shared<tbb::global_control>(tbb::global_control::max_allowed_parallelism, threads);
    set_blas_threads(static_cast<int>(threads));
}

ThreadLimit::~ThreadLimit() = default;

void set_blas_threads(int threads) { openblas_set_num_threads(threads); }
int blas_threads() { return openblas_get_num_threads(); }

std::string build_info() {
    std::string s = std::string("textcnn ") + version();
    s += "; BLAS: ";
    s += openblas_get_config();
    s += " (core ";
    s += openblas_get_corename();
    s += ")";
    s += "; ICU " U_ICU_VERSION;
    s += "; oneTBB " + std::to_string(TBB_VERSION_MAJOR) + "." + std::to_string(TBB_VERSION_MINOR);
    s += "; " + std::to_string(std::thread::hardware_concurrency()) + " hardware threads";
#if defined(__AVX512F__)
    s += "; built for AVX-512";
#elif defined(__AVX2__)
    s += "; built for AVX2";
#endif
    return s;
}

}  // namespace textcnn
