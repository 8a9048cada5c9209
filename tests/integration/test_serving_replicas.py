"""Serving replicas: each server materialises the compacted topics into a store of its own, a
new one catches up from the topics alone, and health says NOT_SERVING until it has, so a load
balancer or a Kubernetes readiness probe sends it no traffic before it answers like the rest."""

from __future__ import annotations

import dataclasses
import os
import sys
import time
import uuid
from pathlib import Path

import grpc
from confluent_kafka import Producer
from grpc_health.v1 import health_pb2, health_pb2_grpc

from infra.processes import ManagedProcess, free_port, port_open, split_address
from infra.stack import Stack
from online_models.mixes import ARMS
from reco.config import Settings, settings_env
from reco.pseudonyms import load_pseudonyms
from reco.topics import ensure_topics
from reco.v1 import recommendations_pb2 as pb
from reco.v1 import recommendations_pb2_grpc as pb_grpc

from .conftest import eventually, own_settings, session_key_file

USERS = 3_000


def health_status(address: str) -> int | None:
    try:
        with grpc.insecure_channel(address) as channel:
            return health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=1).status
    except grpc.RpcError:
        return None


def publish_users(settings: Settings, users: int) -> None:
    """A list and a profile per user, as the job publishes them (keyed, compacted topics)."""
    producer = Producer({"bootstrap.servers": settings.kafka_bootstrap, "linger.ms": 20})
    ids = load_pseudonyms(settings)
    for n in range(users):
        user = ids.of(f"user-{n}")  # the job keys them by pseudonym
        items = [f"item-{(n * 7 + k) % 500}" for k in range(10)]
        listing = pb.RecommendationList(user_id=user, items=[
            pb.RecommendedItem(item_id=i, score=1.0 / (r + 1), source="recent", reason="recent")
            for r, i in enumerate(items)])
        producer.produce(settings.topic_recommendations, key=user.encode(),
                         value=listing.SerializeToString())
        producer.produce(settings.topic_user_profiles, key=user.encode(),
                         value=pb.UserProfile(user_id=user, event_count=n + 1).SerializeToString())
        if n % 1000 == 0:
            producer.poll(0)
    assert producer.flush(30) == 0


def answers(address: str, users: list[str]) -> list[tuple[tuple[str, ...], int]]:
    with grpc.insecure_channel(address) as channel:
        stub = pb_grpc.RecommendationsStub(channel)
        return [(tuple(i.item_id for i in stub.GetRecommendations(
                    pb.GetRecommendationsRequest(user_id=u, k=10), timeout=5).items),
                 stub.GetUserProfile(pb.GetUserProfileRequest(user_id=u), timeout=5).event_count)
                for u in users]


def replica(settings: Settings, root: Path, name: str) -> tuple[Settings, ManagedProcess]:
    own = dataclasses.replace(settings, grpc_addr=f"127.0.0.1:{free_port()}",
                              admin_addr=f"127.0.0.1:{free_port()}",
                              store_path=str(root / name / "store"), stack_dir=str(root / name))
    (root / name).mkdir(parents=True)
    process = ManagedProcess("server", [sys.executable, "-m", "serving.server"], root / name,
                             {**os.environ, **settings_env(own)})
    return own, process


def test_replicas_answer_alike_and_a_new_one_is_ready_only_once_caught_up(kafka, tmp_path):
    run = f"replicas-{uuid.uuid4().hex[:6]}"
    # a fixed mix: no random draw, so two servers can answer a request alike
    settings = own_settings(kafka, tmp_path, run, log_impressions=False,
                            policy=f"fixed:{ARMS[0]}")
    ensure_topics(settings)
    publish_users(settings, USERS)
    first = Stack(settings)
    first.start_server()  # returns once health says SERVING
    try:
        sample = [f"user-{n}" for n in range(0, USERS, 97)] + [f"user-{USERS - 1}"]
        reference = answers(settings.grpc_addr, sample)
        assert all(items and count for items, count in reference), "the first is not caught up"
        second, process = replica(settings, tmp_path, "second")
        process.start()
        try:
            statuses = []
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                status = health_status(second.grpc_addr)
                statuses.append(status)
                if status == health_pb2.HealthCheckResponse.SERVING:
                    break
                time.sleep(0.01)
            assert statuses[-1] == health_pb2.HealthCheckResponse.SERVING, statuses[-10:]
            # ready means caught up: from its first SERVING it answers as the first does
            assert answers(second.grpc_addr, sample) == reference
        finally:
            process.stop()
    finally:
        first.down(only_started=True)


def test_a_replica_that_cannot_reach_kafka_is_not_serving(tmp_path):
    nowhere = f"127.0.0.1:{free_port()}"
    settings = dataclasses.replace(Settings(), kafka_bootstrap=nowhere, log_impressions=False,
                                   serving_ready_timeout_s=600.0,
                                   id_key_file=session_key_file())
    own, process = replica(settings, tmp_path, "cut-off")
    process.start()
    try:
        eventually(lambda: port_open(*split_address(own.grpc_addr)), 60, "the replica listening")
        for _ in range(20):  # two seconds: it listens, answers probes, and is not ready
            assert health_status(own.grpc_addr) == health_pb2.HealthCheckResponse.NOT_SERVING
            time.sleep(0.1)
    finally:
        process.stop()
