"""Test tiers: a test marked neither ``flink`` (a Flink MiniCluster) nor ``integration`` (a
real Kafka broker, the job and the gRPC server) is a ``unit`` test: pure logic and doctests,
no JVM, no broker. ``make unit`` runs ``-m unit``."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if not any(item.get_closest_marker(tier) for tier in ("flink", "integration")):
            item.add_marker(pytest.mark.unit)
