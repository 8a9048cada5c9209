"""The serving process: loader thread (Kafka -> store) and the gRPC server (asyncio + uvloop),
with the health service, reflection and graceful shutdown on SIGTERM/SIGINT."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
import threading

import grpc
import uvloop
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from reco.config import Settings, load_settings
from reco.v1 import recommendations_pb2 as pb
from reco.v1 import recommendations_pb2_grpc as pb_grpc
from serving.impressions import ImpressionLog
from serving.loader import Loader
from serving.servicer import RecommendationsServicer
from serving.store import Store

log = logging.getLogger("reco.server")
SERVICE_NAME = pb.DESCRIPTOR.services_by_name["Recommendations"].full_name


async def serve(settings: Settings, ready: threading.Event | None = None) -> None:
    store = Store(settings.store_path)
    loader = Loader(store, settings)
    stop_loading = threading.Event()
    loader_thread = threading.Thread(target=loader.run, args=(stop_loading,), name="loader",
                                     daemon=True)
    loader_thread.start()

    server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
    impressions = ImpressionLog(settings) if settings.log_impressions else None
    try:
        servicer = RecommendationsServicer(store, settings, impressions)
    except ValueError as exc:  # a setting the operator must fix
        raise SystemExit(f"{exc} (setting RECO_POLICY / reco.toml)") from None
    pb_grpc.add_RecommendationsServicer_to_server(servicer, server)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        (SERVICE_NAME, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
         reflection.SERVICE_NAME), server)
    if server.add_insecure_port(settings.grpc_addr) == 0:
        raise SystemExit(f"cannot listen on {settings.grpc_addr}: is another server running? "
                         "Set RECO_GRPC_ADDR to a free address.")
    await server.start()
    for name in ("", SERVICE_NAME):
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    log.info("serving on %s (store %s)", settings.grpc_addr, settings.store_path)
    if ready is not None:
        ready.set()

    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    await stopping.wait()
    log.info("shutting down: draining for up to %.1f s", settings.grpc_grace_s)
    await health_servicer.enter_graceful_shutdown()
    await server.stop(settings.grpc_grace_s)
    stop_loading.set()
    loader_thread.join(timeout=5)
    store.close()
    if impressions is not None:
        impressions.close()
        log.info("impressions logged: %d, dropped: %d", impressions.sent, impressions.dropped)
    log.info("stopped; %d records loaded in this run", loader.records_loaded)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m serving.server",
        description="Serve recommendations over gRPC from a local store that a loader keeps in "
                    "step with the compacted Kafka topics. Settings: environment and reco.toml.")
    parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(message)s")
    uvloop.run(serve(load_settings()))


if __name__ == "__main__":
    main()
