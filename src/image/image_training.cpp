#include "textcnn/image/image_training.h"

#include "image/image_model.h"
#include "textcnn/core/error.h"
#include "textcnn/core/number_text.h"
#include "textcnn/image/image_network.h"
#include "textcnn/nn/model_file.h"
#include "textcnn/nn/trainer.h"
#include "textcnn/text/utf8.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <optional>

namespace textcnn {

TrainerSettings ImageTrainingOptions::article_trainer_settings() {
    TrainerSettings s;
    s.epochs = 5;
    s.batch_size = 128;
    s.eval_batch_size = 1000;
    s.optimizer = OptimizerSettings::defaults_for("rmsprop");
    s.restore_best = true;
    return s;
}

namespace {

void check_options(const ImageTrainingOptions& options) {
    if (options.class_names.size() < 2)
        throw ConfigError("image training: at least two class names are needed, got " +
                          std::to_string(options.class_names.size()));
    for (std::size_t i = 0; i < options.class_names.size(); ++i) {
        const std::string& name = options.class_names[i];
        if (name.empty()) throw ConfigError(fmt::format("image training: class name {} is empty", i));
        // As textcnn's labels: one line of text, which predict writes as one field.
        if (const auto bad = find_invalid_utf8(name))
            throw ConfigError(fmt::format("image training: class name {} is not valid UTF-8 (byte {})", i, *bad + 1));
        if (const auto control = find_control_character(name))
            throw ConfigError(fmt::format("image training: class name {} holds {} at byte {}: a class name is one line "
                                          "of text without control characters",
                                          i, describe_code_point(control->code_point), control->offset + 1));
    }
    if (!(options.validation_split >= 0.0 && options.validation_split < 1.0))
        throw ConfigError(fmt::format("image training: the validation split must be in [0, 1), got {}",
                                      options.validation_split));
    // A model file holds distinct class names (and refused this one at load, after training).
    for (std::size_t i = 0; i < options.class_names.size(); ++i)
        for (std::size_t j = 0; j < i; ++j)
            if (options.class_names[i] == options.class_names[j])
                throw ConfigError(fmt::format("image training: class name {} ('{}') is class name {} again", i,
                                              options.class_names[i], j));
    if (options.validation_split == 0.0 && options.trainer.patience > 0)
        throw ConfigError("image training: patience stops training when the validation accuracy stops improving, but "
                          "there is no validation data (give a validation split)");
}

void check_labels(std::span<const std::uint32_t> labels, std::size_t images, const ImageTrainingOptions& options) {
    const std::string& source = options.train_source;
    if (images == 0) throw InputError(source + ": no images");
    if (labels.size() != images)
        throw InputError(fmt::format("{}: {} labels for {} images", source, labels.size(), images));
    for (std::size_t i = 0; i < labels.size(); ++i)
        if (labels[i] >= options.class_names.size())
            throw InputError(fmt::format("{}: label {} of item {} but only {} class names", source, labels[i], i,
                                         options.class_names.size()));
}

Initializer::Kind initializer_kind(const ImageTrainingOptions& options, const Architecture& arch) {
    if (options.initializer.empty()) return arch.init.value_or(Initializer::Kind::glorot_uniform);
    return parse_initializer_kind(options.initializer);
}

}  // namespace

struct ImageTrainingRun::Impl {
    ImageBatch images;
    std::span<const std::uint32_t> labels;
    std::size_t train_count = 0;
    std::size_t validation_count = 0;
    Initializer::Kind init = Initializer::Kind::glorot_uniform;
    std::optional<ImageClassifier> classifier;
    std::unique_ptr<Trainer> trainer;
    TrainerSettings settings;    // what the trainer was given (for run()'s out-of-memory message)
    std::size_t eval_batch = 1;  // validation batch size (evaluate_validation)

