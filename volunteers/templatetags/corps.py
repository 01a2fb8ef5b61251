"""Template filters of the volunteer pages."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def hours(minutes) -> str:
    """Ledger minutes as hours with at most one decimal: 90 → "1.5", 120 → "2"."""
    value = round((minutes or 0) / 60, 1)
    return f"{value:.1f}".removesuffix(".0")
