"""Parse and validate raw Kafka records; invalid ones go to the dead-letter side output."""

from __future__ import annotations

import base64
import dataclasses
import json
from collections.abc import Iterator
from typing import Any

from google.protobuf.message import DecodeError
from pyflink.common import Row, Types
from pyflink.datastream import OutputTag
from pyflink.datastream.functions import ProcessFunction, RuntimeContext

from online_models.factors import chunk_problem
from online_models.mixes import ARMS
from operators.guard import DEAD_LETTERS, Count, dead_letter_on_error, failure_counter
from operators.state import KEYED_PICKLED
from reco.catalog import catalog_entry
from reco.clock import now_ms
from reco.config import Settings
from reco.erasure import parse_erasure
from reco.events import DEFAULT_MAX_FUTURE_MS, InvalidEvent, parse_event
from reco.impressions import parse_impression
from reco.keys import factors_key, segment_model_key
from reco.pseudonyms import hide_user_id, load_pseudonyms
from reco.v1 import recommendations_pb2 as pb

# (factors_key(chunk), ItemFactorsChunk bytes), for the broadcast to the user operator
# (broadcast key, bytes) of the models the user operator reads: item factor chunks and the job
# instances' segment models
SHARED_MODELS = OutputTag("shared-models", Types.PICKLED_BYTE_ARRAY())
# Row(item id, reco.records.CatalogEntry): the catalog, for the per-item operator
CATALOG_ENTRIES = OutputTag("catalog-entries", KEYED_PICKLED)


def dead_letter(reason: str, raw: bytes | None, source: dict[str, Any], keep_bytes: int) -> str:
    """The dead-letter record: the reason, where the record came from, and the raw bytes
    (as text when they are UTF-8, else base64; cut to ``keep_bytes``: the source offset
    finds the whole record)."""
    raw = raw or b""
    kept = raw[:keep_bytes]
    try:
        body: dict[str, Any] = {"raw": kept.decode("utf-8")}
    except UnicodeDecodeError:
        body = {"raw_base64": base64.b64encode(kept).decode("ascii")}
    return json.dumps({"reason": reason, **source, "raw_bytes": len(raw),
                       "raw_truncated": len(raw) > keep_bytes, **body,
                       "dead_lettered_at_ms": now_ms()}, separators=(",", ":"))


class ParseEvents(ProcessFunction):
    """Input rows: (value, topic, partition, offset); output: KEYED_PICKLED rows of the user id
    and the ``reco.events.Event``, or the ``reco.impressions.Impression`` for records of the
    impressions topic, or the ``reco.erasure.ErasureRequest`` of the erasure topic; item factor
    chunks and the job's own segment models (the segments topic) to the SHARED_MODELS side
    output, and catalog records (the items topic) to CATALOG_ENTRIES."""

    def __init__(self, max_event_bytes: int, dlq_raw_max_bytes: int,
                 impressions_topic: str = "impressions",
                 factors_topic: str = "item_factors",
                 max_future_ms: int = DEFAULT_MAX_FUTURE_MS,
                 items_topic: str = "items", erasure_topic: str = "erasure",
                 segments_topic: str = "segments",
                 ids_from: Settings | None = None) -> None:
        self.max_event_bytes = max_event_bytes
        self.max_future_ms = max_future_ms
        self.dlq_raw_max_bytes = dlq_raw_max_bytes
        self.impressions_topic = impressions_topic
        self.factors_topic = factors_topic
        self.items_topic = items_topic
        self.erasure_topic = erasure_topic
        self.segments_topic = segments_topic
        self.ids_from = ids_from  # the key is read at open(), never shipped in the job graph

    def open(self, runtime_context: RuntimeContext) -> None:
        self.failures = failure_counter(runtime_context)
        self.ids = load_pseudonyms(self.ids_from) if self.ids_from is not None else None
        self.arms = frozenset(ARMS)
        # events whose fields were dropped (an unknown time zone): data quality, not failure
        self.flagged = Count(runtime_context, "fieldsDropped")

    @dead_letter_on_error("parse")
    def process_element(self, row: Any, ctx: ProcessFunction.Context) -> Iterator[Any]:
        raw = row[0]
        try:
            if row[1] == self.impressions_topic:
                impression = parse_impression(raw, now_ms(), self.max_future_ms, self.arms)
                yield Row(impression.user_id, impression)
                return
            if row[1] == self.factors_topic:
                yield from self._factor_chunk(raw)
                return
            if row[1] == self.segments_topic:
                yield from self._segment_model(raw)
                return
            if row[1] == self.erasure_topic:
                if raw is not None:  # a tombstone: compaction of an old request
                    request = parse_erasure(raw)
                    yield Row(request.user_id, request)
                return
            if row[1] == self.items_topic:
                if raw is not None:  # a tombstone: the server drops the item at lookup
                    entry = catalog_entry(raw)
                    yield CATALOG_ENTRIES, Row(entry.item_id, entry)
                return
            event = parse_event(raw, self.max_event_bytes, now_ms(), self.max_future_ms)
        except InvalidEvent as exc:
            yield DEAD_LETTERS, self._dead_letter(str(exc), raw, row)
            return
        except Exception as exc:  # never let one record restart the job
            self.failures.inc()
            yield DEAD_LETTERS, self._dead_letter(
                f"parse failed: {type(exc).__name__}: {exc}", raw, row)
            return
        if event.flags:
            self.flagged.inc()
        if self.ids is not None:
            event = dataclasses.replace(event, user_id=self.ids.of(event.user_id))
        yield Row(event.user_id, event)

    def _factor_chunk(self, raw: bytes | None) -> Iterator[Any]:
        if raw is None:
            return  # a tombstone of the compacted topic
        chunk = _decoded(pb.ItemFactorsChunk, raw, "item factors chunk")
        problem = chunk_problem(chunk)
        if problem:
            raise InvalidEvent(problem)
        yield SHARED_MODELS, (factors_key(chunk.chunk), bytes(raw))

    def _segment_model(self, raw: bytes | None) -> Iterator[Any]:
        if raw is None:
            return  # a tombstone of the compacted topic
        summary = _decoded(pb.SegmentModelSummary, raw, "segment model")
        if not summary.instance:
            raise InvalidEvent("segment model: no instance")
        yield SHARED_MODELS, (segment_model_key(summary.instance), bytes(raw))

    def _dead_letter(self, reason: str, raw: bytes | None, row: Any) -> str:
        source = {"topic": row[1], "partition": row[2], "offset": row[3]}
        if self.ids is not None and row[1] not in (self.impressions_topic,
                                                   self.erasure_topic):
            raw = hide_user_id(raw, self.ids)  # those two carry pseudonyms already
        return dead_letter(reason, raw, source, self.dlq_raw_max_bytes)


def _decoded(message: Any, raw: bytes, what: str) -> Any:
    try:
        return message.FromString(raw)
    except DecodeError:
        raise InvalidEvent(f"{what}: not a valid {message.__name__} protobuf") from None
