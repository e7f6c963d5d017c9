"""Feast's own client (the pinned `feast` package) against a running `larder serve`.

Run by test/compat/feast-sdk.services.test.ts with the venv of bench/peers/feast/setup.sh:

    python feast_client.py --http http://127.0.0.1:PORT --grpc 127.0.0.1:PORT --work DIR \
        --now-ms MS

It writes a Feast repository into DIR (feature_store.yaml with `online_store: {type: remote}`,
definitions mirroring the Larder repository the test serves, applied to a local registry),
then uses, unchanged:
  - `FeatureStore.get_online_features` for a feature list and a feature service (Feast's
    RemoteOnlineStore POSTs to /get-online-features),
  - Feast's own push request model (`feast.feature_server.PushFeaturesRequest`) posted to /push,
  - Feast's generated gRPC stubs (`ServingService_pb2_grpc.ServingServiceStub`),
  - and provokes errors, recording the class of the exception Feast's SDK raised.
It prints one JSON document of what it saw; the TypeScript test asserts on it.
"""

import argparse
import json
import sys
import traceback
from datetime import timedelta
from pathlib import Path

import grpc
import requests
from feast import (
    Entity,
    FeatureService,
    FeatureStore,
    FeatureView,
    Field,
    FileSource,
    PushSource,
    ValueType,
)
from feast.feature_server import PushFeaturesRequest
from feast.protos.feast.serving import ServingService_pb2, ServingService_pb2_grpc
from feast.protos.feast.types import Value_pb2
from feast.protos.feast.types.EntityKey_pb2 import EntityKey as EntityKeyProto
from feast.types import Float64, Int64, String

FEATURE_STORE_YAML = """project: larder_compat
provider: local
registry: {registry}
online_store:
  type: remote
  path: {http}
offline_store:
  type: file
entity_key_serialization_version: 3
auth:
  type: no_auth
"""


def definitions(work: Path):
    """Feast's declarations of the Larder repository the test serves (same names and types)."""
    user = Entity(name="user", join_keys=["user_id"], value_type=ValueType.STRING)
    events = FileSource(
        name="events", path=str(work / "events.parquet"), timestamp_field="ts"
    )
    events_push = PushSource(name="events_push", batch_source=events)
    activity = FeatureView(
        name="activity",
        entities=[user],
        ttl=timedelta(days=30),
        schema=[
            Field(name="user_id", dtype=String),
            Field(name="clicks_1h", dtype=Int64),
            Field(name="spend_7d", dtype=Float64),
            Field(name="last_kind", dtype=String),
        ],
        source=events_push,
        online=True,
    )
    service = FeatureService(name="activity_v1", features=[activity])
    return [user, events_push, activity, service]


def outcome(f):
    """{"ok": value} or {"error": class name, "module": ..., "message": ...} of calling f."""
    try:
        return {"ok": f()}
    except Exception as e:  # noqa: BLE001 - the class is what the test checks
        return {
            "error": type(e).__name__,
            "module": type(e).__module__,
            "message": str(e),
        }


def sdk_read(store: FeatureStore, features, users):
    """Values (to_dict) and statuses (the response proto) of FeatureStore.get_online_features."""
    resp = store.get_online_features(
        features=features, entity_rows=[{"user_id": u} for u in users]
    )
    proto = resp.proto
    names = list(proto.metadata.feature_names.val)
    statuses = {
        name: [
            ServingService_pb2.FieldStatus.Name(s) for s in proto.results[i].statuses
        ]
        for i, name in enumerate(names)
    }
    return {"values": resp.to_dict(), "statuses": statuses, "names": names}


def value_json(v: Value_pb2.Value):
    kind = v.WhichOneof("val")
    return None if kind is None else {kind: getattr(v, kind)}


def grpc_read(target: str, request_kwargs: dict):
    with grpc.insecure_channel(target) as channel:
        stub = ServingService_pb2_grpc.ServingServiceStub(channel)
        info = stub.GetFeastServingInfo(ServingService_pb2.GetFeastServingInfoRequest())
        req = ServingService_pb2.GetOnlineFeaturesRequest(**request_kwargs)
        resp = stub.GetOnlineFeatures(req, timeout=30)
        names = list(resp.metadata.feature_names.val)
        return {
            "version": info.version,
            "names": names,
            "results": [
                {
                    "values": [value_json(v) for v in r.values],
                    "statuses": [
                        ServingService_pb2.FieldStatus.Name(s) for s in r.statuses
                    ],
                    "event_timestamps": [
                        ts.seconds * 1000 + ts.nanos // 1_000_000
                        for ts in r.event_timestamps
                    ],
                }
                for r in resp.results
            ],
        }


