"""``reco recommend``: many ids answered from a serving store as JSON lines."""

from __future__ import annotations

import io
import json

import pytest

from app.batch import write_batch
from reco.config import Settings
from reco.keys import GLOBAL_LIST
from reco.pseudonyms import load_pseudonyms
from reco.v1 import recommendations_pb2 as pb
from serving.loader import availability_change
from serving.store import ITEMS, POPULAR_LISTS, RECOMMENDATIONS, Change, Store


def listing(user: str, items: list[str]) -> bytes:
    return pb.RecommendationList(user_id=user, items=[
        pb.RecommendedItem(item_id=i, score=1.0 / (n + 1), source="recent", reason="recent")
        for n, i in enumerate(items)]).SerializeToString()


def test_users_and_items_are_answered_from_the_store_as_json_lines(tmp_path):
    key = tmp_path / "id.key"
    key.write_bytes(bytes(32))
    # as the server answers: by pseudonym, as consent allows (here: by default)
    settings = Settings(store_path=str(tmp_path / "store"), policy="fixed:personal",
                        id_key_file=str(key), consent_default="allow")
    u1 = load_pseudonyms(settings).of("u1")
    primary = Store(tmp_path / "store")
    shoe = pb.ItemFeatures(item_id="shoe", co_occurring=[pb.ItemAffinity(item_id="sock",
                                                                         affinity=2)])
    primary.apply([Change(RECOMMENDATIONS, u1, listing(u1, ["a", "b"])),
                   Change(POPULAR_LISTS, GLOBAL_LIST, listing(GLOBAL_LIST, ["p"])),
                   Change(ITEMS, "shoe", shoe.SerializeToString()),
                   availability_change("b", None)], {})
    (tmp_path / "users.txt").write_text("u1\n\n# a comment\nnew-user\n")
    (tmp_path / "items.txt").write_text("shoe\n")
    out = io.StringIO()
    assert write_batch(settings, tmp_path / "users.txt", out, 5, items=False) == 2
    first, second = (json.loads(line) for line in out.getvalue().splitlines())
    assert first["user_id"] == "u1" and [i["item_id"] for i in first["items"]][:1] == ["a"]
    assert "b" not in [i["item_id"] for i in first["items"]]  # out of stock
    assert second["user_id"] == "new-user" and second["cold_start"]
    out = io.StringIO()
    write_batch(settings, tmp_path / "items.txt", out, 5, items=True)
    assert json.loads(out.getvalue())["items"][0]["item_id"] == "sock"
    primary.close()


def test_a_missing_store_says_what_to_do(tmp_path):
    (tmp_path / "users.txt").write_text("u1\n")
    with pytest.raises(FileNotFoundError, match="start the server once"):
        write_batch(Settings(store_path=str(tmp_path / "none")), tmp_path / "users.txt",
                    io.StringIO(), 5, items=False)
