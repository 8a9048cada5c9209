"""The job at parallelism 1, 2 and 4 (topics of 4 partitions, users spread over the subtasks)
on the same seeded stream, loaded with ``reco import``: every user's per-user features are
identical whatever the parallelism. What a user's profile takes from models shared across
users is left out of the comparison and named here: the online segment (the first instance's
model, which the others follow: a segment id means the same on every instance, checked
here, but which model version a user's publication met depends on timing), the RFM scores
(quintiles of the population) and the population statistics that shrink and normalise dwell
and session lengths, which each subtask estimates from its own random sample of users
(docs/architecture.md).

A savepoint taken at parallelism 2 restores at 4 and at 1: every user's keyed state arrives
at its new subtask, nothing is lost or counted twice, and the features match."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from bench.equivalence import latest
from infra.importer import run_import
from infra.producer import EventProducer
from infra.stack import Stack
from infra.topic_reader import all_values
from online_models.mixes import ARMS
from reco.clock import now_ms
from reco.config import Settings
from reco.events import Event
from reco.history import write_jsonl
from reco.keys import REFERENCE_INSTANCE, instance_name
from reco.simulator import ShopperSimulation, SimConfig
from reco.topics import ensure_topics
from reco.v1 import recommendations_pb2 as pb
from tests.integration.conftest import eventually, key_of, own_settings
from userstep.serve import Prepared

pytestmark = pytest.mark.integration
PARALLELISMS = (1, 2, 4)
# HR@10 on the replay may differ by this much between parallelisms: the lists blend the
# segment's popular list, and which version of the segment model a publication met depends
# on timing, and each instance's session kNN index holds its own users' sessions only (the
# features are identical)
HR_TOLERANCE = 0.05
TARGETS = {"add_to_cart", "purchase"}
# stamped at publication, or taken from models shared by users
SHARED_FIELDS = ("updated_at_ms", "segment")
POPULATION_FIELDS = {"dwell": ("zscore", "minmax", "user_mean_ms"),
                     "sessions": ("session_length_zscore", "session_length_minmax"),
                     "rfm": ("r", "f", "m", "segment")}


def per_user(raw: bytes) -> str:
    profile = pb.UserProfile.FromString(raw)
    for name in SHARED_FIELDS:
        profile.ClearField(name)
    for part, names in POPULATION_FIELDS.items():
        for name in names:
            getattr(profile, part).ClearField(name)
    if profile.dwell.imputed:  # imputed from the population's dwell times
        profile.dwell.ClearField("last_ms")
    return str(profile)


def seen(raw: bytes) -> int:
    profile = pb.UserProfile.FromString(raw)
    return profile.event_count + profile.filtered_events


def expected_counts(events: list[Event]) -> dict[str, int]:
    """Events per user, redeliveries (a repeated event id) dropped as the job drops them."""
    ids: dict[str, set[str]] = {}
    for event in events:
        ids.setdefault(event.user_id, set()).add(event.event_id)
    return {user: len(seen) for user, seen in ids.items()}


def profiles_when(settings: Settings, expected: dict[str, int], what: str) -> dict[str, bytes]:
    """Every user's latest profile (by the id sent, not the pseudonym it is kept under), once
    each shows its expected number of events."""
    keys = {user: key_of(settings, user) for user in expected}

    def probe() -> dict[str, bytes] | None:
        found = latest(settings, settings.topic_user_profiles)
        done = all(keys[u] in found and seen(found[keys[u]]) >= n for u, n in expected.items())
        return {user: found[key] for user, key in keys.items()} if done else None

    return eventually(probe, 120, what)


def job_settings(kafka: Any, tmp_path: Any, name: str, parallelism: int,
                 **overrides: Any) -> Settings:
    run = f"{name}-{uuid.uuid4().hex[:6]}"
    return own_settings(kafka, tmp_path / run, run, topic_partitions=max(PARALLELISMS),
                        job_parallelism=parallelism, log_impressions=False, **overrides)


def load(settings: Settings, history: Path, what: str) -> None:
    # one topic keyed by user: each user's events keep their order in one partition (over
    # a topic per event type a user's view and click can arrive either way round)
    summary = run_import(settings, history, "jsonl", timeout_s=240, topic="history")
    assert summary["catch_up_s"] is not None, f"{what} did not catch up"


def hit_rate_at_10(settings: Settings, events: list[Event]) -> tuple[float, int]:
    """HR@10 on the replay: for each cart or purchase, is its item among the ten items served
    (the first mix's blend) from the list the user's previous event produced?"""
    produced = {}
    for _, raw in all_values(settings, settings.topic_recommendations):
        listing = pb.RecommendationList.FromString(raw)
        produced[listing.last_event_id] = listing
    current: dict[str, pb.RecommendationList] = {}
    hits = targets = 0
    for event in events:
        before = current.get(event.user_id)
        if event.event_type in TARGETS and before is not None:
            slate = Prepared([before], False, lambda item: []).slate(ARMS[0], 10, 0.0, ())
            hits += event.item_id in {item for item, *_ in slate.items}
            targets += 1
        if event.event_id in produced:
            current[event.user_id] = produced[event.event_id]
    return hits / max(1, targets), targets


def run_at(kafka: Any, tmp_path: Any, parallelism: int, history: Path,
           events: list[Event]) -> tuple[dict[str, bytes], float, int]:
    # a list after every event, so that the replay sees what each event left; segment models
    # published often, so that the instances follow the first within the test
    settings = job_settings(kafka, tmp_path, f"par{parallelism}", parallelism,
                            profile_min_interval_ms=0, segment_publish_interval_ms=300)
    ensure_topics(settings)
    stack = Stack(settings)
    try:
        stack.start_job(fresh=True)
        load(settings, history, f"parallelism {parallelism}")
        profiles = profiles_when(settings, expected_counts(events),
                                 f"every user's last event published at parallelism "
                                 f"{parallelism}")
        rate = hit_rate_at_10(settings, events)
        if parallelism > 1:
            instances_follow_the_first(settings, parallelism)
        return (profiles, *rate)
    finally:
        stack.down(only_started=True)


def instances_follow_the_first(settings: Settings, parallelism: int) -> None:
    """Each user-operator instance but the first assigns segments with centres the first
    published (operators/users.py: _follow_segments), so a segment id means the same users
    on every instance. Instances publish their model as their users' events arrive: a few
    more visitors' events make them publish once the first's model has come back."""
    def published() -> dict[str, list[dict[str, dict[str, float]]]]:
        models: dict[str, list[dict[str, dict[str, float]]]] = {}
        for _, raw in all_values(settings, settings.topic_segments):
            summary = pb.SegmentModelSummary.FromString(raw)
            models.setdefault(summary.instance, []).append(
                {f"{s.id}": dict(s.centroid) for s in summary.segments})
        return models

    def following() -> dict[str, list[dict[str, dict[str, float]]]] | None:
        models = published()
        first = models.get(REFERENCE_INSTANCE, [])
        others = [instance_name(n) for n in range(1, parallelism)]
        if all(models.get(name) and models[name][-1] in first for name in others):
            return models
        with EventProducer(settings) as producer:  # more users, over every instance
            producer.send_all(Event(f"nudge-{uuid.uuid4().hex}", "product_view",
                                    f"nudge-{n}-{uuid.uuid4().hex[:6]}", ts=now_ms(),
                                    item_id="nudge-item") for n in range(4 * parallelism))
        return None

    models = eventually(following, 90, f"the instances following the first at {parallelism}")
    assert len(models[REFERENCE_INSTANCE]) > 1  # the first kept learning and publishing


def differing(results: dict[int, dict[str, bytes]], users: list[str]) -> str:
    """What differs from the first result, per parallelism, or '' when nothing does."""
    first, *others = results
    for p in others:
        users_off = [u for u in users if per_user(results[p][u]) != per_user(results[first][u])]
        if users_off:
            u = users_off[0]
            return (f"{len(users_off)} users' features differ at parallelism {p}, first {u}:\n"
                    f"{per_user(results[first][u])}\n--- at {p} ---\n{per_user(results[p][u])}")
    return ""


def stream(n_users: int, n_events: int, seed: int) -> list[Event]:
    sim = ShopperSimulation(SimConfig(n_users=n_users, seed=seed, run_id=f"par{seed}"))
    return [e for _, e in zip(range(n_events), sim.events(), strict=False)]


def test_per_user_features_are_the_same_at_parallelism_1_2_and_4(kafka, tmp_path):
    events = stream(80, 2_000, 23)
    history = tmp_path / "history.jsonl"
    write_jsonl(history, events)
    runs = {p: run_at(kafka, tmp_path, p, history, events) for p in PARALLELISMS}
    results = {p: profiles for p, (profiles, _, _) in runs.items()}
    users = sorted(expected_counts(events))
    assert len(users) >= 40
    assert not differing(results, users), differing(results, users)
    rates = {p: rate for p, (_, rate, _) in runs.items()}
    print(f"HR@10 on the replay by parallelism: {rates}, targets "
          f"{ {p: t for p, (_, _, t) in runs.items()} }")
    assert all(targets >= 30 for _, _, targets in runs.values()), runs
    assert rates[1] > 0, "no hit at all: the replay reads no lists"
    assert all(abs(rate - rates[1]) <= HR_TOLERANCE for rate in rates.values()), rates


def test_a_savepoint_at_parallelism_2_restores_at_4_and_at_1(kafka, tmp_path):
    events = stream(30, 1_200, 29)
    # a restored job publishes the users it gets events of: those of the second half, whose
    # counts include what the first half left in the savepoint
    later = {e.user_id for e in events[600:]}
    expected = {u: n for u, n in expected_counts(events).items() if u in later}
    carried = set(expected) & {e.user_id for e in events[:600]}
    assert len(carried) >= 10, "too few users in both halves to show state carried over"
    before, after = tmp_path / "before.jsonl", tmp_path / "after.jsonl"
    write_jsonl(before, events[:600])
    write_jsonl(after, events[600:])
    first = job_settings(kafka, tmp_path, "rescale-p2", 2)
    ensure_topics(first)
    stack = Stack(first)
    try:
        stack.start_job(fresh=True)
        load(first, before, "parallelism 2")
        profiles_when(first, expected_counts(events[:600]), "the first half at parallelism 2")
        savepoint = stack.savepoint(tmp_path / "savepoints")
    finally:
        stack.down(only_started=True)
    assert (Path(savepoint) / "_metadata").exists()
    results = {}
    for parallelism in (4, 1):
        # the same input topics and offsets (in the savepoint), outputs of its own
        restored = job_settings(kafka, tmp_path, f"rescale-p{parallelism}", parallelism,
                                event_topic_prefix=first.event_topic_prefix)
        ensure_topics(restored)
        stack = Stack(restored)
        try:
            stack.start_job(savepoint=savepoint)
            if parallelism == 4:  # the second half, sent once: the restore at 1 reads it too
                load(restored, after, "the restore at parallelism 4")
            results[parallelism] = profiles_when(
                restored, expected, f"every user's events after the restore at {parallelism}")
        finally:
            stack.down(only_started=True)
    users = sorted(expected)
    for p, found in results.items():
        counted = {u: seen(found[u]) for u in users}
        assert counted == expected, f"event counts after the restore at {p} differ"
    assert not differing(results, users), differing(results, users)
