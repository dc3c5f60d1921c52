// The everyday API of textcnn in one header: load, train, save and predict with text and
// image classifiers, the decision thresholds (LabelThresholds), the error types and the version.
//
//     #include <textcnn/textcnn.h>
//
//     auto model = textcnn::TextClassifier::load("spam.model");  // textcnn::InputError on a bad file
//     textcnn::TextPrediction p = model.predict(message_text);   // const, thread-safe
//
// It includes no Armadillo, oneTBB or ICU header and compiles cleanly with -Wall -Wextra
// -Wpedantic (C++20). The backend (nn/: tensors, layers, networks, optimizers, the trainer,
// model files) is public too, for programs that build networks themselves; its headers
// include <armadillo>.
#pragma once

#include "textcnn/core/error.h"
#include "textcnn/image/image_classifier.h"
#include "textcnn/image/image_training.h"
#include "textcnn/nn/label_thresholds.h"
#include "textcnn/text/text_classifier.h"
#include "textcnn/text/text_training.h"
#include "textcnn/version.h"
