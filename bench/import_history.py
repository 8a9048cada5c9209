"""``reco import`` into a fresh stack, measured: the import's send rate beside the bare
producer's (the same events sent by EventProducer to topics no job reads), and how long the
job takes to catch up (its consumer lag back to zero), on a public data set or any history
file. JSON goes to bench/results/import_history-<time>.json.

  python -m bench.import_history --format yoochoose \\
      ../shared/datasets/yoochoose-100k-sessionrec/yoochoose-clicks-100k_test.txt
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
from infra.importer import run_import
from infra.processes import exit_on_sigterm, flink_job_restarts
from infra.producer import EventProducer
from infra.stack import Stack, local_kafka
from reco.history import FORMATS, read_history
from reco.reporting import machine, progress
from reco.topics import ensure_topics


def main() -> None:
    exit_on_sigterm()
    parser = argparse.ArgumentParser(prog="python -m bench.import_history", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file")
    parser.add_argument("--format", default="csv", choices=FORMATS)
    parser.add_argument("--timeout", type=float, default=3600.0)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="reco-import-"))
    results: dict[str, Any] = {"command": "python -m bench.import_history " +
                               " ".join(sys.argv[1:]), "machine": machine()}
    events = read_history(args.file, args.format).events
    with local_kafka(root) as kafka:
        bare = settings_for(kafka, root, "bare").replace(event_topic_prefix="bare.")
        ensure_topics(bare)
        progress(f"the bare producer: {len(events):,} events to topics no job reads")
        started = time.monotonic()
        with EventProducer(bare) as producer:
            producer.send_all(events)
        results["bare_producer_events_per_s"] = round(len(events) / (time.monotonic()
                                                                      - started))
        settings = settings_for(kafka, root, "import")
        ensure_topics(settings)
        stack = Stack(settings)
        try:
            stack.start_job(fresh=True)
            summary = run_import(settings, Path(args.file), args.format,
                                 timeout_s=args.timeout)
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
