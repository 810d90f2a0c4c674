#!/usr/bin/env python3
"""Golden trajectories of the deep vision-language prompt methods on the tiny CLIP fixture
(tests/golden/clip_tiny, see make_clip_fixture.py), written as the peers' code computes them, on the
Hugging Face modules:

  - IVLP  (muzairkhattak/multimodal-prompt-learning trainers/independentVL.py + clip/model.py
           ResidualAttentionBlock_IVLP): independent text and vision prompts; text layer-0 context from
           the first n tokens of "a photo of a" (the prompt text keeps the remaining words), deep text
           prompts replacing positions 1..n at layers 1..depth-1; vision prompts appended after the
           positional embedding, through ln_pre, the last n tokens replaced at layers 1..depth-1.
  - MaPLe (trainers/maple.py + ResidualAttentionBlock_MaPLe / VisionTransformer_MaPLe): text context
           and deep text prompts; the vision prompts of every layer are linear maps (text width ->
           vision width) of the text prompts of that layer.
  - MetaPrompt (Vill-Lab/2024-TIP-MetaPrompt trainers/meta.py as specified in
           shared/specs/metaprompt.md 1.2-1.6): prompts in all layers of both towers, the asymmetric
           logits z_V (prompted image vs the frozen template classifier W0) and z_T (frozen image vs
           prompted text), loss CE(z) + CE(z_V) + CE(z_T), then the first-order meta step: class halves
           (B2N, text prompts) or leave-one-domain-out splits over the domains present in the batch
           (DG, vision prompts), one inner step per split with the shared SGD optimiser, the held-out
           gradient at the inner point, restore, outer step lr * 0.2 * sum(g).
           "clean" restores with a copy and leaves the frozen modality alone (gradients set to None);
           "legacy" does what the released code does under torch 1.10: `ctx.data = snapshot` (aliasing)
           and zero_grad() that zeroes instead of dropping gradients (momentum and weight decay move the
           frozen prompts in the inner steps).

Three steps on three fixed batches (the last DG batch lacks a domain), SGD with momentum 0.9 and weight
decay 5e-4, fp32. The class orders of the B2N meta splits are fixed here and passed to clipt through a
test hook. Writes tests/golden/deep_prompt_steps.json (scalars, lists) and
tests/golden/deep_prompt_steps.safetensors (images, initial prompts, prompts after every step).
Run with the venv of make_clip_fixture.py (transformers + safetensors)."""
import json
import math
import os

import torch
import torch.nn.functional as F
from safetensors.torch import save_file

# The tiny CLIP (frozen) and its tokenizer, as the CoOp fixture loads them.
from make_coop_fixture import model, tokenize

HERE = os.path.dirname(os.path.abspath(__file__))
W_TEXT = model.config.text_config.hidden_size
W_VISION = model.config.vision_config.hidden_size
LAYERS = model.config.text_config.num_hidden_layers
assert LAYERS == model.config.vision_config.num_hidden_layers

CLASSNAMES = ["red circle", "blue square", "green triangle", "small star", "dog", "cat"]
LR, MOMENTUM, WD, META_STEP = 0.05, 0.9, 5e-4, 0.2
SCALE = model.logit_scale.exp()

torch.manual_seed(11)
IMAGES = torch.randn(8, 3, 32, 32)
BATCHES = [  # (sample indices into IMAGES, labels, domains)
    ([0, 1, 2, 3, 4, 5, 6, 7], [0, 1, 2, 3, 4, 5, 1, 3], [0, 1, 2, 0, 1, 2, 0, 1]),
    ([7, 6, 5, 4, 3, 2, 1, 0], [5, 4, 3, 2, 1, 0, 2, 4], [2, 2, 1, 1, 0, 0, 1, 2]),
    ([1, 3, 5, 7, 0, 2, 4, 6], [0, 2, 4, 1, 3, 5, 5, 0], [0, 2, 2, 0, 2, 0, 0, 2]),  # domain 1 missing
]
CLASS_ORDERS = [[3, 0, 5, 1, 4, 2], [1, 2, 3, 4, 5, 0], [5, 3, 1, 0, 2, 4]]  # B2N meta splits per step


def embed(ids):
    with torch.no_grad():
        return model.text_model.embeddings.token_embedding(ids)


