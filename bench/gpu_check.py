#!/usr/bin/env python3
"""The one prepared GPU check (issue 19): everything the first minutes on a GPU machine should tell us, in one
run that writes one JSON summary. `./clipt.sh gpu-check OUT_DIR` runs it.

    bench/gpu_check.py OUT_DIR [--build-dir DIR] [--reuse-build DIR] [--cpu] [--budget-s S] [--jobs N]

Parts, in order of what matters most when time is short; each has its own timeout (clipped to what is left
of the whole run's budget, 540 s by default), a failing part is recorded and the rest still run:
  device         the GPU's name, driver, memory and compute capability (nvidia-smi)
  configure      cmake for the local architecture only (CMAKE_CUDA_ARCHITECTURES=native)
  build          the test and benchmark targets the check runs, in parallel on every core
  gpu_tests      ctest -L gpu, except the whole-model tests (op-level CUDA-vs-CPU tests)
  whole_model    the whole-model CUDA-vs-CPU tests (CLIP towers, every method's step, trainer resume)
  memcheck       compute-sanitizer --tool memcheck over one short CoOp step (the whole-model CoOp test)
  bench_*        clipt's CoOp and DPC steps and the PyTorch references (eager and torch.compile), same run;
                 the CoOp step once more through a CUDA graph (bench_coop_step_cuda_graph, GPU only) and the
                 graph-on/off ratio (figure coop_step_cuda_graph_speedup)
Without a GPU (or with --cpu) the GPU parts are recorded as skipped with the reason, and the CPU halves run:
the build, the gpu-labelled tests (which skip themselves), and clipt's benchmarks at tiny sizes on the CPU.
--reuse-build DIR skips configure and build and runs from an existing build folder (CI: never build twice).

OUT_DIR/gpu_check.json holds: the device, each part (status pass|fail|skip|timeout, seconds, reason, log
file), each test (pass|fail|skip, with the skip or failure message), each benchmark figure, and the ratios.
OUT_DIR/logs/ has every part's full output. The exit status is 0 when no part failed or timed out, else 1;
2 for bad arguments. Python standard library only (the GPU machines allow no package installs)."""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = 1
# The whole-model CUDA tests (tests/gpu/cuda_whole_model_*_test.cpp): their own part, so a slow or failing
# op-level test does not hide them, and the other way round.
WHOLE_MODEL_REGEX = r"(^|/)(CudaClipTowers|CudaMethodStep|CudaMethodStepDpc|CudaTrainerResume)\."
# One short CoOp step (tiny CLIP, fp32) for compute-sanitizer.
MEMCHECK_FILTER = "Methods/CudaMethodStep.OneTrainingStepMatchesCpu/CoOp_f32"
BUILD_TARGETS = ["clipt_test_gpu", "bench_coop_step", "bench_dpc_step"]
STATUSES = ("pass", "fail", "skip", "timeout")


