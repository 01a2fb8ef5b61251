"""Reads and presentation helpers that only the staff pages need.

Scoping and the lifecycle's own reads live in cases.selectors; what is here only
shapes already-scoped data for the pages (row columns, badges, the default tab).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.paginator import Paginator
from django.db.models import Count, Exists, Expression, F, Func, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import SimpleLazyObject, cached_property
from django.utils.translation import gettext_lazy as _

from communities import panels
from communities.models import Role
from communities.selectors import roles_of

from . import selectors, services, timeline
from .models import Case, CoHandling, ContactRecord, ExtensionRequest, Notification, ReturnVisit, Supervision
from .services import rules

DUE_SOON = timedelta(hours=2)

# The tab a role opens on: the work that is theirs to do first.
DEFAULT_QUEUE_BY_ROLE = [
    (Role.DISPATCHER, "to_dispatch"),
    (Role.CASEWORKER, "mine"),
    (Role.GRID_WORKER, "mine"),
    (Role.DEPARTMENT_LIAISON, "unit"),
    (Role.SUPERVISOR, "overdue"),
    (Role.SECRETARY, "overdue"),
    (Role.DIRECTOR, "overdue"),
    (Role.DEPUTY_DIRECTOR, "overdue"),
]
FALLBACK_QUEUE = "unit"


def default_queue(user) -> str:
    roles = roles_of(user)
    for role, name in DEFAULT_QUEUE_BY_ROLE:
        if role in roles:
            return name
    return FALLBACK_QUEUE


def queue_rows(queryset: QuerySet[Case]) -> QuerySet[Case]:
    """What a queue row and an export line show, joined in one query."""
    return queryset.select_related("category", "unit", "location_unit", "building")


def queue_rows_of(keys: list[int]) -> list[Case]:
    """The queue rows of these cases (found and scoped already), in the order of ``keys``.

    A search page reads its keys first, then its rows by key: PostgreSQL took 20–30 ms at 1 M
    cases to plan the search's filter together with the six joins of ``selectors.LIST_RELATED``;
    by key, with only the four a row shows, 1 ms."""
    if not keys:
        return []
    found = queue_rows(Case.objects.all()).in_bulk(keys)
    return [found[key] for key in keys if key in found]


@dataclass(frozen=True)
class Deadline:
    """How a case stands against its clock, for a badge."""

    state: str  # "overdue", "due_soon", "contact_overdue", "" (on time or finished)
    label: str
    due_at: datetime | None


def deadline_of(case: Case, now: datetime | None = None) -> Deadline:
    now = now or timezone.now()
    due = case.resolve_due_at
    if case.status in Case.FINISHED:
        return Deadline("", "", due)
    if selectors.is_overdue(case, now=now):
        return Deadline("overdue", _("Overdue"), due)
    if case.contacted_at is None and case.contact_due_at and case.contact_due_at < now:
        return Deadline("contact_overdue", _("Contact overdue"), case.contact_due_at)
    if due and due - now <= DUE_SOON:
        return Deadline("due_soon", _("Due within 2 h"), due)
    return Deadline("", "", due)


def with_deadlines(cases, now: datetime | None = None) -> list[Case]:
    now = now or timezone.now()
    rows = list(cases)
    for case in rows:
        case.deadline = deadline_of(case, now)
    return rows


def _unread(user) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user, read_at__isnull=True)


def unread_count(user) -> int:
    """The badge's figure: counted here, or read with the case page's row (``remember_unread``)."""
    known = getattr(user, "_unread_count", None)
    return _unread(user).count() if known is None else known


def remember_unread(user, case: Case) -> None:
    """The case page's row counted the reader's unread notifications: the badge needs no query."""
    user._unread_count = case.unread_notifications


def nav_counts(request) -> dict:
    """Context processor: the unread-notification badge, counted only if a page shows it, and
    whether the "New case" link is shown (``services.may_take_in``, read only if asked)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "cases_unread": SimpleLazyObject(lambda: unread_count(user)),
        "cases_may_take_in": SimpleLazyObject(lambda: services.may_take_in(user)),
    }


