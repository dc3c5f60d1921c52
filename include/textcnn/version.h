// The version of textcnn, semantic versioning (MAJOR.MINOR.PATCH): while MAJOR is 0, a new
// MINOR may change the API; PATCH releases keep it. CMakeLists.txt reads the three numbers from
// this file, so the package version (textcnnConfigVersion.cmake, textcnn.pc) and the library's
// own are one and the same.
#pragma once

#define TEXTCNN_VERSION_MAJOR 0
#define TEXTCNN_VERSION_MINOR 1
#define TEXTCNN_VERSION_PATCH 0

#define TEXTCNN_VERSION_STRINGIFY_(x) #x
#define TEXTCNN_VERSION_STRINGIFY(x) TEXTCNN_VERSION_STRINGIFY_(x)
/// "0.1.0": the version of the headers a program was compiled against.
#define TEXTCNN_VERSION_STRING                                                                 \
    TEXTCNN_VERSION_STRINGIFY(TEXTCNN_VERSION_MAJOR)                                           \
    "." TEXTCNN_VERSION_STRINGIFY(TEXTCNN_VERSION_MINOR) "." TEXTCNN_VERSION_STRINGIFY(TEXTCNN_VERSION_PATCH)

namespace textcnn {

/// The version of the library the program runs with ("0.1.0"); compare it with
/// TEXTCNN_VERSION_STRING (the headers it was compiled against) to detect a mismatched shared
/// library. Requires nothing; returns a static string that lives as long as the program;
/// throws nothing; thread-safe.
const char* version() noexcept;

}  // namespace textcnn
