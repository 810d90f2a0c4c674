// default_config() against the peers: Dassl's defaults, the peers' extend_cfg keys, their config files
// (embedded verbatim below, as published) and their scripts' command-line overrides; plus every config
// file shipped in configs/.
#include "methods/trainer/config_defaults.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "tests/common/test_util.h"

namespace clipt {
namespace {

using V = ConfigValue;

// KaiyangZhou/CoOp configs/trainers/CoOp/vit_b16_ep50.yaml, verbatim (no final newline).
constexpr const char* kCoOpVitB16Ep50 = R"(DATALOADER:
  TRAIN_X:
    BATCH_SIZE: 32
  TEST:
    BATCH_SIZE: 100
  NUM_WORKERS: 8

INPUT:
  SIZE: (224, 224)
  INTERPOLATION: "bicubic"
  PIXEL_MEAN: [0.48145466, 0.4578275, 0.40821073]
  PIXEL_STD: [0.26862954, 0.26130258, 0.27577711]
  TRANSFORMS: ["random_resized_crop", "random_flip", "normalize"]

OPTIM:
  NAME: "sgd"
  LR: 0.002
  MAX_EPOCH: 50
  LR_SCHEDULER: "cosine"
  WARMUP_EPOCH: 1
  WARMUP_TYPE: "constant"
  WARMUP_CONS_LR: 1e-5

TRAIN:
  PRINT_FREQ: 5

MODEL:
  BACKBONE:
    NAME: "ViT-B/16")";

// KaiyangZhou/CoOp configs/datasets/caltech101.yaml, verbatim.
constexpr const char* kCoOpCaltech101 = "DATASET:\n  NAME: 'Caltech101'\n";

// The method-specific tails of other peer configs (their DATALOADER/INPUT/OPTIM heads are CoOp's).
// htyao89/KgCoOp configs/trainers/KgCoOp/vit_b16_ep100_ctxv1.yaml and GCSCoOp's ProGrad/SharpCoOp files:
constexpr const char* kKgCoOpTail = "TRAINER:\n  COOP:\n    CTX_INIT: True\n";
// llcllc1997/GCSCoOp gcscoop/configs/trainers/SharpCoOp/vit_b16_ctxv1.yaml (OPTIM part):
constexpr const char* kSharpCoOpOptim = R"(OPTIM:
  NAME: "gcsam"
  LR: 0.002
  MAX_EPOCH: 200
  LR_SCHEDULER: "cosine"
  WARMUP_EPOCH: 1
  WARMUP_TYPE: "constant"
  WARMUP_CONS_LR: 1e-5
  RHO: 0.1
  LOWBOUND: 0.5
  UPBOUND: 0.8
LOSS:
  NAME: "prograd"
  T: 1.0
)";
// JREion/DPC configs/trainers/SPLE/CoOp/vit_b16_ep20.yaml (SPLE part), verbatim.
constexpr const char* kDpcSple = R"(SPLE:
  SPLE_TRAINER:
    SPLE_INIT: True
    SPLE_BASE_TRAIN: True
  BACK_CKPT_PATH: "output/caltech101-N3-Final/CoOp/vit_b16_ep100_16shots/nctx4_cscFalse_ctpend/seed1/prompt_learner/model.pth.tar-50"
  INFER_TOPK: 8
  INFER_NONREPEAT: True
  PIC_LIB: "DATA/SPLE_database/SPLE_Caltech101.json"
  STACK:
    MODE: "converse"
    WEIGHT: 0.5
    WEIGHT_FOR_NEW: 0.0
    LOOP_DEPTH: 0)";
// muzairkhattak/multimodal-prompt-learning configs/trainers/{MaPLe,IVLP} (TRAINER parts), and
// Vill-Lab/2024-TIP-MetaPrompt configs/trainers/Meta_B2N/vit_b16.yaml (TRAINER part):
constexpr const char* kDeepPromptTails = R"(TRAINER:
  MAPLE:
    N_CTX: 2
    CTX_INIT: "a photo of a"
    PREC: "fp16"
    PROMPT_DEPTH: 9
  IVLP:
    N_CTX_VISION: 2
    N_CTX_TEXT: 2
    CTX_INIT: "a photo of a"
    PREC: "fp16"
    PROMPT_DEPTH_VISION: 12
    PROMPT_DEPTH_TEXT: 12
  META:
    N_CTX: 2
    N_PRO: 2
    LAYERS: 12
)";

