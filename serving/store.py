"""The serving store: a rocksdict database of serialised protobuf records, plus the Kafka
offsets they cover, written together in one WriteBatch so a restart resumes exactly where the
data ends.

>>> import tempfile
>>> store = Store(tempfile.mkdtemp() + "/db")
>>> store.apply([Change(RECOMMENDATIONS, "u1", b"list")], {("recommendations", 0): 8})
>>> store.get(RECOMMENDATIONS, "u1"), store.offsets()
(b'list', {('recommendations', 0): 8})
>>> store.apply([Change(RECOMMENDATIONS, "u1", None)], {("recommendations", 0): 9})  # tombstone
>>> store.get(RECOMMENDATIONS, "u1") is None
True
>>> store.close()
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rocksdict import AccessType, Options, Rdict, WriteBatch

RECOMMENDATIONS = b"r:"
POPULAR_LISTS = b"c:"  # the cold-start lists, keyed by reco/keys.py's GLOBAL_LIST and segments
PROFILES = b"p:"
ITEMS = b"i:"
POLICY = b"b:"
SEGMENTS = b"s:"
CATALOG = b"k:"  # item id -> reco.v1.Item
UNAVAILABLE = b"u:"  # item id -> b"" for each item out of stock, discontinued or deleted
CONTENT = b"n:"  # item id -> reco.v1.ContentNeighbours (serving/content.py)
FACTORS = b"f:"  # chunk key -> reco.v1.ItemFactorsChunk (serving/factors.py)
CONSENT_STATES = b"a:"  # user id -> reco.v1.ConsentState (serving/consent.py)
FACTORS_SEEN = b"g:"  # "last" -> the key and size of the last factors record loaded
_OFFSETS = b"o:"

TopicPartition = tuple[str, int]


@dataclass(frozen=True, slots=True)
class Change:
    kind: bytes           # one of the kinds above
    key: str              # user id (item id for ITEMS)
    value: bytes | None   # None deletes (a tombstone on the compacted topic)


class Store:
    def __init__(self, path: str | Path, *, secondary_of: str | Path | None = None) -> None:
        """Opens (creating) a read-write store; with ``secondary_of``, a read-only secondary
        view at ``path`` of the primary database at ``secondary_of``."""
        options = Options(raw_mode=True)
        options.create_if_missing(True)
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        if secondary_of is None:
            self._db = Rdict(str(path), options)
        else:
            self._db = Rdict(str(secondary_of), options,
                             access_type=AccessType.secondary(str(path)))
        self.path = Path(path)
        # changes applied per kind by this process: readers of small kinds (policy, segments)
        # reload when their count moves
        self.versions: dict[bytes, int] = {}
        self._seen: dict[bytes, list[tuple[str, bytes]]] = {}  # watched kinds, secondary only

    def get(self, kind: bytes, key: str) -> bytes | None:
        value = self._db.get(kind + key.encode())
        return bytes(value) if value is not None else None

    def apply(self, changes: list[Change], offsets: dict[TopicPartition, int]) -> None:
        """Writes the changes and the next offsets to read, atomically."""
        batch = WriteBatch(raw_mode=True)
        for change in changes:
            key = change.kind + change.key.encode()
            if change.value is None:
                batch.delete(key)
            else:
                batch.put(key, change.value)
        for (topic, partition), offset in offsets.items():
            batch.put(_offset_key(topic, partition), str(offset).encode())
        self._db.write(batch)
        for change in changes:
            self.versions[change.kind] = self.versions.get(change.kind, 0) + 1

    def offsets(self) -> dict[TopicPartition, int]:
        out: dict[TopicPartition, int] = {}
        for key, value in self._db.items(from_key=_OFFSETS):
            assert isinstance(key, bytes) and isinstance(value, bytes)  # raw mode
            if not key.startswith(_OFFSETS):
                break
            topic, _, partition = key[len(_OFFSETS):].decode().rpartition(":")
            out[(topic, int(partition))] = int(value)
        return out

    def values(self, kind: bytes) -> list[tuple[str, bytes]]:
        """Every (key, value) of a kind (for the small ones: policy shards, segments)."""
        out = []
        for key, value in self._db.items(from_key=kind):
            assert isinstance(key, bytes) and isinstance(value, bytes)  # raw mode
            if not key.startswith(kind):
                break
            out.append((key[len(kind):].decode(), value))
        return out

    def count(self, kind: bytes) -> int:
        n = 0
        for key in self._db.keys(from_key=kind):
            assert isinstance(key, bytes)  # raw mode
            if not key.startswith(kind):
                break
            n += 1
        return n

    def compact(self) -> None:
        """Compacts the whole key range (what the database settles to on disk)."""
        self._db.compact_range(None, None)

    def catch_up(self, watched: tuple[bytes, ...] = ()) -> None:
        """For a secondary: see what the primary has written since. The ``watched`` kinds
        (small ones, whose readers reload when their version moves) are compared with what
        they were, since a secondary applies no changes of its own to count."""
        self._db.try_catch_up_with_primary()
        for kind in watched:
            now = self.values(kind)
            if now != self._seen.get(kind):
                self._seen[kind] = now
                self.versions[kind] = self.versions.get(kind, 0) + 1

    def close(self) -> None:
        self._db.close()


def _offset_key(topic: str, partition: int) -> bytes:
    return _OFFSETS + f"{topic}:{partition}".encode()
