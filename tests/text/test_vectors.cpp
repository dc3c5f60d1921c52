#define BOOST_TEST_MODULE vectors
#include <boost/test/unit_test.hpp>

#include "textcnn/core/error.h"
#include "textcnn/text/vectors.h"

#include <bit>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include <sys/stat.h>
#include <unistd.h>

using namespace textcnn;
using Tokens = std::vector<std::string>;

namespace {

Vocabulary vocabulary_of(const Tokens& words) { return Vocabulary::build(std::vector<Tokens>{words}); }

std::string float_bytes(std::initializer_list<float> values) {
    std::string out;
    for (const float v : values) {
        const auto bits = std::bit_cast<std::uint32_t>(v);
        for (int b = 0; b < 4; ++b) out.push_back(static_cast<char>((bits >> (8 * b)) & 0xFF));
    }
    return out;
}

PretrainedVectors load(const std::string& content, const std::string& source, const Vocabulary& vocabulary,
                       VectorsOptions options = {}) {
    std::istringstream in(content, std::ios::binary);
    return load_pretrained_vectors(in, source, vocabulary, options);
}

std::string error_of(const std::string& content, const std::string& source, const Vocabulary& vocabulary,
                     VectorsOptions options = {}) {
    try {
        load(content, source, vocabulary, options);
    } catch (const InputError& e) {
        return e.what();
    }
    return "no error";
}

/// The vector of `id` in a result, or an empty vector.
std::vector<float> vector_of(const PretrainedVectors& v, std::uint32_t id) {
    const auto it = std::find(v.ids.begin(), v.ids.end(), id);
    if (it == v.ids.end()) return {};
    const auto k = static_cast<std::size_t>(it - v.ids.begin());
    return {v.values.begin() + static_cast<std::ptrdiff_t>(k * v.dim),
            v.values.begin() + static_cast<std::ptrdiff_t>((k + 1) * v.dim)};
}

}  // namespace

BOOST_AUTO_TEST_CASE(vectors_trained_by_the_fasttext_tool) {
    // Text written here, vectors made by Debian's fasttext at test time (scripts/setup.sh
    // installs it; a missing tool fails this test).
    const auto dir = std::filesystem::path(TEXTCNN_BINARY_DIR) / "test_vectors_work";
    std::filesystem::create_directories(dir);
    const Tokens words = {"the", "cat", "sat", "on", "mat", "dog", "ran", "in", "park", "a", "big", "small",
                          "red", "ball", "and", "slept", "under", "tree", "bird", "sang"};
    std::mt19937 rng(4);
    {
        std::ofstream text(dir / "corpus.txt");
        for (int line = 0; line < 400; ++line) {
            for (int k = 0; k < 8; ++k) text << words[rng() % words.size()] << (k < 7 ? ' ' : '\n');
        }
    }
    const std::string command = "fasttext skipgram -input '" + (dir / "corpus.txt").string() + "' -output '" +
                                (dir / "model").string() +
                                "' -dim 10 -minCount 1 -epoch 5 -thread 1 -bucket 1000 -verbose 0 > '" + (dir / "fasttext.log").string() +
                                "' 2>&1";
    BOOST_TEST_REQUIRE(std::system(command.c_str()) == 0, "fasttext failed or is missing: " << command);

    Tokens wanted = words;
    wanted.push_back("unicorn");  // not in the corpus
    const Vocabulary vocabulary = vocabulary_of(wanted);
    const auto vec_path = (dir / "model.vec").string();
    const PretrainedVectors v = load_pretrained_vectors(vec_path, vocabulary);
    BOOST_TEST(v.format == "text with header");
    BOOST_TEST(v.dim == 10u);
    BOOST_TEST(v.file_vectors == words.size() + 1);  // fastText adds "</s>"
    BOOST_TEST(v.coverage() == "20 of 21 words found");
    BOOST_TEST(vector_of(v, vocabulary.lookup("unicorn")).empty());

    // Compare with the file read independently.
    std::ifstream in(vec_path);
    std::string line;
    std::getline(in, line);
    BOOST_TEST(line == "21 10");
    std::size_t compared = 0;
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        std::string word;
        fields >> word;
        std::vector<float> expected;
        std::string number;
        while (fields >> number) expected.push_back(std::stof(number));
        BOOST_TEST_REQUIRE(expected.size() == 10u);
        if (const auto id = vocabulary.find(word)) {
            BOOST_TEST_REQUIRE(vector_of(v, *id) == expected);
            ++compared;
        }
    }
    BOOST_TEST(compared == 20u);

    BOOST_CHECK_EXCEPTION(load_pretrained_vectors(vec_path, vocabulary, VectorsOptions{128, nullptr}),
                          VectorsDimensionError, [&](const VectorsDimensionError& e) {
                              return std::string(e.what()) == vec_path +
                                                                  ": the vectors have 10 dimensions, the model's "
                                                                  "embedding 128: they must be equal" &&
                                     e.file_dim == 10 && e.expected_dim == 128;
                          });
}

