"""The hours ledger: credits are appended, and corrected only by compensating entries."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.refusals import IllegalTransition, required
from communities.models import Unit

from ..models import HoursEntry, Team, Volunteer
from .common import ensure_may, ensure_not_anonymised, history

K = HoursEntry.Kind
MAX_MINUTES = 16 * 60


@transaction.atomic
def credit_service(
    *, volunteer: Volunteer, by, minutes: int, served_on: date, unit: Unit, description: str,
    team: Team | None = None,
) -> HoursEntry:
    """Credit service done outside a listed activity (a repair at a neighbour's, a haircut at home)."""
    ensure_may(by, "volunteers.record_hours", volunteer.unit_path)
    ensure_may(by, "volunteers.record_hours", unit.path)
    ensure_not_anonymised(volunteer)
    description = required(description, "description", _("Say what the service was."))
    errors = {}
    if not minutes or minutes < 1 or minutes > MAX_MINUTES:
        errors["minutes"] = _("Between 1 minute and 16 hours.")
    if served_on > timezone.localdate():
        errors["served_on"] = _("This date lies in the future.")
    if volunteer.status not in (Volunteer.Status.ACTIVE, Volunteer.Status.PAUSED, Volunteer.Status.LEFT):
        errors["volunteer"] = _("Hours are credited to approved volunteers only.")
    if errors:
        raise ValidationError(errors)
    return HoursEntry.objects.create(
        volunteer=volunteer, kind=K.SERVICE, minutes=minutes, times=1, served_on=served_on, unit=unit,
        team=team, description=description[:200], created_by=by,
    )


def net_of(entry: HoursEntry) -> tuple[int, int]:
    """The entry's minutes and person-times after every correction of it."""
    totals = HoursEntry.objects.filter(corrects=entry).aggregate(m=Sum("minutes"), t=Sum("times"))
    return entry.minutes + (totals["m"] or 0), entry.times + (totals["t"] or 0)


@transaction.atomic
def correct(*, entry: HoursEntry, by, minutes: int, reason: str) -> HoursEntry:
    """Set what a credit should have been (0 voids it) by appending the difference.

    The original line stays as it was; the correction names it, says why and who, and
    carries ``times = -1`` when it voids the credit so person-times stay right too.
    """
    entry = HoursEntry.objects.select_for_update(of=("self",)).select_related("volunteer").get(pk=entry.pk)
    ensure_may(by, "volunteers.correct_hours", entry.unit_path)
    ensure_not_anonymised(entry.volunteer)
    reason = required(reason, "reason", _("Say why the hours are corrected."))
    if entry.kind == K.CORRECTION:
        raise IllegalTransition(_("Correct the original entry, not a correction."))
    if minutes is None or minutes < 0 or minutes > MAX_MINUTES:
        raise ValidationError({"minutes": _("Between 0 minutes and 16 hours.")})
    current_minutes, current_times = net_of(entry)
    if current_times <= 0:
        raise IllegalTransition(_("This entry was already voided."))
    delta = minutes - current_minutes
    if delta == 0:
        raise ValidationError({"minutes": _("This is what the entry already counts.")})
    correction = HoursEntry.objects.create(
        volunteer=entry.volunteer, kind=K.CORRECTION, minutes=delta, times=-1 if minutes == 0 else 0,
        served_on=entry.served_on, unit_id=entry.unit_id, team_id=entry.team_id, corrects=entry,
        description=reason[:200], created_by=by,
    )
    history(entry.volunteer, action="hours_corrected", by=by, note=f"{current_minutes} → {minutes}: {reason}")
    return correction
