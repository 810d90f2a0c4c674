#!/usr/bin/env bash
# Runs clipt's CoOp step benchmark and the PyTorch eager reference (bench/coop_step_torch.py) on the same
# device, one after the other, and prints both JSON lines and one ratio line (reference ms / clipt ms: > 1
# means clipt is faster) with the machine's load average at the start and the end.
#
# Usage: [BUILD_DIR=build] [PYTHON=python3] [THREADS=N] bench/run_coop_step.sh [cuda|cpu] [OPTIONS...]
#   OPTIONS go to both sides (--classes C, --batch B, --n-ctx N, --steps S, --arch b16|s16); --vocab and
#   --shared-prefix go to clipt only. THREADS (CPU) sets OMP_NUM_THREADS for clipt and torch.set_num_threads
#   for the reference, so both use the same cores. PYTHON needs torch and transformers.
# Example (CPU): PYTHON=/work/venv-torch/bin/python THREADS=2 bench/run_coop_step.sh cpu --steps 5
set -euo pipefail
build="${BUILD_DIR:-build}"
python="${PYTHON:-python3}"
device="${1:-cuda}"
shift || true
case "$device" in
  cuda | cpu) ;;
  *) echo "run_coop_step.sh: the device must be cuda or cpu, got '$device'" >&2; exit 2 ;;
esac
ours_args=()
theirs_args=()
while (($#)); do
  case "$1" in
    --vocab | --shared-prefix) ours_args+=("$1" "${2:?$1 needs a value}"); shift 2 ;;
    *) ours_args+=("$1"); theirs_args+=("$1"); shift ;;
  esac
done
if [[ -n "${THREADS:-}" ]]; then
  export OMP_NUM_THREADS="$THREADS"
  theirs_args+=(--threads "$THREADS")
fi
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
ours=$("$build/bench/bench_coop_step" --device "$device" "${ours_args[@]+"${ours_args[@]}"}")
theirs=$("$python" "$(dirname "$0")/coop_step_torch.py" --device "$device" "${theirs_args[@]+"${theirs_args[@]}"}")
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
echo "$ours"
echo "$theirs"
"$python" - "$ours" "$theirs" "$load_before" "$load_after" <<'PY'
import json, sys
a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(json.dumps({"name": "coop_step_ratio", "device": a.get("device"), "clipt_ms": a["ms_per_step"],
                  "pytorch_eager_ms": b["ms_per_step"], "speedup": round(b["ms_per_step"] / a["ms_per_step"], 3),
                  "text_tokens_per_step": a.get("text_tokens_per_step"), "threads": b.get("threads"),
                  "loadavg_before": sys.argv[3], "loadavg_after": sys.argv[4]}))
PY
