// Transparent huge pages for the tables that prediction reads at random.
#pragma once

#include <cstddef>
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

}  // namespace textcnn::detail
