"""recommendation_v1 (26 features) as a Feast repository, mirroring Larder's features/.

Feast has no windowed-aggregation engine, so the four batch feature views read Parquet files that
Larder itself computed (`larder export --start --end --every 1h`, one row per entity per hour; see
prepare_repo.py). Feast then serves, online, the row of the last materialized grid time, and
offline, as of an entity row's time t, the newest grid row at or before t (staleness < 1 h), where
Larder evaluates the sliding window at t itself.

The on-demand views are Python `on_demand_feature_view`s with the formulas of
features/on-demand.ts. `last_activity_days_ago` needs the evaluation time: offline it is the
entity row's event_timestamp (Feast passes the whole joined table to the transform), online the
wall clock at request time (Feast's online request carries no timestamp), as in `larder serve`.
"""

from datetime import timedelta
from pathlib import Path

from feast import Entity, FeatureService, FeatureView, Field, FileSource, ValueType
from feast.on_demand_feature_view import on_demand_feature_view
from feast.types import Bool, Float64, Int64, String

DATA = Path(__file__).resolve().parent / "data"

user = Entity(name="user", join_keys=["user_id"], value_type=ValueType.STRING)
product = Entity(name="product", join_keys=["product_id"], value_type=ValueType.STRING)


def _source(view: str) -> FileSource:
    return FileSource(
        name=f"{view}_grid",
        path=str(DATA / f"{view}.parquet"),
        timestamp_field="event_timestamp",
    )


user_activity = FeatureView(
    name="user_activity",
    entities=[user],
    ttl=timedelta(days=30),
    schema=[
        Field(name="page_views_1h", dtype=Int64),
        Field(name="page_views_7d", dtype=Int64),
        Field(name="clicks_1h", dtype=Int64),
        Field(name="cart_adds_7d", dtype=Int64),
        Field(name="searches_24h", dtype=Int64),
        Field(name="events_24h", dtype=Int64),
        Field(name="last_platform", dtype=String),
        Field(name="last_event_ts", dtype=Int64),
    ],
    source=_source("user_activity"),
    online=True,
)

user_purchases = FeatureView(
    name="user_purchases",
    entities=[user],
    ttl=timedelta(days=90),
    schema=[
        Field(name="purchases_30d", dtype=Int64),
        Field(name="spend_30d", dtype=Float64),
        Field(name="avg_order_value_30d", dtype=Float64),
        Field(name="max_order_value_30d", dtype=Float64),
        Field(name="preferred_category_30d", dtype=String),
    ],
    source=_source("user_purchases"),
    online=True,
)

product_engagement = FeatureView(
    name="product_engagement",
    entities=[product],
    ttl=timedelta(days=7),
    schema=[
        Field(name="views_5m", dtype=Int64),
        Field(name="views_1h", dtype=Int64),
        Field(name="views_24h", dtype=Int64),
        Field(name="cart_adds_24h", dtype=Int64),
        Field(name="purchases_24h", dtype=Int64),
    ],
    source=_source("product_engagement"),
    online=True,
)

product_catalog = FeatureView(
    name="product_catalog",
    entities=[product],
    ttl=timedelta(days=30),
    schema=[
        Field(name="price", dtype=Float64),
        Field(name="category", dtype=String),
    ],
    source=_source("product_catalog"),
    online=True,
)


# The transforms are serialized into the registry by their code alone: every helper they use is
# defined inside them (module-level names are not there when the feature server runs them).


@on_demand_feature_view(
    sources=[user_activity[["last_event_ts"]]],
    schema=[Field(name="last_activity_days_ago", dtype=Int64)],
    mode="python",
)
def user_recency(inputs: dict) -> dict:
    import math
    import time

    day_ms = 86_400_000
    last = inputs["last_event_ts"]
    # Evaluation time per row: the entity row's time offline, the wall clock online.
    ts = inputs.get("event_timestamp")
    if ts is None:
        t = [int(time.time() * 1000)] * len(last)
    else:
        t = [None if x is None else int(x.timestamp() * 1000) for x in ts]
    return {
        "last_activity_days_ago": [
            None if a is None or now is None else math.floor((now - a) / day_ms)
            for a, now in zip(last, t)
        ]
    }


@on_demand_feature_view(
    sources=[product_engagement[["views_24h", "cart_adds_24h", "purchases_24h"]]],
    schema=[
        Field(name="view_to_cart_rate_24h", dtype=Float64),
        Field(name="cart_to_purchase_rate_24h", dtype=Float64),
    ],
    mode="python",
)
def product_rates(inputs: dict) -> dict:
    def ratio(num, den):
        return None if num is None or den is None or den == 0 else num / den

    v, c, p = inputs["views_24h"], inputs["cart_adds_24h"], inputs["purchases_24h"]
    return {
        "view_to_cart_rate_24h": [ratio(a, b) for a, b in zip(c, v)],
        "cart_to_purchase_rate_24h": [ratio(a, b) for a, b in zip(p, c)],
    }


@on_demand_feature_view(
    sources=[
        product_catalog[["price", "category"]],
        user_purchases[["avg_order_value_30d", "preferred_category_30d"]],
        user_activity[["last_platform"]],
    ],
    schema=[
        Field(name="price_vs_avg_order", dtype=Float64),
        Field(name="category_match", dtype=Bool),
        Field(name="device_optimization", dtype=Float64),
    ],
    mode="python",
)
def user_product(inputs: dict) -> dict:
    def ratio(num, den):
        return None if num is None or den is None or den == 0 else num / den

    affinity = {
        ("mobile", "electronics"): 0.8,
        ("mobile", "fashion"): 0.9,
        ("desktop", "electronics"): 0.9,
        ("desktop", "fashion"): 0.7,
        ("tablet", "books"): 0.9,
    }
    price, cat = inputs["price"], inputs["category"]
    avg, pref = inputs["avg_order_value_30d"], inputs["preferred_category_30d"]
    plat = inputs["last_platform"]
    return {
        "price_vs_avg_order": [ratio(a, b) for a, b in zip(price, avg)],
        "category_match": [c is not None and p is not None and c == p for c, p in zip(cat, pref)],
        "device_optimization": [affinity.get((pl, c), 0.5) for pl, c in zip(plat, cat)],
    }


recommendation_v1 = FeatureService(
    name="recommendation_v1",
    features=[
        user_activity,
        user_purchases,
        product_engagement,
        product_catalog,
        user_recency,
        product_rates,
        user_product,
    ],
)
