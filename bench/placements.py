"""What a placement and its filters cost the server: each answer's Python time (the servicer's
answer logic over a real store, no network), against the personal list without filters
measured in the same run (the machines are shared: the ratios are what to compare).

  python -m bench.placements [--items 5000] [--requests 2000]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from typing import Any

from bench.common import percentile, write_results
from reco.arguments import positive_int
from reco.config import Settings
from reco.keys import GLOBAL_LIST, category_key
from reco.v1 import recommendations_pb2 as pb
from reco.v1.catalog_pb2 import Item
from serving.content import ContentIndex
from serving.loader import availability_change
from serving.servicer import RecommendationsServicer
from serving.store import CATALOG, ITEMS, POPULAR_LISTS, PROFILES, RECOMMENDATIONS, Change, Store

CATEGORIES = [f"c{n}" for n in range(40)]
FILTERS = pb.Filters(max_price=120.0, exclude_brands=["b1"], max_per_category=2,
                     promotion=pb.Promotion(label="sale", min_items=2),
                     exclude_viewed_minutes=30)


def fill(store: Store, items: int, users: int, rng: random.Random) -> None:
    """A catalog, item features with session and basket neighbours, lists, profiles."""
    ids = [f"i{n}" for n in range(items)]
    changes: list[Change] = []
    index = ContentIndex(store, n=20)
    for item in ids:
        record = Item(item_id=item, title=f"item {rng.choice(['red', 'blue', 'wool'])} shoe",
                      category_path=["Shop", rng.choice(CATEGORIES)], brand=f"b{rng.randrange(9)}",
                      price=rng.uniform(1, 300), labels=["sale"] if rng.random() < 0.2 else [])
        raw = record.SerializeToString()
        changes += [Change(CATALOG, item, raw), availability_change(item, raw)]
        index.update(item, raw)
        features = pb.ItemFeatures(item_id=item, category=record.category_path[-1], co_occurring=[
            pb.ItemAffinity(item_id=o, affinity=rng.randrange(1, 9)) for o in rng.sample(ids, 20)],
            bought_with=[pb.ItemAffinity(item_id=o, affinity=rng.randrange(1, 5))
                         for o in rng.sample(ids, 10)])
        changes.append(Change(ITEMS, item, features.SerializeToString()))
    changes += index.flush()
    for key in [GLOBAL_LIST, *(category_key(c) for c in CATEGORIES)]:
        listing = pb.RecommendationList(items=[pb.RecommendedItem(item_id=i, score=1.0 / (n + 1))
                                               for n, i in enumerate(rng.sample(ids, 50))])
        changes.append(Change(POPULAR_LISTS, key, listing.SerializeToString()))
    now = int(time.time() * 1000)
    for n in range(users):
        mine = rng.sample(ids, 30)
        pool = [pb.RecommendedItem(item_id=i, score=rng.random(), source=s, reason=s)
                for i, s in zip(mine, ["recent"] * 10 + ["category"] * 10 + ["popular"] * 10,
                                strict=True)]
        changes += [Change(RECOMMENDATIONS, f"u{n}", pb.RecommendationList(
                        user_id=f"u{n}", items=pool, excluded_item_ids=mine[:3]
                    ).SerializeToString()),
                    Change(PROFILES, f"u{n}", pb.UserProfile(
                        user_id=f"u{n}", recent_item_ids=mine[:10], purchased_item_ids=mine[:3],
                        recent_item_ts_ms=[now - 60_000 * m for m in range(10)]
                    ).SerializeToString())]
    store.apply(changes, {})


def timed(call: Callable[[int], Any], requests: int) -> list[float]:
    out = []
    for n in range(requests):
        start = time.perf_counter()
        call(n)
        out.append((time.perf_counter() - start) * 1e6)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.placements", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=positive_int, default=5_000)
    parser.add_argument("--users", type=positive_int, default=500)
    parser.add_argument("--requests", type=positive_int, default=2_000)
    args = parser.parse_args(argv)
    rng = random.Random(7)
    store = Store(tempfile.mkdtemp(prefix="bench-placements-") + "/db")
    print(f"filling a store: {args.items:,} catalog items, {args.users:,} users", flush=True)
    fill(store, args.items, args.users, rng)
    servicer = RecommendationsServicer(store, Settings(policy="fixed:personal"))
    user = [f"u{rng.randrange(args.users)}" for _ in range(args.requests)]
    item = [f"i{rng.randrange(args.items)}" for _ in range(args.requests)]
    cases: dict[str, Callable[[int], Any]] = {
        "personal": lambda n: servicer.recommend(pb.GetRecommendationsRequest(
            user_id=user[n], k=10)),
        "personal + filters": lambda n: servicer.recommend(pb.GetRecommendationsRequest(
            user_id=user[n], k=10, filters=FILTERS)),
        "similar": lambda n: servicer.similar(pb.GetSimilarItemsRequest(item_id=item[n], k=10)),
        "similar + user + filters": lambda n: servicer.similar(pb.GetSimilarItemsRequest(
            item_id=item[n], k=10, user_id=user[n], filters=FILTERS)),
        "complementary (3 items)": lambda n: servicer.complementary(
            pb.GetComplementaryItemsRequest(item_ids=[item[n], item[n - 1], item[n - 2]], k=10)),
        "popular (category) + filters": lambda n: servicer.popular(pb.GetPopularItemsRequest(
            category=rng.choice(CATEGORIES), k=10, user_id=user[n], filters=FILTERS)),
    }
    results: dict[str, dict[str, float]] = {}
    for name, call in cases.items():
        timed(call, min(200, args.requests))  # warm caches, as a running server's are
        latencies = timed(call, args.requests)
        results[name] = {"p50_us": statistics.median(latencies),
                         "p99_us": percentile(latencies, 99)}
    base = results["personal"]["p50_us"]
    print(f"{'answer':32} {'p50 µs':>9} {'p99 µs':>9} {'x personal':>11}")
    for name, r in results.items():
        r["ratio_p50"] = r["p50_us"] / base
        print(f"{name:32} {r['p50_us']:9.0f} {r['p99_us']:9.0f} {r['ratio_p50']:11.1f}")
    path = write_results("placements", {"command": "python -m bench.placements "
                                        + " ".join(argv or []), "items": args.items,
                                        "users": args.users, "requests": args.requests,
                                        "results": results})
    print(f"wrote {path}")
    store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
