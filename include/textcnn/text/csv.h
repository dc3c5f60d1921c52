// Streaming reader for comma- (or tab-) separated values, RFC 4180.
//
// Dialect, exactly:
//   - Records end at LF, CRLF or a lone CR; the last record may lack a line end.
//   - A field that starts with '"' is quoted: it may hold the delimiter, line ends (kept
//     byte for byte) and doubled quotes ("" -> "). After its closing quote only the
//     delimiter or a line end may follow; anything else is a malformed row ("a quote inside
//     a quoted field must be doubled").
//   - A '"' inside an unquoted field is taken literally (RFC 4180 forbids it, but spreadsheets
//     write it and the meaning is unambiguous).
//   - A UTF-8 byte-order mark at the start is dropped; the bytes must be UTF-8 (see utf8.h).
//   - Blank lines (nothing at all between two line ends) are skipped, not records, and those
//     before a record are counted (blank_lines()); an empty text is written as "" and is a
//     record.
//   - Fields are not trimmed: spaces are data.
// Why hand-written rather than libcsv: the dialect above fits in one small state machine,
// we need the line where every record (and every quote) starts for error messages, and
// UTF-8 checking and bounded memory come from Utf8Reader; libcsv would need callbacks and
// its own line bookkeeping around it for the same result.
//
// Errors are InputError "<file>:<line>: <problem>". A malformed row (stray character after a
// closing quote, wrong field count) is skippable: with skip_bad_rows the reader drops it,
// counts it and keeps the first message for the caller's warning. A quote still open at the
// end of the input is always an error (it swallowed the rest of the file), and names the
// line where the quoted field opened.
#pragma once

#include "textcnn/text/utf8.h"

#include <cstddef>
#include <cstdint>
#include <istream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace textcnn {

struct CsvOptions {
    char delimiter = ',';  ///< ',' for CSV, '\t' for TSV
    bool skip_bad_rows = false;
    InvalidUtf8 invalid_utf8 = InvalidUtf8::error;
    /// A record longer than this is an error (almost always a quote that never closes);
    /// keeps memory bounded whatever the file.
    std::size_t max_record_bytes = std::size_t{64} << 20;
    /// A record with more fields than this is malformed. Fields beyond the expected count
    /// (expect_fields()), or beyond this limit, are counted but not stored, so a line of
    /// millions of delimiters costs no more memory than its bytes.
    std::size_t max_fields = std::size_t{1} << 16;
    /// Read a line at a time (Utf8Reader::set_line_at_a_time): a record is returned as soon
    /// as its line end arrives through a pipe.
    bool line_at_a_time = false;
};

struct CsvRecord {
    std::vector<std::string> fields;
    std::size_t line = 0;  ///< line (1-based) where the record starts
};

class CsvReader {
public:
    /// `source` names the input in messages ("data.csv").
    CsvReader(std::istream& in, std::string source, CsvOptions options = {});

    /// Reads the next record into `record` (reusing its storage); false at the end of the
    /// input. Throws InputError on malformed input (see the file comment).
    bool next(CsvRecord& record);

    /// From now on every record must have `count` fields (usually the header's count);
    /// 0 turns the check off.
    void expect_fields(std::size_t count) { expected_fields_ = count; }
    /// Turns skipping on or off from the next record on (a header row is never skipped).
    void skip_bad_rows(bool on) { options_.skip_bad_rows = on; }

    /// Rows dropped under skip_bad_rows, and the message of the first one.
    std::size_t skipped_rows() const { return skipped_rows_; }
    const std::string& first_skip_reason() const { return first_skip_reason_; }
    std::size_t utf8_replacements() const { return input_.replacements(); }
    /// Records with a quoted field that runs past a line end onto a line holding the
    /// delimiter: rows that a stray quote may have merged into one (legal CSV, so counted, not
    /// refused); and the first one's lines (where its quote opens, where the record ends).
    std::size_t merged_records() const { return merged_records_; }
    std::pair<std::size_t, std::size_t> first_merged_lines() const { return first_merged_lines_; }
    /// Blank lines skipped before a record (not those after the last one), and the first one's
    /// line (0: none).
    std::size_t blank_lines() const { return blank_lines_; }
    std::size_t first_blank_line() const { return first_blank_line_; }
    const std::string& source() const { return input_.source(); }
    /// True when the next record's bytes (some of them) are already read or buffered, so next()
    /// starts without waiting for the writer of a pipe.
    bool input_buffered() const {
        // The LF of a CRLF whose CR ended the last record is no part of the next one.
        const std::size_t pos = chunk_pos_ + (previous_was_cr_ && chunk_pos_ < chunk_.size() && chunk_[chunk_pos_] == '\n');
        return pos < chunk_.size() || input_.input_buffered();
    }

private:
    enum class State { field_start, unquoted, quoted, quote_in_quoted };
    bool parse_record(CsvRecord& record);
    void bad_row(std::string message);

    Utf8Reader input_;
    CsvOptions options_;
    std::string_view chunk_;
    std::size_t chunk_pos_ = 0;
    std::size_t line_ = 1;          // current line
    bool previous_was_cr_ = false;  // the last byte consumed was a CR (a following LF is the same line end)
    std::size_t field_count_ = 0;   // fields of the record being built
    std::size_t merged_records_ = 0;
    std::pair<std::size_t, std::size_t> first_merged_lines_;
    std::size_t blank_lines_ = 0, first_blank_line_ = 0;
    std::size_t pending_blank_lines_ = 0, first_pending_blank_line_ = 0;  // not yet followed by a record
    std::string discarded_;         // where the bytes of fields beyond the limit go
    std::size_t expected_fields_ = 0;
    std::string bad_reason_;        // non-empty when the record being built is malformed
    std::size_t skipped_rows_ = 0;
    std::string first_skip_reason_;
};

}  // namespace textcnn
