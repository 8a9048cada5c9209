"""Erasure end to end: the Admin service over gRPC, the job on a Flink MiniCluster, the server's
store. After the request: every store confirms on erasure.done, her profile is not found, her
list is the cold-start one, the compacted topics end with tombstones for her keys, the store
has no row of hers, and `reco export` finds nothing held from before."""

from __future__ import annotations

import dataclasses
import os
import signal
import time
import uuid

import grpc
import pytest

from app.privacy import export
from infra.client import RecoClient
from infra.erasure import confirmations, request_erasure
from infra.importer import lag
from infra.producer import EventProducer
from infra.stack import Stack
from infra.topic_reader import all_values
from reco.events import Event
from reco.topics import ensure_topics
from reco.v1 import admin_pb2 as admin_pb
from reco.v1 import admin_pb2_grpc as admin_grpc
from serving.store import CONSENT_STATES, PROFILES, RECOMMENDATIONS, Store
from tests.integration.conftest import eventually, key_of, own_settings

pytestmark = pytest.mark.integration


def shopper(user: str, run: str) -> list[Event]:
    now = int(time.time() * 1000)
    return [Event(f"{user}-0", "consent", user, ts=now, personalization=True, analytics=True),
            Event(f"{user}-1", "product_view", user, ts=now + 1, item_id=f"x-{run}"),
            Event(f"{user}-2", "add_to_cart", user, ts=now + 2, item_id=f"x-{run}")]


def events_in_profile(client: RecoClient, user: str) -> int:
    try:
        return client.profile(user).event_count
    except grpc.RpcError as error:  # NOT_FOUND until the job publishes it
        assert error.code() == grpc.StatusCode.NOT_FOUND
        return 0


def stores_done(settings, request_id: str) -> set[str]:
    found: set[str] = set()
    for done in confirmations(settings, request_id, timeout_s=60):
        found.add(done.store)
        if "job" in found and any(s.startswith("server:") for s in found):
            break
    return found


def test_an_erased_user_is_gone_from_every_store(stack, settings, tmp_path):
    run = uuid.uuid4().hex[:6]
    user = f"erased-{run}"
    with EventProducer(settings) as producer:
        producer.send_all(shopper(user, run))
    with RecoClient(settings.grpc_addr, timeout_s=5) as client:
        eventually(lambda: events_in_profile(client, user) == 2, 90, "her profile")
        assert not client.recommendations(user, 5).cold_start
        with grpc.insecure_channel(settings.admin_addr) as channel:
            admin = admin_grpc.AdminStub(channel)
            for bad in ("", "u" * 300):
                with pytest.raises(grpc.RpcError) as refused:
                    admin.EraseUser(admin_pb.EraseUserRequest(user_id=bad), timeout=5)
                assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
            reply = admin.EraseUser(admin_pb.EraseUserRequest(user_id=user), timeout=10)
            assert reply.known and reply.request_id
            assert {"job", f"server:{settings.grpc_addr}"} <= stores_done(settings,
                                                                          reply.request_id)
            stranger = admin.EraseUser(admin_pb.EraseUserRequest(user_id=f"never-{run}"),
                                       timeout=10)
            assert not stranger.known and "holds nothing" in stranger.message
            again = admin.EraseUser(admin_pb.EraseUserRequest(user_id=user), timeout=10)
            assert not again.known  # idempotent: a second request finds nothing, succeeds
            assert "job" in stores_done(settings, stranger.request_id)
        with pytest.raises(grpc.RpcError) as missing:
            client.profile(user)
        assert missing.value.code() == grpc.StatusCode.NOT_FOUND
        assert client.recommendations(user, 5).cold_start
    key = key_of(settings, user).encode()  # what the topics and the store hold
    for topic in (settings.topic_recommendations, settings.topic_user_profiles,
                  settings.topic_consent):
        latest = dict(all_values(settings, topic))
        assert key in latest and latest[key] is None, topic  # written, then a tombstone
    store = Store(tmp_path / "secondary", secondary_of=settings.store_path)
    try:
        store.catch_up()
        assert all(store.get(kind, key.decode()) is None
                   for kind in (RECOMMENDATIONS, PROFILES, CONSENT_STATES))
    finally:
        store.close()
    found = export(settings, key.decode())
    assert (found["profile"], found["recommendations"], found["consent"]) == (None, None, None)
    # the one lookup after the erasure logged an impression (the default here is allow): only
    # it is held; the ones before were dropped with her state
    [after] = found["impressions_waiting_for_rewards"]
    assert after["served_at_ms"] > max(e["done_at_ms"] for e in found["erasures"]
                                       if e["store"] == "job")
    assert {e["store"] for e in found["erasures"]} >= {"job"}


def test_an_erased_user_stays_erased_after_a_restore_from_before_the_erasure(kafka, tmp_path):
    """Her state is in a savepoint taken before the erasure. Erase her, kill the job
    (SIGKILL) once its group's offset is past the request, restore from that savepoint: the
    erasure request is read again (it is on a source topic the savepoint has not read, and
    the restored job reads it from the beginning, not from the group's offset), and a late
    event of hers from before the erasure does not bring her back. The server restarted from
    its store has no row of hers."""
    run = f"resurrect-{uuid.uuid4().hex[:6]}"
    settings = own_settings(kafka, tmp_path / run, run)
    ensure_topics(settings)
    stack = Stack(settings)
    user = f"lazarus-{run}"
    sent = shopper(user, run)
    try:
        stack.start_job(fresh=True)
        stack.start_server()
        with EventProducer(settings) as producer:
            producer.send_all(sent)
        with RecoClient(settings.grpc_addr, timeout_s=5) as client:
            eventually(lambda: events_in_profile(client, user) == 2, 90, "her profile")
            before = stack.savepoint(tmp_path / "savepoints")  # her state is in it
            stack.start_job(savepoint=before)
            request_id = request_erasure(settings, key_of(settings, user))
            assert {"job", f"server:{settings.grpc_addr}"} <= stores_done(settings,
                                                                          request_id)
            # the group's offset past the request: a restore that started its unread erasure
            # partition from the group's offset would skip the request (reco/topics.py)
            eventually(lambda: lag(settings, {settings.topic_erasure}) == 0, 60,
                       "the job committing its offset past the request")
            os.killpg(stack.job.pid() or 0, signal.SIGKILL)
            stack.job.stop()
            stack.start_job(savepoint=before)  # from before the erasure
            with EventProducer(settings) as producer:  # late, from before the erasure
                producer.send(dataclasses.replace(sent[1], event_id=f"{user}-late"))
            eventually(lambda: sum(1 for d in confirmations(settings, request_id, 5)
                                   if d.store == "job") >= 2, 120,
                       "the restored job reading the erasure request again")
            time.sleep(2)  # what the late event would have published
            stack.server.stop()
            stack.start_server()
            assert events_in_profile(client, user) == 0
            assert client.recommendations(user, 5).cold_start
        latest = dict(all_values(settings, settings.topic_user_profiles))
        key = key_of(settings, user).encode()
        assert key in latest and latest[key] is None
    finally:
        stack.down(only_started=True)