TEST(DefaultConfig, HasDasslDefaults) {
  const Config c = default_config();
  EXPECT_EQ(c.get("SEED"), V(-1));
  EXPECT_EQ(c.get("OUTPUT_DIR"), V("./output"));
  EXPECT_EQ(c.get("INPUT.SIZE"), V::list({224, 224}));
  EXPECT_EQ(c.get("INPUT.INTERPOLATION"), V("bilinear"));
  EXPECT_EQ(c.get("INPUT.PIXEL_MEAN"), V::list({0.485, 0.456, 0.406}));
  EXPECT_EQ(c.get("INPUT.RRCROP_SCALE"), V::list({0.08, 1.0}));
  EXPECT_EQ(c.get("DATASET.NUM_SHOTS"), V(-1));
  EXPECT_EQ(c.get("DATALOADER.TRAIN_X.BATCH_SIZE"), V(32));
  EXPECT_EQ(c.get("DATALOADER.TEST.BATCH_SIZE"), V(32));
  EXPECT_EQ(c.get("OPTIM.NAME"), V("adam"));
  EXPECT_EQ(c.get("OPTIM.LR"), V(0.0003));
  EXPECT_EQ(c.get("OPTIM.SGD_DAMPNING"), V(0));
  EXPECT_EQ(c.get("OPTIM.ADAM_BETA2"), V(0.999));
  EXPECT_EQ(c.get("OPTIM.STEPSIZE"), V::list({-1}));
  EXPECT_EQ(c.get("OPTIM.WARMUP_EPOCH"), V(-1));
  EXPECT_EQ(c.get("OPTIM.WARMUP_CONS_LR"), V(1e-5));
  EXPECT_EQ(c.get("OPTIM.WARMUP_RECOUNT"), V(true));
  EXPECT_EQ(c.get("TEST.FINAL_MODEL"), V("last_step"));
  EXPECT_EQ(c.get("TRAIN.PRINT_FREQ"), V(10));
}

TEST(DefaultConfig, HasThePeersExtendCfgKeys) {
  const Config c = default_config();
  EXPECT_EQ(c.get("DATASET.SUBSAMPLE_CLASSES"), V("all"));
  EXPECT_EQ(c.get("TRAINER.COOP.N_CTX"), V(16));
  EXPECT_EQ(c.get("TRAINER.COOP.CSC"), V(false));
  EXPECT_EQ(c.get("TRAINER.COOP.CTX_INIT"), V(""));
  EXPECT_EQ(c.get("TRAINER.COOP.PREC"), V("fp16"));
  EXPECT_EQ(c.get("TRAINER.COOP.CLASS_TOKEN_POSITION"), V("end"));
  EXPECT_EQ(c.get("TRAINER.COOP.W"), V(8.0));
  EXPECT_EQ(c.get("TRAINER.COCOOP.N_CTX"), V(16));
  EXPECT_EQ(c.get("LOSS.LAMBDA"), V(1.0));
  EXPECT_EQ(c.get("OPTIM.RHO"), V(0.1));
  EXPECT_EQ(c.get("TRAINER.MAPLE.PROMPT_DEPTH"), V(9));
  EXPECT_EQ(c.get("TRAINER.IVLP.PROMPT_DEPTH_TEXT"), V(9));
  EXPECT_EQ(c.get("TRAINER.META.META_STEP"), V(0.2));
  EXPECT_EQ(c.get("METAPROMPT.LEGACY_RESTORE"), V(true));  // the released meta step
  EXPECT_EQ(c.get("SPLE.INFER_TOPK"), V(8));
  EXPECT_EQ(c.get("SPLE.STACK.WEIGHT"), V(0.5));
  EXPECT_EQ(c.get("DPC.SEMANTICS"), V("code"));
}

