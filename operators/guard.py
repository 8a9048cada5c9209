"""Poison-record isolation: a record whose processing raises goes to the dead-letter topic with
the operator, the exception type and message, and the job goes on.

Flink restarts a task whose function raises, meets the same record again and, after the
restart attempts, stays down: one record would stop every user's recommendations. Every
per-record method of every operator is wrapped by ``dead_letter_on_error``: its outputs are
collected first, so a record that fails half-way emits nothing but its dead letter (state
already written by that call stays). Failures are counted in the operator's Flink metric
``deadLettered`` (``failure_counter`` in ``open``). A job that cannot start still fails:
``open`` is not wrapped.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from pyflink.common import Types
from pyflink.datastream import OutputTag

from reco.clock import now_ms

DEAD_LETTERS = OutputTag("dead-letters", Types.STRING())
RECORD_CHARS = 4_000  # of the failed record's description kept in its dead letter

log = logging.getLogger("reco.job")
F = TypeVar("F", bound=Callable[..., Any])


def describe(value: Any) -> Any:
    """A JSON-able description of what an operator was given (events and impressions as
    their fields; anything else as its repr, cut)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        to_json = getattr(value, "to_json_dict", None)
        return to_json() if to_json else dataclasses.asdict(value)
    if isinstance(value, tuple | list) and len(value) <= 16:
        return [describe(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value if not isinstance(value, str) else value[:RECORD_CHARS]
    return repr(value)[:RECORD_CHARS]


def failure_letter(operator: str, exc: BaseException, record: Any) -> str:
    """The dead-letter record of a failure (ASCII JSON: lone surrogates stay escaped)."""
    try:
        described = describe(record)
        json.dumps(described)
    except Exception:  # the description must not fail in turn
        described = repr(record)[:RECORD_CHARS]
    message = str(exc)[:1000]
    return json.dumps({"reason": f"{operator} failed: {type(exc).__name__}: {message}",
                       "operator": operator, "error_type": type(exc).__name__,
                       "error": message, "record": described,
                       "dead_lettered_at_ms": now_ms()}, default=repr)


class Count:
    """A count kept in the operator and exposed as its Flink metric ``name`` (where the
    runtime offers metrics)."""

    def __init__(self, runtime_context: Any, name: str) -> None:
        self.value = 0
        try:
            self.metric = runtime_context.get_metrics_group().counter(name)
        except Exception:
            self.metric = None

    def inc(self) -> None:
        self.value += 1
        if self.metric is not None:
            self.metric.inc()


def failure_counter(runtime_context: Any) -> Count:
    """The operator's ``deadLettered`` count and metric."""
    return Count(runtime_context, "deadLettered")


def side_output(letter: str) -> Any:
    return DEAD_LETTERS, letter


def dead_letter_on_error(operator: str, emit: Callable[[str], Any] = side_output
                         ) -> Callable[[F], F]:
    """Wraps ``method(self, value, ctx)``: its outputs as a list, or the dead letter of the
    failure (passed to ``emit``: a side output, or a tagged main output where the method
    cannot emit side outputs, as a keyed broadcast function's timers)."""
    def wrap(method: F) -> F:
        @functools.wraps(method)
        def guarded(self: Any, value: Any, ctx: Any) -> Iterable[Any]:
            try:
                return list(method(self, value, ctx) or ())
            except Exception as exc:
                counter = getattr(self, "failures", None)
                if counter is not None:
                    counter.inc()
                log.warning("%s: record dead-lettered after %s: %s", operator,
                            type(exc).__name__, exc)
                record = value
                if method.__name__ == "on_timer":
                    record = {"timer": value, "key": _current_key(ctx)}
                return [emit(failure_letter(operator, exc, record))]
        return guarded  # type: ignore[return-value]
    return wrap


def _current_key(ctx: Any) -> Any:
    try:
        return ctx.get_current_key()
    except Exception:
        return None
