#include "training_cli.h"

#include "cli_main.h"
#include "shared_options.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "textcnn/core/error.h"
#include "textcnn/core/files.h"
#include "textcnn/nn/model_file.h"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <fcntl.h>
#include <unistd.h>

namespace cli_common {

namespace {
std::atomic<bool> sigint_received{false};
std::atomic<int> first_signal{0};
extern "C" void on_sigint(int signal) {
    int none = 0;
    first_signal.compare_exchange_strong(none, signal);
    sigint_received.store(true);
}
}  // namespace

SigintScope::SigintScope() {
    sigint_received.store(false);
    first_signal.store(0);
    previous_ = std::signal(SIGINT, on_sigint);
    previous_term_ = std::signal(SIGTERM, on_sigint);
}

SigintScope::~SigintScope() { restore(); }

void SigintScope::restore() {
    if (active_) {
        std::signal(SIGINT, previous_ == SIG_ERR ? SIG_DFL : previous_);
        std::signal(SIGTERM, previous_term_ == SIG_ERR ? SIG_DFL : previous_term_);
    }
    active_ = false;
}

const std::atomic<bool>* SigintScope::flag() { return &sigint_received; }

int SigintScope::received() { return first_signal.load(); }

std::string checkpoint_path(const std::string& model_path, const std::string& given) {
    return given.empty() ? model_path + ".ckpt" : given;
}

std::pair<std::string, std::string> checkpoint_output(const std::string& model_path, const std::string& given) {
    if (const auto target = textcnn::output_target(model_path); given.empty() && (target.descriptor >= 0 || target.in_proc))
        throw UsageError(fmt::format("--model {} names a descriptor, beside which no checkpoint file can be made: give "
                                     "--checkpoint FILE (where Ctrl-C writes the run's checkpoint)",
                                     model_path));
    return {given.empty() ? "the checkpoint (MODEL.ckpt)" : "--checkpoint", checkpoint_path(model_path, given)};
}

void stop_after_checkpoint(const std::string& checkpoint, SigintScope& sigint) {
    sigint.keep();
    const int signal = SigintScope::received() == SIGTERM ? SIGTERM : SIGINT;
    cli_common::print_stderr("\n{}: checkpoint written to {}; continue with --resume {}\n",
               signal == SIGTERM ? "terminated (SIGTERM)" : "interrupted", checkpoint, checkpoint);
    throw Interrupted(signal);
}

void stop_with_checkpoint(const std::string& model, const std::string& checkpoint, const textcnn::TrainResult& result,
                          const std::function<void(const std::string&)>& write_checkpoint,
                          const std::function<std::uint64_t(const std::string&)>& save_best_model,
                          SigintScope& sigint) {
    // Nothing lost: the model to use now, then the checkpoint to go on from. Each is tried
    // whatever became of the other (a full disk may hold the model but not the larger
    // checkpoint), and a failure of either ends the run with exit 1 and says what was kept.
    std::vector<std::string> failed;
    std::error_code ec;
    if (!trained_anything(result) && std::filesystem::exists(model, ec)) {
        // Weights of a run stopped before its first epoch ended and before any validation do not
        // replace the model an earlier run left there (they are in the checkpoint).
        cli_common::print_stderr(
                   "interrupted before the first epoch ended and before any validation: {} was left as it was (an "
                   "earlier file); this run's weights so far are in the checkpoint\n",
                   model);
    } else {
        try {
            const std::uint64_t best = save_best_model(model);
            cli_common::print_stderr("interrupted: the model so far written to {} ({})\n", model,
                       best ? fmt::format("best dev accuracy {} at epoch {}", percent(result.best_accuracy), best)
                            : std::string("its current weights: nothing validated yet"));
        } catch (const textcnn::Error& e) {
            cli_common::print_stderr("error: {}\n", e.what());
            failed.push_back("the model (" + model + ")");
        }
    }
    try {
        write_checkpoint(checkpoint);
    } catch (const textcnn::Error& e) {
        cli_common::print_stderr("error: {}\n", e.what());
        failed.push_back("the checkpoint (" + checkpoint + ")");
    }
    if (!failed.empty()) {
        sigint.keep();
        throw textcnn::IoError(fmt::format("interrupted, and {} could not be written (above){}", fmt::join(failed, " and "),
                                           failed.size() == 2 ? ": this run's training is lost"
                                           : failed.front().starts_with("the model")
                                               ? "; the checkpoint was written: continue with --resume " + checkpoint
                                               : "; the model was written, the run cannot be resumed"));
    }
    stop_after_checkpoint(checkpoint, sigint);
}

namespace {
// A checkpoint is a model file with the trainer's state; any other file (or none) is not.
bool holds_checkpoint(const std::string& path) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) return false;
    try {
        return textcnn::read_model_file(path).find("TRNR") != nullptr;
    } catch (const textcnn::Error&) {
        return false;
    }
}
// A copy of the checkpoint --resume reads is the same run at the same point: nothing is lost.
bool same_bytes(const std::string& a, const std::string& b) {
    std::error_code ea, eb;
    const auto size = std::filesystem::file_size(a, ea);
    if (ea || size != std::filesystem::file_size(b, eb) || eb) return false;
    std::ifstream fa(a, std::ios::binary), fb(b, std::ios::binary);
    return fa && fb && std::equal(std::istreambuf_iterator<char>(fa), {}, std::istreambuf_iterator<char>(fb), {});
}
}  // namespace

