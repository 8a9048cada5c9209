"""``reco erase`` and ``reco export``: a person's rights of erasure and access, from the shell.

- ``reco erase USER_ID [--wait]`` publishes an erasure request (the Admin service's
  ``EraseUser`` does the same) and, with ``--wait``, prints each store's confirmation as it
  arrives on ``erasure.done``: the job's, then every server's.
- ``reco export USER_ID`` prints as JSON everything the system holds of the user: her profile
  (window features, recent and bought items, segment, context), her list, her consent, the
  impressions of hers still waiting for rewards, and her erasures; ``held`` is false when
  nothing is.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from google.protobuf.json_format import MessageToDict

from infra.erasure import confirmations, request_erasure
from infra.topic_reader import all_values, values_since
from reco.clock import now_ms
from reco.config import Settings, settings_or_exit
from reco.erasure import parse_done, user_id_problem
from reco.events import InvalidEvent
from reco.impressions import parse_impression
from reco.pseudonyms import load_pseudonyms
from reco.v1 import recommendations_pb2 as pb

STORES = "the job and every server"


def _checked(args: argparse.Namespace, command: str) -> tuple[Settings, str]:
    """The settings and the user's pseudonym (what every topic and store holds), once the user
    id is one and the key is there (else the command exits 2 saying why)."""
    settings = settings_or_exit(command)
    problem = user_id_problem(args.user_id)
    if problem:
        print(f"{command}: {problem}", file=sys.stderr)
        raise SystemExit(2)
    try:
        return settings, load_pseudonyms(settings).of(args.user_id)
    except ValueError as exc:
        print(f"{command}: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def cmd_erase(args: argparse.Namespace) -> int:
    settings, user = _checked(args, "reco erase")
    requested_at = now_ms()
    try:
        request_id = request_erasure(settings, user)
    except ValueError as exc:
        print(f"reco erase: {exc}; is the stack up (make up)?", file=sys.stderr)
        return 1
    print(f"erasure of {args.user_id!r} requested: request {request_id}")
    if not args.wait:
        print(f"{STORES} confirm on {settings.topic_erasure_done}; --wait shows them")
        return 0
    stores: set[str] = set()
    for done in confirmations(settings, request_id, args.timeout):
        if done.store not in stores:
            stores.add(done.store)
            print(f"  {done.store}: done {done.done_at_ms - requested_at} ms after the "
                  f"request (at {done.done_at_ms})")
        if "job" in stores and any(s.startswith("server:") for s in stores):
            return 0  # every server confirms; the first one shows the loop is closed
    if "job" not in stores:
        print(f"reco erase: the job has not confirmed within {args.timeout:.0f} s: is it "
              "running (reco stack status)?", file=sys.stderr)
        return 1
    print(f"no server confirmed within {args.timeout:.0f} s: is one running?", file=sys.stderr)
    return 0


def export(settings: Settings, user_id: str) -> dict[str, Any]:
    """Everything held of ``user_id`` (as the topics hold it: her pseudonym), as JSON-ready
    values."""
    key = user_id.encode()

    def latest(topic: str, message: Any) -> dict[str, Any] | None:
        raw = None
        for found, value in all_values(settings, topic):
            if found == key:
                raw = value  # the last one wins; a tombstone (None) erases
        return MessageToDict(message.FromString(raw)) if raw is not None else None

    held: dict[str, Any] = {
        "profile": latest(settings.topic_user_profiles, pb.UserProfile),
        "recommendations": latest(settings.topic_recommendations, pb.RecommendationList),
        "consent": latest(settings.topic_consent, pb.ConsentState)}
    erasures = [_done(value) for found, value in all_values(settings,
                                                             settings.topic_erasure_done)
                if found == key and value is not None]
    # the job drops the impressions waiting for her rewards when it erases her: those served
    # before its last erasure are on the raw topic only (not_covered below)
    erased_at = max((e["done_at_ms"] for e in erasures if e["store"] == "job"), default=0)
    window = 24 * 3_600_000  # wider than any reward window
    pending = []
    for found, value in values_since(settings, settings.topic_impressions,
                                     max(now_ms() - window, erased_at)):
        if found == key and value is not None:
            try:
                impression = parse_impression(value, now_ms())
            except InvalidEvent:
                continue
            if impression.served_at_ms <= erased_at:
                continue
            pending.append({"request_id": impression.request_id,
                            "served_at_ms": impression.served_at_ms,
                            "items": [item for item, _ in impression.items]})
    held["impressions_waiting_for_rewards"] = pending
    return {"user_id": user_id, "held": any(held.values()), **held,
            "factor_vector": "not stored: folded in from the profile's items at each update",
            "erasures": erasures,
            "not_covered": "raw events and impressions on the retention-bound topics until "
                           f"they age out ({settings.raw_retention_ms // 86_400_000} days)"}


def _done(value: bytes) -> dict[str, Any]:
    done = parse_done(value)
    return {"request_id": done.request_id, "store": done.store, "done_at_ms": done.done_at_ms}


def cmd_export(args: argparse.Namespace) -> int:
    settings, user = _checked(args, "reco export")
    found = export(settings, user)
    found["user_id"] = args.user_id  # hers; held under the pseudonym ``user``
    found["pseudonym"] = user
    print(json.dumps(found, indent=2, sort_keys=False))
    if not found["held"]:
        print(f"nothing is held of {args.user_id!r}", file=sys.stderr)
    return 0


def add_privacy_commands(sub: Any) -> None:
    p = sub.add_parser("erase", help="forget a user everywhere: the job's state, the topics' "
                       "keys, the servers' stores (--wait: print each store's confirmation)")
    p.add_argument("user_id")
    p.add_argument("--wait", action="store_true", help="print the confirmations as they come")
    p.add_argument("--timeout", type=float, default=60.0, help="--wait: seconds (default 60)")
    p.set_defaults(func=cmd_erase)
    p = sub.add_parser("export", help="everything held of a user, as JSON (right of access)")
    p.add_argument("user_id")
    p.set_defaults(func=cmd_export)