TEST(DefaultConfig, LoadsPeerConfigFilesVerbatim) {
  Config c = default_config();
  c.merge_from_yaml(kCoOpCaltech101, "caltech101.yaml");
  c.merge_from_yaml(kCoOpVitB16Ep50, "vit_b16_ep50.yaml");
  EXPECT_EQ(c.get_string("DATASET.NAME"), "Caltech101");
  EXPECT_EQ(c.get_int("DATALOADER.TRAIN_X.BATCH_SIZE"), 32);
  EXPECT_EQ(c.get_int("DATALOADER.TEST.BATCH_SIZE"), 100);
  EXPECT_EQ(c.get_int("DATALOADER.NUM_WORKERS"), 8);
  EXPECT_EQ(c.get_list_int("INPUT.SIZE"), (std::vector<int64_t>{224, 224}));
  EXPECT_EQ(c.get_string("INPUT.INTERPOLATION"), "bicubic");
  EXPECT_EQ(c.get_list_float("INPUT.PIXEL_MEAN"), (std::vector<double>{0.48145466, 0.4578275, 0.40821073}));
  EXPECT_EQ(c.get_list_float("INPUT.PIXEL_STD"), (std::vector<double>{0.26862954, 0.26130258, 0.27577711}));
  EXPECT_EQ(c.get_list_string("INPUT.TRANSFORMS"),
            (std::vector<std::string>{"random_resized_crop", "random_flip", "normalize"}));
  EXPECT_EQ(c.get_string("OPTIM.NAME"), "sgd");
  EXPECT_EQ(c.get("OPTIM.LR"), V(0.002));
  EXPECT_EQ(c.get_int("OPTIM.MAX_EPOCH"), 50);
  EXPECT_EQ(c.get_string("OPTIM.LR_SCHEDULER"), "cosine");
  EXPECT_EQ(c.get_int("OPTIM.WARMUP_EPOCH"), 1);
  EXPECT_EQ(c.get_string("OPTIM.WARMUP_TYPE"), "constant");
  EXPECT_EQ(c.get("OPTIM.WARMUP_CONS_LR"), V(1e-5));
  EXPECT_EQ(c.get_int("TRAIN.PRINT_FREQ"), 5);
  EXPECT_EQ(c.get_string("MODEL.BACKBONE.NAME"), "ViT-B/16");

  c.merge_from_yaml(kKgCoOpTail, "KgCoOp/vit_b16_ep100_ctxv1.yaml");
  EXPECT_EQ(c.get("TRAINER.COOP.CTX_INIT"), V(true));
  c.merge_from_yaml(kSharpCoOpOptim, "SharpCoOp/vit_b16_ctxv1.yaml");
  EXPECT_EQ(c.get_string("OPTIM.NAME"), "gcsam");
  EXPECT_EQ(c.get("OPTIM.LOWBOUND"), V(0.5));
  EXPECT_EQ(c.get_string("LOSS.NAME"), "prograd");
  c.merge_from_yaml(kDpcSple, "SPLE/CoOp/vit_b16_ep20.yaml");
  EXPECT_EQ(c.get_string("SPLE.STACK.MODE"), "converse");
  EXPECT_EQ(c.get("SPLE.STACK.WEIGHT_FOR_NEW"), V(0.0));
  EXPECT_EQ(c.get_string("SPLE.PIC_LIB"), "DATA/SPLE_database/SPLE_Caltech101.json");
  c.merge_from_yaml(kDeepPromptTails, "MaPLe+IVLP+Meta_B2N");
  EXPECT_EQ(c.get_int("TRAINER.IVLP.PROMPT_DEPTH_VISION"), 12);
  EXPECT_EQ(c.get_int("TRAINER.META.LAYERS"), 12);
}

TEST(DefaultConfig, AcceptsThePeersScriptOverrides) {
  Config c = default_config();
  // htyao89/KgCoOp scripts/base2new_train.sh
  c.merge_from_list({"TRAINER.COOP.N_CTX", "4", "TRAINER.COOP.CSC", "False", "TRAINER.COOP.W", "8.0",
                     "TRAINER.COOP.CLASS_TOKEN_POSITION", "end", "DATASET.NUM_SHOTS", "16", "DATASET.SUBSAMPLE_CLASSES",
                     "base"});
  // llcllc1997/GCSCoOp scripts/base2new_train.sh (RHO is the script's $2)
  c.merge_from_list({"OPTIM.RHO", "0.05", "OPTIM.LOWBOUND", "0.5", "OPTIM.UPBOUND", "0.8"});
  // JREion/DPC README, and KaiyangZhou/CoOp scripts/coop/main.sh style
  c.merge_from_list({"SPLE.STACK.WEIGHT", "0.2", "SPLE.STACK.WEIGHT_FOR_NEW", "0.0", "TEST.SPLIT", "val",
                     "TRAINER.COOP.CTX_INIT", "a photo of a", "TEST.FINAL_MODEL", "best_val"});
  // Vill-Lab/2024-TIP-MetaPrompt scripts/Meta/{b2n,dg}.sh (the shell strips 'fp16' to fp16)
  c.merge_from_list({"TRAINER.META.PREC", "fp16", "DATASET.ID", "2"});
  EXPECT_EQ(c.get_int("TRAINER.COOP.N_CTX"), 4);
  EXPECT_FALSE(c.get_bool("TRAINER.COOP.CSC"));
  EXPECT_DOUBLE_EQ(c.get_float("TRAINER.COOP.W"), 8.0);
  EXPECT_EQ(c.get_string("DATASET.SUBSAMPLE_CLASSES"), "base");
  EXPECT_DOUBLE_EQ(c.get_float("OPTIM.RHO"), 0.05);
  EXPECT_DOUBLE_EQ(c.get_float("SPLE.STACK.WEIGHT"), 0.2);
  EXPECT_EQ(c.get_string("TRAINER.COOP.CTX_INIT"), "a photo of a");
  EXPECT_EQ(c.get_int("DATASET.ID"), 2);
  EXPECT_ERROR_CONTAINS(c.merge_from_list({"TRAINER.KGCOOP.W", "8.0"}), "did you mean TRAINER.COOP.W?");
  EXPECT_ERROR_CONTAINS(c.merge_from_list({"OPTIM.LEARNING_RATE", "0.1"}), "did you mean OPTIM.LR?");
}

