// Private: the folded text CNN (folded_text_cnn.h) with its per-word tables stored as int8.
//
// The folded table holds, for every word v and every column (branch, tap, filter), the
// product E[v] . W_branch[tap][:, filter]. Here each column block of a branch shares one scale
// per filter (the largest |value| of that filter over all words and taps / 127), so a
// convolution output, a sum of `taps` table values of one filter, is a sum of int8 codes
// times that one scale: it is accumulated in int16 (taps x 127 <= 32767 is checked), the
// max over time is taken on the integers (the scale is positive, so max and scale commute),
// and only the pooled maximum is scaled back to float: scale x max + bias, then the
// activation and the output layer in float, as in the folded model. One row per word holds
// every tap of every width, contiguous (columns bytes), so a token costs one stream of
// columns bytes (1,200 for Kim's 3,4,5 x 100) instead of 4 x columns.
//
// Error bound (stated for tests): rounding puts each table value within scale/2 of its code,
// so each pooled convolution feature is within taps x scale_f / 2 of the float folded model's
// (max and monotone activations do not increase it) and each logit within
// sum_f |w_cf| x taps_f x scale_f / 2: logit_error_bound() computes that bound.
//
// The section ("QFLD", version 1) stores everything prediction needs, so a quantized model
// file carries no float embedding or convolution weights (it is for prediction only):
//   u64 vocab, u64 classes, u64 columns, u64 branch count,
//   per branch: u64 taps, u64 dilation, u64 filters, u32 activation (0 identity, 1 relu,
//               2 tanh, 3 sigmoid), floats bias (filters), floats scale (filters)
//   u64 in_units, floats dense weights (in_units x classes, column per class), floats dense bias (classes)
//   u8 wide branch (0|1); when 1: u64 ngrams, u64 bag vocab, u64 buckets, u8 binary, u8 mean,
//               floats bag logits ((bag vocab + buckets) x classes)
//   u64 table bytes (vocab x columns), then the int8 table, row-major (one row per word), then
//               128 zero bytes (loads of whole 16-filter blocks may read past the last row)
// (floats = u64 count + float32 values, core/bytes.h). Every count is checked against the
// bytes left before anything is allocated, and the sizes against each other.
//
// The compact form (section version 2, `textcnn quantize --compact`) stores what the table is
// made of instead of the table: the embedding output of every word as int8 codes with one scale
// per word (the largest |value| of the word / 127), and the float convolution weights. The codes
// are rounded with error compensation (GPTQ, quantized_text_cnn.cpp), each the floor or the
// ceiling of its value, so that the tables' error, not the embedding's, is small. At load
// the table is made again, 128 words at a time (a GEMM per branch on the decoded embeddings,
// as FoldedTextCnn::table_rows makes the float table, then the per-filter codes with the stored
// scales), so the file holds
// channels + 4 bytes per word instead of `columns` (304 instead of 1,200 for Kim's model) and
// prediction runs on the same int8 table as the version-1 form. After the common part above,
// instead of the table: u64 channels, floats word scales (vocab), u64 code bytes (vocab x
// channels) and the codes (row per word; the padding row zero), then per branch floats
// convolution weights ((taps x channels) x filters, column-major). The error bound adds the
// embedding rounding: a table value moves by at most largest word scale x sum over channels of
// |weight| before its own rounding.
//
// The compact refined form (section version 4, `textcnn quantize --compact --refine`) is the
// compact payload, byte for byte; a load makes the residual codes below along with the table, so
// the file stays a third of the float model's and the tables' rounding is removed from the texts
// in doubt, as in the refined form. What scoring again cannot remove is the embedding's rounding:
// its labels are the float model's unless the float logits are within the embedding's share of
// the bound (plus twice the refined tables') of a tie.
//
// The refined form (section version 3, `textcnn quantize --refine`) is the version-1 payload
// followed by a 4-bit residual code per table value: u64 residual bytes (vocab x half, half =
// ceil(columns / 2)), then a row of `half` bytes per word: byte j holds column j's code in its
// low nibble and column j + half's in its high one (two's complement, -7..7; the padding row's
// codes, and a high nibble past the row's end, are zero). A value is then
// scale x (code + residual / 14), within scale / 28 of the float table's: 14 times closer.
// A text's int8 logits are used when they decide its label, that is when the top logit leads
// every other by more than the pair's bound (sum over features of |w_top,f - w_other,f| x taps
// x scale_f / 2, margin_bound()); otherwise the text is scored again from code x 14 + residual
// (int16 sums up to 18 taps, int32 beyond), and its logits are within
// refined_logit_error_bound() (a 14th of logit_error_bound()) of the float folded model's. So
// the label equals the float model's unless its top two logits are within twice that of a tie.
// The residual codes cost half the table's bytes again, in the file and in memory; they are
// read only for the texts scored again (README: 7.1 % of bench/predict_speed.sh's 100,000 lines
// for its Kim model, 16.9 % of the SST-2 test sentences).
#pragma once

