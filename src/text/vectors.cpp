#include "textcnn/text/vectors.h"

#include "textcnn/core/error.h"
#include "textcnn/core/files.h"
#include "textcnn/text/utf8.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <numeric>
#include <optional>

namespace textcnn {
namespace {

constexpr std::size_t max_dim = 1 << 16;

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r'; }

// A line holds a word (which may contain spaces) and at most max_dim numbers: more fields than
// this are refused before they are stored (a 64 MB line of "a a a ..." would take 512 MB).
constexpr std::size_t max_fields = max_dim + 1024;

/// The whitespace-separated fields of `line`; more than max_fields (see above) is an error
/// naming `source` and `line_number`.
std::vector<std::string_view> split_fields(std::string_view line, const std::string& source, std::size_t line_number) {
    std::vector<std::string_view> fields;
    std::size_t pos = 0;
    while (true) {
        while (pos < line.size() && is_space(line[pos])) ++pos;
        if (pos == line.size()) break;
        if (fields.size() == max_fields)
            throw InputError(fmt::format("{}:{}: more than {} fields (a word and at most {} numbers)", source,
                                         line_number, max_fields, max_dim));
        std::size_t end = pos;
        while (end < line.size() && !is_space(line[end])) ++end;
        fields.push_back(line.substr(pos, end - pos));
        pos = end;
    }
    return fields;
}

std::optional<std::uint64_t> parse_unsigned(std::string_view text) {
    std::uint64_t v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return v;
}

std::optional<float> parse_float(std::string_view text) {
    float v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return v;
}

/// Where found vectors go: one slot per vocabulary id, exact matches beating normalized ones.
class VectorCollector {
public:
    VectorCollector(const Vocabulary& vocabulary, const VectorsOptions& options, PretrainedVectors& result)
        : vocabulary_(vocabulary), tokenizer_(options.tokenizer), result_(result),
          slot_(vocabulary.size(), no_slot), exact_(vocabulary.size(), false) {}

    /// Where the vector of `word` should be written, or nullptr when it is not wanted.
    float* slot_for(std::string_view word) {
        if (!is_valid_utf8(word)) return nullptr;
        if (const auto id = vocabulary_.find(word)) {
            if (exact_[*id]) {  // a repeated word: the first one stays, the repeat counted
                if (result_.repeated_words++ == 0) result_.first_repeated_word = std::string(word);
                return nullptr;
            }
            const bool replacing = slot_[*id] != no_slot;
            if (replacing) --result_.matched_after_normalization;
            exact_[*id] = true;
            return place(*id);
        }
        if (!tokenizer_) return nullptr;
        const auto id = vocabulary_.find(tokenizer_->normalize(word));
        if (!id || slot_[*id] != no_slot) return nullptr;
        ++result_.matched_after_normalization;
        return place(*id);
    }

    /// Orders the kept vectors by id.
    void finish() {
        const std::size_t dim = result_.dim;
        std::vector<std::uint32_t> ids;
        std::vector<float> values;
        for (std::uint32_t id = 0; id < slot_.size(); ++id) {
            if (slot_[id] == no_slot) continue;
            ids.push_back(id);
            const float* v = result_.values.data() + slot_[id] * dim;
            values.insert(values.end(), v, v + dim);
        }
        result_.ids = std::move(ids);
        result_.values = std::move(values);
    }

private:
    static constexpr std::size_t no_slot = static_cast<std::size_t>(-1);
    float* place(std::uint32_t id) {
        if (slot_[id] == no_slot) {
            slot_[id] = result_.values.size() / result_.dim;
            result_.values.resize(result_.values.size() + result_.dim);
        }
        return result_.values.data() + slot_[id] * result_.dim;
    }

    const Vocabulary& vocabulary_;
    const Tokenizer* tokenizer_;
    PretrainedVectors& result_;
    std::vector<std::size_t> slot_;  // index into result_.values (in vectors) per id
    std::vector<bool> exact_;
};

class VectorsParser {
public:
    VectorsParser(std::istream& in, const std::string& source, const VectorsOptions& options, PretrainedVectors& result,
                  VectorCollector& collector)
        : in_(in), source_(source), options_(options), result_(result), collector_(collector) {}

