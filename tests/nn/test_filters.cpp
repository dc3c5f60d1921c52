#define BOOST_TEST_MODULE filters
#include <boost/test/unit_test.hpp>

#include "textcnn/core/error.h"
#include "textcnn/nn/filters.h"

#include <numeric>
#include <string>
#include <vector>

using namespace textcnn;

BOOST_AUTO_TEST_CASE(the_four_kernels_of_the_article) {
    BOOST_TEST(predefined_filter("sobel-x") == (std::vector<float>{1, 0, -1, 2, 0, -2, 1, 0, -1}),
               boost::test_tools::per_element());
    BOOST_TEST(predefined_filter("laplace") == (std::vector<float>{0, 1, 0, 1, -4, 1, 0, 1, 0}),
               boost::test_tools::per_element());
    const auto x = predefined_filter("sobel-x");
    const auto y = predefined_filter("sobel-y");
    for (int r = 0; r < 3; ++r)
        for (int c = 0; c < 3; ++c) BOOST_TEST(y[r * 3 + c] == x[c * 3 + r]);  // transpose
    const auto g = predefined_filter("gaussian");
    BOOST_TEST(g[4] == 0.25f);
    BOOST_TEST(g[0] == 1.0f / 16);
    BOOST_TEST(g[1] == 2.0f / 16);
    BOOST_TEST(std::accumulate(g.begin(), g.end(), 0.0f) == 1.0f);
    const auto laplace = predefined_filter("laplace");
    BOOST_TEST(std::accumulate(laplace.begin(), laplace.end(), 0.0f) == 0.0f);
    BOOST_TEST(predefined_filter_names() == (std::vector<std::string>{"sobel-x", "sobel-y", "laplace", "gaussian"}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(unknown_names_list_the_known_ones) {
    try {
        predefined_filter("sharpen");
        BOOST_FAIL("no exception");
    } catch (const ConfigError& e) {
        BOOST_TEST(std::string(e.what()) ==
                   "filter 'sharpen': unknown predefined filter (known: sobel-x, sobel-y, laplace, gaussian)");
    }
}
