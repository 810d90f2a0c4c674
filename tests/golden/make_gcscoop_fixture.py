#!/usr/bin/env python3
"""Golden trajectories of the gradient-shaping steps (specs/gcscoop_and_baselines.md) on the tiny CLIP
fixture, re-implemented in PyTorch on CoOp's PromptLearner + TextEncoder of make_coop_fixture.py:

  - GCSCoOp (§2.2, llcllc1997/GCSCoOp dassl/optim/gcsam.py): g_v at w, w + ρ·g_v/(‖g_v‖ + 1e-12), g_s
    there, c = cos(g_s, g_v), u = (g_s + g_v)/‖g_s + g_v‖; g = g_s (c ≥ β2), ⟨g_s, u⟩·u (β1 < c < β2),
    g_v (c ≤ β1); w restored, then torch SGD (momentum, weight decay) with g;
  - SCoOp: plain SAM (always g_s);
  - ProGrad (§3.2, BeierZhu/Prompt-align): CE and T²·Σ p0·(−log softmax(z/T)) to zero-shot CLIP
    ("a photo of a {}."), g = g_ce − λ⟨g_ce, ĝ_kl⟩ĝ_kl when ⟨g_ce, g_kl⟩ < 0.

The batch (images, context initialisation) is coop_steps.json's, so this fixture stays small; the
labels, ρ and β are chosen so that GCSAM's 5 steps visit all three regions (printed, and recorded per
step so the C++ test asserts it chose the same). Writes tests/golden/gcscoop_steps.json. Run with the
venv of make_clip_fixture.py (transformers 4.36.2, torch)."""
import json
import os

import torch
import torch.nn.functional as F

import make_coop_fixture as coop

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "coop_steps.json")) as f:
    base = json.load(f)

CLASSNAMES = base["classnames"]
N_CTX = base["n_ctx"]
LR, MOMENTUM, WD, STEPS = 0.1, 0.9, 5e-4, 5
RHO, BETA1, BETA2 = 0.13, 0.5, 0.8  # regions: plain, plain, projected, sam, projected
SAM_RHO = 0.13
PROGRAD_T, PROGRAD_LAMBDA = 1.0, 1.0
LABELS = [0, 1, 2, 3, 4, 1]
# Zero-shot CLIP predicts class 4 for every image: these labels make CE and KL agree, conflict, agree.
PROGRAD_LABELS = [4, 4, 2, 3, 4, 1]
EPS = 1e-12

ctx_init = torch.tensor(base["ctx_init"]).reshape(N_CTX, -1)
images = torch.tensor(base["images"]["data"]).reshape(base["images"]["shape"])
labels = torch.tensor(LABELS)
prograd_labels = torch.tensor(PROGRAD_LABELS)
assert ctx_init.shape[1] == 32 and images.shape[0] == len(LABELS)

model, tokenize, text_encoder = coop.model, coop.tokenize, coop.text_encoder
tokenized, token_prefix, token_suffix = coop.tokenized, coop.token_prefix, coop.token_suffix
with torch.no_grad():
    image_features = model.get_image_features(pixel_values=images)
    image_features = image_features / image_features.norm(dim=-1, keepdim=True)
    frozen = model.get_text_features(input_ids=tokenize([f"a photo of a {c}." for c in CLASSNAMES]))
    frozen = frozen / frozen.norm(dim=-1, keepdim=True)
scale = model.logit_scale.exp()


def logits_of(ctx):
    prompts = torch.cat([token_prefix, ctx.unsqueeze(0).expand(len(CLASSNAMES), -1, -1), token_suffix], dim=1)
    text = text_encoder(prompts, tokenized)
    text = text / text.norm(dim=-1, keepdim=True)
    return scale * image_features @ text.t()


def ce_loss(ctx):
    return F.cross_entropy(logits_of(ctx), labels)


def region_of(c, b1, b2):
    if b1 > 0:
        return "sam" if c >= b2 else ("projected" if c > b1 else "plain")
    return "projected" if c < b2 else "sam"


