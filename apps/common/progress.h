// Training progress on a terminal, shared by textcnn train and imagecnn train: one live line
// per batch, one line left behind per epoch.
#pragma once

#include "textcnn/nn/training_settings.h"

#include <chrono>
#include <cstdio>
#include <string>

namespace cli_common {

/// "epoch 3/25  batch 120/170  loss 0.4123  acc 81.20%  2,345 items/s  ETA 1m12s"
std::string format_progress(const textcnn::TrainingProgress& p);
/// "epoch 3/25  loss 0.4123  acc 81.20%  dev loss 0.4567  dev acc 78.90% (best)  12.3s  2,345 items/s"
std::string format_epoch(const textcnn::EpochSummary& e);
/// "epoch 2/25  batch 85/170  dev loss 0.4567  dev acc 78.90% (best)"
std::string format_dev_check(const textcnn::ValidationCheck& c);

/// A live progress line: on a terminal the line is redrawn in place ("\r", at most every
/// `min_interval`) and each epoch leaves one line behind; elsewhere (a log file, a pipe) only
/// the one line per epoch is written.
class ProgressPrinter {
public:
    /// `live` defaults to whether `out` is a terminal.
    explicit ProgressPrinter(std::FILE* out = stderr);
    ProgressPrinter(std::FILE* out, bool live, std::chrono::milliseconds min_interval = std::chrono::milliseconds(100));
    void progress(const textcnn::TrainingProgress& p);
    void epoch_end(const textcnn::EpochSummary& e);
    /// A dev check within an epoch (--validations-per-epoch): one line left behind, e.g.
    /// "epoch 2/25  batch 85/170  dev loss 0.4567  dev acc 78.90% (best)", and its accuracy
    /// shown on the live line until the next check. A check at the epoch's end is left to
    /// epoch_end()'s line.
    void dev_check(const textcnn::ValidationCheck& c);

private:
    std::FILE* out_;
    bool live_;
    std::chrono::milliseconds min_interval_;
    std::chrono::steady_clock::time_point last_{};
    bool drawn_ = false;
    std::string last_check_;  ///< "  dev acc 78.90% at batch 85" for the live line
};

}  // namespace cli_common
