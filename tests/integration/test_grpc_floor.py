"""The lookup benchmark's gRPC floors (bench/grpc_floor.py) answer over a socket, as grpc.aio
and as a thread-pool server pinned to one core, every thread of it on that core."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import grpc
import pytest

from bench.grpc_floor import FIXED
from bench.server_parts import measure_server
from infra.processes import ManagedProcess, free_port, port_open, wait_until
from reco.topics import ensure_topics
from reco.v1 import recommendations_pb2 as pb
from reco.v1 import recommendations_pb2_grpc as pb_grpc
from tests.integration.conftest import own_settings

CORES = sorted(os.sched_getaffinity(0))


def allowed_cores(pid: int, thread: str) -> str:
    status = Path(f"/proc/{pid}/task/{thread}/status").read_text()
    return next(line.split(":", 1)[1].strip() for line in status.splitlines()
                if line.startswith("Cpus_allowed_list"))


@pytest.mark.parametrize("pinned", [False, True], ids=["grpc.aio", "thread-pool-pinned"])
def test_the_grpc_floor_answers_with_its_fixed_response(pinned, tmp_path):
    core = str(CORES[-1])
    port = free_port()
    options = ["--threads", "2", "--cpu", core] if pinned else []
    floor = ManagedProcess("grpc-floor", [sys.executable, "-m", "bench.grpc_floor", "--addr",
                                          f"127.0.0.1:{port}", *options], tmp_path)
    floor.start()
    try:
        wait_until(lambda: port_open("127.0.0.1", port), 30, "gRPC floor server",
                   floor.alive, floor.log_path)
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            reply = pb_grpc.RecommendationsStub(channel).GetRecommendations(
                pb.GetRecommendationsRequest(user_id="u1", k=10), timeout=10)
        assert reply == FIXED
        pid = floor.pid()
        assert pid is not None
        threads = os.listdir(f"/proc/{pid}/task")
        assert len(threads) > 1  # gRPC's own threads, started after the pinning
        cores = {allowed_cores(pid, t) for t in threads}
        if pinned:
            assert cores == {core}
        elif len(CORES) > 1:
            assert core not in cores
    finally:
        floor.stop()


def test_the_grpc_floor_refuses_a_core_it_may_not_use():
    outside = CORES[-1] + 1
    done = subprocess.run([sys.executable, "-m", "bench.grpc_floor", "--addr",
                           f"127.0.0.1:{free_port()}", "--cpu", str(outside)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert f"--cpu {outside}: this process may run on cores {CORES}" in done.stderr


def test_the_serving_process_with_a_fixed_answer_is_the_server_but_for_its_handler(
        kafka, tmp_path):
    """bench.server_parts' middle server: the floor's response to GetRecommendations, the
    real server's answers (and its health check, which the stack waits for) everywhere else."""
    settings = own_settings(kafka, tmp_path, "fixed-answer")
    ensure_topics(settings)

    def ask(address: str, pid: int) -> tuple[pb.GetRecommendationsResponse, str]:
        with grpc.insecure_channel(address) as channel:
            stub = pb_grpc.RecommendationsStub(channel)
            reply = stub.GetRecommendations(pb.GetRecommendationsRequest(user_id="u1", k=10),
                                            timeout=10)
            with pytest.raises(grpc.RpcError) as refused:
                stub.GetSimilarItems(pb.GetSimilarItemsRequest(item_id="", k=10), timeout=10)
        return reply, refused.value.code().name

    reply, similar = measure_server(settings, "bench.fixed_answer_server", ask)
    assert reply == FIXED
    assert similar == "INVALID_ARGUMENT"  # the real servicer checked the request
