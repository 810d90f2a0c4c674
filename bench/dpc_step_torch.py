#!/usr/bin/env python3
"""DPC's stage-2 training step (CoOp backbone) in PyTorch eager, after the released code (sple_coop.py
parse_sple_batch_train + forward_backward; specs/dpc.md §3), on transformers' CLIPModel with random weights,
timed on the same machine as bench_dpc_step. Prints one JSON line.

One step, for B anchor images already on the device:
  1. frozen stage-1 image forward of the anchors (no grad); their features are reused for the loss, since
     CoOp's image features do not depend on the prompt (as clipt does);
  2. cosine ranking against the stage-1 text features of all base classes, built once with the tuned
     prompt P before timing (the released code recomputes them every batch; they are constant);
  3. top-K minus the ground truth, no class twice per batch (the running `used` list starts with the
     batch's labels), random fallback to 2 negatives (random.randint(1, n_base - 2), n_base - 2 tries);
  4. one negative image per negative class, picked from a pool of 16 images per class held in memory on
     the device (no disk I/O or augmentation: compare with bench_dpc_step's `compute_ms`, which also
     excludes the negatives' loading);
  5. image forward of the negatives (frozen, no grad);
  6. text tower forward and backward for the built batch's classes only, with the parallel prompt decoded
     from the stored parameter M as (M - (1 - w_b) P) / w_b (released-code semantics, w_b = 0.2);
  7. symmetric contrastive loss 1/2 [CE(s F T^T) + CE((s F T^T)^T)] and SGD (lr 0.002, momentum 0.9,
     wd 5e-4) on M.

Sizes as bench/method_step_common.h: base = ViT-B/16 (224 px), small = a quarter of B/16 in width and
depth (96 px). fp16 on cuda (the released default, context updated in fp16), fp32 on cpu.
    python3 bench/dpc_step_torch.py [--size base|small] [--device cuda|cpu] [--batch 4] [--top-k 8]
                                    [--classes 50] [--steps N] [--n-ctx 4] [--warmup 3] [--truncate-text]
"""
import argparse
import json
import random
import statistics
import time

import torch
import torch.nn.functional as F
from transformers import CLIPConfig, CLIPModel

p = argparse.ArgumentParser()
p.add_argument("--size", choices=["base", "small"], default=None, help="default: base on cuda, small on cpu")
p.add_argument("--device", choices=["cuda", "cpu"], default="cuda" if torch.cuda.is_available() else "cpu")
p.add_argument("--batch", type=int, default=4)
p.add_argument("--top-k", type=int, default=8)
p.add_argument("--classes", type=int, default=50)
p.add_argument("--steps", type=int, default=None, help="default: 30 on cuda, 8 on cpu (as bench_dpc_step)")
p.add_argument("--n-ctx", type=int, default=4, help="context tokens (bench_dpc_step sets TRAINER.COOP.N_CTX 4)")
p.add_argument("--warmup", type=int, default=3, help="untimed steps first")
p.add_argument("--truncate-text", action="store_true",
               help="run the text tower only up to the batch's last end token (exact under the causal mask, as "
                    "clipt does); the released code runs all 77 positions")
a = p.parse_args()
dev = a.device
cuda = dev == "cuda"
size = a.size or ("base" if cuda else "small")
steps = a.steps or (30 if cuda else 8)
dtype = torch.float16 if cuda else torch.float32
if a.classes < 3:
    p.error("--classes must be at least 3 (the fallback draws from [1, classes - 2])")
torch.manual_seed(1)
random.seed(1)

# The model dims of bench/method_step_common.h's model_config.
if size == "base":
    text = dict(hidden_size=512, num_hidden_layers=12, num_attention_heads=8, intermediate_size=2048)
    vision = dict(hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072,
                  image_size=224, patch_size=16)
    proj = 512
else:
    text = dict(hidden_size=256, num_hidden_layers=4, num_attention_heads=4, intermediate_size=1024)
    vision = dict(hidden_size=384, num_hidden_layers=4, num_attention_heads=6, intermediate_size=1536,
                  image_size=96, patch_size=16)
    proj = 256
cfg = CLIPConfig(text_config=dict(hidden_act="quick_gelu", layer_norm_eps=1e-5, **text),
                 vision_config=dict(hidden_act="quick_gelu", layer_norm_eps=1e-5, **vision),
                 projection_dim=proj)
model = CLIPModel(cfg).to(dev, dtype).eval()
for prm in model.parameters():
    prm.requires_grad_(False)
tm = model.text_model
width = text["hidden_size"]
res = vision["image_size"]
n_base = a.classes

# Class prompts "X X X X <name>." as 77 tokens: start, n_ctx context slots, the name and the full stop
# (3 filler tokens, the bench's made-up names are two or three syllables), end, padding.
L = 77
ids = torch.zeros(n_base, L, dtype=torch.long, device=dev)
ids[:, 0] = 49406
ids[:, 1:1 + a.n_ctx + 3] = 343
ids[:, 1 + a.n_ctx + 3] = 49407
eot = ids.argmax(-1)
with torch.no_grad():
    emb = tm.embeddings.token_embedding(ids)
prefix, suffix = emb[:, :1], emb[:, 1 + a.n_ctx:]
causal = torch.full((L, L), float("-inf"), device=dev).triu(1)[None, None].to(dtype)