    void run() {
        std::string first;
        if (!read_line(first)) throw InputError(fmt::format("{}: the file is empty", source_));
        if (first.starts_with("\xEF\xBB\xBF")) first.erase(0, 3);  // a UTF-8 byte order mark
        // Old Mac line ends (CR alone) would make the whole file one line of "dim" numbers.
        if (first.find('\r') != std::string::npos)
            throw InputError(fmt::format("{}:1: the lines end in a bare CR (carriage return); vectors files have LF or "
                                         "CRLF line ends", source_));
        const auto fields = split_fields(first, source_, 1);
        if (fields.size() == 2 && parse_unsigned(fields[0]) && parse_unsigned(fields[1])) {
            announced_ = *parse_unsigned(fields[0]);
            set_dim(*parse_unsigned(fields[1]), 1);
            if (announced_ == 0)
                throw InputError(fmt::format("{}:1: the header '{} {}' announces 0 vectors", source_, fields[0], fields[1]));
            read_after_header();
        } else {
            result_.format = "text without header";
            if (fields.size() < 2)
                throw InputError(fmt::format("{}:1: expected a word and its vector, or a 'count dim' header", source_));
            set_dim(fields.size() - 1, 1);
            text_line(first);
            read_text_lines();
        }
        if (announced_ && result_.file_vectors != *announced_) {
            const std::string where = result_.format == "word2vec binary" ? fmt::format("byte {}", offset_)
                                                                           : fmt::format("line {}", line_);
            if (result_.file_vectors < *announced_)
                throw InputError(fmt::format("{}: the header announces {} vectors but the file ends after {} ({})",
                                             source_, *announced_, result_.file_vectors, where));
            throw InputError(fmt::format("{}: the header announces {} vectors but the file has {} ({})", source_,
                                         *announced_, result_.file_vectors, where));
        }
    }

private:
    void set_dim(std::uint64_t dim, std::size_t line) {
        if (dim == 0 || dim > max_dim)
            throw InputError(fmt::format("{}:{}: dimension {} is out of range (1 to {})", source_, line, dim, max_dim));
        if (options_.expected_dim != 0 && dim != options_.expected_dim)
            throw VectorsDimensionError(source_, dim, options_.expected_dim);
        result_.dim = dim;
    }

    /// Reads one line (without its line end) and counts it; false at the end of the input.
    /// Bytes in pending_ (read ahead while telling binary from text) come first. The length is
    /// checked while reading, so a file without line ends costs at most options_.max_line_bytes.
    bool read_line(std::string& line) {
        line.clear();
        bool ended = false;  // a '\n' was found
        if (!pending_.empty()) {
            const auto newline = pending_.find('\n');
            if (newline != std::string::npos) {
                line.assign(pending_, 0, newline);
                pending_.erase(0, newline + 1);
                ended = true;
            } else {
                line.swap(pending_);
                pending_.clear();
            }
        } else if (in_.peek() == std::char_traits<char>::eof()) {
            if (in_.bad()) throw IoError(fmt::format("{}: read error on line {}", source_, line_ + 1));
            return false;
        }
        if (!ended) {
            std::streambuf& buffer = *in_.rdbuf();
            std::size_t read = 0;
            while (true) {
                const int c = buffer.sbumpc();
                if (c == std::char_traits<char>::eof()) break;
                ++read;
                if (c == '\n') break;
                if (line.size() >= options_.max_line_bytes)
                    throw InputError(fmt::format("{}:{}: line is longer than {} bytes", source_, line_ + 1,
                                                 options_.max_line_bytes));
                line.push_back(static_cast<char>(c));
            }
            offset_ += read;
        }
        if (in_.bad()) throw IoError(fmt::format("{}: read error on line {}", source_, line_ + 1));
        ++line_;
        if (line.size() > options_.max_line_bytes)
            throw InputError(fmt::format("{}:{}: line is longer than {} bytes", source_, line_, options_.max_line_bytes));
        if (!line.empty() && line.back() == '\r') line.pop_back();
        return true;
    }