#include "core/huge_pages.h"
#include "text/folded_text_cnn.h"
#include "textcnn/core/bytes.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace textcnn::detail {

/// What the model around a quantized section says: its vocabulary size and label count (0: not
/// checked), and the bytes a compact form's table (with its residual codes) may take when made
/// at load: an ensemble's members share one budget (TextClassifier::default_fold_limit).
struct QuantizedSectionExpectation {
    std::size_t vocab = 0, classes = 0;
    std::size_t max_table_bytes = std::size_t{1} << 30;
};

class QuantizedTextCnn {
public:
    /// The newest section version this build reads (1: the table, 2: the compact form, 3: the
    /// table and its residual codes, 4: the compact form whose load makes residual codes too).
    static constexpr std::uint32_t section_version = 4;
    /// A residual code counts 1 / refine_steps of a scale.
    static constexpr int refine_steps = 14;
    static constexpr const char* section_tag = "QFLD";

    /// Quantizes a folded model's tables. ConfigError when a branch has more than 258 taps (its
    /// int16 sums could overflow).
    /// With `refine`, the residual codes too (the refined form described above).
    static QuantizedTextCnn quantize(const FoldedTextCnn& folded, bool refine = false);
    /// The compact form of the same: `inputs` are the table inputs of the network `folded` was
    /// made from (FoldedTextCnn::table_inputs); the table is made from the int8 embeddings, as
    /// a load makes it. ConfigError as quantize(). With `refine`, the residual codes of that
    /// table too (the compact refined form).
    static QuantizedTextCnn quantize_compact(const FoldedTextCnn& folded, const FoldedTextCnn::TableInputs& inputs,
                                             bool refine = false);

    /// How the compact form's embedding values become codes.
    enum class Rounding {
        nearest,      ///< each value to its nearest code
        compensated,  ///< GPTQ's error-compensated rounding (quantized_text_cnn.cpp), each code the
                      ///< floor or the ceiling of its value; nearest beyond 1,024 channels
    };
    /// The compact form's embedding codes of `inputs` (vocab x channels, row per word, the
    /// padding row zero) and, into `scales`, one scale per word (its largest |value| / 127).
    static std::vector<std::int8_t> embedding_codes(const FoldedTextCnn::TableInputs& inputs, std::size_t vocab,
                                                    std::vector<float>& scales, Rounding rounding);

