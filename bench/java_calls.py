"""What a call from a Python function into Flink costs in thread mode: the bare job's keyed
function (bench/bare_job.py) run again with N extra calls per event of one kind (a state read,
a state write, the timer service's clock), each job on the same backlog in one run; the extra
CPU of the keyed function's thread per event, divided by N, is one call's cost. Tells whether
the job's operators would gain from fewer state round trips.

  python -m bench.java_calls --events 20000 --calls 10
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from kafka.admin import KafkaAdminClient, NewTopic

from bench.backlog import cpu_by_part, drain, preload, run_job, settings_for
from bench.common import RESULTS, machine, progress, write_results
from infra.processes import exit_on_sigterm
from infra.stack import local_kafka
from reco.arguments import count, positive_int
from reco.topics import ensure_topics

KINDS = ("none", "state_read", "state_write", "clock")
KEYED_THREAD = "KEYED PROCESS"  # the keyed function's task, as Linux names its thread


def main() -> None:
    exit_on_sigterm()  # the broker and jobs it starts stop with it
    parser = argparse.ArgumentParser(prog="python -m bench.java_calls", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=positive_int, default=20_000)
    parser.add_argument("--calls", type=count, default=10, help="extra calls per event")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="reco-bench-calls-"))
    results: dict[str, Any] = {"command": "python -m bench.java_calls " + " ".join(sys.argv[1:]),
                               "machine": machine(), "calls_per_event": args.calls, "runs": {}}
    with local_kafka(root) as kafka:
        base = settings_for(kafka, root, "calls")
        ensure_topics(base)
        admin = KafkaAdminClient(bootstrap_servers=kafka.bootstrap)
        admin.create_topics([NewTopic(f"bench.calls.{kind}", 2, 1) for kind in KINDS])
        admin.close()
        events = preload(base, 2_000, args.events)
        for kind in KINDS:
            progress(f"bare job with {args.calls if kind != 'none' else 0} extra calls "
                     f"({kind}) per event")
            os.environ.update(BENCH_EXTRA_CALLS=str(args.calls), BENCH_CALL_KIND=kind,
                              BENCH_OUTPUT_TOPIC=f"bench.calls.{kind}")
            settings = settings_for(kafka, root, f"calls-{kind}")
            job = run_job(settings, "bench.bare_job", root / kind)
            try:
                read = functools.partial(drain, settings, f"bench.calls.{kind}", len(events),
                                         300)
                results["runs"][kind] = cpu_by_part(read, job, kafka.process.pid())
            finally:
                job.stop()
    runs = results["runs"]
    keyed = {kind: runs[kind]["cpu_us_per_event"]["job_threads"].get(KEYED_THREAD, float("nan"))
             for kind in KINDS}
    results["us_per_call"] = {kind: (keyed[kind] - keyed["none"]) / args.calls
                              for kind in KINDS[1:]}
    path = write_results("java_calls", results)
    plot(results, RESULTS / "java_calls-latest.png")
    print(f"\nmachine: {results['machine']}")
    print("keyed function's thread, µs of CPU per event: "
          + ", ".join(f"{kind} {us:.0f}" for kind, us in keyed.items()))
    print("one call into Flink: " + ", ".join(
        f"{kind} {us:.1f} µs" for kind, us in results["us_per_call"].items()))
    print(f"\nwrote {path} and {RESULTS / 'java_calls-latest.png'}")


def plot(results: dict[str, Any], path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    per_call = results["us_per_call"]
    fig, ax = plt.subplots(figsize=(5, 3))
    ax.bar(list(per_call), list(per_call.values()), color="#2b6cb0")
    ax.set_ylabel("µs of CPU per call")
    ax.set_title("A call from Python into Flink (thread mode)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    main()
