"""Reads of the request lifecycle that pages, exports, the admin and the API share.

Every queryset starts from ``visible_cases(user)``: the one scoping rule
(``communities.selectors.scope`` on the handling unit's path), plus cases where a unit
in the user's subtrees co-handles, plus django-guardian ``cases.view_case`` grants.
A department liaison's post opens no subtree of cases: they see what they are granted.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from datetime import timedelta

from django.db import models
from django.db.models import Count, F, Prefetch, Q, QuerySet, Window
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from communities import identity
from communities.selectors import EVERYWHERE, scope_q, subtree_paths

from .deadlines import CONTACT_DUE_SOON
from .models import Attachment, Case, CoHandling, TimelineEvent

S = Case.Status
DUPLICATE_WINDOW = timedelta(days=30)
# What a queue row, an export line and an API list item show of other tables. Only these: every
# further join (the case itself again above all, as ``merged_into``) multiplies the join orders
# PostgreSQL weighs; at 1 M cases planning the API list with seven joins took 60-130 ms, 6-16 ms
# with four.
LIST_RELATED = ("category", "unit", "location_unit", "building")


def paths_q(roots: Iterable[str], field: str) -> Q:
    """Rows whose ``field`` (a unit path) lies under any of these roots (none: no row)."""
    condition = Q(pk__in=[])
    for root in roots:
        condition |= Q(**{f"{field}__startswith": root})
    return condition


def visible_cases(user) -> QuerySet[Case]:
    """The cases ``user`` may see (a sibling unit's case is simply not in here).

    The one scoping rule on the handling unit, plus guardian ``view_case`` grants (a
    department summoned by a whistle), plus cases co-handled (双派) by a unit in the
    user's subtrees.
    """
    return Case.objects.filter(visible_cases_q(user))


def visible_cases_q(user) -> Q:
    """``visible_cases``' filter, for a queryset built apart from the user (the case page's row)."""
    condition = scope_q(user, Case, path_field="unit_path", grant_perm="cases.view_case")
    roots = subtree_paths(user)
    if roots is EVERYWHERE or not roots:
        return condition
    return condition | Q(pk__in=co_handled_keys(user, roots))


def co_handled_keys(user, roots: list[str]) -> list[int]:
    """Cases co-handled (双派) by a unit in the user's subtrees, read once per request and shared
    between the user's requests with their posts (``communities.identity``: a co-handling's save or
    delete renews them). See ``communities.selectors.granted_q`` for why a list of keys rather than
    a subquery."""
    if getattr(user, "_co_handled_keys", None) is None:
        user._co_handled_keys = identity.piece(user, "co_handled_cases", lambda: sorted(
            CoHandling.objects.filter(paths_q(roots, "unit_path")).values_list("case_id", flat=True).distinct()
        ))
    return user._co_handled_keys


identity.watch(CoHandling)


def can_see_full_phone(user, case: Case) -> bool:
    """Only the current handler (and a superuser) may open the caller's full number: the one
    rule the case page, ``rules.allowed_actions`` and ``services.reveal_phone`` read."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return case.handler_id == user.pk and user.has_perm("cases.reveal_phone")


def _mine(cases: QuerySet, user, now) -> QuerySet:
    return cases.filter(handler=user, status__in=Case.HANDLING).order_by("resolve_due_at", "pk")


def _unit(cases: QuerySet, user, now) -> QuerySet:
    return cases.filter(status__in=Case.OPEN).order_by("resolve_due_at", "pk")


def _waiting_acceptance(cases: QuerySet, user, now) -> QuerySet:
    return cases.filter(status=S.DISPATCHED).order_by("dispatched_at", "pk")


def _contact_due_soon(cases: QuerySet, user, now) -> QuerySet:
    return cases.filter(
        status__in=[S.DISPATCHED, S.ACCEPTED], contacted_at__isnull=True,
        contact_due_at__lte=now + CONTACT_DUE_SOON,
    ).order_by("contact_due_at", "pk")


