from collections import Counter

from reco.events import parse_event
from reco.simulator import CRAWLER_AGENTS, ShopperSimulation, SimConfig


def simulate(**config):
    sim = ShopperSimulation(SimConfig(**config))
    return sim, list(sim.events())


def test_every_simulated_event_is_valid_on_the_wire():
    _, events = simulate(n_users=50, seed=3)
    assert all(parse_event(e.to_json()) == e for e in events)
    assert len({e.event_id for e in events}) == len(events)


def test_seeds_differ_and_run_ids_make_event_ids_unique():
    _, a = simulate(n_users=20, seed=1)
    _, b = simulate(n_users=20, seed=2)
    _, c = simulate(n_users=20, seed=1, run_id="r2")
    assert [e.item_id for e in a] != [e.item_id for e in b]
    assert not {e.event_id for e in a} & {e.event_id for e in c}


def test_funnel_rates_are_shop_like():
    _, events = simulate(n_users=400, seed=5, bot_share=0.0)
    kinds = Counter(e.event_type for e in events)
    views = kinds["product_view"]
    assert 0.03 < kinds["add_to_cart"] / views < 0.2
    assert kinds["purchase"] < kinds["add_to_cart"]
    assert 0.2 < kinds["checkout_start"] / max(1, len({e.session_id for e in events
                                                       if e.event_type == "add_to_cart"})) < 0.8
    dwell = sorted(e.dwell_ms for e in events if e.dwell_ms is not None)
    assert dwell[len(dwell) // 2] < sum(dwell) / len(dwell)  # right-skewed


def test_bots_are_labelled_and_behave_like_bots():
    sim, events = simulate(n_users=300, seed=11, bot_share=0.1)
    bots = sim.bot_user_ids()
    assert 10 < len(bots) < 60
    bot_events = [e for e in events if e.user_id in bots]
    crawlers = {e.user_id for e in bot_events if e.user_agent in CRAWLER_AGENTS}
    assert crawlers and crawlers != bots  # both crawlers and click-spammers
    human_agents = {e.user_agent for e in events if e.user_id not in bots}
    assert not human_agents & set(CRAWLER_AGENTS)


def test_users_have_a_few_favourite_categories():
    sim, events = simulate(n_users=100, seed=9, bot_share=0.0)
    top_share = []
    for user in sim.users:
        cats = Counter(e.category for e in events if e.user_id == user.user_id and e.category)
        if sum(cats.values()) >= 10:
            top_share.append(cats.most_common(1)[0][1] / sum(cats.values()))
    assert sum(top_share) / len(top_share) > 0.4
