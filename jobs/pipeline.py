"""The recommendation dataflow, independent of where records come from and go to.

raw rows (value, topic, partition, offset)
  -> parse + validate (chained to the source), each user id replaced by its pseudonym
     (reco/pseudonyms.py) ------------------------------------------> dead letters (JSON strings)
     (parse and quality emit (key, value) rows that Java keys: see ``keyed``)
  -> quality (key: user_id): first the consent gate (the user step's admit: no per-user state
     without consent to personalization; a withdrawal or an erasure request, read from the
     erasure topic, forgets the user) --------------------------------> consent
     then the user step's check: drop redelivered event ids (the user's last ones), bot and
     noise rules -------------------------------------------------> filtered
  -> item signals of clean events (interactions, session co-occurrences)
     -> per item (key: item_id): trending score, popularity, velocity, co-occurring items
        -------------------------------------------------------> item features
       -> per category: top list (key: category, throttled)
            -> global popular list (one key, fed by the throttled category lists only)
       the category and popular lists are broadcast to the user operator
  -> per user (key: user_id, the user step's learn and publish): the profile (features/) and
     the user's segment, at most once a second; the candidate pool when it changes;
     impressions (from the impressions topic, read with the events) joined with the user's
     later events into rewards. A user's events keep
     their partition order through both keyed steps.
       -> rewards per shard (key: hash of the request id): the bandit's statistics, published
          at most once a second
Outputs rows (key, value bytes): per-user pools; on the popular-lists topic the "global" list
(one writer) and "segment:<n>" lists (what each segment's users like: cold start by context),
and "country:<code>" lists, profiles, filtered events, item features, policy statistics and
segment summaries, each user's consent and the job's erasure reports (erasure.done); and
dead-letter strings.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pyflink.common import Row, Types
from pyflink.datastream import DataStream, KeyedStream, OutputTag
from pyflink.datastream.functions import ProcessFunction, RuntimeContext
from pyflink.java_gateway import get_gateway

from operators.guard import DEAD_LETTERS, dead_letter_on_error, failure_counter
from operators.items import ITEM_FEATURES, ItemTrending
from operators.parse import CATALOG_ENTRIES, SHARED_MODELS, ParseEvents
from operators.policy import PolicyLearner
from operators.quality import CONSENT, FILTERED, ITEM_SIGNALS, QualityFilter
from operators.state import KEYED_BYTES, KEYED_PICKLED, TOP_LISTS
from operators.top_lists import CategoryTop, PopularMerge, SegmentTop
from operators.users import (
    ERASURES_DONE,
    LISTS,
    PROFILES,
    REWARDS,
    SEGMENT_SIGNALS,
    SEGMENT_SUMMARIES,
    RouteOutputs,
    UserRecommendations,
)
from reco.clock import now_ms
from reco.config import Settings
from reco.keys import POPULAR_LIST, is_ranking_key
from reco.records import Removed
from userstep.lists import popular_list

RAW_RECORD = Types.ROW_NAMED(["value", "topic", "partition", "offset"],
                             [Types.PRIMITIVE_ARRAY(Types.BYTE()), Types.STRING(), Types.INT(),
                              Types.LONG()])
PICKLED = Types.PICKLED_BYTE_ARRAY()


@dataclass
class Outputs:
    recommendations: DataStream  # Row(key, value): RecommendationList bytes, per user
    popular: DataStream          # Row("global" or "segment:<n>", RecommendationList bytes)
    profiles: DataStream         # Row(key, value): UserProfile bytes
    dead_letters: DataStream     # JSON strings
    filtered: DataStream         # Row(key, value): JSON of the event and the rule that fired
    item_features: DataStream    # Row(key, value): ItemFeatures bytes
    policy: DataStream           # Row(shard, PolicyParameters bytes)
    segments: DataStream         # Row(instance, SegmentModelSummary bytes)
    consent: DataStream          # Row(user id, ConsentState bytes or None: erased)
    erasures_done: DataStream    # Row(user id, the job's erasure completion record)


class PopularListRow(ProcessFunction):
    """(key, ranked) -> Row(key, RecommendationList bytes) for the popular-lists topic
    (userstep.lists.popular_list)."""

    def __init__(self, settings: Settings) -> None:
        self.size = settings.reco_list_size
        self.model_version = settings.model_version

    def open(self, runtime_context: RuntimeContext) -> None:
        self.failures = failure_counter(runtime_context)

    @dead_letter_on_error("popular-list")
    def process_element(self, value: Any, ctx: ProcessFunction.Context) -> Iterator[Any]:
        key, ranked = value
        if isinstance(ranked, Removed):
            return  # for the global list's merge only (operators/top_lists.py: CategoryTop)
        yield Row(*popular_list(key, ranked, self.size, self.model_version, now_ms()))


def keyed(rows: DataStream) -> KeyedStream:
    """KEYED_PICKLED ``rows`` keyed by their first field, in Java. ``DataStream.key_by`` would
    add a Python operator that builds these very rows, one call and a pickling round trip of
    the value per record; the operators here emit them themselves."""
    j_keyed = rows._j_data_stream.keyBy(get_gateway().jvm.KeyByKeySelector(),
                                        Types.ROW([Types.STRING()]).get_java_type_info())
    return KeyedStream(j_keyed, PICKLED, rows)


def side_output(stream: DataStream, tag: OutputTag) -> DataStream:
    """The records of ``tag`` as the operator emitted them (``get_side_output`` adds a Python
    identity map, another call per record)."""
    return DataStream(stream._j_data_stream.getSideOutput(tag.get_java_output_tag()))


def dead_letters(*operators: DataStream) -> DataStream:
    """Every operator's dead letters: records it could not parse or whose processing raised
    (operators/guard.py). A quality step that the skeleton lacks is passed as the parser."""
    unique = list({id(op): op for op in operators}.values())
    letters = [side_output(op, DEAD_LETTERS) for op in unique]
    return letters[0].union(*letters[1:])


def build_pipeline(raw: DataStream, settings: Settings,
                   user_operator: type[UserRecommendations] = UserRecommendations) -> Outputs:
    """The dataflow from raw records; ``user_operator`` is the per-user function's class (a
    subclass in tests that inject failures)."""
    s = settings
    parsed = raw.process(ParseEvents(s.max_event_bytes, s.dlq_raw_max_bytes,
                                     impressions_topic=s.topic_impressions,
                                     factors_topic=s.topic_item_factors,
                                     max_future_ms=s.max_future_ms,
                                     items_topic=s.topic_items,
                                     erasure_topic=s.topic_erasure,
                                     segments_topic=s.topic_segments, ids_from=s),
                         output_type=KEYED_PICKLED).name("parse").uid("parse")
    checked = (keyed(parsed).process(QualityFilter(s), output_type=KEYED_PICKLED)
               .name("quality").uid("quality"))
    # the catalog joins the item signals in the per-item operator's keyed state
    item_inputs = side_output(checked, ITEM_SIGNALS).union(side_output(parsed, CATALOG_ENTRIES))
    scores = (keyed(item_inputs)
              .process(ItemTrending(s.trending_half_life_ms, s.user_state_ttl_ms,
                                    s.trending_emit_ratio, s.cooccurring_items),
                       output_type=PICKLED).name("item-features").uid("item-features"))
    category_tops = (scores.key_by(lambda offer: offer.key, key_type=Types.STRING())
                     .process(CategoryTop(s.category_top_n, s.top_emit_interval_ms),
                              output_type=PICKLED).name("category-top").uid("category-top"))
    popular = (category_tops.key_by(lambda _: POPULAR_LIST, key_type=Types.STRING())
               .process(PopularMerge(s.reco_list_size, s.top_emit_interval_ms),
                        output_type=PICKLED)
               .name("popular").uid("popular").set_parallelism(1))
    # top lists, item factor chunks and the instances' segment models (read back from the
    # segments topic), to every instance of the user operator (the views and
    # purchases rankings serve the popular placement only: they are published, not broadcast)
    broadcast_tops = category_tops.filter(lambda top: not is_ranking_key(top[0])
                                          and not isinstance(top[1], Removed))
    top_lists = broadcast_tops.union(popular, side_output(parsed, SHARED_MODELS)) \
        .broadcast(TOP_LISTS)
    users = (keyed(checked)
             .connect(top_lists)
             .process(user_operator(s), output_type=PICKLED)
             .name("user-recommendations").uid("user-recommendations"))
    # One writer for the one key, chained to its producer, so versions cannot overtake.
    popular_rows = (popular.process(PopularListRow(s), output_type=KEYED_BYTES)
                    .name("popular-list").set_parallelism(1))
    routed = users.process(RouteOutputs(), output_type=PICKLED).name("route-outputs")
    segment_top = (keyed(side_output(users, SEGMENT_SIGNALS))
                   .process(SegmentTop(s.reco_list_size, s.top_emit_interval_ms,
                                       s.trending_half_life_ms), output_type=PICKLED)
                   .name("segment-top").uid("segment-top"))
    segment_lists = (segment_top.process(PopularListRow(s), output_type=KEYED_BYTES)
                     .name("segment-lists"))
    # each category's lists from the subtask that owns the category, chained: in order
    category_lists = (category_tops.process(PopularListRow(s), output_type=KEYED_BYTES)
                      .name("category-lists"))
    # No uid: with the pinned PyFlink, a uid here stops the job at start with a "hash collision"
    # on it, so this operator's state does not restore across changes to the graph around it.
    policy = (keyed(side_output(routed, REWARDS))
              .process(PolicyLearner(s), output_type=KEYED_BYTES)
              .name("policy-learner"))
    return Outputs(recommendations=side_output(routed, LISTS),
                   popular=popular_rows.union(segment_lists, category_lists),
                   profiles=side_output(routed, PROFILES),
                   policy=policy,
                   segments=side_output(routed, SEGMENT_SUMMARIES),
                   dead_letters=dead_letters(parsed, checked, users, scores, category_tops,
                                             popular,
                                             routed, popular_rows, segment_top,
                                             segment_lists, category_lists, policy),
                   filtered=side_output(checked, FILTERED),
                   consent=side_output(checked, CONSENT),
                   erasures_done=side_output(routed, ERASURES_DONE),
                   item_features=side_output(scores, ITEM_FEATURES))