    void read_text_lines() {
        std::string line;
        while (read_line(line)) {
            if (line.find_first_not_of(" \t") == std::string::npos) continue;  // blank (e.g. a final empty line)
            text_line(line);
        }
    }

    void text_line(std::string_view line) {
        const auto fields = split_fields(line, source_, line_);
        const std::size_t dim = result_.dim;
        if (fields.size() < dim + 1) {
            const std::string word = fields.empty() ? std::string() : std::string(fields[0]);
            throw InputError(fmt::format("{}:{}: expected {} numbers after '{}', found {} (truncated file?)", source_,
                                         line_, dim, word, fields.empty() ? 0 : fields.size() - 1));
        }
        const std::size_t first_value = fields.size() - dim;
        if (first_value > 1 && parse_float(fields[first_value - 1]))
            throw InputError(fmt::format("{}:{}: '{}' has {} or more numbers, expected {}", source_, line_, fields[0],
                                         dim + 1, dim));
        const char* word_end = fields[first_value - 1].data() + fields[first_value - 1].size();
        const std::string_view word(fields[0].data(), static_cast<std::size_t>(word_end - fields[0].data()));
        ++result_.file_vectors;
        float* slot = collector_.slot_for(word);
        for (std::size_t k = 0; k < dim; ++k) {
            const auto value = parse_float(fields[first_value + k]);
            if (!value || !std::isfinite(*value))
                throw InputError(fmt::format("{}:{}: value {} of '{}' is not a finite number: '{}'", source_, line_,
                                             k + 1, word, fields[first_value + k]));
            if (slot) slot[k] = *value;
        }
    }

    /// After a "count dim" header: binary or text, decided by the first record's bytes.
    void read_after_header() {
        std::string word;
        if (!read_binary_word(word)) return;  // the header's count check reports it
        const std::size_t bytes = result_.dim * 4;
        std::string raw(bytes, '\0');
        in_.read(raw.data(), static_cast<std::streamsize>(bytes));
        const auto got = static_cast<std::size_t>(in_.gcount());
        raw.resize(got);
        const bool binary = std::any_of(raw.begin(), raw.end(), [](char ch) {
            const auto b = static_cast<unsigned char>(ch);
            return !(b == '\n' || b == '\t' || b == '\r' || (b >= 0x20 && b < 0x7F));
        });
        if (binary) {
            result_.format = "word2vec binary";
            offset_ += got;
            binary_vector(word, raw);
            read_binary_records();
            return;
        }
        // Text: the bytes read so far are the start of the second line and maybe more.
        result_.format = "text with header";
        pending_ = word + ' ' + raw;
        read_text_lines();
    }

    /// A binary record's word: bytes up to a space, skipping the newline word2vec writes after
    /// each vector. False at a clean end of the input.
    bool read_binary_word(std::string& word) {
        word.clear();
        while (true) {
            const int c = in_.get();
            if (c == std::char_traits<char>::eof()) {
                if (word.empty()) return false;
                throw InputError(fmt::format("{}: truncated at byte {}: the file ends inside word {} ('{}')", source_,
                                             offset_, result_.file_vectors + 1, word));
            }
            ++offset_;
            if (c == ' ') {
                if (word.empty()) continue;
                return true;
            }
            if (c == '\n' && word.empty()) continue;
            word.push_back(static_cast<char>(c));
            if (word.size() > 4096)
                throw InputError(fmt::format("{}: byte {}: word {} is longer than 4096 bytes (not a word2vec binary file?)",
                                             source_, offset_, result_.file_vectors + 1));
        }
    }