def text_encoder(prompts, tokenized, n_ctx, deep):
    """Prompted text tower: + positional embedding, causal blocks; before block i >= 1 positions
    1..n_ctx are replaced by deep[i - 1] (when given), then ln_final, EOT feature, projection."""
    tm = model.text_model
    n, length = tokenized.shape
    x = prompts + tm.embeddings.position_embedding.weight[:length]
    mask = torch.full((length, length), float("-inf")).triu(1)[None, None].expand(n, 1, length, length)
    for i, layer in enumerate(tm.encoder.layers):
        if i > 0 and i - 1 < len(deep):
            x = torch.cat([x[:, :1], deep[i - 1].unsqueeze(0).expand(n, -1, -1), x[:, 1 + n_ctx:]], dim=1)
        x = layer(x, None, mask)[0]
    x = tm.final_layer_norm(x)
    x = x[torch.arange(n), tokenized.argmax(-1)]
    return model.text_projection(x)


def image_encoder(pixels, shallow, deep):
    """Prompted image tower: patches + class token + positional embedding, then `shallow` appended
    (no positional embedding), ln_pre; before block i >= 1 the last n tokens are replaced by
    deep[i - 1] (when given); ln_post of the class token, projection."""
    vm = model.vision_model
    b = pixels.shape[0]
    x = vm.embeddings(pixels)
    if shallow is not None:
        x = torch.cat([x, shallow.unsqueeze(0).expand(b, -1, -1)], dim=1)
    x = vm.pre_layrnorm(x)
    for i, layer in enumerate(vm.encoder.layers):
        if i > 0 and i - 1 < len(deep):
            n = deep[i - 1].shape[0]
            x = torch.cat([x[:, :-n], deep[i - 1].unsqueeze(0).expand(b, -1, -1)], dim=1)
        x = layer(x, None, None)[0]
    return model.visual_projection(vm.post_layernorm(x[:, 0]))


def normalize(x):
    return x / x.norm(dim=-1, keepdim=True)


def class_prompts(prefix, n_ctx, classnames=CLASSNAMES):
    tokenized = tokenize([prefix + " " + c + "." for c in classnames])
    e = embed(tokenized)
    return tokenized, e[:, :1], e[:, 1 + n_ctx:]


def assemble(ctx, prefix, suffix):
    return torch.cat([prefix, ctx.unsqueeze(0).expand(prefix.shape[0], -1, -1), suffix], dim=1)


def batch(step):
    idx, labels, domains = BATCHES[step]
    return IMAGES[idx], torch.tensor(labels), torch.tensor(domains)


def sgd(params):
    return torch.optim.SGD(params, lr=LR, momentum=MOMENTUM, weight_decay=WD)


def flat(t):
    return t.detach().clone().contiguous()


tensors = {"images": IMAGES.contiguous()}
out = {
    "classnames": CLASSNAMES, "lr": LR, "momentum": MOMENTUM, "weight_decay": WD, "meta_step": META_STEP,
    "batches": [{"indices": i, "labels": l, "domains": d} for i, l, d in BATCHES], "class_orders": CLASS_ORDERS,
}

# ---------------------------------------------------------------- IVLP
IVLP = dict(n_text=2, n_vision=3, depth_text=2, depth_vision=1, ctx_init="a photo of a")
torch.manual_seed(21)
ivlp_ctx = embed(tokenize([IVLP["ctx_init"]]))[0, 1:1 + IVLP["n_text"]].clone()
ivlp_text_deep = torch.randn(IVLP["depth_text"] - 1, IVLP["n_text"], W_TEXT) * 0.02
ivlp_vision = torch.randn(IVLP["n_vision"], W_VISION) * 0.02
params = {"ctx": ivlp_ctx, "text_deep_prompts": ivlp_text_deep, "vision_ctx": ivlp_vision}
for k, v in params.items():
    tensors[f"ivlp.init.{k}"] = flat(v)
params = {k: torch.nn.Parameter(v.clone()) for k, v in params.items()}
tokenized, prefix, suffix = class_prompts(IVLP["ctx_init"], IVLP["n_text"])
opt = sgd(list(params.values()))
losses = []
for step in range(3):
    images, labels, _ = batch(step)
    text = normalize(text_encoder(assemble(params["ctx"], prefix, suffix), tokenized, IVLP["n_text"],
                                  list(params["text_deep_prompts"])))
    img = normalize(image_encoder(images, params["vision_ctx"], []))  # vision depth 1: no deep prompts
    loss = F.cross_entropy(SCALE * img @ text.t(), labels)
    opt.zero_grad()
    loss.backward()
    opt.step()
    losses.append(float(loss))
    for k, v in params.items():
        tensors[f"ivlp.step{step}.{k}"] = flat(v)
