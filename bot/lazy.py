"""A sequence whose items are computed only when read, so a long result costs what one page costs."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Generic, TypeVar, overload

T = TypeVar("T")
R = TypeVar("R")


class LazyMap(Sequence[R], Generic[T, R]):
    """`items` seen through `convert`, applied on access."""

    def __init__(self, items: Sequence[T], convert: Callable[[T], R]) -> None:
        self._items = items
        self._convert = convert

    def __len__(self) -> int:
        return len(self._items)

    @overload
    def __getitem__(self, index: int) -> R: ...

    @overload
    def __getitem__(self, index: slice) -> list[R]: ...

    def __getitem__(self, index: int | slice) -> R | list[R]:
        if isinstance(index, slice):
            return [self._convert(item) for item in self._items[index]]
        return self._convert(self._items[index])
