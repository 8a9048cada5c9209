"""Settings: defaults, overridden by a TOML config file, overridden by environment variables.

Every setting ``name`` can be set in the config file as ``name = value`` (top level, or under any
table, e.g. ``[kafka]``) and in the environment as ``RECO_<NAME>`` (upper case). Two contract
variables keep their documented names: ``KAFKA_BOOTSTRAP`` and ``RECO_GRPC_ADDR``. The config file
is ``$RECO_CONFIG`` if set, else ``./reco.toml`` if it exists.

>>> s = load_settings(env={"KAFKA_BOOTSTRAP": "k:1", "RECO_JOB_PARALLELISM": "4"}, config_path=None)
>>> s.kafka_bootstrap, s.job_parallelism, s.grpc_addr
('k:1', 4, '127.0.0.1:50051')
"""

from __future__ import annotations

import dataclasses
import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[1]
CACHE_DIR = PROJECT_ROOT / ".cache"
FLINK_KAFKA_CONNECTOR = "flink-sql-connector-kafka-5.0.0-2.2.jar"

ENV_ALIASES = {"kafka_bootstrap": "KAFKA_BOOTSTRAP", "grpc_addr": "RECO_GRPC_ADDR"}


def _doc(text: str, default: Any) -> Any:
    return field(default=default, metadata={"doc": text})


