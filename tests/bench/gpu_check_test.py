#!/usr/bin/env python3
"""The GPU check (bench/gpu_check.py) in its CPU mode over the existing build folder, as CI runs it:

  1. a full CPU-mode run: exit status 0, and gpu_check.json has the documented structure: the device is
     null with the reason the GPU parts were skipped; every part has a known status, seconds and a reason
     when skipped; the GPU-only parts (memcheck, the PyTorch torch.compile reference) are skipped naming
     the missing GPU; the gpu-labelled tests all ran, none failed, those needing a device skipped naming it,
     the whole-model ones (CudaClipTowers, CudaMethodStep, CudaMethodStepDpc, CudaTrainerResume) among
     them and in their own part;
     clipt's CPU benchmark figures carry their timing field; every part's log exists.
  2. a run over a folder that is not a build: exit status 1, the build part failed naming the folder, the
     parts that need the build are skipped ("no build"), and the summary is still written.
  3. bad arguments: exit status 2 and no summary.

    tests/bench/gpu_check_test.py BUILD_DIR SCRATCH_DIR"""
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHECK = ROOT / "bench" / "gpu_check.py"
STATUSES = {"pass", "fail", "skip", "timeout"}
WHOLE_MODEL_SUITES = ("CudaClipTowers.", "CudaMethodStep.", "CudaMethodStepDpc.", "CudaTrainerResume.")
failures = []


def expect(cond, message):
    if not cond:
        failures.append(message)
        print("FAIL: " + message, flush=True)


def run_check(out, *args):
    args = [str(a) for a in args]
    r = subprocess.run([sys.executable, CHECK, out, *args], capture_output=True, text=True, timeout=300)
    print(f"$ gpu_check.py {out} {' '.join(args)} -> exit {r.returncode}\n{r.stdout}{r.stderr}", flush=True)
    return r


def load(out):
    path = Path(out) / "gpu_check.json"
    expect(path.is_file(), f"{path} was not written")
    return json.loads(path.read_text()) if path.is_file() else None


def parts_by_name(summary):
    return {p["name"]: p for p in summary["parts"]}


def check_common_structure(s, out):
    for key, kind in [("schema", int), ("started_utc", str), ("seconds", (int, float)), ("budget_s", (int, float)),
                      ("mode", str), ("host", dict), ("git", dict), ("build_dir", str), ("parts", list),
                      ("tests", list), ("test_counts", dict), ("figures", list), ("failed_parts", list),
                      ("ok", bool)]:
        expect(isinstance(s.get(key), kind), f"key {key!r} missing or not {kind}: {s.get(key)!r}")
    expect(s["schema"] == 1, f"schema {s['schema']}")
    names = [p.get("name") for p in s["parts"]]
    for required in ("device", "configure", "build", "gpu_tests", "whole_model", "memcheck", "bench_coop_step",
                     "bench_coop_step_cuda_graph", "bench_coop_step_torch_eager", "bench_coop_step_torch_compile", "bench_dpc_step",
                     "bench_dpc_step_torch_eager"):
        expect(names.count(required) == 1, f"part {required} appears {names.count(required)} times in {names}")
    for p in s["parts"]:
        expect(p.get("status") in STATUSES, f"part {p.get('name')}: status {p.get('status')!r}")
        expect(isinstance(p.get("seconds"), (int, float)) and p["seconds"] >= 0, f"part {p['name']}: seconds")
        expect(isinstance(p.get("reason"), str), f"part {p['name']}: reason")
        if p["status"] != "pass":
            expect(p["reason"], f"part {p['name']} is {p['status']} without a reason")
        if "log" in p:
            expect((Path(out) / p["log"]).is_file(), f"part {p['name']}: log {p['log']} missing")
    expect(s["failed_parts"] == [p["name"] for p in s["parts"] if p["status"] in ("fail", "timeout")],
           f"failed_parts {s['failed_parts']} disagrees with the parts")
    expect(s["ok"] == (not s["failed_parts"]), "ok disagrees with failed_parts")
    for t in s["tests"]:
        expect(set(t) >= {"name", "status", "seconds", "message", "part"}, f"test entry {t}")
        expect(t["status"] in ("pass", "fail", "skip"), f"test {t.get('name')}: status {t.get('status')!r}")
    counts = {k: sum(1 for t in s["tests"] if t["status"] == k) for k in ("pass", "fail", "skip")}
    expect(s["test_counts"] == counts, f"test_counts {s['test_counts']} vs {counts}")


