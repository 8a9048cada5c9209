"""The Admin service (reco.v1.Admin) on its own port, ``admin_addr`` (localhost by default:
it has no authentication yet): ``EraseUser`` publishes an erasure request (infra/erasure.py)
and answers at once with its id and whether this server's store held anything of the user;
the job and every server confirm on ``erasure.done``."""

from __future__ import annotations

import asyncio
import logging

import grpc
from confluent_kafka import Producer

from reco.config import Settings
from reco.erasure import user_id_problem
from reco.pseudonyms import Pseudonyms
from reco.v1 import admin_pb2 as admin_pb
from reco.v1 import admin_pb2_grpc as admin_grpc
from serving.erasures import USER_ROWS
from serving.store import Store

log = logging.getLogger("reco.admin")


class AdminServicer(admin_grpc.AdminServicer):
    def __init__(self, store: Store, settings: Settings, ids: Pseudonyms) -> None:
        self.store = store
        self.settings = settings
        self.ids = ids
        self.producer = Producer({"bootstrap.servers": settings.kafka_bootstrap,
                                  "client.id": "reco-admin", "enable.idempotence": True})

    async def EraseUser(self, request: admin_pb.EraseUserRequest,
                        context: grpc.aio.ServicerContext) -> admin_pb.EraseUserResponse:
        from infra.erasure import request_erasure

        problem = user_id_problem(request.user_id)
        if problem:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, problem)
        user = self.ids.of(request.user_id)  # the erasure topic, like all, holds pseudonyms
        known = any(self.store.get(kind, user) is not None for kind in USER_ROWS)
        try:
            request_id = await asyncio.to_thread(request_erasure, self.settings, user,
                                                 self.producer)
        except ValueError as exc:
            await context.abort(grpc.StatusCode.UNAVAILABLE, str(exc))
        message = ("erasure requested; the job and every server confirm on erasure.done "
                   "(reco erase --wait)" if known else
                   "this server holds nothing of this user: the request was published all the "
                   "same (the job may hold state of hers), and is a no-op where nothing is held")
        return admin_pb.EraseUserResponse(request_id=request_id, known=known, message=message)


async def start_admin(store: Store, settings: Settings, ids: Pseudonyms
                      ) -> grpc.aio.Server | None:
    """The Admin server on ``admin_addr``, started; None (with a warning) when the address is
    taken (one admin endpoint per host is enough: another server there has it)."""
    server = grpc.aio.server()
    admin_grpc.add_AdminServicer_to_server(AdminServicer(store, settings, ids), server)
    if server.add_insecure_port(settings.admin_addr) == 0:
        log.warning("the Admin service cannot listen on %s (taken?): serving without it; set "
                    "RECO_ADMIN_ADDR to a free address", settings.admin_addr)
        return None
    await server.start()
    log.info("Admin service on %s", settings.admin_addr)
    return server
