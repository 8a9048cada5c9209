"""argparse types for the command lines: a value out of range is refused with what it must be,
before anything starts.

>>> positive_int("3"), share("0.05"), below_one("0")
(3, 0.05, 0.0)
>>> positive_int("-1")
Traceback (most recent call last):
argparse.ArgumentTypeError: -1: must be a whole number of at least 1
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import re
from collections.abc import Callable
from typing import Any

from reco.config import Settings, env_name, load_settings


def _number(text: str, kind: Callable[[str], float]) -> float:
    try:
        return kind(text)
    except ValueError:
        return math.nan  # out of every range below: refused with the range's message


def _checked(text: str, kind: Callable[[str], float], ok: Callable[[float], bool],
             must: str) -> float:
    value = _number(text, kind)
    if not ok(value):
        raise argparse.ArgumentTypeError(f"{text}: must be {must}")
    return value


def positive_int(text: str) -> int:
    return int(_checked(text, int, lambda v: v >= 1, "a whole number of at least 1"))


def count(text: str) -> int:
    return int(_checked(text, int, lambda v: v >= 0, "a whole number, 0 or more"))


def positive(text: str) -> float:
    return _checked(text, float, lambda v: 0 < v < math.inf, "a number above 0")


def non_negative(text: str) -> float:
    return _checked(text, float, lambda v: 0 <= v < math.inf, "a number, 0 or more")


def share(text: str) -> float:
    return _checked(text, float, lambda v: 0 <= v <= 1, "a share between 0 and 1")


def below_one(text: str) -> float:
    return _checked(text, float, lambda v: 0 <= v < 1, "at least 0 and below 1")


def topic_name(text: str) -> str:
    """A Kafka topic name's last part: letters, digits, '.', '_' and '-' (up to 200).

    >>> topic_name("history-2026")
    'history-2026'
    >>> topic_name("a b")
    Traceback (most recent call last):
    argparse.ArgumentTypeError: 'a b': must be letters, digits, '.', '_' or '-' (up to 200)
    """
    if not re.fullmatch(r"[A-Za-z0-9._-]{1,200}", text) or text in (".", ".."):
        raise argparse.ArgumentTypeError(
            f"{text!r}: must be letters, digits, '.', '_' or '-' (up to 200)")
    return text


def positive_ints(text: str) -> list[int]:
    """A comma-separated list of whole numbers of at least 1, sorted, for argparse."""
    return _whole_numbers(text, 1, "whole numbers of at least 1, separated by commas")


def counts(text: str) -> list[int]:
    """A comma-separated list of whole numbers, 0 or more, sorted, for argparse.

    >>> counts("500,0")
    [0, 500]
    >>> counts("5,-1")
    Traceback (most recent call last):
    argparse.ArgumentTypeError: 5,-1: must be whole numbers, 0 or more, separated by commas
    """
    return _whole_numbers(text, 0, "whole numbers, 0 or more, separated by commas")


def _whole_numbers(text: str, low: int, must: str) -> list[int]:
    try:
        values = sorted({int(v) for v in text.split(",") if v.strip()})
    except ValueError:
        values = []
    if not values or values[0] < low:
        raise argparse.ArgumentTypeError(f"{text}: must be {must}")
    return values


def setting(text: str) -> tuple[str, Any]:
    """NAME=VALUE: one of the settings (``reco config``), its value read as from its
    environment variable, for a benchmark's job.

    >>> setting("profile_live_lag_ms=0"), setting("upserts_at_least_once=false")
    (('profile_live_lag_ms', 0), ('upserts_at_least_once', False))
    >>> setting("nope=1")
    Traceback (most recent call last):
    argparse.ArgumentTypeError: nope=1: must be NAME=VALUE, NAME a setting (see `reco config`)
    """
    name, equals, value = (part.strip() for part in text.partition("="))
    if not equals or name not in {f.name for f in dataclasses.fields(Settings)}:
        raise argparse.ArgumentTypeError(
            f"{text}: must be NAME=VALUE, NAME a setting (see `reco config`)")
    try:
        loaded = load_settings({env_name(name): value}, config_path=None)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text}: {exc}") from None
    return name, getattr(loaded, name)
