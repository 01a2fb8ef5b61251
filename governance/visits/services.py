"""Proactive visits (未呼先应 for people): flag a household, schedule, record, raise a case in one step.

One transaction each. The visit row is the record (date, who, what was found) and is written
with a compare-and-set, so two staff recording the same visit get one success and one clear
refusal on both databases. A case raised from a visit goes through ``cases.services.intake``
like any grid-patrol report, and its timeline names the visit.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases import services as case_services
from cases.models import Case, Category
from cases.refusals import IllegalTransition, ensure_perm, ensure_within, required
from cases.services.rules import display_name
from communities.models import Household
from communities.phones import log_refused_reveal, log_reveal, normalise_phone
from communities.selectors import subtree_paths
from volunteers.models import Volunteer
from volunteers.selectors import visible_volunteers
from volunteers.services import ANONYMISED

from ..models import CareNeed, Visit


def _today() -> date:
    return timezone.localdate()


@transaction.atomic
def flag_need(
    *, household: Household, kind: str, by, person_name: str = "", phone: str = "", note: str = "",
    visit_every_days: int = 30, first_visit_on: date | None = None, assigned_to=None,
    volunteer: Volunteer | None = None,
) -> CareNeed:
    """Flag a household as needing attention; its first visit is scheduled at once."""
    ensure_perm(by, "governance.add_careneed", _("You may not flag households."))
    building = household.stairwell.building
    ensure_within(by, building.unit, _("This household is outside your grid or community."))
    if kind not in CareNeed.Kind.values:
        raise ValidationError({"kind": _("Choose why the household needs attention.")})
    if not 1 <= int(visit_every_days) <= 366:
        raise ValidationError({"visit_every_days": _("Visit at least once a year and at most daily.")})
    if CareNeed.objects.filter(household=household, kind=kind).exists():
        raise ValidationError({"kind": _("This household is already flagged for that.")})
    need = CareNeed.objects.create(
        household=household, kind=kind, person_name=person_name.strip(), phone=normalise_phone(phone),
        note=note.strip(),
        visit_every_days=visit_every_days, created_by=by,
    )
    _check_visitors(by, need, assigned_to, volunteer)
    Visit.objects.create(need=need, due_on=first_visit_on or _today(), assigned_to=assigned_to, volunteer=volunteer)
    return need


def _check_visitors(by, need: CareNeed, assigned_to, volunteer: Volunteer | None) -> None:
    if assigned_to is not None and not _assignee_ok(assigned_to, need):
        raise ValidationError({"assigned_to": _("%(name)s does not work here.") % {"name": display_name(assigned_to)}})
    if volunteer is not None and not visible_volunteers(by).filter(pk=volunteer.pk).exists():
        raise ValidationError({"volunteer": _("A volunteer you cannot see was chosen.")})
    if volunteer is not None and volunteer.is_anonymised:
        raise ValidationError({"volunteer": ANONYMISED})


def _assignee_ok(user, need: CareNeed) -> bool:
    roots = subtree_paths(user)
    return roots is None or any(need.unit_path.startswith(root) or root.startswith(need.unit_path) for root in roots)


@transaction.atomic
def schedule_visit(
    *, need: CareNeed, due_on: date, by, assigned_to=None, volunteer: Volunteer | None = None,
) -> Visit:
    """Plan a visit, by a grid worker or a building head (楼门长)."""
    ensure_perm(by, "governance.add_visit", _("You may not schedule visits."))
    need = CareNeed.objects.select_for_update().select_related("unit").get(pk=need.pk)
    ensure_within(by, need.unit, _("This household is outside your grid or community."))
    if not need.active:
        raise IllegalTransition(_("This household is no longer flagged."))
    _check_visitors(by, need, assigned_to, volunteer)
    return Visit.objects.create(need=need, due_on=due_on, assigned_to=assigned_to, volunteer=volunteer)


def reveal_phone(*, visit: Visit, by) -> str:
    """The household's full number, for staff who may visit it (record visits, in its grid or
    community); every opening, and every refused try, is in the security log."""
    subject = {"visit": visit.pk, "care_need": visit.need_id, "field": "phone"}
    try:
        ensure_perm(by, "governance.record_visit", _("Only staff who visit this household can see the full number."))
        need = CareNeed.objects.select_related("unit").get(pk=visit.need_id)
        ensure_within(by, need.unit, _("This household is outside your grid or community."))
    except IllegalTransition as refusal:
        log_refused_reveal(by=by, subject=subject, why=refusal.message)
        raise
    log_reveal(by=by, subject=subject)
    return need.phone


@transaction.atomic
def record_visit(
    *, visit: Visit, by, visited_on: date, outcome: str, finding: str = "", visitor_name: str = "",
) -> Visit:
    """Record a visit paid; the household's next visit is scheduled from it."""
    ensure_perm(by, "governance.record_visit", _("You may not record visits."))
    visit = (
        Visit.objects.select_for_update(of=("self",)).select_related("need", "need__unit", "volunteer")
        .get(pk=visit.pk)
    )
    ensure_within(by, visit.need.unit, _("This household is outside your grid or community."))
    if outcome not in Visit.Outcome.values:
        raise ValidationError({"outcome": _("Say how the visit went.")})
    if visited_on > _today():
        raise ValidationError({"visited_on": _("A visit cannot be recorded ahead of time.")})
    finding = (finding or "").strip()
    if outcome == Visit.Outcome.NEEDS_HELP:
        finding = required(finding, "finding", _("Say what help is needed."))
    visitor = (visitor_name or "").strip() or (visit.volunteer.name if visit.volunteer_id else display_name(by))
    now = timezone.now()
    changes = dict(visited_on=visited_on, outcome=outcome, finding=finding, visitor_name=visitor[:50],
                   recorded_by=by, recorded_at=now)
    if Visit.objects.filter(pk=visit.pk, visited_on__isnull=True).update(**changes) != 1:
        raise IllegalTransition(_("This visit has already been recorded."))
    for name, value in changes.items():
        setattr(visit, name, value)
    need = visit.need
    if need.active and not Visit.objects.filter(need=need, visited_on__isnull=True).exists():
        Visit.objects.create(
            need=need, due_on=visited_on + timedelta(days=need.visit_every_days),
            assigned_to=visit.assigned_to, volunteer=visit.volunteer,
        )
    return visit


