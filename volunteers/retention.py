"""Retention: volunteers' personal data is removed once they are gone and quiet, the statistics stay.

A volunteer is past retention when both hold:

- they are not active: they left, their application was declined, they are paused, or their
  application was never decided (every ``Volunteer.Status`` but ``active``; an active volunteer is
  never touched, however old their dates), and
- nothing has happened for them for ``settings.VOLUNTEER_DATA_RETENTION_DAYS`` (default about three
  years): no change to their row, no history line, no hours served or recorded, no sign-up and no
  activity they signed up for, no task handed over or reported, no team joined, no suggestion
  submitted or answered, no case made from their suggestion closed, no 党员包楼 assignment begun or
  ended — and none still running (a building they still answer for, or a case made from their
  suggestion still open, keeps them). Later apps add their own rows with ``holds_volunteer_data``
  (home visits by building heads).

| removed (emptied or replaced)                          | kept                                          |
| ------------------------------------------------------ | --------------------------------------------- |
| name; phone (a placeholder, see ``PHONE_PLACEHOLDER``) | unit (scoping, counts), status, source, skills |
| building, party date, employer's party organisation,   | party member (yes/no), every time stamp       |
| date reported, availability, note                      |                                               |
| the login's link; the account itself is closed (name,  | the hours ledger's minutes and person-times,  |
| e-mail, password) unless it is a staff account         | dates, units, teams, kinds                    |
| history notes; 党员包楼 notes                           | history actions, actors and times             |
| tasks' instructions and reports; suggestions' text and | tasks and suggestions themselves (status,     |
| answer; ledger descriptions typed for other service    | dates, case, title), memberships, sign-ups    |
| and corrections                                        |                                               |
| the volunteer's name in the timeline of cases (task    | other cases' own data: their retention is     |
| and suggestion entries), the task entries' notes       | ``cases.retention``                           |
| a case made from their suggestion: everything          |                                               |
| ``cases.retention.anonymise`` removes (caller's name   |                                               |
| and phone, address, description, notes, photos),       |                                               |
| stamped ``anonymised_at``                              |                                               |

A case made from a suggestion (``Suggestion.case``) has the volunteer as its caller. While it is
open, and for the period after it is closed (or merged), it keeps the volunteer: whoever handles it
or makes the return visit may call them. Then it loses them with the volunteer; other cases are
never touched here.

The work runs in batches of primary keys, each in one transaction that checks the rule again under
the rows' locks, a fixed number of queries per batch. It is idempotent: an anonymised volunteer
carries ``anonymised_at`` and is never picked again; the services refuse to act on them.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import reduce

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import models, transaction
from django.db.models import Case as CaseWhen
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Value, When
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from cases import retention as case_retention
from cases.models import Case, TimelineEvent
from cases.retention import WithoutKey, batches
from communities.models import Post

from .models import (
    PHONE_PLACEHOLDER, BuildingAssignment, HoursEntry, Membership, SignUp, Suggestion, Task, Volunteer,
    VolunteerEvent,
)

BATCH_SIZE = 2000
S = Volunteer.Status
NOT_ACTIVE = (S.LEFT, S.DECLINED, S.PAUSED, S.APPLIED)
TASK_ACTIONS = ("volunteer_task", "volunteer_report", "volunteer_task_withdrawn")
FREE_TEXT_HOURS = (HoursEntry.Kind.SERVICE, HoursEntry.Kind.CORRECTION)


@dataclass
class Progress:
    volunteers: int = 0
    logins: int = 0


@dataclass(frozen=True)
class Holder:
    """A later app's table that names volunteers (dependencies point one way, so it registers here).

    ``recent(before)`` gives its rows (with a ``volunteer`` key) that keep a volunteer's data;
    ``scrub(ids)`` removes those volunteers' personal data from its rows in one query.
    """

    recent: Callable[[datetime], QuerySet]
    scrub: Callable[[list[int]], object]


_holders: list[Holder] = []


def holds_volunteer_data(*, recent: Callable[[datetime], QuerySet], scrub: Callable[[list[int]], object]) -> None:
    holder = Holder(recent, scrub)
    if holder not in _holders:
        _holders.append(holder)


def cutoff(now=None) -> datetime:
    return (now or timezone.now()) - timedelta(days=settings.VOLUNTEER_DATA_RETENTION_DAYS)


def _keeping(before: datetime) -> list[QuerySet]:
    """Rows that show something happened for a volunteer since ``before`` (or is still running)."""
    day = timezone.localdate(before)
    return [
        VolunteerEvent.objects.filter(at__gte=before),
        HoursEntry.objects.filter(Q(served_on__gte=day) | Q(created_at__gte=before)),
        SignUp.objects.filter(
            Q(signed_up_at__gte=before) | Q(activity__starts_at__gte=before) | Q(cancelled_at__gte=before)
        ),
        Task.objects.filter(Q(assigned_at__gte=before) | Q(reported_at__gte=before)),
        Membership.objects.filter(joined_on__gte=day),
        BuildingAssignment.objects.filter(Q(ended_on__isnull=True) | Q(ended_on__gte=day) | Q(since__gte=day)),
        Suggestion.objects.filter(Q(submitted_at__gte=before) | Q(answered_at__gte=before) | _caller_of_recent_case(before)),
        *(holder.recent(before) for holder in _holders),
    ]


def _caller_of_recent_case(before: datetime) -> Q:
    """The suggestion's case is open, or finished within the period: its handlers may still call them back."""
    return Q(case__isnull=False) & ~case_retention.finished_before(before, prefix="case__")


