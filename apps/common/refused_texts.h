// Scoring a batch of texts when the model may refuse one of them (InputError: with the network's
// forward pass, --no-fold or a model too large to fold, one text past the network's bound):
// predict, eval and textcnn-mail classify each go on or stop naming that text, not the batch.
#pragma once

#include "textcnn/text/text_classifier.h"

#include <span>
#include <string>
#include <vector>

namespace cli_common {

/// model.predict(texts), and when the model refuses a text of them, every text again on its
/// own: `refused` then holds each refused text's reason at its index (empty for the others,
/// whose predictions are returned as usual; a refused text's prediction is left default). When
/// none is refused, `refused` is left empty. Rethrows anything but InputError.
std::vector<textcnn::TextPrediction> predict_noting_refusals(const textcnn::TextClassifier& model,
                                                             std::span<const std::string> texts,
                                                             std::vector<std::string>& refused);

}  // namespace cli_common
