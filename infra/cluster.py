"""A standalone Flink cluster on this machine, from the PyPI distribution: a JobManager and
``cluster_taskmanagers`` TaskManagers, each its own JVM, and the job submitted to it with
``flink run`` (docs/operations.md). The same job as the MiniCluster's; only where it runs
differs.

The installed package is left as it is: the cluster runs from a Flink home of its own under
the stack folder, whose ``lib/`` links the package's jars plus the two a thread-mode Python job
needs there (``flink-python``, from the package's ``opt/``, and the Kafka connector), with a
``config.yaml`` written from the package's and these settings.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from infra.flink_rest import cluster_slots, flink_job_running, flink_jobs
from infra.processes import StartupError, port_open, python_path, wait_until
from reco.config import PROJECT_ROOT, Settings, settings_env

log = logging.getLogger("reco.cluster")


def pyflink_home() -> Path:
    import pyflink  # the distribution the venv installed

    return Path(pyflink.__file__).parent


def _nested(conf: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, leaf = dotted.split(".")
    for part in parents:
        conf = conf.setdefault(part, {})
    conf[leaf] = value


class FlinkCluster:
    """The cluster's home is ``<stack dir>/flink-cluster``: conf, lib, logs and pid files."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.home = Path(settings.stack_dir).resolve() / "flink-cluster"
        self.package = pyflink_home()

    @property
    def log_dir(self) -> Path:
        return self.home / "log"

    def _env(self) -> dict[str, str]:
        return {**os.environ, **settings_env(self.settings),
                "FLINK_HOME": str(self.home), "_FLINK_HOME_DETERMINED": "1",
                "FLINK_CONF_DIR": str(self.home / "conf"), "FLINK_LIB_DIR": str(self.home / "lib"),
                "FLINK_OPT_DIR": str(self.package / "opt"),
                "FLINK_PLUGINS_DIR": str(self.package / "plugins"),
                "FLINK_LOG_DIR": str(self.log_dir), "FLINK_PID_DIR": str(self.home / "pid"),
                # thread mode: the TaskManagers' embedded Python imports the venv and the project
                "PYTHONPATH": python_path()}

    def _configuration(self) -> dict[str, Any]:
        conf = yaml.safe_load((self.package / "conf" / "config.yaml").read_text()) or {}
        s = self.settings
        for key, value in {
                "jobmanager.rpc.address": "localhost", "jobmanager.rpc.port": s.flink_rpc_port,
                "jobmanager.bind-host": "localhost", "jobmanager.memory.process.size": "1024m",
                "taskmanager.bind-host": "localhost", "taskmanager.host": "localhost",
                "taskmanager.numberOfTaskSlots": s.cluster_task_slots,
                "taskmanager.memory.process.size": s.cluster_taskmanager_memory,
                "rest.address": "localhost", "rest.bind-address": "127.0.0.1",
                "rest.port": s.flink_rest_port, "parallelism.default": s.job_parallelism,
                "python.executable": sys.executable,
                "python.client.executable": sys.executable}.items():
            _nested(conf, key, value)
        return conf

    def prepare(self) -> None:
        """The cluster's Flink home: bin and jars linked from the package, its own conf."""
        connector = Path(self.settings.connector_jar).resolve()
        if not connector.exists():
            raise StartupError(f"the Kafka connector jar {connector} is missing: run `make jars`")
        for folder in ("conf", "lib", "log", "pid"):
            (self.home / folder).mkdir(parents=True, exist_ok=True)
        links = {self.home / "bin": self.package / "bin", self.home / "lib" / connector.name:
                 connector}
        links |= {self.home / "lib" / jar.name: jar for jar in (self.package / "lib").glob("*.jar")}
        links |= {self.home / "lib" / jar.name: jar
                  for jar in (self.package / "opt").glob("flink-python-*.jar")}
        for link, target in links.items():
            if link.is_symlink() or link.exists():
                link.unlink()
            link.symlink_to(target)
        for name in ("log4j.properties", "log4j-console.properties", "log4j-cli.properties"):
            (self.home / "conf" / name).write_bytes((self.package / "conf" / name).read_bytes())
        (self.home / "conf" / "config.yaml").write_text(yaml.safe_dump(self._configuration()))

    def _daemon(self, script: str, *args: str) -> None:
        result = subprocess.run([str(self.home / "bin" / script), *args], env=self._env(),
                                capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            raise StartupError(f"{script} {' '.join(args)} failed: "
                               f"{(result.stderr or result.stdout)[-800:]} (logs in "
                               f"{self.log_dir})")

    def running(self) -> bool:
        return port_open("127.0.0.1", self.settings.flink_rest_port)

    def up(self, timeout_s: float = 120.0) -> None:
        """A JobManager and the TaskManagers; returns when every slot has registered."""
        if self.running():
            raise StartupError(f"port {self.settings.flink_rest_port} already answers: stop "
                               "what runs there (`reco stack down`, `reco cluster down`) or set "
                               "RECO_FLINK_REST_PORT")
        self.prepare()
        self._daemon("jobmanager.sh", "start")
        for _ in range(self.settings.cluster_taskmanagers):
            self._daemon("taskmanager.sh", "start")
        wanted = self.settings.cluster_taskmanagers * self.settings.cluster_task_slots
        wait_until(lambda: cluster_slots(self.settings.flink_rest_port) >= wanted, timeout_s,
                   f"{self.settings.cluster_taskmanagers} TaskManagers registering (logs in "
                   f"{self.log_dir})")

    def deploy(self, fresh: bool = False, savepoint: str | None = None,
               timeout_s: float = 240.0) -> None:
        """Submits the job (detached) with ``flink run`` and waits until all its tasks run."""
        if flink_job_running(self.settings.flink_rest_port):
            raise StartupError("the cluster already runs the job: `reco savepoint` stops it "
                               "with a savepoint to deploy from")
        argv = [str(self.home / "bin" / "flink"), "run", "--detached",
                "-p", str(self.settings.job_parallelism),
                "-pyexec", sys.executable, "-pyclientexec", sys.executable,
                "--python", str(PROJECT_ROOT / "jobs" / "recommend.py")]
        argv += ["--fresh"] if fresh else ["--from-savepoint", savepoint] if savepoint else []
        result = subprocess.run(argv, env=self._env(), capture_output=True, text=True,
                                timeout=timeout_s, cwd=PROJECT_ROOT)
        if result.returncode != 0:
            raise StartupError(f"flink run failed: {(result.stderr or result.stdout)[-1500:]}")
        wait_until(lambda: flink_job_running(self.settings.flink_rest_port), timeout_s,
                   "the job's tasks running on the cluster")

    def pids(self) -> list[int]:
        """The JobManager's and the TaskManagers' processes (from flink-daemon.sh's pid files)."""
        return [int(line) for path in (self.home / "pid").glob("*.pid")
                for line in path.read_text().split() if line.strip().isdigit()]

    def jobs(self) -> list[dict[str, Any]]:
        return flink_jobs(self.settings.flink_rest_port)

    def down(self) -> None:
        """Stops the TaskManagers and the JobManager (a running job stops with them: take a
        savepoint first to keep its state beyond the retained checkpoints)."""
        if not (self.home / "bin").exists():
            return
        for script in ("taskmanager.sh", "jobmanager.sh"):
            try:
                self._daemon(script, "stop-all")
            except StartupError as exc:
                log.warning("%s", exc)
