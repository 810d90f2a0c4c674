#!/usr/bin/env python3
"""Writes a small random CLIP checkpoint with OpenAI's key names, in the three forms convert_clip.py reads.

    make_random_openai_checkpoint.py OUT_DIR [--seed N]

OUT_DIR/openai_jit.pt          TorchScript archive (torch.jit.load(...).state_dict() works), fp16 like the
                               archives the `clip` package downloads, with their scalar entries
                               input_resolution / context_length / vocab_size
OUT_DIR/openai_state_dict.pt   plain state dict (torch.save(model.state_dict())), fp32
OUT_DIR/open_clip.pt           open_clip training checkpoint: {"epoch", "name", "state_dict"} with every key
                               prefixed by "module." (DistributedDataParallel), fp32
OUT_DIR/arch.json              the architecture the converter must infer

Architecture: ViT 2 x 128 (2 heads), patch 8, 32 px; text 2 x 64 (1 head), context 77, CLIP's 49,408-token
vocabulary; embed dim 16. Values are random with non-trivial scales (LayerNorm weights around 1, biases
around 0) so that a swapped or mis-transposed tensor cannot go unnoticed.
"""
import argparse
import json
from pathlib import Path

import torch

ARCH = {"vision_width": 128, "vision_layers": 2, "vision_heads": 2, "patch_size": 8, "image_size": 32,
        "text_width": 64, "text_layers": 2, "text_heads": 1, "context_length": 77, "vocab_size": 49408,
        "embed_dim": 16, "mlp_ratio": 4}


def block(prefix, width, gen):
    r = lambda *shape: torch.randn(*shape, generator=gen)
    mlp = width * ARCH["mlp_ratio"]
    return {
        f"{prefix}.attn.in_proj_weight": r(3 * width, width) * width ** -0.5,
        f"{prefix}.attn.in_proj_bias": r(3 * width) * 0.1,
        f"{prefix}.attn.out_proj.weight": r(width, width) * width ** -0.5,
        f"{prefix}.attn.out_proj.bias": r(width) * 0.1,
        f"{prefix}.ln_1.weight": 1 + 0.2 * r(width),
        f"{prefix}.ln_1.bias": 0.1 * r(width),
        f"{prefix}.mlp.c_fc.weight": r(mlp, width) * width ** -0.5,
        f"{prefix}.mlp.c_fc.bias": r(mlp) * 0.1,
        f"{prefix}.mlp.c_proj.weight": r(width, mlp) * mlp ** -0.5,
        f"{prefix}.mlp.c_proj.bias": r(width) * 0.1,
        f"{prefix}.ln_2.weight": 1 + 0.2 * r(width),
        f"{prefix}.ln_2.bias": 0.1 * r(width),
    }


def random_state_dict(seed):
    gen = torch.Generator().manual_seed(seed)
    r = lambda *shape: torch.randn(*shape, generator=gen)
    vw, tw, e, p = ARCH["vision_width"], ARCH["text_width"], ARCH["embed_dim"], ARCH["patch_size"]
    grid = ARCH["image_size"] // p
    sd = {
        "positional_embedding": 0.01 * r(ARCH["context_length"], tw),
        "text_projection": r(tw, e) * tw ** -0.5,
        "logit_scale": torch.tensor(4.6052),
        "token_embedding.weight": 0.02 * r(ARCH["vocab_size"], tw),
        "ln_final.weight": 1 + 0.2 * r(tw),
        "ln_final.bias": 0.1 * r(tw),
        "visual.class_embedding": vw ** -0.5 * r(vw),
        "visual.positional_embedding": vw ** -0.5 * r(grid * grid + 1, vw),
        "visual.proj": vw ** -0.5 * r(vw, e),
        "visual.conv1.weight": r(vw, 3, p, p) * (3 * p * p) ** -0.5,
        "visual.ln_pre.weight": 1 + 0.2 * r(vw),
        "visual.ln_pre.bias": 0.1 * r(vw),
        "visual.ln_post.weight": 1 + 0.2 * r(vw),
        "visual.ln_post.bias": 0.1 * r(vw),
    }
    for i in range(ARCH["text_layers"]):
        sd.update(block(f"transformer.resblocks.{i}", tw, gen))
    for i in range(ARCH["vision_layers"]):
        sd.update(block(f"visual.transformer.resblocks.{i}", vw, gen))
    return sd


class Holder(torch.nn.Module):
    """A module tree whose state_dict() has exactly the given dotted names (scriptable: forward is trivial)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


def module_tree(state, buffers):
    root = Holder()
    for key, value in list(state.items()) + list(buffers.items()):
        *path, leaf = key.split(".")
        node = root
        for part in path:
            if not hasattr(node, part):
                node.add_module(part, Holder())
            node = getattr(node, part)
        if key in buffers:
            node.register_buffer(leaf, value)
        else:
            node.register_parameter(leaf, torch.nn.Parameter(value, requires_grad=False))
    return root


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out_dir")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    sd = random_state_dict(args.seed)

    half = {k: v.half() for k, v in sd.items()}
    scalars = {"input_resolution": torch.tensor(ARCH["image_size"]),
               "context_length": torch.tensor(ARCH["context_length"]),
               "vocab_size": torch.tensor(ARCH["vocab_size"])}
    scripted = torch.jit.script(module_tree(half, scalars))
    scripted.save(str(out / "openai_jit.pt"))
    torch.save(sd, out / "openai_state_dict.pt")
    torch.save({"epoch": 3, "name": "random-vit", "state_dict": {"module." + k: v for k, v in sd.items()}},
               out / "open_clip.pt")
    (out / "arch.json").write_text(json.dumps(ARCH, indent=2) + "\n")

    # The archive must read back exactly as the `clip` package reads it.
    loaded = torch.jit.load(str(out / "openai_jit.pt"), map_location="cpu").state_dict()
    assert set(loaded) == set(half) | set(scalars), sorted(set(loaded) ^ (set(half) | set(scalars)))
    assert all(torch.equal(loaded[k], half[k]) for k in half)
    print(f"wrote {out}: {len(sd)} tensors")


if __name__ == "__main__":
    main()
