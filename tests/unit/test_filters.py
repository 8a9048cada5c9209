"""The filter and business-rule selection (userstep/filters.py), driven by Hypothesis over random
catalogs, candidate lists and rules: every returned item satisfies every rule."""

from hypothesis import given, settings
from hypothesis import strategies as st

from userstep.filters import PINNED_REASON, Facts, Rules, select

ITEMS = [f"i{n}" for n in range(30)]
CATEGORIES = ["Shoes", "Hats", "Socks", "Bags"]
BRANDS = ["acme", "Zeta", "orbit"]
LABELS = ["sale", "new", "eco"]

facts_strategy = st.builds(
    Facts,
    category_path=st.lists(st.sampled_from(CATEGORIES), max_size=2).map(tuple),
    brand=st.sampled_from(["", *BRANDS]),
    labels=st.frozensets(st.sampled_from(LABELS), max_size=2),
    price=st.none() | st.floats(0, 500, allow_nan=False),
    out_of_stock=st.booleans())
catalog_strategy = st.dictionaries(st.sampled_from(ITEMS), facts_strategy, max_size=30)
candidates_strategy = st.lists(
    st.tuples(st.sampled_from(ITEMS), st.floats(0, 1), st.sampled_from(["cooccur", "popular"]),
              st.just("r"), st.sampled_from(["", "shoes", "hats"])), max_size=40)
folded = st.frozensets(st.sampled_from([c.casefold() for c in CATEGORIES + BRANDS + LABELS]),
                       max_size=2)


@st.composite
def rules_strategy(draw: st.DrawFn) -> Rules:
    low = draw(st.none() | st.floats(0, 300, allow_nan=False))
    high = draw(st.none() | st.floats(0, 500, allow_nan=False))
    return Rules(
        include_categories=draw(folded), exclude_categories=draw(folded),
        include_brands=draw(folded), exclude_brands=draw(folded),
        include_labels=draw(folded), exclude_labels=draw(folded),
        min_price=low, max_price=high, include_out_of_stock=draw(st.booleans()),
        excluded_items=draw(st.frozensets(st.sampled_from(ITEMS), max_size=5)),
        max_per_category=draw(st.integers(0, 3)), max_per_brand=draw(st.integers(0, 3)),
        promotion_label=draw(st.sampled_from(["", "sale", "eco"])),
        promotion_min=draw(st.integers(0, 4)),
        pinned=tuple(draw(st.lists(st.sampled_from(ITEMS), max_size=3, unique=True))),
        unavailable=draw(st.frozensets(st.sampled_from(ITEMS), max_size=8)))


def _category_of(candidates, item):
    return next((c[4] for c in candidates if c[0] == item), "")


@settings(max_examples=400, deadline=None)
@given(catalog_strategy, candidates_strategy, rules_strategy(), st.integers(1, 12))
def test_every_returned_item_satisfies_every_rule(catalog, candidates, rules, k):
    chosen = select(candidates, k, rules, catalog.get)
    ids = [item for item, *_ in chosen]
    assert len(ids) <= k and len(set(ids)) == len(ids)
    offered = {c[0] for c in candidates} | set(rules.pinned)
    for item, _, source, _, category in chosen:
        assert item in offered
        facts = catalog.get(item)
        assert item not in rules.excluded_items
        if item in rules.unavailable:
            assert rules.include_out_of_stock and facts is not None and facts.out_of_stock
        levels = {c.casefold() for c in (facts.category_path if facts else ())}
        levels |= {category.casefold()} - {""}
        if source != PINNED_REASON:
            levels |= {_category_of(candidates, item).casefold()} - {""}
        if rules.include_categories:
            assert levels & rules.include_categories
        assert not levels & rules.exclude_categories
        brand = facts.brand.casefold() if facts else ""
        if rules.include_brands:
            assert brand in rules.include_brands
        assert not (brand and brand in rules.exclude_brands)
        labels = {label.casefold() for label in (facts.labels if facts else ())}
        if rules.include_labels:
            assert labels & rules.include_labels
        assert not labels & rules.exclude_labels
        if rules.min_price is not None:
            assert facts is not None and facts.price is not None
            assert facts.price >= rules.min_price
        if rules.max_price is not None:
            assert facts is not None and facts.price is not None
            assert facts.price <= rules.max_price
    _assert_caps(chosen, catalog, rules)


def _assert_caps(chosen, catalog, rules):
    by_category: dict[str, int] = {}
    by_brand: dict[str, int] = {}
    for item, *_, category in chosen:
        facts = catalog.get(item)
        leaf = (facts.category_path[-1] if facts and facts.category_path else category).casefold()
        brand = facts.brand.casefold() if facts else ""
        if leaf:
            by_category[leaf] = by_category.get(leaf, 0) + 1
        if brand:
            by_brand[brand] = by_brand.get(brand, 0) + 1
    if rules.max_per_category:
        assert max(by_category.values(), default=0) <= rules.max_per_category
    if rules.max_per_brand:
        assert max(by_brand.values(), default=0) <= rules.max_per_brand


@settings(max_examples=300, deadline=None)
@given(catalog_strategy, candidates_strategy, st.integers(1, 12), st.integers(1, 5))
def test_the_promotion_quota_is_met_when_enough_promoted_items_pass(catalog, candidates, k,
                                                                    quota):
    rules = Rules(promotion_label="sale", promotion_min=quota)
    chosen = select(candidates, k, rules, catalog.get)
    promoted_offered = {c[0] for c in candidates
                        if c[0] in catalog and "sale" in catalog[c[0]].labels}
    promoted_chosen = [i for i, *_ in chosen if i in catalog and "sale" in catalog[i].labels]
    assert len(promoted_chosen) >= min(quota, k, len(promoted_offered))
    # the quota never shortens an answer
    assert len(chosen) == min(k, len({c[0] for c in candidates}))


@settings(max_examples=200, deadline=None)
@given(catalog_strategy, candidates_strategy, st.integers(1, 12))
def test_without_rules_the_candidates_come_in_their_order(catalog, candidates, k):
    chosen = select(candidates, k, Rules(), catalog.get)
    first_seen = list(dict.fromkeys(c[0] for c in candidates))
    assert [item for item, *_ in chosen] == first_seen[:k]


@given(catalog_strategy, candidates_strategy, st.lists(st.sampled_from(ITEMS), min_size=1,
                                                       max_size=3, unique=True))
def test_pinned_items_come_first_in_their_order(catalog, candidates, pinned):
    chosen = select(candidates, 20, Rules(pinned=tuple(pinned)), catalog.get)
    assert [item for item, *_ in chosen[:len(pinned)]] == pinned
    assert all(source == PINNED_REASON for _, _, source, _, _ in chosen[:len(pinned)])


def test_an_item_the_catalog_does_not_know_fails_rules_that_ask_about_it():
    pool = [("unknown", 1.0, "popular", "r", "shoes"), ("known", 0.5, "popular", "r", "")]
    catalog = {"known": Facts(("Shoes",), "acme", frozenset({"sale"}), 10.0)}
    for rules in (Rules(include_brands=frozenset({"acme"})), Rules(max_price=20.0),
                  Rules(include_labels=frozenset({"sale"}))):
        assert [i for i, *_ in select(pool, 5, rules, catalog.get)] == ["known"]
    # its events' category is enough for a category rule
    shoes = Rules(include_categories=frozenset({"shoes"}))
    assert [i for i, *_ in select(pool, 5, shoes, catalog.get)] == ["unknown", "known"]
