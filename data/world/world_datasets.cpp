#include "data/world/world_datasets.h"

#include <mutex>

#include "data/dataset.h"
#include "data/datasets/readers.h"
#include "data/world/attributes.h"

namespace clipt::world {

namespace {

data::DatasetSplits read_world(const std::string& name, const data::DatasetSource& source, bool test_only) {
  const auto dir = source.root / name;
  data::DatasetSplits s =
      data::datasets::read_split_json_dataset({dir, dir / ("split_" + name + ".json"), dir / "images"});
  s.name = name;
  if (test_only) {
    s.train = s.test;
    s.val = s.test;
    s.test_only = true;
  }
  return s;
}

}  // namespace

void register_world_datasets() {
  static std::once_flag once;
  std::call_once(once, [] {
    data::register_dataset(
        {"world", "World", "world", [](const data::DatasetSource& s) { return read_world("world", s, false); }});
    for (int i = 0; i < kNumStyles; ++i) {
      const std::string style(style_name(Style(i)));
      const std::string name = "world_" + style;
      data::register_dataset(
          {name, name, name, [name](const data::DatasetSource& s) { return read_world(name, s, true); }});
    }
  });
}

}  // namespace clipt::world
