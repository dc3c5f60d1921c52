// Tokenization throughput on real text, beside the cost of merely reading the same bytes.
//
// For each corpus (SST-2's train_phrases text column, the SMS Spam Collection's text), the
// documents are repeated until they hold at least --mb megabytes, then timed (best of
// --repeats runs) as:
//   scan      touch every byte once in memory (std::count): the floor, what "free" costs
//   read csv  DocumentReader over the same documents written back as CSV (in memory)
//   tokenize  Tokenizer::tokenize_batch with 1 and with 2 threads (default settings)
// MB are 10^6 bytes of document text. Target (issue 3): >= 25 MB/s per thread and >= 1.7x
// on 2 threads.
//
//   bench_tokenize [--mb 50] [--repeats 3] [--sst2 FILE] [--sms FILE]
#include "textcnn/text/document_reader.h"
#include "textcnn/core/runtime.h"
#include "textcnn/text/tokenizer.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

using namespace textcnn;

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

/// CPU seconds used by the whole process so far (all threads).
double process_cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

struct Timing {
    double wall = 1e300;  ///< best wall-clock seconds
    double cpu = 1e300;   ///< CPU seconds (all threads) of that best run
};

/// Best of `repeats` runs by wall time. The machine may be shared: CPU time tells how much
/// work a run really took, wall time what a user waits for.
template <class F>
Timing best_of(int repeats, F f) {
    Timing best;
    for (int r = 0; r < repeats; ++r) {
        const double cpu_start = process_cpu_seconds();
        const auto start = std::chrono::steady_clock::now();
        f();
        const double wall = seconds_since(start);
        if (wall < best.wall) best = {wall, process_cpu_seconds() - cpu_start};
    }
    return best;
}

std::string csv_quote(const std::string& text) {
    std::string out = "\"";
    for (const char c : text) {
        if (c == '"') out += '"';
        out += c;
    }
    return out + "\"";
}

void run_corpus(const std::string& name, const std::string& path, double megabytes, int repeats) {
    DocumentReaderOptions options;
    options.format = InputFormat::csv;
    const auto set = read_all(path, options);
    std::vector<std::string> texts;
    std::size_t bytes = 0;
    while (bytes < megabytes * 1e6) {
        for (const auto& d : set.documents) {
            texts.push_back(d.text);
            bytes += d.text.size();
        }
    }
    const double mb = static_cast<double>(bytes) / 1e6;
    fmt::print("\n{}: {} documents from {} repeated to {} documents, {:.1f} MB of text\n", name, set.documents.size(),
               path, texts.size(), mb);
    fmt::print("  {:<26} {:>8} {:>8} {:>8} {:>12} {:>8}\n", "", "wall s", "MB/s", "CPU s", "tokens/s", "speedup");

    std::size_t spaces = 0;
    const Timing scan = best_of(repeats, [&] {
        spaces = 0;
        for (const auto& t : texts) spaces += static_cast<std::size_t>(std::count(t.begin(), t.end(), ' '));
    });
    fmt::print("  {:<26} {:>8.3f} {:>8.0f} {:>8.3f}\n", "scan bytes (floor)", scan.wall, mb / scan.wall, scan.cpu);

    std::string csv = "label,text\n";
    for (const auto& t : texts) csv += "x," + csv_quote(t) + "\n";
    std::size_t read_documents = 0;
    const Timing read = best_of(repeats, [&] {
        std::istringstream in(csv);
        DocumentReader reader(in, "bench.csv", options);
        Document d;
        read_documents = 0;
        while (reader.next(d)) ++read_documents;
    });
    fmt::print("  {:<26} {:>8.3f} {:>8.0f} {:>8.3f}\n", "read csv (DocumentReader)", read.wall, mb / read.wall, read.cpu);
    if (read_documents != texts.size()) fmt::print("  !! read {} documents, expected {}\n", read_documents, texts.size());

    const Tokenizer tokenizer;
    std::vector<std::vector<std::string>> tokens;
    double one_thread = 0;
    for (const std::size_t threads : {1, 2}) {
        ThreadLimit limit(threads);
        tokenizer.tokenize_batch(texts, tokens);  // warm-up: per-thread ICU objects, buffers
        const Timing t = best_of(repeats, [&] { tokenizer.tokenize_batch(texts, tokens); });
        std::size_t count = 0;
        for (const auto& doc : tokens) count += doc.size();
        if (threads == 1) one_thread = t.wall;
        fmt::print("  {:<26} {:>8.3f} {:>8.1f} {:>8.3f} {:>12.0f} {:>7.2f}x\n",
                   fmt::format("tokenize, {} thread{}", threads, threads > 1 ? "s" : ""), t.wall, mb / t.wall, t.cpu,
                   static_cast<double>(count) / t.wall, one_thread / t.wall);
    }
    std::size_t ascii = 0;
    for (const auto& d : set.documents) ascii += is_ascii(d.text) ? 1 : 0;
    fmt::print("  ({} of {} distinct documents are pure ASCII and take the fast path; {} spaces counted)\n", ascii,
               set.documents.size(), spaces);
}

}  // namespace

int main(int argc, char** argv) {
    double megabytes = 50;
    int repeats = 3;
    std::string sst2 = "/work/shared/data/sst2/train_phrases.csv";
    std::string sms = "/work/shared/data/sms_spam/all.csv";
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string flag = argv[i];
        if (flag == "--mb") megabytes = std::atof(argv[i + 1]);
        else if (flag == "--repeats") repeats = std::atoi(argv[i + 1]);
        else if (flag == "--sst2") sst2 = argv[i + 1];
        else if (flag == "--sms") sms = argv[i + 1];
        else {
            fmt::print(stderr, "bench_tokenize: unknown option {}\n", flag);
            return 2;
        }
    }
    fmt::print("{}\n", build_info());
    fmt::print("ASCII fast path: {}\n", Tokenizer::ascii_fast_path() ? "on" : "off (ICU rules differ)");
    try {
        run_corpus("SST-2 train_phrases", sst2, megabytes, repeats);
        run_corpus("SMS Spam Collection", sms, megabytes, repeats);
    } catch (const std::exception& e) {
        fmt::print(stderr, "bench_tokenize: {}\n", e.what());
        return 1;
    }
}