void check_no_waiting_checkpoint(const std::pair<std::string, std::string>& checkpoint, const std::string& resume) {
    const auto& [name, path] = checkpoint;
    if (!holds_checkpoint(path) || (!resume.empty() && (same_file(path, resume) || same_bytes(path, resume)))) return;
    throw UsageError(fmt::format(
        "{} holds the checkpoint of an interrupted run, which this run would overwrite on Ctrl-C and remove when it "
        "ends: continue that run with --resume {}, or remove the file (or choose another --model) to start a new one",
        name.starts_with("--") ? name + " " + path : path + " (this run's checkpoint file)", path));
}

void remove_finished_checkpoint(const std::string& checkpoint, bool quiet) {
    std::error_code ec;
    // Only a checkpoint (a model file with the trainer's state) is removed: --checkpoint may
    // name any file, and a finished run writes none there.
    // Through a symbolic link, the checkpoint it names is removed (the link stays, as writes
    // follow it).
    const std::string file = textcnn::output_target(checkpoint).path;
    if (holds_checkpoint(file) && std::filesystem::remove(file, ec) && !quiet)
        cli_common::print_stderr("removed the checkpoint {}: the run is complete\n", tsv_field(file));
}

std::string percent(double fraction) { return fmt::format("{:.2f}%", 100.0 * fraction); }

nlohmann::ordered_json outcome_json(const TrainingOutcome& o) {
    nlohmann::ordered_json j{{"model", o.model},         {"epochs_completed", o.epochs_completed},
                             {"best_epoch", o.best_epoch}, {"seconds", o.seconds},
                             {"stopped_early", o.stopped_early}};
    if (o.best_epoch) j["dev_accuracy"] = o.best_accuracy;
    return j;
}

std::string outcome_line(const TrainingOutcome& o) {
    std::string line = "saved " + tsv_field(o.model);  // a name, not control sequences, on the terminal
    if (o.best_epoch) line += fmt::format(" (best dev accuracy {} at epoch {})", percent(o.best_accuracy), o.best_epoch);
    return line + fmt::format(", {} epochs in {:.1f}s", o.epochs_completed, o.seconds);
}

void add_checkpoint_options(CLI::App& command, std::string& resume, std::string& checkpoint) {
    command.add_option("--resume", resume, "Continue from a checkpoint written on Ctrl-C (same data and settings)");
    command.add_option("--checkpoint", checkpoint, "Where Ctrl-C writes the checkpoint (default MODEL.ckpt)");
}

void add_threads_option(CLI::App& command, std::size_t& threads) {
    command
        .add_option("--threads", threads,
                    fmt::format("Threads for TBB and OpenBLAS (0 = every core; at most {})", max_threads))
        ->check(in_range<std::size_t>(0, max_threads))
        ->capture_default_str();
}

std::string now_utc() {
    const std::time_t t = std::time(nullptr);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
    return text;
}

void refuse_standard_output(const std::string& path, const std::string& option) {
    if (path.empty() || textcnn::output_target(path).descriptor != STDOUT_FILENO) return;
    throw UsageError(fmt::format("{} {}: standard output carries the run's result (the 'saved' line, --json): write "
                                 "this output to a file",
                                 option, path));
}

void check_writable(const std::string& path, const std::string& option) {
    // Where the write will go: a link's target (core/files.h); a descriptor is written into.
    const textcnn::OutputTarget output = textcnn::output_target(path);
    if (output.descriptor >= 0) {
        const int flags = ::fcntl(output.descriptor, F_GETFL);
        if (flags < 0 || (flags & O_ACCMODE) == O_RDONLY)
            throw textcnn::IoError(fmt::format("{} {}: descriptor {} is not open for writing", option, path,
                                               output.descriptor));
        return;
    }
    if (output.in_proc) return;
    const std::filesystem::path target(output.path);
    const std::filesystem::path dir = target.has_parent_path() ? target.parent_path() : std::filesystem::path(".");
    std::error_code ec;
    if (std::filesystem::is_directory(target, ec))
        throw textcnn::IoError(fmt::format("{} {}: is a directory; the file to write needs a name", option, path));
    // A device or FIFO is written into (core/files.h), not replaced: it needs no room beside it.
    if (const auto status = std::filesystem::status(target, ec);
        !ec && (std::filesystem::is_character_file(status) || std::filesystem::is_fifo(status)))
        return;
    if (!std::filesystem::is_directory(dir, ec))
        throw textcnn::IoError(fmt::format("{} {}: the directory {} does not exist", option, path, dir.string()));
    const std::filesystem::path probe = dir / fmt::format(".{}.write-check.{}", target.filename().string(), ::getpid());
    const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0)
        throw textcnn::IoError(fmt::format("{} {}: cannot write in {}: {}", option, path, dir.string(), std::strerror(errno)));
    ::close(fd);
    std::filesystem::remove(probe, ec);
}

}  // namespace cli_common
