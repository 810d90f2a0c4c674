#!/usr/bin/env python3
"""Writes tests/golden/engine_ops.json: inputs, outputs and input gradients of engine ops computed by
PyTorch (f64), plus SGD/AdamW trajectories. Run with Debian's python3-torch:
    /usr/bin/python3 tests/golden/make_engine_fixtures.py
The C++ tests (tests/engine/torch_parity_test.cpp) recompute every case and compare."""
import json
import math
import os

import torch
import torch.nn.functional as F

torch.manual_seed(0)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "engine_ops.json")


def t(x):
    return {"shape": list(x.shape), "data": [float(v) for v in x.detach().reshape(-1).tolist()]}


def it(x):
    return {"shape": list(x.shape), "data": [int(v) for v in x.reshape(-1).tolist()]}


def case(name, fn, inputs, ints=None):
    """fn(*inputs, **ints) -> output tensor. Gradients of sum(out * proj) w.r.t. every float input."""
    xs = [x.clone().double().requires_grad_(True) for x in inputs]
    ints = ints or {}
    out = fn(*xs, **{k: v for k, v in ints.items()})
    proj = torch.linspace(-1.0, 1.5, out.numel(), dtype=torch.float64).reshape(out.shape)
    (out * proj).sum().backward()
    return {
        "name": name,
        "inputs": [t(x) for x in xs],
        "ints": {k: it(v) for k, v in ints.items()},
        "output": t(out),
        "projection": "linspace(-1, 1.5)",
        "grads": [t(x.grad) for x in xs],
    }


def r(*shape):
    return torch.randn(*shape, dtype=torch.float64)


cases = [
    case("gelu", F.gelu, [r(3, 7) * 2]),
    case("gelu_tanh", lambda x: F.gelu(x, approximate="tanh"), [r(3, 7) * 2]),
    case("quick_gelu", lambda x: x * torch.sigmoid(1.702 * x), [r(3, 7) * 2]),
    case("softmax_dim0", lambda x: torch.softmax(x, 0), [r(4, 5)]),
    case("log_softmax", lambda x: torch.log_softmax(x, -1), [r(4, 5)]),
    case("layer_norm", lambda x, w, b: F.layer_norm(x, (6,), w, b, 1e-5), [r(2, 3, 6), r(6), r(6)]),
    case("cross_entropy", lambda x, y: F.cross_entropy(x, y), [r(5, 7)], {"y": torch.tensor([0, 6, 3, 3, 1])}),
    case("cross_entropy_smooth", lambda x, y: F.cross_entropy(x, y, label_smoothing=0.1), [r(5, 7)],
         {"y": torch.tensor([0, 6, 3, 3, 1])}),
    case("cross_entropy_ignore", lambda x, y: F.cross_entropy(x, y), [r(4, 3)], {"y": torch.tensor([2, -100, 0, 1])}),
    case("cross_entropy_soft", lambda x, p: -(torch.softmax(p, -1) * torch.log_softmax(x, -1)).sum(-1).mean(),
         [r(4, 6), r(4, 6)]),
    case("kl_div_batchmean", lambda x, p: F.kl_div(torch.log_softmax(x, -1), torch.softmax(p, -1),
                                                   reduction="batchmean"), [r(4, 6), r(4, 6)]),
    case("sdpa_causal", lambda q, k, v: torch.softmax(
        (q @ k.transpose(-1, -2) / math.sqrt(4)).masked_fill(torch.ones(5, 5).triu(1).bool(), float("-inf")), -1) @ v,
         [r(2, 3, 5, 4), r(2, 3, 5, 4), r(2, 3, 5, 4)]),
    case("sdpa", lambda q, k, v: torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(4), -1) @ v,
         [r(2, 5, 4), r(2, 6, 4), r(2, 6, 3)]),
    case("conv2d_patch", lambda x, w, b: F.conv2d(x, w, b, stride=4), [r(2, 3, 8, 12), r(5, 3, 4, 4), r(5)]),
    case("linear", lambda x, w, b: F.linear(x, w, b), [r(2, 3, 4), r(5, 4), r(5)]),
    case("matmul_broadcast", lambda a, b: a @ b, [r(2, 1, 3, 4), r(3, 4, 2)]),
    case("normalize", lambda x: F.normalize(x, dim=-1), [r(3, 5)]),
    case("cosine_similarity", lambda a, b: F.cosine_similarity(a, b, dim=-1), [r(3, 5), r(3, 5)]),
    case("var", lambda x: x.var(dim=1, unbiased=True), [r(3, 5)]),
    case("norm", lambda x: x.norm(dim=0), [r(3, 5)]),
    case("embedding", lambda w, ids: F.embedding(ids, w), [r(6, 3)], {"ids": torch.tensor([[1, 5], [1, 0]])}),
    case("topk_values", lambda x: torch.topk(x, 3, dim=-1).values, [r(4, 7)]),
]

# Optimizer trajectories: 5 steps with fixed gradients per step.
def trajectory(opt_name, **kw):
    p = torch.nn.Parameter(torch.linspace(-1, 1, 6, dtype=torch.float32).reshape(2, 3))
    opt = {"sgd": torch.optim.SGD, "adamw": torch.optim.AdamW}[opt_name]([p], **kw)
    grads, params = [], []
    for step in range(5):
        g = torch.sin(torch.arange(6, dtype=torch.float32) * (step + 1)).reshape(2, 3)
        p.grad = g.clone()
        opt.step()
        grads.append(t(g))
        params.append(t(p))
    return {"optimizer": opt_name, "options": kw, "initial": t(torch.linspace(-1, 1, 6).reshape(2, 3)),
            "grads": grads, "params": params}


optimizers = [
    trajectory("sgd", lr=0.1),
    trajectory("sgd", lr=0.1, momentum=0.9, weight_decay=5e-4),
    trajectory("sgd", lr=0.05, momentum=0.9, dampening=0.1, weight_decay=1e-2),
    trajectory("sgd", lr=0.05, momentum=0.8, nesterov=True, weight_decay=1e-3),
    trajectory("adamw", lr=0.01),
    trajectory("adamw", lr=0.003, betas=(0.8, 0.95), eps=1e-6, weight_decay=0.1),
]

with open(OUT, "w") as f:
    json.dump({"torch_version": torch.__version__, "cases": cases, "optimizers": optimizers}, f)
print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes, {len(cases)} op cases, {len(optimizers)} optimizer runs)")
