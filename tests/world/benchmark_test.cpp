// World benchmark writers: CoOp split-JSON layout, the base/new compositional property, Dassl's PACS layout,
// idempotent and atomic writes.
#include "data/world/benchmark.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "data/world/png_io.h"
#include "data/world/pretrain_stream.h"
#include "data/world/render.h"
#include "data/world/studio_light.h"
#include "tests/common/test_util.h"

namespace clipt::world {
namespace {

namespace fs = std::filesystem;

BenchmarkSpec small_spec() {
  BenchmarkSpec spec;
  spec.classes = {{Colour::Red, Colour::Green, Colour::Blue},
                  {Shape::Circle, Shape::Square, Shape::Star, Shape::Heart}};
  spec.train_per_class = 3;
  spec.val_per_class = 1;
  spec.test_per_class = 2;
  spec.image_size = 32;
  return spec;
}

nlohmann::json read_json(const fs::path& p) {
  std::ifstream in(p);
  return nlohmann::json::parse(in);
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// CoOp's base/new rule, written out independently: labels sorted, base = first ceil(C/2).
std::pair<std::set<int>, std::set<int>> coop_base_new(const std::set<int>& labels) {
  std::set<int> base, novel;
  const size_t n_base = (labels.size() + 1) / 2;
  size_t i = 0;
  for (int l : labels) (i++ < n_base ? base : novel).insert(l);
  return {base, novel};
}

TEST(WorldClasses, BaseNewSplitIsCompositional) {
  // For many class-set shapes: every colour and every shape occurs among the base classes, no new class's
  // (colour, shape) is a base class, and every new class's colour and shape are each seen in base.
  for (int nc = 2; nc <= kNumColours; ++nc)
    for (int ns = 2; ns <= kNumShapes; ++ns) {
      ClassSet set;
      for (int i = 0; i < nc; ++i) set.colours.push_back(Colour(i));
      for (int j = 0; j < ns; ++j) set.shapes.push_back(Shape(j));
      const auto classes = make_classes(set);
      ASSERT_EQ(classes.size(), size_t(nc * ns));
      std::set<int> labels;
      for (const auto& c : classes) labels.insert(c.label);
      EXPECT_EQ(*labels.begin(), 0);
      EXPECT_EQ(*labels.rbegin(), nc * ns - 1);
      const auto [base, novel] = coop_base_new(labels);
      std::set<Colour> base_colours;
      std::set<Shape> base_shapes;
      std::set<std::pair<Colour, Shape>> base_pairs;
      for (const auto& c : classes)
        if (base.count(c.label)) {
          EXPECT_TRUE(c.base);
          base_colours.insert(c.colour);
          base_shapes.insert(c.shape);
          base_pairs.insert({c.colour, c.shape});
        } else {
          EXPECT_FALSE(c.base);
        }
      EXPECT_EQ(base_colours.size(), size_t(nc)) << nc << "x" << ns;
      EXPECT_EQ(base_shapes.size(), size_t(ns)) << nc << "x" << ns;
      for (const auto& c : classes)
        if (novel.count(c.label)) {
          EXPECT_FALSE(base_pairs.count({c.colour, c.shape}));
          EXPECT_TRUE(base_colours.count(c.colour));
          EXPECT_TRUE(base_shapes.count(c.shape));
        }
      // Each colour also occurs among the new classes when there are ≥ 2 shapes (and vice versa), so new
      // accuracy covers every attribute.
      std::set<Colour> new_colours;
      for (const auto& c : classes)
        if (!c.base) new_colours.insert(c.colour);
      EXPECT_EQ(new_colours.size(), size_t(nc)) << nc << "x" << ns;
      EXPECT_EQ(new_class_pairs(classes).size(), novel.size());
    }
  EXPECT_ERROR_CONTAINS(make_classes({{Colour::Red}, {Shape::Circle, Shape::Star}}), "at least 2 colours");
  EXPECT_ERROR_CONTAINS(make_classes({{Colour::Red, Colour::Red}, {Shape::Circle, Shape::Star}}), "twice");
  const auto defaults = make_classes(default_class_set());
  EXPECT_EQ(defaults.size(), size_t(64));
  EXPECT_EQ(defaults[0].name, "red circle");
  EXPECT_EQ(defaults[0].folder, "red_circle");
}

TEST(WorldBenchmark, CoopSplitJsonLayout) {
  const fs::path root = test::scratch_dir("world");
  const BenchmarkSpec spec = small_spec();
  const WrittenBenchmark b = write_benchmark(root, spec);
  EXPECT_TRUE(b.written);
  EXPECT_EQ(b.dir, root / "world");
  EXPECT_EQ(b.split_file, root / "world" / "split_world.json");
  const nlohmann::json split = read_json(b.split_file);
  ASSERT_TRUE(split.is_object());
  EXPECT_EQ(split.size(), size_t(3));
  const int per_split[3] = {3, 1, 2};
  const char* names[3] = {"train", "val", "test"};
  std::set<std::string> all_paths;
  std::map<int, std::string> label_names;
  for (int k = 0; k < 3; ++k) {
    const auto& items = split.at(names[k]);
    ASSERT_TRUE(items.is_array());
    EXPECT_EQ(items.size(), size_t(12 * per_split[k])) << names[k];
    std::map<int, int> per_label;
    for (const auto& item : items) {
      ASSERT_TRUE(item.is_array() && item.size() == 3) << item.dump();
      const std::string rel = item[0].get<std::string>();
      const int label = item[1].get<int>();
      const std::string cname = item[2].get<std::string>();
      EXPECT_TRUE(fs::is_regular_file(b.image_dir / rel)) << rel;
      EXPECT_FALSE(fs::path(rel).is_absolute());
      EXPECT_TRUE(all_paths.insert(rel).second) << "image in two splits: " << rel;
      // The class folder and the class name agree ("red_circle/..." ↔ "red circle").
      std::string folder = rel.substr(0, rel.find('/'));
      std::replace(folder.begin(), folder.end(), '_', ' ');
      EXPECT_EQ(folder, cname);
      EXPECT_TRUE(label_names.emplace(label, cname).first->second == cname) << "label " << label << " has two names";
      ++per_label[label];
    }
    EXPECT_EQ(per_label.size(), size_t(12));
    for (const auto& [label, n] : per_label) EXPECT_EQ(n, per_split[k]);
  }
  // Labels agree with make_classes, and every file decodes to exactly the scene it was rendered from.
  for (const WorldClass& c : b.classes) EXPECT_EQ(label_names.at(c.label), c.name);
  const WorldClass& cls = b.classes[5];
  const Image decoded = read_png(b.image_dir / cls.folder / "test_0001.png");
  EXPECT_EQ(decoded.width, 32);
  EXPECT_EQ(decoded.height, 32);
  Image expected = render(
      benchmark_scene(cls, Style::Photo, spec.seed, kStreamBenchmark, 2, 1, spec.distractor_probability), 32, 32);
  apply_studio_light(expected.pixels.data(), 32 * 32, spec.studio_light);
  EXPECT_EQ(decoded.pixels, expected.pixels);
  // The marker records the parameters; no temporary folders are left behind.
  const nlohmann::json marker = read_json(b.dir / "world_spec.json");
  EXPECT_EQ(marker.at("version").get<int>(), kGeneratorVersion);
  EXPECT_EQ(marker.at("style").get<std::string>(), "photo");
  EXPECT_FLOAT_EQ(marker.at("studio_light").get<float>(), spec.studio_light);
  EXPECT_EQ(marker.at("class_list").size(), size_t(12));
  for (const auto& e : fs::directory_iterator(root)) EXPECT_EQ(e.path().filename(), "world");
}

TEST(WorldBenchmark, RewritingIsANoOpAndDifferentParametersFail) {
  const fs::path root = test::scratch_dir("world");
  BenchmarkSpec spec = small_spec();
  const WrittenBenchmark first = write_benchmark(root, spec);
  ASSERT_TRUE(first.written);
  const auto stamp = fs::last_write_time(first.split_file);
  const auto image_stamp = fs::last_write_time(first.image_dir / "red_circle" / "train_0000.png");
  const WrittenBenchmark again = write_benchmark(root, spec);
  EXPECT_FALSE(again.written);
  EXPECT_EQ(fs::last_write_time(first.split_file), stamp);
  EXPECT_EQ(fs::last_write_time(first.image_dir / "red_circle" / "train_0000.png"), image_stamp);

  spec.train_per_class = 4;
  EXPECT_ERROR_CONTAINS(write_benchmark(root, spec), "different parameters (/train_per_class: here 4, on disk 3)");
  spec.name = "world_bigger";
  EXPECT_TRUE(write_benchmark(root, spec).written);  // a different name is a different folder

  fs::create_directories(root / "not_ours");
  spec.name = "not_ours";
  EXPECT_ERROR_CONTAINS(write_benchmark(root, spec), "not a finished world folder");
  spec.name = "../escape";
  EXPECT_ERROR_CONTAINS(write_benchmark(root, spec), "plain folder name");
  spec.name = "bad";
  spec.val_per_class = -1;
  EXPECT_ERROR_CONTAINS(write_benchmark(root, spec), "per-class sizes");
  EXPECT_FALSE(fs::exists(root / "bad"));
}

TEST(WorldBenchmark, ConcurrentWritersEndWithOneCompleteCopy) {
  const fs::path root = test::scratch_dir("world");
  const BenchmarkSpec spec = small_spec();
  WrittenBenchmark a, b;
  std::thread t1([&] { a = write_benchmark(root, spec); });
  std::thread t2([&] { b = write_benchmark(root, spec); });
  t1.join();
  t2.join();
  EXPECT_TRUE(a.written || b.written);
  const nlohmann::json split = read_json(root / "world" / "split_world.json");
  EXPECT_EQ(split.at("train").size(), size_t(36));
  for (const auto& e : fs::directory_iterator(root)) EXPECT_EQ(e.path().filename(), "world");
}

TEST(WorldBenchmark, ImagesAreTheSameForAnyThreadCountAndClassSet) {
  // A class's images depend on its attributes, not its label or the other classes.
  const fs::path root = test::scratch_dir("world");
  BenchmarkSpec spec = small_spec();
  const WrittenBenchmark small = write_benchmark(root, spec);
  spec.name = "world_more";
  spec.classes.colours.push_back(Colour::Pink);
  const WrittenBenchmark more = write_benchmark(root, spec);
  EXPECT_EQ(read_png(small.image_dir / "blue_star" / "val_0000.png").pixels,
            read_png(more.image_dir / "blue_star" / "val_0000.png").pixels);
}

TEST(WorldBenchmark, DgLayoutAsDasslPacs) {
  const fs::path root = test::scratch_dir("world");
  DgBenchmarkSpec spec;
  spec.classes = small_spec().classes;
  spec.train_per_class = 2;
  spec.crossval_per_class = 1;
  spec.image_size = 32;
  const WrittenBenchmark dg = write_dg_benchmark(root, spec);
  EXPECT_EQ(dg.dir, root / "world_dg");
  EXPECT_EQ(dg.split_file, root / "world_dg" / "splits");
  const auto classes = make_classes(spec.classes);
  for (Style domain : spec.domains) {
    const std::string d(style_name(domain));
    std::vector<std::string> lines[3];
    const char* kinds[3] = {"train", "crossval", "test"};
    for (int k = 0; k < 3; ++k) {
      const fs::path file = dg.split_file / (d + "_" + kinds[k] + "_kfold.txt");
      ASSERT_TRUE(fs::is_regular_file(file)) << file;
      std::istringstream in(read_text(file));
      std::string line;
      while (std::getline(in, line)) {
        // Dassl: `impath, label = line.split(' ')`, label 1-based, impath relative to images/.
        const size_t space = line.find(' ');
        ASSERT_NE(space, std::string::npos) << line;
        ASSERT_EQ(line.find(' ', space + 1), std::string::npos) << line;
        const std::string rel = line.substr(0, space);
        const int label = std::stoi(line.substr(space + 1)) - 1;
        ASSERT_GE(label, 0);
        ASSERT_LT(label, int(classes.size()));
        EXPECT_TRUE(rel.starts_with(d + "/" + classes[size_t(label)].folder + "/")) << line;
        EXPECT_TRUE(fs::is_regular_file(dg.image_dir / rel)) << rel;
        lines[k].push_back(line);
      }
    }
    EXPECT_EQ(lines[0].size(), size_t(12 * 2)) << d;
    EXPECT_EQ(lines[1].size(), size_t(12 * 1)) << d;
    std::vector<std::string> all = lines[0];
    all.insert(all.end(), lines[1].begin(), lines[1].end());
    EXPECT_EQ(lines[2], all) << "test_kfold should list the whole domain (train + crossval)";
    // Every class folder exists in every domain (Dassl's DG datasets share one class list across domains).
    for (const auto& c : classes) EXPECT_TRUE(fs::is_directory(dg.image_dir / d / c.folder));
  }
  // The same class in two domains: different pictures.
  EXPECT_NE(read_png(dg.image_dir / "photo" / "red_circle" / "train_0000.png").pixels,
            read_png(dg.image_dir / "sketch" / "red_circle" / "train_0000.png").pixels);
  const nlohmann::json marker = read_json(dg.dir / "world_spec.json");
  EXPECT_EQ(marker.at("layout"), "dassl_pacs");
  EXPECT_EQ(marker.at("domains").size(), size_t(kNumStyles));
  EXPECT_FALSE(write_dg_benchmark(root, spec).written);
  spec.domains = {Style::Photo, Style::Photo};
  spec.name = "dup";
  EXPECT_ERROR_CONTAINS(write_dg_benchmark(root, spec), "listed twice");
}

TEST(WorldPng, RoundTripsThroughLibpng) {
  const fs::path dir = test::scratch_dir("png");
  SceneOptions options;
  options.style = Style::Noisy;
  for (auto [w, h] : {std::pair{64, 64}, std::pair{17, 5}, std::pair{1, 1}}) {
    const Image img = render(sample_scene(options, uint64_t(w)), w, h);
    write_png(dir / "x.png", img);
    const Image back = read_png(dir / "x.png");
    EXPECT_EQ(back.width, w);
    EXPECT_EQ(back.height, h);
    EXPECT_EQ(back.pixels, img.pixels);
  }
  std::ofstream(dir / "bad.png") << "not a png";
  EXPECT_ERROR_CONTAINS(read_png(dir / "bad.png"), "bad.png");
}

// The cast against a hand computation of its matrix: strength 0 is the identity, 1 the full cast, and
// values in between blend the matrix (and the offset) linearly with the identity, clamped to bytes.
TEST(StudioLight, BlendsTheWarmCastWithTheIdentity) {
  const std::vector<uint8_t> original = {200, 40, 30, 10, 60, 220, 255, 255, 255};
  std::vector<uint8_t> px = original;
  apply_studio_light(px.data(), 3, 0.0f);
  EXPECT_EQ(px, original);
  px = original;
  apply_studio_light(px.data(), 3, 1.0f);
  // red pixel: r = .85·200 + .25·40 + 20 = 200; g = .10·200 + .75·40 + .10·30 + 8 = 61; b = .05·200 + .20·40 + .55·30
  // = 34.5
  EXPECT_EQ(px[0], 200);
  EXPECT_EQ(px[1], 61);
  EXPECT_EQ(px[2], 35);
  // white saturates red (.85+.25)·255 + 20 > 255 and keeps blue below (.05+.20+.55)·255 = 204
  EXPECT_EQ(px[6], 255);
  EXPECT_EQ(px[8], 204);
  px = original;
  apply_studio_light(px.data(), 3, 0.5f);
  // blue pixel, half strength: b = .5·220 + .5·(.05·10 + .20·60 + .55·220) = 176.75
  EXPECT_EQ(px[5], 177);
}

}  // namespace
}  // namespace clipt::world
