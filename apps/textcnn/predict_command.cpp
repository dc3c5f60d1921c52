// textcnn predict: scores text files with a saved model, streaming (a pipe line by line, each answer
// flushed as soon as its line is complete; see is_stream). Exactly one output line
// per input document, in input order, empty lines included (USERS.md themes 2, 7, 15).
#include "commands.h"
#include "output_fields.h"
#include "refused_texts.h"
#include "shared_options.h"

#include "textcnn/core/number_text.h"
#include "textcnn/core/runtime.h"
#include "textcnn/text/text_classifier.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <oneapi/tbb/parallel_pipeline.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <exception>
#include <memory>
#include <numeric>
#include <optional>

#include <sys/stat.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <unistd.h>

namespace textcnn_cli {
namespace {

struct PredictOptions {
    bool no_fold = false;
    std::string model_path;
    std::vector<std::string> files;
    bool prob = false, quiet = false;
    std::size_t top = 0, threads = 0, chunk = 4096;
    ThresholdCliOptions threshold;
    std::string no_known_token = "empty";
    std::string format = "tsv";
    std::string id_column;
    ReaderCliOptions reader;
};

// One output line per document. The label field holds the decision (LabelThresholds: arg-max
// without --threshold), or nothing when there is none: every label has a threshold and none
// is reached, or (--no-known-token empty) the text has no token the model knows.
class OutputWriter {
public:
    OutputWriter(const PredictOptions& o, const std::vector<std::string>& labels) : o_(o), labels_(labels) {
        delimiter_ = cli_common::output_delimiter(o.format);
    }

    /// The header line of --prob (tsv, csv): "label" and then every label's name, in the
    /// order of the probabilities.
    void write_header() {
        if (!o_.prob || o_.top || o_.format == "jsonl") return;
        line_ = o_.id_column.empty() ? "label" : std::string("id") + delimiter_ + "label";
        for (const auto& l : labels_) line_ += delimiter_ + field(l);
        line_ += '\n';
        std::fwrite(line_.data(), 1, line_.size(), stdout);
    }

    void write(const textcnn::TextPrediction& p, std::optional<std::uint32_t> decision, const std::string& id) {
        line_.clear();
        if (o_.format == "jsonl") {
            // Keys in insertion order: with --top, the probabilities best first, as in tsv (a
            // plain json object sorted them by label).
            nlohmann::ordered_json j = nlohmann::ordered_json::object();
            if (!o_.id_column.empty()) j["id"] = id;
            j["label"] = decision ? nlohmann::ordered_json(labels_[*decision]) : nlohmann::ordered_json();
            if (o_.prob || o_.top) {
                nlohmann::ordered_json probs = nlohmann::ordered_json::object();
                for (std::size_t k : ranked(p, decision)) probs[labels_[k]] = p.probabilities[k];
                j["probabilities"] = probs;
            }
            if (p.no_known_token()) j["no_known_token"] = true;
            line_ = cli_common::json_text(j);
        } else {
            if (!o_.id_column.empty()) line_ = field(id) + delimiter_;
            line_ += decision ? field(labels_[*decision]) : std::string();
            if (o_.top) {
                for (std::size_t k : ranked(p, decision))
                    line_ += delimiter_ + field(labels_[k]) + delimiter_ + cli_common::probability_text(p.probabilities[k]);
            } else if (o_.prob) {
                for (float v : p.probabilities) line_ += delimiter_ + cli_common::probability_text(v);
            }
        }
        line_ += '\n';
        std::fwrite(line_.data(), 1, line_.size(), stdout);
    }

