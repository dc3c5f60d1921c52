#include "textcnn/report/svg.h"

#include "textcnn/core/error.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace textcnn::svg {

namespace {

// Text of a tick value: as many decimals as the step needs (0.25 -> 2, 50 -> 0).
std::string tick_text(double value, double step) {
    if (std::abs(value) >= 1e9 || (value != 0.0 && std::abs(value) < 1e-4)) return fmt::format("{:.3g}", value);
    const int decimals = step > 0.0 ? std::clamp(static_cast<int>(std::ceil(-std::log10(step) - 1e-9)), 0, 6) : 0;
    return fmt::format("{:.{}f}", std::abs(value) < step * 1e-9 ? 0.0 : value, decimals);
}

// The opening tag of a chart and its title.
std::string open_chart(double width, double height, const std::string& title) {
    return fmt::format(
        "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
        "role=\"img\" font-family=\"sans-serif\" font-size=\"11\"><title>{2}</title>"
        "<text x=\"{3}\" y=\"16\" text-anchor=\"middle\" font-size=\"13\" font-weight=\"bold\">{2}</text>",
        width, height, escape(title), width / 2);
}

// A legend row of coloured swatches starting at (x, y).
std::string legend(double x, double y, const std::vector<std::pair<std::string, std::string>>& entries) {
    std::string out;
    for (const auto& [name, color] : entries) {
        out += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"12\" height=\"4\" fill=\"{}\"/>"
                           "<text x=\"{:.1f}\" y=\"{:.1f}\">{}</text>",
                           x, y - 4, color, x + 16, y, escape(name));
        x += 28 + 6.5 * static_cast<double>(name.size());
    }
    return out;
}

struct Range {
    double low, high;
    std::vector<double> ticks;
};

Range axis_range(const Axis& axis, double data_low, double data_high) {
    double low = axis.min.value_or(data_low), high = axis.max.value_or(data_high);
    if (!std::isfinite(low) || !std::isfinite(high)) low = 0.0, high = 1.0;
    std::vector<double> ticks = nice_ticks(low, high);
    if (!axis.min) low = std::min(low, ticks.front());
    if (!axis.max) high = std::max(high, ticks.back());
    if (high <= low) high = low + 1.0;
    std::erase_if(ticks, [&](double t) { return t < low - 1e-12 * (high - low) || t > high + 1e-12 * (high - low); });
    return {low, high, std::move(ticks)};
}

// Plot area and the mapping from data to pixels.
struct Frame {
    double left, top, width, height;
    Range x, y;
    double px(double v) const { return left + (v - x.low) / (x.high - x.low) * width; }
    double py(double v) const { return top + height - (v - y.low) / (y.high - y.low) * height; }
};

std::string axes(const Frame& f, const Axis& x_axis, const Axis& y_axis) {
    std::string out = fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"none\" "
                                  "stroke=\"#999\"/>",
                                  f.left, f.top, f.width, f.height);
    const double x_step = f.x.ticks.size() > 1 ? f.x.ticks[1] - f.x.ticks[0] : 1.0;
    const double y_step = f.y.ticks.size() > 1 ? f.y.ticks[1] - f.y.ticks[0] : 1.0;
    for (double t : f.x.ticks)
        out += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\" stroke=\"#eee\"/>"
                           "<text x=\"{0:.1f}\" y=\"{3:.1f}\" text-anchor=\"middle\">{4}</text>",
                           f.px(t), f.top, f.top + f.height, f.top + f.height + 14, tick_text(t, x_step));
    for (double t : f.y.ticks)
        out += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{2:.1f}\" y2=\"{1:.1f}\" stroke=\"#eee\"/>"
                           "<text x=\"{3:.1f}\" y=\"{4:.1f}\" text-anchor=\"end\">{5}</text>",
                           f.left, f.py(t), f.left + f.width, f.left - 4, f.py(t) + 4, tick_text(t, y_step));
    out += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>", f.left + f.width / 2,
                       f.top + f.height + 30, escape(x_axis.label));
    out += fmt::format("<text transform=\"translate(12 {:.1f}) rotate(-90)\" text-anchor=\"middle\">{}</text>",
                       f.top + f.height / 2, escape(y_axis.label));
    return out;
}

bool finite(const std::pair<double, double>& p) { return std::isfinite(p.first) && std::isfinite(p.second); }

}  // namespace

std::string escape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&#39;"; break;
            default: out += c;
        }
    }
    return out;
}

