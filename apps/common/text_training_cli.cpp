#include "text_training_cli.h"

#include "output_fields.h"
#include "progress.h"
#include "run_log.h"
#include "shared_options.h"
#include "train_report.h"
#include "training_cli.h"

#include "textcnn/core/checked.h"
#include "textcnn/core/error.h"
#include "textcnn/core/files.h"
#include "textcnn/core/runtime.h"
#include "textcnn/nn/network.h"
#include "textcnn/nn/trainer.h"
#include "textcnn/text/vectors.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>
#include <oneapi/tbb/task_arena.h>

#include "cli_main.h"

#include "textcnn/nn/model_file.h"

#include <algorithm>
#include <initializer_list>
#include <csignal>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <set>
#include <span>
#include <exception>
#include <thread>
#include <mutex>

namespace cli_common {

void TokenizerCliOptions::add_to(CLI::App& command) {
    command.add_flag("--no-lowercase", no_lowercase, "Keep letter case (default: Unicode case folding)");
    command.add_flag("--no-normalize", no_normalize, "Skip Unicode NFKC normalization");
    command.add_option("--punctuation", punctuation, "keep | drop punctuation tokens")
        ->check(CLI::IsMember({"keep", "drop"}))
        ->capture_default_str();
    command.add_flag("--placeholders", placeholders, "Map URLs, e-mail addresses, numbers and money to <url> <email> <num> <money>");
}

textcnn::TokenizerSettings TokenizerCliOptions::settings() const {
    textcnn::TokenizerSettings s;
    s.lowercase = !no_lowercase;
    s.normalize = !no_normalize;
    s.punctuation = punctuation == "drop" ? textcnn::Punctuation::drop : textcnn::Punctuation::keep;
    s.placeholders = placeholders;
    return s;
}

void TextTrainCliOptions::add_to(CLI::App& command, CLI::Option* dev) {
    auto* split = command.add_option("--validation-split", validation_split,
                                     "Hold out this share of the training data (stratified, seeded) for model "
                                     "selection when there is no --dev")
                      ->check(cli_common::in_range<decltype(validation_split)>(0.0, 0.9));
    if (dev) split->excludes(dev);
    command.add_option("--model", model_path, "Where to write the trained model")->required();
    add_list_option<std::size_t>(
        command, "--widths", widths, "Filter widths side by side, each once (more filters of a width: --maps)",
        "N,N,...", positive_element<std::size_t>, [](const std::vector<std::size_t>& given) {
            for (std::size_t i = 0; i < given.size(); ++i)
                for (std::size_t j = 0; j < i; ++j)
                    if (given[j] == given[i])
                        return "width " + std::to_string(given[i]) +
                               " is given twice; for more feature maps of one width, raise --maps";
            return std::string();
        });
    command.add_option("--maps", maps, "Feature maps per filter width")
        ->check(cli_common::positive<decltype(maps)>())
        ->capture_default_str();
    command.add_option("--embedding-dim", embedding_dim, "Word vector size")
        ->check(cli_common::positive<decltype(embedding_dim)>())
        ->capture_default_str();
    command.add_option("--embeddings", embeddings, "Pretrained vectors (word2vec text/binary, GloVe, fastText .vec)");
    command.add_option("--embedding-mode", embedding_mode, "static | non-static | multichannel")
        ->check(CLI::IsMember({"static", "non-static", "multichannel"}))
        ->capture_default_str();
    command.add_option("--activation", activation, "Activation after the convolutions")
        ->check(CLI::IsMember({"relu", "tanh", "sigmoid", "identity"}))
        ->capture_default_str();
    command.add_option("--dropout", dropout, "Dropout rate before the output layer")
        ->check(cli_common::in_range<decltype(dropout)>(0.0, 0.95))
        ->capture_default_str();
    command.add_option("--word-dropout", word_dropout,
                       "Training only: share of known words read as the unknown word, so its vector is trained (0 = off)")
        ->check(cli_common::in_range<decltype(word_dropout)>(0.0, 0.95))
        ->capture_default_str();
    command.add_option("--word-ngrams", word_ngrams,
                       "Wide branch: a bag of the word n-grams of 1..N (hashed for N >= 2) beside the convolutions, "
                       "into the same output layer (fastText's -wordNgrams; 0 = none, Kim's model)")
        ->check(cli_common::in_range<decltype(word_ngrams)>(0, 8))
        ->capture_default_str();
    command.add_option("--buckets", ngram_buckets, "Wide branch: hash buckets for the n-grams of n >= 2 (fastText's -bucket)")
        ->check(cli_common::positive<decltype(ngram_buckets)>())
        ->capture_default_str();
    command.add_option("--ngram-dim", ngram_dim, "Wide branch: features per text (the bag's row size)")
        ->check(cli_common::positive<decltype(ngram_dim)>())
        ->capture_default_str();
    command.add_option("--ngram-reduce", ngram_reduce, "Wide branch: sum or mean of the rows of the n-grams present")
        ->check(CLI::IsMember({"sum", "mean"}))
        ->capture_default_str();
    command.add_option("--ngram-init", ngram_init,
                       "Wide branch: random rows, or nb: rows started at the naive-Bayes log-count ratio of each class "
                       "(NBSVM, Wang & Manning 2012)")
        ->check(CLI::IsMember({"random", "nb"}))
        ->capture_default_str();
    command.add_option("--ensemble", ensemble,
                       "Train K networks from seeds derived from --seed, on the same data and validation split, and "
                       "store them in one model that predicts the mean of their probabilities (K times the "
                       "training time; 1 = one network)")
        ->check(cli_common::in_range<decltype(ensemble)>(1, 64))
        ->capture_default_str();
    command.add_option("--nb-members", nb_members,
                       "Of the --ensemble K networks, the last M have the wide branch of word uni- and bigrams "
                       "(--word-ngrams N when given) started at the naive-Bayes log-count ratios (--ngram-init nb); "
                       "the others are as the options say")
        ->check(cli_common::in_range<decltype(nb_members)>(0, 64))
        ->capture_default_str();
    command.add_option("--member-validation", member_validation,
                       "With --ensemble K and --validation-split: shared = every member holds out the same documents "
                       "(the ensemble's dev accuracy is measured on them); own = each member a split of its own, "
                       "drawn from its seed, so every document trains most members (bagging) and the dev accuracy "
                       "is out of bag: each held-out document judged by the members that held it out")
        ->check(CLI::IsMember({"shared", "own"}))
        ->capture_default_str();
    command.add_option("--validation-predictions", validation_predictions,
                       "Write the validation documents' probabilities to FILE after training, as TSV: the "
                       "document's line in its file, its label, one column per label (fields escaped as predict's "
                       "tsv). The dev data's or the validation split's; an ensemble's averaged, out of bag with "
                       "--member-validation own. For picking an eval/predict --threshold on documents the model was "
                       "not trained on. Not written when training is interrupted")
        ->type_name("FILE");
    add_optimizer_option(command, optimizer);
    command.add_option("--lr", lr, "Learning rate (default: the optimizer's usual one; Adadelta 1.0)")
        ->check(cli_common::positive<decltype(lr)>());
    command.add_option("--weight-decay", weight_decay, "L2 weight decay")
        ->check(cli_common::non_negative<decltype(weight_decay)>())
        ->capture_default_str();
    command.add_option("--clip", clip, "Clip the gradient to this global L2 norm (0 = off)")
        ->check(cli_common::non_negative<decltype(clip)>())
        ->capture_default_str();
    command.add_option("--label-smoothing", label_smoothing,
                       "Train towards (1 - e) on the true label and e / classes on every label (Szegedy et al. 2016; "
                       "0 = off); the dev loss stays the plain cross-entropy")
        ->check(cli_common::in_range<decltype(label_smoothing)>(0.0, 0.9))
        ->capture_default_str();
    command.add_option("--batch", batch, "Mini-batch size")
        ->check(cli_common::positive<decltype(batch)>())
        ->capture_default_str();
    command.add_option("--epochs", epochs, "Epochs")->check(cli_common::positive<decltype(epochs)>())->capture_default_str();
    command.add_option("--patience", patience, "Stop after this many epochs without a better dev accuracy (0 = never)")
        ->capture_default_str();
    command.add_option("--validations-per-epoch", validations_per_epoch,
                       "Evaluate the dev data this many times per epoch to pick the best model (patience counts these)")
        ->check(cli_common::positive<decltype(validations_per_epoch)>())
        ->capture_default_str();
    command.add_option("--max-norm", max_norm,
                       "Max L2 norm of the output layer's weight vectors as Kim's non-inverted dropout counts it: the "
                       "stored weights are held to this x (1 - dropout) (0 = off)")
        ->check(cli_common::non_negative<decltype(max_norm)>())
        ->capture_default_str();
    add_checked_option(command, "--init", init,
                       "Weights (embeddings always uniform +-0.25): kim = Glorot convolutions and a zero output layer "
                       "(Kim's code); the others draw the output layer too",
                       textcnn::TextTrainingOptions::initialization_names(),
                       [](const std::string& name) { textcnn::TextTrainingOptions().set_initialization(name); });
    command.add_option("--min-count", min_count, "Leave out words seen fewer times (1 keeps every word)")
        ->check(cli_common::positive<decltype(min_count)>())
        ->capture_default_str();
    command.add_option("--max-vocab", max_vocab, "Keep at most this many words (0 = all)")->capture_default_str();
    command.add_option("--subword-buckets", subword_buckets,
                       "Hash unknown words into this many suffix buckets (0 = off; see README)")
        ->capture_default_str();
    command.add_option("--max-length", max_length, "Cut texts to this many tokens, with a warning (0 = never)")
        ->capture_default_str();
    command.add_option("--class-weight", class_weight, "none | balanced")
        ->check(CLI::IsMember({"none", "balanced"}))
        ->capture_default_str();
    command.add_option("--seed", seed, "Seed for initialisation, shuffling and dropout")->capture_default_str();
    add_threads_option(command, threads);
    command.add_flag("--quiet", quiet, "No progress output");
    command.add_flag("--json", json, "Print the result as one JSON object");
    command.add_option("--log-json", log_json,
                       "Write the run to this file, one JSON object a line: settings, every dev check and epoch, the "
                       "result and the evaluation on the dev data (textcnn report makes a page of it)");
    command.add_option("--report", report,
                       "Write a self-contained HTML page of the run: curves, confusion matrix, per-class metrics, ROC "
                       "and precision-recall curves on the dev data");
    add_checkpoint_options(command, resume_path, checkpoint_path);
    tokenizer.add_to(command);
}

textcnn::TextTrainingOptions TextTrainCliOptions::library_options() const {
    using namespace textcnn;
    TextTrainingOptions options;
    options.model.widths = widths;
    options.model.maps = maps;
    options.model.embedding_dim = embedding_dim;
    options.model.embedding_mode = embedding_mode;
    options.model.activation = activation;
    options.model.dropout = dropout;
    options.model.word_dropout = word_dropout;
    options.model.word_ngrams = word_ngrams;
    options.model.ngram_buckets = ngram_buckets;
    options.model.ngram_dim = ngram_dim;
    options.model.ngram_reduce = ngram_reduce;
    options.naive_bayes_ngram_init = ngram_init == "nb";
    options.tokenizer = tokenizer.settings();
    options.vocabulary.min_count = min_count;
    options.vocabulary.max_size = max_vocab;
    options.vocabulary.subword_buckets = subword_buckets;
    options.trainer.epochs = epochs;
    options.trainer.batch_size = batch;
    options.trainer.seed = seed;
    options.trainer.patience = patience;
    options.trainer.validations_per_epoch = validations_per_epoch;
    options.trainer.max_norm = max_norm;
    options.trainer.optimizer = OptimizerSettings::defaults_for(optimizer);
    if (lr > 0) options.trainer.optimizer.learning_rate = lr;
    options.trainer.optimizer.weight_decay = weight_decay;
    options.trainer.optimizer.clip_norm = clip;
    options.trainer.label_smoothing = label_smoothing;
    options.validation_split = validation_split;
    options.balanced_class_weights = class_weight == "balanced";
    options.embeddings_path = embeddings;
    options.max_length = max_length;
    options.set_initialization(init);

    return options;
}

void TextTrainCliOptions::check_outputs(const std::vector<std::pair<std::string, std::string>>& inputs,
                                        const std::vector<std::pair<std::string, std::string>>& input_directories) const {
    if (nb_members > ensemble)
        throw UsageError("--nb-members " + std::to_string(nb_members) +
                         (ensemble == 1 ? " needs --ensemble " + std::to_string(nb_members) +
                                              " or more (one network is trained by default)"
                                        : " is more than the " + std::to_string(ensemble) + " members of --ensemble " +
                                              std::to_string(ensemble)));
    if (!validation_predictions.empty() && validation_split <= 0.0 &&
        std::none_of(inputs.begin(), inputs.end(), [](const auto& i) { return i.first == "--dev" && !i.second.empty(); }))
        throw UsageError("--validation-predictions writes the probabilities of the validation documents: give "
                         "--validation-split S or --dev FILE");
    if (member_validation == "own" && (ensemble == 1 || validation_split <= 0.0))
        throw UsageError(ensemble == 1 ? std::string("--member-validation own gives each member of an ensemble a "
                                                     "validation split of its own: it needs --ensemble K (K >= 2)")
                                       : std::string("--member-validation own draws each member's validation split "
                                                     "from the training data: it needs --validation-split S (not "
                                                     "--dev, which every member shares)"));
    if (ensemble > 1) {
        // Each describes or continues one network's run.
        for (const auto& [given, name] : {std::pair{&resume_path, "--resume"}, std::pair{&checkpoint_path, "--checkpoint"}})
            if (!given->empty())
                throw UsageError(std::string(name) + " follows one network's training; it cannot be used with --ensemble " +
                                 std::to_string(ensemble) + "");
    }
    // Options that shape something this run does not build are refused, as --patience without
    // validation data is (before: accepted, and nothing changed).
    if (word_ngrams == 0 && nb_members == 0) {
        const TextTrainCliOptions defaults;
        for (const auto& [given, name] : {std::pair{ngram_buckets != defaults.ngram_buckets, "--buckets"},
                                          std::pair{ngram_dim != defaults.ngram_dim, "--ngram-dim"},
                                          std::pair{ngram_reduce != defaults.ngram_reduce, "--ngram-reduce"}})
            if (given)
                throw UsageError(std::string(name) + " shapes the wide n-gram branch, which this run does not build: "
                                                     "add --word-ngrams N (or --nb-members M)");
    }
    // Options that act in this run, but not as a user would think: said.
    if (subword_buckets > 0 && min_count <= 1 && max_vocab == 0)
        cli_common::print_stderr(
                   "warning: --subword-buckets {}: with --min-count 1 (and no --max-vocab) every training word is in the "
                   "vocabulary, so the subword vectors never train, and an unseen word at prediction gets a random "
                   "vector instead of the unknown word's (raise --min-count to 2 or more to train them)\n",
                   subword_buckets);
    if (patience > 0 && patience >= epochs)
        cli_common::print_stderr(
                   "warning: --patience {} with --epochs {}: the run ends before {} epochs without a better dev accuracy "
                   "can follow the best one, so early stopping cannot act\n",
                   patience, epochs, patience);
    if (embedding_mode != "non-static" && embeddings.empty())
        throw UsageError("--embedding-mode " + embedding_mode + " keeps pretrained vectors (--embeddings FILE); without "
                         "them it would freeze the random start");
    for (const auto& [option, path] : std::initializer_list<std::pair<const char*, const std::string&>>{
             {"--model", model_path}, {"--checkpoint", checkpoint_path}, {"--report", report},
             {"--log-json", log_json}, {"--validation-predictions", validation_predictions}})
        refuse_standard_output(path, option);
    const auto checkpoint = checkpoint_output(model_path, checkpoint_path);
    check_writable(model_path, "--model");
    check_writable(checkpoint.second, checkpoint.first);
    check_no_waiting_checkpoint(checkpoint, resume_path);
    if (!report.empty()) check_writable(report, "--report");
    if (!validation_predictions.empty()) check_writable(validation_predictions, "--validation-predictions");
    // The checkpoint may be the file --resume reads (it is rewritten on the next Ctrl-C);
    // nothing else may overwrite an input.
    std::vector<std::pair<std::string, std::string>> read = inputs;
    read.emplace_back("--embeddings", embeddings);
    const std::pair<std::string, std::string> predictions{"--validation-predictions", validation_predictions};
    check_distinct_files({{"--model", model_path}, checkpoint, {"--log-json", log_json}, {"--report", report}, predictions},
                         read);
    check_distinct_files({{"--model", model_path}, {"--log-json", log_json}, {"--report", report}, predictions},
                         {{"--resume", resume_path}});
    check_outside_directories(
        {{"--model", model_path}, checkpoint, {"--log-json", log_json}, {"--report", report}, predictions},
        input_directories);
}

namespace {

// The checkpoint's record of its run (metadata; not in the final model): argv after the
// command name as a JSON array, and every option's value as a JSON object.
constexpr const char* arguments_key = "resume_arguments";
constexpr const char* settings_key = "resume_settings";

// "-" (stdin) and negative numbers are values, not options.
bool is_option(const std::string& token) {
    return token.size() > 1 && token[0] == '-' && !std::isdigit(static_cast<unsigned char>(token[1])) && token[1] != '.';
}
std::string option_name(const std::string& token) { return token.substr(0, token.find('=')); }

/// The arguments as groups: an option and the values that follow it.
std::vector<std::vector<std::string>> option_groups(std::span<const std::string> arguments) {
    std::vector<std::vector<std::string>> groups;
    for (const auto& a : arguments) {
        if (is_option(a) || groups.empty()) groups.push_back({a});
        else groups.back().push_back(a);
    }
    return groups;
}

std::string option_value(const std::vector<std::string>& group) {
    const auto eq = group[0].find('=');
    if (eq != std::string::npos) return group[0].substr(eq + 1);
    return group.size() > 1 ? group[1] : std::string();
}

// Options a resumed run may change: where things are written, what is printed, how long.
bool free_to_change(const std::string& option) {
    for (const char* free : {"--resume", "--checkpoint", "--model", "--quiet", "--json", "--log-json", "--report",
                             "--threads", "--epochs"})
        if (option == free) return true;
    return false;
}

// "; options that differ from the run that wrote CKPT: --seed 2 (there: 1)", or "".
std::string differing_options(const std::string& checkpoint, const std::vector<textcnn::ReportField>& settings) {
    const auto metadata = textcnn::metadata_of(textcnn::read_model_file(checkpoint));
    const auto it = metadata.find(settings_key);
    if (it == metadata.end()) return "";
    if (textcnn::json_nesting_depth(it->second) > textcnn::max_json_nesting) return "";
    const auto stored = nlohmann::json::parse(it->second, nullptr, false);
    if (!stored.is_object()) return "";
    std::string out;
    const auto add = [&](const std::string& name, const std::string& value, const std::string& there) {
        out += fmt::format("{}{} {} (there: {})", out.empty() ? "" : ", ", name, value.empty() ? "unset" : value,
                           there.empty() ? "unset" : there);
    };
    for (const auto& [name, value] : settings) {
        if (free_to_change(name)) continue;
        const std::string there = stored.contains(name) && stored[name].is_string() ? stored[name].get<std::string>() : "";
        if (there != value) add(name, value, there);
    }
    // Options that run gave and this one leaves out (--dev, say).
    for (const auto& [name, there] : stored.items()) {
        if (free_to_change(name) || !there.is_string() || there.get<std::string>().empty()) continue;
        if (std::none_of(settings.begin(), settings.end(), [&](const textcnn::ReportField& field) { return field.name == name; }))
            add(name, "", there.get<std::string>());
    }
    return out.empty() ? "" : "; options that differ from the run that wrote " + checkpoint + ": " + out;
}

void write_checkpoint_with_arguments(textcnn::TextTrainingRun& run, const std::string& path,
                                     const std::vector<textcnn::ReportField>& settings) {
    auto& metadata = run.classifier().metadata;
    const auto& arguments = program_arguments();
    metadata[arguments_key] =
        nlohmann::json(arguments.size() > 2 ? std::vector<std::string>(arguments.begin() + 2, arguments.end())
                                            : std::vector<std::string>{})
            .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    nlohmann::json values = nlohmann::json::object();
    for (const auto& [name, value] : settings) values[name] = value;
    metadata[settings_key] = json_text(values);
    run.write_checkpoint(path);
    metadata.erase(arguments_key);
    metadata.erase(settings_key);
}

// What the model file says of its training (textcnn summary shows it).
void set_run_metadata(textcnn::TextClassifier& model, const TextTrainCliOptions& o, const TrainingSources& sources,
                      const textcnn::TrainResult& result, std::size_t train_documents) {
    model.metadata["training_data"] = sources.train;
    model.metadata["training_documents"] = std::to_string(train_documents);
    if (!sources.dev.empty()) model.metadata["dev_data"] = sources.dev;
    model.metadata["trained_at"] = now_utc();
    model.metadata["seed"] = std::to_string(o.seed);
    model.metadata["command"] = sources.command_line;
    for (const auto& [key, value] : sources.extra_metadata) model.metadata[key] = value;
    // ICU's dictionaries segment Chinese, Japanese and Thai; another ICU version may cut some
    // words differently, so the model says which one it was trained with.
    model.metadata["built_with"] = textcnn::build_info();
    model.metadata["epochs_completed"] = std::to_string(result.epochs_completed);
    if (result.best_epoch) {
        model.metadata["best_epoch"] = std::to_string(result.best_epoch);
        model.metadata["dev_accuracy"] = fmt::format("{:.4f}", result.best_accuracy);
    }
}

}  // namespace

void warn_if_checkpoint(const textcnn::TextClassifier& model, const std::string& path) {
    if (!model.metadata.count(arguments_key)) return;
    cli_common::print_stderr(
               "warning: {} is a training checkpoint, not a saved model: its weights are those of the moment its run "
               "was interrupted (the run's model, the best on dev, is the file given to train --model); train "
               "--resume {} continues the run\n",
               tsv_field(path), tsv_field(path));
}

std::vector<std::string> with_resumed_arguments(const std::vector<std::string>& arguments,
                                                const std::vector<std::string>& data_options) {
    if (arguments.size() < 3 || arguments[1] != "train") return arguments;
    const auto given = option_groups(std::span(arguments).subspan(2));
    std::string checkpoint;
    std::set<std::string> given_names;
    for (const auto& group : given) {
        const std::string name = option_name(group[0]);
        if (std::find(data_options.begin(), data_options.end(), name) != data_options.end()) return arguments;
        if (name == "--resume") checkpoint = option_value(group);
        given_names.insert(name);
    }
    if (checkpoint.empty()) return arguments;
    const textcnn::ModelFile file = textcnn::read_model_file(checkpoint);
    const auto metadata = textcnn::metadata_of(file);
    const auto it = metadata.find(arguments_key);
    if (it == metadata.end() && !file.find("TRNR"))
        throw UsageError(checkpoint + " is a model, not a checkpoint (no trainer state): an interrupted run's checkpoint "
                                      "is MODEL.ckpt beside its model");
    if (it == metadata.end())
        throw UsageError(checkpoint + " holds no record of the options of the run that wrote it (a checkpoint of an "
                                      "older version): give them again beside --resume");
    textcnn::check_json_nesting(it->second, checkpoint + ": the stored options ('" + std::string(arguments_key) + "')");
    const auto stored = nlohmann::json::parse(it->second, nullptr, false);
    if (!stored.is_array() || !std::all_of(stored.begin(), stored.end(), [](const auto& a) { return a.is_string(); }))
        throw textcnn::InputError(checkpoint + ": the stored options ('" + std::string(arguments_key) +
                                  "') are not a list of arguments");
    const auto stored_arguments = stored.get<std::vector<std::string>>();
    std::vector<std::string> out(arguments.begin(), arguments.begin() + 2);
    std::string taken;
    for (const auto& group : option_groups(stored_arguments)) {
        if (given_names.count(option_name(group[0]))) continue;
        out.insert(out.end(), group.begin(), group.end());
        for (const auto& word : group) taken += " " + word;
    }
    for (const auto& group : given) out.insert(out.end(), group.begin(), group.end());
    // A checkpoint is a file like any other: what it makes this run read and write (the model,
    // the logs) is said before anything happens, not taken silently.
    if (!taken.empty()) cli_common::print_stderr("resuming with the options stored in {}:{}\n", checkpoint, taken);
    return out;
}

nlohmann::json metadata_json(const std::map<std::string, std::string>& metadata) {
    nlohmann::json j = nlohmann::json::object();
    for (const auto& [key, value] : metadata) {
        const bool number = key == "training_documents" || key == "seed" || key == "epochs_completed" ||
                            key == "best_epoch" || key == "dev_accuracy";
        const auto parsed = number ? nlohmann::json::parse(value, nullptr, false) : nlohmann::json();
        if (parsed.is_number()) j[key] = parsed;
        else if (key == "interrupted") j[key] = value == "yes";
        else j[key] = value;
    }
    return j;
}

namespace {

// A TextTrainingRun made by `make`; pretrained vectors of another dimension than the embedding
// are an option to change, and the error names it.
template <class Make>
auto with_embedding_dim_hint(Make make) {
    try {
        return make();
    } catch (const textcnn::VectorsDimensionError& e) {
        throw UsageError(fmt::format("{} (--embedding-dim {} gives the embedding theirs)", e.what(), e.file_dim));
    }
}

// Progress on stderr (unless --quiet), the record of the run when given, Ctrl-C as the stop flag.
textcnn::TextTrainingCallbacks printing_callbacks(const TextTrainCliOptions& o, std::optional<ProgressPrinter>& printer,
                                                  RunRecorder* recorder) {
    using namespace textcnn;
    TextTrainingCallbacks callbacks;
    callbacks.info = [&o](const std::string& m) {
        if (!o.quiet) cli_common::print_stderr("{}\n", m);
    };
    callbacks.warning = [](const std::string& m) { cli_common::print_stderr("warning: {}\n", m); };
    if (printer) callbacks.progress = [&printer](const TrainingProgress& p) { printer->progress(p); };
    callbacks.epoch_end = [&printer, recorder](const EpochSummary& e) {
        if (printer) printer->epoch_end(e);
        if (recorder) recorder->epoch(e);
    };
    callbacks.validation = [&printer, recorder](const ValidationCheck& c) {
        if (printer) printer->dev_check(c);
        if (recorder) recorder->dev_check(c);
    };
    callbacks.stop = SigintScope::flag();
    return callbacks;
}

// Where an ensemble's runs report to: the stderr progress and the run record, shared by members
// that may train side by side (then each line names its member and a mutex keeps them whole).
class EnsembleReporting {
public:
    EnsembleReporting(const TextTrainCliOptions& o, RunRecorder& recorder, bool side_by_side)
        : o_(o), recorder_(recorder), side_by_side_(side_by_side) {
        if (!o.quiet) printer_.emplace(stderr);
    }
    /// Members train one after another after all: the live progress line again.
    void one_after_another() { side_by_side_ = false; }
    textcnn::TextTrainingCallbacks callbacks(std::size_t member) {
        using namespace textcnn;
        TextTrainingCallbacks c;
        // Every member reads the same documents: the first one's messages and warnings say it all.
        if (member == 0) {
            c.info = [this](const std::string& m) {
                if (!o_.quiet) cli_common::print_stderr("{}\n", m);
            };
            c.warning = [](const std::string& m) { cli_common::print_stderr("warning: {}\n", m); };
        } else {
            c.info = c.warning = [](const std::string&) {};
        }
        if (printer_ && !side_by_side_) c.progress = [this](const TrainingProgress& p) { printer_->progress(p); };
        c.epoch_end = [this, member](const EpochSummary& e) {
            std::lock_guard lock(mutex_);
            if (printer_ && side_by_side_) {
                cli_common::print_stderr("member {}/{}  epoch {}/{}  loss {:.4f}  acc {}{}  {:.0f} documents/s\n", member + 1,
                           o_.ensemble, e.epoch, e.epochs, e.train_loss, percent(e.train_accuracy),
                           e.has_validation ? "  dev acc " + percent(e.validation_accuracy) + (e.improved ? " (best)" : "")
                                            : std::string(),
                           e.items_per_second);
            } else if (printer_) {
                printer_->epoch_end(e);
            }
            recorder_.epoch(e, member + 1);
        };
        c.validation = [this, member](const ValidationCheck& check) {
            std::lock_guard lock(mutex_);
            if (printer_ && !side_by_side_) printer_->dev_check(check);
            recorder_.dev_check(check, member + 1);
        };
        c.stop = SigintScope::flag();
        return c;
    }

private:
    const TextTrainCliOptions& o_;
    RunRecorder& recorder_;
    bool side_by_side_;
    std::optional<ProgressPrinter> printer_;
    std::mutex mutex_;
};

// The lines (in their files) of the documents, for --validation-predictions; none without it.
std::vector<std::size_t> lines_of(const std::vector<textcnn::Document>& documents, const TextTrainCliOptions& o) {
    std::vector<std::size_t> lines;
    if (o.validation_predictions.empty()) return lines;
    for (const auto& d : documents) lines.push_back(d.line);
    return lines;
}

// --validation-predictions: per validation document its line in its file, its label and the
// probabilities, as TSV with a header (the columns of `predict --prob` after the first two),
// written atomically. `lines[i]` is sample i's.
void write_validation_predictions(const std::string& path, const std::vector<std::size_t>& lines,
                                  const textcnn::Evaluation& e, const std::vector<std::string>& labels,
                                  const std::string& model_path) {
    std::string out = "line\tlabel";
    for (const auto& label : labels) out += "\t" + tsv_field(label);
    out += '\n';
    for (std::size_t i = 0; i < e.labels.size(); ++i) {
        fmt::format_to(std::back_inserter(out), "{}\t{}", lines.at(i), tsv_field(labels.at(e.labels[i])));
        for (std::size_t c = 0; c < e.classes; ++c)
            fmt::format_to(std::back_inserter(out), "\t{:.7g}", e.probabilities[i * e.classes + c]);
        out += '\n';
    }
    try {
        textcnn::write_file_atomically(path, out);
    } catch (const textcnn::IoError& e) {  // after training: say what was kept
        throw textcnn::IoError(fmt::format("{} (the model was saved to {})", e.what(), model_path));
    }
}

// The lines of a run's validation samples: the dev documents', or those of the training
// documents at `positions` (a validation split).
std::vector<std::size_t> sample_lines(const std::vector<std::size_t>& dev_lines, const std::vector<std::size_t>& train_lines,
                                      const std::vector<std::size_t>& positions) {
    if (positions.empty()) return dev_lines;
    std::vector<std::size_t> lines;
    for (std::size_t p : positions) lines.push_back(train_lines.at(p));
    return lines;
}

// Trains the runs side by side, one thread each (oneTBB arenas of `threads_each`), and returns
// their reports; the first exception of any is rethrown once all have ended.
std::vector<textcnn::TextTrainingReport> run_side_by_side(std::vector<std::unique_ptr<textcnn::TextTrainingRun>>& runs,
                                                          std::size_t threads_each) {
    std::vector<textcnn::TextTrainingReport> reports(runs.size());
    std::vector<std::exception_ptr> errors(runs.size());
    const auto train = [&](std::size_t i) {
        try {
            tbb::task_arena arena(static_cast<int>(threads_each));
            arena.execute([&] { reports[i] = runs[i]->run(); });
        } catch (...) {
            errors[i] = std::current_exception();
        }
    };
    std::vector<std::thread> others;
    for (std::size_t i = 1; i < runs.size(); ++i) others.emplace_back(train, i);
    train(0);
    for (auto& t : others) t.join();
    for (const auto& e : errors)
        if (e) std::rethrow_exception(e);
    return reports;
}

// Whether `extra` more runs like `run` fit beside it: each needs its weights, gradients and
// optimizer state (least_training_bytes) twice over for activations and the best weights kept,
// plus 256 MiB for the BLAS buffers of its thread. OpenBLAS spins instead of failing when those
// cannot be had (under `ulimit -v`), so members train one after another when memory is short.
bool room_beside(textcnn::TextTrainingRun& run, std::size_t extra, const textcnn::OptimizerSettings& optimizer) {
    const auto headroom = textcnn::memory_headroom();
    if (!headroom) return true;
    const std::uint64_t one =
        3 * textcnn::least_training_bytes(run.classifier().network().parameter_count(), optimizer) + (256u << 20);
    return headroom->bytes / one >= extra;
}

// What an ensemble's model file says of its training: the run's facts, the members' seeds and,
// with validation data, the dev accuracy of the averaged probabilities.
void set_ensemble_metadata(textcnn::TextClassifier& model, const TextTrainCliOptions& o, const TrainingSources& sources,
                           const nlohmann::ordered_json& members, const std::optional<textcnn::Evaluation>& validation,
                           std::size_t train_documents) {
    set_run_metadata(model, o, sources, textcnn::TrainResult{}, train_documents);
    model.metadata.erase("epochs_completed");
    std::vector<std::string> seeds;
    for (const auto& m : members) seeds.push_back(std::to_string(m["seed"].get<std::uint64_t>()));
    model.metadata["ensemble_seeds"] = fmt::format("{}", fmt::join(seeds, ", "));
    if (o.nb_members > 0) model.metadata["ensemble_nb_members"] = std::to_string(o.nb_members);
    if (o.member_validation == "own") model.metadata["ensemble_member_validation"] = "own (out-of-bag dev accuracy)";
    if (validation) model.metadata["dev_accuracy"] = fmt::format("{:.4f}", validation->accuracy);
}

// --ensemble K: K runs on the same documents and validation split (seeds from
// ensemble_member_seed) joined into one model (TextClassifier::ensemble). With T >= 2 threads,
// min(T, K) members train side by side, each on T / min(T, K) threads (a run's results do not
// depend on its thread count, so the model is the same either way), memory permitting
// (room_beside); otherwise one after another on all T. Ctrl-C keeps the members finished so far
// (or the first's best network so far).
class EnsembleTraining {
public:
    EnsembleTraining(const TextTrainCliOptions& o, textcnn::TextTrainingOptions options,
                     std::vector<textcnn::Document> train, std::optional<std::vector<textcnn::Document>> dev,
                     const TrainingSources& sources)
        : o_(o), options_(std::move(options)), train_(std::move(train)), dev_(std::move(dev)), sources_(sources),
          threads_(o.threads), at_once_(std::min(threads_.threads(), o.ensemble)),
          recorder_(o.log_json, o.report, sources.program, sources.settings),
          data_summary_(text_data_summary(sources.train, train_, sources.dev, dev_, o.validation_split)),
          reporting_(o, recorder_, at_once_ > 1), train_lines_(lines_of(train_, o)),
          dev_lines_(dev_ ? lines_of(*dev_, o) : std::vector<std::size_t>{}) {
        if (o.member_validation == "own")
            for (auto& field : data_summary_)
                if (field.name == "validation") field.value += ", a split of its own for each member";
    }