    /// The section payload described above, and its version (2 for the compact form, 3 for the
    /// refined one, 4 for the compact refined one).
    std::vector<std::uint8_t> encode() const;
    std::uint32_t encoded_version() const { return compact_ ? (refined() ? 4 : 2) : refined() ? 3 : 1; }
    using Expected = QuantizedSectionExpectation;
    /// Parses a payload of section version `version` (a version-1 or 3 payload is taken over:
    /// the table stays where it was read, no copy; a compact one is freed once the table is
    /// made). InputError naming `source` for any inconsistency, and for counts other than
    /// `expected`'s (checked before the tables are allocated).
    static QuantizedTextCnn decode(UnfilledBytes payload, std::uint32_t version, const std::string& source,
                                   Expected expected = {});
    /// The same from a copy of `payload`.
    static QuantizedTextCnn decode(std::span<const std::uint8_t> payload, std::uint32_t version,
                                   const std::string& source, Expected expected = {}) {
        return decode(UnfilledBytes(payload.begin(), payload.end()), version, source, expected);
    }
    /// Whether the table is stored in the compact form.
    bool compact() const { return compact_.has_value(); }
    /// Whether the residual codes are held (the refined form, or the compact refined one).
    bool refined() const { return residual_offset_ != 0; }
    /// Bytes the tables take in a file: the table, or the compact form's codes, scales and weights.
    std::size_t stored_bytes() const;

    std::size_t vocab() const { return vocab_; }
    std::size_t classes() const { return output_.classes; }
    /// Each branch's convolution as (width, dilation, filters), in the section's order.
    std::vector<std::array<std::size_t, 3>> convolutions() const {
        std::vector<std::array<std::size_t, 3>> out;
        for (const Branch& b : branches_) out.push_back({b.taps, b.dilation, b.filters});
        return out;
    }
    /// Bytes of the int8 table (and its residual codes) plus the float bag logits.
    std::size_t table_bytes() const {
        return vocab_ * columns_ + residual_bytes() + output_.bag_logits.size() * sizeof(float);
    }
    /// Bytes of one word's row: every tap of every width.
    std::size_t row_bytes() const { return columns_; }
    bool has_wide_branch() const { return output_.bag.has_value(); }
    /// The wide branch's settings {n-gram order, buckets, binary, mean} (has_wide_branch() only).
    std::array<std::size_t, 4> wide_branch() const {
        return {output_.bag->ngrams, output_.bag->buckets, output_.bag->binary, output_.bag->mean};
    }

    /// A text's table rows with `margin` padding rows (zeros) on each side.
    struct Rows {
        std::vector<const std::int8_t*> rows;
        std::size_t length = 0, margin = 0;
    };
    /// Outputs whose refined rows are made at once (refined_logits()).
    static constexpr std::size_t refine_block_outputs = 512;
    /// Per-thread scratch of logits().
    struct Scratch {
        Rows rows;
        std::vector<std::int16_t> sums;
        std::vector<float> features;
        std::vector<std::int16_t> fine;  ///< refined rows: code x 14 + residual
        std::vector<std::int32_t> fine_best;
    };
    /// Logits of one text into logits[0 .. classes), as FoldedTextCnn::logits (same padding and
    /// empty-text rules); in the refined form, scored again from the residual codes when the
    /// int8 logits leave the label in doubt. Returns whether it was scored again. InputError
    /// for an id >= vocab(). Const and thread-safe; `scratch` belongs to the calling thread.
    bool logits(std::span<const std::uint32_t> ids, float* logits, Scratch& scratch) const;
    /// The refined logits of a text whatever its int8 ones (refined() only). As logits().
    void refined_logits(std::span<const std::uint32_t> ids, float* logits, Scratch& scratch) const;
    /// Whether int8 logits leave the label in doubt: some other class within its margin_bound()
    /// of the top one.
    bool undecided(const float* logits) const;

    /// The bound on |logit - float folded logit| described above, one per class (in the compact
    /// forms, the embedding's rounding included).
    std::vector<float> logit_error_bound() const;
    /// The same for refined logits: the tables' share a 14th of it, the embedding's unchanged
    /// (refined() only; empty otherwise).
    std::vector<float> refined_logit_error_bound() const;
    /// The bound on the change of logit a - logit b by the tables' rounding (classes x classes,
    /// row a): sum over features of |w_af - w_bf| x taps x scale_f / 2, with an allowance of
    /// 1e-4 x it + 1e-5 for float summation order; empty when not refined() or beyond 64
    /// classes (undecided() then adds the two logits' bounds). The embedding's rounding (compact
    /// forms) is left out: scoring again does not remove it.
    const std::vector<float>& margin_bound() const { return margin_bound_; }
    /// The largest bound on a logit's error by the tables' rounding, with the allowance of
    /// margin_bound(): of int8 logits, or (`scored_again`, refined() only) of refined ones.
    float largest_logit_bound(bool scored_again) const;

private:
    using Activation = FoldedTextCnn::Activation;
    struct Branch {
        std::size_t taps = 0, dilation = 1, filters = 0;
        std::size_t column = 0;  ///< first byte of tap 0 in a row
        std::vector<float> bias, scale;
        Activation activation = Activation::identity;
    };

