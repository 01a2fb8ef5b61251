"""Active volunteers and party members by home unit, kept exact by the services (as ``cases.tallies``).

The dashboards show the corps under a unit: counted from the volunteers, that is every active
volunteer of the area at the top tier. Counted from the tallies, it is one row per community or
grid. Every change to a volunteer's status, home or party membership goes through
``volunteers.services`` (or the admin's change form), which calls ``recount`` for the units the
volunteer was and is in: the tally rows are locked first, then recounted in a new statement, so
the recount sees every change that held the lock before it.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

from communities.models import Unit

from .models import Volunteer, VolunteerTally

ACTIVE = Volunteer.Status.ACTIVE


def recount(*unit_ids: int | None) -> None:
    """Recount the tallies of these home units (a volunteer's before and after a change): three statements."""
    ids = sorted({pk for pk in unit_ids if pk is not None})
    if not ids:
        return
    with transaction.atomic():
        paths = dict(Unit.objects.filter(pk__in=ids).values_list("pk", "path"))
        VolunteerTally.objects.bulk_create(
            [VolunteerTally(unit_id=pk, unit_path=paths[pk]) for pk in ids],
            update_conflicts=True, unique_fields=["unit"], update_fields=["unit_path"],
        )
        VolunteerTally.objects.filter(unit_id__in=ids).update(
            active=_count(Q()), party_members=_count(Q(party_member=True))
        )


def _count(condition: Q):
    rows = Volunteer.objects.filter(condition, unit_id=OuterRef("unit_id"), status=ACTIVE).order_by()
    return Coalesce(Subquery(rows.values("unit_id").annotate(n=Count("*")).values("n")), 0)


def _expected(volunteer_model=Volunteer) -> dict[int, tuple[str, int, int]]:
    return {
        unit: (path, n, party)
        for unit, path, n, party in volunteer_model.objects.filter(status=ACTIVE).order_by()
        .values_list("unit_id", "unit_path").annotate(n=Count("*"), party=Count("pk", filter=Q(party_member=True)))
    }


@transaction.atomic
def rebuild(*, models: tuple | None = None) -> int:
    """Recount every tally (after a bulk load or SQL repair): rows written.

    ``models`` (Volunteer, VolunteerTally) lets a migration pass its historical models.
    """
    volunteer_model, tally_model = models or (Volunteer, VolunteerTally)
    tally_model.objects.all().delete()
    rows = [
        tally_model(unit_id=unit, unit_path=path, active=n, party_members=party)
        for unit, (path, n, party) in sorted(_expected(volunteer_model).items())
    ]
    return len(tally_model.objects.bulk_create(rows, batch_size=5_000))


def differences() -> list[str]:
    """Tallies that differ from a recount of the volunteers (empty when all are exact): for tests and checks."""
    expected = _expected()
    stored = {
        unit: (path, n, party)
        for unit, path, n, party in VolunteerTally.objects.exclude(active=0, party_members=0).values_list(
            "unit_id", "unit_path", "active", "party_members"
        )
    }
    return [
        f"volunteers {unit}: expected {expected.get(unit)}, stored {stored.get(unit)}"
        for unit in sorted(set(expected) | set(stored))
        if expected.get(unit) != stored.get(unit)
    ]
