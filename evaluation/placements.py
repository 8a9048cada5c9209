"""``reco eval --placement similar|complementary|popular``: item-to-item next-event prediction
for the placements beside the personal list, replayed in time order on a real data set.

- ``similar``: a visitor on the page of item *i* interacts next (same session) with *j*: is *j*
  in the top 10 of *i*'s similar items?
- ``complementary``: a visitor with a basket (items carted or bought earlier in the session)
  adds *j*: is *j* in the basket's complements?
- ``popular``: a visitor buys (or carts) *j* of category *c*: is *j* in *c*'s top 10?

Each method answers before the event is learned. The system is the shipped code: the job's
quality step pairing items in sessions and baskets (userstep/step.py), its per-item step
(features/items.py) and category lists, the server's placements (userstep/placements.py) and
filters (userstep/filters.py), with the content model (online_models/content.py) over a catalog
made of what the data set says of its items (category, price), known from the start as a shop's
feed is, while the items' events stay hidden until they happen. Targets whose item had no event
before count as *new items*: only content and fallbacks can find them.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol

from evaluation.daily_factors import DailyFactors
from evaluation.metrics import Metrics
from evaluation.report import progress
from features.items import ItemState, Session, learn_signal, pair_in_session, report_step
from features.quality import BASKET_EVENTS
from features.trending import TopItems, offer_ranked
from online_models.content import ContentSimilarity
from online_models.mixes import PoolItem
from reco.config import Settings
from reco.decay import EVENT_WEIGHTS
from reco.events import Event
from reco.keys import CATEGORY_PREFIX, category_key
from reco.v1 import recommendations_pb2 as pb
from userstep.filters import Facts, Rules, select
from userstep.lists import popular_list
from userstep.placements import (
    FACTOR_EVIDENCE,
    complementary_items,
    popular_items,
    similar_items,
)
from userstep.step import UserStep

PLACEMENTS = ("similar", "complementary", "popular")
K = 10


class PlacementMethod(Protocol):
    name: str

    def learn(self, event: Event) -> None: ...
    def answer(self, placement: str, query: Sequence[str], k: int) -> list[str]: ...


def catalog_of(events: Sequence[Event]) -> dict[str, dict[str, Any]]:
    """What a shop's feed would say of each item, from the data set: its category and price."""
    catalog: dict[str, dict[str, Any]] = {}
    for event in events:
        if event.item_id is None:
            continue
        entry = catalog.setdefault(event.item_id, {"item_id": event.item_id})
        if event.category:
            entry.setdefault("category_path", [event.category])
        if event.price is not None:
            entry.setdefault("price", event.price)
    return catalog


