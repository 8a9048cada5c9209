"""Mini-batch retraining of the item factors: reads the event log (the events.* topics from the
beginning up to now, or a data set file), keeps what the consent gate lets through to per-user
learning (no erased user's events from before her erasure) and what the quality rules keep
(the job's own de-duplication and bot filter, userstep/engine.py), weights interactions
(type, dwell, recency, inverse popularity: online_models/interactions.py), trains implicit ALS
with early stopping on each user's held-out last item, and publishes the item factors in chunks
to the compacted ``item_factors`` topic. The running job swaps the new version in once all its
chunks arrived and folds each user into it per event.

Run: ``reco train-factors`` (``--help`` for the options); schedule it (cron, a Kubernetes
CronJob) as often as the catalogue changes, e.g. hourly."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from features.consent import Consent, ConsentGate
from online_models.als import ImplicitALS
from online_models.factors import ItemFactors
from online_models.interactions import training_data
from reco.arguments import non_negative, positive, positive_int
from reco.clock import now_ms
from reco.config import Settings, settings_or_exit
from reco.datasets import DatasetError, load_taobao
from reco.erasure import parse_erasure
from reco.events import Event, InvalidEvent, parse_event
from userstep.engine import FeatureEngine

CHUNK_ITEMS = 2_000  # ~260 KB per record at 32 factors, under Kafka's 1 MB default


def log(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S')}  {message}", file=sys.stderr, flush=True)


def event_log(settings: Settings, max_events: int | None = None) -> Iterator[Event]:
    """Every valid event in the events.* topics, from the beginning up to the end offsets at the
    start (events arriving meanwhile wait for the next run)."""
    consumer = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, group_id=None,
                             enable_auto_commit=False, isolation_level="read_committed",
                             client_id="reco-train-factors")
    own = {settings.topic_dlq, settings.topic_filtered}
    topics = [t for t in consumer.topics()
              if t.startswith(settings.event_topic_prefix) and t not in own]
    partitions = [TopicPartition(t, p) for t in topics
                  for p in consumer.partitions_for_topic(t) or ()]
    consumer.assign(partitions)
    consumer.seek_to_beginning(*partitions)
    ends = {tp: end for tp, end in consumer.end_offsets(partitions).items() if end > 0}
    read = 0
    while ends and (max_events is None or read < max_events):
        for tp, records in consumer.poll(timeout_ms=1000).items():
            for record in records:
                if record.offset >= ends.get(tp, 0):
                    continue
                try:
                    yield parse_event(record.value)
                    read += 1
                except InvalidEvent:
                    pass  # the job dead-letters it; nothing to learn
            if consumer.position(tp) >= ends.get(tp, 0):
                ends.pop(tp, None)
    consumer.close()


def clean(events: Iterator[Event] | list[Event], settings: Settings,
          erased: dict[str, int] | None = None) -> list[Event]:
    """The events the job learns per user from, in time order: those its consent gate lets
    through (factors are personal: features/consent.py; a user who withdrew loses what came
    before, and ``erased``, user -> when, drops everything of hers from before it), then
    what the quality rules keep."""
    engine = FeatureEngine(settings)
    gate = ConsentGate(settings.consent_default == "allow")
    consent = {user: Consent(erased_before_ms=at) for user, at in (erased or {}).items()}
    kept: dict[str, list[Event]] = {}
    for event in sorted(events, key=lambda e: e.ts):
        verdict, consent[event.user_id] = gate.check(consent.get(event.user_id), event)
        if verdict.withdrawn:
            kept.pop(event.user_id, None)
        if verdict.personal and engine.process(event) is None:
            kept.setdefault(event.user_id, []).append(event)
    return sorted((e for mine in kept.values() for e in mine), key=lambda e: e.ts)


def erasures(settings: Settings) -> dict[str, int]:
    """Each erased user and when her erasure was asked for (the erasure topic)."""
    from infra.topic_reader import all_values

    found: dict[str, int] = {}
    for _, raw in all_values(settings, settings.topic_erasure):
        try:
            request = parse_erasure(raw)
        except InvalidEvent:
            continue
        found[request.user_id] = max(found.get(request.user_id, 0), request.requested_at_ms)
    return found


def publish(settings: Settings, factors: ItemFactors) -> int:
    """Writes one version's chunks to the item factors topic; returns how many."""
    chunks = factors.to_chunks(CHUNK_ITEMS, now_ms())
    producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all",
                             max_request_size=2_000_000, client_id="reco-train-factors")
    for chunk in chunks:
        producer.send(settings.topic_item_factors, key=f"chunk-{chunk.chunk}".encode(),
                      value=chunk.SerializeToString())
    producer.flush()
    producer.close()
    return len(chunks)


def main(argv: list[str] | None = None, settings: Settings | None = None) -> int:
    parser = argparse.ArgumentParser(prog="reco train-factors", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--taobao", metavar="CSV",
                        help="train on a Taobao UserBehavior file instead of the Kafka log")
    parser.add_argument("--max-events", type=positive_int,
                        help="read at most this many events")
    parser.add_argument("--factors", type=positive_int, default=32)
    parser.add_argument("--regularization", type=non_negative, default=0.1)
    parser.add_argument("--alpha", type=positive, default=10.0, help="confidence per unit weight")
    parser.add_argument("--iterations", type=positive_int, default=15)
    parser.add_argument("--half-life-days", type=positive, default=7.0,
                        help="an interaction's weight halves with each half-life of age")
    parser.add_argument("--ipw", type=non_negative, default=0.5,
                        help="divide weights by item popularity to this power (0: off)")
    parser.add_argument("--dry-run", action="store_true", help="train and report; publish nothing")
    args = parser.parse_args(argv)
    settings = settings or settings_or_exit("reco train-factors")
    source = args.taobao or f"Kafka at {settings.kafka_bootstrap}"
    log(f"reading events from {source}")
    try:
        raw = load_taobao(args.taobao)[:args.max_events] if args.taobao \
            else event_log(settings, args.max_events)
    except (DatasetError, OSError) as exc:  # the file given: say what is wrong with it
        parser.error(str(exc))
    # a public data set carries no consent: learned as with consent_default = allow
    events = clean(raw, settings.replace(consent_default="allow")) if args.taobao \
        else clean(raw, settings, erasures(settings))
    if not events:
        log("no events to learn from: produce some first (reco simulate --send)")
        return 1
    now = max(e.ts for e in events)
    data = training_data(events, now, int(args.half_life_days * 86_400_000), args.ipw)
    log(f"{len(events)} clean events -> {len(set(data.users))} users x {len(set(data.items))} "
        f"items, {len(data.weights)} cells; {len(data.validation)} held out")
    model = ImplicitALS(args.factors, args.regularization, args.alpha, args.iterations)
    started = time.monotonic()
    model.fit(data.users, data.items, data.weights, data.validation)
    history = ", ".join(f"{h:.3f}" for h in model.history)
    log(f"trained in {time.monotonic() - started:.1f} s; validation HR@20 per iteration: "
        f"{history or 'n/a'}")
    if args.dry_run:
        return 0
    version = time.strftime("%Y%m%dT%H%M%S")
    chunks = publish(settings, model.item_model(version))
    log(f"published version {version}: {len(model.item_ids)} items in {chunks} chunks to "
        f"{settings.topic_item_factors}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
