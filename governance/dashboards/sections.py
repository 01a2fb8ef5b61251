"""Sections that other parts of the portal add to a dashboard once they hold data.

Whistles (吹哨报到), meetings and their action items, the livelihood project list and
the volunteer corps each answer through their own selectors; a section appears only
when its figures are not all zero, never with placeholder numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils.functional import Promise


@dataclass
class Figure:
    label: str | Promise
    value: int | str
    url: str = ""


@dataclass
class Section:
    key: str
    title: str | Promise
    figures: list[Figure] = field(default_factory=list)

    @property
    def has_data(self) -> bool:
        return any(figure.value not in (0, "", None) for figure in self.figures)


Provider = Callable[[object, object], Section | None]
PROVIDERS: list[Provider] = []


def for_dashboard(user, board) -> list[Section]:
    """The sections with data for this dashboard (each provider runs a fixed number of queries)."""
    found = (provider(user, board) for provider in PROVIDERS)
    return [section for section in found if section is not None and section.has_data]
