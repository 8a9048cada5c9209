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
"""

from __future__ import annotations

from google.protobuf.message import DecodeError

from reco.v1 import recommendations_pb2 as pb
from serving.store import CONSENT_STATES, Store

CONSENT_REASON = "consent"


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
