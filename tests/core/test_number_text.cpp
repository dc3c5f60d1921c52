// The project's one number formatter (core/number_text.h).
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
