#include "progress.h"

#include "textcnn/core/number_text.h"

#include <fmt/format.h>

#include <unistd.h>

#include <cmath>

namespace cli_common {

namespace {

std::string with_thousands(double value) {
    const long long n = std::llround(value);
    const std::string magnitude = textcnn::with_thousands_separators(static_cast<std::uint64_t>(n < 0 ? -n : n));
    return n < 0 ? "-" + magnitude : magnitude;
}

std::string duration_text(double seconds) {
    if (!std::isfinite(seconds)) return "?";
    const long s = std::lround(seconds);
    if (s < 60) return std::to_string(s) + "s";
    if (s < 3600) return fmt::format("{}m{:02}s", s / 60, s % 60);
    return fmt::format("{}h{:02}m", s / 3600, (s % 3600) / 60);
}

}  // namespace

std::string format_progress(const textcnn::TrainingProgress& p) {
    return fmt::format("epoch {}/{}  batch {}/{}  loss {:.4f}  acc {:.2f}%  {} items/s  ETA {}", p.epoch, p.epochs, p.batch,
                       p.batches, p.loss, 100.0 * p.accuracy, with_thousands(p.items_per_second),
                       duration_text(p.eta_seconds));
}

std::string format_epoch(const textcnn::EpochSummary& e) {
    std::string s = fmt::format("epoch {}/{}  loss {:.4f}  acc {:.2f}%", e.epoch, e.epochs, e.train_loss,
                                100.0 * e.train_accuracy);
    if (e.has_validation)
        s += fmt::format("  dev loss {:.4f}  dev acc {:.2f}%{}", e.validation_loss, 100.0 * e.validation_accuracy,
                         e.improved ? " (best)" : "");
    s += fmt::format("  {:.1f}s  {} items/s", e.seconds, with_thousands(e.items_per_second));
    return s;
}

std::string format_dev_check(const textcnn::ValidationCheck& c) {
    return fmt::format("epoch {}  batch {}/{}  dev loss {:.4f}  dev acc {:.2f}%{}", c.epoch, c.batch, c.batches, c.loss,
                       100.0 * c.accuracy, c.improved ? " (best)" : "");
}

ProgressPrinter::ProgressPrinter(std::FILE* out) : ProgressPrinter(out, ::isatty(::fileno(out)) == 1) {}

ProgressPrinter::ProgressPrinter(std::FILE* out, bool live, std::chrono::milliseconds min_interval)
    : out_(out), live_(live), min_interval_(min_interval) {}

void ProgressPrinter::progress(const textcnn::TrainingProgress& p) {
    if (!live_) return;
    const auto now = std::chrono::steady_clock::now();
    if (drawn_ && p.batch != p.batches && now - last_ < min_interval_) return;
    // "\x1b[K" clears what a longer previous line left to the right.
    std::string line = "\r";  // built by appends: GCC 12 warns falsely (-Wrestrict) on "\r" + string
    line += format_progress(p);
    line += last_check_;
    line += "\x1b[K";
    std::fputs(line.c_str(), out_);
    std::fflush(out_);
    last_ = now;
    drawn_ = true;
}

void ProgressPrinter::epoch_end(const textcnn::EpochSummary& e) {
    if (live_ && drawn_) std::fputs("\r\x1b[K", out_);
    drawn_ = false;
    last_check_.clear();
    std::fputs((format_epoch(e) + "\n").c_str(), out_);
    std::fflush(out_);
}

void ProgressPrinter::dev_check(const textcnn::ValidationCheck& c) {
    if (c.batch >= c.batches) return;  // the epoch's line says it
    if (live_ && drawn_) std::fputs("\r\x1b[K", out_);
    drawn_ = false;
    std::fputs((format_dev_check(c) + "\n").c_str(), out_);
    std::fflush(out_);
    last_check_ = fmt::format("  dev acc {:.2f}% at batch {}", 100.0 * c.accuracy, c.batch);
}

}  // namespace cli_common
