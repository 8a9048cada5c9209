"""Pseudonymous user ids: the job (at its first step) and the server (before any lookup)
replace a client's user id by an HMAC-SHA256 of it under a secret key, so no topic the job
writes, no state, store, dead letter or log line of ours holds a raw id. Clients keep using
their own ids; without the key nobody can link a pseudonym to an id, nor compute one.

The key is a file of at least ``MIN_KEY_BYTES`` random bytes (``id_key_file``; by default
``<stack_dir>/id.key``, which the local stack creates for itself: ``make run``, ``make up``).
Every job and server of a deployment must read the same key. Rotating it makes every user a
new one (her state, list and profile stay under the old pseudonym until they expire); see
docs/privacy.md.

>>> ids = Pseudonyms(bytes(range(32)))
>>> ids.of("alice") == ids.of("alice") != ids.of("bob"), ids.of("alice")[:2], len(ids.of("x"))
(True, 'p-', 34)
>>> Pseudonyms(b"short")
Traceback (most recent call last):
...
ValueError: the user id key must be at least 32 bytes (it has 5)
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from pathlib import Path

from reco.config import Settings

MIN_KEY_BYTES = 32
PREFIX = "p-"
HEX_CHARS = 32  # 128 bits: no two users of any shop collide


class Pseudonyms:
    def __init__(self, key: bytes) -> None:
        if len(key) < MIN_KEY_BYTES:
            raise ValueError(f"the user id key must be at least {MIN_KEY_BYTES} bytes "
                             f"(it has {len(key)})")
        self._key = key

    def of(self, user_id: str) -> str:
        # surrogatepass: a refused id (a lone surrogate) is hidden in its dead letter too
        digest = hmac.new(self._key, user_id.encode("utf-8", "surrogatepass"),
                          hashlib.sha256).hexdigest()
        return PREFIX + digest[:HEX_CHARS]

    def __repr__(self) -> str:  # never the key, in a log or a dead letter
        return "Pseudonyms(<key>)"


def key_path(settings: Settings) -> Path:
    return Path(settings.id_key_file) if settings.id_key_file \
        else Path(settings.stack_dir) / "id.key"


def load_pseudonyms(settings: Settings) -> Pseudonyms:
    """The deployment's pseudonyms; ValueError saying what to do when the key file is
    missing or too short."""
    path = key_path(settings)
    try:
        key = path.read_bytes()
    except OSError as exc:
        raise ValueError(f"cannot read the user id key {path} ({exc.strerror}): create it "
                         f"with `head -c 32 /dev/urandom > {path}` and give every job and "
                         "server the same file (RECO_ID_KEY_FILE)") from None
    try:
        return Pseudonyms(key)
    except ValueError as exc:
        raise ValueError(f"{exc}: {path}; create a new one with `head -c 32 /dev/urandom > "
                         f"{path}` (every user becomes a new one: docs/privacy.md)") from None


def ensure_local_key(settings: Settings) -> Path:
    """The local stack's key, created (random, owner-only) if it is missing and no key file
    was configured: a configured one is never made up."""
    path = key_path(settings)
    if not settings.id_key_file and not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(os.urandom(MIN_KEY_BYTES))
    return path


def hide_user_id(raw: bytes | None, ids: Pseudonyms) -> bytes | None:
    """A refused record with its user id replaced by the pseudonym, for the dead-letter topic:
    JSON or protobuf events whose ``user_id`` can be found. Bytes that are neither stay as
    they are (the source offset still finds them; they age out with the raw topics).

    >>> ids = Pseudonyms(bytes(32))
    >>> hidden = hide_user_id(b'{"user_id": "alice", "ts": "bad"}', ids)
    >>> b"alice" in hidden, ids.of("alice").encode() in hidden
    (False, True)
    """
    if not raw:
        return raw
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return _hide_in_protobuf(raw, ids)
    if isinstance(doc, dict) and isinstance(doc.get("user_id"), str):
        doc["user_id"] = ids.of(doc["user_id"])
        return json.dumps(doc, separators=(",", ":")).encode()
    return raw


def _hide_in_protobuf(raw: bytes, ids: Pseudonyms) -> bytes:
    from google.protobuf.message import DecodeError

    from reco.v1 import events_pb2

    message = events_pb2.Event()
    try:
        message.ParseFromString(raw)
    except DecodeError:
        return raw
    if not message.user_id:
        return raw
    message.user_id = ids.of(message.user_id)
    return message.SerializeToString()