@dataclass(frozen=True)
class Settings:
    kafka_bootstrap: str = _doc("Kafka bootstrap servers", "127.0.0.1:9092")
    grpc_addr: str = _doc("address the gRPC server listens on and clients call", "127.0.0.1:50051")
    admin_addr: str = _doc("address of the Admin service (EraseUser): keep it on localhost, it "
                           "has no authentication yet", "127.0.0.1:50052")
    event_topic_prefix: str = _doc("producers write events to <prefix><event_type>", "events.")
    topic_dlq: str = _doc("dead-letter topic: malformed events with the reason", "events.dlq")
    topic_filtered: str = _doc("events held back by data-quality rules", "events.filtered")
    topic_impressions: str = _doc("served responses (for the feedback loop)", "impressions")
    topic_recommendations: str = _doc("compacted: user id -> RecommendationList", "recommendations")
    topic_popular_lists: str = _doc("compacted: 'global' or 'segment:<n>' -> RecommendationList "
                                    "(the cold-start lists)", "popular_lists")
    topic_user_profiles: str = _doc("compacted: user id -> UserProfile", "user_profiles")
    topic_item_features: str = _doc("compacted: item id -> ItemFeatures", "item_features")
    topic_policy: str = _doc("compacted: shard -> PolicyParameters (the bandit's statistics)",
                             "policy")
    topic_segments: str = _doc("compacted: job instance -> SegmentModelSummary", "segments")
    topic_item_factors: str = _doc("compacted: chunk -> ItemFactorsChunk (reco train-factors)",
                                   "item_factors")
    topic_consent: str = _doc(
        "compacted: user id -> ConsentState, each user's consent as the job holds it", "consent")
    topic_erasure: str = _doc(
        "compacted: user id -> erasure request (`reco erase`, the Admin service); the job reads "
        "it as a source, so a restore from an older checkpoint replays it", "erasure")
    topic_erasure_done: str = _doc(
        "compacted: user id -> the last completion of her erasure, per store (job, servers)",
        "erasure.done")
    topic_items: str = _doc("compacted: item id -> Item (the product catalog; `reco items load`)",
                            "items")
    topic_imports: str = _doc("compacted: file digest -> what `reco import` sent from it",
                              "imports")
    topic_partitions: int = _doc("partitions of topics the project creates", 2)
    consumer_group: str = _doc(
        "Kafka consumer group of the job; its offsets commit with each checkpoint, and each "
        "start deletes them on the topics read as tables (catalog, item factors, erasure, "
        "segments), which a start reads whole where no checkpoint gives an offset (with Kafka "
        "ACLs, the job's principal needs Delete on the group as well as Read)", "reco-job")
    job_name: str = _doc("Flink job name (also the transactional-id prefix)", "reco-recommend")
    job_parallelism: int = _doc("parallelism of the Flink job", 2)
    checkpoint_interval_ms: int = _doc(
        "checkpoint interval; exactly-once output becomes visible at each checkpoint (500 ms "
        "was about 200 ms fresher at the median, with a less even p99: docs/benchmarks.md)",
        1000
    )
    checkpoint_unaligned: bool = _doc(
        "unaligned checkpoints: barriers overtake the records queued in the network buffers, so "
        "a checkpoint taken under a backlog does not wait for it (docs/benchmarks.md)", True)
    buffer_debloat: bool = _doc(
        "network buffer debloating: Flink sizes the in-flight buffers to what the operators "
        "process in about a second", True)
    upserts_at_least_once: bool = _doc(
        "write recommendations, profiles and consent states at-least-once, visible at once "
        "(freshness p50 ~150 ms instead of ~700-900), instead of at the next checkpoint's commit: "
        "keyed upserts, and servers never step consent back (docs/architecture.md: Delivery); "
        "false: exactly-once, as every other output", True)
    checkpoint_dir: str = _doc("where checkpoints are kept (the job resumes from the latest)",
                               str(CACHE_DIR / "checkpoints"))
    restart_attempts: int = _doc("fixed-delay restarts before the job fails (0: none)", 3)
    restart_delay_ms: int = _doc("delay between restarts", 2000)
    flink_rest_port: int = _doc("REST port of the job's Flink MiniCluster or of the standalone "
                                "cluster's JobManager (status, readiness, savepoints)", 8081)
    flink_rpc_port: int = _doc("RPC port of the standalone cluster's JobManager", 6123)
    cluster_taskmanagers: int = _doc("TaskManagers `reco cluster up` starts", 2)
    cluster_task_slots: int = _doc("task slots per TaskManager of the standalone cluster", 2)
    cluster_taskmanager_memory: str = _doc("process memory of each standalone TaskManager",
                                           "1600m")
    partition_discovery_ms: int = _doc("how often the job looks for new events.* topics", 10000)
    connector_jar: str = _doc("path of the Flink Kafka connector jar",
                              str(CACHE_DIR / "jars" / "flink" / FLINK_KAFKA_CONNECTOR))
    max_event_bytes: int = _doc("events larger than this go to the dead-letter topic", 65536)
    watermark_out_of_orderness_ms: int = _doc(
        "the source's watermark trails the latest Kafka log-append time by this", 5_000)
    watermark_max_drift_ms: int = _doc(
        "watermark alignment: a partition this far ahead of the slowest waits for it", 30_000)
    watermark_idle_ms: int = _doc(
        "a partition without records this long stops holding the watermark back", 10_000)
    allowed_lateness_ms: int = _doc(
        "an event further behind the watermark is counted as late (and still learned)",
        3_600_000)
    max_future_ms: int = _doc("events (and impressions) more than this ahead of the job's clock "
                              "go to the dead-letter topic", 3_600_000)
    dlq_raw_max_bytes: int = _doc("raw bytes kept in a dead-letter record (source offset kept)",
                                  65536)
    feature_engine: bool = _doc(
        "false runs the skeleton: de-duplication and trending lists without bot rules or "
        "profile features (to measure what the feature engine costs)", True)
    dedup_window: int = _doc("event ids remembered per user for de-duplication (4 bytes each)",
                             256)
    user_state_ttl_ms: int = _doc("per-user state expires after this long without events "
                                  "(retention: docs/privacy.md)", 90 * 86_400_000)
    erasure_ledger: int = _doc(
        "a user's latest contributions to the shared counts (item scores, co-occurrence, "
        "segment and country lists) kept so an erasure can take them back (~55 bytes each; "
        "0: none, an erasure leaves her counts to decay: docs/privacy.md)", 64)
    id_key_file: str = _doc(
        "the secret key of the pseudonymous user ids (at least 32 random bytes; every job and "
        "server the same); empty: <stack_dir>/id.key, which the local stack creates", "")
    consent_default: str = _doc(
        "consent to a purpose a user never stated: deny (opt-in: no per-user state, no "
        "counting, until the user grants it) or allow (opt-out)", "deny")
    raw_retention_ms: int = _doc(
        "how long raw records stay on the topics that hold them (events, impressions, the DLQ, "
        "filtered events): their retention.ms when `reco topics` creates them",
        30 * 86_400_000)
    recent_items: int = _doc("recently interacted items kept per user", 20)
    purchased_items: int = _doc("purchased items kept per user (excluded from lists unless "
                                "relisted)", 50)
    relist_purchased: bool = _doc(
        "the user's own bought items stay candidates, ranked by the revisit ranker, which "
        "learns from the events whether users come back to them (repeat purchases); false: "
        "bought items are never listed", True)
    windows: str = _doc("sliding windows of the profile, as window:bucket pairs",
                        "1h:15m,24h:6h,7d:1d")
    session_gap_ms: int = _doc("inactivity that ends a session", 1_800_000)
    preference_half_life_ms: int = _doc("half-life of category preferences", 7 * 86_400_000)
    affinity_items: int = _doc("items whose affinity is kept per user", 20)
    prior_weight: float = _doc("observations at which a user's own dwell statistics weigh as "
                               "much as the population's", 5.0)
    bot_max_per_second: int = _doc("more events in one second flag the user as a bot", 8)
    bot_max_per_minute: int = _doc("more events in one minute flag the user as a bot", 90)
    bot_max_repeats: int = _doc("more identical actions on one item in a row flag the user", 6)
    bot_repeat_window_ms: int = _doc("... within this span", 10_000)
    bot_max_dwell_ms: int = _doc("a longer dwell time is filtered as implausible", 1_800_000)
    require_purchase_price: bool = _doc("filter purchases that carry no price", True)
    bot_flag_ttl_ms: int = _doc("how long a flagged user's events are held out of the models",
                                3_600_000)
    reco_list_size: int = _doc("items the job publishes per user", 50)
    trending_half_life_ms: int = _doc("half-life of item trending scores", 3_600_000)
    trending_emit_ratio: float = _doc(
        "an item re-reports its score to its category after growing by this factor", 1.1)
    cooccurring_items: int = _doc("co-occurring items kept per item", 20)
    category_top_n: int = _doc("trending items kept per category", 50)
    top_emit_interval_ms: int = _doc("least time between two updates of a category's top list",
                                     1000)
    model_version: str = _doc("model version stamped on published lists", "trending-v1")
    store_path: str = _doc("rocksdict store of the serving process",
                           str(CACHE_DIR / "serving" / "store"))
    loader_poll_ms: int = _doc("loader poll timeout; extra serving workers catch up with the "
                               "loader's writes this often", 100)
    serving_ready_timeout_s: float = _doc(
        "health says NOT_SERVING until the loader has read every output topic to its end; "
        "after this many seconds without getting there (Kafka unreachable) it serves what "
        "its store holds (0: wait for ever)", 300.0)
    serving_workers: int = _doc(
        "gRPC server processes sharing the port (SO_REUSEPORT), to use more than one core: the "
        "first runs the loader, the others read its store as RocksDB secondaries", 1)
    profile_min_interval_ms: int = _doc(
        "a user's profile and list are published at most this often (processing time); the "
        "latest version always follows within this interval (0: after every event)", 1000)
    profile_live_lag_ms: int = _doc(
        "an event the user operator gets within this many ms of its own time (live, the job "
        "keeping up) is published at once, whatever profile_min_interval_ms; under a backlog "
        "the interval holds (0: always the interval)", 500)
    log_impressions: bool = _doc("log every response to the impressions topic", True)
    policy: str = _doc("the serving policy choosing the candidate mix: linear-ts, linucb, or "
                       "fixed:<mix> (no exploration)", "linear-ts")
    policy_seed: int = _doc("seed of the serving policy's random draws", 0)
    policy_exploration: float = _doc(
        "how widely linear-ts explores: its posterior draws' width in units of the estimated "
        "reward noise (v of Agrawal and Goyal)", 0.5)
    policy_shards: int = _doc("shards of the job's reward statistics (keys, so no hot key)", 4)
    policy_publish_interval_ms: int = _doc(
        "a shard publishes its statistics at most this often", 1000)
    attribution_window_ms: int = _doc(
        "events on a shown item within this time of the response are its rewards; shown "
        "items left untouched by then are zero rewards", 1_800_000)
    feedback_half_life_ms: int = _doc("a reward's weight halves with each half-life of delay",
                                      7 * 86_400_000)
    policy_half_life_ms: int = _doc(
        "the policy's statistics fade with this half-life, so recent feedback weighs more "
        "(0: never)", 14 * 86_400_000)
    reward_click: float = _doc("reward of a click on a shown item", 1.0)
    reward_wishlist: float = _doc("reward of a wishlist save of a shown item", 2.0)
    reward_add_to_cart: float = _doc("reward of an add-to-cart of a shown item", 3.0)
    reward_purchase: float = _doc("reward of a purchase of a shown item", 5.0)
    reward_skip: float = _doc("reward of a skip or dismissal of a shown item", -1.0)
    reward_view: float = _doc(
        "reward of a product view of a shown item: 0 when the shop sends clicks (a click's view "
        "would count twice); the click's reward when it sends views only", 0.0)
    reward_position_discount: bool = _doc(
        "a reward on the item shown at position p (0 first) counts 1/log2(p+2) of it, as NDCG "
        "counts a hit there, so the policy learns which mix puts what is engaged with first "
        "(false: every position counts fully)", True)
    segments: int = _doc("user segments (River k-means clusters)", 8)
    segment_publish_interval_ms: int = _doc(
        "each job instance publishes its segment sizes and centroids this often", 10_000)
    candidates_per_source: int = _doc("candidates per source in a user's published pool", 10)
    session_knn_sessions: int = _doc(
        "recent sessions each job instance indexes for the session-kNN candidate source "
        "(V-SKNN over the sessions it saw, in memory; 0: off)", 20_000)
    diversity: float = _doc("MMR re-ranking by category at serving: 0 off, up to 1", 0.0)
    repurchase_categories: str = _doc(
        "comma-separated categories whose bought items may be recommended again (consumables: "
        "every placement leaves out other bought items unless a request's filters include them)",
        "")
    grpc_grace_s: float = _doc("graceful-shutdown grace period of the gRPC server", 2.0)
    kafka_port: int = _doc("port of the local broker started by `make up`/`make run`", 9092)
    kafka_controller_port: int = _doc("KRaft controller port of the local broker", 9093)
    stack_dir: str = _doc("state of the local stack (broker data, logs, pids)",
                          str(CACHE_DIR / "stack"))

    def __post_init__(self) -> None:
        problem = setting_problem(self)
        if problem:
            raise ValueError(problem)

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


