#include "textcnn/report/run_report.h"

#include "textcnn/core/error.h"
#include "textcnn/core/files.h"
#include "textcnn/report/svg.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace textcnn {

namespace {

using svg::escape;

constexpr const char* train_color = "#1f77b4";
constexpr const char* dev_color = "#ff7f0e";
constexpr const char* third_color = "#2ca02c";

constexpr const char* page_style = R"(
body{font-family:sans-serif;margin:24px auto;max-width:1100px;color:#222;padding:0 16px}
h1{font-size:22px;margin-bottom:4px}h2{font-size:17px;border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:28px}
.sub{color:#666;margin-top:0}.charts{display:flex;flex-wrap:wrap;gap:12px}
.chart{background:#fff;border:1px solid #e4e4e4}table{border-collapse:collapse;font-size:13px;margin:6px 0}
td,th{border:1px solid #ddd;padding:3px 8px;text-align:left}td.n,th.n{text-align:right}
.facts{display:flex;flex-wrap:wrap;gap:24px;align-items:flex-start}pre{background:#f6f6f6;padding:8px;font-size:12px;overflow:auto}
.note{color:#8a5a00}.empty{color:#888}
)";

// A name/value table; a long one (the options of a run) puts two pairs side by side.
std::string fields_table(const std::string& caption, const std::vector<ReportField>& fields) {
    if (fields.empty()) return "";
    const std::size_t per_row = fields.size() > 12 ? 2 : 1;
    std::string out = fmt::format("<table><caption><b>{}</b></caption>", escape(caption));
    for (std::size_t i = 0; i < fields.size(); i += per_row) {
        out += "<tr>";
        for (std::size_t k = i; k < std::min(fields.size(), i + per_row); ++k)
            out += fmt::format("<th>{}</th><td>{}</td>", escape(fields[k].name), escape(fields[k].value));
        out += "</tr>";
    }
    return out + "</table>";
}

// Dev checks as points along a fractional epoch axis (epoch 2 batch 50 of 100 = 1.5).
double check_position(const ValidationCheck& c) {
    return static_cast<double>(c.epoch - 1) +
           (c.batches ? static_cast<double>(c.batch) / static_cast<double>(c.batches) : 1.0);
}

// Training and validation values of one quantity (loss or accuracy) over the epochs.
svg::LineChart epoch_chart(const RunReport& r, const std::string& title, const std::string& y_label, bool accuracy) {
    svg::LineChart chart;
    chart.title = title;
    chart.x.label = "epoch";
    chart.y.label = y_label;
    if (accuracy) chart.y.max = 1.0;
    svg::Series train{"training (epoch mean)", {}, train_color, false, true};
    svg::Series dev{r.checks.size() > r.epochs.size() ? "validation (each dev check)" : "validation", {}, dev_color,
                    false, true};
    for (const auto& e : r.epochs) {
        train.points.emplace_back(static_cast<double>(e.epoch), accuracy ? e.train_accuracy : e.train_loss);
        if (e.has_validation && r.checks.empty())
            dev.points.emplace_back(static_cast<double>(e.epoch), accuracy ? e.validation_accuracy : e.validation_loss);
    }
    for (const auto& c : r.checks) dev.points.emplace_back(check_position(c), accuracy ? c.accuracy : c.loss);
    chart.series.push_back(std::move(train));
    if (!dev.points.empty()) chart.series.push_back(std::move(dev));
    return chart;
}

svg::LineChart per_epoch_chart(const RunReport& r, const std::string& title, const std::string& y_label,
                               double EpochSummary::*field) {
    svg::LineChart chart;
    chart.title = title;
    chart.x.label = "epoch";
    chart.y = {y_label, 0.0, {}};
    svg::Series s{y_label, {}, third_color, false, true};
    for (const auto& e : r.epochs) s.points.emplace_back(static_cast<double>(e.epoch), e.*field);
    chart.series.push_back(std::move(s));
    return chart;
}

std::string epochs_table(const RunReport& r) {
    if (r.epochs.empty()) return "<p class=\"empty\">No epoch was completed.</p>";
    std::string out = fmt::format(
        "<table><tr><th class=\"n\">epoch</th><th class=\"n\">train loss</th><th class=\"n\">train acc</th>"
        "<th class=\"n\">dev loss</th><th class=\"n\">dev acc</th><th class=\"n\">learning rate</th>"
        "<th class=\"n\">seconds</th><th class=\"n\">{}/s</th><th>best</th></tr>",
        escape(r.items));
    for (const auto& e : r.epochs) {
        const std::string dev_loss = e.has_validation ? fmt::format("{:.4f}", e.validation_loss) : "";
        const std::string dev_acc = e.has_validation ? fmt::format("{:.2f} %", 100.0 * e.validation_accuracy) : "";
        out += fmt::format("<tr><td class=\"n\">{}</td><td class=\"n\">{:.4f}</td><td class=\"n\">{:.2f} %</td>"
                           "<td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{:g}</td>"
                           "<td class=\"n\">{:.1f}</td><td class=\"n\">{:.0f}</td><td>{}</td></tr>",
                           e.epoch, e.train_loss, 100.0 * e.train_accuracy, dev_loss, dev_acc, e.learning_rate,
                           e.seconds, e.items_per_second, e.improved ? "new best" : "");
    }
    return out + "</table>";
}

std::string training_section(const RunReport& r) {
    std::string out = "<h2>Training</h2><div class=\"charts\">";
    out += svg::line_chart(epoch_chart(r, "Loss", "cross-entropy", false));
    out += svg::line_chart(epoch_chart(r, "Accuracy", "accuracy", true));
    out += svg::line_chart(per_epoch_chart(r, "Learning rate", "learning rate", &EpochSummary::learning_rate));
    out += svg::line_chart(per_epoch_chart(r, "Throughput", r.items + " per second", &EpochSummary::items_per_second));
    return out + "</div>" + epochs_table(r);
}

std::string metrics_table(const ClassificationReport& m) {
    std::string out = "<table><tr><th>label</th><th class=\"n\">precision</th><th class=\"n\">recall</th>"
                      "<th class=\"n\">F1</th><th class=\"n\">support</th></tr>";
    for (std::size_t c = 0; c < m.labels.size(); ++c)
        out += fmt::format("<tr><td>{}</td><td class=\"n\">{:.4f}</td><td class=\"n\">{:.4f}</td>"
                           "<td class=\"n\">{:.4f}</td><td class=\"n\">{}</td></tr>",
                           escape(m.labels[c]), m.per_class[c].precision, m.per_class[c].recall, m.per_class[c].f1,
                           m.per_class[c].support);
    return out + fmt::format("<tr><th>accuracy</th><td colspan=\"3\" class=\"n\">{:.4f}</td><td class=\"n\">{}</td></tr>"
                             "<tr><th>macro F1</th><td colspan=\"3\" class=\"n\">{:.4f}</td><td></td></tr></table>",
                             m.accuracy, m.samples, m.macro_f1);
}

std::vector<std::pair<double, double>> xy(const std::vector<CurvePoint>& points) {
    std::vector<std::pair<double, double>> out;
    for (const auto& p : points) out.emplace_back(p.x, p.y);
    return out;
}

std::string curve_charts(const ReportEvaluation& e) {
    if (e.roc.empty() || e.metrics.labels.size() != 2) return "";
    const OperatingPoint op = operating_point(e.metrics.confusion);
    const std::string mark = e.threshold ? fmt::format("threshold {:.2f}", *e.threshold) : std::string("decisions");
    const std::string positive = e.metrics.labels[1];
    svg::LineChart roc{.title = fmt::format("ROC of {}, AUC {:.4f}", positive, e.roc_auc),
                       .x = {"false-positive rate", 0.0, 1.0},
                       .y = {"true-positive rate (recall)", 0.0, 1.0},
                       .series = {{"ROC", xy(e.roc), train_color}},
                       .marks = {{op.false_positive_rate, op.recall, mark}},
                       .diagonal = true};
    svg::LineChart pr{.title = fmt::format("Precision-recall of {}, AP {:.4f}", positive, e.average_precision),
                      .x = {"recall", 0.0, 1.0},
                      .y = {"precision", 0.0, 1.0},
                      .series = {{"precision-recall", xy(e.precision_recall), dev_color}},
                      .marks = {{op.recall, op.precision, mark}}};
    return svg::line_chart(roc) + svg::line_chart(pr);
}

std::string evaluation_section(const ReportEvaluation& e) {
    const ClassificationReport& m = e.metrics;
    std::string out = fmt::format("<h2>Evaluation</h2><p class=\"sub\">{}: accuracy {:.2f} %, macro F1 {:.4f}</p>",
                                  escape(e.data), 100.0 * m.accuracy, m.macro_f1);
    out += "<div class=\"charts\">";
    out += svg::heat_map({.title = "Confusion matrix", .labels = m.labels, .counts = m.confusion});
    svg::BarChart bars;
    bars.title = "Per-class precision, recall, F1";
    bars.categories = m.labels;
    bars.groups = {{"precision", train_color, {}}, {"recall", dev_color, {}}, {"F1", third_color, {}}};
    for (const auto& c : m.per_class) {
        bars.groups[0].values.push_back(c.precision);
        bars.groups[1].values.push_back(c.recall);
        bars.groups[2].values.push_back(c.f1);
    }
    out += svg::bar_chart(bars) + curve_charts(e) + "</div>";
    return out + metrics_table(m);
}

}  // namespace

ReportEvaluation make_report_evaluation(std::string data, const std::vector<std::string>& class_names,
                                        const Evaluation& evaluation, std::optional<double> threshold,
                                        std::size_t max_curve_points) {
    const std::size_t n = evaluation.labels.size(), k = class_names.size();
    if (evaluation.predictions.size() != n || evaluation.probabilities.size() != n * k)
        throw ConfigError(fmt::format("report evaluation: {} labels, {} predictions and {} probabilities for {} classes",
                                      n, evaluation.predictions.size(), evaluation.probabilities.size(), k));
    ConfusionMatrix confusion(class_names);
    confusion.add(evaluation.labels, evaluation.predictions);
    std::vector<float> scores;
    std::vector<std::uint8_t> positive;
    if (k == 2)
        for (std::size_t i = 0; i < n; ++i) {
            scores.push_back(evaluation.probabilities[i * 2 + 1]);
            positive.push_back(evaluation.labels[i] == 1);
        }
    return make_report_evaluation(std::move(data), classification_report(confusion), scores, positive, threshold,
                                  max_curve_points);
}

ReportEvaluation make_report_evaluation(std::string data, ClassificationReport metrics, std::span<const float> scores,
                                        std::span<const std::uint8_t> positive, std::optional<double> threshold,
                                        std::size_t max_curve_points) {
    ReportEvaluation e;
    e.data = std::move(data);
    e.metrics = std::move(metrics);
    e.threshold = threshold;
    const auto positives = static_cast<std::size_t>(std::count(positive.begin(), positive.end(), std::uint8_t{1}));
    if (e.metrics.labels.size() != 2 || positives == 0 || positives == positive.size()) return e;
    const auto roc = roc_curve(scores, positive);
    const auto pr = precision_recall_curve(scores, positive);
    e.roc_auc = curve_area(roc);
    e.average_precision = average_precision(pr);
    e.roc = thin_curve(roc, max_curve_points);
    e.precision_recall = thin_curve(pr, max_curve_points);
    return e;
}

std::string report_html(const RunReport& r) {
    std::string out = fmt::format(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
        "img-src data:\"><link rel=\"icon\" href=\"data:,\"><title>{0}</title><style>{1}</style></head><body>"
        "<h1>{0}</h1><p class=\"sub\">{2}</p>",
        escape(r.title), page_style, escape(r.created));
    for (const auto& note : r.notes) out += fmt::format("<p class=\"note\">warning: {}</p>", escape(note));
    out += "<h2>Run</h2><div class=\"facts\">" + fields_table("Settings", r.settings) + fields_table("Data", r.data) +
           fields_table("Result", r.result) + "</div>";
    out += training_section(r);
    if (r.evaluation) out += evaluation_section(*r.evaluation);
    else out += "<h2>Evaluation</h2><p class=\"empty\">No evaluation data (no dev set or held-out share).</p>";
    if (!r.model_summary.empty()) out += "<h2>Model</h2><pre>" + escape(r.model_summary) + "</pre>";
    return out + "</body></html>\n";
}

void write_report_html(const std::string& path, const RunReport& report) {
    write_file_atomically(path, report_html(report));
}

}  // namespace textcnn
