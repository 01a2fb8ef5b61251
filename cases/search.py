"""The staff search box of the case queues and exports.

A term is first tried as a whole tracking code or 12345 order number (one unique-index
lookup); otherwise it matches, anywhere inside, the case's summary, description, address
and order number, its building's name, or the text of a timeline line the resident sees.
Results come newest first.

On PostgreSQL the case's text is one expression (``SEARCH_TEXT``) under a pg_trgm GIN index,
and so is the note of a public timeline line (migration ``cases/0008``): a term of three or
more characters is looked up in the index, whatever the script (Chinese included: pg_trgm
takes each CJK character as a word character under a UTF-8 locale). A one- or two-character
term has no trigram to look up: it is matched exactly among the newest ``SHORT_TERM_WINDOW``
cases in scope only, so its cost is bounded (a rare two-character term scanned all 1 M cases for
29 s); the queue says so and asks for a third character to search everything. SQLite scans too.
"""

from __future__ import annotations

import re

from django.db.models import Exists, OuterRef, Q, QuerySet, TextField, Value
from django.db.models.functions import Concat, Upper

from communities.models import Building

from .models import Case, TimelineEvent
from .selectors import INTERNAL_NOTE_ACTIONS

# The case's own searchable text, as the index stores it (a line break keeps fields apart).
SEARCH_TEXT = Concat(
    "title", Value("\n"), "description", Value("\n"), "address", Value("\n"), "hotline_order_no",
    output_field=TextField(),
)
# What the indexes hold: Django's ``icontains`` on PostgreSQL compares UPPER(text) LIKE UPPER(term).
CASE_SEARCH_INDEXED = Upper(SEARCH_TEXT)
NOTE_SEARCH_INDEXED = Upper("note")

TRIGRAM = 3  # pg_trgm looks up terms of at least three characters
SHORT_TERM_WINDOW = 20_000  # newest cases in scope a one- or two-character term is matched against
# A term that could be a whole tracking code or 12345 order number.
CODE_LIKE = re.compile(r"[0-9A-Za-z-]{4,40}")


def is_short(term: str) -> bool:
    """A term matched only among the newest cases (no trigram to look it up by), unless it is a code."""
    term = term.strip()
    return 0 < len(term) < TRIGRAM


def search(cases: QuerySet[Case], term: str) -> QuerySet[Case]:
    """``cases`` (already scoped) that match ``term``, newest first."""
    term = term.strip()
    if not term:
        return cases
    exact = _exact(cases, term)
    if exact is not None:
        return exact
    if len(term) < TRIGRAM:
        # No trigram to look up: the notes are tested only for the cases the page walks through
        # (newest first, stopping at a page), not all read first (a scan of every public line).
        buildings, noted = _keys_outside_the_case(term, with_notes=False)
        # (The second, redundant condition keeps PostgreSQL from hashing the subquery, which
        # would read every public line for a term its index cannot narrow.)
        in_notes = Q(Exists(_public_lines(term).filter(case_id=OuterRef("pk"), case_id__gte=OuterRef("pk"))))
        newest = cases.order_by("-received_at", "-pk").values("pk")[:SHORT_TERM_WINDOW]
        cases = cases.filter(pk__in=newest)
    else:
        buildings, noted = _keys_outside_the_case(term)
        in_notes = Q(pk__in=noted)
    found = cases.alias(search_text=SEARCH_TEXT).filter(
        Q(search_text__icontains=term) | Q(building_id__in=buildings) | in_notes
    )
    return found.order_by("-received_at", "-pk")


def _exact(cases: QuerySet[Case], term: str) -> QuerySet[Case] | None:
    """The case whose code or order number is exactly ``term``, if there is one in ``cases``."""
    if not CODE_LIKE.fullmatch(term):
        return None
    keys = list(cases.filter(Q(code=term.upper()) | Q(hotline_order_no=term)).values_list("pk", flat=True)[:2])
    return cases.filter(pk__in=keys).order_by("-received_at", "-pk") if keys else None


def _public_lines(term: str) -> QuerySet[TimelineEvent]:
    """Timeline lines the resident sees whose note contains ``term``."""
    return (
        TimelineEvent.objects.filter(public=True, note__icontains=term)
        .exclude(action__in=INTERNAL_NOTE_ACTIONS).order_by()
    )


def _keys_outside_the_case(term: str, *, with_notes: bool = True) -> tuple[list[int], list[int]]:
    """Buildings whose name contains ``term``, and cases with a line the resident sees whose
    note contains it, in one query.

    Read first, so the case filter stays lists of keys that each index can answer: a subquery
    inside the OR would make PostgreSQL test every case in scope.
    """
    keys = Building.objects.filter(name__icontains=term).order_by().annotate(kind=Value(0)).values_list("kind", "pk")
    if with_notes:
        keys = keys.union(_public_lines(term).annotate(kind=Value(1)).values_list("kind", "case_id"))
    found: tuple[set[int], set[int]] = (set(), set())
    for kind, key in keys:
        found[kind].add(key)
    return sorted(found[0]), sorted(found[1])