class ShippedPlacements:
    name = "reco-stream (this system)"

    def __init__(self, settings: Settings, catalog: dict[str, dict[str, Any]],
                 factor_evidence: float = FACTOR_EVIDENCE, seed: int = 0) -> None:
        self.settings = settings
        self.factor_evidence = factor_evidence
        self.daily = DailyFactors(seed=seed)
        self.now_ms = 0
        self.step = UserStep(settings)
        self.quality: dict[str, Any] = {}
        self.items: dict[str, ItemState] = {}
        self.tops: dict[str, TopItems] = {}
        self.popular = TopItems(settings.reco_list_size)
        self.report_step = report_step(settings.trending_emit_ratio)
        self.content = ContentSimilarity(n=settings.cooccurring_items)
        for record in catalog.values():
            self.content.learn_one(record)
        self._content: dict[str, list[pb.ItemAffinity]] = {}  # the catalog does not change
        self.facts = {item: Facts(tuple(r.get("category_path", ())), price=r.get("price"))
                      for item, r in catalog.items()}

    def learn(self, event: Event) -> None:
        checked, self.quality[event.user_id] = self.step.check(
            self.quality.get(event.user_id), event)
        self.now_ms = max(self.now_ms, event.ts)
        if checked.rule is None:
            self.daily.learn(event)
        for signal in checked.item_signals:
            state = self.items.get(signal.item_id)
            if state is None:
                state = self.items[signal.item_id] = ItemState(
                    self.settings.trending_half_life_ms, self.settings.cooccurring_items)
            offers, _ = learn_signal(state, signal, self.report_step)
            for offer in offers:
                if not offer.key.startswith(CATEGORY_PREFIX):
                    continue
                top = self.tops.setdefault(offer.key, TopItems(self.settings.category_top_n))
                top.offer(offer.item_id, offer.score)
                offer_ranked(self.popular, [(offer.item_id, offer.score)])

    def answer(self, placement: str, query: Sequence[str], k: int) -> list[str]:
        fallback = [self._list(category_key(self.facts[query[0]].category_path[0]))
                    if placement != "popular" and self.facts.get(query[0], Facts()).category_path
                    else None, self._list()]
        lists = [found for found in fallback if found is not None]
        candidates: Iterable[PoolItem]
        if placement == "similar":
            factors = self.daily.current(self.now_ms) if self.factor_evidence > 0 else None
            candidates = similar_items(query[0], self._features(query[0]),
                                       self._similar_content(query[0]),
                                       lambda item: item in self.items, lists,
                                       factors.similar(query[0], self.settings.cooccurring_items)
                                       if factors is not None else (),
                                       self.factor_evidence)
        elif placement == "complementary":
            candidates = complementary_items(query, self._features, self.facts.get, lists)
        else:
            wanted = self._list(category_key(query[0]))
            candidates = popular_items([wanted] if wanted else [], lists)
        chosen = select(candidates, k, Rules(excluded_items=frozenset(query)), self.facts.get)
        return [item for item, *_ in chosen]

    def _features(self, item: str) -> pb.ItemFeatures | None:
        state = self.items.get(item)
        return state.to_proto(item, 0) if state is not None else None

    def _similar_content(self, item: str) -> list[pb.ItemAffinity]:
        found = self._content.get(item)
        if found is None:
            found = self._content[item] = [pb.ItemAffinity(item_id=i, affinity=s)
                                           for i, s in self.content.predict_one({"item_id": item})]
        return found

    def _list(self, key: str | None = None) -> pb.RecommendationList | None:
        top = self.popular if key is None else self.tops.get(key)
        if top is None:
            return None
        _, raw = popular_list(key or "popular", top.ranked(), self.settings.reco_list_size,
                              "", 0)
        return pb.RecommendationList.FromString(raw)


class Baseline:
    """Plain counts, for comparison: what co-occurs in sessions and baskets, and what is
    popular overall and per category (interactions weighted as the system weighs them)."""

    def __init__(self, name: str, gap_ms: int, catalog: dict[str, dict[str, Any]],
                 rank: str, seed: int = 0) -> None:
        self.name, self.gap_ms, self.rank = name, gap_ms, rank
        self.category = {item: (r.get("category_path") or [""])[0] for item, r in catalog.items()}
        self.sessions: dict[str, Session] = {}
        self.pairs: dict[str, Counter[str]] = defaultdict(Counter)
        self.baskets: dict[str, Counter[str]] = defaultdict(Counter)
        # weighted interactions, overall and per category
        self.by_category: defaultdict[str, dict[str, float]] = defaultdict(dict)
        self.overall: dict[str, float] = {}
        self.seen: list[str] = []
        self.random = random.Random(seed)

    def learn(self, event: Event) -> None:
        item = event.item_id
        weight = EVENT_WEIGHTS.get(event.event_type, 0.0)
        if item is None or weight <= 0:
            return
        paired = pair_in_session(self.sessions.get(event.user_id, (0, None)), item, event.ts,
                                 self.gap_ms, event.event_type in BASKET_EVENTS)
        self.sessions[event.user_id] = paired.session
        if paired.previous is not None:
            self.pairs[paired.previous][item] += 1
            self.pairs[item][paired.previous] += 1
        for other in paired.basket:
            self.baskets[other][item] += 1
            self.baskets[item][other] += 1
        if item not in self.overall:
            self.seen.append(item)
        self.overall[item] = self.overall.get(item, 0.0) + weight
        counts = self.by_category[self.category.get(item, "")]
        counts[item] = counts.get(item, 0.0) + weight

    def answer(self, placement: str, query: Sequence[str], k: int) -> list[str]:
        if self.rank == "random":
            return self.random.sample(self.seen, min(k, len(self.seen)))
        if self.rank == "category":
            category = query[0] if placement == "popular" else self.category.get(query[0], "")
            return _top(self.by_category.get(category, {}), k, query)
        if placement == "popular":
            return _top(self.overall, k, query)
        counts = self.pairs if placement == "similar" else self.baskets
        summed: Counter[str] = Counter()
        for item in query:
            summed.update(counts.get(item, Counter()))
        return _top(summed, k, query)


def _top(counts: Mapping[str, float], k: int, left_out: Sequence[str]) -> list[str]:
    ranked = sorted(counts, key=lambda item: (-counts[item], item))
    return [item for item in ranked if item not in left_out][:k]


