"""The event ids a user sent most recently, as 32-bit hashes in a bounded ring: redelivered
events are recognised in O(capacity) with a few bytes per id. A false match needs a CRC-32
collision among the user's last ``capacity`` ids (about capacity / 4e9 per event).

>>> ids = RecentIds(capacity=2)
>>> [ids.seen_or_add(e) for e in ["a", "b", "a", "c", "a"]]
[False, False, True, False, False]
"""

from __future__ import annotations

import zlib
from array import array


class RecentIds:
    __slots__ = ("capacity", "hashes", "next")

    def __init__(self, capacity: int = 256) -> None:
        self.capacity = capacity
        self.hashes = array("I")
        self.next = 0

    def seen_or_add(self, event_id: str) -> bool:
        """True if ``event_id`` is among the recent ids; else remembers it."""
        digest = zlib.crc32(event_id.encode())
        if digest in self.hashes:
            return True
        if len(self.hashes) < self.capacity:
            self.hashes.append(digest)
        else:
            self.hashes[self.next] = digest
            self.next = (self.next + 1) % self.capacity
        return False

    def __getstate__(self) -> tuple[int, bytes, int]:
        return self.capacity, self.hashes.tobytes(), self.next

    def __setstate__(self, state: tuple[int, bytes, int]) -> None:
        self.capacity, raw, self.next = state
        self.hashes = array("I")
        self.hashes.frombytes(raw)
