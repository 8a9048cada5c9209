"""What a request to the Recommendations service may hold: each check says what is wrong,
naming the field, or gives None (the servicer answers INVALID_ARGUMENT with it)."""

from __future__ import annotations

import math
from typing import Any

from google.protobuf.message import DecodeError

from reco.events import MAX_ID_LEN, MAX_TS_MS, MAX_ZONE_LEN, MIN_TS_MS, valid_timezone
from reco.v1 import recommendations_pb2 as pb
from userstep.placements import BY

MAX_K = 100
MAX_USER_ID = MAX_ID_LEN
MAX_EXCLUDE = 1000
# The documented limits of the request context (README: API): what the impression log and the
# policy can take. Longer values are refused, not cut, so a client learns of them.
CONTEXT_LIMITS = {"device": 64, "country": 64, "region": 128, "timezone": MAX_ZONE_LEN,
                  "user_agent": 1024}
MAX_EXTRA = 32
MAX_EXTRA_KEY = 64
MAX_EXTRA_VALUE = 256


def request_problem(user_id: str, k: int | None = None, exclude: int = 0) -> str | None:
    """Why a request is invalid, or None."""
    if not user_id or not user_id.strip():
        return "user_id is empty; pass the id your events use"
    if len(user_id) > MAX_USER_ID:
        return f"user_id is longer than {MAX_USER_ID} characters"
    if k is not None and not 1 <= k <= MAX_K:
        return f"k must be between 1 and {MAX_K}, got {k}"
    if exclude > MAX_EXCLUDE:
        return f"at most {MAX_EXCLUDE} exclude_item_ids, got {exclude}"
    return None


def context_problem(ctx: pb.Context) -> str | None:
    """Why a request's context is invalid (naming the field), or None: the event rules
    (reco/events.py) applied to the request."""
    for name, limit in CONTEXT_LIMITS.items():
        if len(getattr(ctx, name)) > limit:
            return f"context.{name} is longer than {limit} characters"
    if ctx.timezone and not valid_timezone(ctx.timezone):
        return (f"context.timezone {ctx.timezone[:40]!r} is not an IANA time zone name "
                "(like Europe/Berlin)")
    if ctx.ts and not MIN_TS_MS <= ctx.ts < MAX_TS_MS:
        return f"context.ts {ctx.ts} is not epoch milliseconds within 2000..2100 (0: now)"
    if len(ctx.extra) > MAX_EXTRA:
        return f"context.extra has more than {MAX_EXTRA} entries"
    for key, value in ctx.extra.items():
        if len(key) > MAX_EXTRA_KEY or len(value) > MAX_EXTRA_VALUE:
            return (f"context.extra[{key[:40]!r}]: keys are at most {MAX_EXTRA_KEY} and values "
                    f"at most {MAX_EXTRA_VALUE} characters")
    return None


def recommendations_request_problem(request: pb.GetRecommendationsRequest) -> str | None:
    problem = request_problem(request.user_id, request.k, len(request.exclude_item_ids))
    if problem is None and any(len(i) > MAX_ID_LEN for i in request.exclude_item_ids):
        problem = f"exclude_item_ids: an id is longer than {MAX_ID_LEN} characters"
    return problem or context_problem(request.context) or filters_problem(request.filters)


def _placement_problem(request: pb.GetSimilarItemsRequest | pb.GetPopularItemsRequest
                       | pb.GetComplementaryItemsRequest) -> str | None:
    """The fields every placement shares: an optional user, k, exclusions, the context."""
    if request.user_id and len(request.user_id) > MAX_USER_ID:
        return f"user_id is longer than {MAX_USER_ID} characters"
    probe = pb.GetRecommendationsRequest(user_id=request.user_id or "-", k=request.k,
                                         exclude_item_ids=request.exclude_item_ids,
                                         context=request.context, filters=request.filters)
    return recommendations_request_problem(probe)