std::vector<double> nice_ticks(double low, double high, int target) {
    if (!std::isfinite(low) || !std::isfinite(high)) return {0.0, 1.0};
    if (low > high) std::swap(low, high);
    if (high - low < 1e-12 * std::max(1.0, std::abs(high))) {
        const double pad = low == 0.0 ? 1.0 : std::abs(low) * 0.1;
        low -= pad;
        high += pad;
    }
    const double raw = (high - low) / std::max(1, target);
    const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
    double step = magnitude;
    for (double m : {1.0, 2.0, 5.0, 10.0})
        if (m * magnitude >= raw) {
            step = m * magnitude;
            break;
        }
    std::vector<double> ticks;
    for (double t = std::floor(low / step) * step; t <= high + step * 0.999 && ticks.size() < 50; t += step)
        ticks.push_back(std::abs(t) < step * 1e-9 ? 0.0 : t);
    return ticks;
}

std::string line_chart(const LineChart& chart) {
    double x_low = std::numeric_limits<double>::infinity(), x_high = -x_low, y_low = x_low, y_high = -x_low;
    std::size_t point_count = 0;
    auto widen = [&](double x, double y) {
        x_low = std::min(x_low, x), x_high = std::max(x_high, x);
        y_low = std::min(y_low, y), y_high = std::max(y_high, y);
    };
    for (const auto& s : chart.series)
        for (const auto& p : s.points)
            if (finite(p)) widen(p.first, p.second), ++point_count;
    for (const auto& m : chart.marks)
        if (std::isfinite(m.x) && std::isfinite(m.y)) widen(m.x, m.y);
    Frame f{56, 44, chart.width - 56 - 16, chart.height - 44 - 40, axis_range(chart.x, x_low, x_high),
            axis_range(chart.y, y_low, y_high)};
    std::string out = open_chart(chart.width, chart.height, chart.title) + axes(f, chart.x, chart.y);
    std::vector<std::pair<std::string, std::string>> entries;
    for (const auto& s : chart.series) entries.emplace_back(s.name, s.color);
    out += legend(f.left, 34, entries);
    if (chart.diagonal)
        out += fmt::format("<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#bbb\" "
                           "stroke-dasharray=\"4 4\"/>",
                           f.px(f.x.low), f.py(f.y.low), f.px(f.x.high), f.py(f.y.high));
    if (point_count == 0)
        out += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\" fill=\"#888\">no data</text>",
                           f.left + f.width / 2, f.top + f.height / 2);
    for (const auto& s : chart.series) {
        std::string path, dots;
        for (const auto& p : s.points) {
            if (!finite(p)) continue;
            path += fmt::format("{}{:.1f},{:.1f}", path.empty() ? "" : " ", f.px(p.first), f.py(p.second));
            if (s.dots)
                dots += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"2.5\" fill=\"{}\"/>", f.px(p.first),
                                    f.py(p.second), s.color);
        }
        if (path.empty()) continue;
        out += fmt::format("<polyline class=\"series\" fill=\"none\" stroke=\"{}\" stroke-width=\"1.8\"{} points=\"{}\">"
                           "<title>{}</title></polyline>{}",
                           s.color, s.dashed ? " stroke-dasharray=\"5 3\"" : "", path, escape(s.name), dots);
    }
    for (const auto& m : chart.marks) {
        if (!std::isfinite(m.x) || !std::isfinite(m.y)) continue;
        const double x = f.px(m.x), y = f.py(m.y);
        const bool left = x > f.left + f.width * 0.6;
        out += fmt::format("<circle class=\"mark\" cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"5\" fill=\"none\" stroke=\"{}\" "
                           "stroke-width=\"2\"/><text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"{}\" fill=\"{}\">{}</text>",
                           x, y, m.color, left ? x - 8 : x + 8, y + 14, left ? "end" : "start", m.color, escape(m.label));
    }
    return out + "</svg>";
}

