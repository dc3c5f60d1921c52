// textcnn-mail classify: one message stdin -> stdout with X-Spam-Flag and X-Spam-Score added
// (exit 0 ham, 1 spam; a message that cannot be judged goes through with X-Spam-Flag: UNKNOWN,
// exit 3, or 2 for a usage error), or, with --maildir, one TSV line per message file.
#include "commands.h"
#include "text_training_cli.h"
#include "message_io.h"
#include "output_fields.h"
#include "refused_texts.h"
#include "shared_options.h"
#include "threshold_cli.h"
#include "training_cli.h"

#include "textcnn/core/error.h"
#include "textcnn/core/number_text.h"
#include "textcnn/core/runtime.h"
#include "textcnn/mail/mail_sources.h"
#include "textcnn/nn/model_file.h"
#include "textcnn/text/data_checks.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <optional>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>

#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

namespace mail_cli {
namespace {

struct ClassifyOptions {
    std::string model_path;
    std::vector<std::string> maildirs;
    cli_common::ThresholdCliOptions threshold;
    std::size_t threads = 0;
    double time_limit = 60.0;  // seconds for one message's verdict; 0: none
    bool quiet = false;
};

// A loaded model and what judging with it needs.
struct Judge {
    textcnn::TextClassifier model;
    std::size_t spam_index;
    textcnn::LabelThresholds thresholds;
    textcnn::mail::MailTextOptions extraction;

    Judge(const ClassifyOptions& o, bool fold)
        : model(fold ? textcnn::TextClassifier::load(o.model_path)  // folded; quantized tables on huge pages
                     : textcnn::TextClassifier::from_model_file(textcnn::read_model_file(o.model_path))),
          spam_index(spam_label_index(model, o.model_path)),
          thresholds(o.threshold.thresholds(model.labels())),
          extraction(mail_text_options_of(model, o.model_path)) {
        // With a threshold on every label, a message that reaches none got NO, unsaid: as in
        // textcnn eval, one label must be left to fall back on.
        if (!thresholds.always_decides()) {
            std::vector<std::string> others;  // the model's labels but spam: ham, for a model of textcnn-mail train
            for (std::size_t i = 0; i < model.labels().size(); ++i)
                if (i != spam_index) others.push_back(textcnn::shown_label(model.labels()[i]));
            throw cli_common::UsageError(fmt::format("--threshold on every label: a message that reaches none would "
                                                     "get no verdict; leave a label other than spam without a "
                                                     "threshold ({})",
                                                     fmt::join(others, ", ")));
        }
        model.set_decision_thresholds(thresholds);  // a refined model settles the verdict, not only the arg-max
        cli_common::warn_if_checkpoint(model, o.model_path);
        // A model of `textcnn train` read other texts than the one textcnn-mail makes of a message.
        if (!model.metadata.count(max_body_bytes_key))
            cli_common::print_stderr("warning: {} was not trained by textcnn-mail train (it lacks the settings that command "
                               "stores): it learnt from other texts than the one textcnn-mail extract makes of a "
                               "message, and its verdicts may mean little\n",
                       cli_common::tsv_field(o.model_path));
    }
    bool is_spam(const textcnn::TextPrediction& p) const {
        const auto decision = thresholds.decide(p.probabilities);
        return decision && *decision == spam_index;
    }
    std::string score(const textcnn::TextPrediction& p) const { return fmt::format("{:.4f}", p.probabilities[spam_index]); }
};

bool written = false;  // message_written()

// The message goes through unjudged; `reason` on stderr.
void write_unjudged(const std::string& bytes, const std::string& reason) {
    cli_common::print_stderr("textcnn-mail classify: {}the message passed through with X-Spam-Flag: UNKNOWN\n",
               reason.empty() ? "" : reason + "; ");
    write_with_fields(bytes, {{"X-Spam-Flag", "UNKNOWN"}, {"X-Spam-Score", "unknown"}});
}

// What judging one message gave: a verdict (spam, score), or the reason there is none and the
// exit code that goes with it.
struct Outcome {
    std::optional<std::pair<bool, std::string>> verdict;
    std::string reason;
    int failure_code = error_exit_code;
};

Outcome judge_message(const ClassifyOptions& o, const std::string& bytes) {
    Outcome out;
    try {
        const Judge judge(o, false);
        const textcnn::TextPrediction p = judge.model.predict(textcnn::mail::extract_mail_text(bytes, judge.extraction));
        out.verdict.emplace(judge.is_spam(p), judge.score(p));
    } catch (const cli_common::UsageError& e) {
        out.reason = e.what();
        out.failure_code = 2;
    } catch (const std::bad_alloc&) {
        out.reason = "out of memory while judging the message";
    } catch (const std::exception& e) {
        out.reason = e.what();
    }
    return out;
}

// The message is judged in a child process, and this one keeps it: whatever the judging does
// (a crash in a parser, memory running out, an allocation that never returns, a loop), the
// parent still writes the message out, with UNKNOWN and a reason (a hostile message once made
// the process abort and the mail was lost). The child sends "J<0|1>\t<score>" or
// "E<code>\t<reason>" through a pipe; no thread runs yet when it is forked (OpenBLAS stops its
// own before a fork).
Outcome judge_in_child(const ClassifyOptions& o, const std::string& bytes) {
    int fds[2];
    if (::pipe(fds) != 0) return judge_message(o, bytes);  // no pipe: judged here, unprotected
    std::fflush(nullptr);
    const pid_t child = ::fork();
    if (child < 0) {
        ::close(fds[0]);
        ::close(fds[1]);
        return judge_message(o, bytes);
    }
    if (child == 0) {
        ::close(fds[0]);
        const Outcome out = judge_message(o, bytes);
        const std::string report = out.verdict ? fmt::format("J{}\t{}", out.verdict->first ? 1 : 0, out.verdict->second)
                                               : fmt::format("E{}\t{}", out.failure_code, out.reason);
        for (std::size_t done = 0; done < report.size();) {
            const ssize_t n = ::write(fds[1], report.data() + done, report.size() - done);
            if (n <= 0) break;
            done += static_cast<std::size_t>(n);
        }
        ::_exit(0);
    }
    ::close(fds[1]);
    std::string report;
    bool timed_out = false;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(o.time_limit);
    for (char buffer[4096];;) {
        if (o.time_limit > 0) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            pollfd p{fds[0], POLLIN, 0};
            const int ready = left.count() > 0 ? ::poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 1 << 30))) : 0;
            if (ready == 0) {
                timed_out = true;
                ::kill(child, SIGKILL);
                break;
            }
            if (ready < 0 && errno != EINTR) break;
            if (ready < 0) continue;
        }
        const ssize_t n = ::read(fds[0], buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        report.append(buffer, static_cast<std::size_t>(n));
    }
    ::close(fds[0]);
    int status = 0;
    while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    Outcome out;
    if (timed_out) {
        out.reason = fmt::format("no verdict within --time-limit {} s (the judging was stopped)", o.time_limit);
    } else if (WIFSIGNALED(status)) {
        out.reason = fmt::format("the judging died of signal {} ({})", WTERMSIG(status), ::strsignal(WTERMSIG(status)));
    } else if (report.size() >= 2 && report[0] == 'J' && report.find('\t') == 2) {
        out.verdict.emplace(report[1] == '1', report.substr(3));
    } else if (const auto tab = report.find('\t'); report.size() >= 2 && report[0] == 'E' && tab != std::string::npos) {
        out.failure_code = std::atoi(report.substr(1, tab - 1).c_str());
        out.reason = report.substr(tab + 1);
    } else {
        out.reason = "the judging ended without a verdict";
    }
    return out;
}

