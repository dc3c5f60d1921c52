#include "core/huge_pages.h"

#include <cstdint>
#include <cstdlib>
#include <new>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace textcnn::detail {

void advise_huge_pages(const void* data, std::size_t bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    constexpr std::uintptr_t huge_page = std::uintptr_t{2} << 20;
    if (data == nullptr || bytes < 2 * huge_page) return;
    const auto start = reinterpret_cast<std::uintptr_t>(data);
    const std::uintptr_t first = (start + huge_page - 1) & ~(huge_page - 1);
    const std::uintptr_t last = (start + bytes) & ~(huge_page - 1);
    if (last > first) ::madvise(reinterpret_cast<void*>(first), last - first, MADV_HUGEPAGE);  // a hint: errors ignored
#else
    (void)data;
    (void)bytes;
#endif
}

namespace {
constexpr std::size_t huge_page = std::size_t{2} << 20;

// The bytes an allocation of `bytes` maps: whole 2 MiB blocks.
std::size_t mapped_bytes(std::size_t bytes) {
    if (bytes > std::size_t(-1) - huge_page) throw std::bad_alloc();
    return (bytes + huge_page - 1) & ~(huge_page - 1);
}
}  // namespace

void* allocate_huge_aligned(std::size_t bytes) {
    if (bytes < huge_page / 2 || !aligns_to_huge_pages) return ::operator new(bytes);
    const std::size_t mapped = mapped_bytes(bytes);
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    // One block more than needed, then the parts before the first boundary and after the end
    // unmapped: the mapping that stays starts at a boundary.
    void* raw = ::mmap(nullptr, mapped + huge_page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) throw std::bad_alloc();
    const auto start = reinterpret_cast<std::uintptr_t>(raw);
    const std::uintptr_t aligned = (start + huge_page - 1) & ~(huge_page - 1);
    if (aligned > start) ::munmap(raw, aligned - start);
    if (const std::uintptr_t end = start + mapped + huge_page; end > aligned + mapped)
        ::munmap(reinterpret_cast<void*>(aligned + mapped), end - (aligned + mapped));
    // Whole blocks, and the last one when at least half of it is used.
    const std::size_t tail = bytes % huge_page;
    const std::size_t advised = tail == 0 || tail >= huge_page / 2 ? mapped : mapped - huge_page;
    ::madvise(reinterpret_cast<void*>(aligned), advised, MADV_HUGEPAGE);  // a hint: errors ignored
    return reinterpret_cast<void*>(aligned);
#else
    void* p = std::aligned_alloc(huge_page, mapped);
    if (p == nullptr) throw std::bad_alloc();
    return p;
#endif
}

void deallocate_huge_aligned(void* p, std::size_t bytes) noexcept {
    if (p == nullptr) return;
    if (bytes < huge_page / 2 || !aligns_to_huge_pages) {
        ::operator delete(p);
        return;
    }
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    ::munmap(p, mapped_bytes(bytes));
#else
    std::free(p);
#endif
}

}  // namespace textcnn::detail
