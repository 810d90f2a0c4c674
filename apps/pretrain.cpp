// `clipt pretrain`: contrastive CLIP pretraining from scratch on the built-in world, writing a model
// directory in the standard layout. The default arguments produce the demo's model.
#include <fmt/core.h>

#include "apps/args.h"
#include "apps/commands.h"
#include "methods/pretrain/clip_pretrain.h"
#include "methods/trainer/interrupt.h"
#include "models/world/ensure_world.h"

namespace clipt::apps {

int cmd_pretrain(const CommandArgs& argv) {
  Args args(argv);
  args.check_known({"world", "out", "steps", "batch", "lr", "seed", "device", "width", "layers", "image-size", "patch",
                    "warmup", "colour-group"});
  const std::filesystem::path world_root = args.get_or("world", "clipt-world");
  pretrain::PretrainOptions o;
  o.model = pretrain::default_world_clip_config();
  if (args.get("width")) {
    o.model.text.width = o.model.vision.width = o.model.projection_dim = args.get_int("width", 128);
    o.model.text.mlp_hidden = o.model.vision.mlp_hidden = 4 * o.model.text.width;
  }
  if (args.get("layers")) o.model.text.layers = o.model.vision.layers = args.get_int("layers", 4);
  o.model.image_size = args.get_int("image-size", o.model.image_size);
  o.model.patch_size = args.get_int("patch", o.model.patch_size);
  o.warmup_steps = args.get_int("warmup", o.warmup_steps);
  o.colour_group = int(args.get_int("colour-group", o.colour_group));
  o.steps = args.get_int("steps", o.steps);
  o.batch = args.get_int("batch", o.batch);
  o.lr = args.get_double("lr", o.lr);
  o.seed = uint64_t(args.get_int("seed", 0));
  o.device = parse_device(args.get_or("device", "cpu"));
  o.out_dir = args.get_or("out", (world_root / "clip").string());
  o.stop = &trainer::install_interrupt_handler();
  const auto world = world_setup::ensure_world(world_root);
  o.tokenizer_dir = world.tokenizer_dir;
  fmt::print("clipt pretrain: {} on {} ({} steps of {} images)\n", o.model.summary(), o.device.str(), o.steps, o.batch);
  pretrain::pretrain_world_clip(o, [](const std::string& line) {
    fmt::print("{}\n", line);
    std::fflush(stdout);
  });
  fmt::print("model written to {}\n", o.out_dir.string());
  return 0;
}

}  // namespace clipt::apps