class Check:
    def __init__(self, out: Path, budget_s: float):
        self.out = out
        self.logs = out / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.t0 = time.monotonic()
        self.budget_s = budget_s
        self.parts = []
        self.tests = []
        self.figures = []

    def left_s(self) -> float:
        return self.budget_s - (time.monotonic() - self.t0)

    def record(self, name, status, seconds=0.0, reason="", log=None, **extra):
        assert status in STATUSES, status
        part = {"name": name, "status": status, "seconds": round(seconds, 2), "reason": reason}
        if log is not None:
            part["log"] = str(log.relative_to(self.out))
        part.update(extra)
        self.parts.append(part)
        mark = {"pass": "ok", "skip": "skipped", "fail": "FAILED", "timeout": "TIMED OUT"}[status]
        print(f"gpu-check: {name}: {mark} ({seconds:.1f} s){': ' + reason if reason else ''}", flush=True)
        return part

    def skip(self, name, reason):
        return self.record(name, "skip", reason=reason)

    def run(self, name, cmd, timeout_s, env=None, cwd=ROOT, ok_codes=(0,)):
        """Runs `cmd` with its output in logs/<name>.log; records the part; returns (status, stdout text)."""
        limit = min(timeout_s, self.left_s())
        if limit < 5:
            self.record(name, "skip", reason=f"out of time: {self.left_s():.0f} s of the {self.budget_s:.0f} s budget left")
            return "skip", ""
        log = self.logs / f"{name}.log"
        started = time.monotonic()
        full_env = dict(os.environ, **(env or {}))
        with open(log, "w") as f:
            f.write("$ " + " ".join(str(c) for c in cmd) + "\n")
            f.flush()
            try:
                # A process group of its own, so a timeout ends the whole tree (ctest's children too).
                p = subprocess.Popen([str(c) for c in cmd], cwd=cwd, env=full_env, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, errors="replace", start_new_session=True)
            except OSError as e:
                self.record(name, "fail", time.monotonic() - started, f"cannot start {cmd[0]}: {e}", log)
                return "fail", ""
            try:
                text, _ = p.communicate(timeout=limit)
                timed_out = False
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                text, _ = p.communicate()
                timed_out = True
            f.write(text)
        seconds = time.monotonic() - started
        if timed_out:
            self.record(name, "timeout", seconds, f"stopped after {limit:.0f} s", log)
            return "timeout", text
        if p.returncode not in ok_codes:
            tail = [line for line in text.strip().splitlines() if line.strip()][-3:]
            self.record(name, "fail", seconds, f"exit status {p.returncode}: " + " | ".join(tail)[-400:], log)
            return "fail", text
        self.record(name, "pass", seconds, "", log)
        return "pass", text