out["ivlp"] = dict(IVLP, losses=losses)

# ---------------------------------------------------------------- MaPLe
MAPLE = dict(n_ctx=2, depth=2, ctx_init="a photo of a")
torch.manual_seed(22)
proj = torch.nn.Linear(W_TEXT, W_VISION)  # PyTorch's default init, as MaPLe's nn.Linear
single = torch.nn.Linear(W_TEXT, W_VISION)  # _get_clones: every coupling starts as a copy of one layer
params = {
    "ctx": embed(tokenize([MAPLE["ctx_init"]]))[0, 1:1 + MAPLE["n_ctx"]].clone(),
    "proj.weight": proj.weight.detach().clone(), "proj.bias": proj.bias.detach().clone(),
    "compound_prompts_text": torch.randn(MAPLE["depth"] - 1, MAPLE["n_ctx"], W_TEXT) * 0.02,
    "compound_prompt_projections.weight": single.weight.detach().clone().unsqueeze(0).repeat(MAPLE["depth"] - 1, 1, 1),
    "compound_prompt_projections.bias": single.bias.detach().clone().unsqueeze(0).repeat(MAPLE["depth"] - 1, 1),
}
for k, v in params.items():
    tensors[f"maple.init.{k}"] = flat(v)
params = {k: torch.nn.Parameter(v.clone()) for k, v in params.items()}
tokenized, prefix, suffix = class_prompts(MAPLE["ctx_init"], MAPLE["n_ctx"])
opt = sgd(list(params.values()))
losses = []
for step in range(3):
    images, labels, _ = batch(step)
    deep_text = list(params["compound_prompts_text"])
    deep_vision = [F.linear(deep_text[i], params["compound_prompt_projections.weight"][i],
                            params["compound_prompt_projections.bias"][i]) for i in range(len(deep_text))]
    shared_ctx = F.linear(params["ctx"], params["proj.weight"], params["proj.bias"])
    text = normalize(text_encoder(assemble(params["ctx"], prefix, suffix), tokenized, MAPLE["n_ctx"], deep_text))
    img = normalize(image_encoder(images, shared_ctx, deep_vision))
    loss = F.cross_entropy(SCALE * img @ text.t(), labels)
    opt.zero_grad()
    loss.backward()
    opt.step()
    losses.append(float(loss))
    for k, v in params.items():
        tensors[f"maple.step{step}.{k}"] = flat(v)
out["maple"] = dict(MAPLE, losses=losses)


