"""`reco`: the command line of the project. `reco --help` lists the commands."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

import grpc
from google.protobuf.json_format import MessageToDict
from kafka.errors import KafkaError

from app.privacy import add_privacy_commands
from app.running import add_running_commands
from infra.processes import exit_on_sigterm, port_open, split_address
from reco.arguments import count, positive_int, share, topic_name
from reco.catalog import FEED_FORMATS
from reco.clock import now_ms
from reco.config import PROJECT_ROOT, Settings, describe, settings_or_exit
from reco.events import InvalidEvent, event_from_dict
from reco.history import FORMATS
from reco.simulator import ShopperSimulation, SimConfig


def _settings() -> Settings:
    return settings_or_exit("reco")


KAFKA_HINT = "Is it running? `make up` starts the local stack; KAFKA_BOOTSTRAP points elsewhere."


def _kafka_settings(command: str) -> Settings:
    """The settings, once a bootstrap server accepts connections: a broker that is not there is
    said at once, not after the Kafka client's 30 s bootstrap timeout."""
    settings = _settings()
    servers = [s.strip() for s in settings.kafka_bootstrap.split(",") if s.strip()]
    if not any(port_open(*split_address(server)) for server in servers):
        raise SystemExit(f"reco {command}: no Kafka broker answers at "
                         f"{settings.kafka_bootstrap}. {KAFKA_HINT}")
    return settings


def cmd_get(args: argparse.Namespace) -> int:
    from infra.client import RecoClient
    from reco.v1 import recommendations_pb2 as pb

    context = pb.Context(device=args.device or "", country=args.country or "",
                         ts=now_ms())
    with RecoClient(_settings().grpc_addr) as client:
        reply = client.recommendations(args.user, args.k, args.exclude, context)
    if args.json:
        print(json.dumps(MessageToDict(reply), indent=2))
        return 0
    label = " (cold start: user not seen yet)" if reply.cold_start else ""
    print(f"{args.user}: {len(reply.items)} items, model {reply.model_version}{label}")
    for rank, item in enumerate(reply.items, 1):
        print(f"{rank:3d}. {item.item_id:<16} {item.score:10.4f}  {item.reason}")
    return 0


def cmd_recommend(args: argparse.Namespace) -> int:
    from app.batch import main_batch

    try:
        main_batch(_settings(), Path(args.items or args.users), args.out and Path(args.out),
                   args.k, items=bool(args.items))
    except (FileNotFoundError, OSError) as exc:
        print(f"reco recommend: {exc}", file=sys.stderr)
        return 1
    return 0


def cmd_profile(args: argparse.Namespace) -> int:
    from infra.client import RecoClient

    with RecoClient(_settings().grpc_addr) as client:
        reply = client.profile(args.user)
    print(json.dumps(MessageToDict(reply), indent=2))
    return 0


def _read_events(stream: TextIO) -> Iterator[tuple[int, str]]:
    for number, line in enumerate(stream, 1):
        if line.strip():
            yield number, line


def _open_input(path: str) -> TextIO:
    if path == "-":
        return sys.stdin
    try:
        return open(path, encoding="utf-8")  # closed by the caller's with
    except OSError as exc:
        raise SystemExit(f"reco produce: cannot read {path}: {exc.strerror}") from None


def cmd_produce(args: argparse.Namespace) -> int:
    from infra.producer import EventProducer

    bad = 0
    with _open_input(args.file) as stream, \
            EventProducer(_kafka_settings("produce"), args.format) as producer:
        for number, line in _read_events(stream):
            try:
                producer.send(event_from_dict(json.loads(line)))
            except (InvalidEvent, json.JSONDecodeError) as exc:
                bad += 1
                print(f"line {number}: not sent: {exc}", file=sys.stderr)
        sent = producer.sent
    print(f"sent {sent} events; {bad} invalid lines not sent", file=sys.stderr)
    return 1 if bad else 0


def cmd_import(args: argparse.Namespace) -> int:
    from infra.importer import run_import
    from reco.datasets import DatasetError

    settings = _kafka_settings("import")
    try:
        summary = run_import(settings, Path(args.file), args.format, force=args.force,
                             wait=not args.no_wait, timeout_s=args.timeout, topic=args.topic)
    except DatasetError as exc:
        raise SystemExit(f"reco import: {exc}") from None
    print(json.dumps(summary, indent=2))
    if summary.get("catch_up_s", 0) is None:
        print("reco import: the job had not caught up within the timeout; is it running? "
              "(reco stack status)", file=sys.stderr)
        return 1
    return 0


