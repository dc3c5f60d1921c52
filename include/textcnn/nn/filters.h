// Predefined 3x3 image filters (the seed article's examples), usable as fixed conv weights
// through the conv setting filter=NAME.
//
// They are applied as CNN layers apply every kernel: as a cross-correlation, without flipping
// the kernel. So sobel-x [[1,0,-1],[2,0,-2],[1,0,-1]] gives a positive response where the image
// gets darker from left to right (left column minus right column).
#pragma once

#include <string>
#include <vector>

namespace textcnn {

/// Names accepted by predefined_filter(): sobel-x, sobel-y, laplace, gaussian.
std::vector<std::string> predefined_filter_names();

/// The 9 weights of a 3x3 filter in row-major order (row y, column x at y * 3 + x):
///   sobel-x  [[1,0,-1],[2,0,-2],[1,0,-1]]     sobel-y  its transpose
///   laplace  [[0,1,0],[1,-4,1],[0,1,0]]        gaussian [[1,2,1],[2,4,2],[1,2,1]] / 16
/// ConfigError listing the known names for any other name.
std::vector<float> predefined_filter(const std::string& name);

}  // namespace textcnn
