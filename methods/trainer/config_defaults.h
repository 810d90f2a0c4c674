// Every config key clipt knows, with its default: Dassl.pytorch's defaults plus the keys that the peers'
// train.py `extend_cfg` add (CoOp/CoCoOp, KgCoOp/ProGrad, GCSCoOp, MaPLe/IVLP, DPC, MetaPrompt) and clipt's
// own, so the peers' YAML files and command-line overrides load unchanged.
#pragma once
#include "engine/config/config.h"

namespace clipt {

Config default_config();

}  // namespace clipt
