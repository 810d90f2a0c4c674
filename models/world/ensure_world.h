// One call that makes the built-in world exist on disk: the classification benchmark (CoOp layout), the
// multi-domain DG benchmark (Dassl PACS layout), optional single-style copies of the benchmark for
// cross-domain evaluation, and tokenizer files learned from the pretraining captions. Everything already
// present with the same parameters is left alone, so this is cheap to call at every start (the demo does).
//
// It lives in models/ rather than data/world/ because the tokenizer files come from the CLIP BPE
// trainer (models/clip/bpe_trainer.h).
//
//   <root>/world/        split_world.json, images/<class>/..., world_spec.json
//   <root>/world_dg/     images/<domain>/<class>/..., splits/<domain>_{train,crossval,test}_kfold.txt
//   <root>/world_<style>/  (one per requested cross-domain style) same classes, CoOp layout
//   <root>/tokenizer/    vocab.json, merges.txt, world_spec.json
#pragma once
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "data/world/benchmark.h"
#include "data/world/pretrain_stream.h"

// The world lives in data/world (namespace clipt::world); this is its model-side set-up, which also needs
// the tokenizer trainer, hence its own namespace.
namespace clipt::world_setup {

struct TokenizerSpec {
  int64_t vocab_size = 2048;        // an upper bound: the world's words are all single tokens well before it
  int64_t corpus_captions = 20000;  // captions of pretraining indices 0..N−1
};

struct WorldParams {
  world::BenchmarkSpec benchmark;  // name "world"
  bool write_dg = true;
  world::DgBenchmarkSpec dg;            // name "world_dg"
  std::vector<world::Style> xd_styles;  // e.g. {Sketch, Cartoon}: writes world_sketch, world_cartoon (test only)
  world::PretrainSpec pretrain;         // the caption distribution the tokenizer is learned from
  TokenizerSpec tokenizer;
};

struct WorldPaths {
  std::filesystem::path root;
  world::WrittenBenchmark benchmark;
  std::optional<world::WrittenBenchmark> dg;
  std::vector<world::WrittenBenchmark> xd;
  std::filesystem::path tokenizer_dir;  // holds vocab.json and merges.txt
};

WorldPaths ensure_world(const std::filesystem::path& root, const WorldParams& params = {});

// The corpus the world tokenizer is learned from: pretraining captions 0..corpus_captions−1, the class
// names of every colour × shape, and the prompt templates methods use ("a photo of a {}.").
std::vector<std::string> tokenizer_corpus(const world::PretrainSpec& pretrain, const TokenizerSpec& spec);

}  // namespace clipt::world_setup
