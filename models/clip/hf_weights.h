// The name mapping between a Hugging Face CLIPModel checkpoint and clipt's ClipModel (OpenAI names):
//   vision_model.embeddings.patch_embedding.weight      → visual.conv1.weight
//   vision_model.embeddings.class_embedding             → visual.class_embedding
//   vision_model.embeddings.position_embedding.weight   → visual.positional_embedding
//   vision_model.pre_layrnorm / post_layernorm          → visual.ln_pre / visual.ln_post
//   visual_projection.weight [D, W]                     → visual.proj [W, D] (transposed)
//   text_model.embeddings.token_embedding.weight        → text.token_embedding.weight
//   text_model.embeddings.position_embedding.weight     → text.positional_embedding
//   text_model.final_layer_norm                         → text.ln_final
//   text_projection.weight [D, W]                       → text.text_projection [W, D] (transposed)
//   {text,vision}_model.encoder.layers.i.self_attn.{q,k,v}_proj → ….transformer.resblocks.i.attn.in_proj_*
//   ….self_attn.out_proj / layer_norm1 / layer_norm2 / mlp.fc1 / mlp.fc2
//                                                       → ….attn.out_proj / ln_1 / ln_2 / mlp.c_fc / mlp.c_proj
//   logit_scale                                         → logit_scale
#pragma once
#include <map>
#include <string>

#include "engine/io/safetensors.h"
#include "models/clip/clip_config.h"

namespace clipt::clip {

// Reads every tensor of `file` into clipt names (fusing q/k/v, transposing the projections), checking
// that the file holds exactly the tensors the architecture needs with the right shapes.
std::map<std::string, Tensor> hf_to_clipt(const io::SafetensorsFile& file, const ClipConfig& config);
// The inverse, for writing a model directory.
io::NamedTensors clipt_to_hf(const std::map<std::string, Tensor>& state, const ClipConfig& config);

}  // namespace clipt::clip
