// The progress lines textcnn train and imagecnn train print (apps/common/progress.h).
#define BOOST_TEST_MODULE progress
#include <boost/test/unit_test.hpp>

#include "progress.h"

#include <chrono>
#include <cstdio>
#include <string>

using namespace textcnn;
using cli_common::format_epoch;
using cli_common::format_progress;
using cli_common::ProgressPrinter;

namespace {
// What a printer (live or not) writes when `use` calls it.
template <class Use>
std::string printed(bool live, const Use& use) {
    std::FILE* f = std::tmpfile();
    BOOST_REQUIRE(f);
    ProgressPrinter printer(f, live, std::chrono::milliseconds(0));
    use(printer);
    std::rewind(f);
    std::string text;
    for (int c; (c = std::fgetc(f)) != EOF;) text += static_cast<char>(c);
    std::fclose(f);
    return text;
}
}  // namespace

BOOST_AUTO_TEST_CASE(progress_lines) {
    TrainingProgress p;
    p.epoch = 3;
    p.epochs = 25;
    p.batch = 120;
    p.batches = 170;
    p.loss = 0.41234;
    p.accuracy = 0.8125;
    p.items_per_second = 2345.4;
    p.eta_seconds = 72.2;
    BOOST_TEST(format_progress(p) == "epoch 3/25  batch 120/170  loss 0.4123  acc 81.25%  2,345 items/s  ETA 1m12s");
    EpochSummary e;
    e.epoch = 3;
    e.epochs = 25;
    e.train_loss = 0.41234;
    e.train_accuracy = 0.8125;
    e.has_validation = true;
    e.validation_loss = 0.45671;
    e.validation_accuracy = 0.789;
    e.improved = true;
    e.seconds = 12.34;
    e.items_per_second = 1234567.0;
    BOOST_TEST(format_epoch(e) ==
               "epoch 3/25  loss 0.4123  acc 81.25%  dev loss 0.4567  dev acc 78.90% (best)  12.3s  1,234,567 items/s");

    for (const bool live : {true, false}) {
        const std::string text = printed(live, [&](ProgressPrinter& printer) {
            printer.progress(p);
            printer.epoch_end(e);
        });
        const std::string epoch_line = format_epoch(e) + "\n";
        if (live)
            BOOST_TEST(text == "\r" + format_progress(p) + "\x1b[K\r\x1b[K" + epoch_line);
        else
            BOOST_TEST(text == epoch_line);
    }
}

// --validations-per-epoch: each dev check within an epoch leaves a line, and its accuracy rides
// on the live line until the epoch ends; the check at the epoch's end is the epoch line's.
BOOST_AUTO_TEST_CASE(dev_checks_within_an_epoch) {
    ValidationCheck c;
    c.epoch = 2;
    c.batch = 85;
    c.batches = 170;
    c.loss = 0.45671;
    c.accuracy = 0.789;
    c.improved = true;
    BOOST_TEST(cli_common::format_dev_check(c) == "epoch 2  batch 85/170  dev loss 0.4567  dev acc 78.90% (best)");
    TrainingProgress p;
    p.epoch = 2;
    p.epochs = 5;
    p.batch = 100;
    p.batches = 170;
    EpochSummary e;
    e.epoch = 2;
    e.epochs = 5;
    ValidationCheck at_end = c;
    at_end.batch = 170;
    for (const bool live : {true, false}) {
        const std::string text = printed(live, [&](ProgressPrinter& printer) {
            printer.dev_check(c);
            printer.progress(p);
            printer.dev_check(at_end);
            printer.epoch_end(e);
        });
        const std::string check_line = cli_common::format_dev_check(c) + "\n";
        if (live)
            BOOST_TEST(text == check_line + "\r" + format_progress(p) + "  dev acc 78.90% at batch 85\x1b[K\r\x1b[K" +
                                   format_epoch(e) + "\n");
        else
            BOOST_TEST(text == check_line + format_epoch(e) + "\n");
    }
}