    void run() {
        using namespace textcnn;
        const auto started = std::chrono::steady_clock::now();
        check_ensemble_validation_splits(train_, options_, o_.ensemble, o_.nb_members, member_validation());
        SigintScope sigint;
        for (std::size_t first = 0; first < o_.ensemble; first += at_once_) train_wave(first, sigint);
        sigint.restore();
        const std::optional<Evaluation> validation = mean_validation();
        TextClassifier model = TextClassifier::ensemble(std::move(members_));
        set_ensemble_metadata(model, o_, sources_, member_results_, validation, train_documents_);
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        model.save(o_.model_path);
        if (validation && !o_.validation_predictions.empty())
            write_validation_predictions(o_.validation_predictions, validation_lines_, *validation, model.labels(),
                                         o_.model_path);
        finish(model, validation, seconds);
    }

private:
    // What the run record says of the model, given member 1's architecture table.
    std::string ensemble_description(const std::string& table) const {
        if (o_.nb_members == 0 || o_.nb_members == o_.ensemble)
            return fmt::format("Ensemble of {} networks of this architecture, their probabilities averaged:\n{}",
                               o_.ensemble, table);
        return fmt::format("Ensemble of {} networks, their probabilities averaged; members 1-{} of this "
                           "architecture:\n{}members {}-{}: the same with a wide branch of word n-grams started at "
                           "the naive-Bayes log-count ratios\n",
                           o_.ensemble, o_.ensemble - o_.nb_members, table, o_.ensemble - o_.nb_members + 1, o_.ensemble);
    }

