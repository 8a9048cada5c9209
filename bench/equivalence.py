"""The job beside the evaluation harness on the same events: what each published for every user,
compared byte for byte (serialised protobuf with the publication time, ``updated_at_ms``,
cleared: the job stamps processing time, the harness event time).

Both run the user step (userstep/step.py). To make the job's order of work the harness's, the
events go to one input topic of one partition, the job runs at parallelism 1, publishing every
event (``profile_min_interval_ms`` 0) and reporting every item score (``trending_emit_ratio``
1): ``equivalent(settings)``. The shared lists reach the user operator asynchronously, so after
the stream, once they have settled, one last event per user (a checkout start: no item, no
shared signal, ``closing_events``) makes both publish every user's list from the final shared
state."""

from __future__ import annotations

import dataclasses
import difflib
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from evaluation.system import InProcessSystem
from infra.topic_reader import latest_values
from reco.config import Settings
from reco.events import Event
from reco.keys import GLOBAL_LIST
from reco.pseudonyms import load_pseudonyms
from reco.v1 import recommendations_pb2 as pb

EQUIVALENT = {"topic_partitions": 1, "job_parallelism": 1, "profile_min_interval_ms": 0,
              "trending_emit_ratio": 1.0, "top_emit_interval_ms": 100, "log_impressions": False}
SETTLE_S = 5.0  # the shared lists are throttled at top_emit_interval_ms


def equivalent(settings: Settings) -> Settings:
    return dataclasses.replace(settings, **EQUIVALENT)  # type: ignore[arg-type]


def closing_events(events: list[Event]) -> list[Event]:
    """One checkout start per user after the last event (no item: changes no shared list)."""
    last = max(e.ts for e in events)
    users = sorted({e.user_id for e in events})
    return [Event(f"tick-{user}", "checkout_start", user, ts=last + 1_000 + n)
            for n, user in enumerate(users)]


def latest(settings: Settings, topic: str) -> dict[str, bytes]:
    """The last committed value of every key of a compacted output topic."""
    return {key.decode(): value for key, value in latest_values(settings, topic).items()
            if key is not None}


def counted(raw: bytes) -> tuple[int, int]:
    """Events a published profile has learned and filtered (caught up when they match)."""
    profile = pb.UserProfile.FromString(raw)
    return profile.event_count, profile.filtered_events


def cleared(raw: bytes, kind: Any) -> str:
    """The message with its publication time cleared, as text (a difference shows fields)."""
    from google.protobuf import text_format

    message = kind.FromString(raw)
    message.updated_at_ms = 0
    return text_format.MessageToString(message)


def harness_after(settings: Settings, events: Iterable[Event]) -> InProcessSystem:
    """The harness after the events, each under its user's pseudonym as the job's first
    step gives it."""
    harness = InProcessSystem(settings, retrain_factors=False, page_requests=False)
    ids = load_pseudonyms(settings)
    for event in events:
        harness.learn(dataclasses.replace(event, user_id=ids.of(event.user_id)))
    return harness


def wait_for(settings: Settings, harness: InProcessSystem, timeout_s: float
             ) -> dict[str, bytes] | None:
    """The job's profiles once every user's has counted what the harness counted."""
    expected = {user: counted(raw) for user, raw in harness.published.items()}
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = latest(settings, settings.topic_user_profiles)
        if all(u in found and counted(found[u]) == n for u, n in expected.items()):
            return found
        time.sleep(1.0)
    return None


@dataclass
class Comparison:
    users: int = 0
    profiles_equal: int = 0
    lists_equal: int = 0
    lists: int = 0
    cold_start_equal: bool = False
    differences: list[str] = field(default_factory=list)  # the first few, as diffs

    @property
    def identical(self) -> bool:
        return (self.profiles_equal == self.users and self.lists_equal == self.lists
                and self.cold_start_equal)

    def summary(self) -> dict[str, Any]:
        return {"users": self.users, "profiles_equal": self.profiles_equal,
                "lists": self.lists, "lists_equal": self.lists_equal,
                "cold_start_list_equal": self.cold_start_equal}


def _diff(job: str, harness: str, what: str) -> str:
    lines = difflib.unified_diff(job.splitlines(), harness.splitlines(), "job", "harness",
                                 lineterm="", n=2)
    return f"{what} differs:\n" + "\n".join(list(lines)[:40])


def compare(settings: Settings, harness: InProcessSystem, profiles: dict[str, bytes],
            shown: int = 5) -> Comparison:
    result = Comparison(users=len(harness.published))
    job_lists = latest(settings, settings.topic_recommendations)

    def check(job: bytes | None, mine: bytes | None, kind: Any, what: str) -> bool:
        a = cleared(job, kind) if job is not None else "(none)"
        b = cleared(mine, kind) if mine is not None else "(none)"
        if a != b and len(result.differences) < shown:
            result.differences.append(_diff(a, b, what))
        return a == b

    for user, raw in sorted(harness.published.items()):
        result.profiles_equal += check(profiles.get(user), raw, pb.UserProfile,
                                       f"{user}'s profile")
        if user in harness.lists or user in job_lists:
            result.lists += 1
            result.lists_equal += check(job_lists.get(user), harness.lists.get(user),
                                        pb.RecommendationList, f"{user}'s list")
    popular = latest(settings, settings.topic_popular_lists).get(GLOBAL_LIST)
    result.cold_start_equal = check(popular, harness.global_list(), pb.RecommendationList,
                                    "the cold-start list")
    return result
