// The generic yacs-compatible Config: value decoding, merges, errors, dump round trip, freeze.
// Expected decodings are Python's: each literal case below was checked against ast.literal_eval and each
// merge rule against yacs 0.1.8 (CfgNode.merge_from_list / load_cfg) and PyYAML.
#include "engine/config/config.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "tests/common/test_util.h"

namespace clipt {
namespace {

using V = ConfigValue;

Config small_config() {
  Config c;
  c.define("OUTPUT_DIR", "./output");
  c.define("SEED", -1);
  c.define("VERBOSE", true);
  c.define("INPUT.SIZE", V::list({224, 224}));
  c.define("INPUT.PIXEL_MEAN", V::list({0.485, 0.456, 0.406}));
  c.define("INPUT.TRANSFORMS", V::list({}));
  c.define("OPTIM.NAME", "adam");
  c.define("OPTIM.LR", 0.0003);
  c.define("OPTIM.MAX_EPOCH", 10);
  c.define("OPTIM.LR_SCHEDULER", "single_step");
  c.define("OPTIM.WARMUP_CONS_LR", 1e-5);
  c.define("DATALOADER.TRAIN_X.BATCH_SIZE", 32);
  c.define("DATALOADER.TEST.BATCH_SIZE", 32);
  c.define("TRAINER.COOP.CTX_INIT", "", {ConfigValue::Kind::Bool});
  c.define("TRAINER.COOP.CSC", false);
  c.define("MODEL.INIT_WEIGHTS", V());  // a None default takes any kind
  return c;
}

std::string write_file(const std::string& name, const std::string& text) {
  auto path = test::scratch_dir("cfg") / name;
  std::ofstream(path) << text;
  return path.string();
}

// ---- parse_python_literal ----------------------------------------------------------------------------------

TEST(PythonLiteral, ScalarsDecodeAsLiteralEval) {
  EXPECT_EQ(parse_python_literal("16"), V(16));
  EXPECT_EQ(parse_python_literal("-3"), V(-3));
  EXPECT_EQ(parse_python_literal(" 5"), V(5));
  EXPECT_EQ(parse_python_literal("0.002"), V(0.002));
  EXPECT_EQ(parse_python_literal("1e-5"), V(1e-5));
  EXPECT_EQ(parse_python_literal("-1.5E+2"), V(-150.0));
  EXPECT_EQ(parse_python_literal(".5"), V(0.5));
  EXPECT_EQ(parse_python_literal("5."), V(5.0));
  EXPECT_EQ(parse_python_literal("1_000"), V(1000));
  EXPECT_EQ(parse_python_literal("0x10"), V(16));
  EXPECT_EQ(parse_python_literal("True"), V(true));
  EXPECT_EQ(parse_python_literal("False"), V(false));
  EXPECT_EQ(parse_python_literal("None"), V());
  EXPECT_EQ(parse_python_literal("'a photo of a'"), V("a photo of a"));
  EXPECT_EQ(parse_python_literal("\"a photo of a\""), V("a photo of a"));
  EXPECT_EQ(parse_python_literal("'it\\'s'"), V("it's"));
  EXPECT_EQ(parse_python_literal("''"), V(""));
}

TEST(PythonLiteral, NonLiteralsAreNotParsed) {
  for (const char* text : {"a photo of a", "ViT-B/16", "bicubic", "true", "false", "none", "fp16", "007", "1.2.3", "",
                           "[1, 2", "'open", "1 2", "inf", "-", "3j", "12abc"})
    EXPECT_FALSE(parse_python_literal(text).has_value()) << text;
}

TEST(PythonLiteral, ListsAndTuples) {
  EXPECT_EQ(parse_python_literal("['random_resized_crop', 'random_flip']"),
            V::list({"random_resized_crop", "random_flip"}));
  EXPECT_EQ(parse_python_literal("(0.5, 0.5)"), V::list({0.5, 0.5}));
  EXPECT_EQ(parse_python_literal("(224, 224)"), V::list({224, 224}));
  EXPECT_EQ(parse_python_literal("(5)"), V(5));  // parentheses, not a tuple
  EXPECT_EQ(parse_python_literal("(5,)"), V::list({5}));
  EXPECT_EQ(parse_python_literal("(-1, )"), V::list({-1}));
  EXPECT_EQ(parse_python_literal("()"), V::list({}));
  EXPECT_EQ(parse_python_literal("[]"), V::list({}));
  EXPECT_EQ(parse_python_literal("[1, 2.5, 'x', None, True,]"), V::list({1, 2.5, "x", V(), true}));
  EXPECT_ERROR_CONTAINS(parse_python_literal("[[1, 2]]"), "nested lists");
}

// ---- merge_from_list ---------------------------------------------------------------------------------------

TEST(ConfigMergeList, ParsesEveryValueForm) {
  Config c = small_config();
  c.merge_from_list({"SEED",
                     "16",
                     "OPTIM.LR",
                     "0.002",
                     "OPTIM.WARMUP_CONS_LR",
                     "1e-5",
                     "VERBOSE",
                     "False",
                     "TRAINER.COOP.CSC",
                     "True",
                     "TRAINER.COOP.CTX_INIT",
                     "\"a photo of a\"",
                     "OPTIM.NAME",
                     "sgd",
                     "INPUT.TRANSFORMS",
                     "['random_resized_crop', 'random_flip']",
                     "INPUT.PIXEL_MEAN",
                     "(0.5, 0.5, 0.5)",
                     "INPUT.SIZE",
                     "[256, 256]",
                     "MODEL.INIT_WEIGHTS",
                     "None"});
  EXPECT_EQ(c.get_int("SEED"), 16);
  EXPECT_DOUBLE_EQ(c.get_float("OPTIM.LR"), 0.002);
  EXPECT_DOUBLE_EQ(c.get_float("OPTIM.WARMUP_CONS_LR"), 1e-5);
  EXPECT_FALSE(c.get_bool("VERBOSE"));
  EXPECT_TRUE(c.get_bool("TRAINER.COOP.CSC"));
  EXPECT_EQ(c.get_string("TRAINER.COOP.CTX_INIT"), "a photo of a");
  EXPECT_EQ(c.get_string("OPTIM.NAME"), "sgd");
  EXPECT_EQ(c.get_list_string("INPUT.TRANSFORMS"), (std::vector<std::string>{"random_resized_crop", "random_flip"}));
  EXPECT_EQ(c.get_list_float("INPUT.PIXEL_MEAN"), (std::vector<double>{0.5, 0.5, 0.5}));
  EXPECT_EQ(c.get_list_int("INPUT.SIZE"), (std::vector<int64_t>{256, 256}));
  EXPECT_TRUE(c.get("MODEL.INIT_WEIGHTS").is_null());
  // The shell strips the quotes of  TRAINER.COOP.CTX_INIT "a photo of a"  so the token has spaces only.
  c.merge_from_list({"TRAINER.COOP.CTX_INIT", "a photo of a"});
  EXPECT_EQ(c.get_string("TRAINER.COOP.CTX_INIT"), "a photo of a");
}

TEST(ConfigMergeList, YacsRulesAndDocumentedLeniencies) {
  Config c = small_config();
  c.merge_from_list({"OPTIM.LR", "1"});  // yacs rejects int for float; clipt converts
  EXPECT_EQ(c.get("OPTIM.LR"), V(1.0));
  c.merge_from_list({"VERBOSE", "true", "TRAINER.COOP.CSC", "FALSE"});  // yacs wants True/False
  EXPECT_TRUE(c.get_bool("VERBOSE"));
  EXPECT_FALSE(c.get_bool("TRAINER.COOP.CSC"));
  c.merge_from_list({"OPTIM.NAME", "16"});  // a string key keeps the text
  EXPECT_EQ(c.get_string("OPTIM.NAME"), "16");
  c.merge_from_list({"TRAINER.COOP.CTX_INIT", "True"});  // the extra accepted kind
  EXPECT_EQ(c.get("TRAINER.COOP.CTX_INIT"), V(true));
  c.merge_from_list({"OPTIM.MAX_EPOCH", "None"});  // None replaces anything, as in yacs
  EXPECT_TRUE(c.get("OPTIM.MAX_EPOCH").is_null());
  c.merge_from_list({"MODEL.INIT_WEIGHTS", "[1, 2]"});  // a None default accepts any kind
  EXPECT_EQ(c.get("MODEL.INIT_WEIGHTS"), V::list({1, 2}));
  c.merge_from_list({"INPUT.PIXEL_MEAN", "[1, 0, 1]"});  // int elements of a float list become floats
  EXPECT_EQ(c.get("INPUT.PIXEL_MEAN"), V::list({1.0, 0.0, 1.0}));
}

TEST(ConfigMergeList, TypeMismatchNamesKeyExpectedTypeAndValue) {
  Config c = small_config();
  EXPECT_ERROR_CONTAINS(c.merge_from_list({"OPTIM.MAX_EPOCH", "5.5"}),
                        "config key OPTIM.MAX_EPOCH on the command line: expected int, got float 5.5");
  EXPECT_ERROR_CONTAINS(c.merge_from_list({"OPTIM.LR", "abc"}),
                        "OPTIM.LR on the command line: expected float, got string 'abc'");
  EXPECT_ERROR_CONTAINS(c.merge_from_list({"VERBOSE", "maybe"}), "expected bool, got string 'maybe'");
  EXPECT_ERROR_CONTAINS(c.merge_from_list({"INPUT.SIZE", "7"}),
                        "INPUT.SIZE on the command line: expected list of int, got int 7");
  EXPECT_ERROR_CONTAINS(c.merge_from_list({"INPUT.SIZE", "(224.5, 224)"}),
                        "expected list of int, got list [224.5, 224]");
  EXPECT_ERROR_CONTAINS(c.merge_from_list({"SEED", "'x'"}), "SEED on the command line: expected int, got string 'x'");
  EXPECT_ERROR_CONTAINS(c.merge_from_list({"TRAINER.COOP.CSC", "[1]"}), "expected bool, got list [1]");
  EXPECT_ERROR_CONTAINS(c.merge_from_list({"INPUT.SIZE", "[[1], [2]]"}), "nested lists");
}

TEST(ConfigMergeList, UnknownKeyNamesTheNearestKey) {
  Config c = small_config();
  EXPECT_ERROR_CONTAINS(c.merge_from_list({"OPTIM.LEARNING_RATE", "0.1"}),
                        "unknown config key OPTIM.LEARNING_RATE on the command line; did you mean OPTIM.LR?");
  EXPECT_ERROR_CONTAINS(c.merge_from_list({"TRAINER.COOOP.CSC", "True"}), "did you mean TRAINER.COOP.CSC?");
  EXPECT_ERROR_CONTAINS(c.merge_from_list({"optim.max_epoch", "5"}), "did you mean OPTIM.MAX_EPOCH?");
  EXPECT_ERROR_CONTAINS(c.merge_from_list({"DATALOADER.TRAIN_X.BATCHSIZE", "4"}),
                        "did you mean DATALOADER.TRAIN_X.BATCH_SIZE?");
  EXPECT_ERROR_CONTAINS(c.merge_from_list({"OPTIM", "5"}),
                        "OPTIM on the command line is a group of keys (e.g. OPTIM.NAME)");
  EXPECT_ERROR_CONTAINS(c.merge_from_list({"SEED", "1", "OPTIM.LR"}), "KEY VALUE pairs; 'OPTIM.LR' has no value");
  EXPECT_EQ(c.nearest_key("INPUT.PIXEL_STD"), "INPUT.PIXEL_MEAN");
}

// ---- merge_from_file ---------------------------------------------------------------------------------------

TEST(ConfigMergeFile, DecodesScalarsAsPyYamlThenYacs) {
  Config c = small_config();
  c.merge_from_yaml(R"(
OPTIM:
  LR: 1e-5            # a string to PyYAML, a float after yacs' literal_eval
  MAX_EPOCH: "16"     # a quoted string, literal_eval'd to an int by yacs
  NAME: sgd
INPUT:
  SIZE: (224, 224)
  TRANSFORMS: ["random_flip", "16"]   # quoted list elements stay strings
  PIXEL_MEAN: [1, 0.5, 1.0e-1]
VERBOSE: no           # YAML 1.1 bool
TRAINER:
  COOP:
    CTX_INIT: True
MODEL:
  INIT_WEIGHTS: ~
DATALOADER.TEST.BATCH_SIZE: 100   # a dotted key (clipt leniency)
)",
                    "embedded.yaml");
  EXPECT_EQ(c.get("OPTIM.LR"), V(1e-5));
  EXPECT_EQ(c.get("OPTIM.MAX_EPOCH"), V(16));
  EXPECT_EQ(c.get("OPTIM.NAME"), V("sgd"));
  EXPECT_EQ(c.get("INPUT.SIZE"), V::list({224, 224}));
  EXPECT_EQ(c.get("INPUT.TRANSFORMS"), V::list({"random_flip", "16"}));
  EXPECT_EQ(c.get("INPUT.PIXEL_MEAN"), V::list({1.0, 0.5, 0.1}));
  EXPECT_EQ(c.get("VERBOSE"), V(false));
  EXPECT_EQ(c.get("TRAINER.COOP.CTX_INIT"), V(true));
  EXPECT_TRUE(c.get("MODEL.INIT_WEIGHTS").is_null());
  EXPECT_EQ(c.get_int("DATALOADER.TEST.BATCH_SIZE"), 100);
}

TEST(ConfigMergeFile, EmptyFileAndEmptyGroupChangeNothing) {
  Config c = small_config();
  const std::string before = c.dump();
  c.merge_from_file(write_file("empty.yaml", "# nothing here\n"));
  c.merge_from_yaml("OPTIM:\nTRAINER:\n  COOP:\n", "groups.yaml");
  EXPECT_EQ(c.dump(), before);
}

TEST(ConfigMergeFile, ErrorsNameTheFileLineKeyAndNearestKey) {
  Config c = small_config();
  const std::string path = write_file("x.yaml", "OPTIM:\n  NAME: sgd\n  LEARNING_RATE: 0.1\n");
  EXPECT_ERROR_CONTAINS(c.merge_from_file(path),
                        "unknown config key OPTIM.LEARNING_RATE in " + path + " (line 3); did you mean OPTIM.LR?");
  // An unknown group is reported down to a full key, so the suggestion is a real key.
  EXPECT_ERROR_CONTAINS(c.merge_from_yaml("TRAINER:\n  KGCOOP:\n    CSC: True\n", "k.yaml"),
                        "unknown config key TRAINER.KGCOOP.CSC in k.yaml (line 2); did you mean TRAINER.COOP.CSC?");
  EXPECT_ERROR_CONTAINS(c.merge_from_yaml("OPTIM:\n  MAX_EPOCH: 2.5\n", "t.yaml"),
                        "config key OPTIM.MAX_EPOCH in t.yaml (line 2): expected int, got float 2.5");
  EXPECT_ERROR_CONTAINS(
      c.merge_from_yaml("OPTIM: 0.1\n", "g.yaml"),
      "config key OPTIM in g.yaml (line 1): expected a mapping of keys under it (e.g. OPTIM.NAME), got '0.1'");
  EXPECT_ERROR_CONTAINS(c.merge_from_yaml("OPTIM:\n  LR:\n    X: 1\n", "m.yaml"),
                        "config key OPTIM.LR in m.yaml (line 2): expected float, got a mapping");
  EXPECT_ERROR_CONTAINS(c.merge_from_yaml("_BASE_: base.yaml\n", "b.yaml"), "b.yaml (line 1): _BASE_ inheritance");
  EXPECT_ERROR_CONTAINS(c.merge_from_yaml("- 1\n- 2\n", "s.yaml"), "s.yaml: expected a mapping of config keys");
  EXPECT_ERROR_CONTAINS(c.merge_from_file("/nonexistent/dir/cfg.yaml"),
                        "cannot open config file /nonexistent/dir/cfg.yaml");
}

TEST(ConfigMergeFile, AFailedMergeChangesNothing) {
  Config c = small_config();
  const std::string before = c.dump();
  EXPECT_ERROR_CONTAINS(c.merge_from_yaml("SEED: 5\nOPTIM:\n  LR: 0.5\n  MAX_EPOCH: x\n", "half.yaml"), "line 4");
  EXPECT_ERROR_CONTAINS(c.merge_from_list({"SEED", "5", "OPTIM.LR", "0.5", "OPTIM.NOPE", "1"}), "OPTIM.NOPE");
  EXPECT_EQ(c.dump(), before);
}

TEST(ConfigMergeFile, MalformedYamlNamesFileAndLine) {
  Config c = small_config();
  const std::string path = write_file("bad.yaml", "OPTIM:\n  NAME: sgd\n  LR: [0.1, 0.2\nSEED: 1\n");
  try {
    c.merge_from_file(path);
    ADD_FAILURE() << "malformed YAML was accepted";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(path + " (line "), std::string::npos) << msg;
    EXPECT_NE(msg.find("malformed YAML"), std::string::npos) << msg;
  }
  EXPECT_ERROR_CONTAINS(c.merge_from_yaml("OPTIM:\n  NAME: sgd\n   LR: 0.1\n", "indent.yaml"), "indent.yaml (line 3");
}

