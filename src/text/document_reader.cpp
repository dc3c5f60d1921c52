#include "textcnn/text/document_reader.h"

#include "textcnn/core/error.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <string_view>
#include <utility>

namespace textcnn {
namespace {

constexpr std::string_view label_prefix = "__label__";
constexpr std::size_t max_line_bytes = std::size_t{64} << 20;

std::string plural(std::size_t n, std::string_view word, std::string_view suffix = "s") {
    return fmt::format("{} {}{}", n, word, n == 1 ? std::string_view{} : suffix);
}

std::string lowercase_ascii(std::string_view text) {
    std::string out(text);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

/// The column `wanted` names: a header name, else a 1-based position; nullopt when neither.
std::optional<std::size_t> find_column(const std::vector<std::string>& header, const std::string& wanted) {
    if (const auto it = std::find(header.begin(), header.end(), wanted); it != header.end())
        return static_cast<std::size_t>(it - header.begin());
    if (!wanted.empty() && wanted.size() < 10 && std::all_of(wanted.begin(), wanted.end(), [](char c) {
            return c >= '0' && c <= '9';
        })) {
        const std::size_t position = std::stoul(wanted);
        if (position >= 1 && position <= header.size()) return position - 1;
    }
    return std::nullopt;
}

std::string describe_columns(const std::vector<std::string>& header) {
    std::string out;
    for (const auto& name : header) out += (out.empty() ? "'" : ", '") + name + "'";
    return out;
}

bool is_blank(char c) { return c == ' ' || c == '\t'; }

bool is_number(std::string_view text) {
    if (!text.empty() && (text[0] == '-' || text[0] == '+')) text.remove_prefix(1);
    return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return (c >= '0' && c <= '9') || c == '.'; }) &&
           std::any_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

/// A column name no one writes: a number, or a sentence (4 words or more, or over 64 bytes).
bool looks_like_data(std::string_view name) {
    std::size_t words = 0;
    for (std::size_t i = 0; i < name.size(); ++i)
        if (!is_blank(name[i]) && (i == 0 || is_blank(name[i - 1]))) ++words;
    return is_number(name) || words >= 4 || name.size() > 64;
}

std::string shortened(const std::string& text) {
    return text.size() <= 40 ? text : text.substr(0, 37) + "...";
}

// Whether a line of plain text reads like a CSV or TSV header: 2 to 64 comma- or tab-separated
// column names, each one word (letters, digits, '_', '-'; quoted or spaced around or not), one
// of them a text column's usual name ("text", "sentence", ...). A sentence's commas part words
// and phrases ("text, in brief"), not single words.
bool looks_like_table_header(std::string_view line) {
    if (line.size() > 1000) return false;
    const char delimiter = line.find('\t') != std::string_view::npos ? '\t' : ',';
    std::size_t columns = 0;
    bool text_column = false;
    for (std::size_t start = 0; start <= line.size();) {
        std::size_t end = line.find(delimiter, start);
        if (end == std::string_view::npos) end = line.size();
        std::string_view field = line.substr(start, end - start);
        while (!field.empty() && field.front() == ' ') field.remove_prefix(1);
        while (!field.empty() && field.back() == ' ') field.remove_suffix(1);
        if (field.size() >= 2 && field.front() == '"' && field.back() == '"') field = field.substr(1, field.size() - 2);
        if (field.empty() || field.size() > 32) return false;
        std::string name;
        for (const char c : field) {
            if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') return false;
            name += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        }
        for (const char* usual : {"text", "texts", "sentence", "review", "message", "document", "content", "body"})
            text_column = text_column || name == usual;
        ++columns;
        start = end + 1;
    }
    return columns >= 2 && columns <= 64 && text_column;
}

}  // namespace

std::string to_string(InputFormat format) {
    switch (format) {
    case InputFormat::automatic: return "auto";
    case InputFormat::csv: return "csv";
    case InputFormat::tsv: return "tsv";
    case InputFormat::fasttext: return "fasttext";
    case InputFormat::plain: return "plain";
    }
    return "?";
}

InputFormat parse_input_format(std::string_view text) {
    for (const auto format :
         {InputFormat::automatic, InputFormat::csv, InputFormat::tsv, InputFormat::fasttext, InputFormat::plain})
        if (text == to_string(format)) return format;
    throw ConfigError(fmt::format("format: unknown input format '{}' (expected auto, csv, tsv, fasttext or plain)", text));
}

InputFormat format_from_extension(std::string_view path) {
    const auto dot = path.rfind('.');
    const auto slash = path.find_last_of("/\\");
    if (dot == std::string_view::npos || (slash != std::string_view::npos && dot < slash)) return InputFormat::plain;
    const std::string extension = lowercase_ascii(path.substr(dot + 1));
    if (extension == "csv") return InputFormat::csv;
    if (extension == "tsv" || extension == "tab") return InputFormat::tsv;
    if (extension == "ft" || extension == "fasttext") return InputFormat::fasttext;
    return InputFormat::plain;
}

std::vector<std::string> ReaderReport::warnings() const {
    std::vector<std::string> out;
    if (skipped_rows > 0)
        out.push_back(fmt::format("{}: skipped {} (first: {})", source, plural(skipped_rows, "bad row"), first_skip_reason));
    if (multi_label_lines > 0)
        out.push_back(fmt::format("{}:{}: {} several labels (the first here); the first label of each was used",
                                  source, first_multi_label_line,
                                  multi_label_lines == 1 ? std::string("1 line has") : fmt::format("{} lines have", multi_label_lines)));
    if (utf8_replacements > 0)
        out.push_back(fmt::format("{}: replaced {} with U+FFFD", source,
                                  plural(utf8_replacements, "invalid UTF-8 sequence")));
    if (nul_documents > 0)
        out.push_back(fmt::format("{}:{}: {} NUL bytes (the first here), read as word separators", source,
                                  first_nul_line, nul_documents == 1 ? std::string("1 document holds")
                                                                     : fmt::format("{} documents hold", nul_documents)));
    if (merged_records > 0)
        out.push_back(fmt::format("{}:{}: a quoted field runs from line {} to line {} over lines that hold the delimiter "
                                  "({} such record{}): if the quote belongs to the text rather than quoting it, those "
                                  "rows were read as one document",
                                  source, first_merged_lines.first, first_merged_lines.first, first_merged_lines.second,
                                  merged_records, merged_records == 1 ? "" : "s"));
    if (blank_lines > 0)
        out.push_back(fmt::format("{}:{}: skipped {} between rows (the first here): a blank line is no record, so "
                                  "the rows after it are not one per line (an empty text is written as \"\")",
                                  source, first_blank_line, plural(blank_lines, "blank line")));
    out.insert(out.end(), header_notes.begin(), header_notes.end());
    return out;
}

DocumentReader::DocumentReader(const std::string& path, DocumentReaderOptions options)
    : source_(path == "-" ? "<stdin>" : path), options_(std::move(options)) {
    std::istream* in = &std::cin;
    if (path != "-") {
        // A directory opens and reads as empty ("the file is empty"); say what it is. FIFOs
        // and devices stay allowed here: data may come through a pipe.
        std::error_code ec;
        if (std::filesystem::is_directory(path, ec)) throw IoError(path + ": is a directory, not a data file");
        file_ = std::make_unique<std::ifstream>(path, std::ios::binary);
        if (!*file_) throw IoError(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
        in = file_.get();
    }
    format_ = options_.format == InputFormat::automatic ? format_from_extension(path) : options_.format;
    open(*in);
}

DocumentReader::DocumentReader(std::istream& in, std::string source, DocumentReaderOptions options)
    : source_(std::move(source)), options_(std::move(options)) {
    format_ = options_.format == InputFormat::automatic ? format_from_extension(source_) : options_.format;
    open(in);
}

void DocumentReader::open(std::istream& in) {
    if (format_ == InputFormat::csv || format_ == InputFormat::tsv) {
        CsvOptions csv_options;
        csv_options.delimiter = format_ == InputFormat::csv ? ',' : '\t';
        csv_options.invalid_utf8 = options_.invalid_utf8;
    csv_options.line_at_a_time = options_.line_at_a_time;
        csv_ = std::make_unique<CsvReader>(in, source_, csv_options);
        open_csv();
        return;
    }
    if (!options_.id_column.empty())
        throw ConfigError(fmt::format("{}: an id column needs CSV or TSV input, not {}", source_, to_string(format_)));
    if (format_ == InputFormat::plain && options_.require_label)
        throw ConfigError(fmt::format("{}: plain text has no labels; labelled data must be csv, tsv or fasttext", source_));
    text_ = std::make_unique<Utf8Reader>(in, source_, options_.invalid_utf8);
    text_->set_line_at_a_time(options_.line_at_a_time);
}

bool DocumentReader::input_buffered() const {
    if (csv_) return csv_->input_buffered();
    // The LF of a CRLF whose CR ended the last line is no part of the next one.
    const std::size_t pos = chunk_pos_ + (previous_was_cr_ && chunk_pos_ < chunk_.size() && chunk_[chunk_pos_] == '\n');
    return pos < chunk_.size() || text_->input_buffered();
}

void DocumentReader::open_csv() {
    if (!csv_->next(record_)) {
        if (options_.header) throw InputError(fmt::format("{}: the file is empty: expected a header row", source_));
        return;  // no header, no rows: no documents
    }
    if (options_.header) {
        header_ = record_.fields;
        choose_columns(header_, record_.line);
        check_header();
    } else {
        // Column "names" are the positions; the first row is the first document.
        std::vector<std::string> positions(record_.fields.size());
        for (std::size_t i = 0; i < positions.size(); ++i) positions[i] = std::to_string(i + 1);
        for (const std::string* wanted : {&options_.text_column, &options_.label_column, &options_.id_column})
            if (!wanted->empty() && !find_column(positions, *wanted) && !is_number(*wanted))
                throw ConfigError(fmt::format("{}: without a header row columns are chosen by number (1 = the first), "
                                              "not by name ('{}')",
                                              source_, *wanted));
        choose_columns(positions, record_.line);
        pending_record_ = true;
        // The opposite mistake to a header that looks like data: a first row whose chosen
        // fields are the usual column names ("label", "text") read as a document (before: a
        // class named "label", or one output line too many).
        const auto named = [&](std::optional<std::size_t> column) {
            if (!column || *column >= record_.fields.size()) return false;
            std::string name = record_.fields[*column];
            for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            for (const char* usual : {"label", "labels", "text", "sentence", "class", "category", "target", "id"})
                if (name == usual) return true;
            return false;
        };
        if (named(text_column_) && (!label_column_ || named(label_column_))) {
            std::string names = label_column_ ? fmt::format("'{}', ", shortened(record_.fields[*label_column_])) : "";
            names += fmt::format("'{}'", shortened(record_.fields[text_column_]));
            header_notes_.push_back(fmt::format("{}:{}: the first row looks like a header ({}), yet the file is read "
                                                "without one: the row is read as a document",
                                                source_, record_.line, names));
        }
    }
    csv_->expect_fields(record_.fields.size());
    csv_->skip_bad_rows(options_.skip_bad_rows);
}

void DocumentReader::choose_columns(const std::vector<std::string>& names, std::size_t line) {
    // A header missing the wanted names because the file has none: say so.
    const bool data_like = options_.header && std::any_of(names.begin(), names.end(), looks_like_data);
    const std::string headerless = data_like ? "; the first row looks like data, not column names: if the file has "
                                               "no header row, read it without one"
                                             : "";
    const auto text = find_column(names, options_.text_column);
    if (!text)
        throw InputError(fmt::format("{}:{}: no column '{}' (columns: {}){}", source_, line, options_.text_column,
                                     describe_columns(names), headerless));
    text_column_ = *text;
    label_column_ = find_column(names, options_.label_column);
    if (!label_column_ && (options_.require_label || options_.label_column_named))
        throw InputError(fmt::format("{}:{}: no label column '{}' (columns: {}){}", source_, line,
                                     options_.label_column, describe_columns(names), headerless));
    if (!options_.id_column.empty()) {
        id_column_ = find_column(names, options_.id_column);
        if (!id_column_)
            throw InputError(fmt::format("{}:{}: no id column '{}' (columns: {})", source_, line, options_.id_column,
                                         describe_columns(names)));
    }
    if (label_column_ == text_column_)
        throw ConfigError(fmt::format("{}: the text and label columns are the same column ({})", source_, text_column_ + 1));
}

// Said, not refused: a header can be odd and still right.
void DocumentReader::check_header() {
    std::map<std::string, std::vector<std::size_t>> positions;
    for (std::size_t i = 0; i < header_.size(); ++i)
        if (!header_[i].empty()) positions[header_[i]].push_back(i + 1);
    for (const auto& [name, columns] : positions) {
        if (columns.size() < 2) continue;
        std::string list;
        for (std::size_t i = 0; i < columns.size(); ++i)
            list += (i == 0 ? "" : i + 1 == columns.size() ? " and " : ", ") + std::to_string(columns[i]);
        header_notes_.push_back(fmt::format("{}:{}: columns {} are {} named '{}'; the first of them is used", source_,
                                            record_.line, list, columns.size() == 2 ? "both" : "all",
                                            shortened(name)));
        if (header_notes_.size() == 8) break;
    }
    std::string odd;
    for (const std::optional<std::size_t>& column : {std::optional<std::size_t>(text_column_), label_column_})
        if (column && looks_like_data(header_[*column]))
            odd += (odd.empty() ? "'" : ", '") + shortened(header_[*column]) + "'";
    if (!odd.empty()) {
        header_looks_like_data_ = true;
        header_notes_.push_back(fmt::format("{}:{}: the header row looks like data (column names {}): if the file has no "
                                            "header row, its first document is being read as column names",
                                            source_, record_.line, odd));
    }
}

void DocumentReader::skip_row(std::string message) {
    if (!options_.skip_bad_rows) throw InputError(message);
    if (skipped_rows_++ == 0)
        first_skip_reason_ = csv_ && csv_->skipped_rows() > 0 ? csv_->first_skip_reason() : std::move(message);
}

bool DocumentReader::next(Document& document) {
    if (!next_document(document)) return false;
    if (document.text.find('\0') != std::string::npos && nul_documents_++ == 0) first_nul_line_ = document.line;
    return true;
}

bool DocumentReader::next_document(Document& document) {
    switch (format_) {
    case InputFormat::csv:
    case InputFormat::tsv: return next_csv(document);
    case InputFormat::fasttext: return next_fasttext(document);
    default:
        if (!next_line(document.text, document.line)) return false;
        document.label.reset();
        if (document.line == 1 && looks_like_table_header(document.text)) {
            plain_text_looks_like_table_ = true;
            header_notes_.push_back(fmt::format("{}:1: the first line looks like a CSV or TSV header ('{}'), yet the file "
                                                "is read as plain text, one document per line: that line is a "
                                                "document, and so is each row, its other columns with its text",
                                                source_, shortened(document.text)));
        }
        return true;
    }
}

bool DocumentReader::next_csv(Document& document) {
    while (std::exchange(pending_record_, false) || csv_->next(record_)) {
        document.line = record_.line;
        if (options_.keep_fields) document.fields = record_.fields;
        else document.fields.clear();
        if (id_column_) document.id = record_.fields[*id_column_];
        document.text.swap(record_.fields[text_column_]);
        if (!label_column_) {
            document.label.reset();
            return true;
        }
        auto& label = record_.fields[*label_column_];
        if (label.empty()) {
            if (options_.require_label) {
                skip_row(fmt::format("{}:{}: empty label", source_, record_.line));
                continue;
            }
            document.label.reset();
            return true;
        }
        if (!document.label) document.label.emplace();
        document.label->swap(label);
        return true;
    }
    return false;
}

bool DocumentReader::next_fasttext(Document& document) {
    while (next_line(line_buffer_, document.line)) {
        const std::string_view line = line_buffer_;
        std::size_t pos = 0;
        std::size_t labels = 0;
        document.label.reset();
        while (true) {
            while (pos < line.size() && is_blank(line[pos])) ++pos;
            if (line.substr(pos, label_prefix.size()) != label_prefix) break;
            std::size_t end = pos;
            while (end < line.size() && !is_blank(line[end])) ++end;
            if (labels++ == 0) document.label.emplace(line.substr(pos + label_prefix.size(), end - pos - label_prefix.size()));
            pos = end;
        }
        if (labels > 1 && multi_label_lines_++ == 0) first_multi_label_line_ = document.line;
        if (document.label && document.label->empty()) {
            skip_row(fmt::format("{}:{}: empty label '{}'", source_, document.line, label_prefix));
            continue;
        }
        if (!document.label && options_.require_label) {
            skip_row(fmt::format("{}:{}: no label: the line does not start with '{}'", source_, document.line, label_prefix));
            continue;
        }
        document.text.assign(line.substr(pos));
        return true;
    }
    return false;
}

bool DocumentReader::next_line(std::string& line, std::size_t& line_number) {
    line.clear();
    line_number = line_;
    bool seen = false;  // a byte of this line (content or its line end) has been read
    while (true) {
        if (chunk_pos_ == chunk_.size()) {
            chunk_ = text_->next_chunk();
            chunk_pos_ = 0;
            if (chunk_.empty()) return seen;
        }
        if (previous_was_cr_) {
            previous_was_cr_ = false;
            if (chunk_[chunk_pos_] == '\n') {  // the LF of a CRLF that ended the previous line
                ++chunk_pos_;
                continue;
            }
        }
        const char* begin = chunk_.data() + chunk_pos_;
        const char* end = chunk_.data() + chunk_.size();
        const char* stop = std::find_if(begin, end, [](char c) { return c == '\n' || c == '\r'; });
        line.append(begin, stop);
        if (line.size() > max_line_bytes)
            throw InputError(fmt::format("{}:{}: line is longer than {} bytes", source_, line_number, max_line_bytes));
        seen = true;
        if (stop == end) {
            chunk_pos_ = chunk_.size();
            continue;
        }
        previous_was_cr_ = *stop == '\r';
        chunk_pos_ = static_cast<std::size_t>(stop - chunk_.data()) + 1;
        ++line_;
        return true;
    }
}

ReaderReport DocumentReader::report() const {
    ReaderReport report;
    report.source = source_;
    report.skipped_rows = skipped_rows_ + (csv_ ? csv_->skipped_rows() : 0);
    report.first_skip_reason = skipped_rows_ > 0 ? first_skip_reason_ : csv_ ? csv_->first_skip_reason() : "";
    report.multi_label_lines = multi_label_lines_;
    report.first_multi_label_line = first_multi_label_line_;
    report.nul_documents = nul_documents_;
    report.first_nul_line = first_nul_line_;
    report.utf8_replacements = csv_ ? csv_->utf8_replacements() : text_->replacements();
    if (csv_) {
        report.merged_records = csv_->merged_records();
        report.first_merged_lines = csv_->first_merged_lines();
        report.blank_lines = csv_->blank_lines();
        report.first_blank_line = csv_->first_blank_line();
    }
    report.header_notes = header_notes_;
    report.header_looks_like_data = header_looks_like_data_;
    report.plain_text_looks_like_table = plain_text_looks_like_table_;
    return report;
}

DocumentSet read_all(const std::string& path, DocumentReaderOptions options) {
    DocumentReader reader(path, std::move(options));
    DocumentSet set;
    Document document;
    while (reader.next(document)) set.documents.push_back(std::move(document));
    set.report = reader.report();
    set.format = reader.format();
    set.header = reader.header();
    set.text_column = reader.text_column();
    set.label_column = reader.label_column();
    return set;
}

}  // namespace textcnn
