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
// Writes `path` atomically (a temporary file in the same folder, then rename).
void write_png(const std::filesystem::path& path, const Image& image);
// Reads a PNG as 8-bit RGB (libpng converts grey, palette and alpha images); throws clipt::Error naming the file
// otherwise.
Image read_png(const std::filesystem::path& path);

// Writes bytes to `path` atomically (temp file + rename); shared by the world's writers.
void write_file_atomic(const std::filesystem::path& path, const void* data, size_t size);

}  // namespace clipt::world