BOOST_AUTO_TEST_CASE(word2vec_binary_hand_made) {
    const Vocabulary vocabulary = vocabulary_of({"the", "cat", "dog"});
    // Header, then "word " + 3 little-endian floats, with word2vec's newline after each vector
    // except the last (gensim writes none at all).
    const std::string file = "3 3\n" + std::string("the ") + float_bytes({0.5f, -1.25f, 3.0f}) + "\n" + "cat " +
                             float_bytes({1e-3f, 2.0f, -0.0f}) + "\n" + "bird " + float_bytes({7.0f, 8.0f, 9.0f});
    const PretrainedVectors v = load(file, "v.bin", vocabulary);
    BOOST_TEST(v.format == "word2vec binary");
    BOOST_TEST(v.dim == 3u);
    BOOST_TEST(v.file_vectors == 3u);
    BOOST_TEST(vector_of(v, vocabulary.lookup("the")) == (std::vector<float>{0.5f, -1.25f, 3.0f}));
    BOOST_TEST(vector_of(v, vocabulary.lookup("cat")) == (std::vector<float>{1e-3f, 2.0f, -0.0f}));
    BOOST_TEST(v.coverage() == "2 of 3 words found");
    BOOST_TEST(v.ids == (std::vector<std::uint32_t>{2, 4}));  // ascending ids: cat 2, dog 3, the 4

    const std::string gensim = "2 2\nthe " + float_bytes({1, 2}) + "cat " + float_bytes({3, 4});
    const PretrainedVectors g = load(gensim, "g.bin", vocabulary);
    BOOST_TEST(vector_of(g, vocabulary.lookup("cat")) == (std::vector<float>{3, 4}));
}

BOOST_AUTO_TEST_CASE(truncated_binary_names_the_byte) {
    const Vocabulary vocabulary = vocabulary_of({"the", "cat"});
    std::string file = "3 4\nthe " + float_bytes({1, 2, 3, 4}) + "\ncat " + float_bytes({5, 6, 7, 8});
    file.resize(34);  // header 4 bytes, "the " + 16 + "\n" = 21, "cat " = 4, then 5 of 16 bytes
    BOOST_TEST(error_of(file, "v.bin", vocabulary) ==
               "v.bin: truncated at byte 34: the vector of 'cat' (vector 2, from byte 29) needs 16 bytes, 5 remain");
    const std::string short_count = "3 1\nthe " + float_bytes({1}) + "\ncat " + float_bytes({2}) + "\n";
    BOOST_TEST(error_of(short_count, "v.bin", vocabulary) ==
               "v.bin: the header announces 3 vectors but the file ends after 2 (byte 22)");
    const std::string inside_word = "2 1\nthe " + float_bytes({1}) + "\nca";
    BOOST_TEST(error_of(inside_word, "v.bin", vocabulary) ==
               "v.bin: truncated at byte 15: the file ends inside word 2 ('ca')");
    const std::string nan = "1 2\nthe " + float_bytes({1, std::numeric_limits<float>::quiet_NaN()});
    BOOST_TEST(error_of(nan, "v.bin", vocabulary) == "v.bin: byte 12: value 2 of 'the' is not a finite number");
}

