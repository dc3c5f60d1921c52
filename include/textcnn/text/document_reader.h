// Labelled or unlabelled documents from CSV, TSV, fastText or plain text files, streamed.
//
// Formats (chosen by the file's extension unless given explicitly):
//   csv       .csv        RFC 4180 with a header row (dialect in csv.h); the text and label
//                         columns are chosen by name or by 1-based position. Without a
//                         header (DocumentReaderOptions::header false) every row is data,
//                         the first row fixes the field count, columns go by position only.
//   tsv       .tsv .tab   the same with a tab delimiter (and the same quoting rules).
//   fasttext  .ft .fasttext   "__label__x [__label__y ...] text": the labels are the leading
//                         words with the "__label__" prefix; the first is the document's label,
//                         further ones are ignored and counted (report().multi_label_lines) so
//                         the caller can say so. "__label__" words after the text starts are text.
//   plain     .txt, anything else, stdin   one document per line, no label. Every line is a
//                         document, empty ones included, so outputs line up with inputs.
// Lines end at LF, CRLF or a lone CR (trailing CR of a CRLF is never part of a text); a final
// line end does not start another document. A UTF-8 byte-order mark is dropped.
//
// Memory stays bounded: one record at a time (plus Utf8Reader's chunk).
#pragma once

#include "textcnn/text/csv.h"
#include "textcnn/text/utf8.h"

#include <cstddef>
#include <fstream>
#include <istream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace textcnn {

enum class InputFormat { automatic, csv, tsv, fasttext, plain };

/// "auto", "csv", "tsv", "fasttext", "plain"; parse_input_format throws ConfigError otherwise.
std::string to_string(InputFormat format);
InputFormat parse_input_format(std::string_view text);
/// The format a file name implies (plain for unknown extensions and "-").
InputFormat format_from_extension(std::string_view path);

struct DocumentReaderOptions {
    InputFormat format = InputFormat::automatic;
    /// CSV/TSV columns: a header name, or else a 1-based position written as a number ("2").
    /// A header name wins over a position when a column is literally called "2".
    std::string text_column = "text";
    std::string label_column = "label";
    /// CSV/TSV: the first row names the columns. false: the file has no header row; every row
    /// is a document and columns are chosen by 1-based position (a name is a ConfigError).
    bool header = true;
    /// Every document must carry a label (training and evaluation data): a CSV without the
    /// label column, or plain text, is an error; a fastText line without a label is a bad row.
    /// When false, a missing label column just yields documents without labels.
    bool require_label = false;
    /// The label column must be found (CSV/TSV) even when labels are not required: it was named
    /// on purpose, and a name that matches no column is an error rather than no labels.
    bool label_column_named = false;
    /// Drop malformed rows (and count them) instead of stopping at the first one.
    bool skip_bad_rows = false;
    InvalidUtf8 invalid_utf8 = InvalidUtf8::error;
    /// Read a line at a time (see Utf8Reader::set_line_at_a_time): for a pipe or terminal whose
    /// documents are answered as they arrive. Slower through a file.
    bool line_at_a_time = false;
    /// CSV/TSV: keep every field of each row in Document::fields (to write rows back whole, or
    /// pass an id column through).
    bool keep_fields = false;
    /// CSV/TSV: a column passed through as Document::id (a header name or 1-based position,
    /// like text_column), so scores can be joined back to their rows; empty for none.
    std::string id_column{};
};

struct Document {
    std::optional<std::string> label;
    std::string text;
    std::size_t line = 0;  ///< line (1-based) where the document starts in its file
    /// Every field of the CSV/TSV row, text and label included, in column order; only with
    /// DocumentReaderOptions::keep_fields (empty otherwise, and for other formats).
    std::vector<std::string> fields{};
    /// The id column's value (DocumentReaderOptions::id_column), else empty.
    std::string id{};
};

