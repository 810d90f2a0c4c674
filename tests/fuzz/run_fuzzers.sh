#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz) with clang in their own build tree and runs each for a bounded
# time over a copy of its seed corpus (tests/fuzz/corpus/<name>/), so the committed seeds never change.
#   tests/fuzz/run_fuzzers.sh [SECONDS] [WORK_DIR] [TARGET...]
# SECONDS per target (default 30); WORK_DIR holds the build tree (build/), the growing corpora (corpus/) and
# any crash inputs (artifacts/) — default build-fuzz/ in the project root, kept between runs so rebuilds are
# incremental and a longer run continues from the corpus a shorter one grew. TARGETs default to all.
# Exit status: 0 when every target ran clean, 1 when one found a crash or a violated property (its input is
# in WORK_DIR/artifacts/<target>/, reproduce with `<binary> <input>`), 77 (skip) when clang++ or libFuzzer
# is missing. CLIPT_FUZZ_JOBS sets the build parallelism (default: nproc).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
seconds="${1:-30}"
work="$(mkdir -p "${2:-$root/build-fuzz}" && cd "${2:-$root/build-fuzz}" && pwd)"
shift $(( $# < 2 ? $# : 2 ))
[[ "$seconds" =~ ^[1-9][0-9]*$ ]] || { echo "run_fuzzers.sh: SECONDS must be a positive integer, got '$seconds'" >&2; exit 2; }

# clang++ with libFuzzer's runtime (Debian: clang, libclang-rt-<version>-dev or older clang packages).
cxx="${CLIPT_FUZZ_CXX:-$(command -v clang++ || true)}"
if [ -z "$cxx" ]; then
  echo "run_fuzzers.sh: SKIP: no clang++ (install clang and its libFuzzer runtime: libclang-rt-14-dev on Debian 12)"
  exit 77
fi
cc="${CLIPT_FUZZ_CC:-${cxx%++}}"
probe="$work/probe"
mkdir -p "$probe"
printf 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }\n' >"$probe/p.cpp"
if ! "$cxx" -fsanitize=fuzzer,address,undefined "$probe/p.cpp" -o "$probe/p" >"$probe/log" 2>&1; then
  echo "run_fuzzers.sh: SKIP: $cxx cannot link a libFuzzer target (install libclang-rt-14-dev); see $probe/log"
  exit 77
fi

jobs="${CLIPT_FUZZ_JOBS:-$(nproc 2>/dev/null || echo 2)}"
launcher=()
command -v ccache >/dev/null 2>&1 && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
build_start=$SECONDS
cmake -S "$root" -B "$work/build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_COMPILER="$cc" \
  -DCMAKE_CXX_COMPILER="$cxx" -DCLIPT_CUDA=OFF -DCLIPT_BENCH=OFF -DCLIPT_FUZZ=ON "${launcher[@]}" \
  >"$work/configure.log" 2>&1 || { echo "run_fuzzers.sh: configure failed, see $work/configure.log" >&2; exit 1; }
mapfile -t targets < <(if [ $# -gt 0 ]; then printf '%s\n' "$@"; else cat "$work/build/tests/fuzz/fuzz_targets.txt"; fi)
cmake --build "$work/build" -j"$jobs" --target "${targets[@]}" >"$work/build.log" 2>&1 ||
  { tail -30 "$work/build.log" >&2; echo "run_fuzzers.sh: build failed, see $work/build.log" >&2; exit 1; }
echo "run_fuzzers.sh: built ${targets[*]} in $((SECONDS - build_start)) s"

status=0
for t in "${targets[@]}"; do
  name="${t%_fuzz}"
  seeds="$root/tests/fuzz/corpus/$name"
  corpus="$work/corpus/$name"
  artifacts="$work/artifacts/$t"
  mkdir -p "$corpus" "$artifacts"
  cp -n "$seeds"/* "$corpus"/ 2>/dev/null || true
  dict=()
  [ -f "$root/tests/fuzz/$name.dict" ] && dict=(-dict="$root/tests/fuzz/$name.dict")
  log="$work/$t.log"
  # -rss_limit_mb: the harnesses keep decoded sizes small; more memory than this is a finding, not a fault
  # of the machine. -timeout: one input taking this long is a hang.
  if "$work/build/tests/fuzz/$t" -max_total_time="$seconds" -timeout=25 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$artifacts/" "${dict[@]}" "$corpus" >"$log" 2>&1; then
    echo "run_fuzzers.sh: $t: clean for ${seconds} s ($(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" |
      grep -o '[0-9]*$' || echo '?') inputs; corpus $(ls "$corpus" | wc -l) files)"
  else
    status=1
    echo "run_fuzzers.sh: $t: FOUND A PROBLEM (log $log, input in $artifacts/):" >&2
    grep -E 'ERROR:|property violated|uncaught|SUMMARY|Test unit written' "$log" | head -8 >&2 || tail -20 "$log" >&2
  fi
done
exit $status