BOOST_AUTO_TEST_CASE(glove_text_without_header) {
    const Vocabulary vocabulary = vocabulary_of({"the", "cat", ". . ."});
    const std::string file = "the 0.1 -0.2 3e-2\r\ncat 1 2 3\n. . . 4 5 6\nzebra 7 8 9\n\n";
    const PretrainedVectors v = load(file, "glove.txt", vocabulary);
    BOOST_TEST(v.format == "text without header");
    BOOST_TEST(v.dim == 3u);
    BOOST_TEST(v.file_vectors == 4u);
    BOOST_TEST(vector_of(v, vocabulary.lookup("the")) == (std::vector<float>{0.1f, -0.2f, 3e-2f}));
    BOOST_TEST(vector_of(v, vocabulary.lookup(". . .")) == (std::vector<float>{4, 5, 6}));  // a word with spaces
    BOOST_TEST(v.coverage() == "3 of 3 words found");
    BOOST_TEST(error_of(file, "glove.txt", vocabulary, VectorsOptions{300, nullptr}) ==
               "glove.txt: the vectors have 3 dimensions, the model's embedding 300: they must be equal");
}

BOOST_AUTO_TEST_CASE(word2vec_text_with_header) {
    const Vocabulary vocabulary = vocabulary_of({"the", "cat"});
    const std::string file = "2 2\nthe 1.5 2.5 \ncat -1 -2 \n";  // word2vec writes a space before the newline
    const PretrainedVectors v = load(file, "w2v.txt", vocabulary);
    BOOST_TEST(v.format == "text with header");
    BOOST_TEST(vector_of(v, vocabulary.lookup("cat")) == (std::vector<float>{-1, -2}));
    // Many short lines inside the bytes read while telling binary from text.
    const std::string short_lines = "4 1\nthe 1\na 2\nb 3\ncat 4\n";
    BOOST_TEST(vector_of(load(short_lines, "w.txt", vocabulary), vocabulary.lookup("cat")) == (std::vector<float>{4}));
}

BOOST_AUTO_TEST_CASE(truncated_or_malformed_text_names_the_line) {
    const Vocabulary vocabulary = vocabulary_of({"the"});
    BOOST_TEST(error_of("the 1 2 3\ncat 4 5 6\ndog 7", "v.txt", vocabulary) ==
               "v.txt:3: expected 3 numbers after 'dog', found 1 (truncated file?)");
    BOOST_TEST(error_of("3 2\nthe 1 2\ncat 3 4\n", "v.vec", vocabulary) ==
               "v.vec: the header announces 3 vectors but the file ends after 2 (line 3)");
    BOOST_TEST(error_of("1 2\nthe 1 2\ncat 3 4\n", "v.vec", vocabulary) ==
               "v.vec: the header announces 1 vectors but the file has 2 (line 3)");
    BOOST_TEST(error_of("the 1 2\ncat 3 x\n", "v.txt", vocabulary) == "v.txt:2: value 2 of 'cat' is not a finite number: 'x'");
    BOOST_TEST(error_of("the 1 2\ncat 3 inf\n", "v.txt", vocabulary) ==
               "v.txt:2: value 2 of 'cat' is not a finite number: 'inf'");
    BOOST_TEST(error_of("the 1 2\ncat 3 4 5\n", "v.txt", vocabulary) == "v.txt:2: 'cat' has 3 or more numbers, expected 2");
    BOOST_TEST(error_of("", "v.txt", vocabulary) == "v.txt: the file is empty");
    BOOST_TEST(error_of("0 0\n", "v.txt", vocabulary) == "v.txt:1: dimension 0 is out of range (1 to 65536)");
}

