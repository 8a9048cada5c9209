"""A real Kafka broker (KRaft, free ports), the job on a MiniCluster and the gRPC server, started
once per test session by the same code as `make up`, and torn down afterwards."""

from __future__ import annotations

import dataclasses
import functools
import os
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from infra.processes import free_port
from infra.stack import LocalKafka, Stack, local_kafka
from reco.config import Settings
from reco.pseudonyms import load_pseudonyms
from reco.topics import ensure_topics

T = TypeVar("T")


def eventually(probe: Callable[[], T | None], timeout_s: float = 60.0, what: str = "") -> T:
    """Polls ``probe`` until it returns something truthy; fails with ``what`` on timeout."""
    deadline = time.monotonic() + timeout_s
    last = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(0.1)
    raise AssertionError(f"not within {timeout_s:.0f} s: {what} (last: {last!r})")


# Most tests' events say nothing of consent: the stacks treat that as allowed. The consent
# tests send explicit consent (granted, denied, withdrawn); the default, deny, is the unit tests'.
ALLOW = "allow"


@functools.cache
def session_key_file() -> str:
    """One user id key for every stack of the session: a job restored from another's
    savepoint, or compared with another, keys users alike (a new key makes every user a new
    one: docs/privacy.md)."""
    path = Path(tempfile.mkdtemp(prefix="reco-test-key-")) / "id.key"
    path.write_bytes(os.urandom(32))
    return str(path)


def key_of(settings: Settings, user: str) -> str:
    """The user's pseudonym under the stack's key: what topics, state and stores are keyed by
    (the stack writes its key when it starts the job or the server)."""
    return load_pseudonyms(settings).of(user)


def own_settings(kafka: LocalKafka, root: Path, run: str, **overrides: Any) -> Settings:
    """Settings of a job of its own on the session's broker: its topics, consumer group,
    ports and folders named after ``run``, restarts off, quick checkpoints and discovery."""
    topics: dict[str, Any] = {f.name: f"{run}-{f.default}" for f in dataclasses.fields(Settings)
              if f.name.startswith("topic_") and f.name != "topic_partitions"}
    return dataclasses.replace(Settings(
        kafka_bootstrap=kafka.bootstrap, grpc_addr=f"127.0.0.1:{free_port()}",
        admin_addr=f"127.0.0.1:{free_port()}",
        flink_rest_port=free_port(), stack_dir=str(root), checkpoint_dir=str(root / "ck"),
        store_path=str(root / "store"), job_name=run, consumer_group=run,
        restart_attempts=0, checkpoint_interval_ms=500, partition_discovery_ms=1000,
        event_topic_prefix=f"{run}.events.", consent_default=ALLOW,
        id_key_file=session_key_file()), **topics, **overrides)


@pytest.fixture(scope="session")
def kafka(tmp_path_factory) -> Iterator[LocalKafka]:
    with local_kafka(tmp_path_factory.mktemp("broker")) as broker:
        yield broker


@pytest.fixture(scope="session")
def settings(kafka, tmp_path_factory) -> Settings:
    run = uuid.uuid4().hex[:8]
    root = tmp_path_factory.mktemp("stack")
    return Settings(
        kafka_bootstrap=kafka.bootstrap, grpc_addr=f"127.0.0.1:{free_port()}",
        admin_addr=f"127.0.0.1:{free_port()}",
        flink_rest_port=free_port(), stack_dir=str(root), checkpoint_dir=str(root / "ck"),
        store_path=str(root / "store"), job_name=f"it-{run}", consumer_group=f"it-{run}",
        restart_attempts=0, top_emit_interval_ms=200, partition_discovery_ms=2000,
        checkpoint_interval_ms=500, consent_default=ALLOW, id_key_file=session_key_file())


@pytest.fixture(scope="session")
def stack(settings) -> Iterator[Stack]:
    ensure_topics(settings)
    stack = Stack(settings)
    try:
        stack.start_job(fresh=True)
        stack.start_server()
        yield stack
    finally:
        stack.down(only_started=True)
