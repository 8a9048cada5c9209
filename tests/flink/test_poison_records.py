"""A record whose processing raises is dead-lettered with the operator and the reason, and the
job goes on: the same user's next events and everybody else's are processed (issue: one
record kills the job). The failure is injected into the real user operator by a subclass
whose profile learning raises for one event id; everything else is the shipped pipeline."""

from __future__ import annotations

import json
from typing import Any

import pytest

from operators.users import UserRecommendations
from reco.events import Event
from reco.v1 import recommendations_pb2 as pb
from tests.flink.harness import run_pipeline

pytestmark = pytest.mark.flink
T0 = 1_795_680_000_000
POISON = "poison-event"


class FailingLearn:
    """The profile book, except that learning the poison event raises."""

    def __init__(self, book: Any) -> None:
        self.book = book

    def learn(self, profile: Any, event: Event) -> None:
        if event.event_id == POISON:
            raise RuntimeError("injected failure in the user step")
        self.book.learn(profile, event)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.book, name)


class PoisonedUsers(UserRecommendations):
    def open(self, runtime_context: Any) -> None:
        super().open(runtime_context)
        self.step.profiles = FailingLearn(self.step.profiles)


def view(n: int, user: str, item: str, event_id: str | None = None) -> bytes:
    return Event(event_id or f"{user}-{n}", "product_view", user, ts=T0 + n * 1000,
                 item_id=item, category="shoes").to_json()


def test_a_record_that_makes_the_user_step_raise_is_dead_lettered_and_the_job_goes_on(
        tmp_path):
    from reco.config import Settings
    settings = Settings(job_parallelism=1, stack_dir=str(tmp_path), profile_min_interval_ms=0,
                        consent_default="allow",  # the crafted events say nothing of it
                        restart_attempts=0)
    records = [view(1, "victim", "s1"), view(2, "other", "s2"),
               view(3, "victim", "s3", event_id=POISON),
               view(4, "victim", "s4"), view(5, "other", "s5")]
    out = run_pipeline(records, settings, user_operator=PoisonedUsers)
    [letter] = [json.loads(s) for s in out["dead_letters"]]
    assert letter["operator"] == "user-recommendations"
    assert letter["error_type"] == "RuntimeError"
    assert "injected failure" in letter["reason"]
    assert letter["record"][0]["event_id"] == POISON
    profiles: dict[str, pb.UserProfile] = {}
    for key, value in out["profiles"]:
        profiles[key] = pb.UserProfile.FromString(value)
    # the poison event is not learned; the victim's events around it and the other user's are
    assert profiles["victim"].event_count == 2
    assert profiles["victim"].last_event_id == "victim-4"
    assert profiles["other"].event_count == 2
