// `clipt zeroshot --model DIR --dataset NAME --root DIR [--split test|val] [--subsample all|base|new]
//  [--ensemble] [--device D] [--batch N] [--workers N] [--out FILE]`: zero-shot CLIP accuracy with CoOp's
// hand-made per-dataset template (or the ImageNet select-template ensemble), as CoOp's ZeroshotCLIP.
#include <fmt/core.h>

#include "apps/args.h"
#include "apps/commands.h"
#include "data/image.h"
#include "data/world/world_datasets.h"
#include "methods/trainer/config_defaults.h"
#include "methods/trainer/interrupt.h"
#include "methods/trainer/trainer.h"
#include "models/clip/clip_config.h"

namespace clipt::apps {

int cmd_zeroshot(const CommandArgs& argv) {
  Args args(argv, {"ensemble"});
  args.check_known({"model", "dataset", "root", "split", "subsample", "ensemble", "device", "batch", "workers", "out",
                    "max-image-pixels"});
  const std::filesystem::path model = args.require("model");
  const auto clip_cfg = clip::load_clip_config(model / "config.json");
  Config cfg = default_config();
  cfg.set("TRAINER.NAME", args.flag("ensemble") ? "ZeroshotCLIP2" : "ZeroshotCLIP");
  cfg.set("DATASET.NAME", args.require("dataset"));
  cfg.set("DATASET.ROOT", args.require("root"));
  cfg.set("DATASET.SUBSAMPLE_CLASSES", args.get_or("subsample", "all"));
  cfg.set("DATASET.NUM_SHOTS", int64_t(-1));
  cfg.set("INPUT.SIZE", ConfigValue::list(std::vector<int64_t>{clip_cfg.image_size, clip_cfg.image_size}));
  cfg.set("INPUT.INTERPOLATION", "bicubic");
  cfg.set("INPUT.PIXEL_MEAN", ConfigValue::list(std::vector<double>{0.48145466, 0.4578275, 0.40821073}));
  cfg.set("INPUT.PIXEL_STD", ConfigValue::list(std::vector<double>{0.26862954, 0.26130258, 0.27577711}));
  cfg.set("INPUT.TRANSFORMS", ConfigValue::list(std::vector<std::string>{"normalize"}));
  cfg.set("DATALOADER.TEST.BATCH_SIZE", args.get_int("batch", 100));
  cfg.set("DATALOADER.NUM_WORKERS", args.get_int("workers", 8));
  cfg.set("CLIPT.MODEL_DIR", model.string());
  cfg.set("CLIPT.DEVICE", args.get_or("device", ""));
  cfg.set("TRAINER.COOP.PREC", "fp16");
  cfg.set("CLIPT.MAX_IMAGE_PIXELS", args.get_int("max-image-pixels", data::kDefaultMaxImagePixels));
  cfg.freeze();
  world::register_world_datasets();
  trainer::RunLog log;
  trainer::Trainer t(cfg, log, &trainer::install_interrupt_handler());
  const auto subsample = data::parse_subsample(cfg.get_string("DATASET.SUBSAMPLE_CLASSES"));
  const trainer::EvalResult r = t.evaluate(subsample, args.get_or("split", "test"));
  fmt::print("top-1 accuracy {:.2f}% ({} / {})\n", r.accuracy, r.correct, r.total);
  if (auto out = args.get("out")) {
    t.write_results({r}, *out);
    fmt::print("results written to {}\n", *out);
  }
  return 0;
}

}  // namespace clipt::apps
