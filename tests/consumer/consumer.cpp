// Trains a tiny topic classifier (weather or cooking) through <textcnn/textcnn.h> on sentences
// it writes itself, saves it, loads it again and checks its predictions on sentences it did not
// see; then the same for images (bright bars across or down, drawn here). Built by run.sh
// against the installed package, with CMake and with pkg-config.
// Usage: consumer WORK_DIR (created if missing). Exit 0 when every check holds.
#include <textcnn/textcnn.h>

// The everyday API promises not to drag in the heavy headers.
#if defined(ARMA_INCLUDES) || defined(TBB_VERSION_MAJOR) || defined(U_ICU_VERSION)
#error "<textcnn/textcnn.h> included Armadillo, oneTBB or ICU headers"
#endif

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

namespace {

int failures = 0;

void check(bool ok, const std::string& what) {
    std::cout << (ok ? "ok   " : "FAIL ") << what << '\n';
    if (!ok) ++failures;
}

const char* const weather[] = {
    "heavy rain is expected over the hills tonight",   "the wind will turn cold by the morning",
    "sunny skies and a light breeze this afternoon",   "snow may fall on the high roads after midnight",
    "thunder and lightning rolled across the valley",  "fog lingered along the river until noon",
    "a warm front brings showers and drizzle tomorrow", "frost covered the fields before sunrise",
    "the forecast calls for clouds and scattered rain", "strong gusts knocked branches onto the road",
    "temperatures will drop below freezing overnight", "the storm moved east with hail and heavy wind",
    "a humid day with a chance of evening thunder",    "clear skies tonight and a cold frosty dawn",
    "drizzle and mist kept the coast grey all day",    "the breeze carried dark clouds over the town",
    "sleet and snow are likely on the northern hills", "a dry sunny week ahead with mild afternoons",
    "the rain gauge filled after the long storm",      "wind and rain will ease by late evening",
};
const char* const cooking[] = {
    "chop the onions and fry them in butter",          "simmer the soup for twenty minutes",
    "whisk the eggs with sugar until pale",            "bake the bread in a hot oven",
    "season the sauce with salt and pepper",           "stir the garlic into the warm olive oil",
    "knead the dough and let it rise",                 "roast the carrots with honey and thyme",
    "grate the cheese over the pasta before serving",  "boil the potatoes and mash them with milk",
    "slice the tomatoes and add fresh basil",          "melt the chocolate gently over low heat",
    "marinate the chicken in lemon and herbs",         "fold the flour into the batter slowly",
    "sprinkle the cake with powdered sugar",           "toast the spices in a dry pan",
    "peel the apples and bake them with cinnamon",     "drain the noodles and toss them in the sauce",
    "stir the risotto and add stock a ladle at a time", "cool the pie on a rack before slicing",
};

}  // namespace

// 28 x 28 grey images of two kinds, drawn from `seed`: a bright horizontal bar ("rows") or a
// bright vertical bar ("columns") at a random place, on faint noise. Labels 0 = columns, 1 = rows.
void bar_images(std::size_t count, std::uint32_t seed, std::vector<std::uint8_t>& pixels,
                std::vector<std::uint32_t>& labels) {
    std::uint32_t state = seed;
    auto next = [&] { return state = state * 1664525u + 1013904223u, state >> 8; };
    pixels.assign(count * 28 * 28, 0);
    labels.resize(count);
    for (std::size_t n = 0; n < count; ++n) {
        std::uint8_t* image = pixels.data() + n * 28 * 28;
        for (std::size_t i = 0; i < 28 * 28; ++i) image[i] = static_cast<std::uint8_t>(next() % 40);
        labels[n] = static_cast<std::uint32_t>(n % 2);
        const std::size_t at = 4 + next() % 20;
        for (std::size_t k = 0; k < 28; ++k)
            for (std::size_t w = 0; w < 3; ++w)
                (labels[n] ? image[(at + w) * 28 + k] : image[k * 28 + at + w]) = 230;
    }
}

// The image half: trains the article's smallest pooled network on bar images, saves, loads
// and predicts images it did not see.
void image_checks(const std::filesystem::path& dir) {
    std::vector<std::uint8_t> pixels;
    std::vector<std::uint32_t> labels;
    bar_images(96, 7, pixels, labels);
    textcnn::ImageTrainingOptions options;
    options.architecture = "cnn_1_with_pooling";
    options.class_names = {"columns", "rows"};
    options.validation_split = 0.0;
    options.trainer.epochs = 12;
    options.trainer.batch_size = 8;
    options.trainer.optimizer.learning_rate = 0.005f;
    textcnn::ImageTrainingRun run(textcnn::ImageBatch(pixels, {96, 28, 28, 1}), labels, options, {});
    run.run();
    const std::string model_path = (dir / "bars.model").string();
    run.classifier().save(model_path);
    const textcnn::ImageClassifier model = textcnn::ImageClassifier::load(model_path);
    check(model.labels() == std::vector<std::string>{"columns", "rows"}, "image labels columns, rows");

    std::vector<std::uint8_t> unseen;
    std::vector<std::uint32_t> truth;
    bar_images(40, 1234, unseen, truth);
    const auto predictions = model.predict(textcnn::ImageBatch(unseen, {40, 28, 28, 1}));
    std::size_t correct = 0;
    for (std::size_t i = 0; i < predictions.size(); ++i) correct += predictions[i].label == truth[i];
    check(predictions.size() == 40 && correct >= 36,
          "image model: " + std::to_string(correct) + " of 40 unseen bar images right (>= 36)");
}

