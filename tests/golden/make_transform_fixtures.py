#!/usr/bin/python3
"""Fixtures for the data pipeline tests (tests/data/): what PIL and torchvision produce.

Run with Debian's Python (PIL 9.4, torchvision 0.14):  /usr/bin/python3 tests/golden/make_transform_fixtures.py
Writes tests/golden/data/:
  inputs/*.png|jpg          small generated images (and odd PNG/JPEG flavours for the decoders)
  decoded/<input>.png       PIL's Image.open(input).convert("RGB")
  resize/*.png              Image.resize / crop+resize outputs (bicubic and bilinear)
  pipeline/*.png            torchvision Resize(224)+CenterCrop(224) and resized_crop outputs (uint8)
  transforms.json           the list of resize cases, RandomResizedCrop.get_params results for injected
                            uniform draws, torchvision's Resize(int) sizes, CenterCrop offsets and
                            ToTensor+Normalize values for every byte value.
Everything is generated from fixed seeds, so rerunning reproduces the same files.
"""
import json
import math
import os
import struct
import zlib

import numpy as np
import torch
import torchvision
import torchvision.transforms as T
import torchvision.transforms.functional as F
from PIL import Image

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
BICUBIC = Image.BICUBIC
BILINEAR = Image.BILINEAR


def synthetic(width, height, seed):
    """A smooth, colourful picture with sharp edges and a little noise (compresses well as PNG)."""
    rng = np.random.RandomState(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    r = 128 + 100 * np.sin(x / (7 + seed) + y / 11.0)
    g = 128 + 90 * np.cos(y / (5 + seed) - x / 13.0)
    b = 255 * (x + y) / (width + height)
    img = np.stack([r, g, b], axis=-1)
    # Sharp-edged shapes exercise the negative lobes of the bicubic kernel (ringing, clipping).
    cx, cy, rad = width * 0.4, height * 0.55, min(width, height) * 0.3
    img[(x - cx) ** 2 + (y - cy) ** 2 < rad ** 2] = [250, 20, 30]
    img[(y > height * 0.1) & (y < height * 0.2) & (x > width * 0.6)] = [0, 0, 0]
    img[(x > width * 0.8) & (y > height * 0.7)] = [255, 255, 255]
    img += rng.randint(-2, 3, size=img.shape)
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


def png_chunk(tag, data):
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)


def write_raw_png(path, rows, width, height, bit_depth, color_type):
    """A minimal PNG writer for flavours PIL cannot write (16-bit RGB/RGBA, 2-bit grey)."""
    raw = b"".join(b"\x00" + row for row in rows)
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", zlib.compress(raw, 9)) + png_chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(data)


def make_inputs(inputs):
    photo = Image.fromarray(synthetic(500, 375, 1))
    photo.save(os.path.join(inputs, "photo_500x375.jpg"), quality=90)  # 4:2:0, PIL's default
    Image.fromarray(synthetic(97, 61, 2)).save(os.path.join(inputs, "small_97x61.png"))
    Image.fromarray(synthetic(64, 200, 3)).save(os.path.join(inputs, "tall_64x200.png"))
    Image.fromarray(synthetic(120, 90, 4)).save(os.path.join(inputs, "small_120x90.jpg"), quality=95, subsampling=0)
    Image.fromarray(synthetic(80, 60, 5)).save(os.path.join(inputs, "progressive.jpg"), quality=85, progressive=True)

    base = synthetic(40, 30, 6)
    grey = Image.fromarray(base).convert("L")
    grey.save(os.path.join(inputs, "grey.png"))
    grey.save(os.path.join(inputs, "grey.jpg"), quality=90)
    Image.fromarray(base).convert("CMYK").save(os.path.join(inputs, "cmyk.jpg"), quality=95)
    rgba = Image.fromarray(np.dstack([base, (np.arange(40 * 30).reshape(30, 40) % 256).astype(np.uint8)]), "RGBA")
    rgba.save(os.path.join(inputs, "rgba.png"))
    rgba.convert("LA").save(os.path.join(inputs, "grey_alpha.png"))
    pal = Image.fromarray(base).convert("P", palette=Image.ADAPTIVE, colors=16)
    pal.info["transparency"] = 3
    pal.save(os.path.join(inputs, "palette.png"), transparency=3)
    Image.fromarray(base).convert("1").save(os.path.join(inputs, "bilevel.png"))
    # 16-bit grey: values above 255 (PIL opens it as mode "I" and convert("RGB") clips them).
    g16 = (np.arange(40 * 30).reshape(30, 40) * 7).astype(">u2")
    Image.fromarray(g16.astype(np.uint16)).save(os.path.join(inputs, "grey16.png"))
    rgb16 = (base.astype(np.uint32) * 257 + np.arange(3)).astype(">u2")
    write_raw_png(os.path.join(inputs, "rgb16.png"), [rgb16[y].tobytes() for y in range(30)], 40, 30, 16, 2)
    rgba16 = np.dstack([rgb16, np.full((30, 40), 40000, ">u2")]).astype(">u2")
    write_raw_png(os.path.join(inputs, "rgba16.png"), [rgba16[y].tobytes() for y in range(30)], 40, 30, 16, 6)
    # 2-bit grey: 4 pixels per byte, values 0..3 → PIL scales by 85.
    g2 = (np.arange(40 * 30).reshape(30, 40) % 4).astype(np.uint8)
    rows = []
    for y in range(30):
        packed = bytearray()
        for x0 in range(0, 40, 4):
            v = 0
            for k in range(4):
                v = (v << 2) | int(g2[y, x0 + k])
            packed.append(v)
        rows.append(bytes(packed))
    write_raw_png(os.path.join(inputs, "grey2bit.png"), rows, 40, 30, 2, 0)