@transaction.atomic
def raise_case(*, visit: Visit, by, category: Category, title: str, description: str = "") -> Case:
    """What a visit found becomes a case (grid patrol), waiting at the street's dispatch desk."""
    ensure_perm(by, "governance.record_visit", _("You may not raise cases from visits."))
    visit = (
        Visit.objects.select_for_update(of=("self",))
        .select_related("need", "need__unit", "need__household__stairwell__building")
        .get(pk=visit.pk)
    )
    need = visit.need
    ensure_within(by, need.unit, _("This household is outside your grid or community."))
    if visit.visited_on is None:
        raise IllegalTransition(_("Record the visit first."))
    if visit.case_id:
        raise IllegalTransition(_("A case has already been raised from this visit."))
    household = need.household
    building = household.stairwell.building
    case = case_services.intake(
        source=Case.Source.GRID_PATROL, category=category, title=title,
        description=(description or "").strip() or visit.finding or title,
        location_unit=building.unit, building=building, address=f"{household}",
        resident_name=need.person_name, resident_phone=need.phone, by=by,
    )
    if Visit.objects.filter(pk=visit.pk, case__isnull=True).update(case=case) != 1:
        raise IllegalTransition(_("A case has already been raised from this visit."))
    visit.case = case
    case_services.record(
        case, action="raised_from_visit", by=by, note=visit.finding,
        data={"visit": visit.pk, "visited_on": visit.visited_on.isoformat()},
    )
    return case
