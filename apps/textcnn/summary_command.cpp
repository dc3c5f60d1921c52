// textcnn summary: what a model file holds — architecture, parameters, vocabulary, labels,
// tokenizer settings, training data and date.
#include "commands.h"
#include "output_fields.h"
#include "network_json.h"

#include "textcnn/nn/model_file.h"
#include "textcnn/nn/network.h"
#include "textcnn/text/text_classifier.h"
#include "textcnn/text/text_training.h"
#include "textcnn/text/vocabulary.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <charconv>
#include <sstream>
#include <string>
#include <vector>


namespace textcnn_cli {
namespace {

struct SummaryOptions {
    std::string model_path;
    bool json = false;
};

// The tokenizer's settings with true and false as JSON booleans.
nlohmann::json tokenizer_json(const textcnn::TokenizerSettings& settings) {
    nlohmann::json j = nlohmann::json::object();
    for (const auto& [key, value] : settings.to_map())
        j[key] = value == "true" || value == "false" ? nlohmann::json(value == "true") : nlohmann::json(value);
    return j;
}

// The members' trainer seeds from the metadata ("ensemble_seeds": "1, 3203108257, ..."); none
// when it is missing or does not list one per member.
std::vector<std::string> member_seeds(const textcnn::TextClassifier& model) {
    const auto found = model.metadata.find("ensemble_seeds");
    if (found == model.metadata.end()) return {};
    std::vector<std::string> seeds;
    std::istringstream list(found->second);
    for (std::string seed; std::getline(list >> std::ws, seed, ',');) seeds.push_back(seed);
    if (seeds.size() != model.ensemble_size()) return {};
    return seeds;
}

// How many of the last members were started at the naive-Bayes ratios (--nb-members, metadata
// "ensemble_nb_members"); none when it is missing or not a count of 1 to the ensemble's size.
std::size_t naive_bayes_members(const textcnn::TextClassifier& model) {
    const auto found = model.metadata.find("ensemble_nb_members");
    if (found == model.metadata.end()) return 0;
    const std::string& text = found->second;
    std::size_t count = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), count, 10);
    if (error != std::errc() || end != text.data() + text.size() || count > model.ensemble_size()) return 0;
    return count;
}

void run_summary(const SummaryOptions& o) {
    using namespace textcnn;
    // Only the description is needed: skip load()'s folding for prediction.
    const TextClassifier model = TextClassifier::from_model_file(read_model_file(o.model_path));
    if (!o.json) {
        fmt::print("{}", model.summary());
        return;
    }
    // A quantized model has no float network: its members are built from their stored
    // architecture, whose parameters are "parameters" (as the table's "Params of the
    // architecture"); none can be trained (the float weights are not stored).
    const auto member_json = [&](std::size_t k) {
        if (!model.quantized()) return cli_common::network_json(model.network(k));
        const StoredArchitecture arch = model.architecture(k);
        nlohmann::ordered_json j = cli_common::network_json(Network(arch.spec, arch.sample_shape));
        j["trainable_parameters"] = 0;
        return j;
    };
    const nlohmann::ordered_json first = member_json(0);
    nlohmann::ordered_json j = first;  // an ensemble's first member, as before "members"
    j["ensemble_size"] = model.ensemble_size();
    if (model.ensemble_size() > 1) {
        const std::vector<std::string> seeds = member_seeds(model);
        const std::size_t naive_bayes = naive_bayes_members(model);
        nlohmann::ordered_json members = nlohmann::ordered_json::array();
        for (std::size_t k = 0; k < model.ensemble_size(); ++k) {
            nlohmann::ordered_json member;
            if (!seeds.empty()) member["seed"] = seeds[k];
            member["naive_bayes_branch"] = is_naive_bayes_member(k, model.ensemble_size(), naive_bayes);
            member.update(k == 0 ? first : member_json(k));
            members.push_back(std::move(member));
        }
        j["members"] = std::move(members);
    }
    j["quantized"] = model.quantized();
    if (const auto form = model.quantized_form()) {
        j["quantized_form"] = TextClassifier::quantized_tables_name(*form);
        j["quantization_error_bound"] = model.quantization_error_bound();
        if (const auto refined = model.refined_error_bound(); !refined.empty()) j["refined_error_bound"] = refined;
    }
    j["vocabulary_size"] = model.vocabulary().size();
    j["fold_table_bytes"] = model.fold_table_bytes();
    j["labels"] = model.labels();
    j["tokenizer"] = tokenizer_json(model.tokenizer().settings());
    j["metadata"] = cli_common::metadata_json(model.metadata);
    fmt::print("{}\n", cli_common::json_text(j, 2));
}

}  // namespace

Command add_summary_command(CLI::App& app) {
    auto o = std::make_shared<SummaryOptions>();
    CLI::App* cmd = app.add_subcommand("summary", "Show a model's architecture, parameter counts, vocabulary and labels");
    cmd->add_option("--model", o->model_path, "Model file")->required();
    cmd->add_flag("--json", o->json, "As one JSON object");
    return {cmd, [o] { run_summary(*o); }};
}

}  // namespace textcnn_cli
