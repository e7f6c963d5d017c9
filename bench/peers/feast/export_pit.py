"""Feast's point-in-time export of recommendation_v1 for an entity file, timed.

    python export_pit.py --repo DIR --entities FILE --out FILE.parquet

Prints one JSON line: rows, columns, seconds (get_historical_features(...).to_df()), and
total_seconds (including FeatureStore() and reading the entity file).
"""

import argparse
import json
import time

t0 = time.perf_counter()
import pandas as pd  # noqa: E402
from feast import FeatureStore  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repo", required=True)
    ap.add_argument("--entities", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    store = FeatureStore(repo_path=a.repo)
    entity_df = pd.read_parquet(a.entities)
    service = store.get_feature_service("recommendation_v1")
    t1 = time.perf_counter()
    df = store.get_historical_features(entity_df=entity_df, features=service).to_df()
    t2 = time.perf_counter()
    df.to_parquet(a.out, index=False)
    print(
        json.dumps(
            {
                "rows": int(len(df)),
                "columns": int(len(df.columns)),
                "seconds": round(t2 - t1, 3),
                "total_seconds": round(time.perf_counter() - t0, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