def grpc_error(target: str, request_kwargs: dict):
    try:
        grpc_read(target, request_kwargs)
    except grpc.RpcError as e:
        return {"code": e.code().name, "details": e.details()}
    return {"code": "OK"}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--http", required=True)
    ap.add_argument("--grpc", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--now-ms", type=int, required=True)
    a = ap.parse_args()
    work = Path(a.work)
    work.mkdir(parents=True, exist_ok=True)
    (work / "feature_store.yaml").write_text(
        FEATURE_STORE_YAML.format(registry=work / "registry.db", http=a.http)
    )
    store = FeatureStore(repo_path=str(work))
    store.apply(definitions(work))
    out = {}

    # Push with Feast's own request model (what a Feast client posts to /push).
    t = a.now_ms
    rows = [
        ("e1", "u1", "click", 2.5, t - 10 * 60_000),
        ("e2", "u1", "click", 4.0, t - 5 * 60_000),
        ("e3", "u1", "view", 1.0, t - 2 * 60_000),
        ("e4", "u2", "view", 7.0, t - 3 * 60_000),
    ]
    df = {
        "id": [r[0] for r in rows],
        "userId": [r[1] for r in rows],
        "kind": [r[2] for r in rows],
        "amount": [r[3] for r in rows],
        "ts": [r[4] for r in rows],
    }
    push = PushFeaturesRequest(push_source_name="events_push", df=df, to="online")
    body = push.model_dump()
    r = requests.post(f"{a.http}/push", json=body, timeout=30)
    out["push"] = {"status": r.status_code, "sent": sorted(body), "body": r.json()}

    users = ["u1", "u2", "nobody"]
    refs = ["activity:clicks_1h", "activity:spend_7d", "activity:last_kind"]
    out["features"] = outcome(lambda: sdk_read(store, refs, users))
    out["service"] = outcome(
        lambda: sdk_read(store, store.get_feature_service("activity_v1"), users)
    )

    # Event timestamps over REST: Feast's RemoteOnlineStore.online_read (the per-view read) parses
    # them (get_online_features keeps values and statuses only).
    activity = store.get_feature_view("activity")
    remote = store._get_provider().online_store

    def online_read(user):
        key = EntityKeyProto(
            join_keys=["user_id"], entity_values=[Value_pb2.Value(string_val=user)]
        )
        rows = remote.online_read(store.config, activity, [key], ["last_kind"])
        ts, values = rows[0]
        return {
            "event_ts_ms": None if ts is None else int(ts.timestamp() * 1000),
            "values": {k: value_json(v) for k, v in (values or {}).items()},
        }

    out["online_read"] = {u: outcome(lambda u=u: online_read(u)) for u in ["u1", "u2"]}

    # Errors: Feast's SDK must raise its typed exceptions.
    out["errors"] = {
        "unknown_view": outcome(
            lambda: sdk_read(store, ["nope:clicks_1h"], ["u1"])
        ),
        "unknown_feature": outcome(
            lambda: sdk_read(store, ["activity:nope"], ["u1"])
        ),
        "unknown_service": outcome(
            lambda: sdk_read(store, FeatureService(name="nope", features=[]), ["u1"])
        ),
        "bad_entity": outcome(lambda: sdk_read(store, refs, [42])),
    }
    r = requests.post(
        f"{a.http}/push",
        json=PushFeaturesRequest(push_source_name="nope", df=df).model_dump(),
        timeout=30,
    )
    from feast.errors import FeastError

    mapped = FeastError.from_error_detail(r.json())
    out["errors"]["unknown_push_source"] = {
        "status": r.status_code,
        "error": type(mapped).__name__ if mapped is not None else None,
        "message": str(mapped) if mapped is not None else None,
    }

    # A feature-row push (FeatureStore.push through a remote online store POSTs
    # /write-to-online-store, which Larder does not serve).
    def feature_row_push():
        import pandas as pd

        rows = pd.DataFrame(
            {
                "user_id": ["u3"],
                "clicks_1h": [1],
                "spend_7d": [1.0],
                "last_kind": ["click"],
                "ts": [pd.Timestamp(t - 60_000, unit="ms", tz="UTC")],
            }
        )
        store.push("events_push", rows)

    out["feature_row_push"] = outcome(feature_row_push)

    # Feast's generated gRPC stubs.
    def entity_rows(vals):
        return {
            "user_id": Value_pb2.RepeatedValue(
                val=[Value_pb2.Value(string_val=v) for v in vals]
            )
        }

    out["grpc"] = {
        "features": outcome(
            lambda: grpc_read(
                a.grpc,
                {
                    "features": ServingService_pb2.FeatureList(val=refs),
                    "entities": entity_rows(users),
                },
            )
        ),
        "service": outcome(
            lambda: grpc_read(
                a.grpc, {"feature_service": "activity_v1", "entities": entity_rows(users)}
            )
        ),
        "unknown_view": grpc_error(
            a.grpc,
            {
                "features": ServingService_pb2.FeatureList(val=["nope:x"]),
                "entities": entity_rows(["u1"]),
            },
        ),
        "unknown_service": grpc_error(
            a.grpc, {"feature_service": "nope", "entities": entity_rows(["u1"])}
        ),
    }
    print(json.dumps(out, default=str))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception:
        traceback.print_exc()
        sys.exit(1)