void classify_one(const ClassifyOptions& o) {
    const MessageInput input = read_stdin();
    written = true;  // from here on the message goes out, judged or not
    const Outcome out = input.error.empty() ? judge_in_child(o, input.bytes) : Outcome{{}, "stdin: " + input.error};
    if (!out.verdict) {
        write_unjudged(input.bytes, out.reason);
        throw cli_common::ExitStatus{out.failure_code};
    }
    const auto& [spam, score] = *out.verdict;
    write_with_fields(input.bytes, {{"X-Spam-Flag", spam ? "YES" : "NO"}, {"X-Spam-Score", score}});
    if (spam) throw cli_common::ExitStatus{1};
}

// Files are read and extracted in parallel a block at a time (bounded memory), then predicted
// (in parallel too) and printed in file order. Paths and reasons are escaped as predict's tsv
// (\t, \n, \r, \\): a file name with a tab or a line end stays that file's name.
void classify_maildirs(const ClassifyOptions& o) {
    textcnn::ThreadLimit limit(o.threads);
    textcnn::end_blas_workers();  // as predict: they would spin beside the load's threads, and scoring makes no threaded BLAS call
    const Judge judge(o, true);
    std::vector<std::filesystem::path> files;
    for (const auto& dir : o.maildirs) {
        std::vector<std::filesystem::path> hidden;
        auto more = textcnn::mail::message_files(dir, &hidden);
        files.insert(files.end(), more.begin(), more.end());
        if (!hidden.empty()) warn_hidden(dir, hidden);
    }
    // Overlapping folders (DIR twice, DIR and DIR/new) would give a message two lines.
    if (const std::size_t repeated = textcnn::mail::drop_repeated_files(files))
        cli_common::print_stderr("warning: {} message files were found twice (overlapping --maildir folders) and are "
                           "classified once\n", repeated);
    const auto started = std::chrono::steady_clock::now();
    constexpr std::size_t block = 1024;
    std::size_t bytes = 0, spam = 0, unknown = 0;
    for (std::size_t first = 0; first < files.size(); first += block) {
        const std::size_t n = std::min(block, files.size() - first);
        std::vector<std::string> texts(n), errors(n);
        std::vector<std::size_t> sizes(n);
        tbb::parallel_for(std::size_t{0}, n, [&](std::size_t i) {
            try {
                const std::string raw = textcnn::mail::read_bytes(files[first + i]);
                sizes[i] = raw.size();
                texts[i] = textcnn::mail::extract_mail_text(raw, judge.extraction);
            } catch (const std::exception& e) {
                errors[i] = e.what();
            }
        });
        // A text the model refuses (a model that cannot be folded: one text past the network's
        // bound): that message UNKNOWN, the others judged.
        std::vector<std::string> refused;
        const std::vector<textcnn::TextPrediction> predictions =
            cli_common::predict_noting_refusals(judge.model, texts, refused);
        for (std::size_t i = 0; i < refused.size(); ++i)
            if (errors[i].empty() && !refused[i].empty()) errors[i] = refused[i];
        for (std::size_t i = 0; i < n; ++i) {
            bytes += sizes[i];
            const std::string path = cli_common::tsv_field(files[first + i].string());
            if (!errors[i].empty()) {
                ++unknown;
                fmt::print("{}\tUNKNOWN\t\t{}\n", path, cli_common::tsv_field(errors[i]));
                continue;
            }
            const bool is_spam = judge.is_spam(predictions[i]);
            spam += is_spam;
            fmt::print("{}\t{}\t{}\t\n", path, is_spam ? "YES" : "NO", judge.score(predictions[i]));
        }
    }
    if (std::fflush(stdout) != 0) throw textcnn::IoError(std::string("stdout: write error: ") + std::strerror(errno));
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (!o.quiet)
        cli_common::print_stderr("classified {} message{} ({} spam, {} unknown, {}) in {:.2f}s: {:.0f} messages/s, {:.2f} "
                   "MB/s\n", files.size(), files.size() == 1 ? "" : "s", spam, unknown, textcnn::byte_size_text(bytes),
                   seconds, files.size() / std::max(seconds, 1e-9), bytes / 1e6 / std::max(seconds, 1e-9));
}

}  // namespace

