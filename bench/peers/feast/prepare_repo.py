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
# Counts and sums: Larder answers 0 for an entity its view never saw (an empty window), Feast
# answers null (NOT_FOUND) for a key absent from the source. The grid files get rows for those
# entities (known from another view with the same key: a user who never completed an order) with
# 0 for these and null for the rest, so that both serve the same values.
ZERO = {
    "user_activity": ["page_views_1h", "page_views_7d", "clicks_1h", "cart_adds_7d", "searches_24h", "events_24h"],
    "user_purchases": ["purchases_30d", "spend_30d"],
    "product_engagement": ["views_5m", "views_1h", "views_24h", "cart_adds_24h", "purchases_24h"],
    "product_catalog": [],
}


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
    tables: dict[str, pa.Table] = {}
    ids: dict[str, set[str]] = {}
    for view in VIEWS:
        t = pq.read_table(Path(a.exports) / f"{view}.parquet")
        i = t.schema.get_field_index("event_timestamp")
        t = t.set_column(i, "event_timestamp", pc.cast(t.column(i), pa.timestamp("ms", tz="UTC")))
        tables[view] = t
        key = t.column_names[0]
        ids.setdefault(key, set()).update(t.column(key).to_pylist())
    for view, t in tables.items():
        key = t.column_names[0]
        missing = sorted(ids[key] - set(t.column(key).to_pylist()))
        if missing:
            times = pc.unique(t.column("event_timestamp")).to_pylist()
            n = len(missing) * len(times)
            cols = {}
            for f in t.schema:
                if f.name == key:
                    cols[f.name] = pa.array([k for k in missing for _ in times], f.type)
                elif f.name == "event_timestamp":
                    cols[f.name] = pa.array(times * len(missing), f.type)
                elif f.name in ZERO[view]:
                    cols[f.name] = pa.array([0] * n, f.type)
                else:
                    cols[f.name] = pa.nulls(n, f.type)
            t = pa.concat_tables([t, pa.table(cols, schema=t.schema)])
        pq.write_table(t, data / f"{view}.parquet")
        print(f"{view}: {t.num_rows} rows, {t.num_columns} columns ({len(missing)} entities padded)")
    ids = {k: sorted(v) for k, v in ids.items()}  # type: ignore[misc]

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
