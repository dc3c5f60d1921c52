// The fields of tsv and csv output, one writer for textcnn predict, textcnn split and imagecnn
// predict: whatever a label, a text or a file name holds, one record stays one line.
#pragma once

#include <fmt/format.h>

#include <cstddef>
#include <cstdio>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cli_common {

/// A field of tab-separated output: tab, newline, carriage return and backslash escaped as
/// \t, \n, \r and \\, so one record stays one line, and every other control character so that
/// none reaches a terminal (a crafted model's label "\x1b]0;..." set its title): C0 and DEL as
/// \xHH, C1 and the line and paragraph separators as \uHHHH (find_control_character's set), and
/// a byte that is not part of valid UTF-8 (a file name of Latin-1 bytes) as \xHH.
std::string tsv_field(const std::string& s);
/// A message for the terminal (stderr's errors and warnings, which name files and labels of
/// the data): escaped as tsv_field() but for its own layout, newline, tab and backslash, which
/// stay as they are.
std::string terminal_text(std::string_view s);
/// fmt::print(stderr, ...) with the message through terminal_text(): what the programs say on
/// stderr (warnings, notes, errors) names files, labels and options of the user's data.
template <typename... Args>
void print_stderr(fmt::format_string<Args...> format, Args&&... args) {
    const std::string text = terminal_text(fmt::format(format, std::forward<Args>(args)...));
    std::fwrite(text.data(), 1, text.size(), stderr);
}
/// A field of CSV output (RFC 4180): quoted, with doubled quotes, when it holds the delimiter,
/// a quote or a line end. Quoted TSV (delimiter '\t') is the form textcnn's reader takes.
std::string csv_field(const std::string& s, char delimiter = ',');

/// The delimiter of an output format of shared_options.h: ',' for csv, a tab otherwise.
char output_delimiter(const std::string& format);
/// A field as that format writes it: csv_field for csv, tsv_field otherwise.
std::string output_field(const std::string& format, const std::string& s);

/// `j` as JSON text, any string in it that is not UTF-8 (a file name of Latin-1 bytes) with its
/// stray bytes replaced by U+FFFD: nlohmann::json's plain dump() threw instead ("invalid UTF-8
/// byte at index 1: 0xFF"), and `train --json` failed after training, `--log-json` before it.
template <typename Json>
std::string json_text(const Json& j, int indent = -1) {
    return j.dump(indent, ' ', false, Json::error_handler_t::replace);
}

/// A probability in tsv and csv output: 6 significant digits ("0.981234", "1.2e-07").
std::string probability_text(float p);

/// What --top K lists: label indices by falling probability, the decided label first when
/// there is one (so --top 1 never names another label than the decision), ties in label
/// order, at most `top` of them (0: all).
std::vector<std::size_t> ranked_labels(std::span<const float> probabilities, std::optional<std::size_t> decision,
                                       std::size_t top);

/// --top K with a model of fewer than K labels: every line lists all `labels`, and one warning
/// on stderr says so (warnings are printed even with --quiet, which silences progress only):
///   warning: --top 5, but the model has only 2 labels: each line lists 2
void warn_top_beyond_labels(std::size_t top, std::size_t labels);

}  // namespace cli_common
