// The pieces the few-shot caches share (fewshot.h: one file per dataset; domains.h: one per source
// domain): the sample lists as JSON [[relative_path, label, classname], ...], reading one back with the
// check that every entry is still in the split it was drawn from, and the atomic write that only warns
// when the dataset folder is read-only. Each cache keeps its own header fields and their checks.
#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/dataset.h"

namespace clipt::data::fewshot_cache {

using Warn = std::function<void(const std::string&)>;

// The default warning sink: "warning: <message>" on stderr.
void print_warning(const std::string& message);

// Paths relative to `image_dir` (kept as given when not under it), like CoOp's split files.
nlohmann::json samples_to_json(const std::vector<Sample>& samples, const std::filesystem::path& image_dir);

// The list `role` ("train" / "val") of cache `file`, each entry given Sample::domain = `domain`. A malformed
// entry, or one not in `split` (same path, label and class name), is an Error naming the file.
std::vector<Sample> samples_from_json(const nlohmann::json& list, const char* role, const std::filesystem::path& file,
                                      const std::filesystem::path& image_dir, const std::vector<Sample>& split,
                                      int64_t domain = 0);

// Writes `root` to `file` atomically, creating its folder; a failure (e.g. a read-only dataset folder) is
// passed to `warn` instead of stopping the run, since the selection is deterministic anyway.
void write(const std::filesystem::path& file, const nlohmann::json& root, const Warn& warn);

}  // namespace clipt::data::fewshot_cache
