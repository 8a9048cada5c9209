"""Product feeds into catalog records (``reco.v1.Item``): CSV, TSV or JSON lines, with the
Google Merchant feed's column names understood as they are (``id``, ``title``,
``description``, ``availability``, ``price``, ``brand``, ``product_type`` or
``google_product_category``, ``image_link``, ``custom_label_0``..``4``). Any other column
becomes an attribute. A row that cannot be a product gives its line and reason instead;
a feed without an id column is refused whole, naming the columns it could use.

>>> rows = [{"id": "sku-1", "title": "Trail shoe", "price": "89.90 EUR",
...          "availability": "out of stock", "product_type": "Shoes > Running",
...          "color": "red"}]
>>> [(line, item.item_id, item.price, item.currency, item.availability == OUT_OF_STOCK,
...   list(item.category_path), dict(item.attributes)) for line, item in items_from_rows(rows)]
[(2, 'sku-1', 89.9, 'EUR', True, ['Shoes', 'Running'], {'color': 'red'})]
>>> [(line, why) for line, why in items_from_rows([{"id": "", "title": "x"}])]
[(2, 'empty id')]
>>> is_available(Item(availability=DISCONTINUED)), is_available(Item())
(False, True)
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from google.protobuf.message import DecodeError

from reco.events import InvalidEvent
from reco.records import CatalogEntry
from reco.v1.catalog_pb2 import (
    DISCONTINUED,
    IN_STOCK,
    OUT_OF_STOCK,
    PREORDER,
    Availability,
    Item,
)

FEED_FORMATS = ("csv", "tsv", "jsonl")
ID_COLUMNS = ("id", "item_id")
AVAILABILITY: dict[str, Availability] = {
    "in stock": IN_STOCK, "in_stock": IN_STOCK, "instock": IN_STOCK, "available": IN_STOCK,
    "out of stock": OUT_OF_STOCK, "out_of_stock": OUT_OF_STOCK, "outofstock": OUT_OF_STOCK,
    "sold out": OUT_OF_STOCK, "discontinued": DISCONTINUED,
    "preorder": PREORDER, "pre-order": PREORDER, "backorder": PREORDER}
SHOWN = {IN_STOCK, PREORDER, 0}  # 0: unspecified, as a shop that never says is in stock
KNOWN = {"id", "item_id", "title", "description", "availability", "price", "currency", "brand",
         "product_type", "google_product_category", "category", "image_link", "image_url",
         "labels", *(f"custom_label_{n}" for n in range(5))}
MAX_ID = 256
PRICE = re.compile(r"^\s*(?P<amount>[0-9]+(?:[.,][0-9]+)?)\s*(?P<currency>[A-Za-z]{3})?\s*$")


class FeedError(ValueError):
    """A feed that cannot be read at all; the message says what it expected."""


def is_available(item: Item) -> bool:
    return item.availability in SHOWN


def _availability(text: str) -> Availability:
    found = AVAILABILITY.get(text.strip().lower())
    if found is None:
        raise ValueError(f"availability {text!r} is not one of {', '.join(sorted(AVAILABILITY))}")
    return found


def _price(text: str, currency: str) -> tuple[float, str]:
    match = PRICE.match(text)
    if not match:
        raise ValueError(f"price {text!r} is not an amount with an optional currency "
                         "(e.g. '19.99 USD')")
    amount = float(match["amount"].replace(",", "."))
    if not math.isfinite(amount):
        raise ValueError(f"price {text!r} is not finite")
    return amount, (match["currency"] or currency).upper()


def _category(row: dict[str, str]) -> list[str]:
    path = row.get("product_type") or row.get("category") or row.get("google_product_category")
    return [part.strip() for part in re.split(r">|/", path or "") if part.strip()]


def item_from_row(row: dict[str, Any]) -> Item:
    """One feed row as an Item; ValueError says why it cannot be one."""
    row = {str(k).strip().lower(): "" if v is None else str(v).strip() for k, v in row.items()}
    item_id = row.get("id") or row.get("item_id") or ""
    if not item_id:
        raise ValueError("empty id")
    if len(item_id) > MAX_ID or any(ord(c) < 32 for c in item_id):
        raise ValueError(f"id {item_id[:40]!r}... is longer than {MAX_ID} or holds control "
                         "characters")
    item = Item(item_id=item_id, title=row.get("title", ""), brand=row.get("brand", ""),
                description=row.get("description", ""),
                image_url=row.get("image_link") or row.get("image_url") or "",
                category_path=_category(row))
    if row.get("availability"):
        item.availability = _availability(row["availability"])
    if row.get("price"):
        item.price, item.currency = _price(row["price"], row.get("currency", ""))
    labels = [row[f"custom_label_{n}"] for n in range(5) if row.get(f"custom_label_{n}")]
    labels += [x.strip() for x in row.get("labels", "").split(",") if x.strip()]
    item.labels.extend(labels)
    item.attributes.update({k: v for k, v in row.items() if k not in KNOWN and v})
    return item


def items_from_rows(rows: Iterable[dict[str, Any]], first_line: int = 2
                    ) -> Iterator[tuple[int, Item | str]]:
    """(line, Item) per good row and (line, reason) per bad one."""
    for line, row in enumerate(rows, start=first_line):
        try:
            yield line, item_from_row(row)
        except ValueError as exc:
            yield line, str(exc)


def feed_format(path: Path, given: str | None) -> str:
    if given:
        return given
    suffix = path.suffix.lower().lstrip(".")
    return {"json": "jsonl", "ndjson": "jsonl", "txt": "tsv"}.get(suffix, suffix) \
        if suffix in (*FEED_FORMATS, "json", "ndjson", "txt") else "csv"


def read_feed(path: Path, kind: str | None = None) -> Iterator[tuple[int, Item | str]]:
    """The feed's rows as ``items_from_rows`` gives them. FeedError when the file has no id
    column (before any row is given)."""
    kind = feed_format(path, kind)
    if kind not in FEED_FORMATS:
        raise FeedError(f"unknown feed format {kind!r}: one of {', '.join(FEED_FORMATS)}")
    if kind == "jsonl":
        yield from _read_jsonl(path)
        return
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh, delimiter="\t" if kind == "tsv" else ",")
        columns = [c.strip().lower() for c in reader.fieldnames or []]
        if not any(c in columns for c in ID_COLUMNS):
            raise FeedError(f"{path}: no id column; the columns it has: {', '.join(columns)}; "
                            f"expected 'id' (or 'item_id') and any of "
                            f"{', '.join(sorted(KNOWN - set(ID_COLUMNS)))}")
        yield from items_from_rows(reader)


def _read_jsonl(path: Path) -> Iterator[tuple[int, Item | str]]:
    with path.open(encoding="utf-8") as fh:
        for line, text in enumerate(fh, start=1):
            if not text.strip():
                continue
            try:
                row = json.loads(text)
                if not isinstance(row, dict):
                    raise ValueError("not a JSON object")
            except ValueError as exc:
                yield line, f"not a JSON object: {exc}"
                continue
            yield from items_from_rows([row], first_line=line)


def same_product(a: Item, b: Item) -> bool:
    """The same product data, whatever the bookkeeping times say."""
    a, b = Item.FromString(a.SerializeToString()), Item.FromString(b.SerializeToString())
    for item in (a, b):
        item.ClearField("created_ms")
        item.ClearField("updated_ms")
    return a.SerializeToString(deterministic=True) == b.SerializeToString(deterministic=True)


def price_band(price: float | None) -> int:
    """A content feature: 0 unknown, else 1 + floor(log2(price)) clipped to 1..20 (a band
    per doubling: 1-2, 2-4, ... currency units)."""
    if price is None or price <= 0:
        return 0
    return min(20, max(1, 1 + math.floor(math.log2(price))))


def catalog_entry(raw: bytes) -> CatalogEntry:
    """A catalog record of the ``items`` topic as the job's per-item operator learns it;
    InvalidEvent (with the reason) for bytes that are not a usable ``reco.v1.Item``.

    >>> catalog_entry(Item(item_id="i1", category_path=["Gear", "Boots"], price=70.0,
    ...                    created_ms=5).SerializeToString())
    CatalogEntry(item_id='i1', category='Boots', price=70.0, created_ms=5)
    """
    try:
        item = Item.FromString(raw)
    except DecodeError:
        raise InvalidEvent("catalog record: not a reco.v1.Item protobuf") from None
    if not item.item_id or len(item.item_id) > MAX_ID or any(c < " " for c in item.item_id):
        raise InvalidEvent("catalog record: item_id is empty, too long or has control "
                           "characters")
    if not math.isfinite(item.price) or item.price < 0:
        raise InvalidEvent(f"catalog record: price {item.price} is not a finite price")
    return CatalogEntry(item.item_id, item.category_path[-1] if item.category_path else "",
                        item.price or None, max(item.created_ms, 0))
