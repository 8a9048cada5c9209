import contextlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infra.producer import event_to_proto
from reco.events import EVENT_TYPES, Event, InvalidEvent, event_from_dict, parse_event

GOOD = {"event_id": "e1", "event_type": "add_to_cart", "user_id": "u1", "item_id": "i1",
        "ts": 1_795_680_000_000, "price": 19.5, "quantity": 2, "category": "shoes",
        "device": "mobile", "country": "DE", "consent": {"personalization": True}}


def raw(**changes):
    doc = {**GOOD, **changes}
    return json.dumps({k: v for k, v in doc.items() if v is not None}).encode()


def test_a_complete_event_parses_with_every_field():
    event = parse_event(raw())
    assert event == Event(event_id="e1", event_type="add_to_cart", user_id="u1", item_id="i1",
                          ts=1_795_680_000_000, price=19.5, quantity=2, category="shoes",
                          device="mobile", country="DE", personalization=True)


def test_iso_timestamps_are_milliseconds_utc():
    assert parse_event(raw(ts="2026-11-26T08:00:00+00:00")).ts == 1_795_680_000_000
    assert parse_event(raw(ts="2026-11-26T09:00:00+01:00")).ts == 1_795_680_000_000
    assert parse_event(raw(ts="2026-11-26T08:00:00")).ts == 1_795_680_000_000


@pytest.mark.parametrize("changes, reason", [
    ({"event_type": "teleport"}, "unknown event_type 'teleport'"),
    ({"event_type": None}, "missing event_type"),
    ({"user_id": None}, "missing user_id"),
    ({"user_id": ""}, "missing user_id"),
    ({"user_id": 42}, "user_id must be a string, got int"),
    ({"event_id": None}, "missing event_id"),
    ({"item_id": None}, "missing item_id (required for add_to_cart)"),
    ({"ts": None}, "missing ts"),
    ({"ts": 1_795_680_000}, "looks like epoch seconds"),
    ({"ts": -5}, "outside 2000..2100"),
    ({"ts": "yesterday"}, "is not ISO-8601"),
    ({"ts": True}, "not a boolean"),
    ({"dwell_ms": -1}, "dwell_ms -1 is outside"),
    ({"dwell_ms": 10**9}, "dwell_ms 1000000000 is outside"),
    ({"scroll_depth": 1.5}, "scroll_depth 1.5 is outside 0..1"),
    ({"price": -3}, "price -3 is outside"),
    ({"quantity": 0}, "quantity 0 is outside"),
    ({"quantity": 1.5}, "quantity must be a whole number"),
    ({"price": "12"}, "price must be a number, got str"),
    ({"consent": "yes"}, "consent must be an object"),
    ({"consent": {"personalization": "yes"}}, "consent.personalization must be true or false"),
    ({"user_id": "u" * 300}, "user_id is longer than 256"),
])
def test_invalid_events_say_why(changes, reason):
    with pytest.raises(InvalidEvent) as caught:
        parse_event(raw(**changes))
    assert reason in str(caught.value)


@pytest.mark.parametrize("payload, reason", [
    (b"{not json", "malformed JSON"),
    (b"", "empty record"),
    (b"   ", "empty record"),
    (None, "null value"),
    (b"[1, 2]", "must be a JSON object, got list"),
    (b"\xff\xfe{", "neither a JSON object nor a protobuf"),
    (b'{"a": "\xff"}', "not UTF-8"),
    (b"[" * 100_000, "record of 100000 bytes exceeds the limit of 65536"),
])
def test_unreadable_records_say_why(payload, reason):
    with pytest.raises(InvalidEvent) as caught:
        parse_event(payload)
    assert reason in str(caught.value)


def test_deeply_nested_json_is_rejected_not_crashing():
    with pytest.raises(InvalidEvent, match=r"nested too deeply|must be a JSON object"):
        parse_event(b"[" * 50_000 + b"]" * 50_000, max_bytes=200_000)


def test_checkout_start_needs_no_item():
    assert parse_event(raw(event_type="checkout_start", item_id=None)).item_id is None


def test_protobuf_wire_format_is_the_same_record():
    event = parse_event(raw())
    assert parse_event(event_to_proto(event)) == event


def test_json_round_trip_of_the_wire_form():
    event = parse_event(raw())
    assert parse_event(event.to_json()) == event


@given(st.sampled_from(sorted(EVENT_TYPES)), st.text(min_size=1, max_size=20),
       st.integers(min_value=946_684_800_000, max_value=4_102_444_799_999),
       st.one_of(st.none(), st.floats(min_value=0, max_value=1)))
def test_any_valid_event_round_trips(event_type, user, ts, scroll):
    doc = {"event_id": "e", "event_type": event_type, "user_id": user, "item_id": "i", "ts": ts}
    if scroll is not None:
        doc["scroll_depth"] = scroll
    event = event_from_dict(doc)
    assert parse_event(event.to_json()) == event
    assert parse_event(event_to_proto(event)) == event


@given(st.binary(max_size=200))
def test_arbitrary_bytes_never_raise_anything_but_invalid_event(payload):
    with contextlib.suppress(InvalidEvent):
        parse_event(payload)
