"""Trains Larder's ranking model ranker_v1 on a point-in-time training set.

Input: the Parquet file `larder export --features recommendation_v1 --entities spine` wrote
(one row per product page view, `label` = added to cart or bought within the hour, every
feature as of the view's timestamp). The feature matrix is encoded exactly as Larder encodes
it at serving time (models/input-encoding.ts), from the same mapping file
(examples/ecommerce/models/ranker_v1.inputs.json), so training and serving agree column for column.

Split by time (the last 20% of the span is held out), gradient-boosted trees, exported to
ONNX with skl2onnx (input "input": float32 [batch, width]; output "probabilities").
Reports held-out ROC AUC and log loss against a popularity baseline (product views in the
last 24h, calibrated by a one-feature logistic regression on the training part).

    python examples/ecommerce/training/train_ranker.py --train train.parquet --out examples/ecommerce/models/ranker_v1.onnx \
        --report docs/models/ranker_v1.md
"""
import argparse
import datetime
import json
import math
import os
import sys

import numpy as np
import pandas as pd
import skl2onnx
import sklearn
from skl2onnx import to_onnx
from skl2onnx.common.data_types import FloatTensorType
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def encode(df: pd.DataFrame, mapping: list) -> tuple[np.ndarray, list[str]]:
    """The serving-side encoding (models/input-encoding.ts), column for column."""
    cols: list[np.ndarray] = []
    names: list[str] = []
    n = len(df)
    for m in mapping:
        name = m["feature"].split(":")[1]
        transform = m.get("transform", "float")
        fill = float(m.get("fill", 0))
        vocab = m.get("vocabulary") or []
        raw = df[name] if name in df.columns else pd.Series([None] * n)
        is_null = raw.isna().to_numpy()
        if transform == "float":
            cols.append(np.where(is_null, fill, pd.to_numeric(raw, errors="coerce").fillna(fill)).astype(np.float32))
            names.append(name)
        elif transform == "bool":
            cols.append(np.where(is_null, fill, raw.fillna(False).astype(bool).astype(np.float32)).astype(np.float32))
            names.append(name)
        elif transform == "index":
            index = {v: i for i, v in enumerate(vocab)}
            cols.append(np.array([fill if (v is None or v != v or v not in index) else index[v] for v in raw], dtype=np.float32))
            names.append(name)
        elif transform == "one_hot":
            for v in vocab:
                cols.append((raw == v).fillna(False).to_numpy().astype(np.float32))
                names.append(f"{name}={v}")
        else:
            raise SystemExit(f"unknown transform {transform!r} for {m['feature']}")
        if m.get("missingIndicator"):
            cols.append(is_null.astype(np.float32))
            names.append(f"{name}__missing")
    return np.stack(cols, axis=1), names


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--train", required=True, help="Parquet training set from larder export")
    ap.add_argument("--mapping", default=os.path.join(os.path.dirname(__file__), "..", "models", "ranker_v1.inputs.json"))
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "ranker_v1.onnx"))
    ap.add_argument("--report", default=None, help="Markdown model card to write")
    ap.add_argument("--data", default="", help="a sentence describing the data, for the model card")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--kind", choices=["gbdt", "logreg"], default="gbdt", help="gradient-boosted trees, or a scaled logistic regression")
    ap.add_argument("--name", default="ranker_v1", help="model name, for the model card")
    args = ap.parse_args()

    mapping = json.load(open(args.mapping))
    df = pd.read_parquet(args.train).sort_values("event_timestamp", kind="stable").reset_index(drop=True)
    if "label" not in df.columns:
        raise SystemExit(f"{args.train} has no 'label' column: build the spine with `larder label`")
    X, names = encode(df, mapping)
    y = df["label"].astype(int).to_numpy()
    cut = int(len(df) * 0.8)
    t_cut = int(df["event_timestamp"].iloc[cut])
    Xtr, Xte, ytr, yte = X[:cut], X[cut:], y[:cut], y[cut:]

    if args.kind == "gbdt":
        model = GradientBoostingClassifier(n_estimators=120, max_depth=4, learning_rate=0.1, subsample=0.8, random_state=args.seed)
        described = "`GradientBoostingClassifier` (120 trees of depth 4, learning rate 0.1, subsample 0.8)"
    else:
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
        described = "`StandardScaler` + `LogisticRegression`"
    model.fit(Xtr, ytr)
    p = model.predict_proba(Xte)[:, 1]

    pop_col = names.index("views_24h")
    pop = LogisticRegression().fit(np.log1p(Xtr[:, [pop_col]]), ytr)
    p_pop = pop.predict_proba(np.log1p(Xte[:, [pop_col]]))[:, 1]
    base_rate = float(ytr.mean())

    metrics = {
        "rows": int(len(df)),
        "train_rows": int(cut),
        "test_rows": int(len(df) - cut),
        "positive_rate_train": base_rate,
        "positive_rate_test": float(yte.mean()),
        "auc": float(roc_auc_score(yte, p)),
        "logloss": float(log_loss(yte, p)),
        "auc_popularity": float(roc_auc_score(yte, Xte[:, pop_col])),
        "logloss_popularity": float(log_loss(yte, p_pop)),
        "logloss_base_rate": float(log_loss(yte, np.full(len(yte), base_rate))),
        "width": int(X.shape[1]),
    }

    onx = to_onnx(
        model,
        initial_types=[("input", FloatTensorType([None, X.shape[1]]))],
        options={id(model): {"zipmap": False}},
        target_opset=17,
    )
    with open(args.out, "wb") as f:
        f.write(onx.SerializeToString())
    print(json.dumps(metrics, indent=2))

    if args.report:
        start = datetime.datetime.fromtimestamp(int(df["event_timestamp"].iloc[0]) / 1000, datetime.timezone.utc)
        end = datetime.datetime.fromtimestamp(int(df["event_timestamp"].iloc[-1]) / 1000, datetime.timezone.utc)
        cut_dt = datetime.datetime.fromtimestamp(t_cut / 1000, datetime.timezone.utc)
        os.makedirs(os.path.dirname(args.report), exist_ok=True)
        with open(args.report, "w") as f:
            f.write(f"""# {args.name}

Ranking model for (user, candidate product) pairs, scored by `larder serve` on the
`recommendation_v1` feature service. Trained {datetime.date.today().isoformat()} by
`npm run train:ranker` (examples/ecommerce/training/train_ranker.py).

## Data
{args.data}
Spine: every product page view of a logged-in user (`larder label`); label 1 when the user
added that product to the cart or bought it within the following hour. Features: the
`recommendation_v1` export at each view's timestamp (`larder export`), so no feature sees
anything after the view.

- rows: {metrics['rows']:,} ({start:%Y-%m-%d %H:%M} → {end:%Y-%m-%d %H:%M} UTC)
- split by time at {cut_dt:%Y-%m-%d %H:%M} UTC: {metrics['train_rows']:,} train / {metrics['test_rows']:,} held out
- positive rate: {metrics['positive_rate_train']:.4f} train, {metrics['positive_rate_test']:.4f} held out

## Model
scikit-learn {sklearn.__version__} {described}, exported with skl2onnx {skl2onnx.__version__} (opset 17). Input `input`:
float32 [batch, {metrics['width']}], encoded from `examples/ecommerce/models/ranker_v1.inputs.json`; output
`probabilities` (column 1 = P(cart or purchase within the hour)).

## Held-out metrics
| model | ROC AUC | log loss |
|---|---|---|
| {args.name} | {metrics['auc']:.4f} | {metrics['logloss']:.4f} |
| popularity (product views, last 24h) | {metrics['auc_popularity']:.4f} | {metrics['logloss_popularity']:.4f} |
| base rate | 0.5 | {metrics['logloss_base_rate']:.4f} |

## Input columns ({metrics['width']})
{', '.join(f'`{n}`' for n in names)}
""")
    if not math.isfinite(metrics["auc"]):
        sys.exit(1)


if __name__ == "__main__":
    main()