def due_volunteers(*, before: datetime) -> QuerySet[Volunteer]:
    """Volunteers whose personal data is past the retention period and still there."""
    queryset = Volunteer.objects.filter(status__in=NOT_ACTIVE, anonymised_at__isnull=True, updated_at__lt=before)
    for rows in _keeping(before):
        queryset = queryset.filter(~Exists(rows.filter(volunteer=OuterRef("pk"))))
    return queryset


def placeholder_phone() -> Concat:
    """``PHONE_PLACEHOLDER`` for each row, in SQL."""
    before, after = PHONE_PLACEHOLDER.split("{pk}")
    return Concat(Value(before), Cast("pk", models.CharField()), Value(after), output_field=models.CharField())


@transaction.atomic
def anonymise(volunteer_ids: list[int], *, before: datetime | None = None, now=None) -> Progress:
    """Remove the personal data of those of these volunteers still past retention (checked again here)."""
    now = now or timezone.now()
    due = due_volunteers(before=before or cutoff(now)).filter(pk__in=volunteer_ids)
    # Locked and checked again: someone may have brought one back since the batch was chosen.
    rows = list(due.select_for_update(of=("self",)).order_by("pk").values_list("pk", "user_id"))
    ids = [pk for pk, _user in rows]
    if not ids:
        return Progress()
    Volunteer.objects.filter(pk__in=ids).update(
        name="", phone=placeholder_phone(), building=None, party_since=None, employer_party_org="",
        reported_on=None, availability="", note="", user=None, anonymised_at=now, updated_at=now,
    )
    VolunteerEvent.objects.filter(volunteer_id__in=ids).exclude(note="").update(note="")
    BuildingAssignment.objects.filter(volunteer_id__in=ids).exclude(note="").update(note="")
    HoursEntry.objects.filter(volunteer_id__in=ids, kind__in=FREE_TEXT_HOURS).exclude(description="").forget_descriptions()
    _scrub_tasks_and_suggestions(ids, now=now)
    for holder in _holders:
        holder.scrub(ids)
    logins = _close_logins([user for _pk, user in rows if user is not None])
    return Progress(volunteers=len(ids), logins=logins)


def _scrub_tasks_and_suggestions(ids: list[int], *, now: datetime) -> None:
    tasks = list(Task.objects.filter(volunteer_id__in=ids).values_list("pk", "case_id"))
    suggestions = list(
        Suggestion.objects.filter(volunteer_id__in=ids).values_list("pk", "case_id", "case__status", "case__anonymised_at")
    )
    if tasks:
        Task.objects.filter(volunteer_id__in=ids).update(description="", report="")
    if suggestions:
        Suggestion.objects.filter(volunteer_id__in=ids).update(text="", answer="")
    linked = [(pk, case) for pk, case, _status, _done in suggestions if case is not None]
    if not tasks and not linked:
        return
    # The case keeps its timeline; the volunteer's name goes from the entries about them, and the
    # task entries' notes, copies of the instructions and reports emptied above (the one
    # sanctioned edit of those rows, as in cases.retention).
    about_them = []
    if tasks:
        about_them.append(Q(case_id__in={c for _t, c in tasks}, action__in=TASK_ACTIONS, data__task__in=[t for t, _c in tasks]))
    if linked:
        about_them.append(
            Q(case_id__in={c for _s, c in linked}, action="from_suggestion", data__suggestion__in=[s for s, _c in linked])
        )
    events = TimelineEvent.objects.filter(reduce(operator.or_, about_them))
    events.update(
        data=WithoutKey("data", key="volunteer"), actor_label="",
        note=CaseWhen(When(action__in=TASK_ACTIONS, then=Value("")), default=F("note"), output_field=models.TextField()),
    )
    # The volunteer is these cases' caller. Every one is finished and quiet for the period (an open
    # or recent one keeps the volunteer, see _keeping): it loses them now, by the cases' own rules.
    finished = [case for _s, case, status, done in suggestions if status in Case.FINAL and done is None]
    if finished:
        case_retention.anonymise(finished, now=now)


def own_accounts() -> QuerySet:
    """Login accounts that are only a volunteer's (never staff: those are only unlinked)."""
    staff = Post.objects.filter(user=OuterRef("pk"))
    return get_user_model().objects.filter(is_staff=False, is_superuser=False).filter(~Exists(staff))


def _close_logins(user_ids: list[int]) -> int:
    """Volunteers' own accounts are closed and stripped of their names."""
    if not user_ids:
        return 0
    # "~" is refused in usernames by Django's validator, so no real account can already bear it.
    return own_accounts().filter(pk__in=user_ids).update(
        username=Concat(Value("~anonymised-"), Cast("pk", models.CharField()), output_field=models.CharField()),
        first_name="", last_name="", email="", password=make_password(None), is_active=False,
    )


def anonymise_due(*, before: datetime | None = None, batch_size: int = BATCH_SIZE, dry_run: bool = False) -> Progress:
    before = before or cutoff()
    queryset = due_volunteers(before=before)
    if dry_run:
        logins = own_accounts().filter(pk__in=queryset.filter(user__isnull=False).values("user_id")).count()
        return Progress(volunteers=queryset.count(), logins=logins)
    progress = Progress()
    for ids in batches(queryset, batch_size):
        done = anonymise(ids, before=before)
        progress.volunteers += done.volunteers
        progress.logins += done.logins
    return progress
