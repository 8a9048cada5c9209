"""Compact pickling for small state classes with ``__slots__``: the slot values as one tuple."""

from __future__ import annotations


class SlotState:
    __slots__: tuple[str, ...] = ()

    def __getstate__(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __setstate__(self, state: tuple[object, ...]) -> None:
        for name, value in zip(self.__slots__, state, strict=True):
            setattr(self, name, value)
