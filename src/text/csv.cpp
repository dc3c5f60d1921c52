#include "textcnn/text/csv.h"

#include "textcnn/core/error.h"

#include <fmt/format.h>

#include <utility>

namespace textcnn {

CsvReader::CsvReader(std::istream& in, std::string source, CsvOptions options)
    : input_(in, std::move(source), options.invalid_utf8), options_(options) {
    input_.set_line_at_a_time(options.line_at_a_time);
    if (options_.delimiter == '"' || options_.delimiter == '\n' || options_.delimiter == '\r')
        throw ConfigError(fmt::format("{}: the CSV delimiter cannot be a quote or a line end", input_.source()));
}

bool CsvReader::next(CsvRecord& record) {
    while (parse_record(record)) {
        if (bad_reason_.empty() && expected_fields_ != 0 && field_count_ != expected_fields_)
            bad_reason_ = fmt::format("{}:{}: expected {} field{}, found {}", source(), record.line, expected_fields_,
                                      expected_fields_ == 1 ? "" : "s", field_count_);
        if (bad_reason_.empty()) {
            record.fields.resize(field_count_);
            return true;
        }
        if (!options_.skip_bad_rows) throw InputError(bad_reason_);
        if (skipped_rows_++ == 0) first_skip_reason_ = bad_reason_;
    }
    return false;
}

void CsvReader::bad_row(std::string message) {
    if (bad_reason_.empty()) bad_reason_ = std::move(message);
}

// One record, byte by byte. A record that ends with a CR leaves previous_was_cr_ set so the
// LF of a CRLF is swallowed at the start of the next call.
bool CsvReader::parse_record(CsvRecord& record) {
    field_count_ = 0;
    bad_reason_.clear();
    if (record.fields.empty()) record.fields.emplace_back();
    std::string* field = &record.fields[0];
    field->clear();
    State state = State::field_start;
    bool started = false;  // a byte of this record has been seen (blank lines are skipped)
    std::size_t quote_line = 0;
    std::size_t record_bytes = 0;
    bool quote_crossed_line = false;  // the quoted field being read has gone past a line end ...
    bool crossed_row_like = false;    // ... onto a line that holds the delimiter: rows merged?
    std::size_t merged_from = 0;      // the line where such a field opened
    const auto note_merged_rows = [&] {
        if (!crossed_row_like) return;
        if (merged_records_++ == 0) first_merged_lines_ = {merged_from, line_ - 1};
    };

    // Fields are stored up to the expected count (or max_fields); beyond it the record is
    // malformed whatever follows, so further fields are only counted (bounded memory).
    const std::size_t storable = expected_fields_ != 0 ? expected_fields_ : options_.max_fields;
    const auto finish_field = [&] {
        ++field_count_;
        if (field_count_ >= storable) {
            if (expected_fields_ == 0 && field_count_ == storable)
                bad_row(fmt::format("{}:{}: more than {} fields", source(), record.line, options_.max_fields));
            field = &discarded_;
        } else {
            if (field_count_ == record.fields.size()) record.fields.emplace_back();
            field = &record.fields[field_count_];
        }
        field->clear();
    };

    while (true) {
        if (chunk_pos_ == chunk_.size()) {
            chunk_ = input_.next_chunk();
            chunk_pos_ = 0;
            if (chunk_.empty()) {
                if (state == State::quoted)
                    throw InputError(fmt::format(
                        "{}:{}: unbalanced quote: the quoted field {} that opens on line {} is still open at the end "
                        "of the file",
                        source(), quote_line, field_count_ + 1, quote_line));
                if (!started) return false;
                ++field_count_;
                return true;
            }
        }
        const char c = chunk_[chunk_pos_++];
        const bool lf_of_crlf = c == '\n' && previous_was_cr_;
        previous_was_cr_ = c == '\r';
        const std::size_t byte_line = line_;
        const bool line_end = c == '\r' || (c == '\n' && !lf_of_crlf);
        if (line_end) ++line_;
        if (++record_bytes > options_.max_record_bytes)
            throw InputError(fmt::format("{}:{}: record is longer than {} bytes (an unbalanced quote?)", source(),
                                         record.line, options_.max_record_bytes));

        switch (state) {
        case State::field_start:
            if (lf_of_crlf) {
                --record_bytes;
                continue;  // second half of the CRLF that ended the previous line
            }
            if (line_end) {
                if (!started) {
                    record_bytes = 0;
                    if (pending_blank_lines_++ == 0) first_pending_blank_line_ = byte_line;
                    continue;  // blank line
                }
                ++field_count_;  // the empty field after a trailing delimiter
                return true;
            }
            if (!started) {
                started = true;
                record.line = byte_line;
                if (pending_blank_lines_ > 0 && blank_lines_ == 0) first_blank_line_ = first_pending_blank_line_;
                blank_lines_ += std::exchange(pending_blank_lines_, 0);
            }
            if (c == '"') {
                state = State::quoted;
                quote_line = byte_line;
                quote_crossed_line = false;  // a field of its own (one before may have crossed lines)
            } else if (c == options_.delimiter) {
                finish_field();
            } else {
                field->push_back(c);
                state = State::unquoted;
            }
            break;
        case State::unquoted:
            if (c == options_.delimiter) {
                finish_field();
                state = State::field_start;
            } else if (line_end) {
                ++field_count_;
                note_merged_rows();
                return true;
            } else {
                field->push_back(c);
            }
            break;
        case State::quoted:
            if (c == '"')
                state = State::quote_in_quoted;
            else
                field->push_back(c);
            if (line_end) quote_crossed_line = true;
            else if (c == options_.delimiter && quote_crossed_line && !crossed_row_like) {
                crossed_row_like = true;
                merged_from = quote_line;
            }
            break;
        case State::quote_in_quoted:
            if (c == '"') {
                field->push_back('"');
                state = State::quoted;
            } else if (c == options_.delimiter) {
                finish_field();
                state = State::field_start;
            } else if (line_end) {
                ++field_count_;
                note_merged_rows();
                return true;
            } else {
                // A quote left open on an earlier line swallows the line ends up to the next quote:
                // name the line where it opened, which is where the mistake usually is.
                bad_row(fmt::format(
                    "{}:{}: field {}: unexpected text after a closing quote (a quote inside a quoted field must be "
                    "doubled){}",
                    source(), byte_line, field_count_ + 1,
                    quote_line != byte_line ? fmt::format("; the quoted field opened on line {}", quote_line)
                                            : std::string()));
                field->push_back(c);
                state = State::unquoted;
            }
            break;
        }
    }
}

}  // namespace textcnn