    /// Filters summed at once: 16 int16 lanes (one AVX2 register; two SSE2 ones).
    static constexpr std::size_t block = 16;
    /// Max over time of filters [first, first + block) of branch b into best[0 .. block); the
    /// first pass over a text (`prefetch`) fetches rows ahead. Requires b.filters >= block.
    void pool_block(const Branch& b, const Rows& rows, std::size_t first, bool prefetch, std::int16_t* best) const;
    /// Max over time of all filters of branch b (at most 8 blocks) into best[0 .. 16 x blocks).
    template <std::size_t Blocks>
    void pool_wide(const Branch& b, const Rows& rows, bool prefetch, std::int16_t* best) const;
    /// Max over time of every filter of branch b into best[0 .. filters + 127).
    void pool(const Branch& b, const Rows& rows, bool prefetch, std::int16_t* best) const;
    /// Zero bytes after the table, so that 16-lane loads of a row's last filters stay inside.
    static constexpr std::size_t trailer = 8 * block;

    std::size_t vocab_ = 0, columns_ = 0;
    std::size_t widest_ = 0;       ///< most filters of a branch
    std::size_t widest_span_ = 0;  ///< most padding of a branch: dilation x (taps - 1)
    std::vector<Branch> branches_;
    FoldedTextCnn::Output output_;
    /// The compact form's inputs of the table (kept to write the file again).
    struct Compact {
        std::size_t channels = 0;
        std::vector<float> word_scale;           ///< vocab values, >= 0
        /// vocab x channels, row per word; on huge pages (copied out of a payload at load: 4 MB
        /// first touched in 4 KiB pages took ~15 ms of a load here)
        std::vector<std::int8_t, HugePageAllocator<std::int8_t>> codes;
        /// The convolution weights of every branch, tap and filter in the table's column order:
        /// channels x columns, column-major (column branch.column + tap x filters + filter holds
        /// that filter's weights of that tap over the channels), so that one GEMM makes a block
        /// of table rows (1.4 MB for Kim's model, on huge pages like the codes). The file keeps
        /// each branch's (taps x channels) x filters (stored_weights(), set_weights()).
        std::vector<float, HugePageAllocator<float>> weights;
        const float* weight(std::size_t column) const { return weights.data() + column * channels; }
    };
    /// Branch b's weights as the file stores them: (taps x channels) x filters, column-major.
    std::vector<float> stored_weights(std::size_t branch) const;
    /// Puts branch b's weights, stored as the file stores them, into compact_->weights (sized).
    void set_weights(std::size_t branch, std::span<const float> stored);
    std::optional<Compact> compact_;
    /// Makes the int8 table (built_) from compact_ with the branches' scales, and with
    /// `refine` its residual codes.
    void build_table(bool refine);
    /// Everything of quantize() but the table's codes: the per-filter scales from the float
    /// table, and built_ allocated for the codes (its trailer zeroed). ConfigError as quantize().
    /// `residual_bytes` > 0: room for the residual codes after the table (the refined form).
    static QuantizedTextCnn scaled(const FoldedTextCnn& folded, std::size_t residual_bytes = 0);
    /// Each table column's scale (its filter's), columns_ values.
    std::vector<float> column_scales() const;
    /// Codes of `count` float table rows (row-major, columns_ each) into table rows first ...,
    /// and in the refined form their residual codes too.
    void encode_rows(const float* rows, std::size_t first, std::size_t count, const std::vector<float>& column_scale);
    /// The shared part of the payload: everything but the table or its compact inputs.
    void encode_common(ByteWriter& w) const;
    static QuantizedTextCnn decode_common(ByteReader& r);
    /// Reads the compact form's payload into compact_ (build_table() makes the table, and with
    /// `refine` its residual codes: their bytes count in the 1 GiB bound).
    void decode_compact(ByteReader& r, bool refine, std::size_t max_table_bytes);
    /// The compact form's share of the error bound of filter `filter` of branch `branch` (0 otherwise).
    double embedding_error(std::size_t branch, std::size_t filter) const;

