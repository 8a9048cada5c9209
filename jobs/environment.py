"""The Flink execution environment: thread mode, RocksDB, checkpointing, bounded restarts."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from pyflink.common import Configuration
from pyflink.datastream import StreamExecutionEnvironment

from infra.processes import python_path
from reco.config import Settings


def log_dir(settings: Settings) -> Path:
    path = Path(settings.stack_dir).resolve() / "flink-log"
    path.mkdir(parents=True, exist_ok=True)
    return path


def latest_checkpoint(checkpoint_dir: str) -> str | None:
    """The newest completed checkpoint (a chk-N folder with _metadata) under ``checkpoint_dir``."""
    root = Path(checkpoint_dir)
    if not root.is_dir():
        return None
    done = [m.parent for m in root.glob("*/chk-*/_metadata")]
    return str(max(done, key=lambda p: p.stat().st_mtime)) if done else None


def checkpoint_uri(checkpoint_dir: str) -> str:
    """A local folder as a file URI; an object store's URI (s3://...) as it is."""
    return checkpoint_dir if "://" in checkpoint_dir else Path(checkpoint_dir).resolve().as_uri()


def flink_configuration(settings: Settings, *, checkpointing: bool = True,
                        restore: bool = True, savepoint: str | None = None) -> Configuration:
    """``restore``: from the newest retained checkpoint; ``savepoint``: from that savepoint
    instead (a rescale or an upgrade; keyed state is redistributed over the new parallelism)."""
    conf = Configuration()
    conf.set_string("python.execution-mode", "thread")
    conf.set_string("python.executable", sys.executable)
    conf.set_string("python.client.executable", sys.executable)
    conf.set_string("state.backend.type", "rocksdb")
    # RocksDB's own info logs would otherwise pile up inside the installed pyflink package.
    conf.set_string("state.backend.rocksdb.log.level", "HEADER_LEVEL")
    conf.set_string("state.backend.rocksdb.log.dir", str(log_dir(settings)))
    conf.set_string("parallelism.default", str(settings.job_parallelism))
    conf.set_string("pipeline.name", settings.job_name)
    conf.set_string("rest.address", "127.0.0.1")
    conf.set_string("rest.bind-address", "127.0.0.1")
    conf.set_string("rest.port", str(settings.flink_rest_port))
    jar = Path(settings.connector_jar)
    if jar.exists():
        conf.set_string("pipeline.jars", jar.resolve().as_uri())
    if settings.restart_attempts > 0:
        conf.set_string("restart-strategy.type", "fixed-delay")
        conf.set_string("restart-strategy.fixed-delay.attempts", str(settings.restart_attempts))
        conf.set_string("restart-strategy.fixed-delay.delay", f"{settings.restart_delay_ms} ms")
    else:
        conf.set_string("restart-strategy.type", "none")
    if checkpointing:
        conf.set_string("execution.checkpointing.interval", f"{settings.checkpoint_interval_ms} ms")
        conf.set_string("execution.checkpointing.mode", "EXACTLY_ONCE")
        conf.set_string("execution.checkpointing.dir", checkpoint_uri(settings.checkpoint_dir))
        conf.set_string("execution.checkpointing.externalized-checkpoint-retention",
                        "RETAIN_ON_CANCELLATION")
        conf.set_string("execution.checkpointing.num-retained", "2")
        # Each checkpoint uploads only the RocksDB files that changed since the last one.
        conf.set_string("execution.checkpointing.incremental", "true")
        if settings.checkpoint_unaligned:
            conf.set_string("execution.checkpointing.unaligned.enabled", "true")
        if settings.buffer_debloat:
            conf.set_string("taskmanager.network.memory.buffer-debloat.enabled", "true")
        resume = savepoint or (latest_checkpoint(settings.checkpoint_dir) if restore else None)
        if resume:
            conf.set_string("execution.state-recovery.path", resume)
    return conf


def make_environment(settings: Settings, *, checkpointing: bool = True,
                     restore: bool = True, savepoint: str | None = None
                     ) -> StreamExecutionEnvironment:
    os.environ["PYTHONPATH"] = python_path()
    os.environ.setdefault("FLINK_LOG_DIR", str(log_dir(settings)))  # the gateway JVM's log
    conf = flink_configuration(settings, checkpointing=checkpointing, restore=restore,
                               savepoint=savepoint)
    env = StreamExecutionEnvironment.get_execution_environment(conf)
    env.set_parallelism(settings.job_parallelism)
    return env