    textcnn::TextTrainingOptions member_options(std::size_t k) const {
        return textcnn::ensemble_member_options(options_, k, o_.ensemble, o_.nb_members, member_validation());
    }
    textcnn::MemberValidation member_validation() const {
        return o_.member_validation == "own" ? textcnn::MemberValidation::own : textcnn::MemberValidation::shared;
    }
    // Whether member k starts its wide branch at the naive-Bayes ratios (by --nb-members or by
    // --ngram-init nb for all).
    bool naive_bayes_member(std::size_t k) const { return member_options(k).naive_bayes_ngram_init; }

    void start_member(std::size_t k, std::vector<std::unique_ptr<textcnn::TextTrainingRun>>& runs) {
        const textcnn::TextTrainingOptions options = member_options(k);
        if (!o_.quiet)
            cli_common::print_stderr("ensemble member {}/{} (seed {}{})\n", k + 1, o_.ensemble, options.trainer.seed,
                       options.naive_bayes_ngram_init ? ", naive-Bayes wide branch" : "");
        const bool last = k + 1 == o_.ensemble;
        runs.push_back(with_embedding_dim_hint([&] {
            return std::make_unique<textcnn::TextTrainingRun>(last ? std::move(train_) : train_,
                                                              last ? std::move(dev_) : dev_, sources_.dev, options,
                                                              reporting_.callbacks(k));
        }));
        // The architecture of the first member, and of the first naive-Bayes member after others.
        if (k == 0 || k + o_.nb_members == o_.ensemble) {
            const std::string table = runs.back()->classifier().network().summary_table();
            if (!o_.quiet) cli_common::print_stderr("{}", table);
            if (k == 0) recorder_.start(std::move(data_summary_), ensemble_description(table), "documents");
        }
        recorder_.member(k + 1, o_.ensemble, options.trainer.seed);
    }

