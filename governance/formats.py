"""How figures read on governance's pages, shared by the dashboards and the project list
(a module of its own, so neither area imports the other for it)."""

from __future__ import annotations

from decimal import Decimal

DASH = "—"


def percent(value: Decimal | None) -> str:
    """0.92345 → "92.3%"; no value → a dash (a rate with nothing to count)."""
    if value is None:
        return DASH
    return f"{(value * 100).quantize(Decimal('0.1'))}%"
