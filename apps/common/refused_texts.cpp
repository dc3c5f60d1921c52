#include "refused_texts.h"

#include "textcnn/core/error.h"

namespace cli_common {

std::vector<textcnn::TextPrediction> predict_noting_refusals(const textcnn::TextClassifier& model,
                                                             std::span<const std::string> texts,
                                                             std::vector<std::string>& refused) {
    refused.clear();
    try {
        return model.predict(texts);
    } catch (const textcnn::InputError&) {
    }
    std::vector<textcnn::TextPrediction> predictions(texts.size());
    refused.assign(texts.size(), std::string());
    for (std::size_t i = 0; i < texts.size(); ++i) {
        try {
            predictions[i] = model.predict(texts[i]);
        } catch (const textcnn::InputError& e) {
            refused[i] = e.what();
        }
    }
    return predictions;
}

}  // namespace cli_common
