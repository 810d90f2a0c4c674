#!/usr/bin/env python3
"""Converts an OpenAI CLIP checkpoint to the Hugging Face CLIP directory layout that clipt loads.

    convert_clip.py CHECKPOINT OUT_DIR [--vocab bpe_simple_vocab_16e6.txt.gz] [--dtype fp16|bf16|fp32]

CHECKPOINT is one of
  * a TorchScript archive as the `clip` package downloads it (ViT-B-32.pt, ViT-B-16.pt, ViT-L-14.pt, ...);
  * a plain state dict with OpenAI's key names (torch.save(model.state_dict()));
  * an open_clip checkpoint: the same key names, possibly under "state_dict" and prefixed with "module.".
The architecture is read off the tensor shapes as OpenAI's clip.model.build_model does (ViT image towers
only). OUT_DIR receives:
  config.json         CLIPConfig (text_config / vision_config, quick_gelu, layer_norm_eps 1e-5, torch_dtype)
  model.safetensors   CLIPModel tensor names; OpenAI's fused in_proj split into q/k/v; projections transposed
  vocab.json, merges.txt, tokenizer_config.json, special_tokens_map.json, preprocessor_config.json
The tensor mapping is the one of transformers' convert_clip_original_pytorch_to_hf.py. Every file is written
to a temporary name and renamed, so a failed conversion never leaves a half-written file behind.

Needs only PyTorch (Debian's python3-torch is enough); the safetensors writer is built in.
"""
import argparse
import gzip
import json
import os
import re
import struct
import sys
from pathlib import Path

VOCAB_NAME = "bpe_simple_vocab_16e6.txt.gz"
OPENAI_MERGES = 49152 - 256 - 2  # merges OpenAI's SimpleTokenizer keeps from the .gz
IGNORED_KEYS = {"input_resolution", "context_length", "vocab_size"}  # scalars of the TorchScript archives
DTYPES = {"fp16": "float16", "bf16": "bfloat16", "fp32": "float32"}  # torch dtype names
SAFETENSORS_DTYPE = {"float16": "F16", "bfloat16": "BF16", "float32": "F32"}
CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]


class ConversionError(Exception):
    pass


# ---------------------------------------------------------------------------------------------- loading

def load_state_dict(path, trust_pickle=False):
    """Tensors of a TorchScript archive or a (possibly wrapped) pickled state dict, OpenAI key names."""
    import torch  # imported late so that argument and vocabulary errors come back at once

    if not path.is_file():
        raise ConversionError(f"checkpoint {path} does not exist")
    try:
        state = torch.jit.load(str(path), map_location="cpu").state_dict()
    except Exception as jit_error:  # not TorchScript: a pickled state dict
        try:
            if trust_pickle:
                state = torch.load(str(path), map_location="cpu")
            else:
                state = torch.load(str(path), map_location="cpu", weights_only=True)
        except Exception as pickle_error:
            jit_msg, pickle_msg = str(jit_error).strip(), str(pickle_error).strip()
            detail = jit_msg if jit_msg == pickle_msg else f"TorchScript: {jit_msg}; pickle: {pickle_msg}"
            hint = (" (if it is a trusted pickle holding other objects, pass --trust-pickle)"
                    if "weights_only" in pickle_msg and not trust_pickle else "")
            raise ConversionError(f"{path} is neither a TorchScript archive nor a readable PyTorch checkpoint "
                                  f"(truncated or not a checkpoint?): {detail}{hint}") from None
    if isinstance(state, torch.nn.Module):
        state = state.state_dict()
    for wrapper in ("state_dict", "model"):
        if isinstance(state, dict) and isinstance(state.get(wrapper), dict):
            state = state[wrapper]
    if not isinstance(state, dict) or not state:
        raise ConversionError(f"{path}: no state dict found (got {type(state).__name__})")
    out = {}
    for key, value in state.items():
        if not isinstance(value, torch.Tensor):
            raise ConversionError(f"{path}: entry {key!r} is a {type(value).__name__}, not a tensor")
        key = key[len("module."):] if key.startswith("module.") else key
        if key not in IGNORED_KEYS:
            out[key] = value
    return out


