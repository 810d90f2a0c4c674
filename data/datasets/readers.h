// The built-in dataset readers, one function per dataset (family files under datasets/). The registry
// (registry.cpp) lists them explicitly: self-registering statics would be dropped by the linker from a
// static library.
#pragma once
#include "data/dataset.h"

namespace clipt::data::datasets {

// CoOp's datasets that read a fixed split_zhou_*.json (coop_split_datasets.cpp).
DatasetSplits read_caltech101(const DatasetSource& source);
DatasetSplits read_oxford_pets(const DatasetSource& source);
DatasetSplits read_stanford_cars(const DatasetSource& source);
DatasetSplits read_oxford_flowers(const DatasetSource& source);
DatasetSplits read_food101(const DatasetSource& source);
DatasetSplits read_sun397(const DatasetSource& source);
DatasetSplits read_dtd(const DatasetSource& source);
DatasetSplits read_eurosat(const DatasetSource& source);
DatasetSplits read_ucf101(const DatasetSource& source);

// FGVC-Aircraft: variants.txt + images_variant_{train,val,test}.txt (fgvc_aircraft.cpp).
DatasetSplits read_fgvc_aircraft(const DatasetSource& source);

// ImageNet and its test-only variants (imagenet.cpp).
DatasetSplits read_imagenet(const DatasetSource& source);
DatasetSplits read_imagenetv2(const DatasetSource& source);
DatasetSplits read_imagenet_sketch(const DatasetSource& source);
DatasetSplits read_imagenet_a(const DatasetSource& source);
DatasetSplits read_imagenet_r(const DatasetSource& source);

// Bring-your-own-data readers (generic.cpp).
DatasetSplits read_split_json_dataset(const DatasetSource& source);
DatasetSplits read_image_folder(const DatasetSource& source);

}  // namespace clipt::data::datasets
