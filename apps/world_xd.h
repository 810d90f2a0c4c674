// The built-in world as a cross-dataset test bed: `clipt xd --source world` evaluates on single-style
// copies of the world benchmark (world_sketch, world_cartoon, ...; data/world/world_datasets.h),
// which this makes exist on demand.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

namespace clipt::apps {

// For every `targets` entry named world_<style>: writes <root>/world_<style> unless present, as a test-only
// copy of the world benchmark found in <root>/world (same classes, test size, image size, seed and
// distractors, read from its world_spec.json) rendered in that style. With no <root>/world yet, the whole
// default world is made first (models/world/ensure_world.h). Other names are ignored. Returns the copies
// written now.
std::vector<std::string> ensure_world_style_copies(const std::filesystem::path& root,
                                                   const std::vector<std::string>& targets);

}  // namespace clipt::apps