def query_device():
    """(device dict, None) when nvidia-smi sees a GPU, else (None, reason)."""
    smi = shutil.which("nvidia-smi")
    if not smi:
        return None, "no nvidia-smi on PATH (no NVIDIA driver)"
    try:
        r = subprocess.run([smi, "--query-gpu=name,driver_version,memory.total,compute_cap", "--format=csv,noheader"],
                           capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, f"nvidia-smi failed: {e}"
    rows = [r_.strip() for r_ in r.stdout.splitlines() if r_.strip()]
    if r.returncode != 0 or not rows:
        return None, f"nvidia-smi lists no GPU (exit status {r.returncode}: {(r.stderr or r.stdout).strip()[:200]})"
    fields = [x.strip() for x in rows[0].split(",")]
    while len(fields) < 4:
        fields.append("")
    return {"name": fields[0], "driver": fields[1], "memory": fields[2], "compute_capability": fields[3],
            "count": len(rows)}, None


def parse_junit(path: Path):
    """ctest's JUnit file → [{name, status, seconds, message}]."""
    tests = []
    for case in ET.parse(path).getroot().iter("testcase"):
        name = case.get("name", "?")
        out = "".join(e.text or "" for e in case.iter("system-out"))
        failure = case.find("failure")
        skipped = case.find("skipped")
        status_attr = case.get("status", "")
        if failure is not None or status_attr == "fail":
            status = "fail"
            message = failure_message(out) or (failure.get("message", "") if failure is not None else "")
        elif skipped is not None or status_attr in ("notrun", "disabled") or "[  SKIPPED ]" in out:
            status = "skip"
            message = skip_message(out) or (skipped.get("message", "") if skipped is not None else "")
        else:
            status, message = "pass", ""
        tests.append({"name": name, "status": status, "seconds": float(case.get("time", 0) or 0),
                      "message": message[:2000]})
    return tests


def skip_message(out: str) -> str:
    m = re.search(r"Skipped\n(.*?)\n", out)
    return m.group(1).strip() if m else ""


def failure_message(out: str) -> str:
    """GoogleTest's failure lines (file:line: Failure and what follows), joined."""
    lines = out.splitlines()
    keep = []
    for i, line in enumerate(lines):
        if ": Failure" in line or "C++ exception" in line or "error:" in line:
            keep.extend(lines[i:i + 8])
    return "\n".join(keep)


def run_ctest(check, name, build, args, timeout_s, jobs):
    junit = check.logs / f"{name}.xml"
    cmd = ["ctest", "--test-dir", build, "-L", "gpu", "--output-junit", junit, "--timeout", "120",
           "-j", str(jobs), "--no-tests=error"] + args
    status, _ = check.run(name, cmd, timeout_s)
    if junit.exists():
        try:
            for t in parse_junit(junit):
                t["part"] = name
                check.tests.append(t)
        except ET.ParseError as e:
            check.parts[-1]["reason"] += f" (JUnit file unreadable: {e})"
    return status


def run_figure(check, name, cmd, timeout_s, env=None):
    """A benchmark printing JSON lines; the last line that parses is the figure."""
    status, text = check.run(name, cmd, timeout_s, env=env)
    if status != "pass":
        return None
    for line in reversed(text.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                fig = json.loads(line)
            except json.JSONDecodeError:
                continue
            if "skipped" in fig:  # the benchmark itself declined (e.g. no vocabulary)
                check.parts[-1].update(status="skip", reason=str(fig["skipped"]))
                return None
            fig["part"] = name
            check.figures.append(fig)
            return fig
    check.parts[-1].update(status="fail", reason="printed no JSON line")
    return None


def find_vocab():
    for p in [os.environ.get("CLIPT_VOCAB", ""), ROOT / "shared/data/bpe_simple_vocab_16e6.txt.gz",
              ROOT.parent / "shared/data/bpe_simple_vocab_16e6.txt.gz"]:
        if p and Path(p).is_file():
            return Path(p)
    return None


def python_with_torch():
    """(python, None) when `import torch, transformers` works, else (None, reason)."""
    py = os.environ.get("PYTHON", "python3")
    try:
        r = subprocess.run([py, "-c", "import torch, transformers; print(torch.__version__, torch.cuda.is_available())"],
                           capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, f"{py} cannot import torch and transformers: {e}"
    if r.returncode != 0:
        last = (r.stderr.strip().splitlines() or ["?"])[-1]
        return None, f"{py} cannot import torch and transformers: {last}"
    return py, None


def ratio(check, name, ours, theirs, ours_key="ms_per_step"):
    if ours and theirs and ours.get(ours_key) and theirs.get("ms_per_step"):
        check.figures.append({"name": name, "part": "ratios", "clipt_ms": ours[ours_key],
                              "reference_ms": theirs["ms_per_step"],
                              "speedup": round(theirs["ms_per_step"] / ours[ours_key], 3)})


def run_benchmarks(check, build, gpu: bool, jobs: int):
    bench = build / "bench"
    py, torch_reason = python_with_torch()
    vocab = find_vocab()
    if gpu:
        coop_ours = ["--device", "cuda", "--steps", "20"]
        coop_ref = ["--device", "cuda", "--steps", "20"]
        dpc = ["--device", "cuda", "--steps", "20"]
        env = None
    else:  # the CPU halves at tiny sizes: they keep the scripts and the JSON working, not a measurement
        coop_ours = ["--device", "cpu", "--arch", "s16", "--classes", "4", "--batch", "2", "--n-ctx", "4", "--steps", "1"]
        coop_ref = ["--device", "cpu", "--arch", "s16", "--classes", "4", "--batch", "2", "--n-ctx", "4", "--steps", "1"]
        dpc = ["--device", "cpu", "--size", "small", "--classes", "4", "--batch", "2", "--top-k", "2", "--steps", "1"]
        env = {"OMP_NUM_THREADS": str(jobs)}
    # Without CLIP's vocabulary the benchmark learns a BPE from its prompts (recorded in the figure).
    ours = run_figure(check, "bench_coop_step",
                      [bench / "bench_coop_step", *coop_ours] + (["--vocab", vocab] if vocab else []), 90, env)
    # The same step replayed from one CUDA graph capture (CLIPT.CUDA_GRAPH): graphs on against off.
    if gpu:
        graphed = run_figure(check, "bench_coop_step_cuda_graph",
                             [bench / "bench_coop_step", *coop_ours, "--cuda-graph", "1"] +
                             (["--vocab", vocab] if vocab else []), 90, env)
        if ours and graphed and ours.get("ms_per_step") and graphed.get("ms_per_step"):
            check.figures.append({"name": "coop_step_cuda_graph_speedup", "part": "ratios",
                                  "eager_ms": ours["ms_per_step"], "graph_ms": graphed["ms_per_step"],
                                  "speedup": round(ours["ms_per_step"] / graphed["ms_per_step"], 3)})
    else:
        check.skip("bench_coop_step_cuda_graph", "CUDA graphs are measured on a GPU only")
    def torch_coop(compiled):
        name = "bench_coop_step_torch" + ("_compile" if compiled else "_eager")
        if not py:
            return check.skip(name, torch_reason)
        if compiled and not gpu:
            return check.skip(name, "torch.compile is measured on the GPU only (its compile time dwarfs a CPU step)")
        ref = run_figure(check, name, [py, ROOT / "bench/coop_step_torch.py", *coop_ref] + (["--compile"] if compiled else []),
                         240 if compiled else 90, env)
        ratio(check, "coop_step_speedup_vs_" + ("compile" if compiled else "eager"), ours, ref)

    torch_coop(compiled=False)
    dpc_ours = run_figure(check, "bench_dpc_step", [bench / "bench_dpc_step", *dpc, "--workers", str(min(jobs, 8))],
                          90, env)
    if py:
        dpc_ref = run_figure(check, "bench_dpc_step_torch_eager", [py, ROOT / "bench/dpc_step_torch.py", *dpc], 90, env)
        ratio(check, "dpc_step_speedup_vs_eager", dpc_ours, dpc_ref, ours_key="compute_ms")
    else:
        check.skip("bench_dpc_step_torch_eager", torch_reason)
    torch_coop(compiled=True)  # last: its compilation takes the longest and matters least


def git_state():
    try:
        commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "HEAD"], capture_output=True, text=True,
                                timeout=10).stdout.strip()
        dirty = bool(subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"],
                                    capture_output=True, text=True, timeout=10).stdout.strip())
        return {"commit": commit, "dirty": dirty}
    except (OSError, subprocess.TimeoutExpired):
        return {"commit": "", "dirty": None}


