// Process-wide runtime settings: how many threads TBB and OpenBLAS use, and a description of
// the build for `--version`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace textcnn {

/// Limits oneTBB to `threads` workers (0 = all cores, at most max_threads: ConfigError beyond)
/// for as long as the returned object lives, and sets OpenBLAS's thread count to match. One level of parallelism at a time:
/// textcnn runs large products with BLAS threads and its own loops with TBB, never nested.
class ThreadLimit {
public:
    static constexpr std::size_t max_threads = 1024;
    explicit ThreadLimit(std::size_t threads);
    ~ThreadLimit();
    ThreadLimit(const ThreadLimit&) = delete;
    ThreadLimit& operator=(const ThreadLimit&) = delete;
    std::size_t threads() const { return threads_; }

private:
    std::size_t threads_;
    std::shared_ptr<void> control_;
};

/// Sets OpenBLAS's own thread count (1 inside TBB tasks that call BLAS).
void set_blas_threads(int threads);
int blas_threads();
/// Ends OpenBLAS's worker threads now and sets its thread count to 1, so that BLAS calls run on
/// their calling thread. After its start and after each threaded call, each worker spins
/// (sched_yield) for about 2^28 cycles, some 0.1 s of CPU, before it sleeps: a process that
/// will make no threaded BLAS call (one thread, or prediction from folded tables, whose BLAS
/// calls at load run in oneTBB tasks, one thread each) saves that. set_blas_threads (or a
/// ThreadLimit) starts the workers again: OpenBLAS 0.3.21 re-creates them in
/// openblas_set_num_threads, whatever the count. Not while another thread is in a BLAS call.
void end_blas_workers();

/// How much more this process can allocate, as far as the system tells: the smallest of the
/// memory the kernel reports available (/proc/meminfo MemAvailable), the room left under the
/// address-space limit (RLIMIT_AS, `ulimit -v`: the limit less the process's virtual size,
/// /proc/self/statm) and under a cgroup v2 memory limit (memory.max less memory.current).
struct MemoryHeadroom {
    std::uint64_t bytes = 0;
    std::string limit;  ///< which one binds: "available memory", "the address-space limit (ulimit -v)", "the cgroup's memory.max"
};
/// nullopt when none of them can be read (not Linux). Thread-safe.
std::optional<MemoryHeadroom> memory_headroom();

/// "textcnn 0.1.0; OpenBLAS 0.3.21 (Haswell, pthreads); ICU 72.1; oneTBB 2021.8; 2 cores"
std::string build_info();

}  // namespace textcnn
