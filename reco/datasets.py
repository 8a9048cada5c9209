"""Loaders that turn public data sets into the project's events, in time order (read by path
given on the command line; never copied into the repository). ``load_dataset(kind, path)``:

- ``taobao``: UserBehavior ``user_id,item_id,category_id,behavior_type,timestamp`` (no header,
  unix seconds); pv -> product_view, fav -> wishlist, cart -> add_to_cart, buy -> purchase.
- ``retailrocket``: ``events.csv`` (``timestamp,visitorid,event,itemid,transactionid``, ms);
  view / addtocart / transaction; categories from ``item_properties*.csv`` beside it (the
  ``categoryid`` property, latest value) when present.
- ``yoochoose``: the original ``yoochoose-clicks.dat`` (``session,timestamp,item,category``)
  with ``yoochoose-buys.dat`` beside it (``session,timestamp,item,price,quantity``), or the
  session-rec sample (tab-separated ``SessionId ItemId Time``, unix seconds). Users are
  sessions; a click is a product view.
- ``diginetica``: ``train-item-views.csv`` (``sessionId;userId;itemId;timeframe;eventdate``) with
  ``train-purchases.csv`` and ``product-categories.csv`` beside it when present; the user is
  userId, else the session.
- ``movielens``: ``ratings.csv`` (header ``userId,movieId,rating,timestamp``) or ``ratings.dat``
  (``::``); a rating at or above ``threshold`` (4) is a purchase (the positive event), below it
  a product view; the first genre from ``movies.csv``/``movies.dat`` is the category.
- ``csv``: generic, header required: ``timestamp,user_id,item_id,event_type[,category][,price]``
  with event types as in DESIGN.md and epoch milliseconds or ISO-8601 timestamps.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from reco.events import EVENT_TYPES, Event, InvalidEvent, parse_ts

TAOBAO_TYPES = {"pv": "product_view", "fav": "wishlist", "cart": "add_to_cart",
                "buy": "purchase"}
RETAILROCKET_TYPES = {"view": "product_view", "addtocart": "add_to_cart",
                      "transaction": "purchase"}


class DatasetError(ValueError):
    """A data set row that cannot be read; the message names the file and line."""


def _rows(path: Path, delimiter: str = ",", header: bool = True) -> Iterator[tuple[int, list[str]]]:
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh, delimiter=delimiter)
        if header:
            next(reader, None)
        for line, row in enumerate(reader, 2 if header else 1):
            if row:
                yield line, row


def _sorted(events: list[Event]) -> list[Event]:
    events.sort(key=lambda e: e.ts)
    return events


def load_taobao(path: str | Path) -> list[Event]:
    events = []
    for line, row in _rows(Path(path), header=False):
        if len(row) != 5:
            raise DatasetError(f"{path}:{line}: expected 5 columns "
                               "(user_id,item_id,category_id,behavior_type,timestamp)")
        user, item, category, behaviour, seconds = row
        if behaviour not in TAOBAO_TYPES:
            raise DatasetError(f"{path}:{line}: unknown behavior_type {behaviour!r}")
        events.append(Event(f"tb-{line}", TAOBAO_TYPES[behaviour], f"tb{user}",
                            ts=int(seconds) * 1000, item_id=item, category=category))
    return _sorted(events)


def _retailrocket_categories(folder: Path) -> dict[str, str]:
    latest: dict[str, tuple[int, str]] = {}
    for part in sorted(folder.glob("item_properties*.csv")):
        for _, row in _rows(part):
            if len(row) == 4 and row[2] == "categoryid":
                ts, item = int(row[0]), row[1]
                if ts >= latest.get(item, (-1, ""))[0]:
                    latest[item] = (ts, row[3])
    return {item: category for item, (_, category) in latest.items()}


def load_retailrocket(path: str | Path) -> list[Event]:
    path = Path(path)
    categories = _retailrocket_categories(path.parent)
    events = []
    for line, row in _rows(path):
        if len(row) < 4 or row[2] not in RETAILROCKET_TYPES:
            raise DatasetError(f"{path}:{line}: expected timestamp,visitorid,event,itemid,"
                               "transactionid with event view, addtocart or transaction")
        events.append(Event(f"rr-{line}", RETAILROCKET_TYPES[row[2]], f"rr{row[1]}",
                            ts=int(row[0]), item_id=row[3], category=categories.get(row[3])))
    return _sorted(events)


def _iso_ms(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


def load_yoochoose(path: str | Path) -> list[Event]:
    path = Path(path)
    with open(path, encoding="utf-8") as fh:
        first = fh.readline()
    events = []
    if "\t" in first:  # the session-rec sample: SessionId ItemId Time
        for line, row in _rows(path, delimiter="\t"):
            events.append(Event(f"yc-{line}", "product_view", f"ys{row[0]}",
                                ts=int(float(row[2]) * 1000), item_id=row[1]))
        return _sorted(events)
    for line, row in _rows(path, header=False):
        category = row[3] if len(row) > 3 and row[3] not in ("0", "") else None
        events.append(Event(f"yc-{line}", "product_view", f"ys{row[0]}", ts=_iso_ms(row[1]),
                            item_id=row[2], category=category))
    buys = path.with_name("yoochoose-buys.dat")
    if buys.exists():
        for line, row in _rows(buys, header=False):
            events.append(Event(f"yb-{line}", "purchase", f"ys{row[0]}", ts=_iso_ms(row[1]),
                                item_id=row[2], price=float(row[3]) or None,
                                quantity=int(row[4]) or 1))
    return _sorted(events)


def load_diginetica(path: str | Path) -> list[Event]:
    path = Path(path)
    categories: dict[str, str] = {}
    if (path.parent / "product-categories.csv").exists():
        categories = {row[0]: row[1] for _, row in
                      _rows(path.parent / "product-categories.csv", delimiter=";")}

    def user(session: str, user_id: str) -> str:
        return f"dg{user_id}" if user_id and user_id != "NA" else f"ds{session}"

    def ts(date: str, timeframe: str) -> int:
        day = datetime.strptime(date, "%Y-%m-%d").replace(tzinfo=UTC)
        return int(day.timestamp() * 1000) + int(timeframe)

    events = []
    for line, row in _rows(path, delimiter=";"):
        session, user_id, item, timeframe, date = row[:5]
        events.append(Event(f"dv-{line}", "product_view", user(session, user_id),
                            ts=ts(date, timeframe), item_id=item, category=categories.get(item)))
    purchases = path.parent / "train-purchases.csv"
    if purchases.exists():
        for line, row in _rows(purchases, delimiter=";"):
            session, user_id, timeframe, date, _, item = row[:6]
            events.append(Event(f"dp-{line}", "purchase", user(session, user_id),
                                ts=ts(date, timeframe), item_id=item,
                                category=categories.get(item)))
    return _sorted(events)


def _movie_genres(folder: Path) -> dict[str, str]:
    for name, delimiter in (("movies.csv", ","), ("movies.dat", "::")):
        path = folder / name
        if path.exists():
            out = {}
            with open(path, encoding="utf-8", errors="replace") as fh:
                lines = fh.read().splitlines()[1 if delimiter == "," else 0:]
            for text in lines:
                row = next(csv.reader([text])) if delimiter == "," else text.split("::")
                if len(row) >= 3:
                    out[row[0]] = row[-1].split("|")[0]
            return out
    return {}


def load_movielens(path: str | Path, threshold: float = 4.0) -> list[Event]:
    path = Path(path)
    genres = _movie_genres(path.parent)
    with open(path, encoding="utf-8") as fh:
        lines = fh.read().splitlines()
    split: Callable[[str], list[str]] = (lambda s: s.split("::")) if path.suffix == ".dat" \
        else (lambda s: s.split(","))
    events = []
    for line, text in enumerate(lines, 1):
        row = split(text)
        if line == 1 and not row[0].isdigit():
            continue  # the header
        user, movie, rating, seconds = row[:4]
        kind = "purchase" if float(rating) >= threshold else "product_view"
        events.append(Event(f"ml-{line}", kind, f"ml{user}", ts=int(seconds) * 1000,
                            item_id=movie, category=genres.get(movie)))
    return _sorted(events)


def load_generic_csv(path: str | Path) -> list[Event]:
    events = []
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = {"timestamp", "user_id", "item_id", "event_type"} - set(reader.fieldnames or ())
        if missing:
            raise DatasetError(f"{path}: header needs timestamp,user_id,item_id,event_type"
                               f"[,category][,price]; missing {', '.join(sorted(missing))}")
        for line, row in enumerate(reader, 2):
            if row["event_type"] not in EVENT_TYPES:
                raise DatasetError(f"{path}:{line}: unknown event_type {row['event_type']!r}")
            try:
                ts = parse_ts(int(row["timestamp"]) if row["timestamp"].isdigit()
                              else row["timestamp"])
            except InvalidEvent as exc:
                raise DatasetError(f"{path}:{line}: {exc}") from None
            price = row.get("price")
            events.append(Event(f"csv-{line}", row["event_type"], row["user_id"], ts=ts,
                                item_id=row["item_id"], category=row.get("category") or None,
                                price=float(price) if price else None))
    return _sorted(events)


LOADERS: dict[str, Callable[[str | Path], list[Event]]] = {
    "taobao": load_taobao, "retailrocket": load_retailrocket, "yoochoose": load_yoochoose,
    "diginetica": load_diginetica, "movielens": load_movielens, "csv": load_generic_csv}


def load_dataset(kind: str, path: str | Path) -> list[Event]:
    if kind not in LOADERS:
        raise DatasetError(f"unknown data set kind {kind!r}: one of {', '.join(LOADERS)}")
    if not Path(path).exists():
        raise DatasetError(f"{path}: no such file")
    return LOADERS[kind](path)
