// models/clip/convert_clip.py on a small random OpenAI-format checkpoint that the test writes itself
// (tests/models/make_random_openai_checkpoint.py): TorchScript archive, plain state dict and open_clip
// checkpoint. tests/models/check_converted_clip.py compares every tensor with its source; here we parse the
// safetensors header ourselves, check the tokenizer files against the C++ tokenizer, and check that bad
// checkpoints fail with one clear message. Needs Debian's /usr/bin/python3 with torch (skips otherwise).
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "models/clip/tokenizer.h"
#include "tests/common/test_util.h"

namespace clipt::clip {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kPython = "/usr/bin/python3";

std::string quote(const fs::path& p) { return "'" + p.string() + "'"; }

bool python_has_torch() {
  static const bool ok = std::system((std::string(kPython) + " -c 'import torch' >/dev/null 2>&1").c_str()) == 0;
  return ok;
}

fs::path vocab_gz() { return test::shared_data_dir() / "bpe_simple_vocab_16e6.txt.gz"; }

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

// Runs a Python script; returns its exit status and leaves stdout+stderr in `log`.
int run_python(const fs::path& script, const std::string& args, const fs::path& log) {
  const std::string cmd = std::string(kPython) + " " + quote(script) + " " + args + " > " + quote(log) + " 2>&1";
  const int rc = std::system(cmd.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

// The random checkpoint is written once per test program (ctest runs each test in its own process, so the
// folder is per process: parallel ctest runs never share it).
const fs::path& checkpoint_dir() {
  static const fs::path dir = [] {
    // Inside this process's scratch root (removed at exit): test_util's ScratchRoot uses the same path.
    const fs::path d =
        fs::path(CLIPT_BINARY_DIR) / "test_scratch" / std::to_string(::getpid()) / "random_openai_checkpoint";
    fs::create_directories(d);
    const int rc =
        run_python(test::source_dir() / "tests/models/make_random_openai_checkpoint.py", quote(d), d / "make.log");
    if (rc != 0) ADD_FAILURE() << "make_random_openai_checkpoint.py failed:\n" << read_text(d / "make.log");
    return d;
  }();
  return dir;
}

#define REQUIRE_TORCH_AND_VOCAB()                                                                      \
  if (!python_has_torch()) GTEST_SKIP() << kPython << " cannot import torch: skipping converter test"; \
  if (!fs::exists(vocab_gz())) GTEST_SKIP() << "CLIP vocabulary " << vocab_gz() << " missing: skipping"

fs::path converter() { return test::source_dir() / "models/clip/convert_clip.py"; }

// The HF tensor names the converter must produce for `text_layers` + `vision_layers` blocks.
std::set<std::string> expected_names(int text_layers, int vision_layers) {
  std::set<std::string> names = {"logit_scale",
                                 "text_projection.weight",
                                 "visual_projection.weight",
                                 "text_model.embeddings.token_embedding.weight",
                                 "text_model.embeddings.position_embedding.weight",
                                 "text_model.final_layer_norm.weight",
                                 "text_model.final_layer_norm.bias",
                                 "vision_model.embeddings.class_embedding",
                                 "vision_model.embeddings.patch_embedding.weight",
                                 "vision_model.embeddings.position_embedding.weight",
                                 "vision_model.pre_layrnorm.weight",
                                 "vision_model.pre_layrnorm.bias",
                                 "vision_model.post_layernorm.weight",
                                 "vision_model.post_layernorm.bias"};
  for (const auto& [tower, layers] : {std::pair{"text_model", text_layers}, {"vision_model", vision_layers}})
    for (int i = 0; i < layers; ++i)
      for (const char* p : {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.out_proj",
                            "layer_norm1", "layer_norm2", "mlp.fc1", "mlp.fc2"})
        for (const char* wb : {"weight", "bias"})
          names.insert(fmt::format("{}.encoder.layers.{}.{}.{}", tower, i, p, wb));
  return names;
}

// Parses model.safetensors' header with nlohmann-json and checks the layout of the whole file.
json read_safetensors_header(const fs::path& path) {
  const std::string bytes = read_text(path);
  EXPECT_GE(bytes.size(), 8u);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | uint8_t(bytes[size_t(i)]);  // little-endian u64
  EXPECT_EQ(n % 8, 0u) << "header length " << n;
  json header = json::parse(bytes.substr(8, n));
  std::vector<std::pair<int64_t, int64_t>> spans;
  for (const auto& [name, info] : header.items())
    if (name != "__metadata__") spans.emplace_back(info["data_offsets"][0], info["data_offsets"][1]);
  std::sort(spans.begin(), spans.end());
  int64_t pos = 0;
  for (const auto& [b, e] : spans) {
    EXPECT_EQ(b, pos) << "gap or overlap in " << path;
    pos = e;
  }
  EXPECT_EQ(uint64_t(pos) + 8 + n, bytes.size()) << "data section size";
  return header;
}

struct Case {
  const char* checkpoint;
  const char* dtype_flag;  // "" = the checkpoint's own dtype
  const char* dtype;       // what the output must hold
  const char* st_dtype;
};

TEST(ConvertClip, ConvertsAllCheckpointFormats) {
  REQUIRE_TORCH_AND_VOCAB();
  const fs::path ckpt = checkpoint_dir();
  const json arch = json::parse(read_text(ckpt / "arch.json"));
  const Tokenizer reference = Tokenizer::from_bpe_gz(vocab_gz());
  const fs::path reference_files = test::scratch_dir("cpp_tokenizer_files");
  reference.write_hf_files(reference_files);
  std::string check_args = quote(ckpt / "arch.json");

  for (const Case& c : {Case{"openai_jit.pt", "", "fp16", "F16"}, Case{"openai_state_dict.pt", "", "fp32", "F32"},
                        Case{"openai_state_dict.pt", "--dtype bf16", "bf16", "BF16"},
                        Case{"open_clip.pt", "--dtype fp16", "fp16", "F16"}}) {
    SCOPED_TRACE(std::string(c.checkpoint) + " " + c.dtype_flag);
    const fs::path out = test::scratch_dir(fs::path(c.checkpoint).stem().string() + "_" + c.dtype);
    ASSERT_EQ(
        run_python(converter(),
                   quote(ckpt / c.checkpoint) + " " + quote(out) + " --vocab " + quote(vocab_gz()) + " " + c.dtype_flag,
                   out / "convert.log"),
        0)
        << read_text(out / "convert.log");
    check_args += " " + quote(ckpt / c.checkpoint) + " " + quote(out) + " " + c.dtype;

    // The header as a C++ reader sees it.
    const json header = read_safetensors_header(out / "model.safetensors");
    std::set<std::string> names;
    for (const auto& [name, info] : header.items()) {
      if (name == "__metadata__") continue;
      names.insert(name);
      EXPECT_EQ(info["dtype"], c.st_dtype) << name;
    }
    EXPECT_EQ(names, expected_names(arch["text_layers"], arch["vision_layers"]));
    const int64_t vw = arch["vision_width"], tw = arch["text_width"], e = arch["embed_dim"];
    const int64_t p = arch["patch_size"], grid = int64_t(arch["image_size"]) / p;
    EXPECT_EQ(header["vision_model.embeddings.patch_embedding.weight"]["shape"], json({vw, 3, p, p}));
    EXPECT_EQ(header["vision_model.embeddings.position_embedding.weight"]["shape"], json({grid * grid + 1, vw}));
    EXPECT_EQ(header["visual_projection.weight"]["shape"], json({e, vw}));
    EXPECT_EQ(header["text_projection.weight"]["shape"], json({e, tw}));
    EXPECT_EQ(header["text_model.encoder.layers.1.self_attn.k_proj.weight"]["shape"], json({tw, tw}));
    EXPECT_EQ(header["vision_model.encoder.layers.0.mlp.fc1.weight"]["shape"], json({4 * vw, vw}));
    EXPECT_EQ(header["text_model.embeddings.token_embedding.weight"]["shape"], json({49408, tw}));
    EXPECT_EQ(header["logit_scale"]["shape"], json::array());

    const json config = json::parse(read_text(out / "config.json"));
    EXPECT_EQ(config["vision_config"]["num_attention_heads"], arch["vision_heads"]);
    EXPECT_EQ(config["text_config"]["num_attention_heads"], arch["text_heads"]);
    EXPECT_EQ(config["vision_config"]["image_size"], arch["image_size"]);
    EXPECT_EQ(config["text_config"]["hidden_act"], "quick_gelu");
    EXPECT_NEAR(config["logit_scale_init_value"].get<double>(), 4.6052, 2e-3);

    // Tokenizer files: byte-identical to what the C++ tokenizer writes, and they load.
    for (const char* name : {"vocab.json", "merges.txt"})
      EXPECT_TRUE(read_text(out / name) == read_text(reference_files / name)) << name << " differs";
    EXPECT_EQ(Tokenizer::from_hf_dir(out).tokenize("a photo of a dog."), reference.tokenize("a photo of a dog."));
  }
  // Every tensor of every conversion against its source, by an independent Python reader (one run).
  const fs::path log = test::scratch_dir("check") / "check.log";
  EXPECT_EQ(run_python(test::source_dir() / "tests/models/check_converted_clip.py", check_args, log), 0)
      << read_text(log);
}

TEST(ConvertClip, BadInputFailsWithOneClearMessage) {
  REQUIRE_TORCH_AND_VOCAB();
  const fs::path ckpt = checkpoint_dir();
  const fs::path dir = test::scratch_dir("bad");
  {  // a truncated archive
    const std::string bytes = read_text(ckpt / "openai_jit.pt");
    std::ofstream(dir / "truncated.pt", std::ios::binary) << bytes.substr(0, bytes.size() / 3);
  }
  const std::string make_broken = "import torch; sd = torch.load('" + (ckpt / "openai_state_dict.pt").string() +
                                  "')\n"
                                  "a = dict(sd); del a['visual.proj']; torch.save(a, '" +
                                  (dir / "no_proj.pt").string() +
                                  "')\n"
                                  "b = dict(sd); b['text_projection'] = torch.zeros(3, 3); torch.save(b, '" +
                                  (dir / "bad_shape.pt").string() +
                                  "')\n"
                                  "c = dict(sd); c['visual.extra'] = torch.zeros(2); torch.save(c, '" +
                                  (dir / "extra.pt").string() + "')\n";
  std::ofstream(dir / "make_broken.py") << make_broken;
  ASSERT_EQ(run_python(dir / "make_broken.py", "", dir / "make_broken.log"), 0) << read_text(dir / "make_broken.log");

  const std::string vocab = " --vocab " + quote(vocab_gz());
  const struct {
    std::string args;
    std::string message;
  } cases[] = {
      {quote(dir / "truncated.pt") + " " + quote(dir / "o1") + vocab, "truncated.pt is neither a TorchScript"},
      {quote(dir / "missing.pt") + " " + quote(dir / "o2") + vocab, "missing.pt does not exist"},
      {quote(dir / "no_proj.pt") + " " + quote(dir / "o3") + vocab, "lacks tensor 'visual.proj'"},
      {quote(dir / "bad_shape.pt") + " " + quote(dir / "o4") + vocab, "'text_projection': expected shape"},
      {quote(dir / "extra.pt") + " " + quote(dir / "o5") + vocab, "visual.extra"},
      {quote(ckpt / "openai_jit.pt") + " " + quote(dir / "o6"), "bpe_simple_vocab_16e6.txt.gz not found"},
      {quote(ckpt / "openai_jit.pt") + " " + quote(dir / "o7") + " --vocab " + quote(ckpt / "arch.json"),
       "arch.json is not CLIP's gzip-compressed BPE vocabulary"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.args);
    const fs::path log = dir / "convert.log";
    EXPECT_EQ(run_python(converter(), c.args, log), 1);
    const std::string out = read_text(log);
    EXPECT_NE(out.find("convert_clip.py: error: "), std::string::npos) << out;
    EXPECT_NE(out.find(c.message), std::string::npos) << out;
    EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << "expected one line:\n" << out;
  }
  for (const char* o : {"o1", "o3", "o4", "o5"}) EXPECT_FALSE(fs::exists(dir / o / "model.safetensors")) << o;
}

}  // namespace
}  // namespace clipt::clip