// ---- dump, save, freeze --------------------------------------------------------------------------------------

TEST(ConfigDump, NestsKeysInDefinitionOrder) {
  Config c;
  c.define("B.Y", 1);
  c.define("A", "x");
  c.define("B.X.Z", V::list({1.0, 2.5}));
  c.define("B.W", V());
  EXPECT_EQ(c.dump(), "B:\n  Y: 1\n  X:\n    Z: [1.0, 2.5]\n  W: null\nA: \"x\"\n");
}

TEST(ConfigDump, RoundTripsEveryValueExactly) {
  Config c = small_config();
  c.set("OUTPUT_DIR", "output/base2new/train_base/caltech101/shots_16/CoOp/seed1");
  c.set("OPTIM.NAME", "16");                // would decode to an int
  c.set("OPTIM.LR_SCHEDULER", "'quoted'");  // would be unquoted by literal_eval
  c.set("TRAINER.COOP.CTX_INIT", "say \"hi\"\\ \n\tnow: # not a comment");
  c.set("OPTIM.LR", 0.1 + 0.2);  // needs all 17 digits
  c.set("OPTIM.WARMUP_CONS_LR", 1e-5);
  c.set("INPUT.PIXEL_MEAN", V::list({5.0, 1e-7, -0.25}));
  c.set("INPUT.TRANSFORMS", V::list({"true", "16", "a b", "~"}));  // strings that look like other kinds
  c.set("MODEL.INIT_WEIGHTS", V::list({1, V(), true}));
  c.set("SEED", V());

  Config reloaded = small_config();
  reloaded.merge_from_yaml(c.dump(), "dump");
  for (const auto& key : c.keys()) EXPECT_EQ(reloaded.get(key), c.get(key)) << key << "\n" << c.dump();
  EXPECT_EQ(reloaded.dump(), c.dump());
}