def write_summary(check, path: Path, summary):
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(summary, indent=2) + "\n")
    os.replace(tmp, path)  # atomic: a reader never sees half a summary


def main(argv):
    ap = argparse.ArgumentParser(prog="gpu_check.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("out_dir", help="folder for gpu_check.json and logs/ (created)")
    ap.add_argument("--build-dir", default=str(ROOT / "build-gpu-check"), help="build folder to configure and build")
    ap.add_argument("--reuse-build", metavar="DIR", help="use this existing build folder: no configure, no build")
    ap.add_argument("--cpu", action="store_true", help="run the CPU halves only, even when a GPU is present")
    ap.add_argument("--budget-s", type=float, default=540.0, help="the whole run's time budget (default 540)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2, help="parallel build and test jobs")
    a = ap.parse_args(argv)
    if a.budget_s <= 0 or a.jobs <= 0:
        ap.error("--budget-s and --jobs must be positive")
    out = Path(a.out_dir).resolve()
    check = Check(out, a.budget_s)
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())

    device, no_gpu = query_device()
    if a.cpu:
        device, no_gpu = None, "--cpu given: GPU parts not run"
    if device:
        check.record("device", "pass", reason="")
    else:
        check.skip("device", no_gpu)
    gpu = device is not None
    gpu_skip = f"no GPU: {no_gpu}"

    built = False
    if a.reuse_build:
        build = Path(a.reuse_build).resolve()
        check.skip("configure", f"--reuse-build {build}")
        missing = [t for t in ["tests/clipt_test_gpu", "bench/bench_coop_step", "bench/bench_dpc_step"]
                   if not (build / t).is_file()]
        if not (build / "CMakeCache.txt").is_file():
            check.record("build", "fail", reason=f"--reuse-build {build} is not a configured build folder (no CMakeCache.txt)")
        elif missing:
            check.record("build", "fail", reason=f"--reuse-build {build} lacks {', '.join(missing)}")
        else:
            check.skip("build", f"--reuse-build {build}")
            built = True
    else:
        build = Path(a.build_dir).resolve()
        cfg = ["cmake", "-S", ROOT, "-B", build, "-DCMAKE_BUILD_TYPE=Release"]
        if gpu:
            cfg.append("-DCMAKE_CUDA_ARCHITECTURES=native")  # the local GPU only: a third of the compile time
        if shutil.which("ccache"):
            cfg += ["-DCMAKE_CXX_COMPILER_LAUNCHER=ccache", "-DCMAKE_CUDA_COMPILER_LAUNCHER=ccache"]
        if check.run("configure", cfg, 120)[0] == "pass":
            built = check.run("build", ["cmake", "--build", build, "-j", str(a.jobs), "--target", *BUILD_TARGETS],
                              330)[0] == "pass"
        else:
            check.skip("build", "configure failed")

    if built:
        # Op-level CUDA tests; on a machine without a GPU they run and skip themselves (the CPU half).
        run_ctest(check, "gpu_tests", build, ["-E", WHOLE_MODEL_REGEX], 120, min(a.jobs, 8))
        run_ctest(check, "whole_model", build, ["-R", WHOLE_MODEL_REGEX], 150, min(a.jobs, 4))
    else:
        check.skip("gpu_tests", "no build")
        check.skip("whole_model", "no build")

    sanitizer = shutil.which("compute-sanitizer") or (
        "/usr/local/cuda/bin/compute-sanitizer" if Path("/usr/local/cuda/bin/compute-sanitizer").is_file() else None)
    if not gpu:
        check.skip("memcheck", gpu_skip)
    elif not sanitizer:
        check.skip("memcheck", "no compute-sanitizer on PATH or in /usr/local/cuda/bin")
    elif not built:
        check.skip("memcheck", "no build")
    else:
        check.run("memcheck", [sanitizer, "--tool", "memcheck", "--error-exitcode", "97", "--leak-check", "no",
                               build / "tests/clipt_test_gpu", f"--gtest_filter={MEMCHECK_FILTER}"], 120)

    if built:
        run_benchmarks(check, build, gpu, a.jobs)
    else:
        for name in ("bench_coop_step", "bench_coop_step_cuda_graph", "bench_coop_step_torch_eager",
                     "bench_coop_step_torch_compile", "bench_dpc_step", "bench_dpc_step_torch_eager"):
            check.skip(name, "no build")

    counts = {s: sum(1 for t in check.tests if t["status"] == s) for s in ("pass", "fail", "skip")}
    failed = [p["name"] for p in check.parts if p["status"] in ("fail", "timeout")]
    summary = {
        "schema": SCHEMA,
        "started_utc": started,
        "seconds": round(time.monotonic() - check.t0, 2),
        "budget_s": a.budget_s,
        "mode": "gpu" if gpu else "cpu",
        "device": device,
        "gpu_skip_reason": None if gpu else gpu_skip,
        "host": {"cores": os.cpu_count(), "jobs": a.jobs},
        "git": git_state(),
        "build_dir": str(build),
        "parts": check.parts,
        "tests": check.tests,
        "test_counts": counts,
        "figures": check.figures,
        "failed_parts": failed,
        "ok": not failed,
    }
    write_summary(check, out / "gpu_check.json", summary)
    print(f"gpu-check: {'all parts passed or skipped' if not failed else 'FAILED: ' + ', '.join(failed)}; "
          f"tests {counts['pass']} passed, {counts['fail']} failed, {counts['skip']} skipped; "
          f"summary in {out / 'gpu_check.json'}", flush=True)
    return 0 if not failed else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