bool message_written() { return written; }

void pass_through_unjudged() {
    if (written || ::isatty(STDIN_FILENO)) return;
    written = true;
    const MessageInput input = read_stdin();
    write_unjudged(input.bytes, input.error.empty() ? std::string() : "stdin: " + input.error);
}

Command add_classify_command(CLI::App& app) {
    auto o = std::make_shared<ClassifyOptions>();
    CLI::App* cmd = app.add_subcommand(
        "classify",
        "Judge the message on stdin: write it to stdout with X-Spam-Flag: YES|NO and X-Spam-Score: P(spam) added, exit 0 "
        "for ham, 1 for spam; a message that cannot be judged goes through with X-Spam-Flag: UNKNOWN (exit 3). With "
        "--maildir: one line per message file, path<TAB>YES|NO|UNKNOWN<TAB>P(spam)<TAB>reason");
    cmd->add_option("--model", o->model_path, "Model trained by textcnn-mail train (labels include 'spam')")->required();
    cmd->add_option("--maildir", o->maildirs, "Classify every message file below this folder instead of stdin (repeatable)");
    o->threshold.add_to(*cmd);
    cli_common::add_threads_option(*cmd, o->threads);
    cmd->add_option("--time-limit", o->time_limit,
                    "Seconds one message may take to judge (stdin; the judging runs in a child process, and the message "
                    "goes through with UNKNOWN past them or when the judging fails in any way); 0 = no limit")
        ->check(cli_common::in_range<double>(0.0, 86400.0))
        ->capture_default_str();
    cmd->add_flag("--quiet", o->quiet, "No summary line on stderr (--maildir)");
    return {cmd, [o] {
                if (o->maildirs.empty()) classify_one(*o);
                else classify_maildirs(*o);
            }};
}

}  // namespace mail_cli