    // Members first .. first + at_once_ - 1 (side by side when more than one).
    void train_wave(std::size_t first, SigintScope& sigint) {
        using namespace textcnn;
        std::vector<std::unique_ptr<TextTrainingRun>> runs;
        start_member(first, runs);
        if (first == 0 && at_once_ > 1 && !room_beside(*runs[0], at_once_ - 1, options_.trainer.optimizer)) {
            at_once_ = 1;
            reporting_.one_after_another();
            if (!o_.quiet) cli_common::print_stderr("memory is short for members side by side: one after another\n");
        }
        const std::size_t count = std::min(at_once_, o_.ensemble - first);
        for (std::size_t i = 1; i < count; ++i) start_member(first + i, runs);
        std::vector<TextTrainingReport> reports;
        if (count > 1) {
            set_blas_threads(1);  // BLAS inside each member's single thread
            reports = run_side_by_side(runs, threads_.threads() / count);
            set_blas_threads(static_cast<int>(threads_.threads()));
        } else {
            reports.push_back(runs[0]->run());
        }
        for (std::size_t i = 0; i < count; ++i) keep(first + i, reports[i], *runs[i]);
        if (std::any_of(reports.begin(), reports.end(),
                        [](const auto& r) { return r.result.reason == StopReason::interrupted; }))
            stop(first, *runs[0], reports[0], sigint);
    }

