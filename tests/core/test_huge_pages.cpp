// Transparent huge pages for prediction tables (core/huge_pages.h): a hint that must never
// change what a buffer holds.
#define BOOST_TEST_MODULE huge_pages
#include <boost/test/unit_test.hpp>

#include "core/huge_pages.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

using namespace textcnn::detail;

BOOST_AUTO_TEST_CASE(assigning_replaces_the_contents) {
    for (const std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{4095}, std::size_t{3} << 20,
                                std::size_t{9} << 20}) {
        std::vector<std::uint8_t> v(100, 9);
        assign_with_huge_pages(v, n, std::uint8_t{7});
        BOOST_CHECK_EQUAL(v.size(), n);
        BOOST_CHECK(std::all_of(v.begin(), v.end(), [](std::uint8_t x) { return x == 7; }));
    }
    std::vector<float> f{1.0f, 2.0f};
    assign_with_huge_pages(f, std::size_t{5} << 20);  // value-initialised: zeros
    BOOST_CHECK_EQUAL(f.size(), std::size_t{5} << 20);
    BOOST_CHECK(std::all_of(f.begin(), f.end(), [](float x) { return x == 0.0f; }));
}

BOOST_AUTO_TEST_CASE(advice_on_odd_ranges_is_harmless) {
    std::vector<std::uint8_t> v(std::size_t{6} << 20, 3);
    advise_huge_pages(nullptr, 1 << 30);
    advise_huge_pages(v.data() + 1, v.size() - 1);  // unaligned start
    advise_huge_pages(v.data(), 4096);              // too small to matter
    BOOST_CHECK(std::all_of(v.begin(), v.end(), [](std::uint8_t x) { return x == 3; }));
}

BOOST_AUTO_TEST_CASE(large_buffers_start_at_a_huge_page_boundary_and_hold_what_is_written) {
    constexpr std::uintptr_t huge_page = std::uintptr_t{2} << 20;
    // Below 1 MiB, a block half used, at 2 MiB, a partial last block under and over half used,
    // whole blocks.
    for (const std::size_t n : {std::size_t{1}, std::size_t{1} << 20, (std::size_t{2} << 20) - 1, std::size_t{2} << 20,
                                (std::size_t{5} << 20) / 2, (std::size_t{7} << 20) / 2, std::size_t{6} << 20}) {
        UnfilledBytes v(n);
        BOOST_REQUIRE_EQUAL(v.size(), n);
        if (n >= huge_page / 2 && aligns_to_huge_pages) BOOST_CHECK_EQUAL(reinterpret_cast<std::uintptr_t>(v.data()) % huge_page, 0u);
        for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::uint8_t>(i * 7);
        bool intact = true;
        for (std::size_t i = 0; i < n; ++i) intact = intact && v[i] == static_cast<std::uint8_t>(i * 7);
        BOOST_CHECK(intact);
        // Growing moves the contents into a new buffer (allocated and freed by size).
        v.resize(n + (std::size_t{3} << 20), 5);
        BOOST_CHECK_EQUAL(v[n / 2], static_cast<std::uint8_t>((n / 2) * 7));
        BOOST_CHECK_EQUAL(v.back(), 5);
    }
    std::vector<float, HugePageAllocator<float>> floats(std::size_t{1} << 20, 1.5f);  // 4 MiB, value given
    BOOST_CHECK(std::all_of(floats.begin(), floats.end(), [](float x) { return x == 1.5f; }));
    BOOST_CHECK_THROW(HugePageAllocator<float>().allocate(std::size_t(-1) / 2), std::bad_alloc);
}