def run_sam_family(rho, b1, b2, constrained):
    ctx = torch.nn.Parameter(ctx_init.clone())
    opt = torch.optim.SGD([ctx], lr=LR, momentum=MOMENTUM, weight_decay=WD)
    losses, perturbed, contexts, cosines, regions = [], [], [], [], []
    for _ in range(STEPS):
        loss1 = ce_loss(ctx)
        (g_v,) = torch.autograd.grad(loss1, ctx)
        with torch.no_grad():
            saved = ctx.detach().clone()
            ctx.add_(rho * g_v / (g_v.norm() + EPS))
        loss2 = ce_loss(ctx)
        (g_s,) = torch.autograd.grad(loss2, ctx)
        with torch.no_grad():
            ctx.copy_(saved)
            c = float(torch.dot(g_s.flatten(), g_v.flatten()) / (g_s.norm() * g_v.norm() + EPS))
            region = region_of(c, b1, b2) if constrained else "sam"
            if region == "sam":
                g = g_s
            elif region == "plain":
                g = g_v
            else:
                z = g_s + g_v
                u = z / (z.norm() + EPS)
                g = torch.dot(g_s.flatten(), u.flatten()) * u
            if constrained:  # the C++ side must pick the same region: keep clear of the thresholds
                assert min(abs(c - b1), abs(c - b2)) > 1e-3, f"cosine {c} too close to a threshold"
        ctx.grad = g.clone()
        opt.step()
        losses.append(float(loss1))
        perturbed.append(float(loss2))
        cosines.append(c)
        regions.append(region)
        contexts.append([float(v) for v in ctx.detach().reshape(-1)])
    return {"losses": losses, "perturbed_losses": perturbed, "cosines": cosines, "regions": regions,
            "contexts": contexts}


def run_prograd(T, lam):
    ctx = torch.nn.Parameter(ctx_init.clone())
    opt = torch.optim.SGD([ctx], lr=LR, momentum=MOMENTUM, weight_decay=WD)
    zs_logits = scale * image_features @ frozen.t()
    losses, kls, contexts, cosines, projected = [], [], [], [], []
    for _ in range(STEPS):
        logits = logits_of(ctx)
        ce = F.cross_entropy(logits, prograd_labels)
        teacher = F.softmax(zs_logits / T, dim=-1)
        kl = (-teacher * F.log_softmax(logits / T, -1) * T * T).sum(1).mean()
        (g_kl,) = torch.autograd.grad(kl, ctx, retain_graph=True)
        (g_ce,) = torch.autograd.grad(ce, ctx)
        with torch.no_grad():
            dot = float(torch.dot(g_ce.flatten(), g_kl.flatten()))
            c = dot / float(g_ce.norm() * g_kl.norm() + EPS)
            g = g_ce
            if dot < 0:
                b_hat = g_kl / (g_kl.norm() + EPS)
                g = g_ce - lam * torch.dot(g_ce.flatten(), b_hat.flatten()) * b_hat
            assert abs(c) > 1e-3, f"cosine {c} too close to 0"
        ctx.grad = g.clone()
        opt.step()
        losses.append(float(ce))
        kls.append(float(kl))
        cosines.append(c)
        projected.append(dot < 0)
        contexts.append([float(v) for v in ctx.detach().reshape(-1)])
    return {"losses": losses, "kl_losses": kls, "cosines": cosines, "projected": projected, "contexts": contexts}


if __name__ == "__main__":
    gcscoop = run_sam_family(RHO, BETA1, BETA2, True)
    scoop = run_sam_family(SAM_RHO, -1.0, -1.0, False)
    prograd = run_prograd(PROGRAD_T, PROGRAD_LAMBDA)
    print("GCSCoOp cosines", ["%.4f" % c for c in gcscoop["cosines"]], "regions", gcscoop["regions"])
    print("SCoOp losses", scoop["losses"])
    print("ProGrad cosines", ["%.4f" % c for c in prograd["cosines"]], "projected", prograd["projected"])
    assert set(gcscoop["regions"]) == {"sam", "projected", "plain"}, "pick RHO so every region is visited"
    assert any(prograd["projected"]) and not all(prograd["projected"]), "ProGrad should both project and not"
    out = {
        "source": "coop_steps.json (classnames, n_ctx, ctx_init, images)",
        "labels": LABELS, "lr": LR, "momentum": MOMENTUM, "weight_decay": WD, "template": "a photo of a {}.",
        "gcscoop": dict(rho=RHO, low_bound=BETA1, up_bound=BETA2, **gcscoop),
        "scoop": dict(rho=SAM_RHO, **scoop),
        "prograd": dict(T=PROGRAD_T, lam=PROGRAD_LAMBDA, labels=PROGRAD_LABELS, **prograd),
    }
    with open(os.path.join(HERE, "gcscoop_steps.json"), "w") as f:
        json.dump(out, f)