    // A member's report, and its network when it finished.
    void keep(std::size_t k, const textcnn::TextTrainingReport& report, textcnn::TextTrainingRun& run) {
        if (k == 0)
            for (const auto& w : report.warnings) cli_common::print_stderr("warning: {}\n", w);
        train_documents_ = report.train_documents;
        validation_documents_ = report.validation_documents;
        if (report.result.reason == textcnn::StopReason::interrupted) return;
        nlohmann::ordered_json member{{"seed", textcnn::ensemble_member_seed(o_.seed, k)},
                                      {"epochs_completed", report.result.epochs_completed},
                                      {"best_epoch", report.result.best_epoch}};
        if (o_.nb_members > 0 || options_.naive_bayes_ngram_init) member["naive_bayes_branch"] = naive_bayes_member(k);
        if (report.result.best_epoch) member["dev_accuracy"] = report.result.best_accuracy;
        member_results_.push_back(member);
        if (validation_documents_) {
            evaluations_.push_back(run.evaluate_validation());
            validation_positions_.push_back(run.validation_positions());
        }
        members_.push_back(run.take_classifier());
    }

    // The averaged probabilities on the validation documents: the shared ones, or out of bag
    // (--member-validation own), when validation_documents_ says how many were judged.
    // validation_lines_ gets their lines in their files (with --validation-predictions).
    std::optional<textcnn::Evaluation> mean_validation() {
        if (evaluations_.empty()) return std::nullopt;
        if (member_validation() == textcnn::MemberValidation::shared) {
            if (!o_.validation_predictions.empty())
                validation_lines_ = sample_lines(dev_lines_, train_lines_, validation_positions_.front());
            return textcnn::mean_evaluation(evaluations_);
        }
        textcnn::OutOfBagEvaluation oob = textcnn::out_of_bag_evaluation(evaluations_, validation_positions_);
        validation_documents_ = oob.positions.size();
        if (!o_.validation_predictions.empty()) validation_lines_ = sample_lines({}, train_lines_, oob.positions);
        return std::move(oob.evaluation);
    }

