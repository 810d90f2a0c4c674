// Pieces shared by the multi-domain (domain-generalisation) readers in dg_*.cpp.
//
// A multi-domain reader returns every domain of its dataset at once, as data/domains.h describes:
// `train` = each domain's training split, `val` = the split Dassl validates a *source* domain on, `test`
// = the split Dassl reads for a *target* domain, Sample::domain = the index into DatasetSplits::domains
// (the dataset's own domain order, Dassl's `domains` class attribute). Choosing sources and targets is
// select_domains' job, so one reading serves every leave-one-domain-out run.
#pragma once
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "data/datasets/common.h"

namespace clipt::data::datasets {

// One domain's three roles (see above).
struct DomainSamples {
  std::vector<Sample> train, val, test;
};

// Concatenates the domains in order, setting Sample::domain to each domain's position.
DatasetSplits assemble_domains(const std::string& name, const fs::path& dataset_dir, const fs::path& image_dir,
                               const std::vector<std::string>& domains, std::vector<DomainSamples> per_domain);

// The dataset folder under DATASET.ROOT: `primary` (the spelling of the reader being used), else
// `alternative` when only that one exists (Dassl's VLCS/office_home_dg vs MetaPrompt's vlcs/office_home:
// the same download), else an error naming both and `what` belongs there.
fs::path dataset_folder(const fs::path& root, const std::string& primary, const std::string& alternative,
                        const std::string& what);

// Class name of a split-file entry from its relative path.
using ClassnameOf = std::function<std::string(const std::string& relative_path, const fs::path& file, size_t line)>;
// PACS: "art_painting/dog/pic_001.jpg" → "dog" (impath.split('/')[-2]).
std::string parent_folder_name(const std::string& relative_path, const fs::path& file, size_t line);
// DomainNet: "clipart/aircraft_carrier/x.jpg" → "aircraft_carrier" (impath.split('/')[1]).
std::string second_component(const std::string& relative_path, const fs::path& file, size_t line);

// Dassl's "<relative path> <label>" split files (PACS *_kfold.txt, DomainNet <domain>_<split>.txt):
// Python's `line.strip().split(' ')` must give exactly two fields; the label is int(label) − label_offset
// (PACS stores 1-based labels); paths are joined onto `base_dir`; entries whose relative path is in
// `skip` are dropped (PACS' known-bad image). Blank lines are skipped.
std::vector<Sample> read_path_label_file(const fs::path& file, const fs::path& base_dir, int64_t label_offset,
                                         const ClassnameOf& classname_of, const std::set<std::string>& skip = {});

// Dassl's folder-per-class splits (DigitsDG.read_data, VLCS._read_data): the non-hidden sub-folders of
// `dir` sorted by name are labels 0, 1, ...; each holds the images matching `*.jpg` (glob: case-sensitive,
// hidden files excluded; sorted here, glob's order is the filesystem's). `classname(label, folder)`
// names the class.
std::vector<Sample> read_jpg_class_folders(
    const fs::path& dir, const std::function<std::string(size_t label, const std::string& folder)>& classname);

}  // namespace clipt::data::datasets
