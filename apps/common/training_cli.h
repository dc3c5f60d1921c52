// What textcnn train and imagecnn train share around a library training run: Ctrl-C handling,
// the checkpoint it writes and how the program then ends, and the options that go with them.
// One place, so both programs name checkpoints, handle SIGINT and exit (130) the same way.
#pragma once

#include <CLI/CLI.hpp>

#include <atomic>
#include <cstddef>
#include <string>

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

/// After a run stopped by Ctrl-C or SIGTERM wrote its checkpoint (with `sigint` alive all
/// along, so a second signal could not kill the write): tells the user on stderr how to go
/// on, keeps the handlers, and throws Interrupted (exit code 130 or 143, cli_main.h).
[[noreturn]] void stop_after_checkpoint(const std::string& checkpoint, SigintScope& sigint);

/// --resume FILE and --checkpoint FILE.
void add_checkpoint_options(CLI::App& command, std::string& resume, std::string& checkpoint);
/// --threads N (0 = every core).
void add_threads_option(CLI::App& command, std::size_t& threads);

/// Fails now, not after hours of training, when `path` cannot be written: IoError naming
/// `option` and the path when its directory does not exist or a file cannot be created in it
/// (a file is created beside it and removed, where the atomic write puts its temporary).
void check_writable(const std::string& path, const std::string& option);

/// The current time as "2026-11-30T14:05:00Z" (stored with trained models).
std::string now_utc();

}  // namespace cli_common
