// `clipt profile`: where a step's time goes, op by op and module by module, and how far each op is from
// the device's roof. Runs a method's training step (or its evaluation, or one CLIP tower) on a real
// model (--model) or on random weights of a released shape with synthetic inputs (--arch, no download),
// records `--steps` steps after `--warmup` unrecorded ones with engine/profile, and prints the tables
// (or --json); --trace writes a Chrome/Perfetto trace, --svg the roofline picture.
#include <fmt/core.h>

#include <iostream>

#include "apps/train_args.h"
#include "engine/io/atomic_file.h"
#include "engine/ops/ops.h"
#include "engine/ops/random.h"
#include "engine/profile/peaks.h"
#include "engine/profile/step_profiler.h"
#include "methods/pretrain/clip_pretrain.h"
#include "methods/trainer/config_defaults.h"
#include "methods/trainer/run_config.h"
#include "methods/trainer/trainer.h"
#include "models/clip/synthetic_prompts.h"

namespace clipt::apps {

namespace {

enum class What { Train, Eval, Image, Text };

What parse_what(const std::string& s) {
  if (s == "train") return What::Train;
  if (s == "eval") return What::Eval;
  if (s == "image") return What::Image;
  if (s == "text") return What::Text;
  fail("--what must be train, eval, image or text, got '{}'", s);
}

// The model (random weights of --arch, or the --model directory) and a tokenizer for its prompts.
struct ModelSetup {
  std::unique_ptr<clip::ClipModel> model;
  std::unique_ptr<clip::Tokenizer> tokenizer;
  std::string source;
};

ModelSetup make_model(const Args& args, const Config& cfg, const std::vector<std::string>& classes, Device device,
                      DType dtype) {
  ModelSetup s;
  const auto arch = args.get("arch");
  CLIPT_CHECK(!arch || cfg.get_string("CLIPT.MODEL_DIR").empty(), "pass either --arch or --model, not both");
  if (arch) {
    clip::ClipConfig c = *arch == "world" ? pretrain::default_world_clip_config() : clip::clip_preset(*arch);
    s.tokenizer = std::make_unique<clip::Tokenizer>(clip::prompt_tokenizer(classes));
    Generator gen(uint64_t(std::max<int64_t>(cfg.get_int("SEED"), 0)));
    s.model = std::make_unique<clip::ClipModel>(c, gen, dtype);
    s.model->to(device);
    s.model->requires_grad_(false);
    s.source = "random weights (--arch " + *arch + ")";
    return s;
  }
  CLIPT_CHECK(!cfg.get_string("CLIPT.MODEL_DIR").empty(),
              "pass --arch vit_b16|vit_b32|vit_l14|world (random weights) or --model DIR (a CLIP directory)");
  const auto dir = trainer::resolve_model_dir(cfg);
  s.model = clip::load_clip(dir, dtype, device);
  s.tokenizer = std::make_unique<clip::Tokenizer>(clip::Tokenizer::from_hf_dir(dir));
  s.source = dir.string();
  return s;
}

const std::set<std::string> kOptions = {"arch",  "classes",      "batch", "what", "steps", "warmup",
                                        "trace", "module-depth", "top",   "svg",  "report"};

}  // namespace

int cmd_profile(const CommandArgs& argv) {
  ParsedTrainArgs parsed = parse_train_args(argv, kOptions, {"json"});
  const Args& args = *parsed.args;
  if (parsed.train.trainer.empty()) parsed.train.trainer = "CoOp";
  const Config cfg = trainer::build_run_config(parsed.train);
  const std::string method_name = methods::canonical_method_name(cfg.get_string("TRAINER.NAME"));
  const Device device = trainer::resolve_device(cfg);
  const DType dtype = trainer::resolve_dtype(cfg, methods::method_config_group(method_name) + ".PREC", device);
  const What what = parse_what(args.get_or("what", "train"));
  const int64_t classes = args.get_int("classes", 10), batch = args.get_int("batch", device.is_cpu() ? 4 : 32);
  const int64_t steps = args.get_int("steps", 3), warmup = args.get_int("warmup", 1);
  CLIPT_CHECK(classes > 0 && batch > 0, "--classes and --batch must be positive (got {} and {})", classes, batch);

  const std::vector<std::string> names = clip::synthetic_class_names(classes);
  ModelSetup setup = make_model(args, cfg, names, device, dtype);
  const clip::ClipConfig& mc = setup.model->config();
  Generator gen(uint64_t(std::max<int64_t>(cfg.get_int("SEED"), 0)) + 1);

  std::unique_ptr<methods::Method> method;
  std::unique_ptr<optim::Optimizer> optimizer;
  methods::MethodContext ctx{setup.model.get(), setup.tokenizer.get(), &cfg, "imagenet", device, 1, ""};
  if (what == What::Train || what == What::Eval) {
    method = methods::create_method(method_name);
    method->build(ctx, names);
    std::vector<Tensor> params;
    for (auto& [n, t] : method->trainable_parameters()) params.push_back(t);
    if (what == What::Train) {
      CLIPT_CHECK(!params.empty(), "{} has no trainable parameters: profile it with --what eval", method_name);
      optimizer = trainer::make_optimizer(cfg, params);
    } else {
      method->prepare_eval(names, methods::ClassSplit::All);
    }
  }
  Tensor prompt_ids;
  if (what == What::Text) {
    std::vector<std::string> prompts;
    for (const auto& n : names) prompts.push_back("a photo of a " + n + ".");
    prompt_ids = setup.tokenizer->tokenize_batch(prompts, mc.context_length).to(device);
  }
  // One step: the synthetic batch (the data phase), then the work.
  auto step = [&] {
    methods::TrainBatch b;
    {
      profile::PhaseScope data(profile::Phase::Data);
      b.images = randn({batch, 3, mc.image_size, mc.image_size}, gen, DType::F32, device);
      b.labels = randint(0, classes, {batch}, gen, device);
    }
    switch (what) {
      case What::Train: method->train_step(b, *optimizer); break;
      case What::Eval: method->eval_logits(b.images); break;
      case What::Image: {
        NoGrad ng;
        setup.model->encode_image(b.images);
        break;
      }
      case What::Text: {
        NoGrad ng;
        setup.model->encode_text(prompt_ids);
        break;
      }
    }
  };

  const profile::Peaks peaks = profile::device_peaks(device);  // before recording: it runs GEMMs of its own
  profile::StepProfiler profiler(device, steps, warmup);
  for (int64_t i = 0; i < warmup + steps; ++i) {
    profiler.begin_step();
    step();
    if (!profiler.recording()) backend_for(device).synchronize();
    profiler.end_step();
  }
  const profile::Profile recorded = profiler.finish();
  const char* what_name[] = {"training step", "evaluation batch", "image forward", "text forward"};
  // The tower forwards do not involve the method; the text forward encodes one prompt per class.
  const std::string who = what == What::Image || what == What::Text ? "CLIP" : method_name;
  const std::string inputs = what == What::Text ? fmt::format("{} class prompts", classes)
                                                : fmt::format("batch {}, {} classes", batch, classes);
  const std::string title = fmt::format("{} {}, {}, {} {}, {}", who, what_name[int(what)], mc.summary(), device.str(),
                                        dtype_name(dtype), inputs);
  const profile::Summary summary = profile::summarize(recorded, peaks, title, int(args.get_int("module-depth", 0)));
  const int top = int(args.get_int("top", 15));
  const std::string report = profile::format_report(summary, top);
  if (args.flag("json"))
    std::cout << profile::summary_json(summary, top).dump(2) << "\n";
  else
    std::cout << report << "\nmodel: " << setup.source << "\n";
  if (auto f = args.get("report")) io::write_file_atomic(*f, report);
  if (auto f = args.get("trace")) io::write_file_atomic(*f, profile::chrome_trace(recorded).dump() + "\n");
  if (auto f = args.get("svg")) io::write_file_atomic(*f, profile::roofline_svg(summary));
  return 0;
}

}  // namespace clipt::apps
