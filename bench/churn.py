"""Lists that change while they are asked for, for the lookup benchmark. In a shop, a user's
list changes between two of their page views (the view itself is an event the job answers
with a new list), so most requests find a list the server has not prepared yet, and the
server's loader writes as many lists as the server answers. ``ListChurn`` republishes the
users' lists to the recommendations topic at a given rate, in the load generator's order
(round robin over the same users), each with a new ``updated_at_ms`` so the bytes differ: at the
request rate, every request comes after a change to its user's list. It publishes in bursts
every ``BURST_S`` (the job's lists arrive in bursts too, at each checkpoint, every second by
default): short enough that, at the benchmark's rates over a few hundred users, no user is asked
twice within one burst."""

from __future__ import annotations

import threading
import time
from types import TracebackType

from confluent_kafka import Producer

from reco.clock import now_ms
from reco.config import Settings
from reco.pseudonyms import load_pseudonyms
from reco.v1 import recommendations_pb2 as pb

BURST_S = 0.1


class ListChurn:
    def __init__(self, settings: Settings, lists: dict[str, bytes], users: list[str],
                 rate: float) -> None:
        self.topic = settings.topic_recommendations
        ids = load_pseudonyms(settings)  # lists are keyed by the users' pseudonyms
        self.users = [ids.of(user) for user in users if ids.of(user) in lists]
        if not self.users:
            raise ValueError("none of the users has a list to republish")
        self.lists = {user: pb.RecommendationList.FromString(lists[user]) for user in self.users}
        self.rate = rate
        self.sent = 0
        self._producer = Producer({"bootstrap.servers": settings.kafka_bootstrap,
                                   "client.id": "bench-churn", "linger.ms": int(BURST_S * 1000),
                                   "acks": 1})
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="list-churn", daemon=True)

    def __enter__(self) -> ListChurn:
        """Starts republishing: returns at once, the lists change in a thread."""
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join()
        self._producer.flush(10)

    def _run(self) -> None:
        start = time.monotonic()
        while not self._stop.is_set():
            due = int((time.monotonic() - start) * self.rate)
            stamp = now_ms()
            while self.sent < due:
                user = self.users[self.sent % len(self.users)]
                changed = self.lists[user]
                changed.updated_at_ms = stamp
                self._producer.produce(self.topic, key=user.encode(),
                                       value=changed.SerializeToString())
                self.sent += 1
            self._producer.poll(0)
            self._stop.wait(BURST_S)
