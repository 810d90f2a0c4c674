#include "apps/world_xd.h"

#include <fstream>
#include <nlohmann/json.hpp>

#include "data/world/benchmark.h"
#include "engine/core/error.h"
#include "models/world/ensure_world.h"

namespace clipt::apps {

namespace {

// The world benchmark's spec back from its marker (benchmark_marker's fields).
world::BenchmarkSpec read_world_spec(const std::filesystem::path& dir) {
  const auto file = dir / "world_spec.json";
  std::ifstream in(file);
  CLIPT_CHECK(bool(in), "cannot open {} (the world benchmark's marker)", file.string());
  try {
    const nlohmann::json j = nlohmann::json::parse(in);
    world::BenchmarkSpec spec;
    spec.name = j.at("name").get<std::string>();
    spec.classes.colours.clear();
    spec.classes.shapes.clear();
    for (const auto& c : j.at("classes").at("colours"))
      spec.classes.colours.push_back(world::parse_colour(c.get<std::string>()));
    for (const auto& s : j.at("classes").at("shapes"))
      spec.classes.shapes.push_back(world::parse_shape(s.get<std::string>()));
    spec.train_per_class = j.at("train_per_class").get<int>();
    spec.val_per_class = j.at("val_per_class").get<int>();
    spec.test_per_class = j.at("test_per_class").get<int>();
    spec.style = world::parse_style(j.at("style").get<std::string>());
    spec.image_size = j.at("image_size").get<int>();
    spec.seed = j.at("seed").get<uint64_t>();
    spec.distractor_probability = j.at("distractor_probability").get<float>();
    return spec;
  } catch (const nlohmann::json::exception& e) {
    fail("{} is not a world benchmark marker ({})", file.string(), e.what());
  }
}

}  // namespace

std::vector<std::string> ensure_world_style_copies(const std::filesystem::path& root,
                                                   const std::vector<std::string>& targets) {
  const std::string prefix = "world_";
  std::vector<world::Style> styles;
  for (const auto& t : targets)
    if (t.starts_with(prefix) && t != "world_dg") styles.push_back(world::parse_style(t.substr(prefix.size())));
  std::vector<std::string> written;
  if (styles.empty()) return written;
  if (!std::filesystem::exists(root / "world")) {
    world_setup::WorldParams params;
    params.xd_styles = styles;
    for (const auto& b : world_setup::ensure_world(root, params).xd)
      if (b.written) written.push_back(b.dir.filename().string());
    return written;
  }
  const world::BenchmarkSpec base = read_world_spec(root / "world");
  for (world::Style style : styles) {
    world::BenchmarkSpec copy = base;
    copy.name = base.name + "_" + std::string(world::style_name(style));
    copy.style = style;
    copy.train_per_class = 0;  // test only, as ensure_world writes them
    copy.val_per_class = 0;
    if (world::write_benchmark(root, copy).written) written.push_back(copy.name);
  }
  return written;
}

}  // namespace clipt::apps