# --------------------------------------------------------------------------------------- architecture

def count_blocks(state, prefix):
    pattern = re.compile(re.escape(prefix) + r"(\d+)\.")
    indices = {int(m.group(1)) for k in state for m in [pattern.match(k)] if m}
    if indices != set(range(len(indices))):
        raise ConversionError(f"residual blocks {prefix}N are not numbered 0..N-1: {sorted(indices)}")
    return len(indices)


def require(state, key):
    if key not in state:
        raise ConversionError(f"checkpoint lacks tensor {key!r} (is it an OpenAI / open_clip CLIP checkpoint?)")
    return state[key]


def heads_of(width, what):
    if width % 64:
        raise ConversionError(f"{what} width {width} is not a multiple of 64: OpenAI's heads = width / 64 fails")
    return width // 64


def infer_architecture(state):
    """The hyper-parameters OpenAI's build_model reads off the shapes."""
    if "visual.proj" not in state:
        if any(k.startswith("visual.layer1.") for k in state):
            raise ConversionError("ResNet image towers (RN50, RN101, ...) are not supported; use a ViT checkpoint")
        if any(k.startswith("text.") for k in state):
            raise ConversionError("open_clip CustomTextCLIP checkpoints (text.* keys) are not supported")
        require(state, "visual.proj")
    conv = require(state, "visual.conv1.weight")
    vision_width, patch = conv.shape[0], conv.shape[-1]
    positions = require(state, "visual.positional_embedding").shape[0]
    grid = round((positions - 1) ** 0.5)
    if grid * grid + 1 != positions:
        raise ConversionError(f"visual.positional_embedding has {positions} rows, not 1 + a square grid")
    text_width = require(state, "ln_final.weight").shape[0]
    arch = {
        "embed_dim": require(state, "text_projection").shape[1],
        "vision_width": vision_width,
        "vision_layers": count_blocks(state, "visual.transformer.resblocks."),
        "vision_heads": heads_of(vision_width, "vision"),
        "vision_mlp": require(state, "visual.transformer.resblocks.0.mlp.c_fc.weight").shape[0],
        "patch_size": patch,
        "image_size": patch * grid,
        "context_length": require(state, "positional_embedding").shape[0],
        "vocab_size": require(state, "token_embedding.weight").shape[0],
        "text_width": text_width,
        "text_heads": heads_of(text_width, "text"),
        "text_layers": count_blocks(state, "transformer.resblocks."),
        "text_mlp": require(state, "transformer.resblocks.0.mlp.c_fc.weight").shape[0],
    }
    return arch


# --------------------------------------------------------------------------------------------- mapping

class Source:
    """The checkpoint's tensors; remembers which were taken so that leftovers can be reported."""

    def __init__(self, state):
        self.state, self.used = state, set()

    def take(self, key, shape):
        tensor = require(self.state, key)
        if tuple(tensor.shape) != tuple(shape):
            raise ConversionError(f"tensor {key!r}: expected shape {list(shape)}, got {list(tensor.shape)}")
        self.used.add(key)
        return tensor


def map_block(src, prefix, dst, width, mlp):
    """One residual block: OpenAI's (ln_1, attn, ln_2, mlp.c_fc, mlp.c_proj) -> CLIPEncoderLayer."""
    out = {}
    in_w = src.take(f"{prefix}.attn.in_proj_weight", (3 * width, width))
    in_b = src.take(f"{prefix}.attn.in_proj_bias", (3 * width,))
    for i, name in enumerate(("q_proj", "k_proj", "v_proj")):  # fused rows are [q; k; v]
        out[f"{dst}.self_attn.{name}.weight"] = in_w[i * width:(i + 1) * width]
        out[f"{dst}.self_attn.{name}.bias"] = in_b[i * width:(i + 1) * width]
    linears = [("attn.out_proj", "self_attn.out_proj", width, width), ("mlp.c_fc", "mlp.fc1", mlp, width),
               ("mlp.c_proj", "mlp.fc2", width, mlp)]
    for s, d, rows, cols in linears:
        out[f"{dst}.{d}.weight"] = src.take(f"{prefix}.{s}.weight", (rows, cols))
        out[f"{dst}.{d}.bias"] = src.take(f"{prefix}.{s}.bias", (rows,))
    out.update(map_layer_norm(src, f"{prefix}.ln_1", f"{dst}.layer_norm1", width))
    out.update(map_layer_norm(src, f"{prefix}.ln_2", f"{dst}.layer_norm2", width))
    return out