def similar_request_problem(request: pb.GetSimilarItemsRequest) -> str | None:
    if not request.item_id.strip():
        return "item_id is empty; pass the id your events and catalog use"
    if len(request.item_id) > MAX_ID_LEN:
        return f"item_id is longer than {MAX_ID_LEN} characters"
    return _placement_problem(request)


def popular_request_problem(request: pb.GetPopularItemsRequest) -> str | None:
    if request.by and request.by not in BY:
        return f"by {request.by[:40]!r} is not one of {', '.join(BY)}"
    if len(request.category) > MAX_ID_LEN:
        return f"category is longer than {MAX_ID_LEN} characters"
    return _placement_problem(request)




MAX_BASKET = 100
MAX_FILTER_VALUES = 100  # names per include/exclude list, and pinned items
MAX_VIEWED_MINUTES = 43_200  # 30 days
FILTER_NAMES = ("include_categories", "exclude_categories", "include_brands",
                "exclude_brands", "include_labels", "exclude_labels", "pinned_item_ids")


def filters_problem(filters: pb.Filters) -> str | None:
    """Why a request's filters are invalid (naming the field), or None."""
    for name in FILTER_NAMES:
        values = getattr(filters, name)
        if len(values) > MAX_FILTER_VALUES:
            return f"filters.{name} has more than {MAX_FILTER_VALUES} entries"
        if any(not value.strip() or len(value) > MAX_ID_LEN for value in values):
            return f"filters.{name}: every entry must be 1..{MAX_ID_LEN} characters"
    for name in ("min_price", "max_price"):
        value = getattr(filters, name)
        if filters.HasField(name) and not (math.isfinite(value) and value >= 0):
            return f"filters.{name} must be a finite price of 0 or more, got {value}"
    if (filters.HasField("min_price") and filters.HasField("max_price")
            and filters.min_price > filters.max_price):
        return (f"filters.min_price {filters.min_price} is above filters.max_price "
                f"{filters.max_price}")
    if not 0 <= filters.exclude_viewed_minutes <= MAX_VIEWED_MINUTES:
        return f"filters.exclude_viewed_minutes must be between 0 and {MAX_VIEWED_MINUTES}"
    for name in ("max_per_category", "max_per_brand"):
        if not 0 <= getattr(filters, name) <= MAX_K:
            return f"filters.{name} must be between 0 (no cap) and {MAX_K}"
    promotion = filters.promotion
    if not 0 <= promotion.min_items <= MAX_K:
        return f"filters.promotion.min_items must be between 0 and {MAX_K}"
    if promotion.min_items and not promotion.label.strip():
        return "filters.promotion.label is empty; name the label to promote (like sale)"
    if len(promotion.label) > MAX_ID_LEN:
        return f"filters.promotion.label is longer than {MAX_ID_LEN} characters"
    return None


def complementary_request_problem(request: pb.GetComplementaryItemsRequest) -> str | None:
    if not request.item_ids:
        return "item_ids is empty; pass the basket's item ids"
    if len(request.item_ids) > MAX_BASKET:
        return f"at most {MAX_BASKET} item_ids, got {len(request.item_ids)}"
    if any(not item.strip() or len(item) > MAX_ID_LEN for item in request.item_ids):
        return f"item_ids: every id must be 1..{MAX_ID_LEN} characters"
    return _placement_problem(request)


UNREADABLE = ("the request is not a valid protobuf message of this method's request type "
              "(or holds invalid UTF-8); use the reco.v1 protos")


def lenient(message: type[Any]) -> Any:
    """A request deserializer that gives None for bytes that do not parse (the handler then
    answers INVALID_ARGUMENT; gRPC would answer UNKNOWN for the exception)."""
    def parse(raw: bytes) -> Any:
        try:
            return message.FromString(raw)
        except DecodeError:
            return None
    return parse


def with_user(request: Any, user_id: str) -> Any:
    """A copy of ``request`` for another user id (requests are the caller's: not changed)."""
    copy = type(request)()
    copy.CopyFrom(request)
    copy.user_id = user_id
    return copy