def _overdue(cases: QuerySet, user, now) -> QuerySet:
    return overdue(cases, now=now).order_by("resolve_due_at", "pk")


def _supervised(cases: QuerySet, user, now) -> QuerySet:
    return cases.filter(is_supervised=True).exclude(status__in=Case.FINAL).order_by("resolve_due_at", "pk")


def merged_callers_awaiting_q() -> Q:
    """Cases merged into a resolved or closed lead whose caller has not yet rated the lead's result
    (``Case.awaits_visit``, kept by the services; ``awaiting_visit_by_lead_q`` is the rule it keeps)."""
    return Q(status=S.MERGED, awaits_visit=True)


def awaiting_visit_by_lead_q() -> Q:
    """The rule ``Case.awaits_visit`` stores, read from the lead (to recount it after a bulk load)."""
    return Q(status=S.MERGED, merged_into__status__in=Case.ANSWERED) & (
        Q(rated_at__isnull=True) | Q(rated_at__lt=F("merged_into__resolved_at"))
    )


def _awaiting_return_visit(cases: QuerySet, user, now) -> QuerySet:
    """Resolved cases, and the callers merged into a resolved or closed lead who have not rated its
    result; the longest resolved first (by the day it was resolved, then when that was recorded)."""
    return cases.filter(Q(status=S.RESOLVED) | merged_callers_awaiting_q()).order_by(
        Coalesce("merged_into__resolved_on", "resolved_on"), Coalesce("merged_into__resolved_at", "resolved_at"), "pk"
    )


def _to_dispatch(cases: QuerySet, user, now) -> QuerySet:
    return cases.filter(status__in=Case.TO_DISPATCH).order_by("received_at", "pk")


def _all(cases: QuerySet, user, now) -> QuerySet:
    return cases.order_by("-received_at", "-pk")


_QUEUE_FILTERS = {
    "mine": (_("My cases"), _mine),
    "unit": (_("My unit's open cases"), _unit),
    "waiting_acceptance": (_("Waiting to be accepted"), _waiting_acceptance),
    "contact_due_soon": (_("Caller to be contacted soon"), _contact_due_soon),
    "overdue": (_("Overdue"), _overdue),
    "supervised": (_("Under supervision"), _supervised),
    "awaiting_return_visit": (_("Awaiting return visit"), _awaiting_return_visit),
    "to_dispatch": (_("To dispatch"), _to_dispatch),
    "all": (_("All cases"), _all),
}
QUEUES: list[tuple[str, str]] = [(name, label) for name, (label, _f) in _QUEUE_FILTERS.items()]


def queue(user, name: str) -> QuerySet[Case]:
    """One of the work queues (see QUEUES), with its related rows joined for a flat query count."""
    try:
        _label, build = _QUEUE_FILTERS[name]
    except KeyError:
        raise ValueError(f"Unknown queue {name!r}") from None
    cases = visible_cases(user).select_related(*LIST_RELATED)
    return build(cases, user, timezone.now())


def overdue_q(now=None) -> Q:
    """Past the resolution deadline and not finished (computed at read time, no job needed)."""
    return Q(resolve_due_at__lt=now or timezone.now(), status__in=Case.OPEN)  # every state not FINISHED


def contact_overdue_q(now=None) -> Q:
    """The caller was not contacted by the deadline: not yet, or late."""
    return (
        Q(contacted_at__isnull=True, contact_due_at__lt=now or timezone.now())
        | Q(contacted_at__isnull=False, contacted_at__gt=F("contact_due_at"))
    ) & ~Q(status=S.MERGED)


def overdue(cases: QuerySet[Case], *, now=None) -> QuerySet[Case]:
    return cases.filter(overdue_q(now))


def contact_overdue(cases: QuerySet[Case], *, now=None) -> QuerySet[Case]:
    return cases.filter(contact_overdue_q(now))


def is_overdue(case: Case, *, now=None) -> bool:
    """The same rule as ``overdue_q``, for one case already in memory."""
    now = now or timezone.now()
    return bool(case.resolve_due_at and case.resolve_due_at < now and case.status not in Case.FINISHED)