BOOST_AUTO_TEST_CASE(matching_after_normalization_exact_wins) {
    const Vocabulary vocabulary = vocabulary_of({"apple", "paris", "cafe\u0301"});
    const Tokenizer tokenizer;  // lowercase + NFKC, as the vocabulary was built
    const std::string file = "Apple 1 1\napple 2 2\nParis 3 3\nCAFÉ 4 4\nparis2 5 5\n";
    const PretrainedVectors exact_only = load(file, "v.txt", vocabulary);
    BOOST_TEST(exact_only.coverage() == "1 of 3 words found");
    const PretrainedVectors v = load(file, "v.txt", vocabulary, VectorsOptions{0, &tokenizer});
    BOOST_TEST(vector_of(v, vocabulary.lookup("apple")) == (std::vector<float>{2, 2}));  // exact beats "Apple"
    BOOST_TEST(vector_of(v, vocabulary.lookup("paris")) == (std::vector<float>{3, 3}));
    // "cafe" + U+0301 in the vocabulary is not NFKC, so "CAFÉ" (-> "café") cannot reach it.
    BOOST_TEST(vector_of(v, vocabulary.lookup("cafe\u0301")).empty());
    BOOST_TEST(v.coverage() == "2 of 3 words found (1 after normalization)");
}

BOOST_AUTO_TEST_CASE(repeated_and_invalid_words) {
    const Vocabulary vocabulary = vocabulary_of({"the"});
    const PretrainedVectors v = load("the 1\nthe 2\nb\xFF 3\nzebra 4\nzebra 5\nthe 6\n", "v.txt", vocabulary);
    BOOST_TEST(vector_of(v, vocabulary.lookup("the")) == (std::vector<float>{1}));
    BOOST_TEST(v.file_vectors == 6u);
    // Repeats of a vocabulary word are counted (those of other words are never looked at).
    BOOST_TEST(v.repeated_words == 2u);
    BOOST_TEST(v.first_repeated_word == "the");
}

BOOST_AUTO_TEST_CASE(copy_into_an_embedding_table) {
    const Vocabulary vocabulary = vocabulary_of({"the", "cat"});
    const PretrainedVectors v = load("the 1 2\nzebra 5 5\n", "v.txt", vocabulary);
    std::vector<float> table(2 * vocabulary.size(), -9.0f);
    v.copy_into(table, vocabulary.size());
    // Columns: 0 pad, 1 unk, 2 cat, 3 the; only "the" is written.
    BOOST_TEST(table == (std::vector<float>{-9, -9, -9, -9, -9, -9, 1, 2}));
    std::vector<float> small(4);
    BOOST_CHECK_THROW(v.copy_into(small, 2), ConfigError);
}

BOOST_AUTO_TEST_CASE(missing_file) {
    BOOST_CHECK_EXCEPTION(load_pretrained_vectors("/nonexistent/v.vec", vocabulary_of({"a"})), IoError,
                          [](const IoError& e) {
                              return std::string(e.what()) == "/nonexistent/v.vec: cannot open: No such file or directory";
                          });
}

// Issue 15: a header "0 8" followed by vectors loaded nothing and reported "0 of 35 words
// found" with exit code 0.
BOOST_AUTO_TEST_CASE(a_header_announcing_no_vectors_is_an_error) {
    const Vocabulary vocabulary = vocabulary_of({"good"});
    BOOST_TEST(error_of("0 8\ngood 1 2 3 4 5 6 7 8\n", "v.vec", vocabulary) == "v.vec:1: the header '0 8' announces 0 vectors");
    BOOST_TEST(error_of("0 8\n", "v.vec", vocabulary) == "v.vec:1: the header '0 8' announces 0 vectors");
}

