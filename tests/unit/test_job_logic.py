"""Pure pieces of the job's wiring: the topic pattern and the dead-letter record."""

import json
import re

from jobs.kafka_io import compacted_topic_pattern, event_topic_pattern
from jobs.recommend import restore_problem
from operators.parse import dead_letter
from reco.config import Settings


def test_topic_pattern_takes_event_topics_and_impressions_but_not_the_jobs_own():
    pattern = re.compile(event_topic_pattern(Settings()))
    for topic in ("events.click", "events.product_view", "events.dlq_archive", "events.new",
                  "impressions"):
        assert pattern.fullmatch(topic), topic
    for topic in ("events.dlq", "events.filtered", "recommendations", "eventsXclick", "events.",
                  "impressions2", "policy", "item_factors", "erasure"):
        assert not pattern.fullmatch(topic), topic


def test_the_compacted_topics_the_job_reads_whole_are_the_models_catalog_and_erasures():
    pattern = re.compile(compacted_topic_pattern(Settings()))
    for topic in ("item_factors", "items", "erasure", "segments", "shared_lists"):
        assert pattern.fullmatch(topic), topic
    for topic in ("events.click", "impressions", "erasure.done", "recommendations",
                  "popular_lists", "items2", "policy"):
        assert not pattern.fullmatch(topic), topic


def test_dead_letter_keeps_reason_source_and_raw_bytes():
    record = json.loads(dead_letter("bad", b"{oops", {"topic": "events.click", "partition": 1,
                                                      "offset": 7}, keep_bytes=100))
    assert record["reason"] == "bad"
    assert (record["topic"], record["partition"], record["offset"]) == ("events.click", 1, 7)
    assert record["raw"] == "{oops" and record["raw_truncated"] is False


def test_dead_letter_of_binary_or_huge_records():
    record = json.loads(dead_letter("x", b"\xff" * 10, {}, keep_bytes=4))
    assert record["raw_base64"] == "/////w==" and record["raw_bytes"] == 10
    assert record["raw_truncated"] is True


def test_a_state_this_version_cannot_take_over_says_what_to_do():
    java = ("java.lang.IllegalStateException: Failed to rollback to checkpoint/savepoint "
            "file:/ck/chk-9. Cannot map checkpoint/savepoint state for operator 3a1f to the "
            "new program, because the operator is not available in the new program.")
    problem = restore_problem(RuntimeError(java))
    assert problem is not None and "--fresh" in problem and "reco import" in problem
    assert restore_problem(RuntimeError("Connection refused")) is None
