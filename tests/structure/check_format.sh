#!/usr/bin/env bash
# Fails when a C++/CUDA source differs from what clang-format makes of it (style: .clang-format).
# Generated tables (first line "// GENERATED ...") are left as their generator writes them.
# Usage: tests/structure/check_format.sh [--fix]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
fmt=""
for candidate in clang-format clang-format-14 clang-format-15 clang-format-16 clang-format-17 clang-format-18 clang-format-19; do
  if command -v "$candidate" >/dev/null 2>&1; then fmt="$candidate"; break; fi
done
if [ -z "$fmt" ]; then
  echo "check_format: clang-format not found (./clipt.sh test installs it)" >&2
  exit 1
fi
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  mapfile -t files < <(git ls-files --cached --others --exclude-standard -- '*.cpp' '*.h' '*.cu' '*.cuh')
else
  mapfile -t files < <(find apps bench data engine kernels methods models tests \( -name '*.cpp' -o -name '*.h' -o -name '*.cu' -o -name '*.cuh' \) -type f)
fi
bad=()
for f in "${files[@]}"; do
  [ -f "$f" ] || continue
  head -1 "$f" | grep -q '^// GENERATED' && continue
  if [ "${1:-}" = "--fix" ]; then
    "$fmt" -i --style=file "$f"
  elif ! "$fmt" --style=file --dry-run -Werror "$f" >/dev/null 2>&1; then
    bad+=("$f")
  fi
done
if [ ${#bad[@]} -gt 0 ]; then
  echo "check_format: ${#bad[@]} file(s) differ from clang-format ($fmt); run tests/structure/check_format.sh --fix:" >&2
  printf '  %s\n' "${bad[@]}" >&2
  exit 1
fi
echo "check_format: ${#files[@]} files checked with $fmt"