def map_layer_norm(src, prefix, dst, width):
    return {f"{dst}.weight": src.take(f"{prefix}.weight", (width,)),
            f"{dst}.bias": src.take(f"{prefix}.bias", (width,))}


def map_tensors(state, a):
    """OpenAI state dict -> CLIPModel state dict (transformers' names). Every source tensor must be used."""
    src = Source(state)
    vw, tw, e, p = a["vision_width"], a["text_width"], a["embed_dim"], a["patch_size"]
    grid = a["image_size"] // p
    out = {
        "text_model.embeddings.token_embedding.weight": src.take("token_embedding.weight", (a["vocab_size"], tw)),
        "text_model.embeddings.position_embedding.weight": src.take("positional_embedding",
                                                                    (a["context_length"], tw)),
        # OpenAI computes x @ proj; a Linear computes x @ W^T, so W = proj^T.
        "text_projection.weight": src.take("text_projection", (tw, e)).t(),
        "vision_model.embeddings.class_embedding": src.take("visual.class_embedding", (vw,)),
        "vision_model.embeddings.patch_embedding.weight": src.take("visual.conv1.weight", (vw, 3, p, p)),
        "vision_model.embeddings.position_embedding.weight": src.take("visual.positional_embedding",
                                                                      (grid * grid + 1, vw)),
        "visual_projection.weight": src.take("visual.proj", (vw, e)).t(),
        "logit_scale": src.take("logit_scale", ()),
    }
    out.update(map_layer_norm(src, "ln_final", "text_model.final_layer_norm", tw))
    out.update(map_layer_norm(src, "visual.ln_pre", "vision_model.pre_layrnorm", vw))  # sic: HF's spelling
    out.update(map_layer_norm(src, "visual.ln_post", "vision_model.post_layernorm", vw))
    for i in range(a["text_layers"]):
        out.update(map_block(src, f"transformer.resblocks.{i}", f"text_model.encoder.layers.{i}", tw,
                             a["text_mlp"]))
    for i in range(a["vision_layers"]):
        out.update(map_block(src, f"visual.transformer.resblocks.{i}", f"vision_model.encoder.layers.{i}", vw,
                             a["vision_mlp"]))
    extra = sorted(set(state) - src.used)
    if extra:
        raise ConversionError(f"checkpoint has {len(extra)} tensors this converter does not know: {extra[:8]}"
                              + (" ..." if len(extra) > 8 else ""))
    return out


def hf_config(a, logit_scale, dtype):
    common = {"attention_dropout": 0.0, "dropout": 0.0, "hidden_act": "quick_gelu", "initializer_factor": 1.0,
              "initializer_range": 0.02, "layer_norm_eps": 1e-05, "projection_dim": a["embed_dim"]}
    text = dict(common, model_type="clip_text_model", vocab_size=a["vocab_size"], hidden_size=a["text_width"],
                intermediate_size=a["text_mlp"], num_hidden_layers=a["text_layers"],
                num_attention_heads=a["text_heads"], max_position_embeddings=a["context_length"],
                pad_token_id=1, bos_token_id=49406, eos_token_id=49407)
    vision = dict(common, model_type="clip_vision_model", hidden_size=a["vision_width"],
                  intermediate_size=a["vision_mlp"], num_hidden_layers=a["vision_layers"],
                  num_attention_heads=a["vision_heads"], image_size=a["image_size"], patch_size=a["patch_size"],
                  num_channels=3)
    return {"architectures": ["CLIPModel"], "model_type": "clip", "initializer_factor": 1.0,
            "projection_dim": a["embed_dim"], "logit_scale_init_value": float(logit_scale),
            "text_config": text, "vision_config": vision, "torch_dtype": dtype}