    /// `raw` holds the bytes just read for the vector of `word` (offset_ is just past them).
    void binary_vector(const std::string& word, std::string_view raw) {
        const std::size_t bytes = result_.dim * 4;
        if (raw.size() < bytes)
            throw InputError(fmt::format(
                "{}: truncated at byte {}: the vector of '{}' (vector {}, from byte {}) needs {} bytes, {} remain",
                source_, offset_, word, result_.file_vectors + 1, offset_ - raw.size(), bytes, raw.size()));
        ++result_.file_vectors;
        float* slot = collector_.slot_for(word);
        for (std::size_t k = 0; k < result_.dim; ++k) {
            std::uint32_t bits = 0;
            for (int b = 0; b < 4; ++b) bits |= static_cast<std::uint32_t>(static_cast<unsigned char>(raw[4 * k + b])) << (8 * b);
            const float value = std::bit_cast<float>(bits);
            if (!std::isfinite(value))
                throw InputError(fmt::format("{}: byte {}: value {} of '{}' is not a finite number", source_,
                                             offset_ - raw.size() + 4 * k, k + 1, word));
            if (slot) slot[k] = value;
        }
    }

    void read_binary_records() {
        std::string word;
        std::string raw(result_.dim * 4, '\0');
        while (result_.file_vectors < *announced_) {
            if (!read_binary_word(word)) return;
            raw.resize(result_.dim * 4);
            in_.read(raw.data(), static_cast<std::streamsize>(raw.size()));
            const auto got = static_cast<std::size_t>(in_.gcount());
            raw.resize(got);
            offset_ += got;
            binary_vector(word, raw);
        }
        // Only a final newline may follow the announced records.
        while (true) {
            const int c = in_.get();
            if (c == std::char_traits<char>::eof()) return;
            if (c != '\n' && c != ' ')
                throw InputError(fmt::format("{}: byte {}: data after the {} vectors the header announces", source_,
                                             offset_, *announced_));
            ++offset_;
        }
    }

    std::istream& in_;
    const std::string& source_;
    const VectorsOptions& options_;
    PretrainedVectors& result_;
    VectorCollector& collector_;
    std::optional<std::uint64_t> announced_;
    std::size_t line_ = 0;       // lines read (text formats)
    std::uint64_t offset_ = 0;   // bytes read (exact up to the header and in the binary format)
    std::string pending_;        // bytes read ahead of the text lines
};

}  // namespace


std::string PretrainedVectors::coverage() const {
    std::string out = fmt::format("{} of {} words found", with_thousands_separators(ids.size()),
                                  with_thousands_separators(vocabulary_words));
    if (matched_after_normalization > 0)
        out += fmt::format(" ({} after normalization)", with_thousands_separators(matched_after_normalization));
    return out;
}

void PretrainedVectors::copy_into(std::span<float> table, std::size_t columns) const {
    if (table.size() < dim * columns || (!ids.empty() && ids.back() >= columns))
        throw ConfigError(fmt::format("{}: embedding table of {} floats and {} columns cannot hold dim {} vectors up to id {}",
                                      source, table.size(), columns, dim, ids.empty() ? 0 : ids.back()));
    for (std::size_t i = 0; i < ids.size(); ++i)
        std::copy_n(values.data() + i * dim, dim, table.data() + static_cast<std::size_t>(ids[i]) * dim);
}

VectorsDimensionError::VectorsDimensionError(const std::string& source, std::size_t file_dim, std::size_t expected_dim)
    : InputError(fmt::format("{}: the vectors have {} dimensions, the model's embedding {}: they must be equal", source,
                             file_dim, expected_dim)),
      file_dim(file_dim),
      expected_dim(expected_dim) {}

PretrainedVectors load_pretrained_vectors(std::istream& in, const std::string& source, const Vocabulary& vocabulary,
                                          const VectorsOptions& options) {
    PretrainedVectors result;
    result.source = source;
    result.vocabulary_words = vocabulary.word_count();
    VectorCollector collector(vocabulary, options, result);
    VectorsParser(in, source, options, result, collector).run();
    collector.finish();
    return result;
}

PretrainedVectors load_pretrained_vectors(const std::string& path, const Vocabulary& vocabulary,
                                          const VectorsOptions& options) {
    require_regular_file(path, "vectors file");  // a FIFO would block, /dev/zero never end
    std::ifstream in(path, std::ios::binary);
    if (!in) throw IoError(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
    return load_pretrained_vectors(in, path, vocabulary, options);
}

}  // namespace textcnn