    /// The line of a document the model could not score: no label and no probabilities (their
    /// fields empty, so that the columns stay in place; jsonl: "label": null, "not_scored": true).
    void write_unscored(const std::string& id) {
        line_.clear();
        if (o_.format == "jsonl") {
            nlohmann::ordered_json j = nlohmann::ordered_json::object();
            if (!o_.id_column.empty()) j["id"] = id;
            j["label"] = nullptr;
            j["not_scored"] = true;
            line_ = cli_common::json_text(j);
        } else {
            if (!o_.id_column.empty()) line_ = field(id) + delimiter_;
            const std::size_t fields = o_.top ? 2 * std::min(o_.top, labels_.size()) : o_.prob ? labels_.size() : 0;
            line_.append(fields, delimiter_);
        }
        line_ += '\n';
        std::fwrite(line_.data(), 1, line_.size(), stdout);
    }

private:
    std::vector<std::size_t> ranked(const textcnn::TextPrediction& p, std::optional<std::uint32_t> decision) const {
        return cli_common::ranked_labels(p.probabilities, decision, o_.top);
    }
    std::string field(const std::string& s) const { return cli_common::output_field(o_.format, s); }
    const PredictOptions& o_;
    const std::vector<std::string>& labels_;
    char delimiter_;
    std::string line_;
};

// A pipe, a terminal or a socket: its documents are answered as they arrive, not once the
// input ends or a chunk fills.
bool is_stream(const std::string& path) {
    struct stat st {};
    const int result = path == "-" ? ::fstat(STDIN_FILENO, &st) : ::stat(path.c_str(), &st);
    return result == 0 && !S_ISREG(st.st_mode);
}

// Documents read together, their ids (--id-column), where each was read (the index of its file
// in PredictOptions::files, its line) and, once scored, their predictions; `refused` holds, by
// document, the model's reason for a document it could not score (empty for the others, or for
// all when none was refused).
struct Batch {
    std::vector<std::string> texts, ids;
    std::vector<std::pair<std::size_t, std::size_t>> places;
    std::vector<textcnn::TextPrediction> predictions;
    std::vector<std::string> refused;

    void clear() {
        texts.clear();
        ids.clear();
        places.clear();
    }
    void add(textcnn::Document& doc, std::size_t file, bool with_id) {
        places.emplace_back(file, doc.line);
        texts.push_back(std::move(doc.text));
        if (with_id) ids.push_back(std::move(doc.id));
    }
};

// Scores a batch. A document the model refuses does not stop the run: it gets an empty line
// and its reason (written out by BatchWriter).
// The texts are freed once scored (the writer reads none of them), so that of the three
// batches in the pipeline only two hold text.
void score(const textcnn::TextClassifier& model, Batch& b) {
    b.predictions = cli_common::predict_noting_refusals(model, b.texts, b.refused);
    std::vector<std::string>().swap(b.texts);
}

// Writes the scored batches' lines in input order and counts what the end-of-run summary says.
class BatchWriter {
public:
    BatchWriter(const PredictOptions& o, const std::vector<std::string>& labels, textcnn::LabelThresholds thresholds)
        : o_(o), thresholds_(std::move(thresholds)), writer_(o, labels) {
        writer_.write_header();
    }

    void write(const Batch& b) {
        for (std::size_t i = 0; i < b.predictions.size(); ++i) {
            const auto& p = b.predictions[i];
            if (!b.refused.empty() && !b.refused[i].empty()) {
                const auto [file, line] = b.places[i];
                const std::string place = fmt::format("{}:{}", o_.files[file] == "-" ? "<stdin>" : o_.files[file], line);
                if (refused++ == 0) first_refused = place;
                if (refused <= max_refusals_named) cli_common::print_stderr("error: {}: not scored: {}\n", place, b.refused[i]);
                writer_.write_unscored(o_.id_column.empty() ? std::string() : b.ids[i]);
                continue;
            }
            std::optional<std::uint32_t> decision = thresholds_.decide(p.probabilities);
            tokens += p.tokens;
            unknown_tokens += p.unknown_tokens;
            cut += p.truncated;
            if (p.no_known_token()) {
                ++no_known;
                if (o_.no_known_token == "empty") decision.reset();
            } else if (!decision) {
                ++undecided;
            }
            writer_.write(p, decision, o_.id_column.empty() ? std::string() : b.ids[i]);
        }
        documents += b.predictions.size();
    }

