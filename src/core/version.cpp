#include "textcnn/version.h"

namespace textcnn {

const char* version() noexcept { return TEXTCNN_VERSION_STRING; }

}  // namespace textcnn
