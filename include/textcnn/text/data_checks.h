// Checks of labelled data before training: what a tired user gets wrong with a CSV file, said
// before any time is spent. Run by TextTrainingRun on the training and dev documents; usable
// on their own (a program that builds its documents itself).
//
// Changed in place, each change counted in a warning:
//   - labels are trimmed of surrounding white space and invisible code points ("pos ",
//     " pos", "pos\u3000" and "\uFEFFpos" are "pos").
// Errors (InputError, naming the source and what to change):
//   - an empty label (after trimming), or one that is not valid UTF-8, with its line;
//   - every document with a label of its own (the label column holds something else).
// Warnings (returned; the data is left as it is), each naming lines or labels:
//   - labels that differ only by letter case ("Pos" and "pos" are two classes), by
//     characters that do not show (a zero-width space inside), or by the kind of white space
//     ("very good" and "very\u00A0good");
//   - a class with fewer than few_documents documents;
//   - more labels than a classifier can learn from the documents (fewer than 2 per label on
//     average);
//   - empty texts;
//   - identical texts under different labels (up to three named, with their lines);
//   - rows that repeat the header (label and text equal the column names), and a label column
//     named like one of the labels (the header row may be a document);
//   - labels that look like texts (several words), or texts that look like labels (the columns
//     swapped: few distinct short texts against many distinct labels).
// Two passes over the documents (the second hashes each text once) plus a sort of the distinct
// labels. Thread-compatible (no shared state).
#pragma once

#include "textcnn/text/document_reader.h"

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace textcnn {

/// Names a document from its Document::line in messages (see DataCheckOptions::document_name).
using DocumentNamer = std::function<std::string(std::size_t line)>;

/// "line 41", or `namer`'s name for the document of that line.
std::string document_at(const DocumentNamer& namer, std::size_t line);
/// "lines 3, 7", or the names `namer` gives them ("a.eml, b.eml").
std::string documents_at(const DocumentNamer& namer, const std::vector<std::size_t>& lines);

struct DataCheckOptions {
    /// Names the data in messages ("train.csv").
    std::string source = "training data";
    /// Column names of the file, when it had a header: rows equal to them are reported.
    std::string label_column;
    std::string text_column;
    /// A class with fewer documents than this gets a warning.
    std::size_t few_documents = 5;
    /// Whether "every document has its own label" and "too many labels" apply (training data;
    /// not a dev set, which may be small).
    bool training = true;
    /// How messages name a document, from its Document::line: empty = "line 41" (of `source`).
    /// For documents that are not lines of one file (textcnn-mail: the files of a maildir, the
    /// messages of an mbox) the caller names each ("spam/0042.eml").
    DocumentNamer document_name{};
};

/// `label` without the white space (Unicode White_Space) and invisible code points (Unicode
/// Default_Ignorable_Code_Point: zero-width spaces, byte-order marks...) around it, as
/// check_labelled_documents trims labels: for data scored against a trained model's labels.
std::string trimmed_label(std::string_view label);

/// `label` with each invisible code point, each control character (C0, DEL, C1) and each white
/// space but ' ' written as <U+200B>, as the warnings show labels: for a message that names a
/// label. A label longer than 100 bytes
/// is cut after its first 80 and said to be so ("first words... (320000 bytes)"): a message
/// names it, it does not reproduce it.
std::string shown_label(std::string_view label);

/// Whether two labels read the same though their bytes differ: letter case (Unicode case
/// folding), Unicode form (composed or decomposed 'café'), character width ('ｓｐａｍ'),
/// spacing, or characters that do not show. For hints when a label is not the model's.
bool labels_look_alike(std::string_view a, std::string_view b);

/// "SOURCE: 3 labels had white space or invisible characters ... around them and were trimmed
/// (first: line 2)": the warning check_labelled_documents gives, for a program that trims with
/// trimmed_label() itself.
std::string trimmed_labels_warning(const std::string& source, std::size_t count, std::size_t first_line,
                                   const DocumentNamer& namer = {});

/// Checks `documents` (each must have a label) as described above; trims labels in place.
/// Returns the warnings, in the order above.
std::vector<std::string> check_labelled_documents(std::vector<Document>& documents, const DataCheckOptions& options);

}  // namespace textcnn
