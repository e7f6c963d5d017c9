#!/usr/bin/env bash
# Creates .cache/peers/feast-venv and installs the pinned Feast (with its Redis and DuckDB
# extras) from PyPI. Idempotent: does nothing when the venv already has the pinned versions.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
VENV="$ROOT/.cache/peers/feast-venv"
PY="${PYTHON:-python3}"
STAMP="$VENV/.larder-installed"
want="$(cat "$HERE"/requirements.txt "$HERE"/constraints*.txt 2>/dev/null | sha256sum | cut -c1-16 || true)"
if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$want" && -x "$VENV/bin/feast" ]]; then
  echo "feast venv up to date: $VENV ($("$VENV/bin/python" -c 'import feast; print(feast.__version__)'))"
  exit 0
fi
mkdir -p "$(dirname "$VENV")"
[[ -x "$VENV/bin/python" ]] || "$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
args=(-r "$HERE/requirements.txt")
[[ -f "$HERE/constraints.txt" ]] && args+=(-c "$HERE/constraints.txt")
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${args[@]}"
echo "$want" >"$STAMP"
echo "feast venv ready: $VENV ($("$VENV/bin/python" -c 'import feast; print(feast.__version__)'))"
