"""Starting, probing and stopping the local processes: broker, job, server."""

from __future__ import annotations

import contextlib
import os
import signal
import site
import socket
import subprocess
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from reco.config import PROJECT_ROOT


def python_path() -> str:
    """Thread mode runs Python inside the JVM: it must see the venv and the project."""
    paths = [str(PROJECT_ROOT), *site.getsitepackages(), os.environ.get("PYTHONPATH", "")]
    return os.pathsep.join(p for p in paths if p)


class StartupError(RuntimeError):
    """A process did not become ready; the message says where its log is."""


def exit_on_sigterm() -> None:
    """SIGTERM (``kill``, ``timeout``, a supervisor) ends this process as Ctrl-C does: through
    its ``finally`` blocks, so what it started is stopped. The default action skips them and
    leaves the processes a command started running: ``reco demo``'s broker, job and server,
    whose pid files are in ``.cache/demo``, out of reach of ``reco stack down``."""

    def terminate(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, terminate)


def wait_until(check: Callable[[], bool], timeout_s: float, what: str,
               alive: Callable[[], bool] = lambda: True, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        if not alive():
            raise StartupError(f"{what} exited during start-up{_log_tail(log)}")
        time.sleep(0.25)
    raise StartupError(f"{what} not ready after {timeout_s:.0f} s{_log_tail(log)}")


def _log_tail(log: Path | None, lines: int = 25) -> str:
    if log is None or not log.exists():
        return ""
    tail = log.read_text(errors="replace").splitlines()[-lines:]
    return f"; last lines of {log}:\n" + "\n".join(tail)


def child_pids(pid: int, proc: Path = Path("/proc")) -> list[int]:
    """The live child processes of ``pid`` (Linux: from /proc)."""
    found: list[int] = []
    for task in (proc / str(pid) / "task").iterdir():
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):  # the thread ended while we looked
            continue
    return found


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def split_address(address: str) -> tuple[str, int]:
    host, _, port = address.split(",")[0].rpartition(":")
    return host or "127.0.0.1", int(port)


def grpc_serving(address: str, timeout_s: float = 1.0) -> bool:
    try:
        with grpc.insecure_channel(address) as channel:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=""), timeout=timeout_s)
            return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)
    except grpc.RpcError:
        return False


class ManagedProcess:
    """A child process in its own process group, with a log file and a pid file."""

    def __init__(self, name: str, argv: list[str], run_dir: Path,
                 env: Mapping[str, str] | None = None) -> None:
        self.name = name
        self.argv = argv
        self.run_dir = run_dir
        self.env = dict(os.environ if env is None else env)
        self.log_path = run_dir / f"{name}.log"
        self.pid_path = run_dir / f"{name}.pid"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(self.argv, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, env=self.env,
                                         start_new_session=True)
        self.pid_path.write_text(str(self.proc.pid))

    def pid(self) -> int | None:
        if self.proc is not None:
            return self.proc.pid
        try:
            return int(self.pid_path.read_text())
        except (OSError, ValueError):
            return None

    def alive(self) -> bool:
        if self.proc is not None:
            return self.proc.poll() is None
        pid = self.pid()
        if pid is None:
            return False
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def stop(self, timeout_s: float = 20.0) -> None:
        """SIGTERM to the whole group (the job's JVM too), SIGKILL after ``timeout_s``."""
        pid = self.pid()
        if pid is not None:  # signal the group even if its leader is gone: a JVM may remain
            _signal_group(pid, signal.SIGTERM)
            deadline = time.monotonic() + timeout_s
            while self.alive() and time.monotonic() < deadline:
                time.sleep(0.1)
            _signal_group(pid, signal.SIGKILL)
            if self.proc is not None:
                self.proc.wait(timeout=5)
        self.pid_path.unlink(missing_ok=True)


def _signal_group(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)
