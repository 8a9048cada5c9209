"""``reco import`` into a fresh stack, measured: the import's send rate beside the bare
producer's (the same events sent by EventProducer to topics no job reads), how long the job
takes to catch up (its consumer lag back to zero), and the evaluation harness's rate on the
same events (the user step in process, no Flink: what a bounded job running the same step
could reach at best), on a public data set or any history file.

With ``--compare`` the warm start is checked too: the events go to one input topic and the job
runs at parallelism 1, publishing every event (bench/equivalence.py), so that afterwards every
user's profile and list can be compared byte for byte with what the harness computed for the
same events; every user is also looked up over gRPC (personalised or the cold-start list).
JSON goes to bench/results/import_history-<time>.json.

  python -m bench.import_history --format yoochoose \\
      ../shared/datasets/yoochoose-100k-sessionrec/yoochoose-clicks-100k_test.txt
  python -m bench.import_history --format taobao --events 20000 --compare \\
      ../shared/datasets/taobao-userbehavior-head/UserBehavior_head.csv
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.backlog import settings_for
from bench.common import write_results
from bench.equivalence import (
    SETTLE_S,
    closing_events,
    compare,
    equivalent,
    harness_after,
    latest,
    wait_for,
)
from infra.client import RecoClient
from infra.flink_rest import flink_job_restarts
from infra.importer import run_import
from infra.processes import exit_on_sigterm
from infra.producer import EventProducer
from infra.stack import LocalKafka, Stack, local_kafka
from reco.arguments import positive_int
from reco.config import Settings
from reco.events import Event
from reco.history import FORMATS, read_history, write_jsonl
from reco.reporting import machine, progress
from reco.topics import ensure_topics

HISTORY_TOPIC = "history"


def bare_rate(kafka: LocalKafka, root: Path, events: list[Event]) -> int:
    bare = settings_for(kafka, root, "bare").replace(event_topic_prefix="bare.")
    ensure_topics(bare)
    progress(f"the bare producer: {len(events):,} events to topics no job reads")
    started = time.monotonic()
    with EventProducer(bare) as producer:
        producer.send_all(events)
    return round(len(events) / (time.monotonic() - started))


def lookups(settings: Settings, users: list[str]) -> dict[str, int]:
    """Every user looked up once: how many got a personalised list."""
    personalised = 0
    with RecoClient(settings.grpc_addr, timeout_s=5) as client:
        for user in users:
            reply = client.recommendations(user, 10)
            personalised += bool(reply.items) and not reply.cold_start
    return {"looked_up": len(users), "personalised": personalised}


def warm_start(settings: Settings, path: Path, events: list[Event],
               timeout_s: float) -> dict[str, Any]:
    """Import on one topic, close the stream, and compare the job with the harness."""
    summary = run_import(settings, path, "jsonl", timeout_s=timeout_s, topic=HISTORY_TOPIC)
    users = sorted({e.user_id for e in events})
    deadline = time.monotonic() + timeout_s
    while (len(latest(settings, settings.topic_user_profiles)) < len(users)
           and time.monotonic() < deadline):
        time.sleep(1.0)
    time.sleep(SETTLE_S)
    closing = closing_events(events)
    with EventProducer(settings) as producer:
        for event in closing:
            producer.send(event, HISTORY_TOPIC)
    started = time.monotonic()
    harness = harness_after(settings, events + closing)
    summary["harness_events_per_s"] = round(len(events) / (time.monotonic() - started))
    profiles = wait_for(settings, harness, timeout_s)
    if profiles is None:
        summary["comparison"] = "the job did not publish every user's last event in time"
        return summary
    result = compare(settings, harness, profiles)
    summary["comparison"] = {**result.summary(), "identical": result.identical,
                             "first_differences": result.differences}
    summary["lookups"] = lookups(settings, users)
    return summary


def main() -> None:
    exit_on_sigterm()
    parser = argparse.ArgumentParser(prog="python -m bench.import_history", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file")
    parser.add_argument("--format", default="csv", choices=FORMATS)
    parser.add_argument("--events", type=positive_int,
                        help="only the file's first N events in time order")
    parser.add_argument("--compare", action="store_true",
                        help="check the warm start against the evaluation harness")
    parser.add_argument("--timeout", type=float, default=3600.0)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="reco-import-"))
    results: dict[str, Any] = {"command": "python -m bench.import_history " +
                               " ".join(sys.argv[1:]), "machine": machine()}
    history = read_history(args.file, args.format)
    events = history.events[:args.events] if args.events else history.events
    path = root / "history.jsonl"  # what is imported: the file's valid events, or their start
    write_jsonl(path, events)
    events = read_history(path, "jsonl").events
    results["rejected_rows_in_file"] = len(history.rejected)
    with local_kafka(root) as kafka:
        results["bare_producer_events_per_s"] = bare_rate(kafka, root, events)
        settings = settings_for(kafka, root, "import")
        if args.compare:
            settings = equivalent(settings)
        ensure_topics(settings)
        stack = Stack(settings)
        try:
            stack.start_job(fresh=True)
            if args.compare:
                stack.start_server()
                summary = warm_start(settings, path, events, args.timeout)
            else:
                summary = run_import(settings, path, "jsonl", timeout_s=args.timeout)
                started = time.monotonic()
                harness_after(settings, events)
                summary["harness_events_per_s"] = round(
                    len(events) / (time.monotonic() - started))
            summary["job_restarts"] = flink_job_restarts(settings.flink_rest_port)
            results["import"] = summary
        finally:
            stack.down(only_started=True)
    imported = results["import"]
    if imported.get("catch_up_s"):
        imported["learned_events_per_s"] = round(
            imported["sent"] / (imported["send_s"] + imported["catch_up_s"]))
    path = write_results("import_history", results)
    print(json.dumps({k: v for k, v in results.items() if k != "machine"}, indent=2))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
