"""The event record: parsing and validation of raw bytes into an :class:`Event`.

Everything a producer may send is checked here, once, by the producer client and by the job alike;
what fails raises :class:`InvalidEvent` whose message is the reason written to the dead-letter
topic.

>>> ev = parse_event(b'{"event_id": "e1", "event_type": "click", "user_id": "u1",'
...                  b' "item_id": "i9", "ts": "2026-11-26T10:00:00Z", "dwell_ms": 1500}')
>>> ev.user_id, ev.item_id, ev.ts, ev.dwell_ms
('u1', 'i9', 1795687200000, 1500)
>>> parse_event(b'{"event_id": "e2", "event_type": "click", "user_id": "u1", "ts": 1}')
Traceback (most recent call last):
...
reco.events.InvalidEvent: missing item_id (required for click)
>>> parse_event(b'{"event_id": "e3", "event_type": "click", "user_id": "u\\ud800", "ts": 1}')
Traceback (most recent call last):
...
reco.events.InvalidEvent: user_id is not well-formed Unicode (a lone surrogate?)
>>> ev = parse_event(b'{"event_id": "e4", "event_type": "click", "user_id": "u1", "item_id": "i",'
...                  b' "ts": 1795687200000, "timezone": "Europe"}')
>>> ev.timezone, ev.flags
(None, ('timezone_dropped',))
"""

from __future__ import annotations

import functools
import json
import math
import zoneinfo
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

EVENT_TYPES = frozenset({
    "product_view", "click", "add_to_cart", "remove_from_cart", "wishlist",
    "checkout_start", "purchase", "skip",
})
# A change of the user's consent, and nothing else: it goes to ``events.consent`` (consent may
# also ride on any event). Not a behaviour: kept apart from EVENT_TYPES, whose codes profiles
# store.
CONSENT_EVENT = "consent"
PURPOSES = ("personalization", "analytics")
TYPES_WITHOUT_ITEM = frozenset({"checkout_start", CONSENT_EVENT})

MIN_TS_MS = 946_684_800_000     # 2000-01-01: anything earlier is a unit mistake or garbage
MAX_TS_MS = 4_102_444_800_000   # 2100-01-01
DEFAULT_MAX_FUTURE_MS = 3_600_000  # events further ahead of the job's clock are refused
MAX_DWELL_MS = 6 * 3_600_000    # a page left open for six hours is not dwell
MAX_PRICE = 10_000_000.0
MAX_QUANTITY = 10_000
MAX_ID_LEN = 256
MAX_TEXT_LEN = 1024
MAX_ZONE_LEN = 64  # the longest IANA zone name is 32 characters

_ID_FIELDS = ("event_id", "user_id", "item_id", "session_id", "request_id")
_TEXT_FIELDS = ("category", "user_agent", "device", "country", "region", "timezone")


class InvalidEvent(ValueError):
    """An event that cannot be accepted; the message is the reason."""


@dataclass(frozen=True, slots=True)
class Event:
    event_id: str
    event_type: str
    user_id: str
    ts: int
    item_id: str | None = None
    session_id: str | None = None
    dwell_ms: int | None = None
    scroll_depth: float | None = None
    price: float | None = None
    quantity: int | None = None
    category: str | None = None
    user_agent: str | None = None
    device: str | None = None
    country: str | None = None
    region: str | None = None
    timezone: str | None = None
    request_id: str | None = None
    personalization: bool | None = None  # consent to each purpose: granted, denied, not said
    analytics: bool | None = None
    # data-quality flags: fields dropped at validation ("timezone_dropped"); not on the wire
    flags: tuple[str, ...] = ()

    def to_json_dict(self) -> dict[str, Any]:
        """The wire form: set fields only, consent nested as in the contract."""
        out = {k: v for k, v in asdict(self).items() if v is not None}
        del out["flags"]
        consent = {purpose: out.pop(purpose) for purpose in PURPOSES if purpose in out}
        if consent:
            out["consent"] = consent
        return out

    def to_json(self) -> bytes:
        return json.dumps(self.to_json_dict(), separators=(",", ":")).encode()


