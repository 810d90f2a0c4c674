#!/usr/bin/env bash
# Runs clipt's DPC stage-2 step benchmark and the PyTorch eager reference (bench/dpc_step_torch.py) on the
# same device, one after the other, and prints both JSON lines and the ratio (reference ms / clipt ms: > 1
# means clipt is faster). clipt's side of the ratio is `compute_ms`: the step with the negatives already in
# memory, as the reference takes them from an in-memory pool (clipt's `step_ms` adds their loading).
#
# Usage: [BUILD_DIR=build] [PYTHON=python3] bench/run_dpc_step.sh [cuda|cpu] [OPTIONS...]
#   OPTIONS go to both sides (--size base|small, --batch B, --top-k K, --classes C, --steps N); --workers W
#   goes to clipt only, --truncate-text to the reference only (its text tower then stops at the batch's last
#   end token, as clipt's does; without it the reference runs all 77 positions, as the released code).
#   PYTHON needs torch and transformers.
# Example (CPU): BUILD_DIR=build PYTHON=/tmp/hfvenv/bin/python OMP_NUM_THREADS=2 \
#                  bench/run_dpc_step.sh cpu --size small --steps 3
set -euo pipefail
build="${BUILD_DIR:-build}"
python="${PYTHON:-python3}"
device="${1:-cuda}"
shift || true
case "$device" in
  cuda | cpu) ;;
  *) echo "run_dpc_step.sh: the device must be cuda or cpu, got '$device'" >&2; exit 2 ;;
esac
ours_args=()
theirs_args=()
while (($#)); do
  case "$1" in
    --workers) ours_args+=("$1" "${2:?--workers needs a value}"); shift 2 ;;  # the reference has no loader
    --truncate-text) theirs_args+=("$1"); shift ;;  # clipt always runs the text tower up to the last EOT
    *) ours_args+=("$1"); theirs_args+=("$1"); shift ;;
  esac
done
ours=$("$build/bench/bench_dpc_step" --device "$device" "${ours_args[@]+"${ours_args[@]}"}")
theirs=$("$python" "$(dirname "$0")/dpc_step_torch.py" --device "$device" "${theirs_args[@]+"${theirs_args[@]}"}")
echo "$ours"
echo "$theirs"
"$python" - "$ours" "$theirs" <<'PY'
import json, sys
a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(json.dumps({"name": "dpc_step_ratio" + ("_truncated" if "truncated" in b["name"] else ""), "clipt_ms": a["compute_ms"], "pytorch_eager_ms": b["ms_per_step"],
                  "speedup": round(b["ms_per_step"] / a["compute_ms"], 3), "clipt_step_ms": a["step_ms"]}))
PY