def notifications_of(user) -> QuerySet[Notification]:
    """The user's notifications, unread first, newest first."""
    return (
        Notification.objects.filter(user=user)
        .select_related("case")
        .only("kind", "message", "created_at", "read_at", "case__code", "case__title")
        .order_by(F("read_at").desc(nulls_first=True), "-created_at")
    )


def labelled(events: list) -> list:
    """Timeline events with a readable ``label`` and ``to_label`` (the state they led to), the actor's
    name and the time in the local zone (``at_iso``, ``at_text``): set here once rather than worked out
    by the template's filters for each of hundreds of lines."""
    states = dict(Case.Status.choices)
    for event in events:
        at = timezone.localtime(event.at)
        event.at_iso, event.at_text = at.isoformat(), at.strftime("%Y-%m-%d %H:%M")
        event.actor_name = (event.actor.get_full_name() or event.actor.get_username()) if event.actor_id else ""
        event.label = timeline.label(event.action)
        moved = event.to_status and event.to_status != event.from_status
        event.to_label = states.get(event.to_status, event.to_status) if moved else ""
    return events


# ---------------------------------------------------------------- the case page


def _exists(model, **lookups) -> Exists:
    return Exists(model.objects.filter(case=OuterRef("pk"), **lookups))


def case_page_rows(user) -> QuerySet[Case]:
    """The cases ``user`` may open as case pages, each row with its related rows, what the action
    menu asks about, which of the page's sections have rows (an empty one costs no query) and the
    reader's unread notifications."""
    # The reader's unread notifications (the page's badge), counted with the row rather than apart:
    # a bare COUNT(*) subquery, which answers one row whatever it finds.
    unread = _unread(user).order_by().annotate(n=Func(F("pk"), function="COUNT")).values("n")
    return _case_page_query().filter(selectors.visible_cases_q(user)).annotate(
        unread_notifications=Subquery(unread, output_field=IntegerField()),
    )


_built: dict[int, QuerySet[Case]] = {}


class _CompiledOnce(Expression):
    """A subquery of the case page's row whose SQL never changes: compiled at its first use on each
    database connection alias, then reused (the row's twenty-odd subqueries took a few ms of each
    page's CPU to compile again). Sound because the row's query is built once (``_case_page_query``)
    and only filtered after: the outer aliases the subqueries refer to stay as they were. Any
    relabelling of the outer query (used as a subquery itself) copies the expression, which then
    compiles anew."""

    def __init__(self, expression):
        super().__init__()
        self.expression = expression
        self._compiled = {}

    def get_source_expressions(self):
        return [self.expression]

    def set_source_expressions(self, exprs):
        (self.expression,) = exprs
        self._compiled = {}

    def copy(self):
        copy = super().copy()
        copy._compiled = {}
        return copy

    def _resolve_output_field(self):
        return self.expression.output_field

    def as_sql(self, compiler, connection):
        key = (connection.alias, connection.vendor)
        found = self._compiled.get(key)
        if found is None:
            found = self._compiled[key] = compiler.compile(self.expression)
        sql, params = found
        return sql, list(params)

    def select_format(self, compiler, sql, params):
        return self.expression.select_format(compiler, sql, params)


