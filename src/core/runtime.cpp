#include "textcnn/core/runtime.h"

#include "textcnn/core/error.h"

#include "textcnn/version.h"

#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/info.h>
#include <oneapi/tbb/version.h>
#include <unicode/uversion.h>

#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <thread>

extern "C" {
void openblas_set_num_threads(int);
int openblas_get_num_threads(void);
char* openblas_get_config(void);
char* openblas_get_corename(void);
int blas_thread_shutdown_(void);
}

namespace textcnn {

ThreadLimit::ThreadLimit(std::size_t threads) {
    // As the programs' --threads: a count beyond it reached OpenBLAS as an int (2^32 + 1 as 1).
    if (threads > max_threads)
        throw ConfigError("threads: " + std::to_string(threads) + " is not between 0 and " + std::to_string(max_threads));
    if (threads == 0) threads = static_cast<std::size_t>(tbb::info::default_concurrency());
    threads_ = threads;
    control_ = std::make_shared<tbb::global_control>(tbb::global_control::max_allowed_parallelism, threads);
    set_blas_threads(static_cast<int>(threads));
}

ThreadLimit::~ThreadLimit() = default;

void set_blas_threads(int threads) { openblas_set_num_threads(threads); }
int blas_threads() { return openblas_get_num_threads(); }
void end_blas_workers() {
    // One thread first: OpenBLAS (0.3.21) re-creates its pool in openblas_set_num_threads when
    // the pool is down, so a BlasSingleThreadScope lowering the count from 2 to 1 after the
    // shutdown started a worker that spun beside the caller's threads. With the count at 1
    // that scope sets nothing.
    set_blas_threads(1);
    blas_thread_shutdown_();
}

namespace {

// The value of `key` ("MemAvailable:") in /proc/meminfo, in bytes.
std::optional<std::uint64_t> meminfo_bytes(const std::string& key) {
    std::ifstream in("/proc/meminfo");
    std::string name, unit;
    std::uint64_t kib = 0;
    while (in >> name >> kib) {
        std::getline(in, unit);
        if (name == key) return kib * 1024;
    }
    return std::nullopt;
}

std::optional<std::uint64_t> first_number(const std::string& path) {
    std::ifstream in(path);
    std::uint64_t n = 0;
    if (in >> n) return n;
    return std::nullopt;
}

}  // namespace

std::optional<MemoryHeadroom> memory_headroom() {
    std::optional<MemoryHeadroom> best;
    const auto consider = [&](std::optional<std::uint64_t> bytes, const char* limit) {
        if (bytes && (!best || *bytes < best->bytes)) best = MemoryHeadroom{*bytes, limit};
    };
    consider(meminfo_bytes("MemAvailable:"), "available memory");
    rlimit as{};
    if (::getrlimit(RLIMIT_AS, &as) == 0 && as.rlim_cur != RLIM_INFINITY) {
        const long page = ::sysconf(_SC_PAGESIZE);
        const auto pages = first_number("/proc/self/statm");  // the virtual size, in pages
        const std::uint64_t used = pages && page > 0 ? *pages * static_cast<std::uint64_t>(page) : 0;
        const std::uint64_t cap = static_cast<std::uint64_t>(as.rlim_cur);
        consider(cap > used ? cap - used : 0, "the address-space limit (ulimit -v)");
    }
    const auto cgroup_max = first_number("/sys/fs/cgroup/memory.max");  // "max" reads as no number
    const auto cgroup_used = first_number("/sys/fs/cgroup/memory.current");
    if (cgroup_max && cgroup_used)
        consider(*cgroup_max > *cgroup_used ? *cgroup_max - *cgroup_used : 0, "the cgroup's memory.max");
    return best;
}

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
