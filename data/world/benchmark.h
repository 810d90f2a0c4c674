// Writes world benchmarks to disk in the layouts the dataset readers already know.
//
// Classification benchmark, CoOp's split-JSON layout (as CoOp's Caltech101, OxfordPets, ...):
//   <root>/<name>/images/<class_folder>/<split>_<i>.png        e.g. images/red_circle/train_0003.png
//   <root>/<name>/split_<name>.json   {"train": [["red_circle/train_0003.png", 0, "red circle"], ...],
//                                      "val": [...], "test": [...]}   (paths relative to images/)
//   <root>/<name>/world_spec.json     generator version + parameters (see published_folder.h)
// Labels follow classes.h: base classes first, so CoOp's base/new rule splits them as intended.
//
// Multi-domain benchmark for domain generalisation, Dassl's PACS layout (dassl/data/datasets/dg/pacs.py):
//   <root>/<name>/images/<domain>/<class_folder>/<split>_<i>.png     domain = render style name
//   <root>/<name>/splits/<domain>_train_kfold.txt      "<domain>/<class_folder>/<file> <label + 1>" per line
//   <root>/<name>/splits/<domain>_crossval_kfold.txt
//   <root>/<name>/splits/<domain>_test_kfold.txt       every image of the domain (train + crossval)
//   <root>/<name>/world_spec.json                      also lists the classes: label, name, folder
// As in PACS, labels in the split files are 1-based; Dassl's reader subtracts one and, for a target
// domain, reads train + crossval as "all" (the test_kfold file holds the same images). Class names are the
// folder names with '_' read as ' ' ("red_circle" → "red circle"); labels are the same as the CoOp-layout
// benchmark's for the same class set.
#pragma once
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/world/classes.h"
#include "data/world/scene.h"

namespace clipt::world {

struct BenchmarkSpec {
  std::string name = "world";
  ClassSet classes = default_class_set();
  int train_per_class = 40, val_per_class = 10, test_per_class = 30;
  Style style = Style::Photo;
  int image_size = 64;
  uint64_t seed = 1;
  float distractor_probability = 0.3f;
  float studio_light = 0.75f;  // strength of the benchmark's colour cast (studio_light.h); 0: pretraining's look
};

struct DgBenchmarkSpec {
  std::string name = "world_dg";
  ClassSet classes = default_class_set();
  std::vector<Style> domains = {Style::Photo, Style::Sketch, Style::Cartoon, Style::Texture, Style::Noisy};
  int train_per_class = 12, crossval_per_class = 4;  // per domain
  int image_size = 64;
  uint64_t seed = 1;
  float distractor_probability = 0.3f;
  float studio_light = 0.75f;  // as BenchmarkSpec: every domain is shot under the same light
};

struct WrittenBenchmark {
  std::filesystem::path dir;         // <root>/<name>
  std::filesystem::path image_dir;   // <root>/<name>/images
  std::filesystem::path split_file;  // split_<name>.json (CoOp layout) or the splits/ folder (DG layout)
  std::vector<WorldClass> classes;
  bool written = false;  // false when an identical benchmark was already there
};

// Writes the benchmark unless an identical one (same generator version and spec) exists; throws
// clipt::Error if a different one occupies <root>/<name>. Images are rendered in parallel (OpenMP) and are
// identical for any thread count.
WrittenBenchmark write_benchmark(const std::filesystem::path& root, const BenchmarkSpec& spec);
WrittenBenchmark write_dg_benchmark(const std::filesystem::path& root, const DgBenchmarkSpec& spec);

// The marker contents (what "same parameters" means).
nlohmann::json benchmark_marker(const BenchmarkSpec& spec);
nlohmann::json dg_benchmark_marker(const DgBenchmarkSpec& spec);

// The scene of image `index` of class `cls` in split `split` (0 train, 1 val/crossval, 2 test) of a
// benchmark rendered in `style`: what write_benchmark draws, exposed for tests and on-the-fly use.
// `stream` is kStreamBenchmark or kStreamDgBenchmark.
Scene benchmark_scene(const WorldClass& cls, Style style, uint64_t seed, uint32_t stream, int split, int index,
                      float distractor_probability);

}  // namespace clipt::world
