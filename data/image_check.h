// Checking, before a run starts, that the images it will read are readable: a missing or corrupt file is
// otherwise found only when the loader reaches it — for a test image, after the whole training.
//
// The check is cheap and bounded per file: the first 4 KiB (more only when the header is longer, e.g. a large
// EXIF block) must hold a JPEG or PNG header that decodes, within the pixel limit (set_max_image_pixels), and
// the last bytes must be the format's end marker (JPEG EOI, PNG IEND), which a file cut short lacks. A file
// whose end is not the marker (legal but rare: bytes appended after it) is decoded in full, as the loader
// would. Damage inside the compressed data of an otherwise complete file is not detected (only a full decode
// finds it, and libjpeg tolerates most of it as PIL does).
#pragma once
#include <filesystem>
#include <string>

#include "data/dataset.h"

namespace clipt::data {

// Throws clipt::Error naming `path` when it is missing or not a readable JPEG/PNG (see above).
void check_image_file(const std::filesystem::path& path);

// Checks every image of the train, val and test lists (in parallel). Throws one Error naming the dataset,
// how many images are missing or unreadable and the first one with its reason.
void check_split_images(const DatasetSplits& splits, const std::string& dataset);

}  // namespace clipt::data
