"""docs/configuration.md is generated from the keyword tables and must not drift from them."""

from __future__ import annotations

from pathlib import Path

from herdsman.config import docs

DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def test_configuration_md_is_up_to_date() -> None:
    """Regenerate with ``python -m herdsman.config.docs > docs/configuration.md``."""
    assert DOC.read_text(encoding="utf-8") == docs.generate()


def test_every_status_is_documented() -> None:
    text = docs.generate()
    for status in ("| implemented |", "| parsed, not implemented yet |", "| not supported |"):
        assert status in text
