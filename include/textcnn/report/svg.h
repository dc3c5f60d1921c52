// Charts as standalone SVG elements (inline in an HTML page, or saved as .svg): line charts
// with several series and marked points, a heat map of counts, grouped bar charts. No
// scripts, no external fonts or styles: the markup draws as it is. Every text that reaches the
// markup (titles, series names, labels) is escaped, so labels taken from user data cannot
// inject markup. Coordinates are in CSS pixels of the chart's own viewBox.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace textcnn::svg {

/// `text` with &, <, >, " and ' replaced by entities: safe in element content and in quoted
/// attribute values of HTML and SVG. Thread-safe.
std::string escape(std::string_view text);

/// About `target` round tick values ("nice" steps of 1, 2 or 5 x 10^k) covering [low, high];
/// low == high gives a range around it. Non-finite bounds give {0, 1}. Thread-safe.
std::vector<double> nice_ticks(double low, double high, int target = 5);

struct Series {
    std::string name;                              ///< legend text
    std::vector<std::pair<double, double>> points; ///< (x, y), drawn in this order
    std::string color = "#1f77b4";                 ///< any CSS colour (not escaped: a constant of the caller)
    bool dashed = false;
    bool dots = false;  ///< a small circle at every point
};

/// A point to point out: a ringed dot with a label beside it.
struct Mark {
    double x = 0.0, y = 0.0;
    std::string label;
    std::string color = "#d62728";
};

struct Axis {
    std::string label;
    std::optional<double> min, max;  ///< default: the data's range (with round ticks)
};

struct LineChart {
    std::string title;
    Axis x, y;
    std::vector<Series> series;
    std::vector<Mark> marks;
    bool diagonal = false;  ///< a dashed line from (x min, y min) to (x max, y max), as on ROC charts
    double width = 480, height = 300;
};

/// <svg class="chart" ...> with axes, ticks, a legend, the series as polylines and the marks.
/// A chart without points draws its axes and "no data". Non-finite points are skipped.
std::string line_chart(const LineChart& chart);

struct HeatMap {
    std::string title;
    std::vector<std::string> labels;               ///< rows and columns, in this order
    std::vector<std::vector<std::size_t>> counts;  ///< [row][column], labels.size() squared
    std::string row_title = "true label";
    std::string column_title = "predicted label";
};

/// A square of cells coloured by each count's share of its row (so a rare class reads as
/// clearly as a common one), the count written in the cell. ConfigError when counts is not
/// labels.size() x labels.size().
std::string heat_map(const HeatMap& map);

struct BarGroup {
    std::string name;  ///< legend text
    std::string color;
    std::vector<double> values;  ///< one per category
};

struct BarChart {
    std::string title;
    std::vector<std::string> categories;  ///< along the x axis
    std::vector<BarGroup> groups;         ///< side by side within each category
    double y_max = 1.0;
    double width = 480, height = 300;
};

/// Grouped vertical bars from 0 to y_max, each with its value written above it.
/// ConfigError when a group's values do not match the categories.
std::string bar_chart(const BarChart& chart);

}  // namespace textcnn::svg