# ----------------------------------------------------------------------------------------------- output

def write_atomic(path, data):
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def tensor_bytes(t):
    import torch

    t = t.detach().contiguous().cpu()
    if t.dtype in (torch.float16, torch.bfloat16):
        t = t.view(torch.int16)  # numpy has no bfloat16; the bits are what we want
    data = t.numpy().tobytes()
    if sys.byteorder != "little":
        raise ConversionError("safetensors is little-endian; big-endian hosts are not supported")
    return data


def safetensors_bytes(tensors, metadata):
    """safetensors: u64 little-endian header length, JSON header (padded with spaces to 8 bytes), data."""
    header, chunks, offset = {"__metadata__": metadata}, [], 0
    # Larger elements first, then by name (the safetensors library's order): every tensor stays aligned to
    # its element size, so readers can map the file and use the data in place.
    for name in sorted(tensors, key=lambda n: (-tensors[n].element_size(), n)):
        t = tensors[name]
        data = tensor_bytes(t)
        header[name] = {"dtype": SAFETENSORS_DTYPE[dtype_name(t)], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(chunks)


def read_openai_merges(path):
    try:
        lines = gzip.open(path).read().decode("utf-8").split("\n")
    except (OSError, UnicodeDecodeError, EOFError) as e:
        raise ConversionError(f"{path} is not CLIP's gzip-compressed BPE vocabulary: {e}") from None
    if not lines or "#version" not in lines[0] or len(lines) <= OPENAI_MERGES:
        raise ConversionError(f"{path} is not CLIP's BPE merges file (header {lines[0][:40]!r}, "
                              f"{len(lines) - 1} lines, need {OPENAI_MERGES})")
    merges = [tuple(line.split()) for line in lines[1:OPENAI_MERGES + 1]]
    bad = next((i for i, m in enumerate(merges) if len(m) != 2), None)
    if bad is not None:
        raise ConversionError(f"{path} line {bad + 2}: expected a merge \"left right\", got {lines[bad + 1]!r}")
    return merges


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), 256))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


