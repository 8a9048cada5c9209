"""Shared pieces of the benchmarks: machine description, percentiles, result files."""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from infra.processes import child_pids
from reco.reporting import machine, progress

__all__ = ["RESULTS", "machine", "main_thread_cpu_s", "percentile", "process_cpu_s", "progress",
           "thread_cpu_s", "write_results"]

RESULTS = Path(__file__).resolve().parent / "results"


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


def write_results(name: str, results: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps({"machine": machine(), **results}, indent=2))
    (RESULTS / f"{name}-latest.json").write_text(path.read_text())
    return path


def _cpu_ticks(stat_path: Path) -> tuple[str, int]:
    """(name, utime + stime) from a /proc stat file (the name may contain spaces)."""
    text = stat_path.read_text()
    fields = text.rsplit(")", 1)[1].split()
    return text[text.index("(") + 1:text.rindex(")")], int(fields[11]) + int(fields[12])


def process_cpu_s(pid: int, with_children: bool = False) -> float:
    """CPU seconds a process (and, optionally, its live children) has used so far."""
    pids = [pid, *(child_pids(pid) if with_children else [])]
    return sum(_cpu_ticks(Path(f"/proc/{one}/stat"))[1]
               for one in pids) / os.sysconf("SC_CLK_TCK")


def main_thread_cpu_s(pid: int) -> float:
    """CPU seconds the main thread of a process has used so far (its other threads apart)."""
    return _cpu_ticks(Path(f"/proc/{pid}/task/{pid}/stat"))[1] / os.sysconf("SC_CLK_TCK")


def thread_cpu_s(pid: int) -> Counter[str]:
    """CPU seconds used so far by each thread name of a process (Linux keeps 15 characters of
    a name: enough to tell Flink's tasks, which are named after their first operator)."""
    used: Counter[str] = Counter()
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            name, ticks = _cpu_ticks(task / "stat")
        except OSError:
            continue  # the thread ended
        used[name] += ticks
    return Counter({name: ticks / os.sysconf("SC_CLK_TCK") for name, ticks in used.items()})
