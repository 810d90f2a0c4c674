// PACS (Dassl's dg/pacs.py, MetaPrompt's PACSFS) and the built-in world's DG benchmark, which is written
// in PACS' layout. Class names are the class folder of each image path (impath.split('/')[-2]), as in
// MetaPrompt's PACSFS and later Dassl; labels come from the split files (1-based there).
#include <fstream>
#include <nlohmann/json.hpp>

#include "data/datasets/dg_common.h"
#include "data/datasets/dg_readers.h"

namespace clipt::data::datasets {
namespace {

// Both readers know this one unreadable image of the PACS release (Dassl's _error_paths).
const std::set<std::string> kPacsErrorPaths = {"sketch/dog/n02103406_4068-1.png"};

DatasetSplits read_pacs_layout(const std::string& name, const fs::path& dataset_dir,
                               const std::vector<std::string>& domains, const std::set<std::string>& skip) {
  const fs::path image_dir = dataset_dir / "images";
  const fs::path split_dir = dataset_dir / "splits";
  require_dir(image_dir, "PACS-layout images/<domain>/<class>/...");
  require_dir(split_dir, "PACS-layout split files <domain>_{train,crossval}_kfold.txt");
  std::vector<DomainSamples> per_domain;
  for (const auto& d : domains) {
    DomainSamples s;
    s.train = read_path_label_file(split_dir / (d + "_train_kfold.txt"), image_dir, 1, parent_folder_name, skip);
    s.val = read_path_label_file(split_dir / (d + "_crossval_kfold.txt"), image_dir, 1, parent_folder_name, skip);
    s.test = s.train;  // "all": train + crossval (the *_test_kfold.txt files are not read, as in Dassl)
    s.test.insert(s.test.end(), s.val.begin(), s.val.end());
    per_domain.push_back(std::move(s));
  }
  return assemble_domains(name, dataset_dir, image_dir, domains, std::move(per_domain));
}

}  // namespace

DatasetSplits read_pacs(const DatasetSource& source) {
  const fs::path dir = dataset_folder(source.root, "pacs", "", "PACS in Dassl's layout: images/, splits/");
  return read_pacs_layout("pacs", dir, {"art_painting", "cartoon", "photo", "sketch"}, kPacsErrorPaths);
}

DatasetSplits read_world_dg(const DatasetSource& source) {
  const fs::path dir =
      dataset_folder(source.root, "world_dg", "", "the built-in world's DG benchmark (written by ensure_world)");
  const fs::path spec_file = dir / "world_spec.json";
  require_file(spec_file, "the world generator's world_spec.json listing the domains");
  std::vector<std::string> domains;
  try {
    std::ifstream in(spec_file, std::ios::binary);
    const nlohmann::json spec = nlohmann::json::parse(in);
    domains = spec.at("domains").get<std::vector<std::string>>();
  } catch (const nlohmann::json::exception& e) {
    fail("{} does not list the domains as \"domains\": [names] ({})", spec_file.string(), e.what());
  }
  CLIPT_CHECK(!domains.empty(), "{} lists no domains", spec_file.string());
  return read_pacs_layout("world_dg", dir, domains, {});
}

}  // namespace clipt::data::datasets
