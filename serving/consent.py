"""Consent at the server: the loader keeps the job's ``consent`` topic in the store
(``CONSENT_STATES``); a lookup for a user who has not consented to personalization is
answered as for an anonymous visitor (her context's segment, then the global list) with the
reason ``consent``, logs no impression, and her profile is not found. The job keeps no state
for her either (features/consent.py); this check also covers the moments between a withdrawal
and the tombstones of her list and profile reaching the store.

>>> import tempfile
>>> from serving.store import Change, Store
>>> store = Store(tempfile.mkdtemp() + "/db")
>>> said = pb.ConsentState(user_id="u1", personalization=True).SerializeToString()
>>> store.apply([Change(CONSENT_STATES, "u1", said)], {})
>>> book = ConsentBook(store, default_allow=False)
>>> book.personalised("u1"), book.personalised("u2")
(True, False)
>>> store.close()

A server never steps a user's consent back to an older statement (``stale``): with
``upserts_at_least_once`` the consent topic is written at-least-once, and a replay after a
failure writes her older states again after her newer ones.
"""

from __future__ import annotations

from google.protobuf.message import DecodeError

from reco.v1 import recommendations_pb2 as pb
from serving.store import CONSENT_STATES, Store

CONSENT_REASON = "consent"


def stale(held: bytes | None, value: bytes) -> bool:
    """Whether the consent state ``value`` is older, by the event time of its latest
    statement, than the one ``held``; an unreadable one is never stale (it is kept and read
    as no consent).

    >>> said = lambda at, p: pb.ConsentState(personalization=p, updated_at_ms=at
    ...                                      ).SerializeToString()
    >>> stale(said(20, False), said(10, True)), stale(said(10, True), said(20, False))
    (True, False)
    >>> stale(None, said(10, True)), stale(said(10, True), said(10, False))
    (False, False)
    >>> stale(b"?", said(1, True))
    False
    """
    if held is None:
        return False
    try:
        return pb.ConsentState.FromString(value).updated_at_ms \
            < pb.ConsentState.FromString(held).updated_at_ms
    except DecodeError:
        return False


class ConsentBook:
    def __init__(self, store: Store, default_allow: bool) -> None:
        self.store = store
        self.default_allow = default_allow

    def personalised(self, user_id: str) -> bool:
        """Whether the user's last word (else the default) allows personalization."""
        raw = self.store.get(CONSENT_STATES, user_id)
        if raw is None:
            return self.default_allow
        try:
            state = pb.ConsentState.FromString(raw)
        except DecodeError:
            return False  # unreadable: the safe answer
        return state.personalization if state.HasField("personalization") \
            else self.default_allow
