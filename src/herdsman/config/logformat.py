"""Log-format strings: the subset herdsman evaluates (placeholder, see checks helper)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class LogFormat:
    """A parsed log-format string. ``text`` is the string as written."""

    text: str

    def evaluate(self, ctx: Mapping[str, str]) -> str:
        return self.text

    @property
    def is_literal(self) -> bool:
        return True
