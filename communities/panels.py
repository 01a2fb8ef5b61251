"""Sections that later apps add to earlier apps' pages, without being imported by them.

Dependencies point one way (communities ← cases ← volunteers ← governance), yet the case
page should show the whistle blown on it and the building page its responsible party
members. A later app registers a panel for a named slot in its ``AppConfig.ready``; the
earlier app's view renders whatever is registered. Slots: "building_detail",
"unit_detail", "case_detail", "workspace".

A panel is ``func(request, obj) -> str | None`` returning rendered HTML (or None to
show nothing). It must run a fixed number of queries whatever the data size.

A panel may also register flags (``register_flag``): Exists() expressions the earlier app's view
annotates on the row it reads anyway, so that a panel whose section is empty for this object
(no whistle on the case, no task) skips its query. ``flag(obj, name)`` reads one; it is True when
the object was read without the annotation (the panel then queries as before).

A panel may also name a row joined to the object (``register_related``: a later app's one-to-one
on it, e.g. the suggestion a case came from), which the earlier app's row query selects along.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest
from django.utils.safestring import SafeString, mark_safe

Panel = Callable[[HttpRequest, object], str | None]
_registry: dict[str, list[tuple[int, Panel]]] = {}
_flags: dict[str, dict[str, Callable[[], object]]] = {}
_related: dict[str, list[str]] = {}
_changes = [0]  # registrations of flags and related rows so far: a view may keep what it built from them


def register(slot: str, *, order: int = 100) -> Callable[[Panel], Panel]:
    def decorator(func: Panel) -> Panel:
        panels = _registry.setdefault(slot, [])
        if func not in [p for _, p in panels]:
            panels.append((order, func))
            panels.sort(key=lambda item: item[0])
        return func

    return decorator


def render(slot: str, request: HttpRequest, obj: object) -> list[SafeString]:
    html = (panel(request, obj) for _, panel in _registry.get(slot, []))
    return [mark_safe(part) for part in html if part]


def register_flag(slot: str, name: str, expression: Callable[[], object]) -> None:
    """``expression()`` builds the annotation (e.g. ``Exists(...filter(case=OuterRef("pk")))``)."""
    _flags.setdefault(slot, {})[name] = expression
    _changes[0] += 1


def flags(slot: str) -> dict[str, object]:
    """The annotations the slot's panels asked for, for the view's ``.annotate(**flags(slot))``."""
    return {name: expression() for name, expression in _flags.get(slot, {}).items()}


def register_related(slot: str, name: str) -> None:
    """``name``: a ``select_related`` path from the slot's object (a forward or reverse one-to-one)."""
    names = _related.setdefault(slot, [])
    if name not in names:
        names.append(name)
        _changes[0] += 1


def related(slot: str) -> list[str]:
    """The rows the slot's panels asked to have joined, for the view's ``.select_related(*related(slot))``."""
    return list(_related.get(slot, []))


def changes() -> int:
    """Changes with every new flag or related row: what a view built from ``flags`` and ``related`` is out of date."""
    return _changes[0]


def flag(obj: object, name: str) -> bool:
    value = obj.__dict__.get(name)
    return True if value is None else bool(value)
