"""Where the job's time goes: a backlog (simulated, or a public data set's events) preloaded
into a fresh broker, the full job started on it, and while it reads the backlog, py-spy samples
the Python that runs inside the job's JVM (PyFlink thread mode) and /proc counts the CPU of
every JVM thread. The result splits the CPU per event into Java and Python, and the Python
into our packages, PyFlink's own layer, pickling, protobuf and the rest, by the frame that was
running (self time) and by operator (inclusive). Writes the flame graph (SVG), the collapsed
stacks and bench/results/profile_job-<time>.json.

  python -m bench.profile_job --events 30000
  python -m bench.profile_job --format taobao \\
      ../shared/datasets/taobao-userbehavior-head/UserBehavior_head.csv

``--rate N`` profiles the job at a shop's live pace instead: no backlog, simulated shoppers
sent at N events/s for the warm-up and the profile (0: the idle job), each shopper at her own
pace (bench/live_load.py). The CPU per second beside the CPU per event tells the job's fixed
cost from its cost per event. py-spy counts a thread waiting for the interpreter's lock as
running, so Python's figures say where its time goes; /proc's CPU per thread says how much.

  python -m bench.profile_job --rate 200
  python -m bench.profile_job --rate 200 --set profile_live_lag_ms=0
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.backlog import add_backlog_options, backlog, run_job, send_backlog, settings_for
from bench.common import RESULTS, process_cpu_s, thread_cpu_s, write_results
from bench.live_load import LiveShoppers
from infra.importer import lag
from infra.processes import child_pids, exit_on_sigterm
from infra.stack import local_kafka
from reco.arguments import count, positive_int, setting
from reco.config import Settings
from reco.events import EVENT_TYPES
from reco.reporting import progress
from reco.topics import ensure_topics, event_topic

OURS = ("userstep", "features", "online_models", "operators", "reco", "jobs", "serving")
RATE = 97  # samples per second (not a divisor of the job's 1 s timers)
FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*?)(:\d+)?\)$")


LIBRARIES = {"pyflink": "pyflink", "pemja": "pemja", "google": "protobuf",
             "cloudpickle": "pickle", "river": "river", "numpy": "numpy", "kafka": "kafka"}
STDLIB_PICKLE = ("pickle.py", "copyreg.py", "_compat_pickle.py")


def part_of(file: str) -> str:
    """What a frame's file belongs to: one of our packages, a library, or the standard library
    (py-spy names files relative to their sys.path entry).

    >>> part_of("pyflink/fn_execution/embedded/operations.py"), part_of("userstep/step.py")
    ('pyflink', 'userstep')
    """
    path = file.replace("\\", "/").rsplit("site-packages/", 1)[-1]
    head = path.split("/", 1)[0]
    if head in OURS:
        return head
    if head in LIBRARIES:
        return LIBRARIES[head]
    if path.endswith(STDLIB_PICKLE):
        return "pickle"
    return "python stdlib" if "/" not in path or path.startswith("<") else "other"


def summarise(collapsed: Path) -> dict[str, Any]:
    """Self time per part and inclusive time per operator from py-spy's collapsed stacks."""
    own: Counter[str] = Counter()
    operators: Counter[str] = Counter()
    total = java = 0
    # one stack a line; a name py-spy read from a thread's memory may hold any character
    # (splitlines would cut at some), so lines split at "\n" only
    for line in collapsed.read_text(errors="replace").split("\n"):
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue  # the empty last line
        count = int(count_text)
        frames = [FRAME.match(f) for f in stack.split(";")]
        files = [m.group("file") for m in frames if m]
        if not files:
            java += count  # a task thread running with no Python frame: Java's own work
            continue
        total += count
        own[part_of(files[-1])] += count
        operator = next((f for f in reversed(files) if f.startswith("operators/")
                         and not f.startswith(("operators/guard", "operators/state"))), None)
        operators[operator.split("/")[1].removesuffix(".py") if operator else
                  "outside our operators"] += count
    return {"samples": total, "no_python_frame_samples": java,
            "self_share": {k: round(v / max(total, 1), 3) for k, v in own.most_common()},
            "operator_share": {k: round(v / max(total, 1), 3)
                               for k, v in operators.most_common()}}


