"""The staff search box of the case queues and exports.

A term is first tried as a whole tracking code or 12345 order number (one unique-index
lookup); otherwise it matches, anywhere inside, the case's summary, description, address
and order number, its building's name, or the text of a timeline line the resident sees.
Results come newest first. The buildings and the notes that contain the term are read first,
as lists of keys, in one query (``Search.keys_outside_the_case``).

On PostgreSQL the case's text is one expression (``SEARCH_TEXT``) under a pg_trgm GIN index,
and so is the note of a public timeline line (migration ``cases/0012``): a term of three or
more characters is looked up in the index, whatever the script (Chinese included: pg_trgm
takes each CJK character as a word character under a UTF-8 locale).

A page of matches, newest first, can be found two ways:

- through the index: every match read, then sorted. Cheap for a rare term; dear for a common
  one (a term in 16 000 of 1 M cases: 0.45 s, 10 000 table pages read for a page of 50).
- by a walk: the newest cases in scope in date order, each tested, stopping at a page
  (1 600 cases read for that term, 10 ms). Unbounded it would read every case for a term
  with no recent match, so it stops after the newest ``NEWEST_FIRST`` cases (where they start
  is read from the date index, 5 ms at 1 M). The walk tests the text with ``strpos``, which
  the index cannot answer, so that PostgreSQL has no other plan for it.

Left to itself, PostgreSQL picks one by its estimate of how many cases the LIKE matches,
which is only as good as the expression's statistics (ANALYZE): wrong, it cost 0.3–0.5 s a
page. The queue does not leave it to that estimate (``queries_staff.SearchPaginator``): the
capped count (through the index, stopping at ``SEARCH_COUNT_CAP`` + 1 matches) tells a common
term from a rare one. A common term's page is walked first, and read through the index only
if the walk does not fill it (a term common long ago but not lately); a rare term's page is
read through the index at once (at most the cap of matches to sort). Exports read every
match through the index.

A one- or two-character term has no trigram to look up: it is only walked, among the newest
``SHORT_TERM_WINDOW`` cases in scope, so its cost is bounded (a rare two-character term scanned
all 1 M cases for 29 s); the queue says so and asks for a third character to search
everything. SQLite scans too.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery, TextField, Value
from django.db.models.functions import Coalesce, Concat, StrIndex, Upper
from django.utils.functional import cached_property

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
NEWEST_FIRST = 20_000  # newest cases in scope the queue walks first for a common term's page
# A term that could be a whole tracking code or 12345 order number.
CODE_LIKE = re.compile(r"[0-9A-Za-z-]{4,40}")


def is_short(term: str) -> bool:
    """A term matched only among the newest cases (no trigram to look it up by), unless it is a code."""
    term = term.strip()
    return 0 < len(term) < TRIGRAM


def search(cases: QuerySet[Case], term: str, *, newest: int | None = None) -> QuerySet[Case]:
    """``cases`` (already scoped) that match ``term``, newest first (see ``Search.filter``)."""
    return Search(term).filter(cases, newest=newest)


class Search:
    """One term. What it reads besides the cases (the exact code, the buildings and notes that
    contain it) is read once, however many times it filters the same scoped cases: the queue
    filters twice for a common term, once through the index and once in date order."""

    def __init__(self, term: str) -> None:
        self.term = term.strip()

    def filter(self, cases: QuerySet[Case], *, newest: int | None = None) -> QuerySet[Case]:
        """``cases`` that match, newest first. ``newest``: match only among the newest ``newest``
        cases in scope, walking them in date order without the text index (a one- or two-character
        term always is, within ``SHORT_TERM_WINDOW``)."""
        term = self.term
        if not term:
            return cases
        if self.exact_keys(cases):
            return cases.filter(pk__in=self.exact_keys(cases)).order_by("-received_at", "-pk")
        buildings, noted = self.keys_outside_the_case
        if len(term) < TRIGRAM:
            # No trigram to look up: the notes are tested only for the cases the page walks through
            # (newest first, stopping at a page), not all read first (a scan of every public line).
            # (The second, redundant condition keeps PostgreSQL from hashing the subquery, which
            # would read every public line for a term its index cannot narrow.)
            in_notes = Q(Exists(_public_lines(term).filter(case_id=OuterRef("pk"), case_id__gte=OuterRef("pk"))))
            newest = min(newest or SHORT_TERM_WINDOW, SHORT_TERM_WINDOW)
        else:
            in_notes = Q(pk__in=noted)
        outside = Q(building_id__in=buildings) | in_notes
        if newest is None:
            found = cases.alias(search_text=SEARCH_TEXT).filter(Q(search_text__icontains=term) | outside)
        else:
            # strpos, not LIKE: the text index cannot answer it, so the walk is the only plan left.
            found = _newest(cases, newest).alias(
                position=StrIndex(CASE_SEARCH_INDEXED, Upper(Value(term)))
            ).filter(Q(position__gt=0) | outside)
        return found.order_by("-received_at", "-pk")

    def exact_keys(self, cases: QuerySet[Case]) -> list[int]:
        """The case in ``cases`` whose code or order number is exactly the term, if the term
        could be one (read once: the same scoped ``cases`` each time)."""
        if not hasattr(self, "_exact_keys"):
            self._exact_keys = []
            if CODE_LIKE.fullmatch(self.term):
                self._exact_keys = list(
                    cases.filter(Q(code=self.term.upper()) | Q(hotline_order_no=self.term))
                    .values_list("pk", flat=True)[:2]
                )
        return self._exact_keys

    @cached_property
    def keys_outside_the_case(self) -> tuple[list[int], list[int]]:
        # A short term's notes are tested per case walked (see ``filter``), not read here.
        return _keys_outside_the_case(self.term, with_notes=len(self.term) >= TRIGRAM)


def _newest(cases: QuerySet[Case], count: int) -> QuerySet[Case]:
    """``cases`` received no earlier than the ``count``-th newest of them (ties at that moment kept).

    That moment is read from the date index alone (no tie-break on the key to sort by)."""
    boundary = cases.order_by("-received_at").values("received_at")[count - 1:count]
    return cases.filter(received_at__gte=Coalesce(Subquery(boundary), Value(datetime.min.replace(tzinfo=UTC))))


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