    /// Each feature's bound before the output layer: taps x scale / 2 (a 14th of it
    /// `scored_again`), + embedding_error() `with_embedding`.
    std::vector<double> feature_error_bounds(bool scored_again, bool with_embedding) const;
    /// Each logit's bound from those: the output weights' sum of the features' bounds.
    std::vector<float> logit_bounds(bool scored_again, bool with_embedding) const;
    /// Sets margin_bound_ (after the branches and the output layer are known).
    void set_margin_bound();
    /// Bytes of one word's residual codes: two per byte.
    std::size_t residual_row_bytes() const { return (columns_ + 1) / 2; }
    std::size_t residual_bytes() const { return refined() ? vocab_ * residual_row_bytes() : 0; }

    /// Fills `rows` with the table rows of `ids` (InputError for an id >= vocab()).
    void set_rows(std::span<const std::uint32_t> ids, Rows& rows) const;
    /// Row `word` of the refined table, code x 14 + residual, into out[0 .. columns_).
    void fine_row(std::size_t word, std::int16_t* out) const;
    /// The text positions [first, end) whose refined rows a block holds, from row 1 on.
    struct FineRows {
        std::size_t first, end;
    };
    /// Max over outputs [o0, o1) of branch b's refined sums into top[0 .. filters) (kept
    /// across blocks); `fine` holds the zero row, then the refined rows of `rows`' positions
    /// (every position the outputs read inside the text); `scratch` has widest_ values.
    /// fine_pool's int16 sums for a branch of at most 8 x 16 filters, in registers.
    void fine_pool_wide(const Branch& b, const std::int16_t* fine, FineRows rows, std::size_t o0, std::size_t o1,
                        std::int32_t* top) const;
    template <std::size_t Blocks>
    void fine_pool_blocks(const Branch& b, const std::int16_t* fine, FineRows rows, std::size_t o0, std::size_t o1,
                          std::int32_t* top) const;
    template <class Sum>
    void fine_pool(const Branch& b, const std::int16_t* fine, FineRows rows, std::size_t o0, std::size_t o1,
                   std::int32_t* top, std::int32_t* scratch) const;

    std::vector<float> margin_bound_;    ///< classes x classes (empty beyond 64 classes)
    std::vector<float> logit_bound_;     ///< logit_error_bound() with the same allowance
    float largest_bound_ = 0.0f;         ///< the largest of logit_bound_
    float largest_refined_bound_ = 0.0f; ///< the same for refined logits (refined() only)
    /// The table and residual codes of a decoded payload, where they were read (empty when built_ holds them).
    UnfilledBytes storage_;
    /// The table and residual codes made here (quantize(), a compact form's load): allocated
    /// unwritten, so that the threads that write the rows take their pages' faults.
    UnfilledBytes built_;
    std::size_t table_offset_ = 0;       ///< where the table starts in held_bytes()
    std::size_t residual_offset_ = 0;    ///< where the residual codes start in held_bytes() (0: none)
    const std::uint8_t* held_bytes() const { return built_.empty() ? storage_.data() : built_.data(); }
    const std::int8_t* table() const { return reinterpret_cast<const std::int8_t*>(held_bytes() + table_offset_); }
};

}  // namespace textcnn::detail
