"""Helpers for running the pipeline on a Flink MiniCluster with a collection source."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pyflink.common import Row, Types

from jobs.environment import make_environment
from jobs.pipeline import RAW_RECORD, build_pipeline
from reco.config import Settings


def raw_rows(records: Iterable[bytes], topic: str = "events.test") -> list[Row]:
    return [Row(r, topic, i % 2, i) for i, r in enumerate(records)]


def run_pipeline(records: Iterable[bytes], settings: Settings) -> dict[str, list[Any]]:
    """Runs the whole pipeline at parallelism 2 and returns its outputs by kind."""
    env = make_environment(settings, checkpointing=False)
    raw = env.from_collection(raw_rows(records), type_info=RAW_RECORD)
    out = build_pipeline(raw, settings)
    tagged = out.recommendations.map(lambda r: ("recommendations", r[0], bytes(r[1])),
                                     output_type=Types.PICKLED_BYTE_ARRAY()).union(
        out.profiles.map(lambda r: ("profiles", r[0], bytes(r[1])),
                         output_type=Types.PICKLED_BYTE_ARRAY()),
        out.dead_letters.map(lambda s: ("dead_letters", None, s),
                             output_type=Types.PICKLED_BYTE_ARRAY()))
    results: dict[str, list[Any]] = {"recommendations": [], "profiles": [], "dead_letters": []}
    with tagged.execute_and_collect("pipeline-test") as rows:
        for kind, key, value in rows:
            results[kind].append((key, value) if key is not None else value)
    return results
