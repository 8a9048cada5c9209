"""A seeded shopper simulation: the default event source of `make run`, the tests and benchmarks.

Users have latent category preferences (Dirichlet), a home country and time zone, and a device.
They shop in sessions: clicks on listings, product views with skewed dwell times (log-normal) and
scroll depths (beta), wishlist saves, add-to-cart (more likely after long dwell), removals,
checkout and purchase funnels, and skips of shown items. A share of users are bots: crawlers with
known crawler or headless user agents walking the catalogue fast, and click-spammers repeating one
click many times a second. Ground truth (who is a bot, each user's preferences) is kept on the
simulation object, never in the events.

>>> sim = ShopperSimulation(SimConfig(n_users=20, n_items=100, seed=7))
>>> events = list(sim.events())
>>> events == list(ShopperSimulation(SimConfig(n_users=20, n_items=100, seed=7)).events())
True
>>> all(a.ts <= b.ts for a, b in zip(events, events[1:]))
True
>>> sorted({e.event_type for e in events}) # doctest: +NORMALIZE_WHITESPACE
['add_to_cart', 'checkout_start', 'click', 'product_view', 'purchase', 'remove_from_cart',
 'skip', 'wishlist']
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Iterator
from dataclasses import dataclass, field

from reco.events import Event

CATEGORIES = ["shoes", "dresses", "jackets", "bags", "watches", "electronics", "books", "toys",
              "kitchen", "garden", "beauty", "sports", "music", "games", "office", "pets"]
PLACES = [  # country, region, time zone, weight
    ("DE", "BE", "Europe/Berlin", 0.20), ("US", "CA", "America/Los_Angeles", 0.15),
    ("US", "NY", "America/New_York", 0.15), ("GB", "ENG", "Europe/London", 0.12),
    ("FR", "IDF", "Europe/Paris", 0.10), ("JP", "13", "Asia/Tokyo", 0.10),
    ("BR", "SP", "America/Sao_Paulo", 0.10), ("IN", "MH", "Asia/Kolkata", 0.08),
]
DEVICES = [  # device, user agent, weight
    ("mobile", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
               "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1", 0.35),
    ("mobile", "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
               "Chrome/124.0.0.0 Mobile Safari/537.36", 0.25),
    ("desktop", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
                "Chrome/124.0.0.0 Safari/537.36", 0.22),
    ("desktop", "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like "
                "Gecko) Version/17.4 Safari/605.1.15", 0.10),
    ("tablet", "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
               "Gecko) Version/17.4 Mobile/15E148 Safari/604.1", 0.08),
]
CRAWLER_AGENTS = [
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/124.0 "
    "Safari/537.36",
    "python-requests/2.31.0",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
]


@dataclass(frozen=True)
class SimConfig:
    n_users: int = 200
    n_items: int = 1000
    n_categories: int = 12
    sessions_per_user: float = 3.0     # mean; Poisson
    views_per_session: float = 6.0     # mean; geometric
    bot_share: float = 0.05
    start_ms: int = 1_795_680_000_000  # 2026-11-26T08:00Z
    duration_ms: int = 86_400_000
    seed: int = 42
    run_id: str = ""                   # makes event ids unique across replays of one seed
    user_prefix: str = "u"             # user ids: prefix + number (other shoppers, same seed)


@dataclass(frozen=True)
class Item:
    item_id: str
    category: str
    price: float


@dataclass
class Shopper:
    user_id: str
    preferences: list[float]
    country: str
    region: str
    timezone: str
    device: str
    user_agent: str
    is_bot: bool = False


@dataclass
class ShopperSimulation:
    config: SimConfig
    items: list[Item] = field(init=False)
    users: list[Shopper] = field(init=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.config.seed)
        self._categories = [CATEGORIES[i] if i < len(CATEGORIES) else f"cat{i}"
                            for i in range(self.config.n_categories)]
        self.items = [self._make_item(i) for i in range(self.config.n_items)]
        self._by_category: dict[str, list[Item]] = {c: [] for c in self._categories}
        for item in self.items:
            self._by_category[item.category].append(item)
        self.users = [self._make_user(u) for u in range(self.config.n_users)]
        self._next_id = 0

    @property
    def categories(self) -> list[str]:
        return list(self._categories)

    def bot_user_ids(self) -> set[str]:
        return {u.user_id for u in self.users if u.is_bot}

    def _make_item(self, index: int) -> Item:
        category = self._rng.choice(self._categories)
        price = round(self._rng.lognormvariate(3.3, 0.8), 2)
        return Item(f"i{index:05d}", category, price)

    def _make_user(self, index: int) -> Shopper:
        rng = self._rng
        weights = [rng.gammavariate(0.3, 1.0) for _ in self._categories]
        total = sum(weights) or 1.0
        country, region, tz, _ = rng.choices(PLACES, weights=[p[3] for p in PLACES])[0]
        device, agent, _ = rng.choices(DEVICES, weights=[d[2] for d in DEVICES])[0]
        is_bot = rng.random() < self.config.bot_share
        if is_bot and rng.random() < 0.6:
            agent, device = rng.choice(CRAWLER_AGENTS), "desktop"
        return Shopper(f"{self.config.user_prefix}{index:05d}", [w / total for w in weights],
                       country, region, tz, device, agent, is_bot)

    def _pick_item(self, user: Shopper) -> Item:
        category = self._rng.choices(self._categories, weights=user.preferences)[0]
        pool = self._by_category[category] or self.items
        # Zipf-like popularity inside a category: low ranks are the best sellers.
        rank = min(int(self._rng.paretovariate(1.2)) - 1, len(pool) - 1)
        return pool[rank]

    def _event(self, user: Shopper, event_type: str, ts: int, session: str,
               item: Item | None = None, **extra: object) -> Event:
        self._next_id += 1
        prefix = self.config.run_id or f"s{self.config.seed}"
        # the consent the visitor gave the shop's banner, sent with every event (as consent
        # platforms attach it to each hit): events travel on a topic per type, so the first
        # one sent need not be the first one the job sees
        extra = {**extra, "personalization": True, "analytics": True}
        return Event(
            event_id=f"{prefix}-{self._next_id:09d}", event_type=event_type, user_id=user.user_id,
            ts=ts, item_id=item.item_id if item else None,
            category=item.category if item else None, session_id=session,
            user_agent=user.user_agent, device=user.device, country=user.country,
            region=user.region, timezone=user.timezone, **extra)  # type: ignore[arg-type]

    def _shopper_session(self, user: Shopper, start: int, session: str) -> list[Event]:
        rng, out, ts, cart = self._rng, [], start, []
        n_views = 1 + int(rng.expovariate(1.0 / max(self.config.views_per_session - 1, 0.1)))
        for _ in range(n_views):
            item = self._pick_item(user)
            if rng.random() < 0.6:
                out.append(self._event(user, "click", ts, session, item))
                ts += rng.randint(300, 1500)
            dwell = int(min(rng.lognormvariate(9.3, 1.0), 3_600_000))
            scroll = round(rng.betavariate(2.0, 2.5), 3)
            out.append(self._event(user, "product_view", ts, session, item, dwell_ms=dwell,
                                   scroll_depth=scroll))
            ts += dwell
            if rng.random() < 0.05:
                out.append(self._event(user, "wishlist", ts, session, item))
            if rng.random() < min(0.04 + dwell / 400_000, 0.35):
                out.append(self._event(user, "add_to_cart", ts, session, item,
                                       price=item.price, quantity=1))
                cart.append(item)
            if rng.random() < 0.15:
                shown = self._pick_item(user) if rng.random() < 0.5 else rng.choice(self.items)
                out.append(self._event(user, "skip", ts, session, shown))
            ts += int(rng.expovariate(1 / 20_000))
        if cart and rng.random() < 0.1:
            out.append(self._event(user, "remove_from_cart", ts, session, cart.pop()))
        if cart and rng.random() < 0.5:
            out.append(self._event(user, "checkout_start", ts, session))
            ts += rng.randint(20_000, 180_000)
            if rng.random() < 0.7:
                for item in cart:
                    out.append(self._event(user, "purchase", ts, session, item,
                                           price=item.price, quantity=rng.choice([1, 1, 1, 2])))
        return out

    def _bot_session(self, user: Shopper, start: int, session: str) -> list[Event]:
        rng, out, ts = self._rng, [], start
        if user.user_agent in CRAWLER_AGENTS:  # crawl: many views, fast, no dwell
            for item in rng.sample(self.items, min(len(self.items), rng.randint(30, 120))):
                out.append(self._event(user, "product_view", ts, session, item, dwell_ms=0,
                                       scroll_depth=0.0))
                ts += rng.randint(80, 400)
        else:  # click-spam: one item hammered
            item = rng.choice(self.items)
            for _ in range(rng.randint(20, 60)):
                out.append(self._event(user, "click", ts, session, item))
                ts += rng.randint(20, 150)
        return out

    def _sessions(self, user: Shopper) -> Iterator[list[Event]]:
        cfg, rng = self.config, self._rng
        count = max(1, self._poisson(cfg.sessions_per_user))
        starts = sorted(cfg.start_ms + rng.randrange(cfg.duration_ms) for _ in range(count))
        for n, start in enumerate(starts):
            session = f"{user.user_id}-s{n}"
            make = self._bot_session if user.is_bot else self._shopper_session
            yield make(user, start, session)

    def _poisson(self, mean: float) -> int:
        # Knuth's method; means here are small.
        limit, k, p = pow(2.718281828459045, -mean), 0, 1.0
        while True:
            p *= self._rng.random()
            if p <= limit:
                return k
            k += 1

    def events(self) -> Iterator[Event]:
        """All events of all users, merged in time order."""
        return heapq.merge(*self._by_user(), key=lambda e: e.ts)

    def sessions(self) -> list[list[Event]]:
        """Every session's events (in time order), the sessions in the order they start.

        >>> sim = ShopperSimulation(SimConfig(n_users=20, n_items=100, seed=7))
        >>> sessions = sim.sessions()
        >>> all(len({e.user_id for e in s}) == 1 for s in sessions)
        True
        >>> [s[0].ts for s in sessions] == sorted(s[0].ts for s in sessions)
        True
        """
        return sorted((s for s in self._by_user() if s), key=lambda session: session[0].ts)

    def _by_user(self) -> list[list[Event]]:
        return [session for user in self.users for session in self._sessions(user)]