TEST(ConfigSave, WritesAtomicallyAndReloads) {
  Config c = small_config();
  c.merge_from_list({"OPTIM.LR", "0.002"});
  const auto dir = test::scratch_dir("save");
  c.save(dir / "config.yaml");
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir), std::filesystem::directory_iterator()), 1);
  Config reloaded = small_config();
  reloaded.merge_from_file(dir / "config.yaml");
  EXPECT_DOUBLE_EQ(reloaded.get_float("OPTIM.LR"), 0.002);
  EXPECT_ERROR_CONTAINS(c.save(dir / "missing" / "config.yaml"),
                        "cannot write '" + (dir / "missing" / "config.yaml").string() + "'");
}

TEST(ConfigFreeze, RejectsChangesUntilDefrosted) {
  Config c = small_config();
  c.freeze();
  EXPECT_ERROR_CONTAINS(c.set("SEED", 3), "config is frozen");
  EXPECT_ERROR_CONTAINS(c.merge_from_list({"SEED", "3"}), "config is frozen");
  EXPECT_ERROR_CONTAINS(c.merge_from_yaml("SEED: 3\n", "f.yaml"), "config is frozen");
  EXPECT_EQ(c.get_int("SEED"), -1);
  c.defrost();
  c.set("SEED", 3);
  EXPECT_EQ(c.get_int("SEED"), 3);
}

