// Prediction speed through the library: single-sentence latency (one predict() call on one
// thread, BLAS on 1 thread) and batch throughput (predict() over many texts with --threads),
// for the folded model load() gives and, in the same run, for the network's own forward pass
// (drop_folding()); for a quantized model (textcnn quantize), its int8 tables only.
//   bench_predict --model M --data FILE [--threads 2] [--repeats 5] [--single 2000]
// FILE is any document file textcnn reads (plain text lines or CSV with a text column).
#include "textcnn/text/document_reader.h"
#include "textcnn/core/runtime.h"
#include "textcnn/text/text_classifier.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {
double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}
}  // namespace

int main(int argc, char** argv) {
    std::string model_path, data_path;
    std::size_t threads = 2, repeats = 5, single = 2000;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string flag = argv[i];
        if (flag == "--model") model_path = argv[i + 1];
        else if (flag == "--data") data_path = argv[i + 1];
        else if (flag == "--threads") threads = std::strtoul(argv[i + 1], nullptr, 10);
        else if (flag == "--repeats") repeats = std::strtoul(argv[i + 1], nullptr, 10);
        else if (flag == "--single") single = std::strtoul(argv[i + 1], nullptr, 10);
        else {
            fmt::print(stderr, "unknown option {}\n", flag);
            return 2;
        }
    }
    if (model_path.empty() || data_path.empty()) {
        fmt::print(stderr, "usage: bench_predict --model M --data FILE [--threads N] [--repeats R] [--single N]\n");
        return 2;
    }
    using clock = std::chrono::steady_clock;
    const auto load_start = clock::now();
    const auto model = textcnn::TextClassifier::load(model_path);
    const double load_ms = std::chrono::duration<double, std::milli>(clock::now() - load_start).count();
    auto unfolded = textcnn::TextClassifier::load(model_path);
    unfolded.drop_folding();
    std::vector<std::string> texts;
    std::size_t bytes = 0, tokens = 0;
    {
        textcnn::DocumentReader reader(data_path);
        textcnn::Document doc;
        while (reader.next(doc)) {
            bytes += doc.text.size() + 1;
            texts.push_back(doc.text);
        }
    }
    for (const auto& t : texts) tokens += model.encode(t).size();
    fmt::print("{}\n", textcnn::build_info());
    fmt::print("{} documents, {:.2f} MB, {:.1f} tokens per document\n", texts.size(), bytes / 1e6,
               double(tokens) / texts.size());
    fmt::print("load with folding: {:.0f} ms; folded tables {:.1f} MB\n", load_ms, model.fold_table_bytes() / 1e6);

    auto measure = [&](const textcnn::TextClassifier& m, const char* road) {
        {
            textcnn::ThreadLimit limit(threads);
            std::vector<double> rates;
            for (std::size_t r = 0; r < repeats; ++r) {
                const auto t0 = clock::now();
                const auto predictions = m.predict(texts);
                const double s = std::chrono::duration<double>(clock::now() - t0).count();
                rates.push_back(texts.size() / s);
                if (predictions.size() != texts.size()) std::exit(1);
            }
            const double rate = median(rates);
            fmt::print("{}: batch predict, {} threads: {:.0f} documents/s, {:.2f} MB/s (median of {})\n", road,
                       threads, rate, rate * bytes / texts.size() / 1e6, repeats);
        }
        {
            textcnn::ThreadLimit limit(1);
            std::vector<double> latencies;
            const std::size_t n = std::min(single, texts.size());
            for (std::size_t r = 0; r < repeats; ++r) {
                const auto t0 = clock::now();
                for (std::size_t i = 0; i < n; ++i) (void)m.predict(texts[i]);
                latencies.push_back(std::chrono::duration<double, std::milli>(clock::now() - t0).count() / n);
            }
            fmt::print("{}: single-document predict, 1 thread: {:.4f} ms per document (median of {} x {} documents)\n",
                       road, median(latencies), repeats, n);
        }
    };
    // A quantized model has no network to fall back on: its tables are the only road.
    measure(model, model.quantized() ? "quantized" : "folded");
    if (!model.quantized()) measure(unfolded, "network");
    return 0;
}