int main(int argc, char** argv) {
    if (argc != 2) {
        std::cerr << "usage: consumer WORK_DIR\n";
        return 2;
    }
    const std::filesystem::path dir = argv[1];
    std::filesystem::create_directories(dir);
    try {
        check(std::string(textcnn::version()) == TEXTCNN_VERSION_STRING,
              std::string("library version ") + textcnn::version() + " = header version " TEXTCNN_VERSION_STRING);

        // Training data as a CSV file, read back with the library's reader.
        const std::string csv = (dir / "topics.csv").string();
        {
            std::ofstream out(csv);
            out << "text,label\n";
            for (std::size_t i = 0; i < std::size(weather); ++i)
                out << '"' << weather[i] << "\",weather\n" << '"' << cooking[i] << "\",cooking\n";
        }
        textcnn::DocumentReaderOptions reader;
        reader.require_label = true;
        std::vector<textcnn::Document> train = textcnn::read_all(csv, reader).documents;
        check(train.size() == 40, "read 40 labelled sentences from " + csv);

        textcnn::TextTrainingOptions options;
        options.model.widths = {2, 3};
        options.model.maps = 16;
        options.model.embedding_dim = 32;
        options.trainer.epochs = 30;
        options.trainer.batch_size = 8;
        options.trainer.seed = 7;
        options.train_source = csv;
        std::size_t epochs_seen = 0;
        double last_accuracy = 0.0;
        textcnn::TextTrainingCallbacks callbacks;
        callbacks.epoch_end = [&](const textcnn::EpochSummary& e) {
            ++epochs_seen;
            last_accuracy = e.train_accuracy;
        };
        textcnn::TextTrainingRun run(std::move(train), std::nullopt, "", options, callbacks);
        const textcnn::TextTrainingReport report = run.run();
        check(report.result.reason == textcnn::StopReason::completed && report.result.epochs_completed == 30 &&
                  epochs_seen == 30,
              "trained 30 epochs, epoch_end called for each");
        check(last_accuracy >= 0.9, "training accuracy of the last epoch " + std::to_string(last_accuracy) + " >= 0.9");

        const std::string model_path = (dir / "topics.model").string();
        run.classifier().metadata["trained_by"] = "tests/consumer";
        run.classifier().save(model_path);
        const textcnn::TextClassifier model = textcnn::TextClassifier::load(model_path);
        check(model.labels() == std::vector<std::string>{"cooking", "weather"}, "labels cooking, weather");
        check(model.metadata.at("trained_by") == "tests/consumer", "metadata survives save and load");

        // Sentences the model has not seen, made of words it has.
        const std::vector<std::pair<std::string, std::string>> unseen = {
            {"heavy snow and cold wind tonight", "weather"},
            {"clouds and rain over the valley tomorrow", "weather"},
            {"a sunny morning with a light breeze", "weather"},
            {"fry the garlic in butter and add salt", "cooking"},
            {"bake the cake in a hot oven", "cooking"},
            {"simmer the sauce with fresh herbs", "cooking"},
        };
        std::vector<std::string> texts;
        for (const auto& [text, label] : unseen) {
            const textcnn::TextPrediction p = model.predict(text);
            double sum = 0;
            for (float q : p.probabilities) sum += q;
            check(p.probabilities.size() == 2 && std::abs(sum - 1.0) < 1e-4, "probabilities of '" + text + "' sum to 1");
            check(model.labels()[p.label] == label && p.probabilities[p.label] > 0.5,
                  "'" + text + "' -> " + model.labels()[p.label] + " (" + std::to_string(p.probabilities[p.label]) +
                      "), expected " + label);
            texts.push_back(text);
        }
        const std::vector<textcnn::TextPrediction> batch = model.predict(std::span<const std::string>(texts));
        bool same = batch.size() == unseen.size();
        for (std::size_t i = 0; same && i < batch.size(); ++i) same = batch[i].label == model.predict(texts[i]).label;
        check(same, "batch prediction agrees with one-by-one prediction");

        bool threw = false;
        try {
            (void)textcnn::TextClassifier::load(csv);  // a CSV file is not a model
        } catch (const textcnn::InputError&) {
            threw = true;
        }
        check(threw, "loading a file that is not a model throws textcnn::InputError");

        image_checks(dir);
    } catch (const textcnn::Error& e) {
        std::cerr << "consumer: unexpected textcnn error: " << e.what() << '\n';
        return 1;
    }
    if (failures) {
        std::cerr << "consumer: " << failures << " check(s) failed\n";
        return 1;
    }
    std::cout << "consumer: all checks passed\n";
    return 0;
}
