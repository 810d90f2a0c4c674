#include "apps/cli.h"

#include <fmt/core.h>

#include <algorithm>
#include <exception>
#include <functional>

#include "apps/commands.h"
#include "engine/core/closest_name.h"
#include "engine/core/error.h"
#include "engine/cpu/blas_kernels.h"
#include "engine/dist/communicator.h"

namespace clipt::apps {

namespace {

struct Command {
  const char* name;
  const char* summary;
  const char* usage;  // what `clipt <name> --help` prints: the synopsis, then what the options mean
  std::function<int(const CommandArgs&)> run;
};

const std::vector<Command>& commands() {
  static const std::vector<Command> table = {
      {"demo", "run the built-in demonstration job",
       R"(usage: clipt demo [--world DIR] [--out DIR] [--device cpu|cuda] [--seeds 1,2,3] [--methods a,b,...]

Makes sure the built-in world exists (benchmark images, tokenizer) and a CLIP pretrained on it (the
committed model in assets/world-clip, else pretrained now and cached), then runs the base-to-new protocol
on the world for zero-shot CLIP and every method with a recipe in configs/world/ (or those of --methods),
prints the base / new / HM table and writes the report of its runs (OUT/report.html, see `clipt report`).
  --world DIR      the built-in world's folder (default clipt-world)
  --out DIR        where the runs, tables and report go (default clipt-demo)
  --device D       cpu or cuda (default cuda when a GPU is present, else cpu)
  --seeds LIST     comma-separated seeds (default 1)
  --methods LIST   comma-separated methods (default: ZeroshotCLIP and every method with a recipe in
                   configs/world/)
)",
       cmd_demo},
      {"train", "train (or evaluate) a prompt-learning method; the peers' train.py command line",
       R"(usage: clipt train --trainer NAME [--config-file F] [--dataset-config-file F] --root DIR [--output-dir DIR]
                   [--seed N] [--eval-only] [--model-dir DIR] [--load-epoch N] [--no-train] [--resume DIR]
                   [--source-domains a,b] [--target-domains a,b] [--transforms a,b] [--backbone NAME]
                   [--head NAME] [--model DIR] [--device D] [--profile N] [KEY VALUE...]

The command line of the peers' train.py, so their scripts run with `python train.py` replaced by
`clipt train`; --model DIR is a converted CLIP directory, and trailing KEY VALUE pairs override the config.
The run folder (--output-dir, default OUTPUT_DIR: ./output) receives config.yaml, log.txt, metrics.jsonl, TensorBoard scalars
(tensorboard/), results.json and checkpoints/: one per epoch, atomic, of which the newest is kept (and every
TRAIN.CHECKPOINT_FREQ-th); running the same command again resumes, and Ctrl-C saves a mid-epoch checkpoint.
--resume DIR continues from DIR's when the output folder has none (Dassl). Every TRAIN.PRINT_FREQ batches
a line gives loss, accuracy, LR, images/s and the run's ETA; evaluation progress is redrawn in place on a
terminal and written to log.txt once per TRAIN.PRINT_FREQ batches. A folder whose checkpoints were trained with another
recipe is refused, naming the differing key, and a folder another clipt process is using is refused
with that process's pid. Images above CLIPT.MAX_IMAGE_PIXELS (PIL's 89,478,485) are refused.
--profile N records N training steps after the first (see `clipt profile`): the tables go to the log and
OUTPUT_DIR/profile/ gets report.md, profile.json, trace.json and roofline.svg.
)",
       cmd_train},
      {"b2n", "the base-to-new protocol over datasets and seeds; prints the paper-style table",
       R"(usage: clipt b2n --trainer NAME [--config-file F] --datasets a,b,... [--seeds 1,2,3] [--shots K] --root DIR
                 [--output-dir DIR] [--dataset-config-dir DIR] [--model DIR] [--device D] [KEY VALUE...]

The base-to-new protocol: for each dataset × seed, train on the base classes and evaluate on the base and
new classes; prints the Markdown table and writes b2n.md / b2n.csv / b2n.json into --output-dir (default
output/b2n/<trainer>; runs in <output-dir>/<dataset>/seed<k>). Finished runs are skipped on a rerun. After
each run a line gives the sweep's progress and overall ETA. Other options are those of `clipt train`; `clipt report <output-dir>` draws the tables with the spread over seeds.
  --shots K      shots per base class (default 16, as every peer's base2new script; a config file or a
                 DATASET.NUM_SHOTS override also sets it); each run's config.yaml records it

The recipes the shipped configs follow (configs/trainers/<method>/, see each file's header):
  CoOp           KaiyangZhou/CoOp scripts/cocoop/base2new_train.sh: vit_b16_ctxv1 (ImageNet: vit_b16_ep50_ctxv1)
  CoCoOp         the same script: vit_b16_c4_ep10_batch1_ctxv1
  KgCoOp         htyao89/KgCoOp scripts/base2new_train.sh: vit_b16_ep100_ctxv1, 4 tokens, TRAINER.COOP.W 8.0
  ProGrad        BeierZhu/Prompt-align trainers/prograd.py (16 tokens from ProGrad's per-dataset template,
                 its own zero-shot templates) with GCSCoOp's ProGrad/vit_b16_ctxv1 (200 epochs, batch 128)
  GCSCoOp, SCoOp llcllc1997/GCSCoOp scripts/base2new_train.sh: SharpCoOp/vit_b16_ctxv1, 4 tokens, bounds
                 0.5 / 0.8. rho is OPTIM.RHO 0.1: the released scripts take rho as an argument and publish no
                 per-dataset values, so 0.1 (the README's and train.py's) is kept for every dataset
  MaPLe, IVLP    muzairkhattak/multimodal-prompt-learning: vit_b16_c2_ep5_batch4_2ctx / _2+2ctx
  MetaPrompt     Vill-Lab/2024-TIP-MetaPrompt Meta_B2N/vit_b16 with the released meta step
                 (METAPROMPT.LEGACY_RESTORE True; False is the clean restore)
  DPC            JREion/DPC SPLE/CoOp/vit_b16_ep20 with omega_b 0.2, omega_n 0; stage 1 CoOp vit_b16_ep100,
                 4 tokens, no CTX_INIT, class token at the end (DPC.BACKBONE_CONFIG selects another)
)",
       cmd_b2n},
      {"eval", "training loss, its sharpness and test accuracy of a trained run",
       R"(usage: clipt eval --model-dir RUN [--load-epoch N] [--rho R] [--output-dir DIR] [train options] [KEY VALUE...]

The sharpness report of a trained run: the training loss over the (few-shot) training set, its first-order
sharpness L(w + rho·g/|g|) − L(w) with g the full training-set gradient (rho defaults to OPTIM.RHO), and
the test accuracy (for a base-to-new run also on the new classes and their harmonic mean). The
configuration is RUN/config.yaml unless --config-file is given; the other options are those of
`clipt train`. Prints a Markdown table and writes DIR/sharpness.json (DIR: RUN/eval).
)",
       cmd_eval},
      {"dg", "few-shot leave-one-domain-out domain generalisation; prints the per-domain table",
       R"(usage: clipt dg --trainer NAME [--config-file F] (--dataset NAME | --dataset-config-file F) [--targets a,b]
                [--shots 5] [--seeds 1,2,3] --root DIR [--output-dir DIR] [--model DIR] [--device D] [KEY VALUE...]

Few-shot leave-one-domain-out domain generalisation: for each target domain × seed, train on the other
domains and test on the target; prints the per-target and average table and writes dg.md / dg.csv /
dg.json into --output-dir (default output/dg/<dataset>/<trainer>/shots_<k>; runs in
<output-dir>/<target>/seed<k>). Finished runs are skipped on a rerun; after each run a line gives the sweep's
progress and overall ETA. The peers' DG dataset configs (configs/datasets/dg/*.yaml) work as
--dataset-config-file; the protocol sets the domains. Other options are those of `clipt train`.
)",
       cmd_dg},
      {"xd", "cross-dataset transfer / domain shift of a model trained on one dataset; prints the table",
       R"(usage: clipt xd --trainer NAME [--config-file F] [--dataset-config-file F] [--dataset-config-dir DIR]
                [--source imagenet] [--targets a,b] [--shots 16] [--seeds 1,2,3] --root DIR [--output-dir DIR]
                [--model DIR] [--device D] [KEY VALUE...]

Cross-dataset transfer and domain shift: train on all classes of the source, then evaluate the trained
model unchanged on each target with the target's class names; prints the paper-style table and writes
xd.md / xd.csv / xd.json into --output-dir (default output/xd/<source>/<trainer>; runs in
<output-dir>/<dataset>/seed<k>). After each seed (its source run and every target) a line gives the sweep's
progress and overall ETA. With --source world the targets default to the world's style copies, written on
demand under --root. Other options are those of `clipt train`.
)",
       cmd_xd},
      {"profile", "where a step's time goes: ops, modules, phases, roofline (CPU or GPU, no download)",
       R"(usage: clipt profile [--trainer NAME] [--config-file F] (--model DIR | --arch vit_b16|vit_b32|vit_l14|world)
                     [--classes C] [--batch B] [--what train|eval|image|text] [--device cpu|cuda]
                     [--steps N] [--warmup K] [--trace FILE.json] [--svg FILE.svg] [--report FILE.md]
                     [--top N] [--module-depth D] [--json] [KEY VALUE...]

Profiles N steps (default 3, after K = 1 unrecorded warm-up steps) of a method's training step (default
CoOp, batch B = 4 on the CPU, 32 on a GPU, over C = 10 made-up classes), its evaluation, or one CLIP tower
(--what image|text). With --arch the model has random weights of that shape and the inputs are synthetic,
so it runs anywhere; --model DIR profiles a converted CLIP. Every primitive of forward, backward and
optimizer is recorded with the module it ran under, shapes, dtype, time (CUDA events on a GPU), FLOPs and
bytes; the tables give time by phase, by op kind and by module (top N; --module-depth D groups paths by
their first D parts) with achieved TFLOP/s and GB/s against the device's peaks (a table of known GPUs, or
measured on the CPU). --trace writes Chrome trace-event JSON (Perfetto, chrome://tracing), --svg the
roofline, --json prints the summary as JSON. `clipt train --profile N` profiles N steps of a real run.
)",
       cmd_profile},
      {"scale",
       "how a method's training step scales over the ranks it is launched on (images/s, compute / communication / "
       "waiting)",
       R"(usage: clipt scale --trainer NAME [--steps N] [--warmup K] [--batch B] [--baseline FILE.json]
                   [--json FILE.json] [--world DIR] [train options: --root --config-file --dataset-config-file
                   --model --device ...] [KEY VALUE...]
       mpirun -np N clipt scale ...same options...

Runs the trainer's real step (data, forward, backward, gradient averaging, optimizer) for N steps (default
20) after K unmeasured warm-up steps (default 3) under the launched world size: plainly one rank, under
mpirun -np N (or srun --mpi=pmix) N ranks sharing the global batch B (DATALOADER.TRAIN_X.BATCH_SIZE). Prints
a table and one JSON line: images/s, and per step the time in compute (everything outside collectives),
communication (inside them) and waiting for the slowest rank (a barrier before each collective, timed
apart). --baseline FILE.json, the --json output of the same command on one rank, adds the speed-up and
the efficiency (speed-up / ranks); bench/scaling.sh runs both in one go. Without --root the step runs on
the built-in world (--world DIR, default clipt-world; made when missing) with its CLIP and its recipe in
configs/world/. Nothing is kept: the trainer's run folder is a temporary one.
)",
       cmd_scale},
      {"list", "list the registered methods, datasets or the shipped configs, one per line",
       R"(usage: clipt list methods|datasets|configs

  methods    every registered method (the --trainer names) and the config group of its options
  datasets   every registered dataset: the name to type, the Dassl name used in YAML files, the folder
             expected under --root
  configs    the shipped recipes (YAML files under configs/)
`clipt --version` prints the version.
)",
       cmd_list},
      {"report", "Markdown and HTML report (tables, bar charts, training curves) of the runs under folders",
       R"(usage: clipt report DIR... [--out DIR]

Collects every run under the folders (clipt train, b2n, dg, xd and eval runs: results.json, metrics.jsonl
and the protocols' per-run records) and writes report.md, one self-contained report.html (pictures inline,
no external URL) and the pictures as SVG files in report-files/: per-method base / new / HM tables with
mean ± std over seeds (the average row is the HM of the base and new accuracies averaged over datasets),
per-dataset rows, domain-generalisation and cross-dataset tables, bar charts of base / new / HM per method
and training curves (loss, training accuracy, learning rate per epoch) of every trained run.
  --out DIR   where the report goes (default: DIR when one folder is given, else clipt-report)
)",
       cmd_report},
      {"zeroshot", "zero-shot CLIP accuracy on a dataset with its hand-made template",
       R"(usage: clipt zeroshot --model DIR --dataset NAME --root DIR [--split test|val] [--subsample all|base|new]
                      [--ensemble] [--device D] [--batch N] [--workers N] [--out FILE] [--max-image-pixels N]

Zero-shot CLIP accuracy with CoOp's hand-made per-dataset template (or, with --ensemble, the ImageNet
select-template ensemble), as CoOp's ZeroshotCLIP. On a terminal a progress line with the ETA is redrawn in
place; piped or redirected output gets only the result.
)",
       cmd_zeroshot},
      {"tokenize", "print CLIP token ids of texts",
       R"(usage: clipt tokenize (--model DIR | --vocab FILE) TEXT...

One line per text with the token ids, start and end tokens included, space-separated, no padding and no
truncation.
)",
       cmd_tokenize},
      {"classify", "zero-shot classify image files with a CLIP model",
       R"(usage: clipt classify --model DIR --classes "name,name,..." [--template "a photo of a {}."]
                      [--device cpu|cuda] [--dtype fp32|fp16|bf16] [--top K] [--batch N] [--json]
                      [--max-image-pixels N] IMAGE...

Zero-shot classification of image files, N at a time through the image tower (--batch, default 32). With
--json, one object {"classes": [...], "images": [...], "logits": [[...]], "probs": [[...]]},
logits = logit_scale·cos. Over more than one batch, a progress line with the ETA is redrawn on stderr when
it is a terminal (stdout carries only the results).
)",
       cmd_classify},
      {"pretrain", "pretrain a small CLIP from scratch on the built-in world",
       R"(usage: clipt pretrain [--world DIR] [--out DIR] [--steps N] [--batch N] [--lr X] [--seed N] [--device D]
                      [--width W] [--layers L] [--image-size S] [--patch P] [--warmup N] [--colour-group N]

Contrastive CLIP pretraining from scratch on the built-in world (default --world clipt-world, the demo's;
written there first when missing), writing a model directory in the standard layout (default --out
<world>/clip). The defaults (2500 steps of 128 images) produce the demo's committed model, assets/world-clip.
Every 50 steps a line gives the progress, ETA, loss, LR and images/s.
)",
       cmd_pretrain},
  };
  return table;
}