    // Ctrl-C or SIGTERM: the finished members (or the wave's first run's best network so far).
    [[noreturn]] void stop(std::size_t first, textcnn::TextTrainingRun& first_run,
                           const textcnn::TextTrainingReport& first_report, SigintScope& sigint) {
        using namespace textcnn;
        std::string kept = fmt::format("the {} finished member{}", members_.size(), members_.size() == 1 ? "" : "s");
        std::error_code ec;
        if (members_.empty() && !trained_anything(first_report.result) && std::filesystem::exists(o_.model_path, ec)) {
            // As stop_with_checkpoint: an untrained network does not replace an earlier file.
            kept = "nothing (member " + std::to_string(first + 1) + " was stopped before its first epoch ended; " +
                   o_.model_path + " was left as it was)";
        } else if (members_.empty()) {
            TextClassifier& model = first_run.classifier();
            set_run_metadata(model, o_, sources_, first_report.result, train_documents_);
            model.metadata["interrupted"] = "yes";
            model.metadata["ensemble_planned"] = std::to_string(o_.ensemble);
            first_run.save_best_model(o_.model_path);  // the best parameters validated so far
            kept = "member " + std::to_string(first + 1) + "'s network so far written to " + o_.model_path;
        } else {
            const std::optional<Evaluation> validation = mean_validation();
            TextClassifier model = TextClassifier::ensemble(std::move(members_));
            set_ensemble_metadata(model, o_, sources_, member_results_, validation, train_documents_);
            model.metadata["interrupted"] = "yes";
            model.metadata["ensemble_planned"] = std::to_string(o_.ensemble);
            model.save(o_.model_path);
            kept += " written to " + o_.model_path;
        }
        sigint.keep();
        const int signal = SigintScope::received() == SIGTERM ? SIGTERM : SIGINT;
        cli_common::print_stderr("\n{}: {} (of {} planned; an ensemble is not resumed)\n",
                   signal == SIGTERM ? "terminated (SIGTERM)" : "interrupted", kept, o_.ensemble);
        throw Interrupted(signal);
    }

