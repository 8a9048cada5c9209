"""The baseline of the throughput benchmark: a bare PyFlink keyed-state job on the same stack
(Kafka source, JSON parse, key_by user, one RocksDB value state, exactly-once keyed sink).
Whatever the real job costs is measured against this in the same run.

bench/java_calls.py runs it with extra calls into Flink per event (BENCH_EXTRA_CALLS of the kind
BENCH_CALL_KIND: state_read, state_write or clock) and its own output topic
(BENCH_OUTPUT_TOPIC)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

from pyflink.common import Row, Types
from pyflink.datastream.functions import KeyedProcessFunction, RuntimeContext
from pyflink.table import StreamTableEnvironment

from jobs.environment import make_environment
from jobs.kafka_io import create_keyed_sink, create_source
from operators.state import KEYED_BYTES, value_state
from reco.config import load_settings

OUTPUT_TOPIC = "bench.bare"


class CountPerUser(KeyedProcessFunction):
    def __init__(self, extra_calls: int = 0, call_kind: str = "none") -> None:
        self.extra_calls = extra_calls
        self.call_kind = call_kind

    def open(self, runtime_context: RuntimeContext) -> None:
        self.count = runtime_context.get_state(value_state("count"))

    def process_element(self, value: Any, ctx: KeyedProcessFunction.Context) -> Iterator[Row]:
        count = (self.count.value() or 0) + 1
        if self.extra_calls:
            self._extra_calls(count, ctx)
        self.count.update(count)
        yield Row(ctx.get_current_key(), str(count).encode())

    def _extra_calls(self, count: int, ctx: KeyedProcessFunction.Context) -> None:
        for _ in range(self.extra_calls):
            if self.call_kind == "state_read":
                self.count.value()
            elif self.call_kind == "state_write":
                self.count.update(count)
            elif self.call_kind == "clock":
                ctx.timer_service().current_processing_time()


def main() -> None:
    settings = load_settings()
    env = make_environment(settings, restore=False)
    t_env = StreamTableEnvironment.create(env)
    create_source(t_env, settings, "events_source")
    parsed = t_env.to_data_stream(t_env.from_path("events_source")).map(
        lambda row: json.loads(row[0])["user_id"], output_type=Types.STRING())
    counts = parsed.key_by(lambda user: user, key_type=Types.STRING()).process(
        CountPerUser(int(os.environ.get("BENCH_EXTRA_CALLS", "0")),
                     os.environ.get("BENCH_CALL_KIND", "none")), output_type=KEYED_BYTES)
    create_keyed_sink(t_env, settings, "bare_sink",
                      os.environ.get("BENCH_OUTPUT_TOPIC", OUTPUT_TOPIC))
    statements = t_env.create_statement_set()
    statements.add_insert("bare_sink", t_env.from_data_stream(counts))
    statements.attach_as_datastream()
    env.execute(settings.job_name)


if __name__ == "__main__":
    main()
