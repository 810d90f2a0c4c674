// The multi-domain (domain-generalisation) readers, in Dassl's folder layouts (dassl/data/datasets/dg/)
// and under the names of both Dassl's classes and MetaPrompt's few-shot variants (Vill-Lab/2024-TIP-
// MetaPrompt datasets/): PACS / PACSFS, VLCS / VLCSFS, OfficeHomeDG / OfficeHomeFS, DomainNetDG /
// DomainNetFS, plus the built-in world's `world_dg`. Each returns every domain (see dg_common.h); which are
// sources and which the target is decided by data/domains.h from DATASET.SOURCE_DOMAINS /
// TARGET_DOMAINS (Dassl's classes) or DATASET.ID (MetaPrompt's *FS classes).
#pragma once
#include "data/dataset.h"

namespace clipt::data::datasets {

// <root>/pacs: images/<domain>/<class>/..., splits/<domain>_{train,crossval}_kfold.txt with 1-based labels;
// domains art_painting, cartoon, photo, sketch; val = crossval, target test = train + crossval ("all").
DatasetSplits read_pacs(const DatasetSource& source);
// <root>/VLCS (Dassl; MetaPrompt's VLCSFS reads <root>/vlcs — either spelling is accepted by both):
// <DOMAIN>/{train,crossval,test}/<class>/*.jpg; domains caltech, labelme, pascal, sun; val = crossval,
// target test = test; class names bird, car, chair, dog, person by label (MetaPrompt's list).
DatasetSplits read_vlcs(const DatasetSource& source);
DatasetSplits read_vlcs_fs(const DatasetSource& source);
// <root>/office_home_dg (Dassl; MetaPrompt: <root>/office_home): <domain>/{train,val}/<class>/*.jpg;
// domains art, clipart, product, real_world; val = val, target test = train + val; class name = the
// folder name lower-cased.
DatasetSplits read_office_home_dg(const DatasetSource& source);
DatasetSplits read_office_home_fs(const DatasetSource& source);
// <root>/domainnet: splits/<domain>_{train,test}.txt with 0-based labels, paths relative to the dataset
// folder; domains clipart, infograph, painting, quickdraw, real, sketch; val = test, target test = test.
DatasetSplits read_domainnet(const DatasetSource& source);
// <root>/world_dg: the built-in world's DG benchmark in PACS' layout (models/world/ensure_world.h), domains
// as listed by its world_spec.json (photo, sketch, cartoon, texture, noisy by default).
DatasetSplits read_world_dg(const DatasetSource& source);

}  // namespace clipt::data::datasets