def targets_of(events: Sequence[Event], placement: str, gap_ms: int
               ) -> Callable[[Event], tuple[list[str], str] | None]:
    """A function giving, for each event in order, its (query, target) in this placement, or
    None. It keeps each user's session as it goes, so call it once per event."""
    sessions: dict[str, Session] = {}
    buys = any(e.event_type == "purchase" for e in events)
    wanted = {"purchase"} if buys else {"add_to_cart"}

    def target(event: Event) -> tuple[list[str], str] | None:
        item = event.item_id
        if item is None or EVENT_WEIGHTS.get(event.event_type, 0.0) <= 0:
            return None
        paired = pair_in_session(sessions.get(event.user_id, (0, None)), item, event.ts,
                                 gap_ms, event.event_type in BASKET_EVENTS)
        sessions[event.user_id] = paired.session
        if placement == "similar" and paired.previous is not None:
            return [paired.previous], item
        if placement == "complementary" and paired.basket:
            return list(paired.basket), item
        if placement == "popular" and event.event_type in wanted and event.category:
            return [event.category], item
        return None

    return target


def evaluate(events: Sequence[Event], placement: str, settings: Settings, seed: int = 0
             ) -> dict[str, Any]:
    """HR, NDCG and MRR at 5, 10, 20 per method, overall and for new items."""
    catalog = catalog_of(events)
    gap = settings.session_gap_ms
    methods: list[PlacementMethod] = [
        ShippedPlacements(settings, catalog),
        Baseline("global popular" if placement == "popular" else "co-occurrence only", gap,
                 catalog, "counts"),
        Baseline("same-category popular", gap, catalog, "category"),
        Baseline("random", gap, catalog, "random", seed)]
    metrics = {m.name: Metrics() for m in methods}
    target_of = targets_of(events, placement, gap)
    seen: set[str] = set()
    for n, event in enumerate(events):
        found = target_of(event)
        if found is not None:
            query, item = found
            for method in methods:
                metrics[method.name].add(method.answer(placement, query, 20), item,
                                         returning=item in seen)
        for method in methods:
            method.learn(event)
        if event.item_id is not None:
            seen.add(event.item_id)
        if n % 20_000 == 0:
            progress(f"{placement}: {n:,}/{len(events):,} events, "
                     f"{len(metrics[methods[0].name].ranks['all']):,} targets")
    popularity = Counter(e.item_id for e in events if e.item_id)
    return {name: m.summary(len(catalog), popularity) for name, m in metrics.items()}


def report(events: Sequence[Event], placement: str, settings: Settings, dataset: str,
           command: str, seed: int = 0) -> str:
    """Evaluates one placement and writes reports/eval-<placement>-<dataset>/ (Markdown, JSON,
    PNG); returns the table."""
    from evaluation.report import machine, markdown_table, pyplot, report_dir, write_json

    result = evaluate(events, placement, settings, seed)
    rows = [[name, s["all"]["targets"], s["all"]["hr@10"], s["all"]["mrr@10"],
             s["new"]["targets"], s["new"]["hr@10"], s["new"]["mrr@10"], s["coverage"]]
            for name, s in result.items()]
    table = markdown_table(["method", "targets", "HR@10", "MRR@10", "new-item targets",
                            "new-item HR@10", "new-item MRR@10", "coverage"], rows)
    folder = report_dir(f"eval-{placement}-{dataset}")
    write_json(folder, "report", {"command": command, "machine": machine(),
                                  "placement": placement, "events": len(events),
                                  "summary": result})
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 3.5))
    names = list(result)
    for offset, (group, label) in enumerate((("all", "all targets"), ("new", "new items"))):
        ax.barh([i + 0.4 * offset for i in range(len(names))],
                [result[n][group]["hr@10"] for n in names], height=0.4, label=label)
    ax.set_yticks([i + 0.2 for i in range(len(names))], names)
    ax.set_xlabel("HR@10")
    ax.set_title(f"{placement} on {dataset}")
    ax.legend()
    fig.tight_layout()
    fig.savefig(folder / "report.png", dpi=120)
    plt.close(fig)
    (folder / "report.md").write_text("\n\n".join([
        f"# Placement evaluation: {placement} on {dataset}", f"`{command}` on {machine()}",
        __doc__ or "", table, "![HR@10](report.png)"]) + "\n")
    progress(f"wrote {folder}/report.md, report.json and report.png")
    return table
