// VLCS (Dassl's dg/vlcs.py, MetaPrompt's VLCSFS): <DOMAIN>/{train,crossval,test}/<class>/*.jpg with the
// domain folder upper-cased, labels by sorted class folder. Dassl's reader gives no class names (CLIP
// needs them); MetaPrompt's names label i by a fixed list, which we use for both.
#include "data/datasets/dg_common.h"
#include "data/datasets/dg_readers.h"

namespace clipt::data::datasets {
namespace {

const std::vector<std::string> kVlcsClasses = {"bird", "car", "chair", "dog", "person"};

std::vector<Sample> read_vlcs_split(const fs::path& dir) {
  const auto folders = list_subdirs(dir);
  CLIPT_CHECK(folders.size() == kVlcsClasses.size(),
              "{} has {} class folders; VLCS has {} ({}, named in this order by sorted folder)", dir.string(),
              folders.size(), kVlcsClasses.size(), fmt::join(kVlcsClasses, ", "));
  return read_jpg_class_folders(dir, [](size_t label, const std::string&) { return kVlcsClasses[label]; });
}

DatasetSplits read_vlcs_from(const std::string& name, const fs::path& dir) {
  const std::vector<std::string> domains = {"caltech", "labelme", "pascal", "sun"};
  std::vector<DomainSamples> per_domain;
  for (const auto& d : domains) {
    std::string upper = d;
    for (char& c : upper) c = char(std::toupper(static_cast<unsigned char>(c)));
    require_dir(dir / upper, fmt::format("VLCS domain folder {} with train/, crossval/, test/", upper));
    DomainSamples s;
    s.train = read_vlcs_split(dir / upper / "train");
    s.val = read_vlcs_split(dir / upper / "crossval");
    s.test = read_vlcs_split(dir / upper / "test");
    per_domain.push_back(std::move(s));
  }
  return assemble_domains(name, dir, dir, domains, std::move(per_domain));
}

}  // namespace

DatasetSplits read_vlcs(const DatasetSource& source) {
  return read_vlcs_from("vlcs", dataset_folder(source.root, "VLCS", "vlcs", "VLCS in Dassl's layout"));
}

DatasetSplits read_vlcs_fs(const DatasetSource& source) {
  return read_vlcs_from("vlcs_fs", dataset_folder(source.root, "vlcs", "VLCS", "VLCS in Dassl's layout"));
}

}  // namespace clipt::data::datasets