    // The images [first, first + count) as a batch source over their numbers 0 .. count-1.
    BatchSource source(std::size_t first) const {
        return [this, first](std::span<const std::size_t> indices, Tensor& input, std::vector<std::uint32_t>& out) {
            const ImageShape& s = images.shape();
            input.resize(Shape{indices.size(), s.channels, s.height, s.width});
            out.resize(indices.size());
            for (std::size_t i = 0; i < indices.size(); ++i) {
                images.copy_scaled(first + indices[i], 1, input.sample(i));
                out[i] = labels[first + indices[i]];
            }
        };
    }
};

ImageTrainingRun::ImageTrainingRun(const ImageBatch& images, std::span<const std::uint32_t> labels,
                                   const ImageTrainingOptions& options, ImageTrainingCallbacks callbacks)
    : impl_(std::make_unique<Impl>(Impl{images, labels, 0, 0, Initializer::Kind::glorot_uniform, {}, {}, {}, 1})) {
    check_options(options);
    const ImageShape& shape = images.shape();
    check_labels(labels, shape.count, options);
    Impl& m = *impl_;
    // Keras: split_at = int(n * (1 - validation_split)); train = [:split_at], validation = the rest.
    m.train_count = static_cast<std::size_t>(static_cast<double>(shape.count) * (1.0 - options.validation_split));
    m.validation_count = shape.count - m.train_count;
    if (m.train_count == 0)
        throw ConfigError(fmt::format("image training: a validation split of {} leaves none of the {} images for "
                                      "training", options.validation_split, shape.count));
    // As for text: a class whose images all fall in the validation part cannot be learnt (30
    // images with a split of 0.8 once trained on 5, with classes that had no training image).
    std::vector<std::size_t> training_images(options.class_names.size()), class_images(options.class_names.size());
    for (std::size_t i = 0; i < shape.count; ++i) {
        ++class_images[labels[i]];
        if (i < m.train_count) ++training_images[labels[i]];
    }
    // A class no image has is never learnt (a model of ten classes trained on labels 0-2 went
    // through, its evaluation averaging seven empty classes into macro-F1).
    std::vector<std::string> without;
    for (std::size_t c = 0; c < class_images.size(); ++c)
        if (class_images[c] == 0) without.push_back("'" + options.class_names[c] + "'");
    if (!without.empty())
        throw InputError(fmt::format("{}: {} of the {} classes have no image ({}{}): give as many class names as the "
                                     "labels use",
                                     options.train_source, without.size(), class_images.size(),
                                     fmt::join(without.begin(), without.begin() + std::min<std::size_t>(without.size(), 5),
                                               ", "),
                                     without.size() > 5 ? ", ..." : ""));
    for (std::size_t c = 0; c < class_images.size(); ++c)
        if (class_images[c] > 0 && training_images[c] == 0)
            throw InputError(fmt::format("image training: class '{}' has {} image{}, all in the validation part (the last "
                                         "{} of {} images): nothing to learn it from; use a smaller validation split "
                                         "or more images",
                                         options.class_names[c], class_images[c], class_images[c] == 1 ? "" : "s",
                                         m.validation_count, shape.count));

    const Architecture arch = image_architecture(options.architecture, options.architecture_file);
    m.init = initializer_kind(options, arch);
    const Shape sample{1, shape.channels, shape.height, shape.width};
    if (arch.input && arch.input->with_batch(1) != sample)
        throw InputError(fmt::format("{}: images of shape {}, architecture {} is for {}", options.train_source,
                                     sample.str(), arch.name, arch.input->with_batch(1).str()));
    const std::string arch_label = options.architecture_file.empty() ? arch.name : options.architecture_file;
    const std::size_t classes = options.class_names.size();
    const std::size_t parameters = image_network_parameter_count(arch, sample, classes);
    check_training_memory(parameters, options.trainer.optimizer, "fewer filters or units in the architecture");
    ImageModel model{[&] {
                         try {
                             return build_image_network(arch, sample, classes);
                         } catch (const std::bad_alloc&) {
                             throw network_allocation_error(parameters);
                         }
                     }(),
                     options.class_names, arch_label, "{}"};
    model.network.initialize(Initializer{m.init, 0.25f}, options.trainer.seed);
    m.classifier.emplace(ImageClassifier(std::make_unique<ImageClassifier::Impl>(ImageClassifier::Impl{std::move(model)})));

    m.trainer = std::make_unique<Trainer>(m.classifier->network(), options.trainer);
    m.settings = options.trainer;
    m.eval_batch = std::max<std::size_t>(1, options.trainer.eval_batch_size ? options.trainer.eval_batch_size
                                                                             : options.trainer.batch_size);
    m.trainer->set_training_data(m.train_count, m.source(0));
    if (m.validation_count > 0) m.trainer->set_validation_data(m.validation_count, m.source(m.train_count));
    if (callbacks.progress) m.trainer->on_progress(std::move(callbacks.progress));
    if (callbacks.epoch_end) m.trainer->on_epoch_end(std::move(callbacks.epoch_end));
    if (callbacks.validation) m.trainer->on_validation(std::move(callbacks.validation));
    if (callbacks.stop) m.trainer->set_stop_flag(callbacks.stop);
}

ImageTrainingRun::~ImageTrainingRun() = default;

std::size_t ImageTrainingRun::train_count() const { return impl_->train_count; }

std::size_t ImageTrainingRun::validation_count() const { return impl_->validation_count; }

std::string ImageTrainingRun::initializer() const { return initializer_kind_name(impl_->init); }

void ImageTrainingRun::resume_from(const std::string& checkpoint_path) {
    const ModelFile file = read_model_file(checkpoint_path);
    const Network saved = network_from_sections(file);
    Network& net = impl_->classifier->network();
    if (saved.spec() != net.spec() || saved.sample_shape() != net.sample_shape())
        throw ConfigError(checkpoint_path + ": the checkpoint's network differs from this run's architecture");
    // Checkpoints of imagecnn before ImageTrainingRun carry no image section; newer ones must
    // have been made for the same classes.
    if (file.find(image_section_tag) && image_model_from_file(file).labels != impl_->classifier->labels())
        throw ConfigError(checkpoint_path + ": the checkpoint was made for other class names");
    const TrainerState state = trainer_state_from_sections(file);
    try {
        impl_->trainer->resume(state);
    } catch (const ConfigError& e) {
        throw ConfigError(checkpoint_path + ": " + e.what());  // "trainer: the checkpoint was made with seed 7, ..."
    }
    std::copy(saved.parameters().begin(), saved.parameters().end(), net.parameters().begin());
}

TrainResult ImageTrainingRun::run() {
    try {
        return impl_->trainer->run();
    } catch (const std::bad_alloc&) {
        // What grows with the data: a batch's activations.
        throw training_allocation_error(impl_->classifier->network().parameter_count(), impl_->settings.optimizer,
                                        fmt::format("each batch of {} images", impl_->settings.batch_size),
                                        "batch size or model");
    }
}

ImageClassifier& ImageTrainingRun::classifier() { return *impl_->classifier; }

Evaluation ImageTrainingRun::evaluate_validation() const {
    const Impl& m = *impl_;
    if (m.validation_count == 0) return {};
    return evaluate(m.classifier->network(), m.validation_count, m.source(m.train_count), m.eval_batch);
}

void ImageTrainingRun::write_checkpoint(const std::string& path) const {
    ModelFile file = image_model_file(impl_->classifier->impl_->model);
    add_checkpoint_sections(file, impl_->classifier->network(), impl_->trainer->state());
    write_model_file(path, file);
}

std::uint64_t ImageTrainingRun::save_best_model(const std::string& path) {
    ImageClassifier& c = *impl_->classifier;
    return save_with_best_parameters(c.network(), impl_->trainer->state(), [&] { c.save(path); });
}

}  // namespace textcnn