def record(jvm: int, seconds: int, out: Path) -> tuple[Path, Path]:
    """py-spy, twice at once on the JVM (it has one output format per run), not pausing it."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    svg, raw = out / "flame.svg", out / "stacks.txt"
    common = ["--pid", str(jvm), "--duration", str(seconds), "--rate", str(RATE), "--nonblocking"]
    runs = [subprocess.Popen([spy, "record", *common, "--format", kind, "-o", str(path)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            for kind, path in (("flamegraph", svg), ("raw", raw))]
    for run in runs:
        _, err = run.communicate()
        if b"No stack counts found" in err:  # no Python ran in the window (an idle job)
            raw.write_text("")
            continue
        if run.returncode != 0:
            raise SystemExit(f"py-spy failed: {err.decode()[-400:]} (it needs ptrace: run as "
                             "root or set kernel.yama.ptrace_scope=0)")
    return svg, raw


def main() -> None:
    exit_on_sigterm()
    parser = argparse.ArgumentParser(prog="python -m bench.profile_job", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_backlog_options(parser)
    parser.add_argument("--seconds", type=positive_int, default=30, help="profile length")
    parser.add_argument("--keep-times", action="store_true",
                        help="send the events with their own times (as reco import does), not "
                             "stamped now as live traffic")
    parser.add_argument("--warmup", type=positive_int, default=15,
                        help="seconds of reading the backlog (or of the live load) before the "
                             "profile starts")
    parser.add_argument("--rate", type=count, default=None,
                        help="no backlog: live shoppers at this many events/s (0: idle)")
    parser.add_argument("--set", type=setting, action="append", default=[],
                        metavar="NAME=VALUE", help="a setting of the job (see `reco config`); "
                        "repeat for more")
    args = parser.parse_args()
    live = args.rate is not None
    if live and args.file:
        parser.error("--rate sends simulated shoppers live: leave out the history file")
    root = Path(tempfile.mkdtemp(prefix="reco-profile-"))
    events = [] if live else backlog(args)
    label = (f"live-{args.rate}" if live else
             Path(args.file).stem if args.file else "simulation")
    out = RESULTS / f"profile-{label}-{time.strftime('%Y%m%d-%H%M%S')}"
    out.mkdir(parents=True, exist_ok=True)
    with local_kafka(root) as kafka:
        settings = dataclasses.replace(settings_for(kafka, root, "profile"), **dict(args.set))
        ensure_topics(settings)
        if not live:
            progress(f"preloading {len(events):,} events ({label})")
            send_backlog(settings, events, stamp=not args.keep_times)
        job = run_job(settings, "jobs.recommend", root / "job")
        try:
            with (LiveShoppers(settings, args.rate, "profile") if args.rate
                  else contextlib.nullcontext()) as load:
                window = _profile(settings, job.pid() or 0, args, out, load)
        finally:
            job.stop()
    result = profile_result(args, label, window)
    path = write_results("profile_job", result)
    print(json.dumps(result, indent=2))
    print(f"wrote {path} and {result['flame_graph']}")


def _profile(settings: Settings, job_pid: int, args: argparse.Namespace, out: Path,
             load: LiveShoppers | None) -> dict[str, Any]:
    """py-spy and the JVM's CPU over the profile's window, and the events the job read in it
    (those sent in it, less what the backlog grew by, under a live load)."""
    jvm = next(pid for pid in child_pids(job_pid)
               if b"java" in Path(f"/proc/{pid}/cmdline").read_bytes()[:200])
    time.sleep(args.warmup)
    topics = {event_topic(settings, t) for t in EVENT_TYPES}
    lag_before, sent_before = lag(settings, topics), load.sent if load else 0
    cpu_before, threads_before = process_cpu_s(jvm), thread_cpu_s(jvm)
    progress(f"profiling the job for {args.seconds} s ({lag_before:,} events to go)")
    started = time.monotonic()
    svg, raw = record(jvm, args.seconds, out)
    # py-spy takes longer than its duration (it starts, then writes): the window is timed
    lag_after, sent = lag(settings, topics), (load.sent if load else 0) - sent_before
    return {"done": sent + lag_before - lag_after, "sent": sent, "lag_after": lag_after,
            "wall_s": time.monotonic() - started,
            "cpu": process_cpu_s(jvm) - cpu_before,
            "threads": thread_cpu_s(jvm) - threads_before, "svg": svg, "raw": raw}


def profile_result(args: argparse.Namespace, label: str, window: dict[str, Any]
                   ) -> dict[str, Any]:
    """The profile's figures: rates and CPU over the timed window, Python's share over
    py-spy's own duration (``args.seconds``), per event over the events of the window."""
    done, cpu, threads, svg, raw = (window[k] for k in ("done", "cpu", "threads", "svg", "raw"))
    python_threads = sum(v for k, v in threads.items() if "python" in k.lower()
                         or k.startswith(("user-", "quality", "item-", "parse", "Source")))
    per_event = 1e6 / max(done, 1)
    result = {"command": "python -m bench.profile_job " + " ".join(sys.argv[1:]),
              "backlog": label, "event_times": "kept" if args.keep_times else "now",
              "settings": dict(args.set),
              "live_rate": args.rate, "events_sent_in_window": window["sent"],
              "events_to_go_after": window["lag_after"],
              "events_in_window": done, "seconds": args.seconds,
              "window_s": round(window["wall_s"], 1),
              "events_per_s": round(done / window["wall_s"]),
              "jvm_cpu_cores": round(cpu / window["wall_s"], 3),
              "jvm_cpu_us_per_event": round(cpu * per_event),
              "task_threads_cpu_us_per_event": round(python_threads * per_event),
              "threads_cpu_us_per_event": {k: round(v * per_event)
                                           for k, v in threads.most_common(12)},
              "python": summarise(raw), "stacks": str(raw),
              "flame_graph": str(svg) if svg.exists() else None}
    # py-spy records only running Python: its samples over the rate are Python's wall time,
    # over its duration (the events were counted over the window around it)
    python_cores = result["python"]["samples"] / RATE / args.seconds
    python_us = python_cores * window["wall_s"] * per_event
    result["python_active_us_per_event"] = round(python_us)
    result["python_us_per_event_by_part"] = {
        k: round(v * python_us) for k, v in result["python"]["self_share"].items()}
    result["python_active_cores"] = round(python_cores, 3)
    return result


if __name__ == "__main__":
    main()
