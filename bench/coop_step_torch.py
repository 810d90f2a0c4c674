#!/usr/bin/env python3
"""The peer's CoOp training step in PyTorch eager (KaiyangZhou/CoOp trainers/coop.py: PromptLearner +
TextEncoder over a frozen CLIP, fp16 model, SGD on the context), on transformers' CLIPModel with random
ViT-B/16 weights, timed on the same machine as bench_coop_step. Prints one JSON line.
    python3 bench/coop_step_torch.py [--classes 500] [--batch 32] [--n-ctx 16] [--steps 20] [--compile]
                                     [--device cuda|cpu]   (cpu: fp32, as bench_coop_step --device cpu)
                                     [--arch b16|s16]      (default: b16 on cuda, s16 on cpu, as bench_coop_step)"""
import argparse
import json
import time

import torch
from transformers import CLIPConfig, CLIPModel

p = argparse.ArgumentParser()
p.add_argument("--classes", type=int, default=500)
p.add_argument("--batch", type=int, default=32)
p.add_argument("--n-ctx", type=int, default=16)
p.add_argument("--steps", type=int, default=20)
p.add_argument("--compile", action="store_true")
p.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
p.add_argument("--arch", choices=["b16", "s16"])
p.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0: torch's default)")
a = p.parse_args()
if a.threads > 0:
    torch.set_num_threads(a.threads)
arch = a.arch or ("b16" if a.device == "cuda" else "s16")
dev = a.device
cuda = dev == "cuda"
dtype = torch.float16 if cuda else torch.float32
if arch == "b16":  # ViT-B/16
    text = dict(hidden_act="quick_gelu")
    vision = dict(hidden_size=768, intermediate_size=3072, num_hidden_layers=12, num_attention_heads=12)
    proj = 512
else:  # bench_coop_step's s16 (its CPU default): text 256 wide, 4 layers, 4 heads; vision 384, 4 layers, 6 heads
    text = dict(hidden_act="quick_gelu", hidden_size=256, intermediate_size=1024, num_hidden_layers=4,
                num_attention_heads=4)
    vision = dict(hidden_size=384, intermediate_size=1536, num_hidden_layers=4, num_attention_heads=6)
    proj = 256
cfg = CLIPConfig(text_config=text,
                 vision_config=dict(vision, patch_size=16, image_size=224, hidden_act="quick_gelu"),
                 projection_dim=proj)
width = cfg.text_config.hidden_size
model = CLIPModel(cfg).to(dev, dtype).eval()
for prm in model.parameters():
    prm.requires_grad_(False)
tm = model.text_model
# Class prompts "X X ... X object number i." tokenised to 77 tokens: length ~ 1 + n_ctx + 4 + 1.
L = 77
ids = torch.zeros(a.classes, L, dtype=torch.long, device=dev)
ids[:, 0] = 49406
ids[:, 1:1 + a.n_ctx + 4] = 343
ids[:, 1 + a.n_ctx + 4] = 49407
emb = tm.embeddings.token_embedding(ids)
prefix, suffix = emb[:, :1], emb[:, 1 + a.n_ctx:]
ctx = torch.nn.Parameter(torch.randn(a.n_ctx, width, device=dev, dtype=dtype) * 0.02)
opt = torch.optim.SGD([ctx], lr=0.002, momentum=0.9, weight_decay=5e-4)
mask = torch.full((L, L), float("-inf"), device=dev).triu(1)[None, None].expand(a.classes, 1, L, L).to(dtype)


def step(images, labels):
    img = model.get_image_features(pixel_values=images)
    x = torch.cat([prefix, ctx.unsqueeze(0).expand(a.classes, -1, -1), suffix], 1) + tm.embeddings.position_embedding.weight
    x = tm.encoder(inputs_embeds=x, causal_attention_mask=mask).last_hidden_state
    x = tm.final_layer_norm(x)[torch.arange(a.classes), ids.argmax(-1)]
    txt = model.text_projection(x)
    img = img / img.norm(dim=-1, keepdim=True)
    txt = txt / txt.norm(dim=-1, keepdim=True)
    logits = model.logit_scale.exp() * img @ txt.t()
    loss = torch.nn.functional.cross_entropy(logits, labels)
    opt.zero_grad()
    loss.backward()
    opt.step()


if a.compile:
    step = torch.compile(step)
images = torch.randn(a.batch, 3, 224, 224, device=dev, dtype=dtype)
labels = torch.randint(0, a.classes, (a.batch,), device=dev)
for _ in range(3):
    step(images, labels)
if cuda:
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
t0 = time.time()
for _ in range(a.steps):
    step(images, labels)
if cuda:
    torch.cuda.synchronize()
ms = (time.time() - t0) * 1000 / a.steps
print(json.dumps({"name": "coop_step_torch" + ("_compile" if a.compile else ""), "ms_per_step": round(ms, 3),
                  "images_per_s": round(1000 * a.batch / ms, 1), "peak_bytes": torch.cuda.max_memory_allocated() if cuda else None,
                  "device": dev, "arch": arch, "classes": a.classes, "batch": a.batch, "steps": a.steps,
                  "threads": torch.get_num_threads(),
                  "torch": torch.__version__}))
