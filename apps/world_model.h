// The CLIP of the built-in world: the committed one (assets/world-clip), else one cached in the world
// folder, else pretrained now (minutes) and cached there. Shared by `clipt demo` and `clipt scale`.
#pragma once
#include <atomic>
#include <filesystem>

#include "engine/core/device.h"

namespace clipt::apps {

std::filesystem::path world_model(const std::filesystem::path& world_root, const std::filesystem::path& tokenizer_dir,
                                  Device device, const std::atomic<bool>* stop);

}  // namespace clipt::apps
