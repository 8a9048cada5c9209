"""Loaders that turn public data sets into the project's events (read by path; never copied).

Taobao UserBehavior: ``user_id,item_id,category_id,behavior_type,timestamp`` without a header;
``pv`` -> product_view, ``fav`` -> wishlist, ``cart`` -> add_to_cart, ``buy`` -> purchase;
unix seconds. The file is grouped by user: ``load_taobao`` returns events in time order. It has
no prices, dwell times or contexts.
"""

from __future__ import annotations

import csv
from pathlib import Path

from reco.events import Event

TAOBAO_TYPES = {"pv": "product_view", "fav": "wishlist", "cart": "add_to_cart",
                "buy": "purchase"}


class DatasetError(ValueError):
    """A data set row that cannot be read; the message names the file and line."""


def load_taobao(path: str | Path) -> list[Event]:
    events = []
    with open(path, newline="", encoding="utf-8") as fh:
        for line, row in enumerate(csv.reader(fh), 1):
            if len(row) != 5:
                raise DatasetError(f"{path}:{line}: expected 5 columns "
                                   "(user_id,item_id,category_id,behavior_type,timestamp)")
            user, item, category, behaviour, seconds = row
            if behaviour not in TAOBAO_TYPES:
                raise DatasetError(f"{path}:{line}: unknown behavior_type {behaviour!r}")
            events.append(Event(f"tb-{line}", TAOBAO_TYPES[behaviour], f"tb{user}",
                                ts=int(seconds) * 1000, item_id=item, category=category))
    events.sort(key=lambda e: e.ts)
    return events
