"""Consent end to end: consent events into Kafka, the job on a Flink MiniCluster, the server
over gRPC. Granted: a personal list and a profile. Denied: no profile, the anonymous list with
reason ``consent``. Withdrawn: the user is forgotten (tombstones on the compacted topics, no
row in the server's store, no profile)."""

from __future__ import annotations

import threading
import time
import uuid

import grpc
import pytest

from infra.client import RecoClient
from infra.producer import EventProducer
from infra.topic_reader import all_values
from reco.events import Event
from reco.topics import ensure_topics
from reco.v1 import recommendations_pb2 as pb
from serving.consent import ConsentBook
from serving.loader import Loader
from serving.store import CONSENT_STATES, PROFILES, RECOMMENDATIONS, Store
from tests.integration.conftest import eventually, key_of, own_settings

pytestmark = pytest.mark.integration


def said(user: str, at: int, personalization: bool | None = None,
         analytics: bool | None = None) -> Event:
    return Event(f"{user}-consent-{at}", "consent", user, ts=at,
                 personalization=personalization, analytics=analytics)


def behaviour(user: str, at: int, run: str) -> list[Event]:
    return [Event(f"{user}-{n}", kind, user, ts=at + n, item_id=f"{item}-{run}",
                  category=f"cat-{run}", price=12.0 if kind == "purchase" else None)
            for n, (kind, item) in enumerate([("product_view", "a"), ("product_view", "b"),
                                              ("purchase", "a")], start=1)]


def has_profile(client: RecoClient, user: str) -> bool:
    try:
        client.profile(user)
        return True
    except grpc.RpcError as error:
        assert error.code() == grpc.StatusCode.NOT_FOUND
        return False


def test_consent_granted_denied_and_withdrawn(stack, settings, tmp_path):
    run = uuid.uuid4().hex[:6]
    granted, denied, withdrawn = (f"{kind}-{run}" for kind in ("granted", "denied", "gone"))
    now = int(time.time() * 1000)
    with EventProducer(settings) as producer:
        producer.send_all([said(granted, now, personalization=True, analytics=True),
                           said(denied, now, personalization=False, analytics=True),
                           said(withdrawn, now, personalization=True)])
        for user in (granted, denied, withdrawn):
            producer.send_all(behaviour(user, now, run))
    with RecoClient(settings.grpc_addr, timeout_s=5) as client:
        eventually(lambda: has_profile(client, granted) and has_profile(client, withdrawn), 90,
                   "the profiles of the users who consented")
        eventually(lambda: client.profile(granted).event_count == 3, 30,
                   "every event of the user who consented in her profile")
        reasons = {i.reason for i in client.recommendations(granted, 5).items}
        assert reasons and "consent" not in reasons
        assert not has_profile(client, denied)
        anonymous = client.recommendations(denied, 5).items
        assert anonymous and {i.reason for i in anonymous} == {"consent"}

        with EventProducer(settings) as producer:
            producer.send(said(withdrawn, now + 10, personalization=False))
        eventually(lambda: not has_profile(client, withdrawn), 60, "the withdrawal")
        assert {i.reason for i in client.recommendations(withdrawn, 5).items} == {"consent"}

    def last_values(topic: str) -> dict[bytes, bytes | None]:
        return dict(all_values(settings, topic))

    key = key_of(settings, withdrawn).encode()  # what the topics and the store hold
    eventually(lambda: key in last_values(settings.topic_recommendations)
               and last_values(settings.topic_recommendations)[key] is None, 30,
               "a tombstone for the list")
    assert last_values(settings.topic_user_profiles)[key] is None
    consent = last_values(settings.topic_consent)
    assert not pb.ConsentState.FromString(consent[key]).personalization
    store = Store(tmp_path / "secondary", secondary_of=settings.store_path)
    try:
        store.catch_up()
        assert store.get(RECOMMENDATIONS, key.decode()) is None
        assert store.get(PROFILES, key.decode()) is None
        # the same store, read the same way
        assert store.get(PROFILES, key_of(settings, granted)) is not None
    finally:
        store.close()


def test_the_loader_never_steps_a_users_consent_back(kafka, tmp_path):
    """With at-least-once consent a replay writes her older states again after the newer
    ones: the store keeps the newest statement, in one poll and across polls."""
    settings = own_settings(kafka, tmp_path, f"loader-{uuid.uuid4().hex[:6]}")
    ensure_topics(settings)

    def state(user: str, at: int, personalization: bool) -> tuple[str, bytes]:
        return user, pb.ConsentState(user_id=user, personalization=personalization,
                                     updated_at_ms=at).SerializeToString()

    def write(*states: tuple[str, bytes]) -> None:
        with EventProducer(settings) as producer:
            for user, value in states:
                producer.send_raw(settings.topic_consent, value, key=user.encode())

    def read(count: int) -> bool:  # the loader has read ``count`` consent records
        return sum(offset for (topic, _), offset in store.offsets().items()
                   if topic == settings.topic_consent) >= count

    store = Store(tmp_path / "store")
    stop = threading.Event()
    loader = threading.Thread(target=Loader(store, settings).run, args=(stop,), daemon=True)
    loader.start()
    try:
        # she granted, withdrew, and a replay wrote the grant again; he withdrew, then granted
        write(state("u", 10, True), state("u", 20, False), state("u", 10, True),
              state("w", 5, False), state("w", 30, True))
        eventually(lambda: read(5), 60, "the five states read")
        book = ConsentBook(store, default_allow=True)
        assert not book.personalised("u") and book.personalised("w")
        write(state("u", 10, True))  # replayed again, in a poll of its own
        eventually(lambda: read(6), 30, "the replayed state read")
        assert not book.personalised("u")
        assert pb.ConsentState.FromString(store.get(CONSENT_STATES, "u")).updated_at_ms == 20
    finally:
        stop.set()
        loader.join(10)
        store.close()
