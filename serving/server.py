"""The serving process: loader thread (Kafka -> store) and the gRPC server (asyncio + uvloop),
with the health service, reflection and graceful shutdown on SIGTERM/SIGINT. With
``serving_workers`` > 1 it starts that many processes in all, sharing the port (SO_REUSEPORT,
so the kernel spreads connections): one Python process is one core, the GIL sees to that. The
extra workers read the store as RocksDB secondaries, caught up every ``loader_poll_ms``, and stop
with the first."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import signal
import subprocess
import sys
import threading
from typing import Any

import grpc
import uvloop
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from infra.processes import port_open, split_address
from reco.config import Settings, settings_env, settings_or_exit
from reco.pseudonyms import load_pseudonyms
from reco.v1 import recommendations_pb2 as pb
from serving.admin import start_admin
from serving.impressions import ImpressionLog
from serving.loader import Loader
from serving.requests import lenient
from serving.servicer import RecommendationsServicer
from serving.store import FACTORS_SEEN, POLICY, SEGMENTS, UNAVAILABLE, Store

log = logging.getLogger("reco.server")
SERVICE_NAME = pb.DESCRIPTOR.services_by_name["Recommendations"].full_name


# small kinds a worker's readers reload when they change
WATCHED = (POLICY, SEGMENTS, UNAVAILABLE, FACTORS_SEEN)


def add_to_server(servicer: RecommendationsServicer, server: Any) -> None:
    """Registers the service as the generated code does, with lenient deserializers: every
    method of the proto's service, its request and response types from its descriptor."""
    service = pb.DESCRIPTOR.services_by_name["Recommendations"]
    handlers = {
        method.name: grpc.unary_unary_rpc_method_handler(
            getattr(servicer, method.name),
            request_deserializer=lenient(getattr(pb, method.input_type.name)),
            response_serializer=getattr(pb, method.output_type.name).SerializeToString)
        for method in service.methods}
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE_NAME,
                                                                          handlers),))
    server.add_registered_method_handlers(SERVICE_NAME, handlers)


def _open_store(settings: Settings, worker: int) -> tuple[Store, Loader | None]:
    """The first process owns the store and loads it; the others read it as secondaries."""
    if worker == 0:
        store = Store(settings.store_path)
        return store, Loader(store, settings)
    store = Store(f"{settings.store_path}.worker{worker}", secondary_of=settings.store_path)
    store.catch_up(WATCHED)
    return store, None


def _start_workers(settings: Settings) -> list[subprocess.Popen[bytes]]:
    env = {**os.environ, **settings_env(settings)}
    return [subprocess.Popen([sys.executable, "-m", "serving.server", "--worker", str(n),
                              "--parent", str(os.getpid())], env=env)
            for n in range(1, settings.serving_workers)]


async def _keep_caught_up(store: Store, settings: Settings, stopping: asyncio.Event,
                          parent: int) -> None:
    """A worker sees the loader's writes every poll interval, and stops with its parent."""
    while not stopping.is_set():
        await asyncio.sleep(settings.loader_poll_ms / 1000)
        if os.getppid() != parent:
            log.warning("the serving process that started this worker is gone: stopping")
            stopping.set()
            return
        try:
            store.catch_up(WATCHED)
        except Exception:  # serve what this worker has; the next round may succeed
            log.exception("catching up with the loader's store failed")


async def _wait_until_caught_up(loader: Loader, settings: Settings,
                                health_servicer: health.aio.HealthServicer,
                                stopping: asyncio.Event) -> None:
    """NOT_SERVING (to probes and load balancers) while the loader catches up with the topics;
    requests that come anyway are answered from what the store has."""
    for name in ("", SERVICE_NAME):
        await health_servicer.set(name, health_pb2.HealthCheckResponse.NOT_SERVING)
    log.info("catching up with the output topics before reporting SERVING")
    timeout = settings.serving_ready_timeout_s
    deadline = asyncio.get_running_loop().time() + timeout if timeout else float("inf")
    while not (loader.caught_up.is_set() or stopping.is_set()) \
            and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.05)
    if not (loader.caught_up.is_set() or stopping.is_set()):
        log.warning("not caught up with the topics after %.0f s (is Kafka at %s reachable?): "
                    "serving what the store holds", settings.serving_ready_timeout_s,
                    settings.kafka_bootstrap)


