"""Several serving processes on one port (serving_workers): every process answers from the
store the first one loads from Kafka, sees new versions, and all of them stop together."""

from __future__ import annotations

import dataclasses
import os
import signal
from pathlib import Path

import grpc
from confluent_kafka import Producer

from infra.processes import child_pids, free_port, port_open, split_address
from infra.stack import Stack
from reco.topics import ensure_topics
from reco.v1 import recommendations_pb2 as pb
from reco.v1 import recommendations_pb2_grpc as pb_grpc

from .conftest import eventually, key_of

WORKERS = 3


def publish(settings, user: str, items: list[str]) -> None:
    producer = Producer({"bootstrap.servers": settings.kafka_bootstrap})
    message = pb.RecommendationList(user_id=user, items=[
        pb.RecommendedItem(item_id=i, score=1.0 / (n + 1), source="recent", reason="recent")
        for n, i in enumerate(items)])
    producer.produce(settings.topic_recommendations, key=key_of(settings, user).encode(),
                     value=message.SerializeToString())  # the job keys lists by pseudonym
    producer.flush(10)


def answers_on_fresh_connections(address: str, user: str, n: int = 24) -> set[tuple[str, ...]]:
    """What ``n`` new connections get (the kernel spreads them over the processes)."""
    seen = set()
    for _ in range(n):
        with grpc.insecure_channel(address) as channel:
            reply = pb_grpc.RecommendationsStub(channel).GetRecommendations(
                pb.GetRecommendationsRequest(user_id=user, k=5), timeout=5)
            seen.add(tuple(i.item_id for i in reply.items))
    return seen


def running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"  # a zombie has stopped; nobody may have reaped it yet


def test_worker_processes_share_the_port_see_the_loaders_writes_and_stop_with_the_first(
        settings, tmp_path):
    own = dataclasses.replace(
        settings, grpc_addr=f"127.0.0.1:{free_port()}", serving_workers=WORKERS,
        store_path=str(tmp_path / "store"), stack_dir=str(tmp_path),
        topic_recommendations=f"workers-{os.getpid()}.recommendations",
        log_impressions=False)
    ensure_topics(own)
    publish(own, "wanda", ["a", "b"])
    stack = Stack(own)
    stack.start_server()
    try:
        server_pid = stack.server.pid()
        assert server_pid is not None
        eventually(lambda: len(child_pids(server_pid)) == WORKERS - 1, 30,
                   "the extra workers started")
        workers = child_pids(server_pid)
        log = Path(own.stack_dir) / "server.log"
        eventually(lambda: all(f"worker {n})" in log.read_text() for n in range(1, WORKERS)),
                   30, "every worker serving")
        eventually(lambda: answers_on_fresh_connections(own.grpc_addr, "wanda") ==
                   {("a", "b")}, 30, "every process serving the loaded list")
        publish(own, "wanda", ["c", "a"])
        eventually(lambda: answers_on_fresh_connections(own.grpc_addr, "wanda") ==
                   {("c", "a")}, 30, "every process serving the new version")
        os.kill(server_pid, signal.SIGKILL)  # the first process dies without a word
        eventually(lambda: not any(running(pid) for pid in workers), 30,
                   "the workers stopping once the first process is gone")
        assert not port_open(*split_address(own.grpc_addr))
    finally:
        stack.down(only_started=True)