def cmd_items(args: argparse.Namespace) -> int:
    from infra.catalog_loader import delete_items, load_catalog
    from reco.catalog import FeedError
    from reco.topics import ensure_topics

    settings = _kafka_settings("items")
    ensure_topics(settings)
    if args.action == "delete":
        print(f"deleted {delete_items(settings, args.ids)} items")
        return 0
    if len(args.ids) != 1:
        print("reco items load: give one feed file", file=sys.stderr)
        return 2
    try:
        summary = load_catalog(settings, Path(args.ids[0]), args.format, args.delete_missing)
    except (FeedError, OSError) as exc:
        print(f"reco items load: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(summary, indent=2))
    if summary["rejected"]:
        print(f"reco items load: {summary['rejected']} rows rejected (lines "
              f"{', '.join(map(str, summary['rejected_lines']))}...; each with its reason in "
              f"{settings.topic_dlq}); the others loaded", file=sys.stderr)
    return 0


def _simulation(args: argparse.Namespace) -> ShopperSimulation:
    return ShopperSimulation(SimConfig(n_users=args.users, n_items=args.items, seed=args.seed,
                                       bot_share=args.bots, run_id=args.run_id))


def cmd_simulate(args: argparse.Namespace) -> int:
    sim = _simulation(args)
    if not args.send:
        for event in sim.events():
            sys.stdout.write(event.to_json().decode() + "\n")
        return 0
    from infra.producer import EventProducer

    with EventProducer(_kafka_settings("simulate"), args.format) as producer:
        count = producer.send_all(sim.events())
    print(f"sent {count} simulated events ({args.users} users, seed {args.seed})",
          file=sys.stderr)
    return 0


def cmd_topics(args: argparse.Namespace) -> int:
    from reco.topics import ensure_topics, topic_manifests

    if args.manifest:
        import yaml

        sys.stdout.write(yaml.safe_dump_all(
            topic_manifests(_settings(), args.cluster, args.replicas, args.namespace),
            sort_keys=False))
        return 0

    created = ensure_topics(_kafka_settings("topics"))
    print("created: " + (", ".join(created) if created else "nothing (all exist)"))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from app.demo import run_demo

    return run_demo(_settings(), users=args.users, seed=args.seed, watch=args.watch)


def cmd_config(args: argparse.Namespace) -> int:
    rows = describe(_settings())
    if args.markdown:
        print("| setting | environment variable | default | meaning |\n|---|---|---|---|")
        defaults = {name: value.replace(str(PROJECT_ROOT), ".")
                    for name, _, value, _ in describe(Settings())}
        for name, env, _, doc in rows:
            print(f"| `{name}` | `{env}` | `{defaults[name]}` | {doc} |")
        return 0
    for name, env, value, doc in rows:
        print(f"{name:<24} {value:<40} {env:<28} {doc}")
    return 0


PASS_THROUGH = ("train-factors", "ope", "eval")  # commands with their own option parsers


def cmd_train_factors(args: argparse.Namespace) -> int:
    from jobs.train_factors import main as train

    return train(args.options)  # its own options: reco train-factors --help


def cmd_eval(args: argparse.Namespace) -> int:
    from evaluation.prequential import main as evaluate

    return evaluate(args.options)  # its own options: reco eval --help


def cmd_ope(args: argparse.Namespace) -> int:
    from evaluation.ope_cli import main as ope

    return ope(args.options)  # its own options: reco ope --help


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="reco", description="Real-time behavioural recommendations: Kafka -> PyFlink -> "
        "gRPC. Settings come from the environment and reco.toml (`reco config` lists them).")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("get", help="recommendations for a user (gRPC)")
    p.add_argument("user")
    p.add_argument("-k", type=int, default=10, help="how many items (1..100)")
    p.add_argument("--exclude", nargs="*", default=[], help="item ids to leave out")
    p.add_argument("--device")
    p.add_argument("--country")
    p.add_argument("--json", action="store_true", help="print the raw response as JSON")
    p.set_defaults(func=cmd_get)

    p = sub.add_parser("recommend", help="top-k for many users (or similar items for many "
                       "items) as JSON lines, from the serving store")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--users", metavar="FILE", help="user ids, one per line")
    which.add_argument("--items", metavar="FILE", help="item ids, one per line: similar items")
    p.add_argument("-k", type=positive_int, default=10)
    p.add_argument("--out", metavar="FILE", help="write here instead of stdout")
    p.set_defaults(func=cmd_recommend)

    p = sub.add_parser("profile", help="a user's profile (gRPC)")
    p.add_argument("user")
    p.set_defaults(func=cmd_profile)

    p = sub.add_parser("produce", help="validate JSON-lines events and send them to Kafka")
    p.add_argument("file", nargs="?", default="-", help="JSON lines file (default: stdin)")
    p.add_argument("--format", choices=["json", "protobuf"], default="json",
                   help="wire format (default json)")
    p.set_defaults(func=cmd_produce)

    p = sub.add_parser("import", help="load a history file (CSV, JSON lines, public data "
                       "sets) into the running system, then wait until the job caught up")
    p.add_argument("file")
    p.add_argument("--format", default="csv", choices=FORMATS,
                   help="csv: header timestamp,user_id,item_id,event_type[,category,price,...]; "
                        "jsonl: events as JSON lines; or a public data set's format")
    p.add_argument("--force", action="store_true",
                   help="send a file that was imported before anyway")
    p.add_argument("--no-wait", action="store_true",
                   help="do not wait for the job to catch up")
    p.add_argument("--timeout", type=float, default=1800.0,
                   help="seconds to wait for the job to catch up")
    p.add_argument("--topic", type=topic_name,
                   help="send every event to this one input topic (under the event prefix) so "
                        "the job reads the file's order; default: a topic per event type")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("items", help="the product catalog: load a feed (CSV, TSV, JSON lines; "
                       "Google Merchant columns), or delete items")
    p.add_argument("action", choices=["load", "delete"])
    p.add_argument("ids", nargs="+", metavar="FILE|ID", help="load: the feed; delete: item ids")
    p.add_argument("--format", choices=FEED_FORMATS, help="load: default from the extension")
    p.add_argument("--delete-missing", action="store_true",
                   help="load: delete the catalog's items that the feed lacks (a full feed)")
    p.set_defaults(func=cmd_items)

    p = sub.add_parser("simulate", help="the seeded shopper simulation: print or --send")
    p.add_argument("--users", type=positive_int, default=200)
    p.add_argument("--items", type=positive_int, default=1000)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--bots", type=share, default=0.05, help="share of bot users")
    p.add_argument("--run-id", default="", help="prefix of event ids (unique per replay)")
    p.add_argument("--send", action="store_true", help="send to Kafka instead of printing")
    p.add_argument("--format", choices=["json", "protobuf"], default="json")
    p.set_defaults(func=cmd_simulate)

    p = sub.add_parser("topics", help="create the project's topics (idempotent), or print "
                       "them as Strimzi KafkaTopic resources")
    p.add_argument("--manifest", action="store_true",
                   help="print KafkaTopic resources (deploy/k8s/topics.yaml) instead")
    p.add_argument("--cluster", default="reco-kafka", help="--manifest: the Strimzi cluster")
    p.add_argument("--replicas", type=positive_int, default=3, help="--manifest: replicas")
    p.add_argument("--namespace", default="reco", help="--manifest: the cluster's namespace")
    p.set_defaults(func=cmd_topics)

    add_running_commands(sub)
    add_privacy_commands(sub)

    p = sub.add_parser("demo", help="what `make run` does: stack, simulation, live lookups")
    p.add_argument("--users", type=positive_int, default=300, help="simulated shoppers")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--watch", type=count, default=3, help="users whose lists are shown")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("train-factors", add_help=False,
                       help="retrain the item factors from the event log and publish them "
                            "(--help for its options)")
    p.set_defaults(func=cmd_train_factors)

    p = sub.add_parser("ope", add_help=False,
                       help="off-policy evaluation of bandit policies on logged data (OBD, "
                            "CSV; --help for its options)")
    p.set_defaults(func=cmd_ope)

    p = sub.add_parser("eval", add_help=False,
                       help="prequential evaluation on a data set against baselines "
                            "(--help for its options)")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("config", help="list every setting, its variable and value")
    p.add_argument("--markdown", action="store_true", help="as a Markdown table of defaults")
    p.set_defaults(func=cmd_config)
    return parser


def main(argv: list[str] | None = None) -> int:
    exit_on_sigterm()
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if args.command in PASS_THROUGH:
        args.options = extra
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    # kafka-python logs a harmless socket error with a traceback when a consumer closes
    # mid-poll; what matters surfaces as exceptions in our code
    logging.getLogger("kafka").setLevel(logging.DEBUG if args.verbose else logging.CRITICAL)
    try:
        return int(args.func(args))
    except grpc.RpcError as exc:
        print(f"reco {args.command}: {exc.code().name}: {exc.details()}", file=sys.stderr)
        return 2
    except KafkaError as exc:  # kafka-python: topics, produce, simulate --send
        print(f"reco {args.command}: Kafka at {_settings().kafka_bootstrap}: {exc}. {KAFKA_HINT}",
              file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
