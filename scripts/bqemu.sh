#!/usr/bin/env bash
# Installs (once) and starts the local BigQuery emulator used by
# test/offline/bigquery-emulator.services.test.ts: bqemulator from PyPI in .cache/py/bqemu.
# It needs DuckDB's spatial extension, which it would download at start-up; we pin DuckDB 1.5.5
# and take the extension from the duckdb-extension-spatial wheel instead, placed under a
# private HOME (.cache/py/home) so nothing outside the project is touched.
#   bash scripts/bqemu.sh install
#   bash scripts/bqemu.sh start PORT      # foreground
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.cache/py/bqemu
HOME_DIR="$PWD/.cache/py/home"
case "${1:-}" in
  install)
    if [ ! -x "$VENV/bin/bqemulator" ]; then
      python3 -m venv "$VENV"
      "$VENV/bin/pip" install -q bqemulator==1.4.0 duckdb==1.5.5 duckdb-extension-spatial==1.5.5 numpy
    fi
    ext="$HOME_DIR/.duckdb/extensions/v1.5.5/linux_amd64"
    mkdir -p "$ext"
    cp "$VENV"/lib/python3*/site-packages/duckdb_extension_spatial/extensions/v1.5.5/spatial.duckdb_extension "$ext/"
    ;;
  start)
    exec env HOME="$HOME_DIR" "$VENV/bin/bqemulator" start --rest-port "${2:-9050}" --grpc-port 0 \
      --project larder-test --log-level warning
    ;;
  *)
    echo "usage: $0 install | start [PORT]" >&2
    exit 2
    ;;
esac