    std::size_t documents = 0, no_known = 0, undecided = 0, tokens = 0, unknown_tokens = 0, cut = 0, refused = 0;
    std::string first_refused;  ///< "FILE:LINE" of the first refused document
    static constexpr std::size_t max_refusals_named = 20;  ///< on stderr, one line each

private:
    const PredictOptions& o_;
    const textcnn::LabelThresholds thresholds_;
    OutputWriter writer_;
};

// The input files one after another as batches of up to --chunk documents (a batch may span
// two files); each file's reader warnings printed when it ends. The run's first batches are
// smaller (first_batch documents, then twice as many each time up to --chunk): scoring waits
// for the first batch alone, on every thread, and reading each next one then takes no longer
// than scoring the one before (a 2-thread run spent ~10 ms of its ~300 reading 8,192 lines
// first). A read error leaves in `b` the documents read before it (next() throws).
class BatchReader {
public:
    explicit BatchReader(const PredictOptions& o) : o_(o), size_(std::min(o.chunk, first_batch)) {}

    /// Fills `b` (cleared first); false when no document is left.
    bool next(Batch& b) {
        b.clear();
        const std::size_t size = size_;
        size_ = size_ > o_.chunk / 2 ? o_.chunk : 2 * size_;
        while (b.texts.size() < size && (reader_ || open_next())) {
            if (!reader_->next(doc_)) {
                print_reader_warnings(reader_->report());
                reader_.reset();
                continue;
            }
            bytes += doc_.text.size() + 1;
            b.add(doc_, file_ - 1, !o_.id_column.empty());
        }
        return !b.texts.empty();
    }

    std::size_t bytes = 0;

private:
    bool open_next() {
        if (file_ == o_.files.size()) return false;
        textcnn::DocumentReaderOptions options = o_.reader.options(false, o_.files[file_]);
        options.id_column = o_.id_column;
        reader_.emplace(o_.files[file_++], options);
        return true;
    }