// Issue 15: a byte order mark made the header unreadable ("file has dim 1"), and CR-only line
// ends made the whole file one line ("file has dim 100").
BOOST_AUTO_TEST_CASE(byte_order_mark_and_bare_cr_line_ends) {
    const Vocabulary vocabulary = vocabulary_of({"good", "bad"});
    const VectorsOptions dim2{2};
    const PretrainedVectors with_bom = load("\xEF\xBB\xBF" "2 2\ngood 1 2\nbad 3 4\n", "v.vec", vocabulary, dim2);
    BOOST_TEST(with_bom.format == "text with header");
    BOOST_TEST(vector_of(with_bom, vocabulary.lookup("bad")) == (std::vector<float>{3, 4}));
    const PretrainedVectors bom_no_header = load("\xEF\xBB\xBFgood 1 2\r\nbad 3 4\r\n", "v.txt", vocabulary, dim2);
    BOOST_TEST(vector_of(bom_no_header, vocabulary.lookup("good")) == (std::vector<float>{1, 2}));
    BOOST_TEST(error_of("2 2\rgood 1 2\rbad 3 4\r", "v.vec", vocabulary, dim2) ==
               "v.vec:1: the lines end in a bare CR (carriage return); vectors files have LF or CRLF line ends");
}

// Issue 15: the line limit was checked after std::getline had read the whole line, so
// /dev/zero (or a file without line ends) grew without bound. The limit now stops the read.
BOOST_AUTO_TEST_CASE(a_long_line_is_refused_while_it_is_read) {
    const Vocabulary vocabulary = vocabulary_of({"good"});
    VectorsOptions options;
    options.max_line_bytes = 1000;
    for (const std::string& start : {std::string(), std::string("good 1 2 3\n")}) {
        std::istringstream in(start + std::string(16 << 20, 'a'), std::ios::binary);
        BOOST_CHECK_EXCEPTION(load_pretrained_vectors(in, "v.txt", vocabulary, options), InputError,
                              [&](const InputError& e) {
                                  BOOST_TEST_MESSAGE(e.what());
                                  return std::string(e.what()).ends_with(": line is longer than 1000 bytes");
                              });
        // Stopped at the limit, not at the end of the 16 MB.
        const auto consumed = in.rdbuf()->pubseekoff(0, std::ios::cur, std::ios::in);
        BOOST_TEST(consumed >= 0);
        BOOST_TEST(consumed < 100000);
    }
    // Fields are bounded too: a word and at most 65536 numbers (plus spaces inside the word).
    std::string many = "good";
    for (int i = 0; i < 70000; ++i) many += " 1";
    BOOST_TEST(error_of(many + "\n", "v.txt", vocabulary) == "v.txt:1: more than 66560 fields (a word and at most 65536 numbers)");
    BOOST_TEST(error_of("good 1\n" + many + "\n", "v.txt", vocabulary) ==
               "v.txt:2: more than 66560 fields (a word and at most 65536 numbers)");
}

// Issue 15: a directory read as "the file is empty", a FIFO blocked forever and /dev/zero
// never ended: only regular files are read.
BOOST_AUTO_TEST_CASE(only_regular_files_are_read) {
    const Vocabulary vocabulary = vocabulary_of({"a"});
    const std::filesystem::path dir = std::filesystem::temp_directory_path() / ("textcnn_vectors_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    BOOST_CHECK_EXCEPTION(load_pretrained_vectors(dir.string(), vocabulary), IoError, [&](const IoError& e) {
        return std::string(e.what()) == dir.string() + ": is a directory, not a vectors file";
    });
    const std::string fifo = (dir / "v.fifo").string();
    BOOST_REQUIRE_EQUAL(::mkfifo(fifo.c_str(), 0600), 0);
    BOOST_CHECK_EXCEPTION(load_pretrained_vectors(fifo, vocabulary), IoError, [&](const IoError& e) {
        return std::string(e.what()) == fifo + ": not a regular file (a FIFO); a vectors file must be a regular file";
    });
    BOOST_CHECK_EXCEPTION(load_pretrained_vectors("/dev/zero", vocabulary), IoError, [](const IoError& e) {
        return std::string(e.what()) ==
               "/dev/zero: not a regular file (a character device); a vectors file must be a regular file";
    });
    std::filesystem::remove_all(dir);
}
