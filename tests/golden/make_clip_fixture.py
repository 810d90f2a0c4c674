#!/usr/bin/env python3
"""Builds a tiny randomly initialised Hugging Face CLIPModel (non-trivial LayerNorm weights and biases),
saves it in the standard directory layout under tests/golden/clip_tiny/ together with a small BPE
vocabulary in CLIP's conventions (vocab.json + merges.txt, learned here from a fixed corpus by
tiny_bpe.py), and dumps image features, text features, logits and the gradient of a loss w.r.t. the
text tower's input token embeddings to tests/golden/clip_tiny_io.json.

    python3 -m venv --system-site-packages /tmp/hfvenv && /tmp/hfvenv/bin/pip install transformers safetensors
    /tmp/hfvenv/bin/python tests/golden/make_clip_fixture.py

(Any transformers >= 4.30 with PyTorch works; the fixture records the versions used.)"""
import json
import os

import torch
import transformers
from transformers import CLIPConfig, CLIPModel

from tiny_bpe import write_vocabulary

HERE = os.path.dirname(os.path.abspath(__file__))
MODEL_DIR = os.path.join(HERE, "clip_tiny")
os.makedirs(MODEL_DIR, exist_ok=True)
VOCAB = write_vocabulary(MODEL_DIR)  # the end token is the last (largest) id, as in CLIP
CONTEXT = 16

torch.manual_seed(20261125)
config = CLIPConfig(
    text_config=dict(vocab_size=VOCAB, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                     num_attention_heads=4, max_position_embeddings=CONTEXT, hidden_act="quick_gelu",
                     # eos_token_id 2 selects HF's legacy pooling = argmax of the ids, which is OpenAI's rule.
                     eos_token_id=2, bos_token_id=1, pad_token_id=0),
    vision_config=dict(hidden_size=48, intermediate_size=96, num_hidden_layers=2, num_attention_heads=4,
                       image_size=32, patch_size=8, hidden_act="quick_gelu"),
    projection_dim=24,
)
model = CLIPModel(config).eval()
with torch.no_grad():
    for name, p in model.named_parameters():
        if "norm" in name and name.endswith("weight"):
            p.copy_(1.0 + 0.3 * torch.randn_like(p))
        elif name.endswith("bias"):
            p.copy_(0.1 * torch.randn_like(p))
    model.logit_scale.fill_(2.3)
model.save_pretrained(MODEL_DIR, safe_serialization=True)

pixels = torch.randn(3, 3, 32, 32)
# Token sequences: start token, random body, the end token (largest id) at varying positions, zero padding.
eot_positions = [5, 15, 9, 3]
ids = torch.zeros(4, CONTEXT, dtype=torch.long)
for i, e in enumerate(eot_positions):
    ids[i, 0] = VOCAB - 2
    ids[i, 1:e] = torch.randint(3, VOCAB - 2, (e - 1,))
    ids[i, e] = VOCAB - 1

captured = {}


def keep_embeddings(module, inputs, output):
    output.retain_grad()
    captured["embeddings"] = output


handle = model.text_model.embeddings.token_embedding.register_forward_hook(keep_embeddings)
image_features = model.get_image_features(pixel_values=pixels)
text_features = model.get_text_features(input_ids=ids)
handle.remove()
img = image_features / image_features.norm(dim=-1, keepdim=True)
txt = text_features / text_features.norm(dim=-1, keepdim=True)
logits = model.logit_scale.exp() * img @ txt.t()  # [3 images, 4 texts]
loss = torch.nn.functional.cross_entropy(logits, torch.tensor([0, 1, 2]))
loss.backward()


def t(x):
    return {"shape": list(x.shape), "data": [float(v) for v in x.detach().reshape(-1).tolist()]}


out = {
    "versions": {"torch": torch.__version__, "transformers": transformers.__version__},
    "pixel_values": t(pixels),
    "input_ids": {"shape": list(ids.shape), "data": ids.reshape(-1).tolist()},
    "image_features": t(image_features),
    "text_features": t(text_features),
    "logits_per_image": t(logits),
    "loss": float(loss),
    "loss_labels": [0, 1, 2],
    "grad_token_embeddings": t(captured["embeddings"].grad),
}
with open(os.path.join(HERE, "clip_tiny_io.json"), "w") as f:
    json.dump(out, f)
print("wrote", MODEL_DIR, "and clip_tiny_io.json")
