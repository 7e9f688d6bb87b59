"""An ordered multiset standing for HAProxy's eb32 trees (``ebtree.h``).

Ascending 32-bit keys; duplicate keys are walked in insertion order ("duplicates
will be walked in the exact same order they were inserted"), which is what
makes the tree-based algorithms' pick orders match HAProxy's.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")
Leaf = tuple[int, int]  # (key, insertion sequence): unique inside one tree
_M32 = 0xFFFFFFFF


class Eb32Tree(Generic[T]):
    """HAProxy's eb32 tree semantics: ascending 32-bit keys, and duplicate
    keys walked in insertion order (``ebtree.h``: "duplicates will be walked
    in the exact same order they were inserted").

    Kept as two parallel sorted lists, positions ``(key, seq)`` and items, so
    lookups are bisections and a leaf is found again by its position.
    Inserting is O(n), which is fine for a backend's servers; ``insert_many``
    and ``delete_many`` rebuild in O(n) for the consistent-hash ring.
    """

    __slots__ = ("_items", "_pos", "_seq")

    def __init__(self) -> None:
        self._pos: list[Leaf] = []
        self._items: list[T] = []
        self._seq = 0

    def __len__(self) -> int:
        return len(self._pos)

    def __iter__(self) -> Iterator[T]:
        return iter(self._items)

    def insert(self, key: int, item: T) -> Leaf:
        """Insert after every existing leaf with the same key (eb32_insert)."""
        leaf = (key & _M32, self._seq)
        self._seq += 1
        i = bisect_right(self._pos, leaf)
        self._pos.insert(i, leaf)
        self._items.insert(i, item)
        return leaf

    def delete(self, leaf: Leaf) -> None:
        i = self.index(leaf)
        del self._pos[i]
        del self._items[i]

    def index(self, leaf: Leaf) -> int:
        i = bisect_left(self._pos, leaf)
        assert i < len(self._pos), "leaf not in tree"
        assert self._pos[i] == leaf, "leaf not in tree"
        return i

    def first(self) -> T | None:
        return self._items[0] if self._items else None

    def delete_first(self) -> None:
        """``delete(leaf)`` of the first leaf, without looking for it."""
        del self._pos[0]
        del self._items[0]

    def lookup_ge(self, key: int) -> int:
        """Index of the first leaf whose key is >= ``key`` (may be ``len``)."""
        return bisect_left(self._pos, (key, -1))

    def key_at(self, i: int) -> int:
        return self._pos[i][0]

    def leaf_at(self, i: int) -> Leaf:
        return self._pos[i]

    def item_at(self, i: int) -> T:
        return self._items[i]

    def insert_many(self, entries: Iterable[tuple[int, T]]) -> list[Leaf]:
        """Insert in the given order, as successive ``insert`` calls would."""
        new_pos: list[Leaf] = []
        new_items: list[T] = []
        for key, item in entries:
            new_pos.append((key & _M32, self._seq))
            new_items.append(item)
            self._seq += 1
        if len(new_pos) < 16:
            for leaf, item in zip(new_pos, new_items, strict=True):
                i = bisect_right(self._pos, leaf)
                self._pos.insert(i, leaf)
                self._items.insert(i, item)
            return new_pos
        # Both runs are sorted once the new one is: merge them in O(n).
        order = sorted(range(len(new_pos)), key=new_pos.__getitem__)
        merged = list(
            heapq.merge(
                zip(self._pos, self._items, strict=True),
                ((new_pos[i], new_items[i]) for i in order),
                key=lambda e: e[0],
            )
        )
        self._pos = [p for p, _ in merged]
        self._items = [it for _, it in merged]
        return new_pos

    def delete_many(self, leaves: Iterable[Leaf]) -> None:
        gone = set(leaves)
        if len(gone) < 16:
            for leaf in gone:
                self.delete(leaf)
            return
        keep = [i for i, p in enumerate(self._pos) if p not in gone]
        self._pos = [self._pos[i] for i in keep]
        self._items = [self._items[i] for i in keep]
