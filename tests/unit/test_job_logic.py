"""Pure pieces of the job's wiring: the topic pattern and the dead-letter record."""

import json
import re

from jobs.kafka_io import event_topic_pattern
from operators.parse import dead_letter
from reco.config import Settings


def test_topic_pattern_takes_event_topics_and_impressions_but_not_the_jobs_own():
    pattern = re.compile(event_topic_pattern(Settings()))
    for topic in ("events.click", "events.product_view", "events.dlq_archive", "events.new",
                  "impressions", "item_factors"):
        assert pattern.fullmatch(topic), topic
    for topic in ("events.dlq", "events.filtered", "recommendations", "eventsXclick", "events.",
                  "impressions2", "policy"):
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