def parse_ts(value: Any) -> int:
    """Epoch milliseconds from an integer (ms) or an ISO-8601 string (naive means UTC)."""
    if isinstance(value, bool):
        raise InvalidEvent("ts must be epoch milliseconds or an ISO-8601 string, not a boolean")
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise InvalidEvent("ts is not a finite number")
        ms = int(value)
        if 946_684_800 <= ms < 4_102_444_800:
            raise InvalidEvent(f"ts {ms} looks like epoch seconds; send epoch milliseconds")
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise InvalidEvent(f"ts {value[:40]!r} is not ISO-8601") from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        ms = int(parsed.timestamp() * 1000)
    else:
        raise InvalidEvent("ts must be epoch milliseconds or an ISO-8601 string")
    if not MIN_TS_MS <= ms < MAX_TS_MS:
        raise InvalidEvent(f"ts {ms} is outside 2000..2100")
    return ms


def well_formed(text: str) -> bool:
    """Whether ``text`` is encodable as UTF-8: JSON's ``\\ud800`` escapes decode to lone
    surrogates, which Java, protobuf and Kafka keys cannot carry."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@functools.lru_cache(maxsize=1)
def _zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def valid_timezone(name: str) -> bool:
    """Whether ``name`` is an IANA time zone name ("Europe/Berlin"; not a folder of the
    database such as "Europe", not a path)."""
    return len(name) <= MAX_ZONE_LEN and name in _zone_names()


def future_problem(ts: int, now_ms: int | None, max_future_ms: int) -> str | None:
    """Why an event time is too far ahead of the receiver's clock, or None."""
    if now_ms is not None and ts - now_ms > max_future_ms:
        return (f"ts {ts} is {(ts - now_ms) / 3_600_000:.1f} h in the future (more than "
                f"max_future_ms = {max_future_ms}); check the producer's clock")
    return None


def _string(doc: dict[str, Any], name: str, max_len: int, required: bool = False) -> str | None:
    value = doc.get(name)
    if value is None or value == "":
        if required:
            raise InvalidEvent(f"missing {name}")
        return None
    return checked_text(value, name, max_len)


def checked_text(value: Any, name: str, max_len: int, record: str = "") -> str:
    """``value`` if it is a string of at most ``max_len`` well-formed characters; else
    InvalidEvent naming the field (``record``: what kind of record, for the message)."""
    if not isinstance(value, str):
        raise InvalidEvent(f"{record}{name} must be a string, got {type(value).__name__}")
    if len(value) > max_len:
        raise InvalidEvent(f"{record}{name} is longer than {max_len} characters")
    if not well_formed(value):
        raise InvalidEvent(f"{record}{name} is not well-formed Unicode (a lone surrogate?)")
    return value


def _number(doc: dict[str, Any], name: str, low: float, high: float,
            integer: bool = False) -> Any:
    value = doc.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidEvent(f"{name} must be a number, got {type(value).__name__}")
    if integer and not float(value).is_integer():
        raise InvalidEvent(f"{name} must be a whole number")
    if not math.isfinite(value) or not low <= value <= high:
        raise InvalidEvent(f"{name} {value} is outside {low:g}..{high:g}")
    return int(value) if integer else float(value)


def _consent(doc: dict[str, Any], event_type: str) -> dict[str, bool]:
    """The purposes the event grants (true) or denies (false); a consent event must say
    something of one."""
    consent = doc.get("consent")
    if consent is None or consent == {}:
        if event_type == CONSENT_EVENT:
            raise InvalidEvent("a consent event needs consent, like {\"personalization\": "
                               "false, \"analytics\": true}")
        return {}
    if not isinstance(consent, dict):
        raise InvalidEvent("consent must be an object like {\"personalization\": true}")
    unknown = sorted(str(k)[:40] for k in consent if k not in PURPOSES)
    if unknown:
        raise InvalidEvent(f"consent: unknown purpose {unknown[0]!r}; the purposes are "
                           + ", ".join(PURPOSES))
    said = {k: v for k, v in consent.items() if v is not None}
    for purpose, value in said.items():
        if not isinstance(value, bool):
            raise InvalidEvent(f"consent.{purpose} must be true or false")
    return said


