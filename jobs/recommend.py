"""The recommendation job: Kafka events.* -> pipeline -> recommendations, user_profiles, events.dlq.

Run: ``python -m jobs.recommend`` (settings from the environment and reco.toml; see README), or
submit it to a Flink cluster with ``flink run --python jobs/recommend.py``.
"""

from __future__ import annotations

import argparse
import logging

from pyflink.table import StreamTableEnvironment

from infra.flink_rest import savepoint_problem
from jobs.environment import make_environment
from jobs.kafka_io import create_dead_letter_sink, create_keyed_sink, create_source
from jobs.pipeline import build_pipeline
from reco.config import Settings, settings_or_exit
from reco.pseudonyms import load_pseudonyms
from reco.topics import forget_table_offsets


def run(settings: Settings, *, restore: bool = True, savepoint: str | None = None) -> None:
    env = make_environment(settings, restore=restore, savepoint=savepoint)
    t_env = StreamTableEnvironment.create(env)
    create_source(t_env, settings, "events_source")
    # the watermark comes from the source; the log time itself is not needed past it
    raw = t_env.to_data_stream(t_env.sql_query(
        "SELECT `value`, `topic`, `partition`, `offset` FROM events_source"))
    outputs = build_pipeline(raw, settings)
    upserts = settings.upserts_at_least_once
    create_keyed_sink(t_env, settings, "recommendations_sink", settings.topic_recommendations,
                      at_least_once=upserts)
    create_keyed_sink(t_env, settings, "popular_sink", settings.topic_popular_lists,
                      parallelism=1)
    create_keyed_sink(t_env, settings, "profiles_sink", settings.topic_user_profiles,
                      at_least_once=upserts)
    create_keyed_sink(t_env, settings, "filtered_sink", settings.topic_filtered)
    create_keyed_sink(t_env, settings, "item_features_sink", settings.topic_item_features)
    create_keyed_sink(t_env, settings, "policy_sink", settings.topic_policy)
    create_keyed_sink(t_env, settings, "segments_sink", settings.topic_segments)
    # on the upserts' path: a withdrawal reaches the servers with her tombstones, not a
    # checkpoint later (the loader never steps consent back: serving/consent.py)
    create_keyed_sink(t_env, settings, "consent_sink", settings.topic_consent,
                      at_least_once=upserts)
    create_keyed_sink(t_env, settings, "erasures_done_sink", settings.topic_erasure_done)
    create_dead_letter_sink(t_env, settings, "dead_letters_sink")
    statements = t_env.create_statement_set()
    statements.add_insert("recommendations_sink", t_env.from_data_stream(outputs.recommendations))
    statements.add_insert("popular_sink", t_env.from_data_stream(outputs.popular))
    statements.add_insert("profiles_sink", t_env.from_data_stream(outputs.profiles))
    statements.add_insert("filtered_sink", t_env.from_data_stream(outputs.filtered))
    statements.add_insert("item_features_sink", t_env.from_data_stream(outputs.item_features))
    statements.add_insert("policy_sink", t_env.from_data_stream(outputs.policy))
    statements.add_insert("segments_sink", t_env.from_data_stream(outputs.segments))
    statements.add_insert("consent_sink", t_env.from_data_stream(outputs.consent))
    statements.add_insert("erasures_done_sink", t_env.from_data_stream(outputs.erasures_done))
    statements.add_insert("dead_letters_sink", t_env.from_data_stream(outputs.dead_letters))
    statements.attach_as_datastream()
    # what no checkpoint gives an offset for is read from the beginning, never from the
    # group's offsets: a restore must not skip an erasure request (reco/topics.py)
    forget_table_offsets(settings)
    env.execute(settings.job_name)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m jobs.recommend",
        description="Run the recommendation job on a local Flink MiniCluster (thread mode, "
                    "RocksDB, exactly-once). Settings come from the environment and reco.toml.")
    parser.add_argument("--fresh", action="store_true",
                        help="ignore retained checkpoints and start with empty state")
    parser.add_argument("--from-savepoint", metavar="PATH",
                        help="start from this savepoint (`reco savepoint` prints its path), "
                             "e.g. at another parallelism (RECO_JOB_PARALLELISM)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s job %(message)s")
    settings = settings_or_exit("jobs.recommend")
    logging.info("starting %s on %s (parallelism %d)", settings.job_name,
                 settings.kafka_bootstrap, settings.job_parallelism)
    problem = savepoint_problem(args.from_savepoint)
    if problem:
        parser.error(problem)
    try:
        load_pseudonyms(settings)  # every subtask reads it at open(): fail here, once, clearly
    except ValueError as exc:
        raise SystemExit(f"jobs.recommend: {exc}") from None
    run(settings, restore=not args.fresh, savepoint=args.from_savepoint)


if __name__ == "__main__":
    main()