const Command* find_command(const std::string& name) {
  for (const auto& c : commands())
    if (name == c.name) return &c;
  return nullptr;
}

void print_usage(std::FILE* to) {
  fmt::print(to, "usage: clipt <command> [options]\n\ncommands:\n");
  for (const auto& c : commands()) fmt::print(to, "  {:<10} {}\n", c.name, c.summary);
  fmt::print(to, "\n`clipt <command> --help` (or `clipt help <command>`) describes a command's options.\n");
}

[[noreturn]] void unknown_command(const std::string& name) {
  fail("unknown command '{}'; did you mean '{}'? (`clipt --help` lists the commands)", name,
       closest_name(name, command_names()));
}

bool asks_for_help(const CommandArgs& args) {
  return std::any_of(args.begin(), args.end(), [](const std::string& a) { return a == "--help" || a == "-h"; });
}

}  // namespace

std::vector<std::string> command_names() {
  std::vector<std::string> names;
  for (const auto& c : commands()) names.push_back(c.name);
  return names;
}

int run_cli(int argc, char** argv) {
  try {
    if (argc < 2) {
      print_usage(stderr);
      return 2;
    }
    const std::string name = argv[1];
    if (name == "--version" || name == "version") {
      fmt::print("clipt {} ({} build, CUDA backend {}, OpenBLAS kernels {})\n", CLIPT_VERSION, CLIPT_BUILD_TYPE,
                 CLIPT_WITH_CUDA ? "compiled in" : "not compiled in", cpu::blas_core_name());
      return 0;
    }
    if (name == "--help" || name == "-h" || name == "help") {
      if (argc < 3) {
        print_usage(stdout);
        return 0;
      }
      const Command* c = find_command(argv[2]);
      if (!c) unknown_command(argv[2]);
      fmt::print("{}", c->usage);
      return 0;
    }
    const CommandArgs args(argv + 2, argv + argc);
    if (const Command* c = find_command(name)) {
      if (asks_for_help(args)) {
        fmt::print("{}", c->usage);
        return 0;
      }
      return c->run(args);
    }
    unknown_command(name);
  } catch (const Interrupted& e) {
    fmt::print(stderr, "clipt: {}\n", e.what());
    return 130;
  } catch (const Error& e) {
    dist::report_error(e.what());  // in a job of several ranks: stops every rank with this message
    fmt::print(stderr, "clipt: error: {}\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    dist::report_error(e.what());
    fmt::print(stderr, "clipt: error: {}\n", e.what());
    return 1;
  }
}

}  // namespace clipt::apps
