"""Reading a shop's history for ``reco import``: every row validated on its own (a bad row is
reported with its line number and the rest load), event ids derived from the row when the
file has none (so a re-run sends the same ids), events in event-time order.

Formats: ``csv`` (header ``timestamp,user_id,item_id,event_type`` and optionally
``category``, ``price``, ``quantity``, ``session_id``, ``event_id`` and any other event
field), ``jsonl`` (one event of the project's schema per line), and the public data sets that
``reco eval`` reads (reco/datasets.py).

>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "h.csv"
>>> _ = path.write_text("timestamp,user_id,item_id,event_type,category\\n"
...                     "1795680000000,u1,i1,product_view,shoes\\n"
...                     "1795680000000,u1,i1,teleport,shoes\\n"
...                     "2026-11-26T10:00:00Z,u2,i1,purchase,shoes\\n")
>>> history = read_history(path, "csv")
>>> [(e.user_id, e.event_type) for e in history.events], history.rejected
([('u1', 'product_view'), ('u2', 'purchase')], [(3, "unknown event_type 'teleport'; expected \
one of add_to_cart, checkout_start, click, consent, product_view, purchase, remove_from_cart, \
skip, wishlist")])
>>> read_history(path, "csv").events[0].event_id == history.events[0].event_id
True
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from reco.datasets import LOADERS, DatasetError
from reco.events import Event, InvalidEvent, event_from_dict

FORMATS = ("csv", "jsonl", *sorted(k for k in LOADERS if k != "csv"))
REQUIRED_COLUMNS = ("timestamp", "user_id", "item_id", "event_type")
NUMBERS = {"price": float, "quantity": int, "dwell_ms": int, "scroll_depth": float}


@dataclass
class History:
    events: list[Event] = field(default_factory=list)
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (line, reason)


def row_event_id(fields: dict[str, object]) -> str:
    """A stable id from a row's content: the same row gets the same id in every run."""
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)
    return "imp-" + hashlib.sha1(text.encode()).hexdigest()[:20]


def _csv_document(row: dict[str, str]) -> dict[str, object]:
    doc: dict[str, object] = {k: v for k, v in row.items() if k and v not in (None, "")}
    ts = doc.pop("timestamp")
    doc["ts"] = int(ts) if isinstance(ts, str) and ts.isdigit() else ts
    for name, kind in NUMBERS.items():
        if isinstance(doc.get(name), str):
            try:
                doc[name] = kind(doc[name])
            except ValueError:
                raise InvalidEvent(f"{name} {doc[name]!r} is not a number") from None
    doc.setdefault("event_id", row_event_id(doc))
    return doc


def _read_csv(path: Path, history: History) -> None:
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or ())]
        if missing:
            raise DatasetError(f"{path}: the header needs {','.join(REQUIRED_COLUMNS)} "
                               f"(then optional event fields); missing {', '.join(missing)}; "
                               f"found {','.join(reader.fieldnames or ()) or 'no header'}")
        for line, row in enumerate(reader, 2):
            try:
                history.events.append(event_from_dict(_csv_document(row)))
            except InvalidEvent as exc:
                history.rejected.append((line, str(exc)))


def _read_jsonl(path: Path, history: History) -> None:
    with open(path, encoding="utf-8") as fh:
        for line, text in enumerate(fh, 1):
            if not text.strip():
                continue
            try:
                doc = json.loads(text)
                if isinstance(doc, dict) and "event_id" not in doc:
                    doc["event_id"] = row_event_id(doc)
                history.events.append(event_from_dict(doc))
            except (InvalidEvent, ValueError, RecursionError) as exc:
                history.rejected.append((line, str(exc)))


def write_jsonl(path: Path, events: Iterable[Event]) -> Path:
    """``events`` as a ``jsonl`` history file (one event of our schema per line)."""
    with open(path, "wb") as fh:
        for event in events:
            fh.write(event.to_json() + b"\n")
    return path


def read_history(path: str | Path, kind: str) -> History:
    """The valid events of the file in event-time order, and the rejected rows. A file that
    cannot be read at all (missing, wrong columns) raises DatasetError before anything is
    sent."""
    path = Path(path)
    if kind not in FORMATS:
        raise DatasetError(f"unknown format {kind!r}: one of {', '.join(FORMATS)}")
    if not path.exists():
        raise DatasetError(f"{path}: no such file")
    history = History()
    if kind == "csv":
        _read_csv(path, history)
    elif kind == "jsonl":
        _read_jsonl(path, history)
    else:
        history.events = LOADERS[kind](path)
    history.events.sort(key=lambda e: e.ts)
    return history
