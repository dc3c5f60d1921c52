// Transparent huge pages for the tables that prediction reads at random.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>
#include <vector>

namespace textcnn::detail {

/// Asks the kernel to back the 2 MiB-aligned part of [data, data + bytes) with transparent huge
/// pages when it is touched (madvise MADV_HUGEPAGE; Linux with THP in "madvise" or "always"
/// mode), for buffers of 4 MiB or more. A folded or quantized table is read one row per token
/// at random: with 4 KiB pages nearly every row costs a TLB miss, with 2 MiB pages a 17 MB table
/// needs 9 TLB entries. A hint only: refused or unsupported, nothing changes. Thread-safe.
void advise_huge_pages(const void* data, std::size_t bytes);

/// `v` replaced by n copies of `value` in a new buffer advised (advise_huge_pages) before its
/// pages are first touched, so the hint takes effect at once rather than when the kernel's
/// background collapsing gets to it. The old buffer is freed first.
template <class T>
void assign_with_huge_pages(std::vector<T>& v, std::size_t n, const T& value = T{}) {
    std::vector<T>().swap(v);
    v.reserve(n);
    advise_huge_pages(v.data(), n * sizeof(T));
    v.assign(n, value);
}

/// Whether allocate_huge_aligned() maps buffers of 1 MiB or more at 2 MiB boundaries: not under
/// AddressSanitizer, where every buffer comes from operator new, so that a read past a table's
/// end meets its redzone instead of the unused rest of a mapping.
#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool aligns_to_huge_pages = false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool aligns_to_huge_pages = false;
#else
inline constexpr bool aligns_to_huge_pages = true;
#endif
#else
inline constexpr bool aligns_to_huge_pages = true;
#endif

/// Memory for buffers that are read at random or first touched in bulk (tables, a model file's
/// large sections). Below 1 MiB: operator new. From 1 MiB: an anonymous mapping that starts at a
/// 2 MiB boundary, advised (MADV_HUGEPAGE) over its whole 2 MiB blocks and over a last partial
/// block at least half used, before any page is touched. Both halves count: first touching
/// 6 MiB took 21-24 ms in 4 KiB pages and 0.7 ms in 2 MiB pages here (Firecracker VM, kernel
/// 6.18), and a buffer that does not start at a boundary keeps its first block in 4 KiB pages
/// (a 5.8 MB model file read and checksummed in 8-12 ms instead of 1.4-2.1). A partial last block costs at most
/// 1 MiB of resident memory. Under AddressSanitizer: operator new (aligns_to_huge_pages).
/// Throws std::bad_alloc. Thread-safe.
void* allocate_huge_aligned(std::size_t bytes);
/// Frees what allocate_huge_aligned(bytes) returned (the same `bytes`).
void deallocate_huge_aligned(void* p, std::size_t bytes) noexcept;

/// A std::vector allocator on allocate_huge_aligned() whose value-less construct()
/// default-initializes: resize() of a vector of bytes or numbers then leaves the new elements
/// unwritten (and a fresh buffer's pages untouched), for buffers whose every element is written
/// afterwards, possibly in parallel (the threads that write them take their page faults).
template <class T>
struct HugePageAllocator {
    using value_type = T;
    HugePageAllocator() = default;
    template <class U>
    HugePageAllocator(const HugePageAllocator<U>&) noexcept {}
    T* allocate(std::size_t n) {
        if (n > std::size_t(-1) / sizeof(T)) throw std::bad_alloc();
        return static_cast<T*>(allocate_huge_aligned(n * sizeof(T)));
    }
    void deallocate(T* p, std::size_t n) noexcept { deallocate_huge_aligned(p, n * sizeof(T)); }
    template <class U>
    void construct(U* p) noexcept(std::is_nothrow_default_constructible_v<U>) {
        ::new (static_cast<void*>(p)) U;
    }
    template <class U, class... Args>
    void construct(U* p, Args&&... args) {
        ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
    }
    template <class U>
    bool operator==(const HugePageAllocator<U>&) const noexcept {
        return true;
    }
};

/// Bytes that are written after allocation, on huge pages from 1 MiB (HugePageAllocator).
using UnfilledBytes = std::vector<std::uint8_t, HugePageAllocator<std::uint8_t>>;

}  // namespace textcnn::detail
