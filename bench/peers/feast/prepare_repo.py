"""Builds the Feast repository of the benchmark from the committed files and Larder's exports.

    python prepare_repo.py --exports DIR --repo DIR [--entities FILE --rows N --start MS --end MS]

--exports holds `larder export` grid files, one per feature view (<view>.parquet, event_timestamp
in epoch ms); they are copied into <repo>/data/<view>.parquet with event_timestamp as a UTC
timestamp, which is what a Feast FileSource reads. With --entities, also writes the entity file of
the point-in-time export (the same file is given to both systems): N rows of (user_id,
product_id, event_timestamp), user and product drawn uniformly from the known ids, time uniform
in [start, end] at millisecond resolution, seed 42. With --ids, writes the known ids as JSON.
"""

import argparse
import json
import random
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
VIEWS = ["user_activity", "user_purchases", "product_engagement", "product_catalog"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--exports", required=True)
    ap.add_argument("--repo", required=True)
    ap.add_argument("--entities")
    ap.add_argument("--ids", help="write the known user and product ids here (JSON)")
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--start", type=int)
    ap.add_argument("--end", type=int)
    a = ap.parse_args()

    repo = Path(a.repo)
    data = repo / "data"
    if data.exists():
        shutil.rmtree(data)
    data.mkdir(parents=True)
    for f in ["feature_store.yaml", "features.py"]:
        shutil.copy(HERE / f, repo / f)
    ids: dict[str, list[str]] = {}
    for view in VIEWS:
        t = pq.read_table(Path(a.exports) / f"{view}.parquet")
        i = t.schema.get_field_index("event_timestamp")
        ts = pc.cast(t.column(i), pa.timestamp("ms", tz="UTC"))
        t = t.set_column(i, "event_timestamp", ts)
        pq.write_table(t, data / f"{view}.parquet")
        key = t.column_names[0]
        ids.setdefault(key, sorted(set(t.column(key).to_pylist())))
        print(f"{view}: {t.num_rows} rows, {t.num_columns} columns")

    if a.ids:
        Path(a.ids).write_text(json.dumps(ids))
    if a.entities:
        rng = random.Random(42)
        users, products = ids["user_id"], ids["product_id"]
        n = a.rows
        rows = {
            "user_id": [rng.choice(users) for _ in range(n)],
            "product_id": [rng.choice(products) for _ in range(n)],
            "event_timestamp": pa.array(
                [rng.randint(a.start, a.end) for _ in range(n)], pa.int64()
            ).cast(pa.timestamp("ms", tz="UTC")),
        }
        pq.write_table(pa.table(rows), a.entities)
        print(f"entities: {n} rows → {a.entities}")


if __name__ == "__main__":
    main()
