"""Erasure at the server: the job's report that it has forgotten a user (``erasure.done``,
store ``job``, committed together with the tombstones of her list, profile and consent) makes
the loader delete her rows, whatever it has read of the other topics yet, and, once that
write is on disk, confirm on ``erasure.done`` as ``server:<address>``. Reports of other stores
(other servers' confirmations) are read and skipped; nothing of them is stored.

>>> import tempfile
>>> from reco.config import Settings
>>> from reco.erasure import erasure_done
>>> confirmations = ErasureConfirmations(Settings(), produce=False)
>>> changes = confirmations.read("u1", erasure_done("u1", "r1", "job", 5))
>>> sorted(change.kind for change in changes) == sorted(USER_ROWS)
True
>>> confirmations.read("u1", erasure_done("u1", "r1", "server:b", 6)), confirmations.pending
([], [('u1', 'r1')])
"""

from __future__ import annotations

import logging

from confluent_kafka import Producer

from reco.clock import now_ms
from reco.config import Settings
from reco.erasure import erasure_done, parse_done
from reco.events import InvalidEvent
from serving.store import CONSENT_STATES, PROFILES, RECOMMENDATIONS, Change

log = logging.getLogger("reco.erasures")
ERASURES = b"e:"  # the loader's kind for erasure.done records (never stored)
USER_ROWS = (RECOMMENDATIONS, PROFILES, CONSENT_STATES)


class ErasureConfirmations:
    def __init__(self, settings: Settings, produce: bool = True) -> None:
        self.topic = settings.topic_erasure_done
        self.store_name = f"server:{settings.grpc_addr}"
        self.pending: list[tuple[str, str]] = []  # (user, request id) deleted, not confirmed
        self._producer = Producer({"bootstrap.servers": settings.kafka_bootstrap,
                                   "client.id": "reco-loader-erasures",
                                   "enable.idempotence": True}) if produce else None

    def read(self, user_id: str, record: bytes | None) -> list[Change]:
        """The store changes for one ``erasure.done`` record: her rows deleted when the job
        reports it forgot her."""
        if record is None:
            return []
        try:
            done = parse_done(record)
        except InvalidEvent as exc:
            log.warning("erasure.done record of %r skipped: %s", user_id[:80], exc)
            return []
        if done.store != "job":
            return []
        self.pending.append((done.user_id, done.request_id))
        return [Change(kind, done.user_id, None) for kind in USER_ROWS]

    def confirm(self) -> None:
        """Reports the deletions written since the last call."""
        if not self.pending or self._producer is None:
            self.pending.clear()
            return
        for user_id, request_id in self.pending:
            self._producer.produce(self.topic, key=user_id.encode(), value=erasure_done(
                user_id, request_id, self.store_name, now_ms()))
        self.pending.clear()
        left = self._producer.flush(10)
        if left:
            log.warning("%d erasure confirmations not yet sent (is Kafka reachable?)", left)

    def close(self) -> None:
        if self._producer is not None:
            self._producer.flush(5)