def tokenizer_files(merges):
    """vocab.json and merges.txt as transformers' CLIPTokenizer.save_vocabulary writes them."""
    symbols = list(bytes_to_unicode().values())
    vocab = symbols + [s + "</w>" for s in symbols] + ["".join(m) for m in merges]
    vocab += ["<|startoftext|>", "<|endoftext|>"]
    encoder = {token: i for i, token in enumerate(vocab)}
    vocab_json = json.dumps(encoder, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    merges_txt = "#version: 0.2\n" + "".join(f"{a} {b}\n" for a, b in merges)
    special = {"bos_token": "<|startoftext|>", "eos_token": "<|endoftext|>", "unk_token": "<|endoftext|>",
               "pad_token": "<|endoftext|>"}
    tokenizer_config = dict(special, tokenizer_class="CLIPTokenizer", model_max_length=77, do_lower_case=True,
                            errors="replace")
    return {"vocab.json": vocab_json, "merges.txt": merges_txt,
            "tokenizer_config.json": json.dumps(tokenizer_config, indent=2) + "\n",
            "special_tokens_map.json": json.dumps(special, indent=2) + "\n"}, len(vocab)


def preprocessor_config(image_size):
    return {"do_resize": True, "size": {"shortest_edge": image_size}, "resample": 3, "do_center_crop": True,
            "crop_size": {"height": image_size, "width": image_size}, "do_rescale": True,
            "rescale_factor": 1 / 255, "do_normalize": True, "image_mean": CLIP_MEAN, "image_std": CLIP_STD,
            "do_convert_rgb": True, "image_processor_type": "CLIPImageProcessor",
            "processor_class": "CLIPProcessor"}


# ------------------------------------------------------------------------------------------------- main

def dtype_name(t_or_dtype):
    """"float16" for torch.float16 or a tensor of it."""
    dtype = getattr(t_or_dtype, "dtype", t_or_dtype)
    return str(dtype).replace("torch.", "")


def default_dtype(state):
    """The float dtype holding most of the weights (OpenAI's archives: fp16)."""
    count = {}
    for t in state.values():
        if t.is_floating_point():
            count[t.dtype] = count.get(t.dtype, 0) + t.numel()
    dtype = dtype_name(max(count, key=count.get))
    return dtype if dtype in SAFETENSORS_DTYPE else "float32"


def convert(checkpoint, out_dir, vocab=None, dtype_arg=None, trust_pickle=False):
    checkpoint, out_dir = Path(checkpoint), Path(out_dir)
    if not checkpoint.is_file():
        raise ConversionError(f"checkpoint {checkpoint} does not exist")
    vocab = Path(vocab) if vocab else checkpoint.parent / VOCAB_NAME
    if not vocab.is_file():
        raise ConversionError(f"CLIP vocabulary {vocab} not found: pass --vocab PATH/{VOCAB_NAME}")
    merges = read_openai_merges(vocab)
    state = load_state_dict(checkpoint, trust_pickle)
    try:
        arch = infer_architecture(state)
        tensors = map_tensors(state, arch)
    except ConversionError as e:
        raise ConversionError(f"{checkpoint}: {e}") from None
    import torch

    dtype = DTYPES[dtype_arg] if dtype_arg else default_dtype(state)
    tensors = {k: v.to(getattr(torch, dtype)) for k, v in tensors.items()}
    files, n_tokens = tokenizer_files(merges)
    if n_tokens > arch["vocab_size"]:
        print(f"convert_clip.py: warning: the model embeds {arch['vocab_size']} tokens, the tokenizer has "
              f"{n_tokens}: ids >= {arch['vocab_size']} cannot be embedded", file=sys.stderr)
    config = hf_config(arch, state["logit_scale"].float().item(), dtype)

    out_dir.mkdir(parents=True, exist_ok=True)
    write_atomic(out_dir / "model.safetensors", safetensors_bytes(tensors, {"format": "pt"}))
    write_atomic(out_dir / "config.json", (json.dumps(config, indent=2, sort_keys=True) + "\n").encode())
    write_atomic(out_dir / "preprocessor_config.json",
                 (json.dumps(preprocessor_config(arch["image_size"]), indent=2) + "\n").encode())
    for name, text in files.items():
        write_atomic(out_dir / name, text.encode("utf-8"))
    return arch, dtype


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("checkpoint", help="OpenAI TorchScript archive, OpenAI state dict or open_clip checkpoint")
    p.add_argument("out_dir", help="output directory (Hugging Face CLIP layout)")
    p.add_argument("--vocab", help=f"CLIP's {VOCAB_NAME} (default: next to the checkpoint)")
    p.add_argument("--dtype", choices=sorted(DTYPES), help="weight dtype (default: the checkpoint's)")
    p.add_argument("--trust-pickle", action="store_true",
                   help="unpickle arbitrary objects in a non-TorchScript checkpoint (only for trusted files)")
    args = p.parse_args(argv)
    try:
        arch, dtype = convert(args.checkpoint, args.out_dir, args.vocab, args.dtype, args.trust_pickle)
    except ConversionError as e:
        print(f"convert_clip.py: error: {e}", file=sys.stderr)
        return 1
    print(f"converted {args.checkpoint} -> {args.out_dir}: ViT {arch['vision_layers']}x{arch['vision_width']} "
          f"patch {arch['patch_size']} @ {arch['image_size']}px, text {arch['text_layers']}x{arch['text_width']}, "
          f"embed {arch['embed_dim']}, {dtype}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