    void finish(const textcnn::TextClassifier& model, const std::optional<textcnn::Evaluation>& validation,
                double seconds) {
        nlohmann::ordered_json j{{"model", o_.model_path}, {"ensemble", o_.ensemble}, {"seconds", seconds}};
        if (validation) j["dev_accuracy"] = validation->accuracy;
        j["members"] = member_results_;
        j["members_side_by_side"] = at_once_;
        j["train_documents"] = train_documents_;
        j["dev_documents"] = validation_documents_;
        if (validation_documents_) j["member_validation"] = o_.member_validation;
        const std::string validation_name = member_validation() == textcnn::MemberValidation::own
                                                ? "out of bag (each document judged by the members that held it out)"
                                                : sources_.dev;
        recorder_.finish(j, validation ? validation_evaluation(*validation, model.labels(), validation_name) : std::nullopt,
                         {fmt::format("an ensemble of {} networks: the curves are those of its first member", o_.ensemble)});
        if (o_.json) {
            fmt::print("{}\n", json_text(j));
            return;
        }
        std::string line = fmt::format("saved {} (ensemble of {} networks", tsv_field(o_.model_path), o_.ensemble);
        if (validation) {
            std::vector<std::string> each;
            for (const auto& m : member_results_) each.push_back(percent(m.value("dev_accuracy", 0.0)));
            const std::string out_of_bag =
                member_validation() == textcnn::MemberValidation::own
                    ? fmt::format(" out of bag ({} documents held out by at least one member)",
                                  textcnn::with_thousands_separators(validation_documents_))
                    : std::string();
            line += fmt::format(", dev accuracy {}{}; members {} on their own", percent(validation->accuracy),
                                out_of_bag, fmt::join(each, ", "));
        }
        fmt::print("{}), {:.1f} s\n", line, seconds);
    }

