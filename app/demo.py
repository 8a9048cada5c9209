"""`make run`: start the stack, replay the shopper simulation, show lists being served and
updated with the time each update took, then stop what was started."""

from __future__ import annotations

import dataclasses
import functools
import json
import random
import shutil
import statistics
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import grpc
from kafka import KafkaConsumer

from infra.client import RecoClient
from infra.processes import StartupError
from infra.producer import EventProducer
from infra.stack import Stack
from reco.clock import now_ms
from reco.config import Settings
from reco.events import Event
from reco.pseudonyms import load_pseudonyms
from reco.simulator import ShopperSimulation, SimConfig
from reco.v1 import recommendations_pb2 as pb

BAD_EVENTS = [b"{not json", b'{"event_id": "x1", "event_type": "click", "ts": 1}',
              b'{"event_id": "x2", "event_type": "product_view", "user_id": "u", '
              b'"item_id": "i", "ts": 1795680000000, "scroll_depth": 7}']


def say(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S')}  {message}", flush=True)


def poll(check: Callable[[], bool], timeout_s: float = 30.0) -> float | None:
    """Seconds until ``check`` held, or None on timeout."""
    start = time.monotonic()
    while time.monotonic() - start < timeout_s:
        if check():
            return time.monotonic() - start
        time.sleep(0.02)
    return None


def show(reply: pb.GetRecommendationsResponse, n: int = 5) -> str:
    items = ", ".join(f"{i.item_id} ({i.reason})" for i in reply.items[:n])
    return ("cold start: " if reply.cold_start else "") + (items or "(empty)")


def _profile_has(client: RecoClient, user_id: str, event_id: str) -> bool:
    try:
        return client.profile(user_id).last_event_id == event_id
    except grpc.RpcError:
        return False


def _profile_counts(client: RecoClient, user_id: str, events: int) -> bool:
    """True once the user's profile accounts for ``events`` events (learned or filtered).
    Events of different types travel on different topics, so the last one sent need not be
    the last one processed."""
    try:
        profile = client.profile(user_id)
    except grpc.RpcError:
        return False
    return profile.event_count + profile.filtered_events >= events


def _delivery(settings: Settings) -> str:
    """What a user's fresh answer waits for, in the demo's closing line."""
    if settings.upserts_at_least_once:
        seen = "lists and profiles are visible at once"
    else:
        seen = (f"lists and profiles are exactly-once, visible at the commit of a checkpoint "
                f"every {settings.checkpoint_interval_ms} ms")
    return (f"{seen}; a user's events are published at once while the job keeps up (within "
            f"{settings.profile_live_lag_ms} ms of their time), else at most every "
            f"{settings.profile_min_interval_ms} ms")


def watch_user(client: RecoClient, producer: EventProducer, events: list[Event],
               pause_ms: int) -> list[float]:
    """Sends one user's events live and measures event -> updated profile/list via gRPC.
    Each event waits a random part of ``pause_ms`` after the last was seen, as a shopper
    pauses: some come within the publication interval (published at once only while the job
    keeps up), and exactly-once outputs meet every phase of the checkpoint cycle."""
    user = events[0].user_id
    phase = random.Random(user)
    before = client.recommendations(user, 10)
    say(f"{user} before: {show(before)}")
    delays = []
    for event in events:
        time.sleep(phase.uniform(0, pause_ms / 1000))
        event = dataclasses.replace(event, ts=now_ms())
        sent = time.monotonic()
        producer.send(event)
        producer.flush()
        if poll(functools.partial(_profile_has, client, user, event.event_id)) is not None:
            delays.append(time.monotonic() - sent)
    after = client.recommendations(user, 10)
    profile = client.profile(user)
    liked = ", ".join(f"{c.category} {c.count:g}" for c in profile.category_counts[:3])
    say(f"{user} sent {len(events)} events ({liked or 'no category'}); after: {show(after)}")
    page = next((e.item_id for e in reversed(events) if e.item_id), None)
    if page:
        say(f"{user} on the page of {page}, similar items: "
            f"{show(client.similar(page, 5, user_id=user))}")
        basket = list(dict.fromkeys(e.item_id for e in events
                                    if e.event_type == "add_to_cart" and e.item_id)) or [page]
        say(f"{user} with {', '.join(basket)} in the cart, complements: "
            f"{show(client.complementary(basket, 5, user_id=user))}")
    if delays:
        say(f"{user} event -> updated profile and list via gRPC: median "
            f"{statistics.median(delays) * 1000:.0f} ms, max {max(delays) * 1000:.0f} ms")
    return delays


def read_topic(settings: Settings, topic: str, expected: int,
               timeout_s: float = 20.0) -> list[dict]:
    """Committed JSON records of ``topic`` from the start, until ``expected`` or the timeout."""
    consumer = KafkaConsumer(topic, bootstrap_servers=settings.kafka_bootstrap,
                             auto_offset_reset="earliest", consumer_timeout_ms=1000,
                             group_id=None, isolation_level="read_committed")
    found: list[dict] = []
    deadline = time.monotonic() + timeout_s
    while len(found) < expected and time.monotonic() < deadline:
        found += [json.loads(m.value) for m in consumer]
    consumer.close()
    return found


def show_quality(settings: Settings, sim: ShopperSimulation) -> None:
    filtered = read_topic(settings, settings.topic_filtered, 10**9, timeout_s=3)
    rules = Counter(f["rule"].split(":")[0] for f in filtered)
    flagged = {f["event"]["user_id"] for f in filtered if f["rule"] != "dwell_too_long"}
    ids = load_pseudonyms(settings)  # events.filtered names users by pseudonym
    bots = {ids.of(bot) for bot in sim.bot_user_ids()}
    say(f"events.filtered: {len(filtered)} events ({dict(rules)}); users flagged as bots: "
        f"{len(flagged)}, of the simulation's {len(bots)} bots {len(flagged & bots)} caught")


def show_profile(client: RecoClient, user: str) -> None:
    p = client.profile(user)
    prefs = ", ".join(f"{c} {v:.2f}" for c, v in sorted(p.category_preferences.items(),
                                                        key=lambda kv: -kv[1])[:3])
    say(f"{user} profile: {p.event_count} events, {p.sessions.count} session(s), RFM "
        f"{p.rfm.segment}, dwell z {p.dwell.zscore:+.2f}, prefers {prefs}; "
        f"{p.context.device_type}/{p.context.os}/{p.context.browser}, {p.context.country} "
        f"{p.context.day_part}; flags {list(p.flags) or 'none'}")


def replay(settings: Settings, sim: ShopperSimulation,
           watched: set[str]) -> tuple[int, float, tuple[str, int] | None]:
    """Sends every event but the watched users', the simulated day moved to end now (so the
    shoppers' pace, which the bot rules judge, is kept)."""
    start = time.monotonic()
    shift = now_ms() - sim.config.start_ms - sim.config.duration_ms
    per_user: Counter[str] = Counter()
    last_user = None
    with EventProducer(settings) as producer:
        count = 0
        for event in sim.events():
            if event.user_id not in watched:
                producer.send(dataclasses.replace(event, ts=event.ts + shift))
                per_user[event.user_id] += 1
                last_user = event.user_id
                count += 1
                if count % 2000 == 0:
                    say(f"  ... {count} events sent")
        for raw in BAD_EVENTS:
            producer.send_raw(f"{settings.event_topic_prefix}click", raw)
    last = (last_user, per_user[last_user]) if last_user is not None else None
    return count, time.monotonic() - start, last


def run_demo(settings: Settings, users: int, seed: int, watch: int) -> int:
    demo_dir = Path(settings.stack_dir).parent / "demo"
    if Path(settings.stack_dir).name != "demo":
        shutil.rmtree(demo_dir, ignore_errors=True)
        settings = settings.replace(stack_dir=str(demo_dir),
                                    checkpoint_dir=str(demo_dir / "checkpoints"),
                                    store_path=str(demo_dir / "store"))
    stack = Stack(settings)
    try:
        started = time.monotonic()
        stack.up(fresh=True)
        say(f"stack ready in {time.monotonic() - started:.0f} s: " + "; ".join(
            line.split(None, 1)[1] for line in stack.status().lines()))
        sim = ShopperSimulation(SimConfig(n_users=users, seed=seed, run_id=f"demo{now_ms()}"))
        shoppers = [u.user_id for u in sim.users if not u.is_bot]
        watched = set(shoppers[:watch])
        say(f"replaying the shopper simulation: {users} users ({len(sim.bot_user_ids())} bots), "
            f"{len(sim.items)} items, seed {seed}; holding back {', '.join(sorted(watched))}")
        count, seconds, last = replay(settings, sim, watched)
        say(f"sent {count} events and {len(BAD_EVENTS)} malformed ones in {seconds:.1f} s "
            f"({count / seconds:.0f} events/s)")
        with RecoClient(settings.grpc_addr) as client, EventProducer(settings) as producer:
            if last is not None:
                waited = poll(functools.partial(_profile_counts, client, *last), 120)
                if waited is not None:
                    say(f"the job caught up with the replay {waited:.1f} s after the last send "
                        f"({count / (seconds + waited):.0f} events/s end to end)")
            waited = poll(lambda: bool(client.recommendations("nobody-yet", 5).items), 60)
            say("cold-start list served after "
                + (f"{waited:.1f} s" if waited is not None else "no answer within 60 s"))
            per_user: dict[str, list[Event]] = {u: [] for u in watched}
            for event in sim.events():
                if event.user_id in watched and len(per_user[event.user_id]) < 12:
                    per_user[event.user_id].append(event)
            delays = [d for user in sorted(watched) for d in
                      watch_user(client, producer, per_user[user], 2 * max(
                          settings.profile_min_interval_ms, settings.checkpoint_interval_ms))]
            show_profile(client, sorted(watched)[0])
        show_quality(settings, sim)
        for letter in read_topic(settings, settings.topic_dlq, len(BAD_EVENTS)):
            say(f"dead letter ({letter['topic']}@{letter['offset']}): {letter['reason']}")
        if delays:
            ordered = sorted(delays)
            say(f"freshness over {len(delays)} events: p50 {ordered[len(ordered) // 2] * 1000:.0f}"
                f" ms, max {ordered[-1] * 1000:.0f} ms ({_delivery(settings)})")
        return 0
    except StartupError as exc:
        say(f"could not start: {exc}")
        return 1
    finally:
        say("stopping what the demo started")
        stack.down(only_started=True)
