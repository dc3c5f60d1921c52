// textcnn-mail train: messages from maildirs (label = the folder below DIR: DIR/spam/...,
// DIR/ham/...), mbox files (label = the file name without extension: spam.mbox) or a CSV with
// label and text columns (text = the raw message), each reduced to the text of mail_text.h,
// then the same training run as textcnn train (apps/common/text_training_cli.h).
#include "commands.h"
#include "message_io.h"
#include "output_fields.h"
#include "run_log.h"
#include "shared_options.h"
#include "text_training_cli.h"

#include "textcnn/core/error.h"
#include "textcnn/mail/mail_sources.h"
#include "textcnn/text/data_checks.h"
#include "textcnn/text/document_reader.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <memory>
#include <optional>
#include <set>

namespace mail_cli {
namespace {

namespace fs = std::filesystem;

struct TrainOptions {
    std::vector<std::string> maildirs, mboxes, csvs;
    std::size_t max_body_bytes = textcnn::mail::MailTextOptions{}.max_body_bytes;
    cli_common::TextTrainCliOptions training;
};

// A message waiting for extraction: where it came from (for messages), its label and bytes.
struct RawMessage {
    std::string source;
    std::string label;
    std::string bytes;
};

// Entries of a maildir that are not readable message files (a dangling or looping link, a
// FIFO) are left out with one warning, as unparseable messages are. A file already read
// (`seen`: DIR given twice, DIR/../DIR) is counted in `repeated` and read once.
void add_maildir(const std::string& dir, std::vector<RawMessage>& out, std::set<fs::path>& seen,
                 std::size_t& repeated) {
    std::size_t unreadable = 0;
    std::string first;
    std::vector<fs::path> hidden;
    for (const fs::path& file : textcnn::mail::message_files(dir, &hidden)) {
        const fs::path relative = file.lexically_relative(dir);
        if (std::distance(relative.begin(), relative.end()) < 2)
            throw textcnn::InputError(fmt::format("{}: a message directly in {} has no label: put messages in "
                                                  "{}/LABEL/ folders (spam/, ham/)",
                                                  file.string(), dir, dir));
        const std::string label = relative.begin()->string();
        // DIR a maildir itself (~/Maildir/.Junk): its messages would be labelled 'cur' and 'new'.
        if (label == "cur" || label == "new")
            throw textcnn::InputError(fmt::format("{}: a maildir itself (its messages would be labelled '{}'): "
                                                  "--maildir takes the folder that holds one maildir per label "
                                                  "(DIR/spam/cur/, DIR/ham/cur/)",
                                                  dir, label));
        if (!seen.insert(textcnn::mail::same_file_key(file)).second) {
            ++repeated;
            continue;
        }
        try {
            out.push_back({file.string(), label, textcnn::mail::read_bytes(file)});
        } catch (const textcnn::IoError& e) {
            if (unreadable++ == 0) first = e.what();
        }
    }
    if (unreadable)
        cli_common::print_stderr("warning: {}: left out {} entries that are not readable message files (first: {})\n",
                   cli_common::tsv_field(dir), unreadable, cli_common::tsv_field(first));
    if (!hidden.empty()) warn_hidden(dir, hidden);
}

// classify judges by the label "spam" (ASCII case ignored): a model without it is useless
// there, so it is refused before training, not after.
void check_spam_label(const std::vector<RawMessage>& messages) {
    std::set<std::string> labels;  // as training will see them: trimmed
    for (const RawMessage& m : messages) labels.insert(textcnn::trimmed_label(m.label));
    std::vector<std::string> shown;  // what does not show spelled out: 'sp<U+200B>am'
    for (const std::string& label : labels) shown.push_back(textcnn::shown_label(label));
    const auto is = [](const char* name) {
        return [name](const std::string& label) { return cli_common::equal_ignoring_case(label, name); };
    };
    if (std::any_of(labels.begin(), labels.end(), is("spam"))) {
        // A third label splits the probability: a message judged 'phish' got X-Spam-Flag: NO.
        std::vector<std::string> others;
        for (const std::string& label : labels)
            if (!is("spam")(label) && !is("ham")(label))
                others.push_back("'" + textcnn::shown_label(label) + "'");
        if (!others.empty())
            cli_common::print_stderr(
                       "warning: the messages' labels ({}) are more than spam and ham: {} {} trained as a class of its "
                       "own, and classify flags a message as spam only when 'spam' is its label, so a message judged {} "
                       "gets X-Spam-Flag: NO (name such folders spam/ or ham/ to judge them so)\n",
                       fmt::join(shown, ", "), fmt::join(others, ", "), others.size() == 1 ? "is" : "are each",
                       others.front());
        return;
    }
    throw textcnn::InputError(fmt::format("the messages' labels ({}) do not include 'spam', which classify judges by: "
                                          "name the folder DIR/spam/, the mbox spam.mbox or the CSV label spam",
                                          fmt::join(shown, ", ")));
}

void add_mbox(const std::string& path, std::vector<RawMessage>& out) {
    const std::string bytes = textcnn::mail::read_bytes(path);
    const std::string label = fs::path(path).stem().string();
    std::size_t n = 0;
    for (std::string_view message : textcnn::mail::split_mbox(bytes))
        out.push_back({fmt::format("{} (message {})", path, ++n), label, std::string(message)});
    if (n == 0) throw textcnn::InputError(path + ": no message (an mbox message starts with a \"From \" line)");
}

void add_csv(const std::string& path, std::vector<RawMessage>& out) {
    textcnn::DocumentReaderOptions reader;
    reader.format = textcnn::InputFormat::csv;
    reader.require_label = true;
    reader.invalid_utf8 = textcnn::InvalidUtf8::replace;
    for (auto& d : textcnn::read_all(path, reader).documents)
        out.push_back({fmt::format("{}:{}", path, d.line), *d.label, std::move(d.text)});
}

// Extracts every message (in parallel); unparseable ones are left out with one warning.
std::vector<textcnn::Document> extract_all(std::vector<RawMessage> messages, const textcnn::mail::MailTextOptions& options) {
    std::vector<std::optional<textcnn::Document>> documents(messages.size());
    std::vector<std::string> errors(messages.size());
    tbb::parallel_for(std::size_t{0}, messages.size(), [&](std::size_t i) {
        try {
            documents[i] = textcnn::Document{messages[i].label, textcnn::mail::extract_mail_text(messages[i].bytes, options), i + 1};
        } catch (const textcnn::InputError& e) {
            errors[i] = e.what();
        }
        std::string().swap(messages[i].bytes);
    });
    std::vector<textcnn::Document> out;
    std::size_t skipped = 0;
    std::string first;
    for (std::size_t i = 0; i < documents.size(); ++i) {
        if (documents[i]) out.push_back(std::move(*documents[i]));
        else if (skipped++ == 0) first = messages[i].source + ": " + errors[i];
    }
    if (skipped)
        cli_common::print_stderr("warning: left out {} messages that could not be parsed (first: {})\n", skipped,
                   cli_common::tsv_field(first));
    return out;
}

void run_train(const TrainOptions& o, std::vector<textcnn::ReportField> settings) {
    if (o.maildirs.empty() && o.mboxes.empty() && o.csvs.empty())
        throw cli_common::UsageError("give the messages: --maildir DIR, --mbox FILE or --csv FILE");
    std::vector<std::pair<std::string, std::string>> inputs;
    for (const auto& f : o.mboxes) inputs.emplace_back("--mbox", f);
    for (const auto& f : o.csvs) inputs.emplace_back("--csv", f);
    std::vector<std::pair<std::string, std::string>> directories;
    for (const auto& d : o.maildirs) directories.emplace_back("--maildir", d);
    o.training.check_outputs(inputs, directories);
    std::vector<RawMessage> messages;
    std::set<fs::path> seen;
    std::size_t repeated = 0;
    for (const auto& d : o.maildirs) add_maildir(d, messages, seen, repeated);
    if (repeated)
        cli_common::print_stderr("warning: {} message files were found twice (overlapping --maildir folders) and are read "
                           "once\n", repeated);
    // An mbox or CSV given twice (or under two names) is read once: it doubled its labels'
    // share, unsaid.
    const auto first_time = [&](const char* option, const std::string& file) {
        if (seen.insert(textcnn::mail::same_file_key(file)).second) return true;
        cli_common::print_stderr("warning: {} {}: a file given before, read once\n", option, cli_common::tsv_field(file));
        return false;
    };
    for (const auto& f : o.mboxes)
        if (first_time("--mbox", f)) add_mbox(f, messages);
    for (const auto& f : o.csvs)
        if (first_time("--csv", f)) add_csv(f, messages);
    check_spam_label(messages);
    textcnn::mail::MailTextOptions extraction;
    extraction.max_body_bytes = o.max_body_bytes;
    // The data checks' warnings name a message by its file (or mbox message, or CSV line): a
    // document's line is its message's number here, which named nothing the user could find.
    auto names = std::make_shared<std::vector<std::string>>();
    for (const RawMessage& m : messages) names->push_back(m.source);
    std::vector<textcnn::Document> documents = extract_all(std::move(messages), extraction);

    std::vector<std::string> sources = o.maildirs;
    sources.insert(sources.end(), o.mboxes.begin(), o.mboxes.end());
    sources.insert(sources.end(), o.csvs.begin(), o.csvs.end());
    textcnn::TextTrainingOptions options = o.training.library_options();
    options.train_source = fmt::format("{}", fmt::join(sources, " "));
    options.train_document_name = [names](std::size_t line) {
        return line >= 1 && line <= names->size() ? (*names)[line - 1] : fmt::format("message {}", line);
    };
    const std::string train_source = options.train_source;
    cli_common::run_text_training(o.training, std::move(options), std::move(documents), std::nullopt,
                                  {train_source, "", command_line(), {{max_body_bytes_key, std::to_string(o.max_body_bytes)}},
                                   "textcnn-mail train", std::move(settings)});
}

}  // namespace

Command add_train_command(CLI::App& app) {
    auto o = std::make_shared<TrainOptions>();
    CLI::App* cmd = app.add_subcommand("train", "Train a spam model on raw e-mail (labels from folders or file names)");
    cmd->add_option("--maildir", o->maildirs,
                    "Folder with one sub-folder per label (DIR/spam/, DIR/ham/), each a maildir or a folder of "
                    "one-message files (repeatable)");
    cmd->add_option("--mbox", o->mboxes, "mbox file whose name is the label of its messages: spam.mbox (repeatable)");
    cmd->add_option("--csv", o->csvs, "CSV with header and columns label, text (the raw message) (repeatable)");
    add_max_body_bytes_option(*cmd, o->max_body_bytes);
    o->training.add_to(*cmd, nullptr);
    return {cmd, [o, cmd] { run_train(*o, cli_common::option_settings(*cmd)); }};
}

}  // namespace mail_cli
