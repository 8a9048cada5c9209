"""The prequential replay through the real stack (Kafka, the Flink job, the gRPC server), to
show that what the deployed system serves matches the in-process numbers within noise.

Events go to Kafka in time order (their timestamps moved to end now). Before each target event
the replay waits until the user's profile, as served, shows every earlier event of that user
(learned or filtered: the job has caught up with them, a checkpoint interval or so), asks
``GetRecommendations`` for 20 items, scores the rank of the target, then sends it. The same
events and targets go through the in-process system (without daily factor retraining, which the
stack would need ``reco train-factors`` for). Slow by design: about a checkpoint per target.

Neither bandit learns during the replay. The stack's cannot: the job joins feedback with
impressions on the serving clock (an event counts for an impression served before it, within
the attribution window), and replayed events carry their own, earlier times, so no replayed
event ever rewards an impression. The in-process system's, which runs on event time, would; so
it is held at its prior too, and the comparison covers what the two share: features,
candidate pools and serving, each policy choosing mixes from its prior. The live loop (a click
on a served item reaching the policy that serving uses) is tested in tests/integration and
timed by bench.end_to_end.
"""

from __future__ import annotations

import dataclasses
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import grpc

from evaluation.metrics import KS, Metrics, comparison
from evaluation.report import progress
from evaluation.system import InProcessSystem, settings_for_data
from infra.client import RecoClient
from infra.processes import free_port
from infra.producer import EventProducer
from infra.stack import LocalKafka, Stack, local_kafka
from reco.clock import now_ms
from reco.config import Settings, settings_or_exit
from reco.events import Event
from reco.topics import ensure_topics


def _shifted(events: list[Event]) -> list[Event]:
    offset = now_ms() - max(e.ts for e in events) - 1000
    return [dataclasses.replace(e, ts=e.ts + offset,
                                event_id=f"{e.event_id}-{uuid.uuid4().hex[:6]}")
            for e in events]


def _caught_up(client: RecoClient, user: str, sent: int) -> bool:
    try:
        profile = client.profile(user)
    except grpc.RpcError:
        return False
    return profile.event_count + profile.filtered_events >= sent


def _known(client: RecoClient, users: set[str]) -> list[str]:
    """The users the stack already has a profile of."""
    known = []
    for user in sorted(users):
        try:
            client.profile(user)
        except grpc.RpcError as error:
            if error.code() != grpc.StatusCode.NOT_FOUND:
                raise
            continue
        known.append(user)
    return known


def _stack_settings(root: Path, kafka: LocalKafka, events: list[Event]) -> Settings:
    return dataclasses.replace(
        settings_for_data(settings_or_exit("reco eval"), events), kafka_bootstrap=kafka.bootstrap,
        grpc_addr=f"127.0.0.1:{free_port()}",
        flink_rest_port=free_port(), stack_dir=str(root), checkpoint_dir=str(root / "ck"),
        store_path=str(root / "store"), job_name="eval-replay", consumer_group="eval-replay",
        restart_attempts=0, log_impressions=True)


def replay_through_stack(events: list[Event], targets: set[str], max_targets: int
                         ) -> dict[str, Any]:
    """Starts a stack of its own (Kafka on free ports, the job, the server), replays, stops."""
    root = Path(tempfile.mkdtemp(prefix="reco-eval-stack-"))
    with local_kafka(root) as kafka:
        settings = _stack_settings(root, kafka, events)
        stack = Stack(settings)
        progress(f"starting the job and the server in {root}")
        try:
            ensure_topics(settings)
            stack.start_job(fresh=True)
            stack.start_server()
            return replay_on(settings, events, targets, max_targets)
        finally:
            stack.down(only_started=True)


def replay_on(settings: Settings, events: list[Event], targets: set[str], max_targets: int,
              timeout_s: float = 30.0) -> dict[str, Any]:
    """The replay against a running stack (its server at ``settings.grpc_addr``)."""
    events = _shifted(events)
    served, in_process = Metrics(), Metrics()
    # the stack is asked at targets only, and its bandit cannot learn from replayed events (see
    # above): the in-process system likewise, to compare like with like
    system = InProcessSystem(settings, retrain_factors=False, page_requests=False,
                             learn_policy=False)
    sent: Counter[str] = Counter()
    asked = 0
    with RecoClient(settings.grpc_addr, timeout_s=5) as client, \
            EventProducer(settings, linger_ms=0) as producer:
        # a user the stack knows would be caught up at once and served from other events
        known = _known(client, {e.user_id for e in events})
        if known:
            raise ValueError(f"the stack already knows {len(known)} of the replayed users "
                             f"({', '.join(known[:3])}...): replay users it has not seen, "
                             "e.g. with a fresh prefix on their ids")
        for event in events:
            target = event.item_id if event.event_type in targets else None
            if target is not None and asked < max_targets:
                producer.flush()
                deadline = time.monotonic() + timeout_s
                while not _caught_up(client, event.user_id, sent[event.user_id]) \
                        and time.monotonic() < deadline and sent[event.user_id]:
                    time.sleep(0.05)
                returning = sent[event.user_id] > 0
                reply = client.recommendations(event.user_id, max(KS))
                served.add([i.item_id for i in reply.items], target, returning)
                in_process.add(system.recommend(event.user_id, max(KS), event.ts),
                               target, returning)
                asked += 1
                if asked % 10 == 0:
                    progress(f"  {asked}/{max_targets} targets asked through the stack")
            system.learn(event)
            producer.send(event)
            sent[event.user_id] += 1
            if asked >= max_targets:
                break
    catalogue = Counter(e.item_id for e in events if e.item_id)
    return {"targets": asked,
            "stack": served.summary(len(catalogue), catalogue),
            "in_process": in_process.summary(len(catalogue), catalogue),
            "stack_minus_in_process": comparison(served, in_process)}
