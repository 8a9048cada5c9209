"""Session-based k-nearest neighbours (SKNN, and V-SKNN with ``weighted=True``; Ludewig and
Jannach, "Evaluation of session-based recommendation algorithms", 2018): the items of the past
sessions most like the current one. A session is the set of items it touched; past sessions
that share an item with the current one are its candidates (the ``sample`` most recent ones),
the ``k`` most similar are its neighbours, and an item's score is the summed similarity of the
neighbours holding it. SKNN's similarity is the cosine of the two item sets; V-SKNN weighs the
current session's items by position (the latest counts 1, the first 1/length), so what the
visitor did last matters most.

Memory is bounded: the ``max_sessions`` most recent closed sessions are kept, and per item the
``sample`` most recent of them.

>>> model = SessionKNN(k=10, seed=0)
>>> for session in (["a", "b", "c"], ["a", "c"], ["b", "d"]):
...     model.learn_one(session)
>>> [(item, round(score, 2)) for item, score in model.predict_one(["a"], n=3)]
[('a', 1.28), ('c', 1.28), ('b', 0.58)]
>>> [item for item, _ in SessionKNN(weighted=True).predict_one(["x"])]
[]

In a stream a visitor's session is indexed under a key as it grows (``grow`` keeps its start,
its last time and its latest items), and ``forget`` takes a visitor's sessions out again:

>>> model = SessionKNN(weighted=True)
>>> open_session = grow(None, "a", ts=0, gap_ms=60_000)
>>> open_session = grow(open_session, "b", ts=1_000, gap_ms=60_000)
>>> model.learn_one(open_session[2], key=session_key("u1", open_session))
>>> open_session, model.forget("u1"), len(model.sessions)
((0, 1000, ('a', 'b')), 1, 0)
>>> grow(open_session, "c", ts=90_000, gap_ms=60_000)  # after a gap: a new session
(90000, 90000, ('c',))
"""

from __future__ import annotations

import heapq
import math
from collections import OrderedDict, deque
from collections.abc import Sequence

# a visitor's open session: (its first event's time, its latest's, its latest items, oldest
# first); a few hundred bytes in her state
OpenSession = tuple[int, int, tuple[str, ...]]


def grow(session: OpenSession | None, item: str, ts: int, gap_ms: int, max_items: int = 20
         ) -> OpenSession:
    """``session`` with ``item`` seen at ``ts``: a new session after ``gap_ms`` without an
    event (an event earlier than the latest, being late, joins the open session)."""
    if session is None or ts - session[1] > gap_ms:
        return ts, ts, (item,)
    start, last, items = session
    return start, max(last, ts), (*items, item)[-max_items:]


def session_key(user_id: str, session: OpenSession) -> str:
    return f"{user_id}@{session[0]}"


class SessionKNN:
    def __init__(self, k: int = 100, sample: int = 500, max_sessions: int = 100_000,
                 weighted: bool = False, seed: int = 0) -> None:
        self.k, self.sample, self.max_sessions = k, sample, max_sessions
        self.weighted = weighted
        self.seed = seed  # deterministic; kept for the models' common contract
        self.sessions: OrderedDict[int, frozenset[str]] = OrderedDict()
        self.by_item: dict[str, deque[int]] = {}
        self.keys: OrderedDict[str, int] = OrderedDict()  # an open session's key -> its id
        self.next_id = 0

    def learn_one(self, session: Sequence[str], key: str | None = None) -> None:
        """Keeps one session (its items, in order). With ``key``, a session still open: a
        later call with the same key replaces it with what it has grown to (a stream does not
        say when a session ends)."""
        items = frozenset(session)
        if not items:
            return
        sid = self.keys.get(key) if key is not None else None
        if sid is None or sid not in self.sessions:
            sid, self.next_id = self.next_id, self.next_id + 1
            if key is not None:
                self.keys[key] = sid
                while len(self.keys) > self.max_sessions:
                    self.keys.popitem(last=False)
        before = self.sessions.get(sid, frozenset())
        self.sessions[sid] = items
        for item in items - before:
            self.by_item.setdefault(item, deque(maxlen=self.sample)).append(sid)
        for item in before - items:  # it grew past its bound: its oldest items left it
            self._unlist(item, sid)
        while len(self.sessions) > self.max_sessions:
            old, gone = self.sessions.popitem(last=False)
            for item in gone:
                holders = self.by_item.get(item)
                if holders is not None and holders and holders[0] == old:
                    holders.popleft()
                    if not holders:
                        del self.by_item[item]

    def forget(self, user_id: str) -> int:
        """Takes out every indexed session of ``user_id`` (keyed by ``session_key``); returns
        how many (an erasure reaches this model)."""
        prefix = f"{user_id}@"
        gone = [key for key in self.keys if key.startswith(prefix)]
        for key in gone:
            sid = self.keys.pop(key)
            items = self.sessions.pop(sid, frozenset())
            for item in items:
                self._unlist(item, sid)
        return len(gone)

    def _unlist(self, item: str, sid: int) -> None:
        """Takes session ``sid`` off ``item``'s postings."""
        holders = self.by_item.get(item)
        if holders is None:
            return
        if sid in holders:
            holders.remove(sid)
        if not holders:
            del self.by_item[item]

    def predict_one(self, session: Sequence[str], n: int = 20, own: str | None = None
                    ) -> list[tuple[str, float]]:
        """The ``n`` best items for a current session (its items, oldest first), with their
        scores; its own items are not left out (visitors come back to what they saw, and the
        neighbours that share them say how much). ``own``: the key the current session was
        learned under, so that it is not its own neighbour."""
        if not session:
            return []
        weights = self._weights(session)
        # candidates through the postings; each one's similarity from its whole session: an
        # item's postings are bounded, so a candidate found through one item may have lost
        # its posting under another that it still holds
        mine = self.keys.get(own, -1) if own is not None else -1
        sessions = self.sessions
        candidates = {sid for item in weights for sid in self.by_item.get(item, ())
                      if sid in sessions and sid != mine}
        if len(candidates) > self.sample:  # the most recent ones (their order does not matter)
            candidates = set(heapq.nlargest(self.sample, candidates))
        # (-similarity, -sid): the most similar first, the most recent among equals
        scored = []
        for sid in candidates:
            other = sessions[sid]
            common = sum(weight for item, weight in weights.items() if item in other)
            similarity = common if self.weighted else \
                common / math.sqrt(len(weights) * len(other))
            if similarity > 0:
                scored.append((-similarity, -sid))
        scores: dict[str, float] = {}
        for negative, sid in heapq.nsmallest(self.k, scored):
            for item in sessions[-sid]:
                scores[item] = scores.get(item, 0.0) - negative
        best = heapq.nsmallest(n, [(-score, item) for item, score in scores.items()])
        return [(item, -negative) for negative, item in best]

    def _weights(self, session: Sequence[str]) -> dict[str, float]:
        """Each distinct item of the current session: 1 (SKNN), or by its last position
        (V-SKNN: the latest 1, the first 1/length)."""
        if not self.weighted:
            return dict.fromkeys(session, 1.0)
        length = len(session)
        return {item: (position + 1) / length for position, item in enumerate(session)}
