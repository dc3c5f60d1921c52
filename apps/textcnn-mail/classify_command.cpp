// textcnn-mail classify: one message stdin -> stdout with X-Spam-Flag and X-Spam-Score added
// (exit 0 ham, 1 spam; a message that cannot be judged goes through with X-Spam-Flag: UNKNOWN,
// exit 3, or 2 for a usage error), or, with --maildir, one TSV line per message file.
#include "commands.h"
#include "message_io.h"
#include "threshold_cli.h"
#include "training_cli.h"

#include "textcnn/core/error.h"
#include "textcnn/core/runtime.h"
#include "textcnn/mail/mail_sources.h"
#include "textcnn/nn/model_file.h"

#include <fmt/format.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <optional>

#include <unistd.h>

namespace mail_cli {
namespace {

struct ClassifyOptions {
    std::string model_path;
    std::vector<std::string> maildirs;
    cli_common::ThresholdCliOptions threshold;
    std::size_t threads = 0;
    bool quiet = false;
};

// A loaded model and what judging with it needs.
struct Judge {
    textcnn::TextClassifier model;
    std::size_t spam_index;
    textcnn::LabelThresholds thresholds;
    textcnn::mail::MailTextOptions extraction;

    Judge(const ClassifyOptions& o, bool fold)
        : model(textcnn::TextClassifier::from_model_file(textcnn::read_model_file(o.model_path))),
          spam_index(spam_label_index(model, o.model_path)),
          thresholds(o.threshold.thresholds(model.labels())),
          extraction(mail_text_options_of(model)) {
        if (fold) model.fold_for_prediction();
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
    fmt::print(stderr, "textcnn-mail classify: {}the message passed through with X-Spam-Flag: UNKNOWN\n",
               reason.empty() ? "" : reason + "; ");
    write_with_fields(bytes, {{"X-Spam-Flag", "UNKNOWN"}, {"X-Spam-Score", "unknown"}});
}

void classify_one(const ClassifyOptions& o) {
    const MessageInput input = read_stdin();
    written = true;  // from here on the message goes out, judged or not
    std::string reason = input.error.empty() ? std::string() : "stdin: " + input.error;
    int failure_code = error_exit_code;
    std::optional<std::pair<bool, std::string>> verdict;  // spam, score
    if (reason.empty()) {
        try {
            const Judge judge(o, false);
            const textcnn::TextPrediction p = judge.model.predict(textcnn::mail::extract_mail_text(input.bytes, judge.extraction));
            verdict.emplace(judge.is_spam(p), judge.score(p));
        } catch (const cli_common::UsageError& e) {
            reason = e.what();
            failure_code = 2;
        } catch (const std::exception& e) {
            reason = e.what();
        }
    }
    if (!verdict) {
        write_unjudged(input.bytes, reason);
        throw cli_common::ExitStatus{failure_code};
    }
    write_with_fields(input.bytes, {{"X-Spam-Flag", verdict->first ? "YES" : "NO"}, {"X-Spam-Score", verdict->second}});
    if (verdict->first) throw cli_common::ExitStatus{1};
}

std::string tsv_safe(std::string s) {
    std::replace_if(s.begin(), s.end(), [](char c) { return c == '\t' || c == '\n' || c == '\r'; }, ' ');
    return s;
}

// Files are read and extracted in parallel a block at a time (bounded memory), then predicted
// (in parallel too) and printed in file order.
void classify_maildirs(const ClassifyOptions& o) {
    textcnn::ThreadLimit limit(o.threads);
    const Judge judge(o, true);
    std::vector<std::filesystem::path> files;
    for (const auto& dir : o.maildirs) {
        auto more = textcnn::mail::message_files(dir);
        files.insert(files.end(), more.begin(), more.end());
    }
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
        const std::vector<textcnn::TextPrediction> predictions = judge.model.predict(texts);
        for (std::size_t i = 0; i < n; ++i) {
            bytes += sizes[i];
            const std::string path = tsv_safe(files[first + i].string());
            if (!errors[i].empty()) {
                ++unknown;
                fmt::print("{}\tUNKNOWN\t\t{}\n", path, tsv_safe(errors[i]));
                continue;
            }
            const bool is_spam = judge.is_spam(predictions[i]);
            spam += is_spam;
            fmt::print("{}\t{}\t{}\t\n", path, is_spam ? "YES" : "NO", judge.score(predictions[i]));
        }
    }
    if (std::fflush(stdout) != 0) throw textcnn::IoError("stdout: write error");
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (!o.quiet)
        fmt::print(stderr, "classified {} messages ({} spam, {} unknown, {:.1f} MB) in {:.2f}s: {:.0f} messages/s, {:.2f} MB/s\n",
                   files.size(), spam, unknown, bytes / 1e6, seconds, files.size() / seconds, bytes / 1e6 / seconds);
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
    cmd->add_flag("--quiet", o->quiet, "No summary line on stderr (--maildir)");
    return {cmd, [o] {
                if (o->maildirs.empty()) classify_one(*o);
                else classify_maildirs(*o);
            }};
}

}  // namespace mail_cli