    const TextTrainCliOptions& o_;
    textcnn::TextTrainingOptions options_;
    std::vector<textcnn::Document> train_;
    std::optional<std::vector<textcnn::Document>> dev_;
    const TrainingSources& sources_;
    textcnn::ThreadLimit threads_;
    std::size_t at_once_;
    RunRecorder recorder_;
    std::vector<textcnn::ReportField> data_summary_;
    EnsembleReporting reporting_;
    std::vector<textcnn::TextClassifier> members_;
    std::vector<textcnn::Evaluation> evaluations_;
    std::vector<std::vector<std::size_t>> validation_positions_;  ///< of each member's split
    std::vector<std::size_t> train_lines_, dev_lines_, validation_lines_;  ///< with --validation-predictions
    nlohmann::ordered_json member_results_ = nlohmann::ordered_json::array();
    std::size_t train_documents_ = 0, validation_documents_ = 0;
};

}  // namespace

void run_text_training(const TextTrainCliOptions& o, textcnn::TextTrainingOptions options,
                       std::vector<textcnn::Document> train, std::optional<std::vector<textcnn::Document>> dev,
                       const TrainingSources& sources) {
    using namespace textcnn;
    if (o.ensemble > 1) {
        EnsembleTraining(o, std::move(options), std::move(train), std::move(dev), sources).run();
        return;
    }
    options = ensemble_member_options(options, 0, 1, o.nb_members);  // the naive-Bayes branch with --nb-members 1
    ThreadLimit threads(o.threads);
    std::optional<ProgressPrinter> printer;
    if (!o.quiet) printer.emplace(stderr);
    RunRecorder recorder(o.log_json, o.report, sources.program, sources.settings);
    auto data_summary = text_data_summary(sources.train, train, sources.dev, dev, o.validation_split);
    TextTrainingCallbacks callbacks = printing_callbacks(o, printer, &recorder);

    const std::vector<std::size_t> train_lines = lines_of(train, o),
                                   dev_lines = dev ? lines_of(*dev, o) : std::vector<std::size_t>{};
    const auto started = std::chrono::steady_clock::now();
    TextTrainingRun run = with_embedding_dim_hint(
        [&] { return TextTrainingRun(std::move(train), std::move(dev), sources.dev, options, callbacks); });
    if (!o.resume_path.empty()) {
        try {
            run.resume_from(o.resume_path);
        } catch (const textcnn::ConfigError& e) {
            throw textcnn::ConfigError(e.what() + differing_options(o.resume_path, sources.settings));
        }
    }
    if (!o.quiet) cli_common::print_stderr("{}", run.classifier().network().summary_table());
    recorder.start(std::move(data_summary), run.classifier().network().summary_table(), "documents");

    // SIGINT stays caught until the checkpoint is renamed into place: a second Ctrl-C while it
    // is written must not kill the program halfway (no checkpoint, a temporary left behind).
    SigintScope sigint;
    TextTrainingReport report = run.run();
    for (const auto& w : report.warnings) cli_common::print_stderr("warning: {}\n", w);
    if (!o.resume_path.empty() && report.result.reason == StopReason::completed && report.result.history.empty())
        cli_common::print_stderr(
                   "warning: {} had completed {} epoch{} and --epochs is {}: nothing was trained (a larger --epochs "
                   "goes on)\n",
                   o.resume_path, report.result.epochs_completed, report.result.epochs_completed == 1 ? "" : "s", o.epochs);

    set_run_metadata(run.classifier(), o, sources, report.result, report.train_documents);
    const std::string checkpoint = checkpoint_path(o.model_path, o.checkpoint_path);
    if (report.result.reason == StopReason::interrupted) {
        auto save_best = [&](const std::string& p) {
            run.classifier().metadata["interrupted"] = "yes";
            return run.save_best_model(p);
        };
        stop_with_checkpoint(o.model_path, checkpoint, report.result,
                             [&](const std::string& p) { write_checkpoint_with_arguments(run, p, sources.settings); },
                             save_best, sigint);
    }
    sigint.restore();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    run.classifier().save(o.model_path);
    remove_finished_checkpoint(checkpoint, o.quiet);
    if (!o.validation_predictions.empty())
        write_validation_predictions(o.validation_predictions,
                                     sample_lines(dev_lines, train_lines, run.validation_positions()),
                                     run.evaluate_validation(), run.classifier().labels(), o.model_path);

    const TrainingOutcome outcome{o.model_path, report.result.epochs_completed, report.result.best_epoch,
                                  report.result.best_accuracy, seconds,
                                  report.result.reason == StopReason::early_stopped};
    nlohmann::ordered_json result = outcome_json(outcome);
    result["train_documents"] = report.train_documents;
    result["dev_documents"] = report.validation_documents;
    recorder.finish(result, recorder.wanted() ? validation_evaluation(run, sources.dev) : std::nullopt, report.warnings);
    fmt::print("{}\n", o.json ? json_text(result) : outcome_line(outcome));
}

}  // namespace cli_common
