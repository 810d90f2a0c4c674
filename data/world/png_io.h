// Minimal 8-bit RGB PNG encoding/decoding (libpng) for the world's benchmark files. The general image
// decoders of the data pipeline live elsewhere; this only has to write what the world renders, atomically,
// and read it back in tests.
#pragma once
#include <cstdint>
#include <filesystem>
#include <vector>

#include "data/world/render.h"

namespace clipt::world {

// Encodes to PNG bytes. Compression level 1 (fast): the world's images are small and written by the thousand.
std::vector<uint8_t> encode_png(const Image& image);
// Writes `path` atomically (engine/io/atomic_file: a killed or failed write leaves no partial file).
void write_png(const std::filesystem::path& path, const Image& image);
// Reads a PNG as 8-bit RGB (libpng converts grey, palette and alpha images); throws clipt::Error naming the file
// otherwise.
Image read_png(const std::filesystem::path& path);

}  // namespace clipt::world
