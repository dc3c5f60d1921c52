#define BOOST_TEST_MODULE svg
#include <boost/test/unit_test.hpp>

#include "textcnn/core/error.h"
#include "textcnn/report/svg.h"

#include <cmath>
#include <string>
#include <vector>

using namespace textcnn;

namespace {

std::size_t occurrences(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
    return n;
}

}  // namespace

BOOST_AUTO_TEST_CASE(escape_replaces_every_markup_character) {
    BOOST_CHECK_EQUAL(svg::escape("<script>alert(\"a&b\")</script> it's"),
                      "&lt;script&gt;alert(&quot;a&amp;b&quot;)&lt;/script&gt; it&#39;s");
    BOOST_CHECK_EQUAL(svg::escape("plain text, Ünïcode"), "plain text, Ünïcode");
}

BOOST_AUTO_TEST_CASE(nice_ticks_are_round_and_cover_the_range) {
    const std::vector<double> unit = svg::nice_ticks(0.0, 1.0), want{0.0, 0.2, 0.4, 0.6, 0.8, 1.0};
    BOOST_REQUIRE_EQUAL(unit.size(), want.size());
    for (std::size_t i = 0; i < want.size(); ++i) BOOST_TEST(unit[i] == want[i], boost::test_tools::tolerance(1e-12));
    const auto t = svg::nice_ticks(0.37, 0.52);
    BOOST_CHECK_LE(t.front(), 0.37);
    BOOST_CHECK_GE(t.back(), 0.52);
    BOOST_CHECK_EQUAL(svg::nice_ticks(2.0, 2.0).size() >= 2, true);  // a single value still gets an axis
}

BOOST_AUTO_TEST_CASE(heat_map_escapes_labels_and_writes_every_count) {
    svg::HeatMap map{.title = "Confusion <test>",
                     .labels = {"<script>", "a&b", "plain"},
                     .counts = {{7, 1, 0}, {2, 11, 3}, {0, 4, 19}}};
    const std::string out = svg::heat_map(map);
    BOOST_CHECK_EQUAL(out.find("<script>"), std::string::npos);
    BOOST_CHECK_EQUAL(out.find("a&b"), std::string::npos);
    BOOST_CHECK_GE(occurrences(out, "&lt;script&gt;"), 2u);  // row and column label
    BOOST_CHECK_GE(occurrences(out, "a&amp;b"), 2u);
    BOOST_CHECK(out.find("Confusion &lt;test&gt;") != std::string::npos);
    BOOST_CHECK_EQUAL(occurrences(out, "class=\"cell\""), 9u);
    for (const char* count : {">7<", ">11<", ">19<", ">4<", ">3<"}) BOOST_CHECK(out.find(count) != std::string::npos);
    BOOST_CHECK(out.find("true a&amp;b, predicted plain: 3") != std::string::npos);
    // Cells are shaded by share of the row: the full 19/23 diagonal is darker than 1/8.
    BOOST_CHECK_EQUAL(out.find("fill=\"rgb(255,255,255)\"") != std::string::npos, true);  // zeros stay white
}

BOOST_AUTO_TEST_CASE(heat_map_refuses_counts_of_another_size) {
    BOOST_CHECK_THROW(svg::heat_map({.title = "x", .labels = {"a", "b"}, .counts = {{1, 2}}}), ConfigError);
    BOOST_CHECK_THROW(svg::heat_map({.title = "x", .labels = {"a", "b"}, .counts = {{1, 2}, {3}}}), ConfigError);
}

BOOST_AUTO_TEST_CASE(line_chart_draws_one_polyline_per_series_and_the_marks) {
    svg::LineChart chart;
    chart.title = "Loss";
    chart.x.label = "epoch";
    chart.y.label = "loss";
    chart.series.push_back({"train <a&b>", {{1, 0.7}, {2, 0.5}, {3, 0.4}}, "#123456"});
    chart.series.push_back({"dev", {{1, 0.6}, {2, 0.55}, {3, 0.58}}, "#654321", true, true});
    chart.marks.push_back({2, 0.55, "best"});
    const std::string out = svg::line_chart(chart);
    BOOST_CHECK_EQUAL(occurrences(out, "<polyline"), 2u);
    BOOST_CHECK_EQUAL(occurrences(out, "class=\"mark\""), 1u);
    BOOST_CHECK_EQUAL(occurrences(out, "<circle cx"), 3u);  // the dev series' dots
    BOOST_CHECK(out.find("train &lt;a&amp;b&gt;") != std::string::npos);
    BOOST_CHECK_EQUAL(out.find("no data"), std::string::npos);
    BOOST_CHECK_EQUAL(occurrences(out, "<svg"), occurrences(out, "</svg>"));
}

BOOST_AUTO_TEST_CASE(line_chart_without_points_says_so) {
    svg::LineChart chart;
    chart.title = "Empty";
    chart.series.push_back({"nothing", {{NAN, 1.0}}});
    const std::string out = svg::line_chart(chart);
    BOOST_CHECK(out.find("no data") != std::string::npos);
    BOOST_CHECK_EQUAL(occurrences(out, "<polyline"), 0u);
}

BOOST_AUTO_TEST_CASE(bar_chart_draws_a_bar_per_category_and_group) {
    svg::BarChart chart;
    chart.title = "Per class";
    chart.categories = {"<b>", "x", "y"};
    chart.groups = {{"precision", "#111", {0.5, 0.75, 1.0}}, {"recall", "#222", {0.25, 0.0, 0.9}}};
    const std::string out = svg::bar_chart(chart);
    BOOST_CHECK_EQUAL(occurrences(out, "class=\"bar\""), 6u);
    BOOST_CHECK(out.find("&lt;b&gt; precision: 0.5000") != std::string::npos);
    BOOST_CHECK_EQUAL(out.find("<b>"), std::string::npos);
    chart.groups[1].values.pop_back();
    BOOST_CHECK_THROW(svg::bar_chart(chart), ConfigError);
}
