// The project's number formatters (core/number_text.h).
#define BOOST_TEST_MODULE number_text
#include <boost/test/unit_test.hpp>

#include "textcnn/core/number_text.h"

#include <cstdint>
#include <limits>

using namespace textcnn;

BOOST_AUTO_TEST_CASE(thousands_separators) {
    BOOST_TEST(with_thousands_separators(0) == "0");
    BOOST_TEST(with_thousands_separators(999) == "999");
    BOOST_TEST(with_thousands_separators(1000) == "1,000");
    BOOST_TEST(with_thousands_separators(14838) == "14,838");
    BOOST_TEST(with_thousands_separators(1234567) == "1,234,567");
    BOOST_TEST(with_thousands_separators(std::numeric_limits<std::uint64_t>::max()) == "18,446,744,073,709,551,615");
}

// Decimal units, the unit chosen so the figure is at least 1: a 4,722-parameter network's
// 18,888 bytes are "18.9 kB", not "0.00 GB" (imagecnn's out-of-memory messages said that).
BOOST_AUTO_TEST_CASE(byte_sizes) {
    BOOST_TEST(byte_size_text(0) == "0 bytes");
    BOOST_TEST(byte_size_text(999) == "999 bytes");
    BOOST_TEST(byte_size_text(1000) == "1.0 kB");
    BOOST_TEST(byte_size_text(18888) == "18.9 kB");
    BOOST_TEST(byte_size_text(18400000) == "18.4 MB");
    BOOST_TEST(byte_size_text(999949999) == "999.9 MB");
    BOOST_TEST(byte_size_text(999999999) == "1.0 GB");  // never "1000.0 MB"
    BOOST_TEST(byte_size_text(999999) == "1.0 MB");
    BOOST_TEST(byte_size_text(2100000000) == "2.1 GB");
    BOOST_TEST(byte_size_text(std::numeric_limits<std::uint64_t>::max()) == "18446744073.7 GB");
}
