"""Checkpoint durations while the job works through a full backlog, with Flink's own
mechanisms switched on one at a time: aligned checkpoints (the default), unaligned ones
(``checkpoint_unaligned``), and unaligned with buffer debloating (``buffer_debloat``). Each
variant starts a fresh job on the same preloaded backlog (a public data set's events with
their own times, as ``reco import`` sends them, or the simulation), lets it run, and reads
its completed checkpoints from Flink's REST API. Writes bench/results/checkpoints-<time>.json.

  python -m bench.checkpoints --format taobao --seconds 60 \\
      ../shared/datasets/taobao-userbehavior-head/UserBehavior_head.csv
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.backlog import add_backlog_options, backlog, run_job, settings_for
from bench.common import percentile, progress, write_results
from infra.flink_rest import job_checkpoints
from infra.importer import lag
from infra.processes import exit_on_sigterm
from infra.producer import EventProducer
from infra.stack import local_kafka
from reco.arguments import positive_int
from reco.config import Settings
from reco.events import EVENT_TYPES
from reco.topics import ensure_topics, event_topic

VARIANTS: dict[str, dict[str, Any]] = {
    "aligned": {"checkpoint_unaligned": False, "buffer_debloat": False},
    "unaligned": {"checkpoint_unaligned": True, "buffer_debloat": False},
    "unaligned+debloat": {"checkpoint_unaligned": True, "buffer_debloat": True}}


def measure(settings: Settings, root: Path, seconds: int) -> dict[str, Any]:
    topics = {event_topic(settings, t) for t in EVENT_TYPES}
    job = run_job(settings, "jobs.recommend", root)
    try:
        before = lag(settings, topics)
        time.sleep(seconds)
        done = before - lag(settings, topics)
        stats = job_checkpoints(settings.flink_rest_port)
        if stats is None:
            raise RuntimeError(f"the job's REST API (port {settings.flink_rest_port}) did not "
                               f"answer; see {job.log_path}")
        history = stats.get("history") or []
    finally:
        job.stop()
    durations = [c["end_to_end_duration"] / 1000 for c in history
                 if c.get("status") == "COMPLETED"]
    return {"checkpoints": len(durations),
            "duration_s_p50": round(percentile(durations, 50), 2),
            "duration_s_max": round(max(durations), 2) if durations else None,
            "durations_s": [round(d, 2) for d in durations],
            "events_per_s": round(done / seconds)}


def main() -> None:
    exit_on_sigterm()
    parser = argparse.ArgumentParser(prog="python -m bench.checkpoints", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_backlog_options(parser)
    parser.add_argument("--seconds", type=positive_int, default=60,
                        help="how long each variant reads the backlog")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="reco-checkpoints-"))
    events = backlog(args)
    results: dict[str, Any] = {"command": "python -m bench.checkpoints " + " ".join(sys.argv[1:]),
                               "events": len(events), "variants": {}}
    with local_kafka(root) as kafka:
        first = settings_for(kafka, root, "preload")
        ensure_topics(first)
        progress(f"preloading {len(events):,} events with their own times")
        with EventProducer(first) as producer:
            producer.send_all(events)
        for name, options in VARIANTS.items():
            folder = name.replace("+", "-")
            settings = dataclasses.replace(settings_for(kafka, root, folder), **options)
            progress(f"{name}: the job reads the backlog for {args.seconds} s")
            results["variants"][name] = measure(settings, root / folder, args.seconds)
            v = results["variants"][name]
            progress(f"{name}: {v['checkpoints']} checkpoints, p50 {v['duration_s_p50']} s, "
                     f"max {v['duration_s_max']} s, {v['events_per_s']} events/s")
    path = write_results("checkpoints", results)
    print(json.dumps({k: v for k, v in results.items() if k != "machine"}, indent=2))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
