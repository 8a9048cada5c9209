"""Internal keys: where shared records live, in a namespace no user, item or category id can
enter.

The top lists broadcast to the user operator share one map: every key names its kind first
(``category/``, ``new/``, ``factors/``, ``segment-model/``, or exactly ``popular``), and a
category id only ever appears after ``category/`` or ``new/``, so no category can stand for
the popular list, a factor chunk or a segment model. The cold-start lists (global and per
segment) leave the job on their own compacted topic (``Settings.topic_popular_lists``), so no
user id can overwrite them on the recommendations topic.

>>> category_key("__popular__"), new_items_key("shoes"), factors_key(3)
('category/__popular__', 'new/shoes', 'factors/3')
>>> category_key("popular") != POPULAR_LIST and not category_key("factors/1").startswith(
...     FACTORS_PREFIX)
True
>>> segment_list_key(2), country_list_key("DE"), GLOBAL_LIST
('segment:2', 'country:DE', 'global')
>>> ranking_key("views", "shoes"), ranking_key("purchases", None), is_ranking_key("views/x")
('views/shoes', 'purchases', True)
"""

from __future__ import annotations

# broadcast map (TOP_LISTS) keys
POPULAR_LIST = "popular"
CATEGORY_PREFIX = "category/"
NEW_ITEMS_PREFIX = "new/"
FACTORS_PREFIX = "factors/"
SEGMENT_MODEL_PREFIX = "segment-model/"  # + a job instance: its segment centres
# rankings for the popular placement only (not broadcast to the user operator): a category's
# most viewed and best-selling items, and exactly "views" / "purchases" over all categories
VIEWS_PREFIX = "views/"
PURCHASES_PREFIX = "purchases/"
ALL_VIEWS = "views"
ALL_PURCHASES = "purchases"

# keys of the popular-lists topic (the cold-start lists)
GLOBAL_LIST = "global"
SEGMENT_LIST_PREFIX = "segment:"
COUNTRY_LIST_PREFIX = "country:"


def category_key(category: str) -> str:
    """The broadcast key of a category's trending list."""
    return CATEGORY_PREFIX + category


def new_items_key(category: str) -> str:
    """The broadcast key of a category's newest items."""
    return NEW_ITEMS_PREFIX + category


def ranking_key(kind: str, category: str | None) -> str:
    """The key of a category's (``None``: every category's) ranking by ``kind``, ``views`` or
    ``purchases``."""
    prefix, overall = {"views": (VIEWS_PREFIX, ALL_VIEWS),
                       "purchases": (PURCHASES_PREFIX, ALL_PURCHASES)}[kind]
    return overall if category is None else prefix + category


def is_ranking_key(key: str) -> bool:
    """Whether a key names a views or purchases ranking (published, never broadcast)."""
    return key in (ALL_VIEWS, ALL_PURCHASES) or key.startswith((VIEWS_PREFIX, PURCHASES_PREFIX))


def factors_key(chunk: int) -> str:
    """The broadcast key of one chunk of the item factors."""
    return f"{FACTORS_PREFIX}{chunk}"


def instance_name(index: int) -> str:
    """A user-operator instance's name on the segments topic."""
    return f"instance-{index}"


REFERENCE_INSTANCE = instance_name(0)  # the instance whose segment model the others follow


def segment_model_key(instance: str) -> str:
    """The broadcast key of one job instance's segment model (the segments topic's record)."""
    return SEGMENT_MODEL_PREFIX + instance


def segment_list_key(segment: int | str) -> str:
    """The popular-lists key of a segment's cold-start list."""
    return f"{SEGMENT_LIST_PREFIX}{segment}"


def country_list_key(code: str) -> str:
    """The popular-lists key of the list of what a country's users want (an ISO 3166 code)."""
    return COUNTRY_LIST_PREFIX + code
