"""What every volunteer service shares: who may act where, the history line, the locks."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.refusals import IllegalTransition
from communities.models import Unit, path_within
from communities.selectors import in_subtree

from ..models import Volunteer, VolunteerEvent, reach_path

NOT_HERE = _("This is outside your area.")
NOT_ALLOWED = _("Your role does not allow this.")
ANONYMISED = _("This volunteer's personal data was removed after the retention period: nothing more is recorded for them.")


def ensure_may(by, perm: str, path: str) -> None:
    """Staff act with the role's permission, inside their subtree; refuse anything else."""
    if not by.has_perm(perm):
        raise IllegalTransition(NOT_ALLOWED)
    if not in_subtree(by, path):
        raise IllegalTransition(NOT_HERE)


def ensure_not_anonymised(volunteer: Volunteer) -> None:
    """An anonymised volunteer stays as they are (``volunteers.retention``); the person may register again."""
    if volunteer.is_anonymised:
        raise IllegalTransition(ANONYMISED)


def is_self(by, volunteer: Volunteer) -> bool:
    return by is not None and by.is_authenticated and volunteer.user_id == by.pk


def ensure_self_or_may(by, volunteer: Volunteer, perm: str, path: str) -> None:
    if not is_self(by, volunteer):
        ensure_may(by, perm, path)


def within_reach(volunteer: Volunteer, unit: Unit) -> bool:
    """A volunteer serves where they live: their grid's community draws on them, and every tier above."""
    return path_within(volunteer.unit_path, reach_path(unit.path, unit.level))


def history(volunteer: Volunteer, *, action: str, by=None, note: str = "") -> VolunteerEvent:
    return VolunteerEvent.objects.create(
        volunteer=volunteer, at=timezone.now(), actor=by if by is not None and by.is_authenticated else None,
        action=action, note=note,
    )


def lock_volunteer(volunteer: Volunteer) -> Volunteer:
    return Volunteer.objects.select_for_update(of=("self",)).select_related("unit").get(pk=volunteer.pk)