def timeline(case: Case, *, public_only: bool = False) -> list[TimelineEvent]:
    """The case's history, oldest first. For the resident: public events, internal notes hidden."""
    events = case.events.select_related("actor")
    attachments = Attachment.objects.order_by("pk")
    if public_only:
        events = events.filter(public=True)
        attachments = attachments.filter(public=True)
    result = list(events.prefetch_related(Prefetch("attachments", queryset=attachments)))
    if public_only:
        for event in result:
            if event.action in INTERNAL_NOTE_ACTIONS:
                event.note = ""  # not saved: events are immutable; the resident just does not see it
    return result


def timeline_with_photos(case: Case) -> tuple[list[TimelineEvent], list[Attachment]]:
    """Staff's timeline (each line with its ``photos``) and every photo of the case: two queries."""
    photos = list(Attachment.objects.filter(case=case).order_by("pk"))
    by_line: dict[int, list[Attachment]] = {}
    for photo in photos:
        if photo.event_id is not None:
            by_line.setdefault(photo.event_id, []).append(photo)
    events = list(case.events.select_related("actor"))
    for event in events:
        event.photos = by_line.get(event.pk, [])
    return events, photos


# Events the resident sees happen, whose note is for staff only (dispatch instructions,
# what was said on the phone).
INTERNAL_NOTE_ACTIONS = {"dispatched", "contacted"}
# A lead's public events that belong to its own caller, not to the callers merged into it.
OWN_CALLER_ACTIONS = {"submitted", "information_added", "rated", "merged"}


def lead_of(case: Case) -> Case:
    """The case whose handling answers for ``case``: itself, or the lead it was merged into (followed to the end)."""
    seen = set()
    while case.status == S.MERGED and case.merged_into_id and case.pk not in seen:
        seen.add(case.pk)
        case = case.merged_into
    return case


def resident_timeline(case: Case) -> list[TimelineEvent]:
    """What the caller of ``case`` sees: its public events and, once merged, the lead's handling.

    From the lead: dispatch, contact, progress, result, closing … not what the lead's own
    caller wrote or how they rated (two queries more than ``timeline`` for a merged case).
    """
    own = timeline(case, public_only=True)
    lead = lead_of(case)
    if lead.pk == case.pk:
        return own
    handling = [event for event in timeline(lead, public_only=True) if event.action not in OWN_CALLER_ACTIONS]
    return sorted(own + handling, key=lambda event: (event.at, event.pk))


def resident_photo(code: str, pk: int) -> Attachment | None:
    """A public photo the caller of case ``code`` may open: of their case, or of its lead's handling."""
    case = Case.objects.select_related("merged_into").filter(code=code).first()
    if case is None:
        return None
    photo = Attachment.objects.filter(pk=pk, public=True).select_related("event").first()
    if photo is None:
        return None
    if photo.case_id == case.pk:
        return photo
    lead = lead_of(case)
    shown = photo.event is not None and photo.event.public and photo.event.action not in OWN_CALLER_ACTIONS
    return photo if lead.pk != case.pk and photo.case_id == lead.pk and shown else None


def likely_duplicates(case_or_fields, user=None) -> QuerySet[Case]:
    """Cases at the same building (or address) in the same category within 30 days."""
    fields = _duplicate_fields(case_or_fields)
    cases = visible_cases(user) if user is not None else Case.objects.all()
    category = fields.get("category")
    if category is None:
        return cases.none()
    place = _place_q(fields)
    if place is None:
        return cases.none()
    around = fields.get("received_at") or timezone.now()
    found = cases.filter(
        place, category=category,
        received_at__gte=around - DUPLICATE_WINDOW, received_at__lte=around + DUPLICATE_WINDOW,
    ).exclude(status=S.MERGED)
    if fields.get("pk"):
        found = found.exclude(pk=fields["pk"])
    return found.order_by("-received_at")  # its rows show the case's own fields only


