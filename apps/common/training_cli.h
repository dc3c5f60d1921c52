// What textcnn train and imagecnn train share around a library training run: Ctrl-C handling,
// the checkpoint and model so far it writes and how the program then ends, the result it
// prints, and the options that go with them. One place, so both programs name checkpoints,
// handle SIGINT, exit (130) and word their results the same way.
#pragma once

#include "textcnn/core/runtime.h"
#include "textcnn/nn/training_settings.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>

namespace cli_common {

/// While a SigintScope lives, Ctrl-C (SIGINT) and SIGTERM set flag() instead of ending the
/// program: the trainer sees it after the current batch and stops, so the program can write a
/// checkpoint. SIGTERM is what a service manager, `kill` or a batch scheduler sends before
/// SIGKILL, so it gets the same orderly stop as Ctrl-C (exit code 143 instead of 130). The
/// previous handlers are restored when the scope ends. One scope at a time.
class SigintScope {
public:
    SigintScope();
    ~SigintScope();
    SigintScope(const SigintScope&) = delete;
    SigintScope& operator=(const SigintScope&) = delete;

    /// The flag the handler sets (for a training run's stop callback); false when a scope starts.
    static const std::atomic<bool>* flag();
    /// The first signal received while a scope lived (SIGINT or SIGTERM), 0 for none.
    static int received();
    /// Puts the previous handler back now (the destructor then does nothing).
    void restore();
    /// Leaves this handler installed for the rest of the process: the program is about to exit
    /// with 130 after its checkpoint, and a Ctrl-C now must not turn that into a signal death.
    void keep() { active_ = false; }

private:
    void (*previous_)(int);
    void (*previous_term_)(int);
    bool active_ = true;
};

/// The checkpoint file of a run: `given` (--checkpoint) or MODEL.ckpt.
std::string checkpoint_path(const std::string& model_path, const std::string& given);
/// The same as an output for the up-front checks: (its name in messages, its path):
/// ("--checkpoint", given) or ("the checkpoint (MODEL.ckpt)", MODEL.ckpt). UsageError when
/// --model names a descriptor (/dev/fd/3) and no --checkpoint is given: MODEL.ckpt is no file.
std::pair<std::string, std::string> checkpoint_output(const std::string& model_path, const std::string& given);

/// After a run stopped by Ctrl-C or SIGTERM wrote its checkpoint (with `sigint` alive all
/// along, so a second signal could not kill the write): tells the user on stderr how to go
/// on, keeps the handlers, and throws Interrupted (exit code 130 or 143, cli_main.h).
[[noreturn]] void stop_after_checkpoint(const std::string& checkpoint, SigintScope& sigint);

/// Whether an interrupted run has anything to show: an epoch completed or a validation made.
/// One that has not does not replace a file an earlier run left at --model.
inline bool trained_anything(const textcnn::TrainResult& result) {
    return result.epochs_completed > 0 || result.best_epoch > 0;
}

/// After a run stopped by Ctrl-C or SIGTERM (with `sigint` alive all along): writes, at `model`,
/// the best model so far (`save_best_model`, which returns the epoch of the parameters it
/// saved, 0 for the current ones), and the checkpoint (`write_checkpoint`), says on stderr where
/// each went, then as stop_after_checkpoint(). A run stopped before its first epoch ended and
/// before any validation (`result`) leaves a file already at `model` as it was. Each write is
/// tried whatever became of the other; a failure of either throws IoError (exit 1) saying what
/// was kept. Both programs end an interrupted run so.
[[noreturn]] void stop_with_checkpoint(const std::string& model, const std::string& checkpoint,
                                       const textcnn::TrainResult& result,
                                       const std::function<void(const std::string&)>& write_checkpoint,
                                       const std::function<std::uint64_t(const std::string&)>& save_best_model,
                                       SigintScope& sigint);

/// Refuses (UsageError) a new run where another run's checkpoint waits: `checkpoint` (option
/// name and path, as checkpoint_output gives them) is where this run writes on Ctrl-C and what
/// it removes when it finishes, so a checkpoint there from an interrupted run (a model file
/// with the trainer's state) would be lost. Fine when that is the file `resume` names, or a
/// byte-for-byte copy of it (this run continues it), or when no checkpoint is there.
void check_no_waiting_checkpoint(const std::pair<std::string, std::string>& checkpoint, const std::string& resume);

/// A finished run no longer needs its checkpoint: removes `checkpoint` (this run's own, where
/// Ctrl-C writes; also what --resume named when it is the same file) if it is a checkpoint,
/// named on stderr unless `quiet`. Any other file there (a model, data) stays, and so does a
/// checkpoint resumed from another path: the user's files.
void remove_finished_checkpoint(const std::string& checkpoint, bool quiet);

/// How a finished training run ended, as textcnn train and imagecnn train print it.
struct TrainingOutcome {
    std::string model;
    std::size_t epochs_completed = 0;
    std::size_t best_epoch = 0;  ///< 0: nothing was validated
    double best_accuracy = 0.0;  ///< a fraction; with best_epoch
    double seconds = 0.0;
    bool stopped_early = false;
};
/// An accuracy for people, as a percentage with 2 decimals: 0.875 -> "87.50%". JSON output
/// keeps the fraction as a number.
std::string percent(double fraction);
/// The --json result both programs start from: model, epochs_completed, best_epoch,
/// dev_accuracy (a fraction; only when a best epoch exists), seconds, stopped_early.
nlohmann::ordered_json outcome_json(const TrainingOutcome& outcome);
/// The line that ends a run on stdout: "saved M (best dev accuracy 87.50% at epoch 3), 5 epochs
/// in 1.2s".
std::string outcome_line(const TrainingOutcome& outcome);

/// --resume FILE and --checkpoint FILE.
void add_checkpoint_options(CLI::App& command, std::string& resume, std::string& checkpoint);
/// The most threads --threads takes: more is a typing error, not a machine (--threads
/// 4294967297 was taken, and 2^63 failed with "out of memory" from oneTBB).
inline constexpr std::size_t max_threads = textcnn::ThreadLimit::max_threads;
/// --threads N (0 = every core, at most max_threads; more is refused while parsing:
/// "--threads: 5000 is not between 0 and 1024").
void add_threads_option(CLI::App& command, std::size_t& threads);

/// Fails now, not after hours of training, when `path` cannot be written: IoError naming
/// `option` and the path when its directory does not exist or a file cannot be created in it
/// (a file is created beside it and removed, where the atomic write puts its temporary).
void check_writable(const std::string& path, const std::string& option);
/// UsageError when an output of a training run (`option` `path`) is standard output, which
/// carries the run's result line ("saved MODEL", --json): they were mixed (a model followed
/// by the line, a report after </html>), and a resumed run wrote the model to a terminal.
void refuse_standard_output(const std::string& path, const std::string& option);

/// The current time as "2026-11-30T14:05:00Z" (stored with trained models).
std::string now_utc();

}  // namespace cli_common
