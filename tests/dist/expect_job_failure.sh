#!/usr/bin/env bash
# Runs a command that must fail: passes when it exits non-zero and its output contains PATTERN
# (an extended regular expression). ctest's TIMEOUT turns a hang into a failure.
#   expect_job_failure.sh PATTERN COMMAND...
set -u
pattern="$1"
shift
output=$("$@" 2>&1)
rc=$?
printf '%s\n' "$output"
if [ "$rc" -eq 0 ]; then
  echo "expect_job_failure: the command succeeded; it should have failed" >&2
  exit 1
fi
if ! printf '%s\n' "$output" | grep -Eq -- "$pattern"; then
  echo "expect_job_failure: exit code $rc, but no output line matches '$pattern'" >&2
  exit 1
fi
echo "expect_job_failure: exit code $rc with the expected message"
