#!/usr/bin/env python3
"""Checks a directory written by models/clip/convert_clip.py against the checkpoint it came from.

    check_converted_clip.py ARCH_JSON CHECKPOINT OUT_DIR DTYPE [CHECKPOINT OUT_DIR DTYPE ...]

DTYPE is fp16, bf16 or fp32: what OUT_DIR must hold. Several conversions can be checked in one run.

Independent of the converter's code: its own safetensors reader (header layout, offsets, dtypes) and its
own statement of transformers' CLIP names, with q/k/v taken by torch.chunk of OpenAI's fused in_proj and
the projections transposed. Every tensor must equal the source tensor cast to DTYPE, bit for bit.
Prints "OK ..." and exits 0, or fails with an AssertionError naming the tensor.
"""
import json
import struct
import sys
from pathlib import Path

import torch

DTYPES = {"F16": torch.float16, "BF16": torch.bfloat16, "F32": torch.float32}
WANT = {"fp16": torch.float16, "bf16": torch.bfloat16, "fp32": torch.float32}


def read_safetensors(path):
    raw = Path(path).read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    assert n % 8 == 0, f"header length {n} is not a multiple of 8"
    assert 8 + n <= len(raw), "header runs past the end of the file"
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    data = raw[8 + n:]
    meta = header.pop("__metadata__", {})
    spans = sorted((v["data_offsets"][0], v["data_offsets"][1], k) for k, v in header.items())
    position = 0
    for begin, end, name in spans:
        assert begin == position, f"{name}: data starts at {begin}, expected {position} (gap or overlap)"
        position = end
    assert position == len(data), f"data section has {len(data)} bytes, tensors cover {position}"
    tensors = {}
    for name, info in header.items():
        dtype = DTYPES[info["dtype"]]
        begin, end = info["data_offsets"]
        count = 1
        for s in info["shape"]:
            count *= s
        assert end - begin == count * torch.tensor([], dtype=dtype).element_size(), f"{name}: size mismatch"
        assert begin % torch.tensor([], dtype=dtype).element_size() == 0, f"{name}: misaligned"
        buf = bytearray(data[begin:end])
        flat = torch.frombuffer(buf, dtype=dtype) if count else torch.empty(0, dtype=dtype)
        tensors[name] = flat.reshape(info["shape"])
    return tensors, meta


def load_source(path):
    try:
        sd = torch.jit.load(str(path), map_location="cpu").state_dict()
    except Exception:
        sd = torch.load(str(path), map_location="cpu")
    if "state_dict" in sd:
        sd = sd["state_dict"]
    return {k.removeprefix("module."): v for k, v in sd.items()}


def expected_tensors(sd, arch):
    exp = {
        "logit_scale": sd["logit_scale"],
        "text_projection.weight": sd["text_projection"].T,
        "visual_projection.weight": sd["visual.proj"].T,
        "text_model.embeddings.token_embedding.weight": sd["token_embedding.weight"],
        "text_model.embeddings.position_embedding.weight": sd["positional_embedding"],
        "text_model.final_layer_norm.weight": sd["ln_final.weight"],
        "text_model.final_layer_norm.bias": sd["ln_final.bias"],
        "vision_model.embeddings.class_embedding": sd["visual.class_embedding"],
        "vision_model.embeddings.patch_embedding.weight": sd["visual.conv1.weight"],
        "vision_model.embeddings.position_embedding.weight": sd["visual.positional_embedding"],
        "vision_model.pre_layrnorm.weight": sd["visual.ln_pre.weight"],
        "vision_model.pre_layrnorm.bias": sd["visual.ln_pre.bias"],
        "vision_model.post_layernorm.weight": sd["visual.ln_post.weight"],
        "vision_model.post_layernorm.bias": sd["visual.ln_post.bias"],
    }
    towers = [("text_model", "transformer", arch["text_layers"]),
              ("vision_model", "visual.transformer", arch["vision_layers"])]
    for hf, oa, layers in towers:
        for i in range(layers):
            d, s = f"{hf}.encoder.layers.{i}", f"{oa}.resblocks.{i}"
            q, k, v = sd[f"{s}.attn.in_proj_weight"].chunk(3, dim=0)
            qb, kb, vb = sd[f"{s}.attn.in_proj_bias"].chunk(3, dim=0)
            exp.update({
                f"{d}.self_attn.q_proj.weight": q, f"{d}.self_attn.q_proj.bias": qb,
                f"{d}.self_attn.k_proj.weight": k, f"{d}.self_attn.k_proj.bias": kb,
                f"{d}.self_attn.v_proj.weight": v, f"{d}.self_attn.v_proj.bias": vb,
                f"{d}.self_attn.out_proj.weight": sd[f"{s}.attn.out_proj.weight"],
                f"{d}.self_attn.out_proj.bias": sd[f"{s}.attn.out_proj.bias"],
                f"{d}.layer_norm1.weight": sd[f"{s}.ln_1.weight"], f"{d}.layer_norm1.bias": sd[f"{s}.ln_1.bias"],
                f"{d}.layer_norm2.weight": sd[f"{s}.ln_2.weight"], f"{d}.layer_norm2.bias": sd[f"{s}.ln_2.bias"],
                f"{d}.mlp.fc1.weight": sd[f"{s}.mlp.c_fc.weight"], f"{d}.mlp.fc1.bias": sd[f"{s}.mlp.c_fc.bias"],
                f"{d}.mlp.fc2.weight": sd[f"{s}.mlp.c_proj.weight"], f"{d}.mlp.fc2.bias": sd[f"{s}.mlp.c_proj.bias"],
            })
    return exp


