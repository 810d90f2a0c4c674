// DPC's stage 1: the backbone method trained as usual on the base classes, in a clipt run folder.
// Either trained inside the DPC run (DPC.BACK_CKPT_PATH empty: <output>/stage1, resumed or reused when
// already there), or an existing clipt run (DPC.BACK_CKPT_PATH = its folder, DPC.BACK_CKPT_EPOCH = its
// epoch, −1 the newest). Its recipe (see stage1_config) and what is checked are in methods/dpc/README.md.
#pragma once
#include <filesystem>
#include <optional>
#include <string>

#include "engine/config/config.h"
#include "methods/method.h"

namespace clipt::methods::dpc {

struct Stage1Run {
  std::filesystem::path dir;               // the run folder
  std::filesystem::path checkpoint;        // the checkpoint P is read from
  std::string method;                      // the backbone's canonical name
  Config config;                           // the config the backbone was trained with (from the checkpoint)
  std::vector<std::string> classnames;     // its training classes (the base classes DPC trains on)
  std::optional<BaselineResult> baseline;  // its base/new accuracy from its results.json, when present
};

// The recipe the backbone is trained with when DPC.BACKBONE_CONFIG is empty: on the built-in world
// configs/world/<Backbone>.yaml; for CoOp the stage 1 the released DPC configs name (CoOp vit_b16_ep100,
// 4 context tokens, no CTX_INIT, class token at the end: configs/trainers/DPC/stage1_CoOp_vit_b16_ep100_nctx4
// .yaml); else the peers' base-to-new recipe (KgCoOp vit_b16_ep100_ctxv1, MaPLe vit_b16_c2_ep5_batch4_2ctx,
// IVLP vit_b16_c2_ep5_batch4_2+2ctx, or the only file in configs/trainers/<Backbone>/). A relative DPC.BACKBONE_CONFIG
// is looked up from the current folder, then from clipt's configs/ folder.
std::filesystem::path backbone_config_file(const Config& run_cfg, const std::string& backbone);

// Stage 1's config, as `clipt train --trainer <Backbone> --config-file <backbone config>
// --dataset-config-file <the run's>` would build it, plus the run's protocol keys (DATASET.*, SEED,
// INPUT.*, MODEL.*, CLIPT.*, DATALOADER.NUM_WORKERS, DATALOADER.TEST.BATCH_SIZE), so both stages see the
// same data, few-shot subset, images and CLIP; OUTPUT_DIR = `dir`.
Config stage1_config(const Config& run_cfg, const std::string& backbone, const std::filesystem::path& dir);

// Locates stage 1 for the DPC run of `ctx` (training it first when needed) and checks that it fits
// this run (method, dataset; a different seed is a warning). `classnames` are the run's training
// classes: when they differ from stage 1's (an evaluation-only run on other classes) that is noted.
Stage1Run prepare_stage1(const MethodContext& ctx, const std::vector<std::string>& classnames);

}  // namespace clipt::methods::dpc