async def serve(settings: Settings, ready: threading.Event | None = None,
                worker: int = 0, parent: int = 0) -> None:
    several = settings.serving_workers > 1
    if worker == 0 and several and port_open(*split_address(settings.grpc_addr)):
        raise SystemExit(f"{settings.grpc_addr} is taken: is another server running? Set "
                         "RECO_GRPC_ADDR to a free address.")
    store, loader = _open_store(settings, worker)
    stop_loading = threading.Event()
    loader_thread = None
    if loader is not None:
        loader_thread = threading.Thread(target=loader.run, args=(stop_loading,),
                                         name="loader", daemon=True)
        loader_thread.start()

    server = grpc.aio.server(options=[("grpc.so_reuseport", 1 if several else 0)])
    impressions = ImpressionLog(settings) if settings.log_impressions else None
    try:
        ids = load_pseudonyms(settings)
        servicer = RecommendationsServicer(store, settings, impressions, ids)
    except ValueError as exc:  # a setting or a file the operator must fix
        raise SystemExit(f"serving: {exc}") from None
    add_to_server(servicer, server)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        (SERVICE_NAME, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
         reflection.SERVICE_NAME), server)
    if server.add_insecure_port(settings.grpc_addr) == 0:
        raise SystemExit(f"cannot listen on {settings.grpc_addr}: is another server running? "
                         "Set RECO_GRPC_ADDR to a free address.")
    await server.start()
    admin = await start_admin(store, settings, ids) if worker == 0 else None
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    if loader is not None:
        await _wait_until_caught_up(loader, settings, health_servicer, stopping)
    for name in ("", SERVICE_NAME):
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    # workers read the loader's store: started once it has caught up, they are ready at once
    workers = _start_workers(settings) if worker == 0 and several else []
    # What startup built (modules, protobuf descriptors, the store, the policy) lives as long
    # as the process: out of the collector's reach, a full collection no longer walks it all
    # and stops every request for tens of milliseconds (measured: 44-52 ms, then 4 ms).
    gc.freeze()
    log.info("serving on %s (store %s%s)", settings.grpc_addr, settings.store_path,
             f", worker {worker}" if worker else
             f", {len(workers)} more workers" if workers else "")
    if ready is not None:
        ready.set()

    catching_up = (asyncio.create_task(_keep_caught_up(store, settings, stopping, parent))
                   if loader is None else None)
    await stopping.wait()
    log.info("shutting down: draining for up to %.1f s", settings.grpc_grace_s)
    for child in workers:
        child.terminate()
    await health_servicer.enter_graceful_shutdown()
    await server.stop(settings.grpc_grace_s)
    if admin is not None:
        await admin.stop(1.0)
    for child in workers:
        child.wait(timeout=settings.grpc_grace_s + 5)
    if catching_up is not None:
        catching_up.cancel()
    stop_loading.set()
    if loader_thread is not None:
        loader_thread.join(timeout=5)
    store.close()
    if impressions is not None:
        impressions.close()
        log.info("impressions logged: %d, dropped: %d", impressions.sent, impressions.dropped)
    if loader is not None:
        log.info("stopped; %d records loaded in this run", loader.records_loaded)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m serving.server",
        description="Serve recommendations over gRPC from a local store that a loader keeps in "
                    "step with the compacted Kafka topics. Settings: environment and reco.toml "
                    "(serving_workers: processes sharing the port).")
    parser.add_argument("--worker", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--parent", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(message)s")
    uvloop.run(serve(settings_or_exit("serving.server"), worker=args.worker, parent=args.parent))


if __name__ == "__main__":
    main()
