// Frozen-CLIP features shared by the methods: hand-made text classifiers (one template or an ensemble
// averaged then renormalised), image features without a tape, and cosine logits.
#pragma once
#include <string>
#include <vector>

#include "data/templates.h"
#include "methods/method.h"

namespace clipt::methods {

// L2-normalised f32 text features [C, D] of frozen CLIP for `classnames` through `templates` ("{}" is
// the class name, "_" → " " unless `form` is Raw): with several templates, per-template features are
// normalised, averaged and renormalised (CLIP's prompt ensembling). No tape; prompts are encoded in chunks.
Tensor hand_made_text_features(const MethodContext& ctx, const std::vector<std::string>& classnames,
                               const std::vector<std::string>& templates,
                               data::ClassNameForm form = data::ClassNameForm::Spaced);
// The dataset's CoOp template ("a photo of a {}, a type of pet." for OxfordPets, ...).
Tensor coop_text_features(const MethodContext& ctx, const std::vector<std::string>& classnames);

// L2-normalised f32 image features of frozen CLIP, without a tape.
Tensor frozen_image_features(const MethodContext& ctx, const Tensor& images);

// scale · a · bᵀ for normalised a [B, D] and b [C, D] (f32).
Tensor cosine_logits(const Tensor& a_normalised, const Tensor& b_normalised, double scale);

}  // namespace clipt::methods