def main():
    inputs = os.path.join(OUT, "inputs")
    decoded = os.path.join(OUT, "decoded")
    resize_dir = os.path.join(OUT, "resize")
    pipeline = os.path.join(OUT, "pipeline")
    for d in (inputs, decoded, resize_dir, pipeline):
        os.makedirs(d, exist_ok=True)
    make_inputs(inputs)

    for name in sorted(os.listdir(inputs)):
        if name == "photo_500x375.jpg":
            continue  # large; its decoding is covered by the pipeline fixtures
        Image.open(os.path.join(inputs, name)).convert("RGB").save(os.path.join(decoded, name + ".png"))

    def load(name):
        return Image.open(os.path.join(inputs, name)).convert("RGB")

    # ---- plain resizes and crop + resize (PIL) ----
    resize_cases = []
    specs = [
        ("small_97x61.png", None, (50, 31)), ("small_97x61.png", None, (200, 130)), ("small_97x61.png", None, (97, 20)),
        ("small_97x61.png", None, (33, 61)), ("small_97x61.png", (10, 5, 70, 50), (64, 64)),
        ("small_97x61.png", (0, 0, 97, 61), (97, 61)), ("tall_64x200.png", None, (20, 70)),
        ("tall_64x200.png", None, (131, 301)), ("tall_64x200.png", (3, 17, 51, 190), (40, 40)),
        ("photo_500x375.jpg", None, (64, 48)), ("photo_500x375.jpg", None, (7, 5)),
        ("photo_500x375.jpg", (100, 50, 400, 300), (96, 80)), ("photo_500x375.jpg", (211, 101, 251, 133), (64, 64)),
        ("small_120x90.jpg", None, (150, 112)), ("progressive.jpg", None, (31, 23)),
    ]
    for filt_name, filt in (("bicubic", BICUBIC), ("bilinear", BILINEAR)):
        for src, box, (w, h) in specs:
            img = load(src)
            if box is not None:
                img = img.crop(box)  # crop then resize: what torchvision's resized_crop does
            out = img.resize((w, h), filt)
            tag = "full" if box is None else "crop_{}_{}_{}_{}".format(*box)
            name = "{}_{}_{}x{}_{}.png".format(os.path.splitext(src)[0], tag, w, h, filt_name)
            out.save(os.path.join(resize_dir, name))
            resize_cases.append({"input": src, "box": list(box) if box else None, "width": w, "height": h,
                                 "filter": filt_name, "expected": name})

    # ---- torchvision pipelines (uint8 before ToTensor) ----
    pipeline_cases = []
    test_tf = T.Compose([T.Resize(224, interpolation=T.InterpolationMode.BICUBIC), T.CenterCrop(224)])
    for src in ("photo_500x375.jpg", "small_97x61.png", "tall_64x200.png"):
        name = "test_{}.png".format(os.path.splitext(src)[0])
        test_tf(load(src)).save(os.path.join(pipeline, name))
        pipeline_cases.append({"kind": "test", "input": src, "size": 224, "expected": name})
    for src, (i, j, h, w) in (("photo_500x375.jpg", (40, 100, 250, 300)), ("photo_500x375.jpg", (300, 10, 60, 45)),
                              ("small_97x61.png", (3, 7, 50, 80))):
        name = "rrc_{}_{}_{}_{}_{}.png".format(os.path.splitext(src)[0], i, j, h, w)
        out = F.resized_crop(load(src), i, j, h, w, [224, 224], T.InterpolationMode.BICUBIC)
        out.save(os.path.join(pipeline, name))
        pipeline_cases.append({"kind": "resized_crop", "input": src, "box": [i, j, h, w], "size": 224, "expected": name})

    # ---- RandomResizedCrop.get_params with injected uniform draws ----
    import torchvision.transforms.transforms as tv_transforms

    class Draws:
        def __init__(self, values):
            self.values = list(values)
            self.used = 0

        def next(self):
            u = self.values[self.used]
            self.used += 1
            return u

    class FakeTorch:
        """Delegates to torch, but empty(1).uniform_ and randint read from the injected draws."""

        def __init__(self, draws):
            self._draws = draws

        def __getattr__(self, name):
            return getattr(torch, name)

        def empty(self, *size):
            draws = self._draws

            class Slot:
                def uniform_(self, a, b):
                    fa, fb = np.float32(float(a)), np.float32(float(b))
                    span = np.float32(fb - fa)
                    value = np.float32(np.float32(np.float32(draws.next()) * span) + fa)
                    return torch.tensor([float(value)], dtype=torch.float32)

            return Slot()

        def randint(self, low, high, size):
            u = self._draws.next()
            n = high - low
            k = min(int(math.floor(u * n)), n - 1)
            return torch.tensor([low + max(k, 0)])

    rng = np.random.RandomState(1234)
    rrc_cases = []
    shapes = [(375, 500), (61, 97), (200, 64), (224, 224), (30, 100), (100, 30), (1, 1), (2, 300)]
    for height, width in shapes:
        for rep in range(12):
            draws = Draws(rng.random_sample(40))
            if rep == 0:  # draws that push toward oversized crops and the fallback
                draws = Draws([0.999, 0.999, 0.999, 0.0] * 10)
            real = tv_transforms.torch
            tv_transforms.torch = FakeTorch(draws)
            try:
                img = Image.new("RGB", (width, height))
                i, j, h, w = T.RandomResizedCrop.get_params(img, scale=(0.08, 1.0), ratio=(3.0 / 4.0, 4.0 / 3.0))
            finally:
                tv_transforms.torch = real
            rrc_cases.append({"height": height, "width": width, "draws": [float(u) for u in draws.values[:draws.used]],
                              "expected": [int(i), int(j), int(h), int(w)]})

    # ---- Resize(int) output sizes (torchvision's own rule), CenterCrop offsets (read back from pixels) ----
    sizes = []
    for h, w in ((375, 500), (500, 375), (61, 97), (200, 64), (224, 224), (225, 224), (1, 1000), (333, 334)):
        for s in (224, 100, 7):
            new_h, new_w = F._compute_resized_output_size((h, w), [s])
            sizes.append({"height": h, "width": w, "size": s, "expected": [int(new_h), int(new_w)]})
    crops = []
    for h, w, ch, cw in ((375, 500, 224, 224), (224, 298, 224, 224), (225, 224, 224, 224), (227, 230, 224, 224),
                         (10, 11, 4, 4), (9, 9, 4, 4), (11, 11, 4, 4), (13, 10, 4, 4)):
        yy, xx = np.mgrid[0:h, 0:w]
        coords = np.stack([xx % 256, yy % 256, (xx // 256) * 16 + yy // 256], axis=-1).astype(np.uint8)
        out = np.asarray(F.center_crop(Image.fromarray(coords), [ch, cw]))
        left = int(out[0, 0, 0]) + 256 * (int(out[0, 0, 2]) // 16)
        top = int(out[0, 0, 1]) + 256 * (int(out[0, 0, 2]) % 16)
        crops.append({"height": h, "width": w, "crop_height": ch, "crop_width": cw, "expected": [top, left]})

    # ---- ToTensor + Normalize for every byte value ----
    mean = [0.48145466, 0.4578275, 0.40821073]
    std = [0.26862954, 0.26130258, 0.27577711]
    ramp = np.tile(np.arange(256, dtype=np.uint8)[None, :, None], (1, 1, 3))
    tensor = T.Normalize(mean, std)(T.ToTensor()(Image.fromarray(ramp)))
    normalize = {"mean": mean, "std": std, "values": [[float(v) for v in tensor[c, 0].tolist()] for c in range(3)]}
    plain = T.ToTensor()(Image.fromarray(ramp))[0, 0].tolist()

    meta = {"pil": Image.__version__, "torchvision": torchvision.__version__, "resize": resize_cases,
            "pipeline": pipeline_cases, "random_resized_crop": rrc_cases, "resize_shorter": sizes,
            "center_crop": crops, "normalize": normalize, "to_tensor": [float(v) for v in plain]}
    with open(os.path.join(OUT, "transforms.json"), "w") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