// ---- definition and access ----------------------------------------------------------------------------------

TEST(ConfigAccess, TypedGettersNameTheKey) {
  Config c = small_config();
  EXPECT_DOUBLE_EQ(c.get_float("SEED"), -1.0);  // ints read as floats
  EXPECT_ERROR_CONTAINS(c.get_int("OPTIM.LR"), "config key OPTIM.LR: expected an int, got float 0.0003");
  EXPECT_ERROR_CONTAINS(c.get_string("SEED"), "config key SEED: expected a string, got int -1");
  EXPECT_ERROR_CONTAINS(c.get_list_string("INPUT.SIZE"), "config key INPUT.SIZE: expected a string, got int 224");
  EXPECT_ERROR_CONTAINS(c.get_bool("OPTIM.LERNING"), "unknown config key OPTIM.LERNING; did you mean");
  EXPECT_ERROR_CONTAINS(c.get("OPTIM"), "OPTIM is a group of keys");
  EXPECT_TRUE(c.has("OPTIM.LR"));
  EXPECT_FALSE(c.has("OPTIM"));
  EXPECT_TRUE(c.has_group("DATALOADER.TRAIN_X"));
}

TEST(ConfigAccess, DefinitionsAreValidated) {
  Config c = small_config();
  EXPECT_ERROR_CONTAINS(c.define("SEED", 1), "defined twice");
  EXPECT_ERROR_CONTAINS(c.define("SEED.X", 1), "under the value key SEED");
  EXPECT_ERROR_CONTAINS(c.define("OPTIM", 1), "already a group of keys");
  EXPECT_ERROR_CONTAINS(c.define("BAD..KEY", 1), "invalid config key");
  EXPECT_ERROR_CONTAINS(c.set("NOPE", 1), "unknown config key NOPE (set in code)");
}

}  // namespace
}  // namespace clipt
