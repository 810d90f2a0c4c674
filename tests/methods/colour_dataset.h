// The colour-class dataset the trainer tests train on (one process, several ranks, CUDA resume): solid
// colour classes with a per-image texture, written in the generic split_json layout
// (<root>/images/<class>/<i>.png and <root>/split.json).
#pragma once
#include <algorithm>
#include <array>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/image.h"

namespace clipt::test {

struct ColourClass {
  std::string name;
  std::array<uint8_t, 3> rgb;
};

// `per_class` 32×32 images of each class: the first `n_train` go to "train", the next `n_val` to "val",
// the rest to "test".
inline void write_colour_split_dataset(const std::filesystem::path& root, const std::vector<ColourClass>& classes,
                                       int per_class, int n_train, int n_val) {
  nlohmann::json split = {
      {"train", nlohmann::json::array()}, {"val", nlohmann::json::array()}, {"test", nlohmann::json::array()}};
  for (size_t c = 0; c < classes.size(); ++c) {
    std::filesystem::create_directories(root / "images" / std::to_string(c));
    for (int i = 0; i < per_class; ++i) {
      data::Image img(32, 32);
      for (int y = 0; y < 32; ++y)
        for (int x = 0; x < 32; ++x)
          for (int k = 0; k < 3; ++k)
            img.at(x, y, k) =
                uint8_t(std::clamp(classes[c].rgb[size_t(k)] + (x * 7 + y * 3 + i * 11) % 41 - 20, 0, 255));
      const std::string rel = std::to_string(c) + "/" + std::to_string(i) + ".png";
      data::write_png(root / "images" / rel, img);
      split[i < n_train ? "train" : i < n_train + n_val ? "val" : "test"].push_back({rel, int(c), classes[c].name});
    }
  }
  std::ofstream(root / "split.json") << split.dump();
}

}  // namespace clipt::test