def test_cpu_mode(build, scratch):
    out = scratch / "cpu"
    r = run_check(out, "--reuse-build", build, "--cpu", "--jobs", os.environ.get("GPU_CHECK_TEST_JOBS", "2"))
    expect(r.returncode == 0, f"CPU-mode run exited {r.returncode}")
    s = load(out)
    if s is None:
        return
    check_common_structure(s, out)
    expect(s["mode"] == "cpu" and s["device"] is None, f"mode {s['mode']}, device {s['device']}")
    expect("--cpu" in (s["gpu_skip_reason"] or ""), f"gpu_skip_reason {s['gpu_skip_reason']!r}")
    p = parts_by_name(s)
    expect(p["configure"]["status"] == "skip" and "--reuse-build" in p["configure"]["reason"], "configure not reused")
    expect(p["build"]["status"] == "skip", f"build: {p['build']}")
    for name in ("gpu_tests", "whole_model"):
        expect(p[name]["status"] == "pass", f"{name}: {p[name]}")
    expect(p["memcheck"]["status"] == "skip" and "no GPU" in p["memcheck"]["reason"], f"memcheck: {p['memcheck']}")
    graph_part = p["bench_coop_step_cuda_graph"]
    expect(graph_part["status"] == "skip" and "GPU" in graph_part["reason"], f"CUDA graph part: {graph_part}")
    compile_part = p["bench_coop_step_torch_compile"]
    expect(compile_part["status"] == "skip", f"torch.compile part: {compile_part}")
    # Every gpu-labelled test ran: none failed, and those that need a device skipped themselves, saying so
    # (the host halves of the runtime tests pass without one).
    expect(len(s["tests"]) >= 30, f"only {len(s['tests'])} gpu tests recorded")
    failed = [t["name"] for t in s["tests"] if t["status"] == "fail"]
    expect(not failed, f"gpu tests failed on a machine without a GPU: {failed[:5]}")
    skipped = [t for t in s["tests"] if t["status"] == "skip"]
    expect(len(skipped) >= 30, f"only {len(skipped)} gpu tests skipped")
    expect(all("CUDA device" in t["message"] for t in skipped),
           "a skipped test's message does not name the missing CUDA device: " +
           str(next((t for t in skipped if "CUDA device" not in t["message"]), None)))
    whole = [t for t in s["tests"] if t["part"] == "whole_model"]
    expect(all(t["status"] == "skip" for t in whole), "a whole-model test did not skip without a GPU")
    for suite in WHOLE_MODEL_SUITES:
        expect(any(suite in t["name"] for t in whole), f"no whole-model test of suite {suite} recorded")
    expect(all(any(suite in t["name"] for suite in WHOLE_MODEL_SUITES) for t in whole),
           "a test outside the whole-model suites ran in the whole_model part")
    expect(not any(any(suite in t["name"] for suite in WHOLE_MODEL_SUITES) for t in s["tests"] if t["part"] == "gpu_tests"),
           "a whole-model test ran in the gpu_tests part as well")
    # clipt's own CPU benchmark figures (or the benchmark's reason for declining).
    fig = {f["name"]: f for f in s["figures"]}
    expect(p["bench_coop_step"]["status"] == "pass", f"bench_coop_step: {p['bench_coop_step']}")
    expect(fig.get("coop_step", {}).get("ms_per_step", 0) > 0, f"coop_step figure: {fig.get('coop_step')}")
    expect(p["bench_dpc_step"]["status"] == "pass", f"bench_dpc_step: {p['bench_dpc_step']}")
    expect(fig.get("dpc_step", {}).get("compute_ms", 0) > 0, f"dpc_step figure: {fig.get('dpc_step')}")


def test_missing_build(scratch):
    out = scratch / "nobuild"
    not_a_build = scratch / "not-a-build"
    not_a_build.mkdir(parents=True, exist_ok=True)
    r = run_check(out, "--reuse-build", not_a_build, "--cpu", "--jobs", "1")
    expect(r.returncode == 1, f"run over a missing build exited {r.returncode}, not 1")
    s = load(out)
    if s is None:
        return
    check_common_structure(s, out)
    p = parts_by_name(s)
    expect(p["build"]["status"] == "fail" and str(not_a_build) in p["build"]["reason"], f"build: {p['build']}")
    for name in ("gpu_tests", "whole_model", "bench_coop_step", "bench_dpc_step"):
        expect(p[name]["status"] == "skip" and p[name]["reason"] == "no build", f"{name}: {p[name]}")
    expect(s["failed_parts"] == ["build"] and s["ok"] is False, f"failed_parts {s['failed_parts']}")
    expect("FAILED: build" in r.stdout, "the closing line does not name the failed part")


def test_bad_arguments(scratch):
    out = scratch / "badargs"
    r = run_check(out, "--budget-s", "-3")
    expect(r.returncode == 2, f"a negative budget exited {r.returncode}, not 2")
    expect("--budget-s" in r.stderr, "the error does not name --budget-s")
    expect(not (out / "gpu_check.json").exists(), "a summary was written for bad arguments")


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    build, scratch = Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve()
    scratch.mkdir(parents=True, exist_ok=True)
    test_bad_arguments(scratch)
    test_missing_build(scratch)
    test_cpu_mode(build, scratch)
    print(f"{len(failures)} failure(s)" if failures else "gpu_check_test: all checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
