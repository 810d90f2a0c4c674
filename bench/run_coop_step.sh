#!/usr/bin/env bash
# Runs clipt's CoOp step benchmark and the PyTorch reference on the same GPU and prints both with the
# ratio (reference ms / clipt ms: > 1 means clipt is faster). Usage: bench/run_coop_step.sh BUILD_DIR
set -euo pipefail
build="${1:-build}"
ours=$("$build/bench/bench_coop_step" --device cuda "${@:2}")
theirs=$("${PYTHON:-python3}" "$(dirname "$0")/coop_step_torch.py")
echo "$ours"
echo "$theirs"
python3 - "$ours" "$theirs" <<'PY'
import json, sys
a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(json.dumps({"name": "coop_step_ratio", "clipt_ms": a["ms_per_step"], "pytorch_eager_ms": b["ms_per_step"],
                  "speedup": round(b["ms_per_step"] / a["ms_per_step"], 3)}))
PY