# ---------------------------------------------------------------- MetaPrompt
def metaprompt(name, n_ctx, n_pro, dg, legacy, seed):
    torch.manual_seed(seed)
    pt = torch.nn.Parameter(torch.randn(LAYERS, n_ctx, W_TEXT) * 0.02)
    pv = torch.nn.Parameter(torch.randn(LAYERS, n_pro, W_VISION) * 0.02)
    tensors[f"{name}.init.text_prompts"] = flat(pt)
    tensors[f"{name}.init.vision_prompts"] = flat(pv)
    tokenized, prefix, suffix = class_prompts(" ".join(["X"] * n_ctx), n_ctx)
    with torch.no_grad():  # W0: the frozen template classifier ("a photo of a {}", no period)
        w0 = normalize(model.get_text_features(input_ids=tokenize([f"a photo of a {c}" for c in CLASSNAMES])))
    opt = sgd([pt, pv])

    def text_features(rows):
        return normalize(text_encoder(assemble(pt[0], prefix[rows], suffix[rows]), tokenized[rows], n_ctx,
                                      list(pt[1:])))

    def image_features(images):
        return normalize(image_encoder(images, pv[0], list(pv[1:])))

    def zero_grad():
        # torch 1.10 (the released code's): zero_grad() zeroes; clean: gradients dropped.
        opt.zero_grad(set_to_none=not legacy)

    def restore(param, snapshot):
        if legacy:
            param.data = snapshot  # the released code: the parameter now shares the snapshot's storage
        else:
            param.data.copy_(snapshot)

    losses, meta_losses, splits_run = [], [], []
    all_rows = list(range(len(CLASSNAMES)))
    for step in range(3):
        images, labels, domains = batch(step)
        with torch.no_grad():
            f0 = normalize(model.get_image_features(pixel_values=images))
        z_v = SCALE * image_features(images) @ w0.t()
        z_t = SCALE * f0 @ text_features(all_rows).t()
        z = (z_v + z_t) / 2
        loss = F.cross_entropy(z, labels) + F.cross_entropy(z_v, labels) + F.cross_entropy(z_t, labels)
        zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss))

        grads, step_meta = [], []
        if not dg:  # cross-class: text prompts, class halves
            order = CLASS_ORDERS[step]
            half = math.ceil(len(order) / 2)
            groups = [order[:half], order[half:]]
            pv.requires_grad_(False)
            snapshot = pt.data.clone()
            for i in range(2):
                query, support = groups[i], groups[1 - i]
                s_idx = [k for k in range(len(labels)) if int(labels[k]) in support]
                q_idx = [k for k in range(len(labels)) if int(labels[k]) in query]
                if len(query) < 2 or not s_idx or not q_idx:
                    continue
                s_local = torch.tensor([support.index(int(labels[k])) for k in s_idx])
                q_local = torch.tensor([query.index(int(labels[k])) for k in q_idx])
                zero_grad()
                inner = F.cross_entropy(SCALE * f0[s_idx] @ text_features(support).t(), s_local)
                inner.backward()
                opt.step()
                held_out = F.cross_entropy(SCALE * f0[q_idx] @ text_features(query).t(), q_local)
                grads.append(torch.autograd.grad(held_out, pt)[0])
                step_meta.append([float(inner), float(held_out)])
                restore(pt, snapshot)
            with torch.no_grad():
                for g in grads:
                    pt.data -= opt.param_groups[0]["lr"] * META_STEP * g
            pv.requires_grad_(True)
        else:  # cross-domain: vision prompts, leave one present domain out
            pt.requires_grad_(False)
            snapshot = pv.data.clone()
            for d in sorted(set(domains.tolist())):
                q_idx = [k for k in range(len(labels)) if int(domains[k]) == d]
                s_idx = [k for k in range(len(labels)) if int(domains[k]) != d]
                if not s_idx:
                    continue
                zero_grad()
                inner = F.cross_entropy(SCALE * image_features(images[s_idx]) @ w0.t(), labels[s_idx])
                inner.backward()
                opt.step()
                held_out = F.cross_entropy(SCALE * image_features(images[q_idx]) @ w0.t(), labels[q_idx])
                grads.append(torch.autograd.grad(held_out, pv)[0])
                step_meta.append([float(inner), float(held_out)])
                restore(pv, snapshot)
            with torch.no_grad():
                for g in grads:
                    pv.data -= opt.param_groups[0]["lr"] * META_STEP * g
            pt.requires_grad_(True)
        meta_losses.append(step_meta)
        splits_run.append(len(grads))
        tensors[f"{name}.step{step}.text_prompts"] = flat(pt)
        tensors[f"{name}.step{step}.vision_prompts"] = flat(pv)
    out[name] = dict(n_ctx=n_ctx, n_pro=n_pro, layers=LAYERS, dg=dg, legacy=legacy, losses=losses,
                     meta_losses=meta_losses, splits_run=splits_run, template="a photo of a {}")


metaprompt("metaprompt", 2, 2, dg=False, legacy=False, seed=23)
metaprompt("metaprompt_legacy", 2, 2, dg=False, legacy=True, seed=23)
metaprompt("metaprompt_dg", 4, 4, dg=True, legacy=False, seed=24)
metaprompt("metaprompt_dg_legacy", 4, 4, dg=True, legacy=True, seed=24)

save_file(tensors, os.path.join(HERE, "deep_prompt_steps.safetensors"), metadata={"format": "pt"})
with open(os.path.join(HERE, "deep_prompt_steps.json"), "w") as f:
    json.dump(out, f, indent=1)
for k in ("ivlp", "maple", "metaprompt", "metaprompt_legacy", "metaprompt_dg", "metaprompt_dg_legacy"):
    print(k, out[k]["losses"], out[k].get("splits_run", ""))