std::string heat_map(const HeatMap& map) {
    const std::size_t k = map.labels.size();
    if (map.counts.size() != k || std::any_of(map.counts.begin(), map.counts.end(), [&](const auto& r) { return r.size() != k; }))
        throw ConfigError(fmt::format("heat map: counts must be {0} x {0}, one row and column per label", k));
    std::size_t longest = 4;
    for (const auto& l : map.labels) longest = std::max(longest, std::min<std::size_t>(l.size(), 24));
    const double cell = k ? std::clamp(360.0 / static_cast<double>(k), 12.0, 64.0) : 64.0;
    const double label_room = 16 + 6.5 * static_cast<double>(longest);
    const double left = 20 + label_room, top = 30 + label_room;
    const double width = left + cell * static_cast<double>(k) + 16, height = top + cell * static_cast<double>(k) + 16;
    std::string out = open_chart(width, height, map.title);
    auto shown = [](const std::string& l) { return l.size() > 24 ? l.substr(0, 23) + "\u2026" : l; };
    for (std::size_t i = 0; i < k; ++i) {
        const double middle = static_cast<double>(i) * cell + cell / 2;
        out += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>", left - 4, top + middle + 4,
                           escape(shown(map.labels[i])));
        out += fmt::format("<text transform=\"translate({:.1f} {:.1f}) rotate(-90)\" text-anchor=\"start\">{}</text>",
                           left + middle + 4, top - 4, escape(shown(map.labels[i])));
    }
    out += fmt::format("<text transform=\"translate(12 {:.1f}) rotate(-90)\" text-anchor=\"middle\">{}</text>",
                       top + cell * static_cast<double>(k) / 2, escape(map.row_title));
    out += fmt::format("<text x=\"{:.1f}\" y=\"30\" text-anchor=\"middle\">{}</text>",
                       left + cell * static_cast<double>(k) / 2, escape(map.column_title));
    for (std::size_t r = 0; r < k; ++r) {
        std::size_t row_total = 0;
        for (std::size_t n : map.counts[r]) row_total += n;
        for (std::size_t c = 0; c < k; ++c) {
            const std::size_t n = map.counts[r][c];
            const double share = row_total ? static_cast<double>(n) / static_cast<double>(row_total) : 0.0;
            // White to dark blue with the share of the row.
            const int red = static_cast<int>(std::lround(255 - share * (255 - 8)));
            const int green = static_cast<int>(std::lround(255 - share * (255 - 69)));
            const int blue = static_cast<int>(std::lround(255 - share * (255 - 148)));
            const double x = left + static_cast<double>(c) * cell, y = top + static_cast<double>(r) * cell;
            out += fmt::format("<rect class=\"cell\" x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" "
                               "fill=\"rgb({},{},{})\" stroke=\"#fff\"><title>true {}, predicted {}: {} ({:.1f} % of "
                               "the row)</title></rect>",
                               x, y, cell, cell, red, green, blue, escape(map.labels[r]), escape(map.labels[c]), n,
                               100.0 * share);
            if (cell >= 18)
                out += fmt::format("<text class=\"count\" x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\" fill=\"{}\"{}>"
                                   "{}</text>",
                                   x + cell / 2, y + cell / 2 + 4, share > 0.5 ? "#fff" : "#222",
                                   cell < 36 ? " font-size=\"9\"" : "", n);
        }
    }
    return out + "</svg>";
}

std::string bar_chart(const BarChart& chart) {
    for (const auto& g : chart.groups)
        if (g.values.size() != chart.categories.size())
            throw ConfigError(fmt::format("bar chart: group '{}' has {} values for {} categories", g.name,
                                          g.values.size(), chart.categories.size()));
    const double width = std::max(chart.width, 80.0 + 22.0 * static_cast<double>(chart.categories.size() * std::max<std::size_t>(1, chart.groups.size())));
    Axis y_axis{"", 0.0, chart.y_max};
    Frame f{56, 44, width - 56 - 16, chart.height - 44 - 40, {0.0, 1.0, {}}, axis_range(y_axis, 0.0, chart.y_max)};
    std::string out = open_chart(width, chart.height, chart.title) + axes(f, Axis{}, y_axis);
    std::vector<std::pair<std::string, std::string>> entries;
    for (const auto& g : chart.groups) entries.emplace_back(g.name, g.color);
    out += legend(f.left, 34, entries);
    const double slot = chart.categories.empty() ? f.width : f.width / static_cast<double>(chart.categories.size());
    const double bar = slot * 0.8 / static_cast<double>(std::max<std::size_t>(1, chart.groups.size()));
    for (std::size_t c = 0; c < chart.categories.size(); ++c) {
        const double x0 = f.left + slot * static_cast<double>(c);
        std::string name = chart.categories[c];
        const auto room = static_cast<std::size_t>(std::max(3.0, slot / 6.5));
        if (name.size() > room) name = name.substr(0, room - 1) + "\u2026";
        out += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>", x0 + slot / 2,
                           f.top + f.height + 14, escape(name));
        for (std::size_t g = 0; g < chart.groups.size(); ++g) {
            const double v = std::clamp(chart.groups[g].values[c], 0.0, chart.y_max);
            const double x = x0 + slot * 0.1 + bar * static_cast<double>(g);
            out += fmt::format("<rect class=\"bar\" x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" "
                               "fill=\"{}\"><title>{} {}: {:.4f}</title></rect>",
                               x, f.py(v), bar * 0.92, f.py(0.0) - f.py(v), chart.groups[g].color,
                               escape(chart.categories[c]), escape(chart.groups[g].name), chart.groups[g].values[c]);
            if (bar >= 18)
                out += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\" font-size=\"9\">{:.2f}</text>",
                                   x + bar * 0.46, f.py(v) - 3, chart.groups[g].values[c]);
        }
    }
    return out + "</svg>";
}

}  // namespace textcnn::svg
