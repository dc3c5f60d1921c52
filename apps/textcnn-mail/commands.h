// The textcnn-mail subcommands: train (a spam model from maildirs, mbox files or a CSV of raw
// messages), classify (one message stdin -> stdout with X-Spam-Flag/X-Spam-Score, or a
// maildir batch as TSV) and extract (what the model reads).
//
// Exit codes (main.cpp): 0 ham / success, 1 spam (classify of one message), 2 usage error,
// 3 any other error; classify of one message still writes the message through then, with
// X-Spam-Flag: UNKNOWN.
#pragma once

#include "cli_main.h"

#include "textcnn/mail/mail_text.h"
#include "textcnn/text/text_classifier.h"

#include <CLI/CLI.hpp>

#include <cstddef>
#include <string>
#include <vector>

namespace mail_cli {

using cli_common::Command;

Command add_train_command(CLI::App& app);
Command add_classify_command(CLI::App& app);
Command add_extract_command(CLI::App& app);

/// Exit code of every error but usage errors (1 is "spam").
inline constexpr int error_exit_code = 3;

/// Metadata key of a model's extraction setting, written by train and read by classify, so
/// that a model always reads the text the way it was trained on.
inline constexpr const char* max_body_bytes_key = "mail_max_body_bytes";

/// --max-body-bytes (textcnn::mail::MailTextOptions::max_body_bytes).
void add_max_body_bytes_option(CLI::App& command, std::size_t& bytes);

/// The extraction options a model was trained with (its metadata; the defaults when absent).
textcnn::mail::MailTextOptions mail_text_options_of(const textcnn::TextClassifier& model, const std::string& model_path);

/// The index of the label "spam" (ASCII case ignored) among the model's labels; InputError
/// naming the model and its labels when there is none.
std::size_t spam_label_index(const textcnn::TextClassifier& model, const std::string& model_path);

/// Whether `classify` wrote the message on stdin to stdout (judged, or passed through as
/// UNKNOWN) in this process.
bool message_written();

/// For a `classify` of one message that ended before it read its input (a command line CLI11
/// refused: an unknown option, no --model): the message on stdin goes through unjudged with
/// X-Spam-Flag: UNKNOWN, so that a mistyped filter rule loses no mail. Does nothing when
/// stdin is a terminal.
void pass_through_unjudged();

/// The program's arguments as one line (stored in model metadata).
std::string command_line();

}  // namespace mail_cli