def event_from_dict(doc: Any, now_ms: int | None = None,
                    max_future_ms: int = DEFAULT_MAX_FUTURE_MS) -> Event:
    """The validated event; with ``now_ms`` (the receiver's clock), one whose time is more
    than ``max_future_ms`` ahead of it is refused."""
    if not isinstance(doc, dict):
        raise InvalidEvent(f"event must be a JSON object, got {type(doc).__name__}")
    event_type = _string(doc, "event_type", 64, required=True)
    if event_type not in EVENT_TYPES and event_type != CONSENT_EVENT:
        raise InvalidEvent(f"unknown event_type {event_type!r}; expected one of "
                           + ", ".join(sorted(EVENT_TYPES | {CONSENT_EVENT})))
    ids: dict[str, Any] = {name: _string(doc, name, MAX_ID_LEN,
                                         required=name in ("event_id", "user_id"))
                           for name in _ID_FIELDS}
    if ids["item_id"] is None and event_type not in TYPES_WITHOUT_ITEM:
        raise InvalidEvent(f"missing item_id (required for {event_type})")
    if "ts" not in doc:
        raise InvalidEvent("missing ts")
    ts = parse_ts(doc["ts"])
    problem = future_problem(ts, now_ms, max_future_ms)
    if problem:
        raise InvalidEvent(problem)
    texts: dict[str, Any] = {name: _string(doc, name, MAX_TEXT_LEN) for name in _TEXT_FIELDS}
    flags: tuple[str, ...] = ()
    if texts["timezone"] is not None and not valid_timezone(texts["timezone"]):
        texts["timezone"], flags = None, ("timezone_dropped",)
    price = _number(doc, "price", 0.0, MAX_PRICE)
    consent = _consent(doc, event_type)
    return Event(
        event_type=event_type,
        ts=ts,
        flags=flags,
        dwell_ms=_number(doc, "dwell_ms", 0, MAX_DWELL_MS, integer=True),
        scroll_depth=_number(doc, "scroll_depth", 0.0, 1.0),
        price=price,
        quantity=_number(doc, "quantity", 1, MAX_QUANTITY, integer=True),
        personalization=consent.get("personalization"),
        analytics=consent.get("analytics"),
        **ids,
        **texts,
    )


def event_from_proto(raw: bytes) -> dict[str, Any]:
    """A protobuf-encoded ``reco.v1.Event`` as the dict the JSON form would give."""
    from google.protobuf.message import DecodeError

    from reco.v1 import events_pb2

    msg = events_pb2.Event()
    try:
        msg.ParseFromString(raw)
    except DecodeError:
        raise InvalidEvent("neither a JSON object nor a protobuf reco.v1.Event") from None
    doc: dict[str, Any] = {f.name: v for f, v in msg.ListFields() if f.name != "consent"}
    if msg.HasField("consent"):
        doc["consent"] = {f.name: v for f, v in msg.consent.ListFields()}
    return doc


def parse_event(raw: bytes | str | None, max_bytes: int = 65536, now_ms: int | None = None,
                max_future_ms: int = DEFAULT_MAX_FUTURE_MS) -> Event:
    """Parse and validate one raw record: UTF-8 JSON, or a protobuf ``reco.v1.Event``; with
    ``now_ms``, an event more than ``max_future_ms`` ahead of it is refused."""
    if raw is None:
        raise InvalidEvent("empty record (null value)")
    size = len(raw)
    if size > max_bytes:
        raise InvalidEvent(f"record of {size} bytes exceeds the limit of {max_bytes}")
    if isinstance(raw, bytes | bytearray):
        raw = bytes(raw)
        if raw.lstrip()[:1] not in (b"{", b"[", b'"', b""):
            return event_from_dict(event_from_proto(raw), now_ms, max_future_ms)
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidEvent(f"not UTF-8: {exc.reason} at byte {exc.start}") from None
    if not raw.strip():
        raise InvalidEvent("empty record")
    try:
        doc = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InvalidEvent(f"malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") \
            from None
    except RecursionError:
        raise InvalidEvent("malformed JSON: nested too deeply") from None
    return event_from_dict(doc, now_ms, max_future_ms)
