"""The local stack: a single-node KRaft Kafka broker, the Flink job and the gRPC server.

Used by `make up` / `make down` / `make status` (background, state under ``stack_dir``), by
`make run` (foreground, stopped at the end), and by the integration tests (on free ports).
"""

from __future__ import annotations

import base64
import contextlib
import logging
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from infra.flink_rest import flink_job_running, flink_jobs, stop_with_savepoint
from infra.processes import (
    ManagedProcess,
    StartupError,
    free_port,
    grpc_serving,
    port_open,
    split_address,
    wait_until,
)
from reco.config import CACHE_DIR, Settings, settings_env
from reco.pseudonyms import ensure_local_key
from reco.reporting import progress
from reco.topics import ensure_topics

log = logging.getLogger("infra.stack")
KAFKA_JARS = CACHE_DIR / "jars" / "kafka"


class LocalKafka:
    """Kafka 4.x in KRaft mode (broker and controller in one JVM), from the jars in
    .cache/jars/kafka (see deploy/fetch_jars.sh)."""

    def __init__(self, data_dir: Path, port: int, controller_port: int,
                 jars: Path = KAFKA_JARS) -> None:
        self.data_dir = data_dir
        self.port = port
        self.controller_port = controller_port
        self.jars = jars
        self.process = ManagedProcess("kafka", self._java("kafka.Kafka", str(self.config_path)),
                                      data_dir)

    @property
    def config_path(self) -> Path:
        return self.data_dir / "server.properties"

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _java(self, main: str, *args: str) -> list[str]:
        java = shutil.which("java")
        if java is None:
            raise StartupError("Java 17 is needed to run Kafka: apt-get install openjdk-17-jre")
        if not (self.jars / ".complete").exists():
            raise StartupError(f"Kafka jars missing in {self.jars}: run `make jars`")
        return [java, "-Xms256m", "-Xmx768m", "-XX:+UseG1GC", "-Djava.awt.headless=true",
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                "-cp", f"{self.jars}/*", main, *args]

    def _write_config(self) -> None:
        logs = self.data_dir / "data"
        self.config_path.write_text("\n".join([
            "process.roles=broker,controller", "node.id=1",
            f"controller.quorum.voters=1@127.0.0.1:{self.controller_port}",
            f"listeners=PLAINTEXT://127.0.0.1:{self.port},"
            f"CONTROLLER://127.0.0.1:{self.controller_port}",
            f"advertised.listeners=PLAINTEXT://127.0.0.1:{self.port}",
            "controller.listener.names=CONTROLLER", "inter.broker.listener.name=PLAINTEXT",
            "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            f"log.dirs={logs}", "num.partitions=2", "auto.create.topics.enable=false",
            "offsets.topic.replication.factor=1", "offsets.topic.num.partitions=4",
            "transaction.state.log.replication.factor=1", "transaction.state.log.min.isr=1",
            "transaction.state.log.num.partitions=4", "group.initial.rebalance.delay.ms=0",
            "log.cleaner.backoff.ms=5000", ""]))

    def format(self) -> None:
        """Writes the config and formats the storage (once; a formatted folder is reused)."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._write_config()
        if (self.data_dir / "data" / "meta.properties").exists():
            return
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        # "=" joins the id to its option: an id that starts with "-" (1 in 64) is not an option
        result = subprocess.run(
            self._java("kafka.tools.StorageTool", "format", f"--cluster-id={cluster_id}",
                       "-c", str(self.config_path)), capture_output=True, text=True)
        if result.returncode != 0:
            raise StartupError(f"kafka storage format failed: {result.stdout}{result.stderr}")

    def start(self, timeout_s: float = 60.0) -> None:
        if port_open("127.0.0.1", self.port):
            raise StartupError(f"port {self.port} is taken; set KAFKA_BOOTSTRAP or "
                               "RECO_KAFKA_PORT to use another")
        self.format()
        self.process.start()
        wait_until(lambda: port_open("127.0.0.1", self.port), timeout_s, "Kafka broker",
                   self.process.alive, self.process.log_path)

    def stop(self) -> None:
        self.process.stop()


@contextlib.contextmanager
def local_kafka(root: Path, name: str = "kafka") -> Iterator[LocalKafka]:
    """A broker of one's own on free ports, in ``root / name`` (benchmarks, the replay through
    the stack, tests); stopped on leaving."""
    kafka = LocalKafka(root / name, free_port(), free_port())
    progress(f"starting Kafka in {root / name}")
    kafka.start()
    try:
        yield kafka
    finally:
        kafka.stop()


@dataclass
class StackStatus:
    kafka: str
    job: str
    server: str
    running: list[str]  # the parts that answered their probe

    def lines(self) -> list[str]:
        return [f"kafka   {self.kafka}", f"job     {self.job}", f"server  {self.server}"]


class Stack:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.run_dir = Path(settings.stack_dir)
        env = settings_env(settings)
        python = sys.executable
        self.kafka = LocalKafka(self.run_dir / "kafka", settings.kafka_port,
                                settings.kafka_controller_port)
        self._job_command = [python, "-m", "jobs.recommend"]
        self.job = ManagedProcess("job", self._job_command, self.run_dir,
                                  {**os.environ, **env})
        self.server = ManagedProcess("server", [python, "-m", "serving.server"], self.run_dir,
                                     {**os.environ, **env})
        self.started: list[str] = []

    def _kafka_is_ours(self) -> bool:
        host, port = split_address(self.settings.kafka_bootstrap)
        return host in ("127.0.0.1", "localhost") and port == self.settings.kafka_port

    def start_kafka(self) -> None:
        host, port = split_address(self.settings.kafka_bootstrap)
        if port_open(host, port):
            log.info("using the Kafka broker already at %s", self.settings.kafka_bootstrap)
            return
        if not self._kafka_is_ours():
            raise StartupError(f"no Kafka broker at {self.settings.kafka_bootstrap}")
        log.info("starting Kafka (KRaft) on 127.0.0.1:%d", port)
        self.kafka.start()
        self.started.append("kafka")

    def start_job(self, timeout_s: float = 240.0, fresh: bool = False,
                  savepoint: str | None = None) -> None:
        if flink_job_running(self.settings.flink_rest_port):
            log.info("the job is already running")
            return
        argv = ["--fresh"] if fresh else ["--from-savepoint", savepoint] if savepoint else []
        ensure_local_key(self.settings)
        self.job.argv = [*self._job_command, *argv]
        log.info("starting the Flink job (MiniCluster, thread mode, RocksDB)")
        self.job.start()
        self.started.append("job")
        wait_until(lambda: flink_job_running(self.settings.flink_rest_port), timeout_s,
                   "Flink job", self.job.alive, self.job.log_path)

    def savepoint(self, directory: Path, timeout_s: float = 120.0) -> str:
        """Stops the job with a savepoint under ``directory`` and returns its path; the job
        process ends with its job."""
        path = stop_with_savepoint(self.settings.flink_rest_port, directory, timeout_s)
        with contextlib.suppress(StartupError):
            wait_until(lambda: not self.job.alive(), 30.0, "the job process to end")
        self.job.stop()
        return path

    def start_server(self, timeout_s: float = 60.0) -> None:
        if grpc_serving(self.settings.grpc_addr):
            log.info("a server already answers on %s", self.settings.grpc_addr)
            return
        log.info("starting the gRPC server on %s", self.settings.grpc_addr)
        ensure_local_key(self.settings)
        self.server.start()
        self.started.append("server")
        wait_until(lambda: grpc_serving(self.settings.grpc_addr), timeout_s, "gRPC server",
                   self.server.alive, self.server.log_path)

    def up(self, fresh: bool = False, savepoint: str | None = None) -> None:
        self.start_kafka()
        ensure_topics(self.settings)
        self.start_job(fresh=fresh, savepoint=savepoint)
        self.start_server()

    def down(self, only_started: bool = False) -> None:
        """Stops server, job, broker (those this object started, or all with pid files)."""
        for name, part in (("server", self.server), ("job", self.job),
                           ("kafka", self.kafka.process)):
            if only_started and name not in self.started:
                continue
            if part.alive() or part.pid_path.exists():
                log.info("stopping %s", name)
                part.stop()
        self.started.clear()

    def status(self) -> StackStatus:
        kafka_up = port_open(*split_address(self.settings.kafka_bootstrap))
        kafka = (f"up at {self.settings.kafka_bootstrap}" if kafka_up
                 else f"down ({self.settings.kafka_bootstrap})")
        jobs = flink_jobs(self.settings.flink_rest_port)
        job = ", ".join(f"{j.get('name')}: {j.get('state')}" for j in jobs) or "not running"
        serving = grpc_serving(self.settings.grpc_addr)
        server = (f"serving at {self.settings.grpc_addr}" if serving
                  else f"down ({self.settings.grpc_addr})")
        logs = f" (logs in {self.run_dir})"
        running = [name for name, up in (("kafka", kafka_up), ("job", bool(jobs)),
                                         ("server", serving)) if up]
        return StackStatus(kafka, job + logs if jobs else job, server, running)