// Every Dassl config under configs/ (configs/recipes holds protocol recipes, which map datasets to these
// configs and are checked by tests/apps/protocol_recipe_test.cpp).
std::vector<std::filesystem::path> shipped_configs() {
  std::vector<std::filesystem::path> files;
  const auto recipes = test::source_dir() / "configs" / "recipes";
  for (const auto& entry : std::filesystem::recursive_directory_iterator(test::source_dir() / "configs")) {
    if (entry.path().string().starts_with(recipes.string())) continue;
    if (entry.is_regular_file() && entry.path().extension() == ".yaml") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

TEST(ShippedConfigs, EveryFileLoadsUnchanged) {
  const auto files = shipped_configs();
  EXPECT_GE(files.size(), 40u);
  for (const auto& path : files) {
    Config c = default_config();
    EXPECT_NO_THROW(c.merge_from_file(path)) << path;
  }
}

TEST(ShippedConfigs, DatasetNamesAreDasslClassNames) {
  const std::map<std::string, std::string> expected = {{"caltech101", "Caltech101"},
                                                       {"dtd", "DescribableTextures"},
                                                       {"eurosat", "EuroSAT"},
                                                       {"fgvc_aircraft", "FGVCAircraft"},
                                                       {"food101", "Food101"},
                                                       {"imagenet", "ImageNet"},
                                                       {"imagenet_a", "ImageNetA"},
                                                       {"imagenet_r", "ImageNetR"},
                                                       {"imagenet_sketch", "ImageNetSketch"},
                                                       {"imagenetv2", "ImageNetV2"},
                                                       {"oxford_flowers", "OxfordFlowers"},
                                                       {"oxford_pets", "OxfordPets"},
                                                       {"stanford_cars", "StanfordCars"},
                                                       {"sun397", "SUN397"},
                                                       {"ucf101", "UCF101"}};
  for (const auto& [file, name] : expected) {
    Config c = default_config();
    c.merge_from_file(test::source_dir() / "configs" / "datasets" / (file + ".yaml"));
    EXPECT_EQ(c.get_string("DATASET.NAME"), name) << file;
  }
}

Config load(const std::string& dataset, const std::string& trainer) {
  Config c = default_config();
  c.merge_from_file(test::source_dir() / "configs" / "datasets" / (dataset + ".yaml"));
  c.merge_from_file(test::source_dir() / "configs" / "trainers" / trainer);
  return c;
}

TEST(ShippedConfigs, RecipesMatchTheSpecs) {
  // DPC stage 2, specs/dpc.md 3.4: batch 4, K 8, lr 0.002, 20 epochs, omega_b 0.2, omega_n 0.
  Config dpc = load("caltech101", "DPC/vit_b16_ep20.yaml");
  EXPECT_EQ(dpc.get_int("DATALOADER.TRAIN_X.BATCH_SIZE"), 4);
  EXPECT_EQ(dpc.get_int("SPLE.INFER_TOPK"), 8);
  EXPECT_DOUBLE_EQ(dpc.get_float("OPTIM.LR"), 0.002);
  EXPECT_EQ(dpc.get_int("OPTIM.MAX_EPOCH"), 20);
  EXPECT_DOUBLE_EQ(dpc.get_float("SPLE.STACK.WEIGHT"), 0.2);
  EXPECT_DOUBLE_EQ(dpc.get_float("SPLE.STACK.WEIGHT_FOR_NEW"), 0.0);
  EXPECT_DOUBLE_EQ(dpc.get_float("OPTIM.MOMENTUM"), 0.9);
  EXPECT_DOUBLE_EQ(dpc.get_float("OPTIM.WEIGHT_DECAY"), 5e-4);
  EXPECT_DOUBLE_EQ(dpc.get_float("OPTIM.WARMUP_CONS_LR"), 1e-5);
  // GCSCoOp, specs/gcscoop_and_baselines.md 2.3: 4 ctx "a photo of a", batch 128, lr 0.002, 200 epochs,
  // rho 0.1, beta1 0.5, beta2 0.8.
  Config gcs = load("oxford_pets", "GCSCoOp/vit_b16_ctxv1.yaml");
  EXPECT_EQ(gcs.get_string("TRAINER.COOP.CTX_INIT"), "a photo of a");
  EXPECT_EQ(gcs.get_int("TRAINER.COOP.N_CTX"), 4);
  EXPECT_EQ(gcs.get_int("DATALOADER.TRAIN_X.BATCH_SIZE"), 128);
  EXPECT_EQ(gcs.get_int("OPTIM.MAX_EPOCH"), 200);
  EXPECT_EQ(gcs.get_string("OPTIM.NAME"), "gcsam");
  EXPECT_DOUBLE_EQ(gcs.get_float("OPTIM.RHO"), 0.1);
  EXPECT_DOUBLE_EQ(gcs.get_float("OPTIM.LOWBOUND"), 0.5);
  EXPECT_DOUBLE_EQ(gcs.get_float("OPTIM.UPBOUND"), 0.8);
  // MetaPrompt, specs/metaprompt.md 1.7.
  Config b2n = load("imagenet", "MetaPrompt/vit_b16_b2n.yaml");
  EXPECT_EQ(b2n.get_int("TRAINER.META.N_CTX"), 2);
  EXPECT_EQ(b2n.get_int("TRAINER.META.N_PRO"), 2);
  EXPECT_EQ(b2n.get_int("DATALOADER.TRAIN_X.BATCH_SIZE"), 16);
  EXPECT_DOUBLE_EQ(b2n.get_float("OPTIM.LR"), 0.0015);
  EXPECT_EQ(b2n.get_int("OPTIM.MAX_EPOCH"), 8);
  Config dg = load("dg/pacs", "MetaPrompt/vit_b16_dg.yaml");
  EXPECT_EQ(dg.get_int("TRAINER.META.N_CTX"), 4);
  EXPECT_EQ(dg.get_int("DATALOADER.TRAIN_X.BATCH_SIZE"), 32);
  EXPECT_EQ(dg.get_int("OPTIM.MAX_EPOCH"), 6);
  EXPECT_EQ(dg.get_list_string("DATASET.SOURCE_DOMAINS"),
            (std::vector<std::string>{"art_painting", "cartoon", "photo"}));
  // MaPLe, issue 10: batch 4, lr 0.0035, 5 epochs, 2 ctx, depth 9.
  Config maple = load("eurosat", "MaPLe/vit_b16_c2_ep5_batch4_2ctx.yaml");
  EXPECT_EQ(maple.get_int("DATALOADER.TRAIN_X.BATCH_SIZE"), 4);
  EXPECT_DOUBLE_EQ(maple.get_float("OPTIM.LR"), 0.0035);
  EXPECT_EQ(maple.get_int("OPTIM.MAX_EPOCH"), 5);
  EXPECT_EQ(maple.get_int("TRAINER.MAPLE.PROMPT_DEPTH"), 9);
  // CoCoOp base-to-new: batch 1, 10 epochs, 4 ctx from "a photo of a".
  Config cocoop = load("food101", "CoCoOp/vit_b16_c4_ep10_batch1_ctxv1.yaml");
  EXPECT_EQ(cocoop.get_int("DATALOADER.TRAIN_X.BATCH_SIZE"), 1);
  EXPECT_EQ(cocoop.get_string("TRAINER.COCOOP.CTX_INIT"), "a photo of a");
}

TEST(ShippedConfigs, EffectiveConfigRoundTripsThroughDump) {
  Config c = load("caltech101", "CoOp/vit_b16_ctxv1.yaml");
  c.merge_from_list({"DATASET.NUM_SHOTS", "16", "DATASET.SUBSAMPLE_CLASSES", "base", "SEED", "1"});
  c.freeze();
  Config reloaded = default_config();
  reloaded.merge_from_yaml(c.dump(), "dump");
  for (const auto& key : c.keys()) EXPECT_EQ(reloaded.get(key), c.get(key)) << key;
}

}  // namespace
}  // namespace clipt