# Stage 1's tuned prompt P (frozen) and the stored parallel parameter M, initialised so that the decoded
# prompt starts at P: (P - (1 - w_b) P) / w_b = P.
omega_b = 0.2
P = torch.randn(a.n_ctx, width, device=dev, dtype=dtype) * 0.02
M = torch.nn.Parameter(P.clone())
opt = torch.optim.SGD([M], lr=0.002, momentum=0.9, weight_decay=5e-4)
scale = model.logit_scale.exp()


def text_features(ctx, rows):
    """L2-normalised text features of the classes `rows` (a device index tensor) with context `ctx`."""
    n = rows.numel()
    x = torch.cat([prefix[rows], ctx.unsqueeze(0).expand(n, -1, -1), suffix[rows]], 1)
    length = int(eot[rows].max()) + 1 if a.truncate_text else L
    x = x[:, :length] + tm.embeddings.position_embedding.weight[:length]
    mask = causal[:, :, :length, :length].expand(n, 1, length, length)
    x = tm.encoder(inputs_embeds=x, causal_attention_mask=mask).last_hidden_state
    x = tm.final_layer_norm(x)[torch.arange(n, device=dev), eot[rows]]
    return F.normalize(model.text_projection(x), dim=-1)


def image_features(images):
    return F.normalize(model.get_image_features(pixel_values=images), dim=-1)


# Stage 1's text features of every base class, once (constant: P and the encoders are frozen).
with torch.no_grad():
    query_text = text_features(P, torch.arange(n_base, device=dev))

# The few-shot training set in memory on the device: 16 images per class.
SHOTS = 16
pool = torch.randn(n_base * SHOTS, 3, res, res, device=dev, dtype=dtype)


def select_negatives(top, labels):
    """Released-code mining: top-K minus the ground truth, no class twice per batch, fallback to 2."""
    used = list(labels)  # duplicates kept, as the released list
    out = []
    for row, y in zip(top, labels):
        neg = []
        for c in row:
            if c != y and c not in used:
                neg.append(c)
                used.append(c)
        tries = 0
        while len(neg) < 2 and tries < n_base - 2:
            c = random.randint(1, n_base - 2)
            tries += 1
            if c not in used:
                neg.append(c)
                used.append(c)
        out.append(neg)
    return out


def step(anchors, labels):
    """One stage-2 step; returns the built batch's size."""
    with torch.no_grad():
        anchor_feat = image_features(anchors)
        top = (anchor_feat @ query_text.t()).topk(min(a.top_k, n_base), dim=1).indices.tolist()
    negatives = select_negatives(top, labels)
    # Built batch order: each anchor, then its negatives; the anchors' features are already computed.
    neg_classes = [c for n in negatives for c in n]
    built_labels, source = [], []
    k = 0
    for i, (y, n) in enumerate(zip(labels, negatives)):
        built_labels.append(y)
        source.append(i)
        for c in n:
            built_labels.append(c)
            source.append(len(labels) + k)
            k += 1
    with torch.no_grad():
        if neg_classes:
            picks = [c * SHOTS + random.randrange(SHOTS) for c in neg_classes]
            neg_feat = image_features(pool[torch.tensor(picks, device=dev)])
            feat = torch.cat([anchor_feat, neg_feat], 0)
        else:
            feat = anchor_feat
    img = feat[torch.tensor(source, device=dev)]
    # Text features of the batch's classes only (other rows never reach the loss), with the decoded P'.
    classes = sorted(set(built_labels))
    row_of = {c: r for r, c in enumerate(classes)}
    parallel = (M - (1 - omega_b) * P) / omega_b
    txt = text_features(parallel, torch.tensor(classes, device=dev))
    txt = txt[torch.tensor([row_of[y] for y in built_labels], device=dev)]
    logits = scale * img @ txt.t()
    target = torch.arange(len(built_labels), device=dev)
    loss = 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.t(), target))
    opt.zero_grad()
    loss.backward()
    opt.step()
    return len(built_labels)


def anchor_batch():
    """B anchors drawn from the pool as a shuffled loader would (labels may repeat)."""
    picks = random.sample(range(n_base * SHOTS), a.batch)
    return pool[torch.tensor(picks, device=dev)], [i // SHOTS for i in picks]


def sync():
    if cuda:
        torch.cuda.synchronize()


for _ in range(a.warmup):
    step(*anchor_batch())
sync()
if cuda:
    torch.cuda.reset_peak_memory_stats()
times, built = [], []
for _ in range(steps):
    anchors, labels = anchor_batch()  # the loader's batch, on the device before the clock starts
    sync()
    t0 = time.perf_counter()
    built.append(step(anchors, labels))
    sync()
    times.append((time.perf_counter() - t0) * 1000)
ms = statistics.median(times)
mean_built = sum(built) / len(built)
print(json.dumps({"name": "dpc_step_torch" + ("_truncated" if a.truncate_text else ""), "device": dev, "size": size, "batch": a.batch, "top_k": a.top_k,
                  "classes": n_base, "steps": steps, "n_ctx": a.n_ctx, "built_batch": mean_built,
                  "ms_per_step": round(ms, 3), "mean_ms": round(statistics.mean(times), 3),
                  "images_per_s": round(1000 * mean_built / ms, 1), "anchors_per_s": round(1000 * a.batch / ms, 1),
                  "peak_bytes": torch.cuda.max_memory_allocated() if cuda else None,
                  "threads": torch.get_num_threads(), "torch": torch.__version__}))
