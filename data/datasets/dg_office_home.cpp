// Office-Home (Dassl's dg/office_home_dg.py via DigitsDG.read_data, MetaPrompt's OfficeHomeFS):
// <domain>/{train,val}/<class>/*.jpg, labels by sorted class folder, class name = folder.lower().
#include <cctype>

#include "data/datasets/dg_common.h"
#include "data/datasets/dg_readers.h"

namespace clipt::data::datasets {
namespace {

std::vector<Sample> read_split(const fs::path& dir) {
  return read_jpg_class_folders(dir, [](size_t, const std::string& folder) {
    std::string name = folder;
    for (char& c : name) c = char(std::tolower(static_cast<unsigned char>(c)));
    return name;
  });
}

DatasetSplits read_office_home_from(const std::string& name, const fs::path& dir) {
  const std::vector<std::string> domains = {"art", "clipart", "product", "real_world"};
  std::vector<DomainSamples> per_domain;
  for (const auto& d : domains) {
    require_dir(dir / d, fmt::format("Office-Home domain folder {} with train/ and val/", d));
    DomainSamples s;
    s.train = read_split(dir / d / "train");
    s.val = read_split(dir / d / "val");
    s.test = s.train;  // "all": train + val
    s.test.insert(s.test.end(), s.val.begin(), s.val.end());
    per_domain.push_back(std::move(s));
  }
  return assemble_domains(name, dir, dir, domains, std::move(per_domain));
}

}  // namespace

DatasetSplits read_office_home_dg(const DatasetSource& source) {
  return read_office_home_from(
      "office_home_dg", dataset_folder(source.root, "office_home_dg", "office_home", "Office-Home in Dassl's layout"));
}

DatasetSplits read_office_home_fs(const DatasetSource& source) {
  return read_office_home_from(
      "office_home_fs", dataset_folder(source.root, "office_home", "office_home_dg", "Office-Home in Dassl's layout"));
}

}  // namespace clipt::data::datasets
