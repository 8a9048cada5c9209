"""``reco recommend``: top-k for many users (or, with ``--items``, the similar items of many
items) as JSON lines, for e-mail campaigns and exports. It reads the serving store of a
running or stopped server as a read-only secondary and answers each id with the servicer's own
logic, so a line holds what a lookup would have answered then (no impression is logged)."""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from reco.config import Settings
from reco.pseudonyms import load_pseudonyms
from reco.reporting import progress
from reco.v1 import recommendations_pb2 as pb
from serving.servicer import RecommendationsServicer
from serving.store import Store
from userstep.placements import PERSONAL, SIMILAR


def ids(path: Path) -> Iterator[str]:
    """One id per line; blank lines and lines starting with # are skipped."""
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            value = line.strip()
            if value and not value.startswith("#"):
                yield value


def write_batch(settings: Settings, path: Path, out: TextIO, k: int, items: bool) -> int:
    store_path = Path(settings.store_path)
    if not store_path.exists():
        raise FileNotFoundError(f"no serving store at {store_path}: start the server once "
                                "(make up) or set RECO_STORE_PATH to its store")
    with tempfile.TemporaryDirectory(prefix="reco-batch-") as secondary:
        store = Store(Path(secondary) / "db", secondary_of=store_path)
        try:
            store.catch_up()
            # as the server answers: by pseudonym, as her consent allows (no impressions)
            servicer = RecommendationsServicer(store, settings, ids=load_pseudonyms(settings))
            written = 0
            for n, key in enumerate(ids(path), start=1):
                reply = (servicer.answer(pb.GetSimilarItemsRequest(item_id=key, k=k),
                                         servicer.similar, SIMILAR)
                         if items else
                         servicer.answer(pb.GetRecommendationsRequest(user_id=key, k=k),
                                         servicer.recommend, PERSONAL)).response
                line = {"item_id" if items else "user_id": key,
                        "cold_start": reply.cold_start,
                        "items": [{"item_id": i.item_id, "score": round(i.score, 6),
                                   "reason": i.reason} for i in reply.items]}
                out.write(json.dumps(line) + "\n")
                written += 1
                if n % 10_000 == 0:
                    progress(f"  {n:,} ids answered")
            return written
        finally:
            store.close()


def main_batch(settings: Settings, path: Path, out_path: Path | None, k: int,
               items: bool) -> int:
    if out_path is None:
        written = write_batch(settings, path, sys.stdout, k, items)
    else:
        with out_path.open("w", encoding="utf-8") as out:
            written = write_batch(settings, path, out, k, items)
    progress(f"wrote {written:,} lines" + (f" to {out_path}" if out_path else ""))
    return written