# How far a case has come: a lead is best chosen among the most advanced, then the oldest
# (the statuses of Case.NOT_CLOSED, in order).
PROGRESS = [S.SUBMITTED, S.RETURNED, S.DISPATCHED, S.ACCEPTED, S.CONTACTED, S.IN_PROGRESS, S.RESOLVED]


def _progress_rank():
    return models.Case(
        *[models.When(status=status, then=models.Value(rank)) for rank, status in enumerate(PROGRESS)],
        default=models.Value(-1), output_field=models.IntegerField(),
    )


def suggested_lead(case: Case, user) -> Case | None:
    """The case the duplicates of ``case`` are best merged into (``case`` itself included).

    Among the open cases at the same place and category, of any date (the first call of a
    long-running problem is often months old): the most advanced, then the oldest. One query.
    """
    place = _place_q(_duplicate_fields(case))
    if place is None:
        return None
    return (
        visible_cases(user).filter(place, category_id=case.category_id, status__in=PROGRESS)
        .annotate(progress=_progress_rank())
        .order_by("-progress", "received_at", "pk").first()
    )


def merged_into(case: Case, *, with_ratings: bool = False) -> QuerySet[Case]:
    """The duplicates merged into ``case``, oldest first (for a paged list). ``with_ratings``: each row
    also carries ``merged_summary``'s figures (``merged_rated``, ``merged_rated_resolved``, ``merged_satisfied``)
    over them all,
    so that a page of them and the summary are one query."""
    rows = case.merged_cases.only("code", "title", "status", "received_at", "rated_at", "merged_into_id").order_by(
        "received_at", "pk"
    )
    if with_ratings:
        rows = rows.annotate(**{
            f"merged_{name}": Window(Count("pk", filter=condition)) for name, condition in _ratings(case).items()
        })
    return rows


SATISFIED_OR_BASIC = [Case.Satisfaction.SATISFIED, Case.Satisfaction.BASIC]


def _ratings(case: Case) -> dict[str, Q]:
    """The merged callers' ratings of the lead's result: only those given since it was resolved count."""
    resolved_at = case.resolved_at
    rated = Q(rated_at__gte=resolved_at) if resolved_at else Q(pk__in=[])
    return {
        "rated": rated,
        "rated_resolved": rated & Q(rated_resolved=True),
        "satisfied": rated & Q(satisfaction__in=SATISFIED_OR_BASIC),
    }


def merged_summary(case: Case) -> dict:
    """How many duplicates were merged into ``case`` and how their callers rated its result (one query)."""
    return case.merged_cases.aggregate(
        count=Count("pk"), **{name: Count("pk", filter=condition) for name, condition in _ratings(case).items()}
    )


def _place_q(fields: dict) -> Q | None:
    if fields.get("building"):
        return Q(building=fields["building"])
    if (fields.get("address") or "").strip():
        return Q(address__iexact=fields["address"].strip())
    return None


def _duplicate_fields(case_or_fields) -> dict:
    if isinstance(case_or_fields, Case):
        case = case_or_fields
        return {
            "pk": case.pk, "category": case.category_id, "building": case.building_id,
            "address": case.address, "received_at": case.received_at,
        }
    return dict(case_or_fields)


def case_for_resident(code: str, phone_last4: str) -> Case | None:
    """The case a resident may follow: tracking code + the last four digits of their phone."""
    code = (code or "").strip().upper()
    last4 = (phone_last4 or "").strip()
    case = Case.objects.select_related("category", "location_unit", "merged_into").filter(code=code).first()
    phone = case.resident_phone if case is not None else ""
    expected = phone[-4:] if len(phone) >= 4 else "\0\0\0\0"
    # Compare in constant time, even for an unknown code, so timing tells nothing.
    matches = hmac.compare_digest(expected.encode(), last4.encode())
    if case is None or len(phone) < 4 or not (matches and len(last4) == 4 and last4.isdigit()):
        return None
    return case
