"""The job on a standalone Flink cluster (a JobManager and two TaskManagers, each its own JVM,
from the PyPI distribution), submitted with ``flink run`` at parallelism 2: the contracts the
MiniCluster tests check hold there too (profiles, personalised lookups, dead letters)."""

from __future__ import annotations

import json
import urllib.request
import uuid
from collections.abc import Iterator

import pytest
from kafka import KafkaConsumer

from infra.client import RecoClient
from infra.cluster import FlinkCluster
from infra.flink_rest import running_job
from infra.processes import free_port
from infra.producer import EventProducer
from infra.stack import Stack
from reco.config import Settings
from reco.simulator import ShopperSimulation, SimConfig
from reco.topics import ensure_topics
from tests.integration.conftest import eventually, own_settings

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def cluster_stack(kafka, tmp_path_factory) -> Iterator[Settings]:
    run = f"cluster-{uuid.uuid4().hex[:6]}"
    settings = own_settings(kafka, tmp_path_factory.mktemp("cluster"), run,
                            flink_rpc_port=free_port(), job_parallelism=2,
                            cluster_taskmanagers=2, cluster_task_slots=1,
                            log_impressions=False)
    ensure_topics(settings)
    cluster, stack = FlinkCluster(settings), Stack(settings)
    try:
        cluster.up()
        cluster.deploy(fresh=True)
        stack.start_server()
        yield settings
    finally:
        stack.down(only_started=True)
        cluster.down()


def rest(settings: Settings, path: str) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{settings.flink_rest_port}{path}",
                                timeout=5) as reply:
        return dict(json.load(reply))


def test_the_job_runs_on_two_taskmanagers_at_parallelism_2(cluster_stack):
    settings = cluster_stack
    taskmanagers = rest(settings, "/taskmanagers")["taskmanagers"]
    assert len(taskmanagers) == 2
    job = rest(settings, f"/jobs/{running_job(settings.flink_rest_port)}")
    assert {v["parallelism"] for v in job["vertices"]} == {1, 2}  # popular lists: one subtask
    # the keyed user operator's two subtasks run in the two TaskManagers
    users = next(v for v in job["vertices"] if "user-recommendations" in v["name"])
    hosts = rest(settings, f"/jobs/{job['jid']}/vertices/{users['id']}/taskmanagers")
    assert len(hosts["taskmanagers"]) == 2


def test_the_demo_stream_is_learned_and_served_and_bad_records_dead_lettered(cluster_stack):
    settings = cluster_stack
    sim = ShopperSimulation(SimConfig(n_users=20, n_items=80, seed=31, bot_share=0.0,
                                      run_id="cluster"))
    events = list(sim.events())
    with EventProducer(settings) as producer:
        producer.send_all(events)
        producer.send_raw(f"{settings.event_topic_prefix}click", b"{broken", key=b"x")
    counts: dict[str, set[str]] = {}
    for event in events:
        counts.setdefault(event.user_id, set()).add(event.event_id)
    with RecoClient(settings.grpc_addr, timeout_s=5) as client:
        def seen(user: str) -> int:
            try:
                profile = client.profile(user)
            except Exception:
                return 0
            return profile.event_count + profile.filtered_events

        eventually(lambda: all(seen(u) >= len(ids) for u, ids in counts.items()), 120,
                   "every user's events in the profiles served")
        personal = [u for u in counts if not client.recommendations(u, 10).cold_start]
        assert personal == list(counts)
    consumer = KafkaConsumer(settings.topic_dlq, bootstrap_servers=settings.kafka_bootstrap,
                             auto_offset_reset="earliest", consumer_timeout_ms=2000,
                             isolation_level="read_committed")
    letters: list[dict] = []

    def dead_lettered() -> bool:
        letters.extend(json.loads(m.value) for m in consumer)
        return any("malformed JSON" in letter["reason"] for letter in letters)

    eventually(dead_lettered, 60, "the malformed record dead-lettered")
    consumer.close()
