"""Erasure requests and their completion records, as they travel on the ``erasure`` and
``erasure.done`` topics (keyed by user id).

A request asks every store to forget one user; the job reads the ``erasure`` topic as a source,
so a restore from a checkpoint taken before the request replays it. Each store that has
forgotten the user writes a completion record naming itself and when.

>>> raw = erasure_request("u1", "r-1", requested_at_ms=5)
>>> parse_erasure(raw)
ErasureRequest(user_id='u1', request_id='r-1', requested_at_ms=5)
>>> parse_done(erasure_done("u1", "r-1", "job", done_at_ms=9))
ErasureDone(user_id='u1', request_id='r-1', store='job', done_at_ms=9)
>>> parse_erasure(b'{"user_id": ""}')
Traceback (most recent call last):
...
reco.events.InvalidEvent: erasure request: missing user_id
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from reco.events import MAX_ID_LEN, InvalidEvent, checked_text

RECORD = "erasure request: "


@dataclass(frozen=True, slots=True)
class ErasureRequest:
    user_id: str
    request_id: str
    requested_at_ms: int


@dataclass(frozen=True, slots=True)
class ErasureDone:
    user_id: str
    request_id: str
    store: str         # "job", or "server:<address>" for each serving store
    done_at_ms: int


def erasure_request(user_id: str, request_id: str, requested_at_ms: int) -> bytes:
    return json.dumps({"user_id": user_id, "request_id": request_id,
                       "requested_at_ms": requested_at_ms}, separators=(",", ":")).encode()


def erasure_done(user_id: str, request_id: str, store: str, done_at_ms: int) -> bytes:
    return json.dumps({"user_id": user_id, "request_id": request_id, "store": store,
                       "done_at_ms": done_at_ms}, separators=(",", ":")).encode()


def user_id_problem(user_id: Any) -> str | None:
    """Why ``user_id`` cannot name a user to erase, or None."""
    if user_id is None or user_id == "":
        return "missing user_id"
    if not isinstance(user_id, str):
        return f"user_id must be a string, got {type(user_id).__name__}"
    try:
        checked_text(user_id, "user_id", MAX_ID_LEN)
    except InvalidEvent as exc:
        return str(exc)
    return None


def _document(raw: bytes | None) -> dict[str, Any]:
    try:
        doc = json.loads(raw or b"")
    except (ValueError, UnicodeDecodeError):
        raise InvalidEvent(f"{RECORD}not JSON") from None
    if not isinstance(doc, dict):
        raise InvalidEvent(f"{RECORD}not a JSON object")
    problem = user_id_problem(doc.get("user_id"))
    if problem:
        raise InvalidEvent(RECORD + problem)
    return doc


def parse_erasure(raw: bytes | None) -> ErasureRequest:
    doc = _document(raw)
    at = doc.get("requested_at_ms", 0)
    return ErasureRequest(doc["user_id"], str(doc.get("request_id", ""))[:MAX_ID_LEN],
                          at if isinstance(at, int) and not isinstance(at, bool) else 0)


def parse_done(raw: bytes | None) -> ErasureDone:
    doc = _document(raw)
    return ErasureDone(doc["user_id"], str(doc.get("request_id", "")),
                       str(doc.get("store", "")), int(doc.get("done_at_ms", 0)))
