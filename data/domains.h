// Domain generalisation on multi-domain datasets: choosing source and target domains and the few-shot
// protocol per domain.
//
// A multi-domain reader (datasets/dg_readers.h) returns every domain at once, with DatasetSplits::domains
// naming them and Sample::domain indexing that list: `train` = each domain's training split, `val` = the
// split Dassl validates a source domain on, `test` = the split Dassl reads for a target domain.
// select_domains does what Dassl's DG dataset classes do with DATASET.SOURCE_DOMAINS / TARGET_DOMAINS:
// train and val from the sources in the order given, with Sample::domain = the position in the source
// list; test from the targets, with Sample::domain = the position in the target list (Dassl's
// `enumerate(input_domains)`). Afterwards `domains` lists the sources.
//
// Which domains: Dassl's classes (PACS, VLCS, OfficeHomeDG, DomainNetDG, world_dg) take
// DATASET.SOURCE_DOMAINS and TARGET_DOMAINS; MetaPrompt's few-shot classes (PACSFS, VLCSFS, OfficeHomeFS,
// DomainNetFS) ignore both and take DATASET.ID: target = domains[ID], sources = the others in order
// (scripts/Meta/dg.sh loops ID over 0..N−1).
//
// Few-shot (MetaPrompt's _generate_fewshot_dataset, which groups by domain, then label): k samples per
// class *per source domain* for train and min(k, 4) for val, each domain drawn from its own Philox stream
// keyed by (seed, domain name), so a domain's selection does not depend on which other domains are
// sources. Cached per domain in <dataset dir>/split_fewshot/<domain>_shot_<k>-seed_<s>.json (same
// checks as fewshot.h: a cache that does not match the request or the data is an error naming the file).
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "data/dataset.h"
#include "data/fewshot.h"
#include "engine/config/config.h"

namespace clipt::data {

struct DomainSelection {
  std::vector<std::string> sources, targets;
};

// Leave-one-domain-out: the target and every other domain, in the dataset's order, as sources.
DomainSelection leave_one_domain_out(const std::vector<std::string>& domains, int64_t target_index);
DomainSelection leave_one_domain_out(const std::vector<std::string>& domains, const std::string& target);

// Whether `dataset` (a registry or Dassl name) picks its target by DATASET.ID (MetaPrompt's *FS classes).
bool selects_target_by_id(std::string_view dataset);

// The selection a run's config asks for on `splits` (a multi-domain dataset as read): DATASET.ID for the
// *FS datasets, else DATASET.SOURCE_DOMAINS and TARGET_DOMAINS (both required). Unknown domains, an ID
// out of range or empty lists → Error naming the keys and the dataset's domains.
DomainSelection domain_selection_from(const Config& cfg, const DatasetSplits& splits);

// Keeps the sources' train and val and the targets' test (see above). Every named domain must be one of
// `all.domains`.
DatasetSplits select_domains(const DatasetSplits& all, const DomainSelection& selection);

std::filesystem::path domain_fewshot_cache_path(const DatasetSplits& splits, const std::string& domain, int shots,
                                                uint64_t seed);

// NUM_SHOTS per class per source domain on splits after select_domains (shots < 1: unchanged).
DatasetSplits apply_fewshot_per_domain(DatasetSplits splits, int shots, uint64_t seed,
                                       const FewShotOptions& options = {});

// The whole DG data step of a run: select, then few-shot per domain.
DatasetSplits prepare_domains(const DatasetSplits& all, const DomainSelection& selection, int shots, uint64_t seed,
                              const FewShotOptions& options = {});

}  // namespace clipt::data
