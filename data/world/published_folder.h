// Folders written all at once. A world benchmark (thousands of files) is built under a temporary name
// beside its destination and renamed into place only when complete, with a marker file recording what was
// written (generator version + parameters). So a folder under its final name is always complete; re-running
// with the same parameters finds the marker and does nothing; different parameters are an error rather than
// a silent mix; and two processes racing to write the same folder both end up with one complete copy.
#pragma once
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

namespace clipt::world {

inline constexpr const char* kMarkerFile = "world_spec.json";

// True when `dir` exists and its marker equals `marker`; false when `dir` does not exist. Throws
// clipt::Error when `dir` exists without a marker or with a different one (naming the first differing key).
bool published_folder_matches(const std::filesystem::path& dir, const nlohmann::json& marker);

// Unless published_folder_matches(dir, marker), calls build(tmp) on an empty temporary folder in dir's parent,
// writes the marker into it and renames it to `dir`. The temporary folder is removed if build throws.
// Returns true when it wrote the folder, false when a matching one was already there.
bool publish_folder(const std::filesystem::path& dir, const nlohmann::json& marker,
                    const std::function<void(const std::filesystem::path& tmp)>& build);

}  // namespace clipt::world
