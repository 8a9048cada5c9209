"""The `reco` commands that run the system: the local stack, the standalone Flink cluster,
deploying the job to it, and savepoints (docs/operations.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from infra.flink_rest import savepoint_problem
from reco.arguments import positive
from reco.config import settings_or_exit


def cmd_stack(args: argparse.Namespace) -> int:
    from infra.processes import StartupError
    from infra.stack import Stack

    stack = Stack(settings_or_exit("reco"))
    problem = savepoint_problem(args.from_savepoint)
    if problem:
        print(f"reco stack up: {problem}", file=sys.stderr)
        return 2
    if args.action == "up":
        try:
            stack.up(fresh=args.fresh, savepoint=args.from_savepoint)
        except StartupError as exc:
            print(f"reco stack up: {exc}\nstopping what was started", file=sys.stderr)
            stack.down(only_started=True)
            return 1
    elif args.action == "down":
        stack.down()
    status = stack.status()
    print("\n".join(status.lines()))
    if args.action == "down" and status.running:
        print(f"reco stack down: {', '.join(status.running)} still answering, started from "
              f"elsewhere than {stack.run_dir} (no pid file there): a `reco demo` still running "
              "(`RECO_STACK_DIR=.cache/demo reco stack down` stops its parts), or another "
              "process on those ports", file=sys.stderr)
        return 1
    return 0


def cmd_cluster(args: argparse.Namespace) -> int:
    from infra.cluster import FlinkCluster
    from infra.flink_rest import cluster_slots
    from infra.processes import StartupError
    from infra.stack import Stack
    from reco.topics import ensure_topics

    settings = settings_or_exit("reco")
    stack, cluster = Stack(settings), FlinkCluster(settings)
    if args.action == "up":
        try:
            stack.start_kafka()
            ensure_topics(settings)
            cluster.up()
            cluster.deploy(fresh=args.fresh)
            stack.start_server()
        except StartupError as exc:
            print(f"reco cluster up: {exc}\nstopping what was started", file=sys.stderr)
            cluster.down()
            stack.down(only_started=True)
            return 1
    elif args.action == "down":
        cluster.down()
        stack.down()
    print("\n".join(stack.status().lines()))
    print(f"flink   {cluster_slots(settings.flink_rest_port)} task slots, UI at "
          f"http://127.0.0.1:{settings.flink_rest_port} (logs in {cluster.log_dir})")
    return 0


def cmd_deploy(args: argparse.Namespace) -> int:
    from infra.cluster import FlinkCluster
    from infra.processes import StartupError

    settings = settings_or_exit("reco")
    problem = savepoint_problem(args.from_savepoint)
    if problem:
        print(f"reco deploy: {problem}", file=sys.stderr)
        return 2
    cluster = FlinkCluster(settings)
    if not cluster.running():
        print(f"reco deploy: no Flink cluster answers on port {settings.flink_rest_port}: "
              "`reco cluster up` starts one", file=sys.stderr)
        return 1
    try:
        cluster.deploy(fresh=args.fresh, savepoint=args.from_savepoint)
    except StartupError as exc:
        print(f"reco deploy: {exc}", file=sys.stderr)
        return 1
    print(f"the job runs on the cluster at parallelism {settings.job_parallelism}")
    return 0


def cmd_savepoint(args: argparse.Namespace) -> int:
    from infra.flink_rest import SavepointError
    from infra.stack import Stack

    settings = settings_or_exit("reco")
    stack = Stack(settings)
    directory = Path(args.dir or Path(settings.stack_dir) / "savepoints")
    try:
        path = stack.savepoint(directory, timeout_s=args.timeout)
    except (SavepointError, OSError) as exc:
        print(f"reco savepoint: {exc}", file=sys.stderr)
        return 1
    print(f"the job stopped with a savepoint at {path}\nrestart it, at any parallelism N, with\n"
          f"  RECO_JOB_PARALLELISM=N reco stack up --from-savepoint {path}\n"
          f"or, on a standalone cluster,\n"
          f"  RECO_JOB_PARALLELISM=N reco deploy --from-savepoint {path}")
    return 0


def add_running_commands(sub: Any) -> None:
    """Registers these commands on the `reco` parser's subparsers."""
    p = sub.add_parser("stack", help="start/stop/inspect the local stack in the background")
    p.add_argument("action", choices=["up", "down", "status"])
    p.add_argument("--fresh", action="store_true", help="up: start the job without old state")
    p.add_argument("--from-savepoint", metavar="PATH",
                   help="up: start the job from this savepoint (`reco savepoint` prints it)")
    p.set_defaults(func=cmd_stack)

    p = sub.add_parser("cluster", help="a standalone Flink cluster on this machine (JobManager "
                       "and TaskManagers) running the job, with Kafka and the server")
    p.add_argument("action", choices=["up", "down", "status"])
    p.add_argument("--fresh", action="store_true", help="up: start the job without old state")
    p.set_defaults(func=cmd_cluster)

    p = sub.add_parser("deploy", help="submit the job to the running cluster (flink run)")
    p.add_argument("--fresh", action="store_true", help="start without old state")
    p.add_argument("--from-savepoint", metavar="PATH",
                   help="start from this savepoint (`reco savepoint` prints it), e.g. after "
                        "changing RECO_JOB_PARALLELISM or upgrading")
    p.set_defaults(func=cmd_deploy)

    p = sub.add_parser("savepoint", help="stop the job with a savepoint (to rescale or upgrade)")
    p.add_argument("--dir", help="where to write it (default: <stack dir>/savepoints)")
    p.add_argument("--timeout", type=positive, default=120.0, help="seconds to wait")
    p.set_defaults(func=cmd_savepoint)

