#!/usr/bin/env bash
# Data-parallel scaling of a method's training step: `clipt scale` on one rank, then under
# `mpirun -np RANKS` with the same global batch, and the second's speed-up and efficiency against the
# first (the table and JSON of both; the N-rank JSON, baseline included, goes to OUT).
# Usage: bench/scaling.sh [RANKS=2] [clipt scale options...], e.g.
#   THREADS=1 bench/scaling.sh 2 --trainer CoOp --batch 32 --steps 20 --device cpu DATALOADER.NUM_WORKERS 0
# Environment: BUILD (default: the build folder of this checkout), THREADS (OMP_NUM_THREADS per rank, default 1), OUT (default
# bench/results/scaling-<RANKS>.json), MPIRUN (default mpirun), MPIRUN_ARGS (extra launcher options,
# e.g. a host file; --oversubscribe and, as root, --allow-run-as-root are added on one machine).
set -euo pipefail
ranks="${1:-2}"
shift || true
build="${BUILD:-$(cd "$(dirname "$0")/.." && pwd)/build}"
threads="${THREADS:-1}"
out="${OUT:-$(dirname "$0")/results/scaling-${ranks}.json}"
mkdir -p "$(dirname "$out")"
one="$(mktemp --suffix=.json)"
trap 'rm -f "$one"' EXIT
launcher=("${MPIRUN:-mpirun}" -np "$ranks" --oversubscribe)
if [ "$(id -u)" = 0 ]; then launcher+=(--allow-run-as-root); fi
# shellcheck disable=SC2206
launcher+=(${MPIRUN_ARGS:-} -x OMP_NUM_THREADS)
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
OMP_NUM_THREADS="$threads" "$build/clipt" scale "$@" --json "$one"
OMP_NUM_THREADS="$threads" "${launcher[@]}" "$build/clipt" scale "$@" --baseline "$one" --json "$out"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "written: $out"