def _case_page_query() -> QuerySet[Case]:
    """The case page's row without the reader: its joins and the twenty-odd subqueries of its flags.

    Building it (Django resolves each Exists and Subquery) took 10 ms of each page's CPU; it is the
    same for every reader and case, so each process builds it once (again when a panel registers a
    flag) and each request only filters a copy. Never evaluated itself: it holds no rows."""
    changes = panels.changes()
    query = _built.get(changes)
    if query is None:
        pending = ExtensionRequest.objects.filter(rules.pending_extension_q(), case=OuterRef("pk"))
        merged = Case.objects.filter(merged_into=OuterRef("pk")).order_by().values("merged_into")
        # Not the lead a duplicate was merged into: a whole second case row on every page, and one
        # more join for PostgreSQL to plan, for the few pages of merged cases (they read it apart).
        query = Case.objects.select_related(
            "category", "unit", "location_unit", "building__unit", "dispatching_unit", "handler",
            *panels.related("case_detail"),
        ).annotate(**{name: _CompiledOnce(expression) for name, expression in {
            "has_pending_extension": Exists(pending),
            "pending_extension_id": Subquery(pending.values("pk")[:1]),
            "pending_extension_by": Subquery(pending.values("requested_by_id")[:1]),
            "has_open_supervision": _exists(Supervision, **{"lifted_at__isnull": True}),
            "has_co_handlings": _exists(CoHandling),
            "has_contacts": _exists(ContactRecord),
            "has_supervisions": _exists(Supervision),
            "has_extensions": _exists(ExtensionRequest),
            "has_return_visits": _exists(ReturnVisit),
            "merged_count": Coalesce(Subquery(merged.annotate(n=Count("pk")).values("n")[:1]), Value(0)),
            **panels.flags("case_detail"),
        }.items()})
        _built.clear()
        _built[changes] = query
    return query


def case_sections(case: Case) -> dict:
    """The timeline with its photos (two queries), and each small list only if the case row says it
    has rows (``_case``); one query each then."""
    events, photos = selectors.timeline_with_photos(case)
    for photo in photos:  # the same objects as the timeline lines' photos: each link reversed once, not four times
        photo.page_url = reverse("cases:photo", kwargs={"code": case.code, "pk": photo.pk})
    flags = case.__dict__

    def rows(name, queryset):
        return list(queryset) if flags.get(f"has_{name}", True) else []

    co_handlings = rows("co_handlings", case.co_handlings.select_related("unit").order_by("added_at", "pk"))
    rules.remember_co_handlings(case, co_handlings)  # services.allowed_actions reads them: no query of its own
    return {
        "events": labelled(events),
        "co_handlings": co_handlings,
        "contacts": rows("contacts", ContactRecord.objects.filter(case=case).select_related("by")),
        "supervisions": rows("supervisions", Supervision.objects.filter(case=case).select_related("unit", "by")),
        "extensions": rows("extensions", ExtensionRequest.objects.filter(case=case).select_related(
            "requested_by", "decided_by"
        )),
        "return_visits": rows("return_visits", ReturnVisit.objects.filter(case=case).select_related("by")),
        "attachments": photos,
    }


# A search counts its hits up to here and then says "1,000+": a term found in half the cases
# must not cost a count of them all.
SEARCH_COUNT_CAP = 1000


class SearchPaginator(Paginator):
    """A search's pages: a count that stops at ``cap`` + 1 rows (``capped`` then says there are
    more); each page's keys read first, then its rows by key (``queue_rows_of``).

    When the capped count says the term is common, the keys are first looked for in ``newest``
    (the same cases, matched among the newest by a walk in date order, which stops at the page);
    through the text index (every match read, then sorted) only if the term is rare, or the walk
    does not fill the page. See ``cases.search``. A short term's rows are only walked anyway
    (no ``newest``)."""

    def __init__(self, rows, per_page: int, *, newest: Callable[[], QuerySet] | None = None) -> None:
        super().__init__(rows, per_page)
        self.cap = SEARCH_COUNT_CAP
        self.newest = newest

    @cached_property
    def count(self) -> int:
        # Unordered: the database stops at the cap in whatever order it finds rows (sorting
        # first would read every match).
        return self.object_list.order_by()[: self.cap + 1].count()

    def page(self, number):
        # A page past a capped count is still full (Paginator would cut it at the count).
        number = self.validate_number(number)
        bottom, top = (number - 1) * self.per_page, number * self.per_page
        keys: list[int] = []
        if self.capped and self.newest is not None:
            keys = list(self.newest().values_list("pk", flat=True)[bottom:top])
        if len(keys) < self.per_page and self.count:
            keys = list(self.object_list.values_list("pk", flat=True)[bottom:top])
        return self._get_page(queue_rows_of(keys), number, self)

    @property
    def capped(self) -> bool:
        return self.count > self.cap

    @property
    def cap_label(self) -> str:
        return f"{self.cap:,}"
