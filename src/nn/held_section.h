// Reading a model file with its largest section apart, on huge pages (core/huge_pages.h).
#pragma once

#include "core/huge_pages.h"
#include "textcnn/nn/model_file.h"

#include <string>

namespace textcnn::detail {

/// read_model_file(path), except that the payload of the section `tag` is read into `held`
/// (2 MiB-aligned, huge pages, never zero-filled: the 5.8 MB file of a compact quantized model
/// was read and checksummed in 1.4-2.1 ms that way, in 26-37 ms into a std::vector) and left
/// empty in the returned file, whose section list still holds it (its tag and version). `held` is left empty when there is no
/// such section. Throws as read_model_file().
ModelFile read_model_file_holding(const std::string& path, const char* tag, UnfilledBytes& held);

}  // namespace textcnn::detail
