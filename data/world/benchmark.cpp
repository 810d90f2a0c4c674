#include "data/world/benchmark.h"

#include <algorithm>
#include <mutex>

#include "data/world/png_io.h"
#include "data/world/pretrain_stream.h"
#include "data/world/published_folder.h"
#include "data/world/render.h"
#include "data/world/studio_light.h"
#include "engine/core/error.h"
#include "engine/io/atomic_file.h"

namespace clipt::world {

namespace fs = std::filesystem;

namespace {

void check_name(const std::string& name) {
  CLIPT_CHECK(
      !name.empty() && name.find_first_of("/\\") == std::string::npos && name != "." && name != ".." && name[0] != '.',
      "world benchmark: name '{}' must be a plain folder name", name);
}

void check_common(const std::string& name, int image_size, float distractor_probability, float studio_light) {
  check_name(name);
  CLIPT_CHECK(image_size >= 8 && image_size <= 1024, "world benchmark '{}': image_size {} not in [8, 1024]", name,
              image_size);
  CLIPT_CHECK(distractor_probability >= 0.0f && distractor_probability <= 1.0f,
              "world benchmark '{}': distractor_probability {} not in [0, 1]", name, distractor_probability);
  CLIPT_CHECK(studio_light >= 0.0f && studio_light <= 1.0f, "world benchmark '{}': studio_light {} not in [0, 1]", name,
              studio_light);
}

nlohmann::json class_set_json(const ClassSet& set) {
  nlohmann::json colours = nlohmann::json::array(), shapes = nlohmann::json::array();
  for (Colour c : set.colours) colours.push_back(std::string(colour_name(c)));
  for (Shape s : set.shapes) shapes.push_back(std::string(shape_name(s)));
  return {{"colours", colours}, {"shapes", shapes}};
}

nlohmann::json classes_json(const std::vector<WorldClass>& classes) {
  nlohmann::json out = nlohmann::json::array();
  for (const WorldClass& c : classes)
    out.push_back({{"label", c.label}, {"name", c.name}, {"folder", c.folder}, {"base", c.base}});
  return out;
}

// One file to render: where it goes and what it shows.
struct Job {
  const WorldClass* cls;
  Style style;
  uint32_t stream;
  int split;
  int index;
  fs::path path;
};

// Renders and writes the jobs in parallel; the first error (if any) is rethrown after the loop, because
// exceptions may not leave an OpenMP region.
void render_jobs(const std::vector<Job>& jobs, int image_size, uint64_t seed, float distractor_probability,
                 float studio_light) {
  std::mutex mutex;
  std::string error;
#pragma omp parallel for schedule(dynamic, 16)
  for (int64_t j = 0; j < int64_t(jobs.size()); ++j) {
    {
      std::lock_guard<std::mutex> lock(mutex);
      if (!error.empty()) continue;
    }
    try {
      const Job& job = jobs[size_t(j)];
      const Scene scene =
          benchmark_scene(*job.cls, job.style, seed, job.stream, job.split, job.index, distractor_probability);
      Image image = render(scene, image_size, image_size);
      apply_studio_light(image.pixels.data(), int64_t(image_size) * image_size, studio_light);
      write_png(job.path, image);
    } catch (const std::exception& e) {
      std::lock_guard<std::mutex> lock(mutex);
      if (error.empty()) error = e.what();
    }
  }
  if (!error.empty()) throw Error(error);
}

std::string image_file(const char* split, int index) { return fmt::format("{}_{:04d}.png", split, index); }

// Split JSON in CoOp's format, one item per line (CoOp writes it with json.dump(indent=4); any layout parses).
std::string split_json_text(const std::vector<nlohmann::json>& train, const std::vector<nlohmann::json>& val,
                            const std::vector<nlohmann::json>& test) {
  std::string out = "{\n";
  auto section = [&](const char* key, const std::vector<nlohmann::json>& items, bool last) {
    out += fmt::format("  \"{}\": [", key);
    for (size_t i = 0; i < items.size(); ++i) out += (i ? ",\n    " : "\n    ") + items[i].dump();
    out += items.empty() ? "]" : "\n  ]";
    out += last ? "\n" : ",\n";
  };
  section("train", train, false);
  section("val", val, false);
  section("test", test, true);
  out += "}\n";
  return out;
}

}  // namespace

Scene benchmark_scene(const WorldClass& cls, Style style, uint64_t seed, uint32_t stream, int split, int index,
                      float distractor_probability) {
  SceneOptions options;
  options.colour = cls.colour;
  options.shape = cls.shape;
  options.style = style;
  options.distractor_probability = distractor_probability;
  // Keyed by the class's attributes, not its label: "red circle" shows the same images in any class set.
  const uint64_t key = uint64_t(cls.colour) * 256 + uint64_t(cls.shape);
  return sample_scene(options,
                      derive_seed(seed, stream + uint32_t(style), key, uint64_t(split) << 32 | uint32_t(index)));
}

nlohmann::json benchmark_marker(const BenchmarkSpec& spec) {
  return {{"generator", "clipt built-in world"},
          {"version", kGeneratorVersion},
          {"layout", "coop_split_json"},
          {"name", spec.name},
          {"classes", class_set_json(spec.classes)},
          {"train_per_class", spec.train_per_class},
          {"val_per_class", spec.val_per_class},
          {"test_per_class", spec.test_per_class},
          {"style", std::string(style_name(spec.style))},
          {"image_size", spec.image_size},
          {"seed", spec.seed},
          {"distractor_probability", spec.distractor_probability},
          {"studio_light", spec.studio_light}};
}

nlohmann::json dg_benchmark_marker(const DgBenchmarkSpec& spec) {
  nlohmann::json domains = nlohmann::json::array();
  for (Style s : spec.domains) domains.push_back(std::string(style_name(s)));
  return {{"generator", "clipt built-in world"},
          {"version", kGeneratorVersion},
          {"layout", "dassl_pacs"},
          {"name", spec.name},
          {"classes", class_set_json(spec.classes)},
          {"domains", domains},
          {"train_per_class", spec.train_per_class},
          {"crossval_per_class", spec.crossval_per_class},
          {"image_size", spec.image_size},
          {"seed", spec.seed},
          {"distractor_probability", spec.distractor_probability},
          {"studio_light", spec.studio_light}};
}

WrittenBenchmark write_benchmark(const fs::path& root, const BenchmarkSpec& spec) {
  check_common(spec.name, spec.image_size, spec.distractor_probability, spec.studio_light);
  CLIPT_CHECK(spec.train_per_class >= 0 && spec.val_per_class >= 0 && spec.test_per_class >= 0 &&
                  spec.train_per_class + spec.val_per_class + spec.test_per_class > 0 &&
                  spec.train_per_class + spec.val_per_class + spec.test_per_class <= 100000,
              "world benchmark '{}': per-class sizes train {} / val {} / test {} must be ≥ 0, not all zero, "
              "and sum to at most 100000",
              spec.name, spec.train_per_class, spec.val_per_class, spec.test_per_class);
  WrittenBenchmark out;
  out.classes = make_classes(spec.classes);
  out.dir = root / spec.name;
  out.image_dir = out.dir / "images";
  out.split_file = out.dir / ("split_" + spec.name + ".json");
  nlohmann::json marker = benchmark_marker(spec);
  marker["class_list"] = classes_json(out.classes);

  out.written = publish_folder(out.dir, marker, [&](const fs::path& tmp) {
    const char* split_names[3] = {"train", "val", "test"};
    const int counts[3] = {spec.train_per_class, spec.val_per_class, spec.test_per_class};
    std::vector<Job> jobs;
    std::vector<nlohmann::json> items[3];
    for (const WorldClass& cls : out.classes) {
      fs::create_directories(tmp / "images" / cls.folder);
      for (int split = 0; split < 3; ++split)
        for (int i = 0; i < counts[split]; ++i) {
          const std::string rel = cls.folder + "/" + image_file(split_names[split], i);
          jobs.push_back({&cls, spec.style, kStreamBenchmark, split, i, tmp / "images" / rel});
          items[split].push_back(nlohmann::json::array({rel, cls.label, cls.name}));
        }
    }
    render_jobs(jobs, spec.image_size, spec.seed, spec.distractor_probability, spec.studio_light);
    const std::string text = split_json_text(items[0], items[1], items[2]);
    io::write_file_atomic(tmp / out.split_file.filename(), text.data(), text.size());
  });
  return out;
}

WrittenBenchmark write_dg_benchmark(const fs::path& root, const DgBenchmarkSpec& spec) {
  check_common(spec.name, spec.image_size, spec.distractor_probability, spec.studio_light);
  CLIPT_CHECK(!spec.domains.empty(), "world DG benchmark '{}': no domains", spec.name);
  for (size_t i = 0; i < spec.domains.size(); ++i)
    CLIPT_CHECK(std::count(spec.domains.begin(), spec.domains.end(), spec.domains[i]) == 1,
                "world DG benchmark '{}': domain '{}' is listed twice", spec.name, style_name(spec.domains[i]));
  CLIPT_CHECK(spec.train_per_class >= 1 && spec.crossval_per_class >= 0 &&
                  spec.train_per_class + spec.crossval_per_class <= 100000,
              "world DG benchmark '{}': per-class sizes train {} / crossval {} must be ≥ 1 / ≥ 0 and sum to at most "
              "100000",
              spec.name, spec.train_per_class, spec.crossval_per_class);
  WrittenBenchmark out;
  out.classes = make_classes(spec.classes);
  out.dir = root / spec.name;
  out.image_dir = out.dir / "images";
  out.split_file = out.dir / "splits";
  nlohmann::json marker = dg_benchmark_marker(spec);
  marker["class_list"] = classes_json(out.classes);

  out.written = publish_folder(out.dir, marker, [&](const fs::path& tmp) {
    fs::create_directories(tmp / "splits");
    std::vector<Job> jobs;
    for (Style domain : spec.domains) {
      const std::string dname(style_name(domain));
      std::string lines[2];  // train, crossval
      for (const WorldClass& cls : out.classes) {
        fs::create_directories(tmp / "images" / dname / cls.folder);
        for (int split = 0; split < 2; ++split) {
          const int count = split == 0 ? spec.train_per_class : spec.crossval_per_class;
          for (int i = 0; i < count; ++i) {
            const std::string rel = dname + "/" + cls.folder + "/" + image_file(split == 0 ? "train" : "crossval", i);
            jobs.push_back({&cls, domain, kStreamDgBenchmark, split, i, tmp / "images" / rel});
            lines[split] += fmt::format("{} {}\n", rel, cls.label + 1);
          }
        }
      }
      const std::string all = lines[0] + lines[1];
      io::write_file_atomic(tmp / "splits" / (dname + "_train_kfold.txt"), lines[0].data(), lines[0].size());
      io::write_file_atomic(tmp / "splits" / (dname + "_crossval_kfold.txt"), lines[1].data(), lines[1].size());
      io::write_file_atomic(tmp / "splits" / (dname + "_test_kfold.txt"), all.data(), all.size());
    }
    render_jobs(jobs, spec.image_size, spec.seed, spec.distractor_probability, spec.studio_light);
  });
  return out;
}

}  // namespace clipt::world
