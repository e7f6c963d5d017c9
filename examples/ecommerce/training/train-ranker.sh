#!/usr/bin/env bash
# `npm run train:ranker`: the ranker's training loop, for real, end to end:
#   generate history → apply examples/ecommerce/features/ → label spine → point-in-time export → train (Python)
# → examples/ecommerce/models/ranker_v1.onnx + docs/models/ranker_v1.md. Works in .cache/train/ so it never
# touches your data/ or .larder/. The Python stack is pinned in examples/ecommerce/training/requirements.txt and
# installed from PyPI into .cache/py/venv.
set -euo pipefail
cd "$(dirname "$0")/../../.."
VENV=.cache/py/venv
WORK=.cache/train
EVENTS="${TRAIN_EVENTS:-1000000}"
if [ ! -x "$VENV/bin/python" ]; then python3 -m venv "$VENV"; fi
"$VENV/bin/pip" install -q -r examples/ecommerce/training/requirements.txt
export LARDER_HOME="$WORK/home" LARDER_DATA_DIR="$WORK/data"
larder() { node bin/larder.js "$@"; }
larder gen-data --users 3000 --products 500 --days 14 --events "$EVENTS" --seed 42 --end 2026-11-01T00:00:00Z
larder apply >/dev/null
larder label --out "$WORK/spine.parquet" --start 2026-10-20T00:00:00Z --limit 250000
larder export --features recommendation_v1 --entities "$WORK/spine.parquet" --out "$WORK/train.parquet"
"$VENV/bin/python" examples/ecommerce/training/train_ranker.py --train "$WORK/train.parquet" \
  --out examples/ecommerce/models/ranker_v1.onnx --report docs/models/ranker_v1.md \
  --data "Synthetic history from \`larder gen-data --users 3000 --products 500 --days 14 --events $EVENTS --seed 42 --end 2026-11-01T00:00:00Z\`; spine sampled to 250,000 views from 2026-10-20 on (so every 7-day feature has a full history)."
"$VENV/bin/python" examples/ecommerce/training/train_ranker.py --train "$WORK/train.parquet" --kind logreg --name ranker_lr \
  --out examples/ecommerce/models/ranker_lr.onnx --report docs/models/ranker_lr.md \
  --data "The same training set as ranker_v1 (see docs/models/ranker_v1.md)."
