"""Helpers for running the pipeline on a Flink MiniCluster with a collection source."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from typing import Any

from pyflink.common import Row, Types

from infra.processes import free_port
from jobs.environment import make_environment
from jobs.pipeline import RAW_RECORD, build_pipeline
from reco.config import Settings
from reco.events import Event, InvalidEvent, event_from_proto
from reco.pseudonyms import Pseudonyms, key_path, load_pseudonyms

# A record that holds the source back for a second: what comes before it (e.g. item factors,
# broadcast to the user operator) is processed before what comes after (a user's events).
PAUSE = b"\x00pause"
TEST_KEY = bytes(range(32))
BY_USER = ("recommendations", "profiles", "filtered", "consent", "erasures_done")
KINDS = ("recommendations", "popular_lists", "profiles", "dead_letters", "filtered",
         "item_features", "policy", "segments", "consent",
         "erasures_done")


def raw_rows(records: Iterable[bytes | tuple[bytes, str]],
             topic: str = "events.test") -> list[Row]:
    """Records are event bytes (from ``topic``) or (bytes, topic) pairs."""
    return [Row(*(r if isinstance(r, tuple) else (r, topic)), 0, i)
            for i, r in enumerate(records)]


def user_of(row: Row) -> str:
    """The user id of a raw record, as a producer keys by it (unparseable: "")."""
    try:
        return str(json.loads(row[0]).get("user_id", ""))
    except (ValueError, AttributeError):
        return ""


def _sender(row: Row) -> str:
    """The user id a raw record names, JSON or protobuf ("" if none)."""
    found = user_of(row)
    if found or not isinstance(row[0], bytes) or row[0] == PAUSE:
        return found
    try:
        return str(event_from_proto(row[0]).get("user_id", ""))
    except InvalidEvent:
        return ""


def _pause(row: Row) -> Iterable[Row]:
    if row[0] == PAUSE:
        time.sleep(1.0)
    else:
        yield row


def _value(raw: Any) -> bytes | None:
    return None if raw is None else bytes(raw)


def run_pipeline(records: Iterable[bytes | tuple[bytes, str]],
                 settings: Settings, **pipeline_options: Any) -> dict[str, list[Any]]:
    """Runs the whole pipeline and returns its outputs by kind. Records are spread over the
    parallel parsers by user id, as Kafka partitions keyed records, so each user's events keep
    their order."""
    records = list(records)
    ids = pseudonyms_of(settings)
    sent = {ids.of(user): user for user in map(_sender, raw_rows(records)) if user}

    def sender(row: Row) -> str:  # impressions name pseudonyms: one user, one parser
        user = user_of(row)
        return sent.get(user, user)

    # a REST port of its own: another MiniCluster or a local stack may hold the default one
    env = make_environment(settings.replace(flink_rest_port=free_port()), checkpointing=False)
    raw = (env.from_collection(raw_rows(records), type_info=RAW_RECORD)
           .flat_map(_pause, output_type=RAW_RECORD).set_parallelism(1)
           .key_by(sender, key_type=Types.STRING())
           .map(lambda row: row, output_type=RAW_RECORD))
    out = build_pipeline(raw, settings, **pipeline_options)
    # the popular list's versions stay in order on one channel (parallelism 1), as on Kafka
    popular = out.popular.map(lambda r: ("popular_lists", r[0], bytes(r[1])),
                              output_type=Types.PICKLED_BYTE_ARRAY()).set_parallelism(1)
    # a None value is a tombstone (the user withdrew consent)
    tagged = out.recommendations.map(lambda r: ("recommendations", r[0], _value(r[1])),
                                     output_type=Types.PICKLED_BYTE_ARRAY()).union(
        popular,
        out.profiles.map(lambda r: ("profiles", r[0], _value(r[1])),
                         output_type=Types.PICKLED_BYTE_ARRAY()),
        out.consent.map(lambda r: ("consent", r[0], _value(r[1])),
                        output_type=Types.PICKLED_BYTE_ARRAY()),
        out.erasures_done.map(lambda r: ("erasures_done", r[0], bytes(r[1])),
                              output_type=Types.PICKLED_BYTE_ARRAY()),
        out.filtered.map(lambda r: ("filtered", r[0], bytes(r[1])),
                         output_type=Types.PICKLED_BYTE_ARRAY()),
        out.item_features.map(lambda r: ("item_features", r[0], bytes(r[1])),
                              output_type=Types.PICKLED_BYTE_ARRAY()),
        out.policy.map(lambda r: ("policy", r[0], bytes(r[1])),
                       output_type=Types.PICKLED_BYTE_ARRAY()),
        out.segments.map(lambda r: ("segments", r[0], bytes(r[1])),
                         output_type=Types.PICKLED_BYTE_ARRAY()),
        out.dead_letters.map(lambda s: ("dead_letters", None, s),
                             output_type=Types.PICKLED_BYTE_ARRAY()))
    # the outputs are keyed by pseudonyms; the tests read them by the ids they sent
    results: dict[str, list[Any]] = {kind: [] for kind in KINDS}
    with tagged.execute_and_collect("pipeline-test") as rows:
        for kind, key, value in rows:
            if kind in BY_USER:
                key = sent.get(key, key)
            results[kind].append((key, value) if key is not None else value)
    return results


def pseudonyms_of(settings: Settings) -> Pseudonyms:
    """The pseudonyms of a test job: a fixed key in the job's key file (written if missing)."""
    path = key_path(settings)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(TEST_KEY)
    return load_pseudonyms(settings)


T0 = 1_795_680_000_000  # the crafted events' epoch
# crafted events say nothing of consent: the tests of other things treat them as allowed (the
# consent gate has its own tests, with the default, deny)
ALLOW = "allow"


def ev(n: int, user: str, kind: str, item: str, category: str, **extra: Any) -> Event:
    """A crafted event: the user's n-th, n seconds after ``T0``."""
    return Event(f"{user}-{n}", kind, user, ts=T0 + n * 1000, item_id=item, category=category,
                 **extra)


def last_by_key(rows: Iterable[tuple[str, bytes]], message: Any) -> dict[str, Any]:
    """The latest record of each key, parsed as ``message``."""
    latest = {}
    for key, value in rows:
        latest[key] = message.FromString(value)
    return latest