# The ranges numeric settings must be in. Any other number is a count, a size or a duration:
# 0 or more (0 turns some off, as their descriptions say).
SIGNED = {"policy_seed", "reward_click", "reward_wishlist", "reward_add_to_cart",
          "reward_purchase", "reward_skip", "reward_view"}
AT_LEAST_ONE = {"topic_partitions", "job_parallelism", "checkpoint_interval_ms",
                "partition_discovery_ms", "max_event_bytes", "dedup_window", "recent_items",
                "reco_list_size", "bot_max_per_second", "bot_max_per_minute", "bot_max_repeats",
                "cooccurring_items", "category_top_n", "loader_poll_ms", "serving_workers",
                "policy_shards", "segments", "candidates_per_source", "trending_emit_ratio",
                "cluster_taskmanagers", "cluster_task_slots"}
PORTS = {"flink_rest_port", "flink_rpc_port", "kafka_port", "kafka_controller_port"}
SHARES = {"diversity"}


CHOICES = {"consent_default": ("deny", "allow")}


def setting_problem(settings: Settings) -> str | None:
    """What is wrong with the first out-of-range numeric setting or a setting that is not one
    of its choices, or None."""
    for name, choices in CHOICES.items():
        if getattr(settings, name) not in choices:
            return (f"setting {name} ({env_name(name)}) is {getattr(settings, name)!r}: use "
                    f"one of {', '.join(choices)}")
    for f in fields(settings):
        value = getattr(settings, f.name)
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        if f.name in SIGNED:
            if not math.isfinite(value):
                return f"setting {f.name} ({env_name(f.name)}) is {value!r}: use a finite number"
            continue
        low, high = ((1, 65535) if f.name in PORTS else (0, 1) if f.name in SHARES
                     else (1, math.inf) if f.name in AT_LEAST_ONE else (0, math.inf))
        if not low <= value <= high:  # NaN fails too
            bounds = f"at least {low}" if high == math.inf else f"between {low} and {high}"
            return (f"setting {f.name} ({env_name(f.name)}) is {value!r}: it must be {bounds} "
                    f"({f.metadata['doc']})")
    return None


