"""Compact pickling for small state classes with ``__slots__``: the slot values as one tuple.

A slot added to a class after its states were first stored goes last in ``__slots__`` and in
``added_slots`` with a factory for its value: a state stored before it (a savepoint, the
RocksDB state of a running job) holds fewer values and restores with that value.

>>> class Counter(SlotState):
...     __slots__ = ("count", "seen")
...     added_slots = {"seen": list}
>>> restored = Counter.__new__(Counter)
>>> restored.__setstate__((3,))  # what pickle does with a state stored before "seen"
>>> restored.count, restored.seen
(3, [])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar


class SlotState:
    __slots__: tuple[str, ...] = ()
    added_slots: ClassVar[dict[str, Callable[[], object]]] = {}

    def __getstate__(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __setstate__(self, state: tuple[object, ...]) -> None:
        missing = self.__slots__[len(state):]
        unknown = [name for name in missing if name not in self.added_slots]
        if len(state) > len(self.__slots__) or unknown:
            raise ValueError(
                f"a stored {type(self).__name__} has {len(state)} values for "
                f"{len(self.__slots__)} slots (missing without a default: {unknown}); it was "
                "written by another version of the class: restore with that version")
        for name, value in zip(self.__slots__, state, strict=False):
            setattr(self, name, value)
        for name in missing:
            setattr(self, name, self.added_slots[name]())
