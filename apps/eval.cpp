// `clipt eval --model-dir RUN [--load-epoch N] [--rho R] [--output-dir DIR] [train options] [KEY VALUE...]`:
// the sharpness report of a trained run — the training loss over the (few-shot) training set, its
// first-order sharpness L(w + ρ·g/‖g‖) − L(w) with g the full training-set gradient (ρ defaults to
// OPTIM.RHO), and the test accuracy (on the run's classes; for a base-to-new run also on the new classes
// and their harmonic mean). Training images go through the test transform, so the numbers are
// deterministic. The configuration is RUN/config.yaml unless --config-file is given; the other options
// are those of `clipt train`. Prints a Markdown table and writes DIR/sharpness.json (DIR: RUN/eval).
#include <fmt/core.h>

#include <thread>

#include "apps/train_args.h"
#include "data/data_config.h"
#include "data/device_batches.h"
#include "data/subsample.h"
#include "data/world/world_datasets.h"
#include "engine/core/error.h"
#include "engine/io/atomic_file.h"
#include "engine/runtime/pinned_host.h"
#include "methods/common/sharpness.h"
#include "methods/trainer/b2n.h"
#include "methods/trainer/interrupt.h"
#include "methods/trainer/trainer.h"

namespace clipt::apps {

namespace {

// The training set with deterministic (test) transforms, in a fixed order.
std::unique_ptr<data::DataLoader> train_set_loader(const trainer::Trainer& t, data::Subsample subsample,
                                                   const std::atomic<bool>* stop) {
  const Config& cfg = t.config();
  data::LoaderOptions o;
  o.batch_size = cfg.get_int("DATALOADER.TEST.BATCH_SIZE");
  o.shuffle = false;
  o.drop_last = false;
  const int hw = int(std::max(1u, std::thread::hardware_concurrency()));
  o.num_workers = int(std::clamp<int64_t>(cfg.get_int("DATALOADER.NUM_WORKERS"), 0, hw));
  o.seed = t.context().seed;
  o.stop_flag = stop;
  o.uint8_images = true;  // normalised on the device (data::DeviceBatches), from pinned buffers on a GPU
  if (t.context().device.is_cuda()) o.allocator = [](const Shape& s, DType d) { return pinned_empty(s, d); };
  std::vector<data::Sample> samples = data::subsample_classes(t.splits(), subsample).train;
  CLIPT_CHECK(!samples.empty(), "eval: the run's training set ({} classes of {}) is empty",
              data::subsample_name(subsample), cfg.get_string("DATASET.NAME"));
  return std::make_unique<data::DataLoader>(std::move(samples),
                                            data::ImageTransform::test(data::transform_config_from(cfg)), o);
}

}  // namespace

int cmd_eval(const CommandArgs& argv) {
  ParsedTrainArgs parsed = parse_train_args(argv, {"rho"});
  const Args& args = *parsed.args;
  const std::filesystem::path run = args.require("model-dir");
  CLIPT_CHECK(std::filesystem::is_directory(run), "eval: --model-dir {} is not a run folder", run.string());
  trainer::TrainArgs& a = parsed.train;
  if (a.config_file.empty() && std::filesystem::exists(run / "config.yaml"))
    a.config_file = (run / "config.yaml").string();
  if (a.output_dir.empty()) a.output_dir = (run / "eval").string();
  const Config cfg = trainer::build_run_config(a);
  const std::filesystem::path out = cfg.get_string("OUTPUT_DIR");
  const double rho = args.get_double("rho", cfg.get_float("OPTIM.RHO"));

  world::register_world_datasets();
  trainer::RunLog log(out);
  auto& stop = trainer::install_interrupt_handler();
  trainer::Trainer t(cfg, log, &stop);
  t.load(run, args.get_int("load-epoch", -1));
  const auto subsample = data::parse_subsample(cfg.get_string("DATASET.SUBSAMPLE_CLASSES"));

  auto loader = train_set_loader(t, subsample, &stop);
  data::Batch host;
  const Device device = t.context().device;
  std::unique_ptr<data::DeviceBatches> uploads;
  methods::BatchSource source{[&] {
                                loader->start_epoch(0);
                                uploads = std::make_unique<data::DeviceBatches>(*loader, device);
                              },
                              [&](methods::TrainBatch& b) {
                                if (!uploads->next(host)) return false;
                                data::DeviceBatch d = uploads->upload();
                                b.images = std::move(d.images);
                                b.labels = std::move(d.labels);
                                b.domains = std::move(d.domains);
                                b.host = &host;
                                return true;
                              }};
  const methods::SharpnessReport s = methods::measure_sharpness(t.method(), source, rho);

  const std::string split = cfg.get_string("TEST.SPLIT");
  std::vector<trainer::EvalResult> evals{t.evaluate(subsample, split)};
  if (subsample == data::Subsample::Base) evals.push_back(t.evaluate(data::Subsample::New, split));

  const std::string method = methods::canonical_method_name(cfg.get_string("TRAINER.NAME"));
  std::string header = "| method | dataset | epoch | rho | train loss | loss at w+eps | sharpness | grad norm |";
  std::string rule = "|---|---|---|---|---|---|---|---|";
  std::string row =
      fmt::format("| {} | {} | {} | {:g} | {:.4f} | {:.4f} | {:.4f} | {:.4f} |", method, cfg.get_string("DATASET.NAME"),
                  t.epochs_done(), s.rho, s.loss, s.perturbed_loss, s.sharpness, s.grad_norm);
  for (const auto& e : evals) {
    header += fmt::format(" {} acc |", e.subsample);
    rule += "---|";
    row += fmt::format(" {:.2f} |", e.accuracy);
  }
  if (evals.size() == 2) {
    header += " HM |";
    rule += "---|";
    row += fmt::format(" {:.2f} |", trainer::harmonic_mean(evals[0].accuracy, evals[1].accuracy));
  }
  log.line("\n" + header + "\n" + rule + "\n" + row + "\n");

  nlohmann::json evaluations = nlohmann::json::array();
  for (const auto& e : evals) evaluations.push_back(e.to_json());
  nlohmann::json j = {{"method", method},         {"dataset", cfg.get_string("DATASET.NAME")},
                      {"run", run.string()},      {"epoch", t.epochs_done()},
                      {"seed", t.context().seed}, {"train_subsample", data::subsample_name(subsample)},
                      {"sharpness", s.to_json()}, {"evaluations", evaluations}};
  if (evals.size() == 2) j["hm"] = trainer::harmonic_mean(evals[0].accuracy, evals[1].accuracy);
  io::write_file_atomic(out / "sharpness.json", j.dump(2) + "\n");
  log.info("sharpness report written to {}", (out / "sharpness.json").string());
  return 0;
}

}  // namespace clipt::apps
