#!/usr/bin/env bash
# `npm run check`: tsc (strict), ESLint, Prettier and the layer rules (dependency-cruiser),
# side by side. Each uses about one core (tsc 20 s, ESLint 16, Prettier 20, layers 5 on
# 2026-12-08), so in sequence they took ~60 s on 2 cores, side by side ~35 s.
# Each tool's output is printed after it ends, whole and in this order; the exit code is the
# first failure's (0 when all pass), and every tool runs even when another fails.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=node_modules/.bin
names=(tsc eslint prettier layers)
cmds=(
  "$BIN/tsc --noEmit"
  "$BIN/eslint ."
  "$BIN/prettier --check . --log-level warn"
  "npm run --silent layers"
)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
pids=()
for i in "${!cmds[@]}"; do
  ${cmds[$i]} >"$out/$i" 2>&1 &
  pids+=($!)
done
status=0
for i in "${!cmds[@]}"; do
  wait "${pids[$i]}"
  code=$?
  cat "$out/$i"
  if [ "$code" -ne 0 ]; then
    echo "check: ${names[$i]} failed (exit $code)" >&2
    [ "$status" -eq 0 ] && status=$code
  fi
done
exit "$status"
