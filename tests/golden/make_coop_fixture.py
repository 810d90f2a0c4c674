#!/usr/bin/env python3
"""Golden trajectories of CoOp's and KgCoOp's training step on the tiny CLIP fixture (tests/golden/
clip_tiny, see make_clip_fixture.py), written as the peers' code computes them (KaiyangZhou/CoOp
trainers/coop.py: PromptLearner + TextEncoder; htyao89/KgCoOp trainers/kgcoop.py: the extra
λ·(1 − mean cos) term): a fixed context initialisation and a fixed batch, 5 SGD steps (momentum 0.9,
weight decay 5e-4), fp32. Dumps the loss of every step and the context after it to
tests/golden/coop_steps.json. Run with the venv of make_clip_fixture.py."""
import json
import os

import torch
import torch.nn.functional as F
from transformers import CLIPModel, CLIPTokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
MODEL_DIR = os.path.join(HERE, "clip_tiny")
model = CLIPModel.from_pretrained(MODEL_DIR).eval()
for p in model.parameters():
    p.requires_grad_(False)
tok = CLIPTokenizer(os.path.join(MODEL_DIR, "vocab.json"), os.path.join(MODEL_DIR, "merges.txt"))
CONTEXT = model.config.text_config.max_position_embeddings

CLASSNAMES = ["red circle", "blue square", "green triangle", "small star", "dog"]
N_CTX = 4
LR, MOMENTUM, WD, STEPS, KG_LAMBDA = 0.05, 0.9, 5e-4, 5, 8.0


def tokenize(texts):
    ids = torch.zeros(len(texts), CONTEXT, dtype=torch.long)
    for i, t in enumerate(texts):
        x = tok(t).input_ids  # start + tokens + end
        ids[i, : len(x)] = torch.tensor(x)
    return ids


def text_encoder(prompts, tokenized):
    """CoOp's TextEncoder on the HF modules: + positional embedding, causal transformer, ln_final,
    feature at argmax(tokens), projection."""
    tm = model.text_model
    x = prompts + tm.embeddings.position_embedding.weight[: prompts.shape[1]]
    n, length = tokenized.shape
    mask = torch.full((length, length), float("-inf")).triu(1)[None, None].expand(n, 1, length, length)
    x = tm.encoder(inputs_embeds=x, causal_attention_mask=mask).last_hidden_state
    x = tm.final_layer_norm(x)
    x = x[torch.arange(n), tokenized.argmax(-1)]
    return model.text_projection(x)


prompt_texts = [" ".join(["X"] * N_CTX) + " " + c + "." for c in CLASSNAMES]
tokenized = tokenize(prompt_texts)
with torch.no_grad():
    embedding = model.text_model.embeddings.token_embedding(tokenized)
token_prefix, token_suffix = embedding[:, :1], embedding[:, 1 + N_CTX:]

torch.manual_seed(7)
ctx_init = torch.randn(N_CTX, 32) * 0.02
images = torch.randn(6, 3, 32, 32)
labels = torch.tensor([0, 1, 2, 3, 4, 1])
with torch.no_grad():
    image_features = model.get_image_features(pixel_values=images)
    image_features = image_features / image_features.norm(dim=-1, keepdim=True)
    frozen = model.get_text_features(input_ids=tokenize([f"a photo of a {c}." for c in CLASSNAMES]))
    frozen = frozen / frozen.norm(dim=-1, keepdim=True)
scale = model.logit_scale.exp()


def run(kg):
    ctx = torch.nn.Parameter(ctx_init.clone())
    opt = torch.optim.SGD([ctx], lr=LR, momentum=MOMENTUM, weight_decay=WD)
    losses, contexts = [], []
    for _ in range(STEPS):
        prompts = torch.cat([token_prefix, ctx.unsqueeze(0).expand(len(CLASSNAMES), -1, -1), token_suffix], dim=1)
        text = text_encoder(prompts, tokenized)
        text = text / text.norm(dim=-1, keepdim=True)
        logits = scale * image_features @ text.t()
        loss = F.cross_entropy(logits, labels)
        if kg:
            loss = loss + KG_LAMBDA * (1.0 - torch.mean(torch.cosine_similarity(text, frozen, dim=-1)))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss))
        contexts.append([float(v) for v in ctx.detach().reshape(-1)])
    return {"losses": losses, "contexts": contexts}


# Importable (make_gcscoop_fixture.py reuses the encoder above): the fixture is written when run.
if __name__ == "__main__":
    out = {
        "classnames": CLASSNAMES, "n_ctx": N_CTX, "lr": LR, "momentum": MOMENTUM, "weight_decay": WD,
        "kg_lambda": KG_LAMBDA, "template": "a photo of a {}.",
        "ctx_init": [float(v) for v in ctx_init.reshape(-1)],
        "images": {"shape": list(images.shape), "data": [float(v) for v in images.reshape(-1)]},
        "labels": labels.tolist(),
        "coop": run(False), "kgcoop": run(True),
    }
    with open(os.path.join(HERE, "coop_steps.json"), "w") as f:
        json.dump(out, f)
    print("losses CoOp", out["coop"]["losses"], "KgCoOp", out["kgcoop"]["losses"])