TRUE, FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def _coerce(name: str, raw: Any, kind: type) -> Any:
    try:
        if kind is bool and isinstance(raw, str):
            word = raw.strip().lower()
            if word not in TRUE + FALSE:
                raise ValueError(f"use one of {', '.join(TRUE + FALSE)}")
            return word in TRUE
        return kind(raw)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"setting {name}: cannot read {raw!r} as {kind.__name__} "
                         f"({exc})") from exc


def _flatten(doc: Mapping[str, Any]) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in doc.items():
        if isinstance(value, Mapping):
            flat.update(_flatten(value))
        else:
            flat[key] = value
    return flat


def env_name(name: str) -> str:
    return ENV_ALIASES.get(name, "RECO_" + name.upper())


def default_config_path(env: Mapping[str, str]) -> Path | None:
    if env.get("RECO_CONFIG"):
        return Path(env["RECO_CONFIG"])
    local = Path("reco.toml")
    return local if local.exists() else None


def load_settings(env: Mapping[str, str] | None = None,
                  config_path: Path | str | None = "default") -> Settings:
    """Defaults < config file < environment."""
    env = os.environ if env is None else env
    path = default_config_path(env) if config_path == "default" else config_path
    from_file: dict[str, Any] = {}
    if path is not None:
        with open(path, "rb") as fh:
            from_file = _flatten(tomllib.load(fh))
    known = {f.name: f for f in fields(Settings)}
    unknown = sorted(set(from_file) - set(known))
    if unknown:
        raise ValueError(f"config file {path}: unknown settings {unknown}; see `reco config`")
    values: dict[str, Any] = {}
    for name, f in known.items():
        kind = type(f.default)
        if name in from_file:
            values[name] = _coerce(name, from_file[name], kind)
        if env_name(name) in env:
            values[name] = _coerce(name, env[env_name(name)], kind)
    return Settings(**values)


def settings_or_exit(program: str) -> Settings:
    """``load_settings()`` for a command: a bad setting ends it with one line that names the
    setting and its variable, instead of a traceback."""
    try:
        return load_settings()
    except ValueError as exc:
        raise SystemExit(f"{program}: {exc}") from None


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment that makes a child process load exactly these settings."""
    return {env_name(f.name): str(getattr(settings, f.name)) for f in fields(Settings)}


def describe(settings: Settings) -> list[tuple[str, str, str, str]]:
    """(setting, env var, value, description) rows, for `reco config` and the README."""
    return [(f.name, env_name(f.name), str(getattr(settings, f.name)), f.metadata["doc"])
            for f in fields(Settings)]
