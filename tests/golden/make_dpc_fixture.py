#!/usr/bin/env python3
"""Golden trajectory of DPC's stage 2 (CoOp backbone) on the tiny CLIP fixture (tests/golden/clip_tiny),
written as specs/dpc.md describes the released code (JREion/DPC trainers/sple_coop.py):
 - the tuned prompt P is frozen; the stored parameter M starts at P and CLIP sees the decoded prompt
   X = (M - (1 - w_b) * P) / w_b (the "converse" mode);
 - mining per batch with the frozen stage-1 model: softmax(100 * f @ T0^T) over the base classes, top-K,
   minus the ground truth; a running `used` list seeded with the batch labels (no class twice); a random
   fallback while a sample has fewer than 2 negatives: randint(1, n_base - 2), at most n_base - 2 tries;
 - the built batch: anchor i, then one image per negative class; text features of all base classes under
   X, indexed by the row labels; symmetric image-text contrastive loss; SGD (momentum 0.9, wd 5e-4) on M.
Everything random is fixed here and dumped, so the C++ side replays it: P, the anchors' images and labels
of each step, the fallback draws (from Python's random, replayed in order), and one fixed image per class
for the negatives (the loader's augmentation is not part of this check); images are stored as coarse
integer grids (see coarse_images) to keep the fixture small. Dumps per step the mined
negatives, the draws, the loss and M after the step to tests/golden/dpc_steps.json. Run with the venv of
make_clip_fixture.py (transformers 4.36.2)."""
import json
import os
import random

import torch
import torch.nn.functional as F

# The tiny CLIP, its tokenizer and CoOp's TextEncoder, as the CoOp fixture defines them.
from make_coop_fixture import model, text_encoder, tokenize

HERE = os.path.dirname(os.path.abspath(__file__))

CLASSNAMES = ["red circle", "blue square", "green triangle", "small star", "dog", "yellow moon"]
N_BASE = len(CLASSNAMES)
N_CTX, WIDTH = 4, model.config.text_config.hidden_size
W_B = 0.2          # SPLE.STACK.WEIGHT
TOP_K = 3          # SPLE.INFER_TOPK
LR, MOMENTUM, WD = 0.02, 0.9, 5e-4
# Anchor labels per step (B = 3): duplicates in a batch (step 2) and batches where later samples run out
# of candidates and need the fallback.
STEP_LABELS = [[0, 1, 2], [3, 4, 5], [0, 0, 2], [5, 1, 3], [2, 4, 1]]


prompt_texts = [" ".join(["X"] * N_CTX) + " " + c + "." for c in CLASSNAMES]
tokenized = tokenize(prompt_texts)
with torch.no_grad():
    embedding = model.text_model.embeddings.token_embedding(tokenized)
token_prefix, token_suffix = embedding[:, :1], embedding[:, 1 + N_CTX:]


def text_features(ctx):
    prompts = torch.cat([token_prefix, ctx.unsqueeze(0).expand(N_BASE, -1, -1), token_suffix], dim=1)
    t = text_encoder(prompts, tokenized)
    return t / t.norm(dim=-1, keepdim=True)


def image_features(images):
    f = model.get_image_features(pixel_values=images)
    return f / f.norm(dim=-1, keepdim=True)


def coarse_images(n):
    """Images kept small in the fixture: an 8x8 grid of multiples of 1/16 in [-2, 2] per channel,
    repeated 4x4 (nearest upsampling) to 32x32. Returns (grid as ints, images)."""
    grid = torch.randint(-32, 33, (n, 3, 8, 8))
    return grid, (grid.float() / 16).repeat_interleave(4, dim=2).repeat_interleave(4, dim=3)


torch.manual_seed(11)
tuned = torch.randn(N_CTX, WIDTH) * 0.3  # P: a "trained" context, far from the random init
step_grids, step_images = zip(*[coarse_images(len(labels)) for labels in STEP_LABELS])
class_grid, class_images = coarse_images(N_BASE)  # the one image each negative class contributes
scale = model.logit_scale.exp()
rng = random.Random(5)

with torch.no_grad():
    query_text = text_features(tuned)  # T0: frozen stage-1 text features, constant

M = torch.nn.Parameter(tuned.clone())
opt = torch.optim.SGD([M], lr=LR, momentum=MOMENTUM, weight_decay=WD)
steps = []
for labels, images in zip(STEP_LABELS, step_images):
    # ---- mining (parse_sple_batch_train) ----
    with torch.no_grad():
        sim = (100.0 * image_features(images) @ query_text.t()).softmax(dim=-1)
        topk = sim.topk(TOP_K, dim=-1).indices.tolist()
    used = list(labels)
    negatives, draws = [], []
    for i, y in enumerate(labels):
        cand = [c for c in topk[i] if c != y]
        neg = []
        for c in cand:
            if c not in used:
                neg.append(c)
                used.append(c)
        tries = 0
        while len(neg) < 2 and tries < N_BASE - 2:
            c = rng.randint(1, N_BASE - 2)
            draws.append(c)
            tries += 1
            if c not in used:
                neg.append(c)
                used.append(c)
        negatives.append(neg)
    rows_img, rows_lab = [], []
    for i, y in enumerate(labels):
        rows_img.append(images[i])
        rows_lab.append(y)
        for c in negatives[i]:
            rows_img.append(class_images[c])
            rows_lab.append(c)
    built = torch.stack(rows_img)
    row_labels = torch.tensor(rows_lab)
    # ---- loss (forward_backward) ----
    decoded = (M - (1 - W_B) * tuned) / W_B
    text = text_features(decoded)[row_labels]
    with torch.no_grad():
        img = image_features(built)
    logits = scale * img @ text.t()
    target = torch.arange(len(rows_lab))
    loss = (F.cross_entropy(logits, target) + F.cross_entropy(logits.t(), target)) / 2
    opt.zero_grad()
    loss.backward()
    opt.step()
    steps.append({
        "labels": labels,
        "topk": topk,
        "negatives": negatives,
        "draws": draws,
        "row_labels": rows_lab,
        "loss": float(loss),
        "stored": [float(v) for v in M.detach().reshape(-1)],
        "decoded": [float(v) for v in ((M.detach() - (1 - W_B) * tuned) / W_B).reshape(-1)],
    })


def flat(t):
    return {"shape": list(t.shape), "data": [float(v) for v in t.reshape(-1)]}


def grid(g):
    return {"shape": list(g.shape), "data": g.reshape(-1).tolist(), "divisor": 16, "upsample": 4}


out = {
    "classnames": CLASSNAMES, "n_ctx": N_CTX, "omega_base": W_B, "top_k": TOP_K,
    "lr": LR, "momentum": MOMENTUM, "weight_decay": WD,
    "tuned": flat(tuned), "class_images": grid(class_grid),
    "step_images": [grid(g) for g in step_grids],
    "steps": steps,
}
with open(os.path.join(HERE, "dpc_steps.json"), "w") as f:
    json.dump(out, f)
for s in steps:
    print("loss", round(s["loss"], 5), "negatives", s["negatives"], "draws", s["draws"])