def check_config(cfg, arch, dtype_name):
    t, v = cfg["text_config"], cfg["vision_config"]
    expect = {
        ("projection_dim",): arch["embed_dim"],
        ("torch_dtype",): {"fp16": "float16", "bf16": "bfloat16", "fp32": "float32"}[dtype_name],
        ("text_config", "hidden_size"): arch["text_width"],
        ("text_config", "num_hidden_layers"): arch["text_layers"],
        ("text_config", "num_attention_heads"): arch["text_heads"],
        ("text_config", "intermediate_size"): arch["text_width"] * arch["mlp_ratio"],
        ("text_config", "max_position_embeddings"): arch["context_length"],
        ("text_config", "vocab_size"): arch["vocab_size"],
        ("text_config", "hidden_act"): "quick_gelu",
        ("text_config", "layer_norm_eps"): 1e-5,
        ("vision_config", "hidden_size"): arch["vision_width"],
        ("vision_config", "num_hidden_layers"): arch["vision_layers"],
        ("vision_config", "num_attention_heads"): arch["vision_heads"],
        ("vision_config", "intermediate_size"): arch["vision_width"] * arch["mlp_ratio"],
        ("vision_config", "patch_size"): arch["patch_size"],
        ("vision_config", "image_size"): arch["image_size"],
        ("vision_config", "hidden_act"): "quick_gelu",
        ("vision_config", "layer_norm_eps"): 1e-5,
    }
    for path, want in expect.items():
        got = cfg
        for p in path:
            got = got[p]
        assert got == want, f"config.json {'.'.join(path)} = {got!r}, expected {want!r}"
    assert t["projection_dim"] == v["projection_dim"] == arch["embed_dim"]


def check(checkpoint, out_dir, arch, dtype_name):
    out_dir = Path(out_dir)
    dtype = WANT[dtype_name]
    tensors, meta = read_safetensors(out_dir / "model.safetensors")
    assert meta.get("format") == "pt", f"metadata {meta}"
    expected = expected_tensors(load_source(checkpoint), arch)
    missing, extra = sorted(set(expected) - set(tensors)), sorted(set(tensors) - set(expected))
    assert not missing and not extra, f"missing {missing}, unexpected {extra}"
    for name, want in expected.items():
        got = tensors[name]
        assert got.dtype == dtype, f"{name}: dtype {got.dtype}, expected {dtype}"
        assert tuple(got.shape) == tuple(want.shape), f"{name}: shape {list(got.shape)} vs {list(want.shape)}"
        assert torch.equal(got, want.to(dtype)), f"{name}: values differ from the source"
    cfg = json.loads((out_dir / "config.json").read_text())
    check_config(cfg, arch, dtype_name)
    vocab = json.loads((out_dir / "vocab.json").read_text(encoding="utf-8"))
    assert len(vocab) == 49408 and vocab["<|startoftext|>"] == 49406 and vocab["<|endoftext|>"] == 49407
    assert vocab["!"] == 0 and vocab["!</w>"] == 256 and vocab["in"] == 512
    merges = (out_dir / "merges.txt").read_text(encoding="utf-8").split("\n")
    assert merges[0] == "#version: 0.2" and merges[1] == "i n" and len(merges) == 48894 + 2 and merges[-1] == ""
    for name in ("tokenizer_config.json", "special_tokens_map.json", "preprocessor_config.json"):
        json.loads((out_dir / name).read_text())
    print(f"OK {out_dir}: {len(tensors)} tensors, {dtype_name}")


def main():
    arch = json.loads(Path(sys.argv[1]).read_text())
    rest = sys.argv[2:]
    assert rest and len(rest) % 3 == 0, "usage: ARCH_JSON (CHECKPOINT OUT_DIR DTYPE)..."
    for i in range(0, len(rest), 3):
        check(rest[i], rest[i + 1], arch, rest[i + 2])


if __name__ == "__main__":
    main()
