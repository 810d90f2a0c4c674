// DomainNet (Dassl's dg/domainnet.py DomainNetDG, MetaPrompt's DomainNetFS): splits/<domain>_{train,test}.txt
// with "<domain>/<class>/<file> <label>" lines, 0-based labels, paths relative to the dataset folder, class
// name = the path's second component. Sources validate on their test split. (Dassl notes that class 327,
// t-shirt, is missing from painting_train.txt.)
#include "data/datasets/dg_common.h"
#include "data/datasets/dg_readers.h"

namespace clipt::data::datasets {

DatasetSplits read_domainnet(const DatasetSource& source) {
  const fs::path dir = dataset_folder(source.root, "domainnet", "", "DomainNet: <domain>/ folders and splits/");
  const fs::path split_dir = dir / "splits";
  require_dir(split_dir, "DomainNet's split files <domain>_{train,test}.txt");
  const std::vector<std::string> domains = {"clipart", "infograph", "painting", "quickdraw", "real", "sketch"};
  std::vector<DomainSamples> per_domain;
  for (const auto& d : domains) {
    DomainSamples s;
    s.train = read_path_label_file(split_dir / (d + "_train.txt"), dir, 0, second_component);
    s.test = read_path_label_file(split_dir / (d + "_test.txt"), dir, 0, second_component);
    s.val = s.test;
    per_domain.push_back(std::move(s));
  }
  return assemble_domains("domainnet", dir, dir, domains, std::move(per_domain));
}

}  // namespace clipt::data::datasets