/// What a reader met that the caller should warn about.
struct ReaderReport {
    std::string source;
    std::size_t skipped_rows = 0;
    std::string first_skip_reason;
    std::size_t multi_label_lines = 0;
    std::size_t first_multi_label_line = 0;  ///< the line of the first of them
    std::size_t utf8_replacements = 0;
    /// Documents whose text holds a NUL byte (the tokenizer reads it as a word separator, like
    /// every control character), and the line of the first.
    std::size_t nul_documents = 0;
    std::size_t first_nul_line = 0;
    /// CSV/TSV records a quoted field of which runs onto a line holding the delimiter (rows a
    /// stray quote may have merged: CsvReader::merged_records), and the first one's lines.
    std::size_t merged_records = 0;
    std::pair<std::size_t, std::size_t> first_merged_lines;
    /// CSV/TSV blank lines skipped between rows (no records: the documents after them are no
    /// longer one per line), and the first one's line.
    std::size_t blank_lines = 0;
    std::size_t first_blank_line = 0;
    /// CSV/TSV header rows that look wrong: names used by several columns ("columns 2 and 4
    /// are both named 'text'"), or a header that looks like a data row (a chosen column named
    /// by a number or by a sentence). One sentence each, naming the columns.
    std::vector<std::string> header_notes;
    /// Set when one of header_notes says the header looks like a data row.
    bool header_looks_like_data = false;
    /// Set when plain text's first line reads like a CSV/TSV header ("label,text"): a table
    /// read a line at a time (its header scored as a document, each row's label with its text),
    /// said in header_notes.
    bool plain_text_looks_like_table = false;
    /// One human-readable sentence per non-zero count (and each header note), e.g.
    /// "data.csv: skipped 3 bad rows (first: data.csv:17: expected 2 fields, found 3)".
    std::vector<std::string> warnings() const;
};

class DocumentReader {
public:
    /// Opens `path` ("-" is stdin). Throws IoError when it cannot be opened, InputError on a
    /// malformed header, ConfigError on options that do not fit the format.
    DocumentReader(const std::string& path, DocumentReaderOptions options = {});
    /// Reads an open stream; `source` names it in messages and, for InputFormat::automatic,
    /// chooses the format by its extension.
    DocumentReader(std::istream& in, std::string source, DocumentReaderOptions options = {});

    /// The next document (reusing `document`'s storage); false at the end of the input.
    bool next(Document& document);

    /// The format in use (never automatic) and the columns chosen (CSV/TSV; 0-based, the label
    /// column is nullopt when absent).
    InputFormat format() const { return format_; }
    std::size_t text_column() const { return text_column_; }
    std::optional<std::size_t> label_column() const { return label_column_; }
    /// CSV/TSV: the header row's names (empty for other formats and without a header).
    const std::vector<std::string>& header() const { return header_; }
    ReaderReport report() const;
    /// True when bytes of the input are already read or buffered, so next() does not wait for
    /// the writer of a pipe; false means the next document is not (entirely) here yet, the time
    /// to answer the documents read so far.
    bool input_buffered() const;

private:
    void open(std::istream& in);
    void open_csv();
    bool next_line(std::string& line, std::size_t& line_number);
    bool next_document(Document& document);
    bool next_csv(Document& document);
    bool next_fasttext(Document& document);
    void skip_row(std::string message);
    void choose_columns(const std::vector<std::string>& names, std::size_t line);
    void check_header();

    std::unique_ptr<std::ifstream> file_;
    std::string source_;
    DocumentReaderOptions options_;
    InputFormat format_;
    std::unique_ptr<CsvReader> csv_;
    std::unique_ptr<Utf8Reader> text_;
    CsvRecord record_;
    std::vector<std::string> header_;
    std::size_t text_column_ = 0;
    std::optional<std::size_t> label_column_;
    std::optional<std::size_t> id_column_;
    std::string_view chunk_;
    std::size_t chunk_pos_ = 0;
    std::size_t line_ = 1;
    bool previous_was_cr_ = false;
    std::string line_buffer_;
    std::size_t skipped_rows_ = 0;
    std::string first_skip_reason_;
    std::size_t multi_label_lines_ = 0, first_multi_label_line_ = 0;
    std::size_t nul_documents_ = 0, first_nul_line_ = 0;
    std::vector<std::string> header_notes_;
    bool header_looks_like_data_ = false;
    bool plain_text_looks_like_table_ = false;
    bool pending_record_ = false;  ///< record_ holds the first data row of a file without header
};

/// Every document of a file, with the reader's report (for training data, which is read
/// whole anyway). Throws what DocumentReader's constructor and next() throw: IoError when the
/// file cannot be opened or read, InputError naming file and line for a malformed row (unless
/// options.skip_bad_rows) or invalid UTF-8 (unless replaced), ConfigError for options that do
/// not fit the format. Thread-safe (each call reads on its own).
struct DocumentSet {
    std::vector<Document> documents;
    ReaderReport report;
    InputFormat format = InputFormat::plain;  ///< the format read (never automatic)
    std::vector<std::string> header;          ///< CSV/TSV header names
    std::size_t text_column = 0;              ///< CSV/TSV, 0-based
    std::optional<std::size_t> label_column;  ///< CSV/TSV, 0-based
};
DocumentSet read_all(const std::string& path, DocumentReaderOptions options = {});

}  // namespace textcnn
