// The table of every config key and its default. Sources, each reproduced key for key:
//  - Dassl.pytorch dassl/config/defaults.py (KaiyangZhou, latest): all keys except the TRAINER.<X> sub-trees
//    of Dassl's own DA/DG/SSL trainers (MCD, MME, DAEL, FixMatch, ...), which no prompt-learning config uses;
//  - the peers' train.py extend_cfg: CoOp/CoCoOp (KaiyangZhou/CoOp), KgCoOp (htyao89/KgCoOp) and ProGrad
//    (BeierZhu/Prompt-align), GCSCoOp (llcllc1997/GCSCoOp), MaPLe/IVLP (muzairkhattak/multimodal-prompt-
//    learning), DPC (JREion/DPC), MetaPrompt (Vill-Lab/2024-TIP-MetaPrompt);
//  - clipt's own keys (DPC.*, METAPROMPT.*, CLIPT.*).
// A tuple default in Python is a list here; the kinds must match the Python defaults exactly (0.0 is a float,
// 0 an int), because merged values are type-checked against them.
#include "methods/trainer/config_defaults.h"

namespace clipt {

namespace {
using V = ConfigValue;
using Kind = ConfigValue::Kind;
V list(std::vector<V> items) { return V::list(std::move(items)); }
const V kEmpty = V::list({});
}  // namespace

Config default_config() {
  Config c;
  // ---- Dassl: top level ---------------------------------------------------------------------------------
  c.define("VERSION", 1);
  c.define("OUTPUT_DIR", "./output");
  c.define("RESUME", "");
  c.define("SEED", -1);  // negative: random seed
  c.define("USE_CUDA", true);
  c.define("VERBOSE", true);

  // ---- Dassl: INPUT ---------------------------------------------------------------------------------------
  c.define("INPUT.SIZE", list({224, 224}));
  c.define("INPUT.INTERPOLATION", "bilinear");
  c.define("INPUT.TRANSFORMS", kEmpty);
  c.define("INPUT.NO_TRANSFORM", false);
  c.define("INPUT.PIXEL_MEAN", list({0.485, 0.456, 0.406}));
  c.define("INPUT.PIXEL_STD", list({0.229, 0.224, 0.225}));
  c.define("INPUT.CROP_PADDING", 4);
  c.define("INPUT.RRCROP_SCALE", list({0.08, 1.0}));
  c.define("INPUT.CUTOUT_N", 1);
  c.define("INPUT.CUTOUT_LEN", 16);
  c.define("INPUT.GN_MEAN", 0.0);
  c.define("INPUT.GN_STD", 0.15);
  c.define("INPUT.RANDAUGMENT_N", 2);
  c.define("INPUT.RANDAUGMENT_M", 10);
  c.define("INPUT.COLORJITTER_B", 0.4);
  c.define("INPUT.COLORJITTER_C", 0.4);
  c.define("INPUT.COLORJITTER_S", 0.4);
  c.define("INPUT.COLORJITTER_H", 0.1);
  c.define("INPUT.RGS_P", 0.2);
  c.define("INPUT.GB_P", 0.5);
  c.define("INPUT.GB_K", 21);

  // ---- Dassl: DATASET (+ extend_cfg) ----------------------------------------------------------------------
  c.define("DATASET.ROOT", "");
  c.define("DATASET.NAME", "");
  c.define("DATASET.SOURCE_DOMAINS", kEmpty);
  c.define("DATASET.TARGET_DOMAINS", kEmpty);
  c.define("DATASET.NUM_LABELED", -1);
  c.define("DATASET.NUM_SHOTS", -1);
  c.define("DATASET.VAL_PERCENT", 0.1);
  c.define("DATASET.STL10_FOLD", -1);
  c.define("DATASET.CIFAR_C_TYPE", "");
  c.define("DATASET.CIFAR_C_LEVEL", 1);
  c.define("DATASET.ALL_AS_UNLABELED", false);
  c.define("DATASET.SUBSAMPLE_CLASSES", "all");  // CoOp & all peers: all | base | new
  c.define("DATASET.ID", 0);                     // MetaPrompt DG: index of the target domain (scripts/Meta/dg.sh)

  // ---- Dassl: DATALOADER ----------------------------------------------------------------------------------
  c.define("DATALOADER.NUM_WORKERS", 4);
  c.define("DATALOADER.K_TRANSFORMS", 1);
  c.define("DATALOADER.RETURN_IMG0", false);
  c.define("DATALOADER.TRAIN_X.SAMPLER", "RandomSampler");
  c.define("DATALOADER.TRAIN_X.BATCH_SIZE", 32);
  c.define("DATALOADER.TRAIN_X.N_DOMAIN", 0);
  c.define("DATALOADER.TRAIN_X.N_INS", 16);
  c.define("DATALOADER.TRAIN_U.SAME_AS_X", true);
  c.define("DATALOADER.TRAIN_U.SAMPLER", "RandomSampler");
  c.define("DATALOADER.TRAIN_U.BATCH_SIZE", 32);
  c.define("DATALOADER.TRAIN_U.N_DOMAIN", 0);
  c.define("DATALOADER.TRAIN_U.N_INS", 16);
  c.define("DATALOADER.TEST.SAMPLER", "SequentialSampler");
  c.define("DATALOADER.TEST.BATCH_SIZE", 32);

  // ---- Dassl: MODEL ---------------------------------------------------------------------------------------
  c.define("MODEL.INIT_WEIGHTS", "");
  c.define("MODEL.BACKBONE.NAME", "");
  c.define("MODEL.BACKBONE.PRETRAINED", true);
  c.define("MODEL.HEAD.NAME", "");
  c.define("MODEL.HEAD.HIDDEN_LAYERS", kEmpty);
  c.define("MODEL.HEAD.ACTIVATION", "relu");
  c.define("MODEL.HEAD.BN", true);
  c.define("MODEL.HEAD.DROPOUT", 0.0);

  // ---- Dassl: OPTIM (+ GCSCoOp) ---------------------------------------------------------------------------
  c.define("OPTIM.NAME", "adam");  // sgd | adam | adamw | ...; GCSCoOp adds sam | gcsam
  c.define("OPTIM.LR", 0.0003);
  c.define("OPTIM.WEIGHT_DECAY", 5e-4);
  c.define("OPTIM.MOMENTUM", 0.9);
  c.define("OPTIM.SGD_DAMPNING", 0);  // sic, an int in Dassl
  c.define("OPTIM.SGD_NESTEROV", false);
  c.define("OPTIM.RMSPROP_ALPHA", 0.99);
  c.define("OPTIM.ADAM_BETA1", 0.9);
  c.define("OPTIM.ADAM_BETA2", 0.999);
  c.define("OPTIM.STAGED_LR", false);
  c.define("OPTIM.NEW_LAYERS", kEmpty);
  c.define("OPTIM.BASE_LR_MULT", 0.1);
  c.define("OPTIM.LR_SCHEDULER", "single_step");
  c.define("OPTIM.STEPSIZE", list({-1}));
  c.define("OPTIM.GAMMA", 0.1);
  c.define("OPTIM.MAX_EPOCH", 10);
  c.define("OPTIM.WARMUP_EPOCH", -1);
  c.define("OPTIM.WARMUP_TYPE", "linear");
  c.define("OPTIM.WARMUP_CONS_LR", 1e-5);
  c.define("OPTIM.WARMUP_MIN_LR", 1e-5);
  c.define("OPTIM.WARMUP_RECOUNT", true);
  // GCSCoOp (gcscoop/train.py): SAM radius rho and the cosine bounds beta1/beta2 of the gradient constraint.
  // train.py's LOWBOUND is 0.1, but every released script passes 0.5 (configs/trainers/GCSCoOp sets it).
  c.define("OPTIM.RHO", 0.1);
  c.define("OPTIM.LOWBOUND", 0.1);
  c.define("OPTIM.UPBOUND", 0.8);

  // ---- Dassl: TRAIN, TEST ---------------------------------------------------------------------------------
  c.define("TRAIN.CHECKPOINT_FREQ", 0);
  c.define("TRAIN.PRINT_FREQ", 10);
  c.define("TRAIN.COUNT_ITER", "train_x");
  c.define("TEST.EVALUATOR", "Classification");
  c.define("TEST.PER_CLASS_RESULT", false);
  c.define("TEST.COMPUTE_CMAT", false);
  c.define("TEST.NO_TEST", false);
  c.define("TEST.SPLIT", "test");

  // ---- clipt: data parallelism (mpirun / srun --mpi=pmix) --------------------------------------------------
  c.define("DIST.SHARD_TEXT", true);          // class-sharded text tower when the job has several ranks
  c.define("DIST.TIMEOUT", 300.0);            // seconds before a collective that does not complete aborts the job
  c.define("TEST.FINAL_MODEL", "last_step");  // last_step | best_val

  // ---- Prompt learners --------------------------------------------------------------------------------------
  c.define("TRAINER.NAME", "");
  // CoOp (KaiyangZhou/CoOp train.py). KgCoOp, ProGrad and GCSCoOp reuse this group: their train.py make
  // CTX_INIT a bool (False by default) and their configs write `CTX_INIT: True`, which their PromptLearner
  // reads as "initialise from 'a photo of a'"; hence the extra bool kind.
  c.define("TRAINER.COOP.N_CTX", 16);
  c.define("TRAINER.COOP.CSC", false);
  c.define("TRAINER.COOP.CTX_INIT", "", {Kind::Bool});
  c.define("TRAINER.COOP.PREC", "fp16");                 // fp16 | fp32 | amp
  c.define("TRAINER.COOP.CLASS_TOKEN_POSITION", "end");  // end | middle | front
  // KgCoOp's weight lambda of the knowledge-guided loss. KgCoOp's trainer reads TRAINER.COOP.W (its train.py
  // default is 1.0, but every released KgCoOp script passes 8.0, the paper's value, which is the default here).
  c.define("TRAINER.COOP.W", 8.0);
  c.define("TRAINER.COOP.ALPHA", 1.0);  // defined by KgCoOp/ProGrad/GCSCoOp train.py, read by none of them
  // CoCoOp (KaiyangZhou/CoOp train.py); bool CTX_INIT as above for the KgCoOp/ProGrad forks.
  c.define("TRAINER.COCOOP.N_CTX", 16);
  c.define("TRAINER.COCOOP.CTX_INIT", "", {Kind::Bool});
  c.define("TRAINER.COCOOP.PREC", "fp16");
  // clipt: the method GCSCoOp/SCoOp wrap with their two-pass step (the peers' SharpCoOp is CoOp); any
  // registered method whose objective is its loss(), e.g. KgCoOp.
  c.define("TRAINER.GCSCOOP.BASE_TRAINER", "CoOp");
  // ProGrad (BeierZhu/Prompt-align train.py; copied by KgCoOp and GCSCoOp): LOSS.NAME "prograd" selects the
  // projected gradient, T the distillation temperature, LAMBDA the KL weight.
  c.define("LOSS.GM", false);
  c.define("LOSS.NAME", "");
  c.define("LOSS.ALPHA", 0.0);
  c.define("LOSS.T", 1.0);
  c.define("LOSS.LAMBDA", 1.0);
  // MaPLe and IVLP (multimodal-prompt-learning train.py; identical in JREion/DPC's train.py).
  c.define("TRAINER.MAPLE.N_CTX", 2);
  c.define("TRAINER.MAPLE.CTX_INIT", "a photo of a");
  c.define("TRAINER.MAPLE.PREC", "fp16");
  c.define("TRAINER.MAPLE.PROMPT_DEPTH", 9);  // 1 = shallow MaPLe
  c.define("TRAINER.IVLP.N_CTX_VISION", 2);
  c.define("TRAINER.IVLP.N_CTX_TEXT", 2);
  c.define("TRAINER.IVLP.CTX_INIT", "a photo of a");  // text prompts only
  c.define("TRAINER.IVLP.PREC", "fp16");
  c.define("TRAINER.IVLP.PROMPT_DEPTH_VISION", 9);
  c.define("TRAINER.IVLP.PROMPT_DEPTH_TEXT", 9);
  // MetaPrompt (Vill-Lab/2024-TIP-MetaPrompt train.py; trainers Meta_B2N and Meta_DG). MODE is defined but
  // its use in the released trainer is not established; META_STEP is the outer step multiplier beta.
  c.define("TRAINER.META.MODE", "D");
  c.define("TRAINER.META.N_CTX", 2);  // text prompt tokens per layer
  c.define("TRAINER.META.N_PRO", 2);  // vision prompt tokens per layer
  c.define("TRAINER.META.META_STEP", 0.2);
  c.define("TRAINER.META.LAYERS", 12);
  c.define("TRAINER.META.PREC", "fp16");
  // clipt: true (default) reproduces the released code's parameter aliasing and frozen-modality drift in
  // the meta step (specs/metaprompt.md §1.6), which produced the published numbers — so the released
  // Meta_B2N / Meta_DG configs run as released; false is the clean restore.
  c.define("METAPROMPT.LEGACY_RESTORE", true);

  // ---- DPC: the peer's keys (JREion/DPC train.py) ------------------------------------------------------------
  // Defaults as in its train.py, which are not the paper's settings (those are configs/trainers/DPC: WEIGHT 0.2,
  // WEIGHT_FOR_NEW 0.0), except the two paths, whose train.py defaults are sample paths of the authors' tree.
  // BACK_CKPT_PATH is a PyTorch stage-1 run folder there; clipt's stage 2 reads DPC.BACK_CKPT_PATH below.
  c.define("SPLE.BACK_CKPT_PATH", "");
  c.define("SPLE.BACK_CKPT_EPOCH", 100);
  c.define("SPLE.INFER_TOPK", 8);                 // K of the hard-negative sampler
  c.define("SPLE.INFER_NONREPEAT", true);         // never read by the released code (no repeats is always applied)
  c.define("SPLE.PIC_LIB", "");                   // the "DPC image database" JSON of negative images
  c.define("SPLE.LOSS_KD_WEIGHT", 0.5);           // PromptKD+DPC only, never read
  c.define("SPLE.KD_INFER", "");                  // PromptKD+DPC only
  c.define("SPLE.SPLE_TRAINER.SPLE_INIT", true);  // P' <- P
  c.define("SPLE.SPLE_TRAINER.SPLE_BASE_TRAIN", true);
  c.define("SPLE.STACK.MODE", "void");         // the configs say "converse"; only that behaviour exists
  c.define("SPLE.STACK.WEIGHT", 0.5);          // omega_b
  c.define("SPLE.STACK.WEIGHT_FOR_NEW", 0.2);  // omega_n
  c.define("SPLE.STACK.LOOP_DEPTH", 0);        // discarded by the authors
  // ---- DPC: clipt's keys ----------------------------------------------------------------------------------
  c.define("DPC.BACKBONE", "CoOp");      // the stage-1 method DPC wraps (any method that declares its prompts)
  c.define("DPC.BACK_CKPT_PATH", "");    // a finished clipt stage-1 run folder; "" = train stage 1 first
  c.define("DPC.BACK_CKPT_EPOCH", -1);   // its checkpoint epoch; -1 = the last one
  c.define("DPC.SEMANTICS", "code");     // code (released code's decoded M) | figure (train P' at lr, mix at test)
  c.define("DPC.NEGATIVES", "fewshot");  // fewshot (base training subset) | library (SPLE.PIC_LIB JSON)
  // Stage 1's recipe: a config file for DPC.BACKBONE ("" = its world recipe on the built-in world, else its
  // peers' base-to-new recipe; see methods/dpc/README.md).
  c.define("DPC.BACKBONE_CONFIG", "");

  // ---- clipt ------------------------------------------------------------------------------------------------
  c.define("CLIPT.DEVICE", "");     // "" = cuda:0 when a GPU is present, else cpu; or cpu | cuda | cuda:N
  c.define("CLIPT.MODEL_DIR", "");  // converted CLIP folder; "" = $CLIPT_MODELS/<MODEL.BACKBONE.NAME>
  // The dataset config file the run was built from (set by the CLI), so a method that trains a sub-run
  // with another recipe (DPC's stage 1) can build that run's config the way the CLI would.
  c.define("CLIPT.DATASET_CONFIG_FILE", "");
  // CUDA graphs for the training step (methods/trainer/step_graph.h): off | auto (capture the step of the
  // methods whose step is static, CoOp and KgCoOp, on one CUDA device with SGD; else eager) | on (the same,
  // and anything that prevents it is an error). Results are identical either way.
  c.define("CLIPT.CUDA_GRAPH", "off");
  // PIL's decompression-bomb guard (Image.MAX_IMAGE_PIXELS): images with more pixels are refused; 0 = none.
  c.define("CLIPT.MAX_IMAGE_PIXELS", int64_t(89478485));
  return c;
}

}  // namespace clipt
