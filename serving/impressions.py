"""Impression logging: every response the server gives is written to the ``impressions`` topic
(key: user id), so that later clicks, carts and purchases can be joined to what was shown, with
the propensity of showing it.

The request path only appends the response to a bounded queue; a background thread turns the
queue into Kafka records every ``FLUSH_S``. Logging never blocks or fails a request: when the
queue is full or Kafka cannot take a record, it is counted as dropped and the response goes
out."""

from __future__ import annotations

import collections
import json
import logging
import threading
import time
from typing import Any

from kafka import KafkaProducer
from kafka.errors import KafkaError

from reco.config import Settings
from reco.v1 import recommendations_pb2 as pb

log = logging.getLogger("reco.impressions")
FLUSH_S = 0.05
MAX_QUEUED = 100_000


def impression(request: pb.GetRecommendationsRequest, response: pb.GetRecommendationsResponse,
               served_at_ms: int) -> dict[str, Any]:
    context = request.context
    return {
        "request_id": response.request_id, "user_id": request.user_id, "k": request.k,
        "served_at_ms": served_at_ms, "model_version": response.model_version,
        # the served list is a deterministic function of the user's state so far
        "policy": "deterministic", "segment": response.segment,
        "cold_start": response.cold_start,
        "items": [{"item_id": i.item_id, "position": n, "score": i.score, "reason": i.reason,
                   "propensity": 1.0} for n, i in enumerate(response.items)],
        "context": {"device": context.device, "country": context.country, "ts": context.ts,
                    "region": context.region, "timezone": context.timezone,
                    **dict(context.extra)},
    }


class ImpressionLog:
    def __init__(self, settings: Settings) -> None:
        self.topic = settings.topic_impressions
        self.sent = 0
        self.dropped = 0
        self._queue: collections.deque[tuple[Any, Any, int]] = collections.deque()
        self._producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks=1,
                                       linger_ms=20, max_block_ms=5000,
                                       client_id="reco-server")
        try:  # learn the topic's partitions now, so the sender never waits for them
            self._producer.partitions_for(self.topic)
        except KafkaError as exc:
            log.warning("impressions topic %s not reachable yet: %s", self.topic, exc)
        self._producer.config["max_block_ms"] = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="impressions", daemon=True)
        self._thread.start()

    def log(self, request: pb.GetRecommendationsRequest,
            response: pb.GetRecommendationsResponse) -> None:
        """Queues the response for logging (cheap: no serialisation on the request path)."""
        if len(self._queue) >= MAX_QUEUED:
            self._drop(f"queue full ({MAX_QUEUED})")
            return
        self._queue.append((request, response, int(time.time() * 1000)))

    def _drop(self, why: object) -> None:
        self.dropped += 1
        if self.dropped in (1, 10, 100) or self.dropped % 1000 == 0:
            log.warning("impression not logged (%d dropped so far): %s", self.dropped, why)

    def _send_queued(self) -> None:
        while self._queue:
            request, response, served_at = self._queue.popleft()
            record = impression(request, response, served_at)
            try:
                self._producer.send(self.topic, key=request.user_id.encode(),
                                    value=json.dumps(record, separators=(",", ":")).encode())
                self.sent += 1
            except KafkaError as exc:
                self._drop(exc)

    def _run(self) -> None:
        while not self._stop.wait(FLUSH_S):
            self._send_queued()
        self._send_queued()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._producer.flush(timeout=5)
        self._producer.close(timeout=5)
