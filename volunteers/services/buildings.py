"""党员包楼: party members who answer for a building."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.refusals import IllegalTransition
from communities.models import Building

from ..models import BuildingAssignment, Volunteer
from .common import ensure_may, history, within_reach


@transaction.atomic
def assign_building(
    *, building: Building, volunteer: Volunteer, by, since: date | None = None, note: str = ""
) -> BuildingAssignment:
    ensure_may(by, "volunteers.assign_building", building.unit.path)
    errors = {}
    if not volunteer.party_member:
        errors["volunteer"] = _("%(name)s is not a party member.") % {"name": volunteer.name}
    elif volunteer.status != Volunteer.Status.ACTIVE:
        errors["volunteer"] = _("Only an active volunteer can answer for a building.")
    elif not within_reach(volunteer, building.unit):
        errors["volunteer"] = _("%(name)s does not live in this building's community.") % {"name": volunteer.name}
    since = since or timezone.localdate()
    if since > timezone.localdate():
        errors["since"] = _("This date lies in the future.")
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            assignment = BuildingAssignment.objects.create(
                building=building, volunteer=volunteer, since=since, note=(note or "").strip(), assigned_by=by
            )
    except IntegrityError:
        raise ValidationError(
            {"volunteer": _("%(name)s already answers for this building.") % {"name": volunteer.name}}
        ) from None
    history(volunteer, action="building_assigned", by=by, note=building.name)
    return assignment


@transaction.atomic
def end_assignment(*, assignment: BuildingAssignment, by) -> BuildingAssignment:
    assignment = BuildingAssignment.objects.select_for_update(of=("self",)).select_related(
        "building__unit", "volunteer"
    ).get(pk=assignment.pk)
    ensure_may(by, "volunteers.assign_building", assignment.building.unit.path)
    today = timezone.localdate()
    if BuildingAssignment.objects.filter(pk=assignment.pk, ended_on__isnull=True).update(ended_on=today) != 1:
        raise IllegalTransition(_("This assignment has already ended."))
    assignment.ended_on = today
    history(assignment.volunteer, action="building_released", by=by, note=assignment.building.name)
    return assignment
