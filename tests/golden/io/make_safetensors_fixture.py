#!/usr/bin/env python3
"""Writes tests/golden/io/reference.safetensors with the reference implementation (PyPI `safetensors`),
so the C++ reader is tested against a file it did not write and the C++ writer against the reference's
exact bytes (tests/io/safetensors_test.cpp, test SafetensorsReference.*).

Needs torch and safetensors, e.g.:
  /usr/bin/python3 -m venv --system-site-packages /tmp/st-venv && /tmp/st-venv/bin/pip install safetensors
  /tmp/st-venv/bin/python tests/golden/io/make_safetensors_fixture.py

With --check FILE it instead loads FILE (written by clipt's test `SafetensorsReference.ExportForPython`)
with safetensors and compares every tensor with the same expected values.
"""
import math
import os
import sys

import torch
from safetensors.torch import load_file, save_file


def expected_tensors():
    nan, inf = float("nan"), float("inf")
    return {
        "f32": torch.tensor([[1.5, -0.0, nan], [inf, -inf, 1e-45]], dtype=torch.float32),
        "f64": torch.tensor([math.pi, -1e300, 5e-324], dtype=torch.float64),
        "f16": torch.tensor([1.0, -2.5, 65504.0], dtype=torch.float16),  # odd length: misaligns what follows
        "bf16": torch.tensor([[1.0, -3.0e38], [1e-38, 0.1]], dtype=torch.bfloat16),
        "i32": torch.tensor([-2147483648, 2147483647, 7], dtype=torch.int32),
        "i64": torch.tensor([[-9223372036854775808], [9223372036854775807]], dtype=torch.int64),
        "u8": torch.tensor([0, 1, 128, 255, 3], dtype=torch.uint8),
        "bool": torch.tensor([True, False, True], dtype=torch.bool),
        "scalar": torch.tensor(42.25, dtype=torch.float32),
        "empty": torch.zeros((0, 4), dtype=torch.float32),
    }


METADATA = {"purpose": "clipt reader test – ünïcode"}


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--check":
        loaded = load_file(sys.argv[2])
        want = expected_tensors()
        assert sorted(loaded) == sorted(want), (sorted(loaded), sorted(want))
        for name, t in want.items():
            got = loaded[name]
            assert got.dtype == t.dtype and got.shape == t.shape, (name, got.dtype, got.shape)
            # Bit-exact: compare the raw bytes (NaN != NaN otherwise).
            if t.dtype == torch.bool:
                assert torch.equal(got, t), name
            else:
                raw = lambda x: x.contiguous().reshape(-1).view(torch.uint8).tolist()
                assert raw(got) == raw(t), name
        print(f"OK: {sys.argv[2]} matches ({len(want)} tensors)")
        return
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "reference.safetensors")
    save_file(expected_tensors(), out, metadata=METADATA)
    print(f"wrote {out} ({os.path.getsize(out)} bytes)")


if __name__ == "__main__":
    main()
