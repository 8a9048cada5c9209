"""``reco import`` into the real stack (Kafka with two partitions, the job at parallelism 2,
the gRPC server): a backfill of 120 days of history sent in time order at full speed. Bad rows
are reported with their line numbers and the rest load; the job stays RUNNING with no restart
(one event 60 days old used to overflow the trending scores); every imported user gets a
personalised list; importing the same file again sends nothing and counts nothing twice."""

from __future__ import annotations

import random
import time

import grpc
import pytest

from infra.client import RecoClient
from infra.flink_rest import flink_job_restarts, flink_job_running
from infra.importer import run_import
from tests.integration.conftest import eventually

pytestmark = pytest.mark.integration
DAY_MS = 86_400_000


def history_csv(path, users: int = 300, items: int = 120, events: int = 4_000) -> list[str]:
    """A seeded 120-day history ending now, with three bad rows; returns the user ids."""
    rng = random.Random(5)
    end = int(time.time() * 1000) - 60_000
    rows = []
    for n in range(events):
        user = f"imp-u{n % users}"
        category = f"imp-c{hash(user) % 7}"
        kind = rng.choices(["product_view", "add_to_cart", "purchase"], [8, 2, 1])[0]
        ts = end - 120 * DAY_MS + (n * 120 * DAY_MS) // events
        rows.append(f"{ts},{user},imp-i{rng.randrange(items)},{kind},{category},"
                    f"{rng.randrange(5, 200)}")
    rows[10] = f"{end},imp-u3,imp-i3,teleport,imp-c3,5"
    rows[20] = "not-a-time,imp-u1,imp-i1,product_view,imp-c1,5"
    rows[30] = f"{end},imp-u2,imp-i2,purchase,imp-c2,-5"
    path.write_text("timestamp,user_id,item_id,event_type,category,price\n"
                    + "\n".join(rows) + "\n")
    return sorted({f"imp-u{n % users}" for n in range(events)})


def event_count(client: RecoClient, user: str) -> int:
    try:
        return client.profile(user).event_count
    except grpc.RpcError:
        return 0


def test_a_120_day_backfill_loads_warms_every_user_and_is_not_counted_twice(
        stack, settings, tmp_path):
    path = tmp_path / "history.csv"
    users = history_csv(path)
    summary = run_import(settings, path, "csv", timeout_s=240)
    assert summary["rejected_rows"] == 3 and summary["sent"] == summary["events"] == 3_997
    assert summary["catch_up_s"] is not None, "the job did not catch up"
    assert flink_job_running(settings.flink_rest_port)
    assert flink_job_restarts(settings.flink_rest_port) == 0
    with RecoClient(settings.grpc_addr, timeout_s=5) as client:
        def settled() -> dict[str, int] | None:
            """Every profile learned and no longer changing: its last publication (a timer,
            at most a second after her last event) has reached the server."""
            first = {user: event_count(client, user) for user in users[:20]}
            time.sleep(3)
            second = {user: event_count(client, user) for user in users[:20]}
            return second if second == first and all(second.values()) else None

        counts = eventually(settled, 90, "every profile learned and settled")
        for user in users[:20]:
            reply = client.recommendations(user, 50)
            assert not reply.cold_start and reply.items, user
            assert any(i.source == "recent" for i in reply.items), (user, reply)
        again = run_import(settings, path, "csv", timeout_s=60)
        assert again["already_imported"] and again["sent"] == 0
        time.sleep(2)
        assert {u: event_count(client, u) for u in users[:20]} == counts
