// How both training programs end a run stopped by Ctrl-C or SIGTERM
// (cli_common::stop_with_checkpoint, apps/common/training_cli.h): nothing that was there or was
// trained is lost, whatever the disk does.
#define BOOST_TEST_MODULE training_cli
#include <boost/test/unit_test.hpp>

#include "cli_main.h"
#include "training_cli.h"

#include "textcnn/core/error.h"

#include "test_helpers.h"

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

using textcnn::testing::scratch_path;

namespace {

std::string path(const std::string& name) { return scratch_path("training_cli_files", name); }

void write(const std::string& file, const std::string& text) { std::ofstream(file, std::ios::binary) << text; }

std::string read(const std::string& file) {
    std::ifstream in(file, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

textcnn::TrainResult stopped_after(std::size_t epochs, std::size_t best_epoch) {
    textcnn::TrainResult r;
    r.reason = textcnn::StopReason::interrupted;
    r.epochs_completed = epochs;
    r.best_epoch = best_epoch;
    r.best_accuracy = best_epoch ? 0.75 : 0.0;
    return r;
}

// What stop_with_checkpoint did: the exit code it ended with (130 for Ctrl-C), or -1 and the
// IoError's message.
struct Stop {
    int exit_code = 0;
    std::string error;
};

Stop stop(const std::string& model, const std::string& checkpoint, const textcnn::TrainResult& result,
          bool model_fails = false, bool checkpoint_fails = false) {
    cli_common::SigintScope sigint;
    const auto write_checkpoint = [&](const std::string& p) {
        if (checkpoint_fails) throw textcnn::IoError(p + ": cannot write: No space left on device");
        write(p, "checkpoint");
    };
    const auto save_model = [&](const std::string& p) -> std::uint64_t {
        if (model_fails) throw textcnn::IoError(p + ": cannot write: No space left on device");
        write(p, "new model");
        return result.best_epoch;
    };
    Stop s;
    try {
        cli_common::stop_with_checkpoint(model, checkpoint, result, write_checkpoint, save_model, sigint);
    } catch (const cli_common::Interrupted& e) {
        s.exit_code = e.exit_code;
    } catch (const textcnn::IoError& e) {
        s.exit_code = -1;
        s.error = e.what();
    }
    sigint.restore();
    return s;
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_run_stopped_before_its_first_epoch_keeps_an_earlier_model) {
    const std::string model = path("earlier.model"), checkpoint = path("earlier.ckpt");
    write(model, "earlier model");
    std::filesystem::remove(checkpoint);
    BOOST_CHECK_EQUAL(stop(model, checkpoint, stopped_after(0, 0)).exit_code, 130);
    BOOST_CHECK_EQUAL(read(model), "earlier model");
    BOOST_CHECK_EQUAL(read(checkpoint), "checkpoint");  // this run's weights so far
    // Without an earlier file, the weights so far are written: nothing is lost either way.
    std::filesystem::remove(model);
    BOOST_CHECK_EQUAL(stop(model, checkpoint, stopped_after(0, 0)).exit_code, 130);
    BOOST_CHECK_EQUAL(read(model), "new model");
}

BOOST_AUTO_TEST_CASE(a_run_that_trained_replaces_the_model_as_a_finished_run_does) {
    const std::string model = path("trained.model"), checkpoint = path("trained.ckpt");
    for (const auto& result : {stopped_after(1, 0), stopped_after(0, 1), stopped_after(3, 2)}) {
        write(model, "earlier model");
        BOOST_CHECK_EQUAL(stop(model, checkpoint, result).exit_code, 130);
        BOOST_CHECK_EQUAL(read(model), "new model");
    }
}

BOOST_AUTO_TEST_CASE(each_write_is_tried_whatever_became_of_the_other) {
    const std::string model = path("full.model"), checkpoint = path("full.ckpt");
    std::filesystem::remove(model);
    std::filesystem::remove(checkpoint);
    // The checkpoint (the larger file) does not fit: the model is written all the same.
    Stop s = stop(model, checkpoint, stopped_after(2, 2), false, true);
    BOOST_CHECK_EQUAL(s.exit_code, -1);
    BOOST_CHECK_EQUAL(s.error, "interrupted, and the checkpoint (" + checkpoint +
                                   ") could not be written (above); the model was written, the run cannot be resumed");
    BOOST_CHECK_EQUAL(read(model), "new model");
    // The model does not fit: the checkpoint is written all the same.
    std::filesystem::remove(model);
    s = stop(model, checkpoint, stopped_after(2, 2), true, false);
    BOOST_CHECK_EQUAL(s.error, "interrupted, and the model (" + model +
                                   ") could not be written (above); the checkpoint was written: continue with --resume " +
                                   checkpoint);
    BOOST_CHECK_EQUAL(read(checkpoint), "checkpoint");
    BOOST_CHECK(!std::filesystem::exists(model));
    s = stop(model, checkpoint, stopped_after(2, 2), true, true);
    BOOST_CHECK_EQUAL(s.error, "interrupted, and the model (" + model + ") and the checkpoint (" + checkpoint +
                                   ") could not be written (above): this run's training is lost");
}
