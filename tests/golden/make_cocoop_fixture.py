#!/usr/bin/env python3
"""Golden trajectory of CoCoOp's training step on the tiny CLIP fixture, written as the peers' code
computes it (KaiyangZhou/CoOp trainers/cocoop.py): the image features are L2-normalised, the meta-net
Linear(vis_dim, vis_dim // 16) → ReLU → Linear(vis_dim // 16, ctx_dim) maps them to a bias that shifts
the shared context per image (ctx + π(f_i)), every image gets its own text features of all classes
through CoOp's TextEncoder, logits_i = logit_scale · f_i @ text_iᵀ, cross entropy; 5 SGD steps
(momentum 0.9, weight decay 5e-4 on all of prompt_learner's parameters, as dassl's build_optimizer does),
fp32. The batch and context initialisation are coop_steps.json's (so this fixture stays small); the
meta-net starts from torch's default Linear initialisation under a fixed seed, chosen so that the single
hidden unit (24 // 16 = 1 on the tiny CLIP) is active for some images and inactive for others (both sides
of the ReLU carry gradient, and three images cross zero during the 5 steps; printed). Dumps the loss of
every step and every parameter after it to tests/golden/cocoop_steps.json. Run with the venv of
make_clip_fixture.py (transformers 4.36.2, torch):

    cd tests/golden && /tmp/hfvenv/bin/python make_cocoop_fixture.py"""
import json
import os
from collections import OrderedDict

import torch
import torch.nn as nn
import torch.nn.functional as F

import make_coop_fixture as coop

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "coop_steps.json")) as f:
    base = json.load(f)

CLASSNAMES = base["classnames"]
N_CTX = base["n_ctx"]
LR, MOMENTUM, WD, STEPS = 0.05, 0.9, 5e-4, 5
META_SEED = 20

ctx_init = torch.tensor(base["ctx_init"]).reshape(N_CTX, -1)
images = torch.tensor(base["images"]["data"]).reshape(base["images"]["shape"])
labels = torch.tensor(base["labels"])
assert coop.CLASSNAMES == CLASSNAMES and torch.equal(images, coop.images) and torch.equal(ctx_init, coop.ctx_init)

model = coop.model
vis_dim = model.config.projection_dim
ctx_dim = model.config.text_config.hidden_size


class PromptLearner(nn.Module):
    """trainers/cocoop.py PromptLearner with random context (CTX_INIT empty, here the fixed ctx_init)."""

    def __init__(self):
        super().__init__()
        self.ctx = nn.Parameter(ctx_init.clone())
        torch.manual_seed(META_SEED)
        self.meta_net = nn.Sequential(OrderedDict([
            ("linear1", nn.Linear(vis_dim, vis_dim // 16)),
            ("relu", nn.ReLU(inplace=True)),
            ("linear2", nn.Linear(vis_dim // 16, ctx_dim)),
        ]))
        self.n_cls = len(CLASSNAMES)

    def forward(self, im_features):
        bias = self.meta_net(im_features).unsqueeze(1)  # (batch, 1, ctx_dim)
        ctx_shifted = self.ctx.unsqueeze(0) + bias      # (batch, n_ctx, ctx_dim)
        prompts = []
        for ctx_shifted_i in ctx_shifted:
            ctx_i = ctx_shifted_i.unsqueeze(0).expand(self.n_cls, -1, -1)
            prompts.append(torch.cat([coop.token_prefix, ctx_i, coop.token_suffix], dim=1))
        return torch.stack(prompts)


def custom_clip_loss(learner):
    """trainers/cocoop.py CustomCLIP.forward in training mode."""
    with torch.no_grad():
        image_features = model.get_image_features(pixel_values=images)
    image_features = image_features / image_features.norm(dim=-1, keepdim=True)
    prompts = learner(image_features)
    logits = []
    for pts_i, imf_i in zip(prompts, image_features):
        text_features = coop.text_encoder(pts_i, coop.tokenized)
        text_features = text_features / text_features.norm(dim=-1, keepdim=True)
        logits.append(coop.scale * imf_i @ text_features.t())
    return F.cross_entropy(torch.stack(logits), labels), image_features


def run():
    learner = PromptLearner()
    init = OrderedDict((n, [float(v) for v in p.detach().reshape(-1)]) for n, p in learner.named_parameters())
    opt = torch.optim.SGD(learner.parameters(), lr=LR, momentum=MOMENTUM, weight_decay=WD)
    losses, params = [], []
    for step in range(STEPS):
        loss, image_features = custom_clip_loss(learner)
        with torch.no_grad():
            hidden = learner.meta_net.linear1(image_features).reshape(-1)
        print(f"step {step}: hidden pre-activations", [round(float(h), 4) for h in hidden])
        assert (hidden > 1e-3).any() and (hidden < -1e-3).any() and (hidden.abs() > 1e-3).all()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss))
        params.append({n: [float(v) for v in p.detach().reshape(-1)] for n, p in learner.named_parameters()})
    return init, losses, params


if __name__ == "__main__":
    init, losses, params = run()
    out = {
        "lr": LR, "momentum": MOMENTUM, "weight_decay": WD, "meta_seed": META_SEED,
        "vis_dim": vis_dim, "ctx_dim": ctx_dim,
        "init": init,  # torch parameter names of prompt_learner: ctx, meta_net.linear{1,2}.{weight,bias}
        "losses": losses, "params": params,
    }
    with open(os.path.join(HERE, "cocoop_steps.json"), "w") as f:
        json.dump(out, f)
    print("losses CoCoOp", losses)