    static constexpr std::size_t first_batch = 256;
    const PredictOptions& o_;
    std::size_t size_;  ///< documents of the next batch
    std::size_t file_ = 0;
    std::optional<textcnn::DocumentReader> reader_;
    textcnn::Document doc_;
};

// Files: reading the next batch, scoring this one (on every thread) and writing the one before
// overlap (a oneTBB pipeline of at most three batches), so that the serial reading and writing
// do not leave the other threads idle. Output in input order. A read error stops the reading;
// every document read before it (the batch it cut short too) is scored and written, then the
// error propagates.
std::size_t score_files(const PredictOptions& o, const textcnn::TextClassifier& model, BatchWriter& out) {
    BatchReader in(o);
    std::exception_ptr read_error;
    tbb::parallel_pipeline(
        3,
        tbb::make_filter<void, std::shared_ptr<Batch>>(tbb::filter_mode::serial_in_order,
                                                       [&](tbb::flow_control& control) {
                                                           auto b = std::make_shared<Batch>();
                                                           if (!read_error) {
                                                               try {
                                                                   if (in.next(*b)) return b;
                                                               } catch (...) {
                                                                   read_error = std::current_exception();
                                                                   if (!b->texts.empty()) return b;  // read before the error
                                                               }
                                                           }
                                                           control.stop();
                                                           return std::shared_ptr<Batch>();
                                                       }) &
            tbb::make_filter<std::shared_ptr<Batch>, std::shared_ptr<Batch>>(
                tbb::filter_mode::parallel,
                [&](std::shared_ptr<Batch> b) {
                    score(model, *b);
                    return b;
                }) &
            tbb::make_filter<std::shared_ptr<Batch>, void>(tbb::filter_mode::serial_in_order,
                                                           [&](std::shared_ptr<Batch> b) { out.write(*b); }));
    cli_common::check_stdout_written();  // a full disk says so, with its reason
    if (read_error) std::rethrow_exception(read_error);
    return in.bytes;
}

// A pipe, a terminal or a socket among the inputs: the documents that have arrived are scored
// and their lines flushed whenever the reader would wait for more. A read error: the documents read
// before it are scored and written, then it propagates.
std::size_t score_streams(const PredictOptions& o, const textcnn::TextClassifier& model, BatchWriter& out) {
    std::size_t bytes = 0;
    Batch batch;  // not reserved for --chunk: from a pipe it may be far beyond the input
    auto flush = [&] {
        score(model, batch);
        out.write(batch);
        batch.clear();
    };
    std::exception_ptr read_error;
    for (std::size_t file = 0; file < o.files.size(); ++file) {
        const std::string& path = o.files[file];
        const bool stream = is_stream(path);
        textcnn::DocumentReaderOptions reader_options = o.reader.options(false, path);
        reader_options.line_at_a_time = stream;
        reader_options.id_column = o.id_column;
        textcnn::DocumentReader reader(path, reader_options);
        textcnn::Document doc;
        for (;;) {
            try {
                if (!reader.next(doc)) break;
            } catch (...) {
                read_error = std::current_exception();
                break;
            }
            bytes += doc.text.size() + 1;
            batch.add(doc, file, !o.id_column.empty());
            if (batch.texts.size() == o.chunk) flush();
            if (stream && !reader.input_buffered()) {
                flush();
                cli_common::check_stdout_written();
            }
        }
        if (read_error) break;
        print_reader_warnings(reader.report());
    }
    flush();
    cli_common::check_stdout_written();
    if (read_error) std::rethrow_exception(read_error);
    return bytes;
}

// glibc gives the top of a heap back to the kernel once 128 KiB of it are free, and grows it by
// as little: batch after batch, the same memory was returned and faulted in again (a page fault
// costs ~11 us in this project's VMs). A 16 MiB pad keeps what a batch frees for the next one:
// `predict --threads 2` of 100,000 lines took ~900 page faults fewer (~2,800 -> ~1,900), with
// the same peak memory (untouched pad pages are not resident). A hint for this process only.
void keep_freed_heap_memory() {
#ifdef __GLIBC__
    mallopt(M_TOP_PAD, 16 << 20);
#endif
}

void run_predict(PredictOptions o) {
    using namespace textcnn;
    if (o.files.empty()) o.files.push_back("-");
    // Up front, so that no output is written before a later file turns out to be missing (the
    // lines written then depended on --chunk), and "-" is read once.
    cli_common::check_standard_input_once(o.files);
    cli_common::check_input_files_open(o.files);
    for (const std::string& path : o.files) o.reader.options(false, path);  // column options that cannot act
    ThreadLimit threads(o.threads);
    keep_freed_heap_memory();
    // OpenBLAS's workers, started with the library, spin for ~0.1 s of CPU, taking a core from
    // the load's threads (a model's tables are made in parallel at load, single-threaded BLAS
    // calls in oneTBB tasks), and scoring from folded tables makes no BLAS call at all; nor
    // does --no-fold scoring call threaded BLAS (Network::forward_chunked). So BLAS stays on
    // one thread per caller from here on.
    end_blas_workers();
    TextClassifier model = load_for_prediction(o.model_path, o.no_fold);
    // A refined quantized model then scores again the texts whose --threshold decision (not
    // only whose arg-max) its int8 rounding leaves in doubt.
    model.set_decision_thresholds(o.threshold.thresholds(model.labels()));
    cli_common::warn_top_beyond_labels(o.top, model.labels().size());

    BatchWriter out(o, model.labels(), model.decision_thresholds());
    const auto started = std::chrono::steady_clock::now();
    const bool streams = std::any_of(o.files.begin(), o.files.end(), is_stream);
    const std::size_t bytes = streams ? score_streams(o, model, out) : score_files(o, model, out);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    const std::size_t documents = out.documents;
    if (!o.quiet) {
        cli_common::print_stderr("scored {}{} document{} ({}) in {:.2f}s: {:.0f} documents/s, {:.2f} MB/s\n",
                   out.refused ? fmt::format("{} of ", documents - out.refused) : std::string(), documents,
                   documents == 1 ? "" : "s", textcnn::byte_size_text(bytes), seconds,
                   documents / std::max(seconds, 1e-9), bytes / 1e6 / std::max(seconds, 1e-9));
        cli_common::print_stderr("unknown tokens: {} of {} ({:.1f} %)\n", out.unknown_tokens, out.tokens,
                   out.tokens ? 100.0 * out.unknown_tokens / out.tokens : 0.0);
    }
    // Said even with --quiet: these lines got no label, or a label that says nothing of the text.
    if (out.no_known)
        cli_common::print_stderr("warning: {} of {} documents have no token the model knows (empty or only unknown words){}\n",
                   out.no_known, documents,
                   o.no_known_token == "empty" ? ": their label field is empty"
                                               : ": their label is the model's answer to an empty text");
    if (out.cut)
        cli_common::print_stderr("{} of {} documents were longer than the model's maximum length and were cut to their "
                   "first {} tokens, as at training\n", out.cut, documents, model.max_length());
    if (out.undecided)
        cli_common::print_stderr("warning: {} of {} documents reached no label's threshold: their label field is empty\n",
                   out.undecided, documents);
    // Every other document was scored and written; the exit status says that some were not.
    if (out.refused)
        throw InputError(fmt::format("{} of {} documents could not be scored (first: {}; {} named above): their "
                                     "line is empty",
                                     out.refused, documents, out.first_refused,
                                     out.refused <= BatchWriter::max_refusals_named
                                         ? std::string("each")
                                         : fmt::format("the first {}", BatchWriter::max_refusals_named)));
}

}  // namespace

Command add_predict_command(CLI::App& app) {
    auto o = std::make_shared<PredictOptions>();
    CLI::App* cmd = app.add_subcommand(
        "predict", "Label texts with a saved model: one output line per input document (stdin when no FILE)");
    cmd->add_option("--model", o->model_path, "Model file written by textcnn train")->required();
    cmd->add_option("files", o->files, "Input files: plain text (one document per line), CSV/TSV (--text-column)");
    CLI::Option* prob = cmd->add_flag("--prob", o->prob, "Also print the probability of every label, in the model's label order (tsv and csv: a first line names them)");
    // --top prints its labels' probabilities: with --prob one of the two did nothing, unsaid.
    cmd->add_option("--top", o->top, "Print the K most probable labels with their probabilities (not with --prob)")
        ->check(cli_common::positive<decltype(o->top)>())
        ->excludes(prob);
    o->threshold.add_to(*cmd);
    cmd->add_option("--no-known-token", o->no_known_token,
                    "Texts with no token the model knows (empty, or only unknown words): empty = leave the label "
                    "field empty (jsonl: null); predict = the model's answer to an empty text. Either way jsonl "
                    "marks them with \"no_known_token\": true and a warning counts them")
        ->check(CLI::IsMember({"empty", "predict"}))
        ->capture_default_str();
    cli_common::add_format_option(*cmd, o->format, "Output format");
    cmd->add_option("--chunk", o->chunk, "Documents read and scored at a time from a file (the first batches are smaller: 256, 512, ...; at most three batches are in memory: one read, one scored, one written, side by side); from a pipe or terminal each line is answered as it arrives")
        ->check(cli_common::positive<decltype(o->chunk)>())
        ->capture_default_str();
    cmd->add_option("--id-column", o->id_column,
                    "CSV/TSV input: a column (header name or 1-based number) written first on every output line "
                    "(jsonl: \"id\"), to join the scores back to their rows");
    add_no_fold_flag(*cmd, o->no_fold);
    cli_common::add_threads_option(*cmd, o->threads);
    cmd->add_flag("--quiet", o->quiet, "No throughput line on stderr");
    o->reader.add_to(*cmd);
    return {cmd, [o] { run_predict(*o); }};
}

}  // namespace textcnn_cli
