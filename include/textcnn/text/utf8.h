// UTF-8 checking and repair, and a chunked reader that applies them to a whole stream.
//
// Every text that enters textcnn passes through here once: readers either reject invalid
// UTF-8 (naming the byte offset) or replace it with U+FFFD, so everything downstream
// (tokenizer, vocabulary, model files) may assume valid UTF-8.
//
// "Valid" is Unicode's definition (Table 3-7): no overlong forms, no surrogates (ED A0..BF),
// nothing above U+10FFFF. Repair follows Unicode's recommended practice ("maximal subparts",
// also what ICU, WHATWG and Python do): each maximal prefix of a would-be sequence that
// cannot be completed becomes one U+FFFD, and decoding resumes at the byte that broke it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <istream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace textcnn {

/// What a reader does with bytes that are not valid UTF-8.
enum class InvalidUtf8 {
    error,    ///< throw InputError naming the file, line and byte offset
    replace,  ///< substitute U+FFFD and count the replacements
};

/// "error" / "replace"; parse_invalid_utf8 throws ConfigError on anything else.
std::string to_string(InvalidUtf8 policy);
InvalidUtf8 parse_invalid_utf8(std::string_view text);

/// True when every byte is below 0x80 (checked eight bytes at a time).
bool is_ascii(std::string_view text);

/// Byte offset of the first invalid or truncated sequence, or nullopt when `text` is valid.
std::optional<std::size_t> find_invalid_utf8(std::string_view text);

inline bool is_valid_utf8(std::string_view text) { return !find_invalid_utf8(text).has_value(); }

/// A control character found in text: its byte offset and code point.
struct ControlCharacter {
    std::size_t offset = 0;
    char32_t code_point = 0;
};
/// The first control character of valid UTF-8 `text`: C0 (U+0000..U+001F, tab and line ends
/// included), DEL and C1 (U+007F..U+009F, NEL among them), or a line or paragraph separator
/// (U+2028, U+2029); nullopt when there is none. A label holding one would break predict's
/// one line per document (a line end) or its TSV columns (a tab).
std::optional<ControlCharacter> find_control_character(std::string_view text);
/// "U+000A (line feed)": a control character as messages name it.
std::string describe_code_point(char32_t code_point);

/// Longest run of non-starters (code points of non-zero canonical combining class, counted in
/// their NFKD decompositions) that stream_safe_utf8() leaves: 30, as UAX #15 sets it.
inline constexpr std::size_t max_non_starter_run = 30;
/// Puts valid UTF-8 `text` in the Unicode Stream-Safe Text Format (UAX #15, section 13): after
/// every 30 non-starters in a row a U+034F COMBINING GRAPHEME JOINER (CD 8F), itself a
/// starter, is inserted. Normalization reorders a run of combining marks by insertion sort,
/// quadratic in the run's length (a 320 KB line of two alternating marks took 26 s in ICU's
/// NFKC); no text of any script needs such runs. Returns the number of joiners inserted; when
/// 0, `out` is left untouched (the text is stream-safe as it is), else it holds the result.
/// `joiner` replaces U+034F where that would not survive: NFKC_Casefold deletes default
/// ignorable code points, U+034F among them, and the runs join again (give " " there).
/// Thread-safe (ICU's NFKD data).
std::size_t stream_safe_utf8(std::string_view text, std::string& out, std::string_view joiner = "\xCD\x8F");

/// Appends `text` to `out` with every maximal invalid subpart replaced by U+FFFD (EF BF BD).
/// Returns the number of replacements (0: `out` received an exact copy).
std::size_t append_repaired_utf8(std::string_view text, std::string& out);

/// `text` with invalid sequences replaced by U+FFFD.
std::string repair_utf8(std::string_view text);

/// Length in bytes (1..4) of the valid sequence starting at text[pos], or 0 when the bytes
/// there do not start a valid sequence (including a sequence cut off by the end of `text`).
std::size_t utf8_sequence_length(std::string_view text, std::size_t pos);

/// Decodes the valid sequence at text[pos] (use utf8_sequence_length first).
char32_t decode_utf8(std::string_view text, std::size_t pos, std::size_t length);

/// Appends the UTF-8 encoding of a scalar value (not a surrogate, <= 0x10FFFF).
void append_utf8(char32_t code_point, std::string& out);

/// Reads a std::istream in chunks of valid UTF-8, checking or repairing on the way, with a
/// UTF-8 byte-order mark at the very start removed. Memory is bounded by the chunk size
/// whatever the stream's length. Lines (for error messages) end at LF, CRLF or a lone CR,
/// the same rule csv.h and document_reader.h use.
class Utf8Reader {
public:
    /// `source` names the stream in messages ("data.csv", "<stdin>").
    Utf8Reader(std::istream& in, std::string source, InvalidUtf8 policy, std::size_t chunk_bytes = 1 << 16);

    /// The next piece of the stream: valid UTF-8 that never splits a code point; empty at the
    /// end of the input. The view stays valid until the next call.
    /// Throws InputError "data.csv:17: invalid UTF-8 at byte 1234 (0xc3 0x28)" under
    /// InvalidUtf8::error, IoError when the stream fails.
    std::string_view next_chunk();

    /// Line at a time: a read returns as soon as a line is complete (at LF or CR) instead of
    /// waiting for a whole chunk, for input from a pipe or a terminal whose lines are answered
    /// one by one. Off by default (whole chunks: the fast way through a file).
    void set_line_at_a_time(bool on) { line_at_a_time_ = on; }
    /// True when bytes already wait in the stream's buffer, i.e. the next read does not wait
    /// for the writer at the other end of a pipe.
    bool input_buffered() const { return in_->rdbuf()->in_avail() > 0; }

    /// Number of U+FFFD substituted so far (InvalidUtf8::replace).
    std::size_t replacements() const { return replacements_; }
    /// Bytes consumed from the stream so far (including a byte-order mark).
    std::uint64_t bytes_read() const { return offset_; }
    const std::string& source() const { return source_; }

private:
    void count_lines(std::string_view bytes);
    std::size_t read_line(char* out, std::size_t capacity);

    std::istream* in_;
    std::string source_;
    InvalidUtf8 policy_;
    std::size_t chunk_bytes_;
    std::vector<char> raw_;        // bytes read from the stream
    std::size_t tail_begin_ = 0;   // a code point cut by the chunk boundary: raw_[tail_begin_,
    std::size_t tail_size_ = 0;    //   + tail_size_), moved to the front on the next call
    std::string repaired_;     // output buffer when replacing
    std::uint64_t offset_ = 0;     // stream offset of the next byte not yet handed out
    std::uint64_t line_ = 1;       // line of that byte
    bool previous_was_cr_ = false;
    bool at_start_ = true;
    bool at_end_ = false;
    bool line_at_a_time_ = false;
    std::size_t replacements_ = 0;
};

}  // namespace textcnn
