#!/usr/bin/env bash
# The two Quick start commands of the README:
#   ./clipt.sh demo [options]   install what is missing, build (Release), run `clipt demo [options]`
#   ./clipt.sh test [ctest args] install what is missing, build (Release), run the whole test suite
#   ./clipt.sh gpu-check OUT_DIR [options]  the prepared GPU check (bench/gpu_check.py; installs nothing):
#                                builds for the local GPU, runs the GPU tests, memcheck and benchmarks,
#                                writes OUT_DIR/gpu_check.json; without a GPU, the CPU halves
# Packages are installed only when missing and apt is available; as non-root the apt line is printed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
# OpenMP threads spin only briefly at barriers, then sleep: on a shared or oversubscribed machine
# (parallel ctest) long spinning steals the cores the work needs.
export GOMP_SPINCOUNT="${GOMP_SPINCOUNT:-10000}"

BUILD_PACKAGES=(cmake g++ make pkg-config libfmt-dev nlohmann-json3-dev libyaml-cpp-dev libopenblas-dev
                libjpeg-dev libpng-dev zlib1g-dev libgtest-dev libgmock-dev libbenchmark-dev
                libopenmpi-dev openmpi-bin)
# The converter (models/clip/convert_clip.py) runs with Debian's PyTorch; its tests need it. The fuzz run
# (ctest Fuzz.ShortRuns, tests/fuzz/run_fuzzers.sh) builds with clang, its libFuzzer runtime and LLVM's OpenMP.
TEST_PACKAGES=(python3 python3-torch python3-numpy clang-format clang libclang-rt-14-dev libomp-dev)

install_missing() {
  if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg-query >/dev/null 2>&1; then
    return 0  # not a Debian-like system (e.g. the GPU machines): build with what is there
  fi
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -eq 0 ]; then
    echo "clipt.sh: installing ${missing[*]}"
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
           "${missing[@]}"; } >/tmp/clipt-apt.log 2>&1; then
      echo "clipt.sh: apt-get failed (see /tmp/clipt-apt.log); trying to build with what is installed" >&2
    fi
  else
    echo "clipt.sh: missing Debian packages; install them with:" >&2
    echo "  sudo apt-get install -y ${missing[*]}" >&2
  fi
}

build() {
  local jobs
  jobs=$(nproc 2>/dev/null || echo 2)
  cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build build -j"$jobs"
}

cmd="${1:-}"
[ $# -gt 0 ] && shift
case "$cmd" in
  demo)
    install_missing "${BUILD_PACKAGES[@]}"
    build
    exec ./build/clipt demo "$@"
    ;;
  test)
    install_missing "${BUILD_PACKAGES[@]}" "${TEST_PACKAGES[@]}"
    build
    exec ctest --test-dir build --output-on-failure -j"$(nproc 2>/dev/null || echo 2)" "$@"
    ;;
  gpu-check)
    # The GPU machines allow no package installation: build with what is there.
    exec python3 bench/gpu_check.py "$@"
    ;;
  *)
    echo "usage: ./clipt.sh demo [options] | ./clipt.sh test [ctest options] | ./clipt.sh gpu-check OUT_DIR [options]" >&2
    exit 2
    ;;
esac
