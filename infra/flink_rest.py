"""Flink's REST API, as the tools use it: the jobs, their restarts and checkpoints, and
stop-with-savepoint (for rescaling and upgrades: docs/operations.md). The MiniCluster of
``jobs.recommend`` and a standalone cluster answer the same API on ``rest_port``."""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path
from typing import Any

TERMINAL = {"FINISHED", "CANCELED", "FAILED"}


def _get(rest_port: int, path: str, timeout_s: float = 1.0) -> Any:
    with urllib.request.urlopen(f"http://127.0.0.1:{rest_port}{path}", timeout=timeout_s) as reply:
        return json.load(reply)


def _post(rest_port: int, path: str, body: dict[str, Any], timeout_s: float = 5.0) -> Any:
    request = urllib.request.Request(f"http://127.0.0.1:{rest_port}{path}",
                                     data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout_s) as reply:
        return json.load(reply)


def flink_jobs(rest_port: int) -> list[dict[str, Any]]:
    """The cluster's jobs (name, state, tasks), or [] when it does not answer."""
    try:
        return list(_get(rest_port, "/jobs/overview").get("jobs", []))
    except (OSError, ValueError):
        return []


def cluster_slots(rest_port: int) -> int:
    """Task slots registered with the JobManager (0 when it does not answer)."""
    try:
        return int(_get(rest_port, "/overview").get("slots-total", 0))
    except (OSError, ValueError):
        return 0


def running_job(rest_port: int) -> str | None:
    """The id of the running job, or None."""
    return next((str(j["jid"]) for j in flink_jobs(rest_port) if j.get("state") == "RUNNING"),
                None)


def flink_job_restarts(rest_port: int) -> int | None:
    """How often the running job restarted (Flink's ``numRestarts``), or None when no job
    runs or the cluster does not answer."""
    job = running_job(rest_port)
    if job is None:
        return None
    try:
        values = _get(rest_port, f"/jobs/{job}/metrics?get=numRestarts")
    except (OSError, ValueError):
        return None
    return int(values[0]["value"]) if values else 0


def flink_job_running(rest_port: int) -> bool:
    """True when a job runs with every task running (sources are reading)."""
    for job in flink_jobs(rest_port):
        tasks = job.get("tasks", {})
        if job.get("state") == "RUNNING" and isinstance(tasks, dict) \
                and tasks.get("running") == tasks.get("total"):
            return True
    return False


def job_checkpoints(rest_port: int) -> dict[str, Any] | None:
    """Flink's checkpoint statistics of the running job (``/jobs/<id>/checkpoints``)."""
    job = running_job(rest_port)
    if job is None:
        return None
    try:
        return dict(_get(rest_port, f"/jobs/{job}/checkpoints", timeout_s=2.0))
    except (OSError, ValueError):
        return None


def savepoint_problem(path: str | None) -> str | None:
    """Why ``path`` (when given) cannot be restored from, or None."""
    if path and not (Path(path) / "_metadata").exists():
        return (f"{path} is not a savepoint (no _metadata in it); `reco savepoint` prints the "
                "path of the one it takes")
    return None


def _written_savepoint(directory: Path, since: float) -> str | None:
    """The newest savepoint under ``directory`` completed after ``since`` (epoch seconds;
    its ``_metadata`` is written last), or None."""
    done = sorted((path for path in directory.glob("*/_metadata")
                   if path.stat().st_mtime >= since), key=lambda path: path.stat().st_mtime)
    return str(done[-1].parent.resolve()) if done else None


class SavepointError(RuntimeError):
    """Stop-with-savepoint did not complete; the message says why."""


def stop_with_savepoint(rest_port: int, directory: Path, timeout_s: float = 120.0) -> str:
    """Stops the running job with a savepoint in ``directory`` (aligned, canonical format:
    restorable at another parallelism and by another Flink version) and returns its path.
    The sinks commit their last transactions on the way, so nothing is lost or repeated."""
    job = running_job(rest_port)
    if job is None:
        raise SavepointError(f"no running job answers on port {rest_port}")
    started = time.time()
    trigger = _post(rest_port, f"/jobs/{job}/stop",
                    {"targetDirectory": directory.resolve().as_uri(), "drain": False,
                     "formatType": "CANONICAL"})["request-id"]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            status = _get(rest_port, f"/jobs/{job}/savepoints/{trigger}", timeout_s=5.0)
        except OSError:
            # a MiniCluster's process ends with its stopped job, and may take its REST
            # endpoint down before the status is read: the savepoint on disk says it all
            found = _written_savepoint(directory, started)
            if found is not None:
                return found
            time.sleep(0.5)
            continue
        if status["status"]["id"] == "COMPLETED":
            operation = status.get("operation") or {}
            if "location" in operation:
                return str(operation["location"]).removeprefix("file:")
            raise SavepointError(f"the savepoint failed: {operation.get('failure-cause')}")
        time.sleep(0.5)
    raise SavepointError(f"the savepoint of job {job} did not complete within {timeout_s:.0f} s; "
                         "the job keeps running")
