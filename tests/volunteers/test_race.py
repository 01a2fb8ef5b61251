"""Capacity holds when many sign up at once.

On PostgreSQL each sign-up runs in its own thread and connection: the activity row lock
queues them and the conditional seat update refuses everyone after the last seat. The
stale-read test runs on both databases: the seat is taken by a conditional UPDATE, not by
a count read earlier.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from volunteers import services
from volunteers.models import Activity, SignUp
from volunteers.services import IllegalTransition

from .factories import ActivityFactory, VolunteerFactory


def _race(*calls):
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            results[index] = call()
        except Exception as error:  # noqa: BLE001 - a refusal is a result
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_twelve_volunteers_racing_for_five_seats_get_five_sign_ups(area):
    from communities.models import Role
    from tests.factories import CommunityFactory, StreetFactory, staff

    community = CommunityFactory(parent=StreetFactory(parent=area))
    director = staff(community, Role.DIRECTOR)
    activity = ActivityFactory(unit=community, capacity=5)
    volunteers = VolunteerFactory.create_batch(12, unit=community)
    assert connection.vendor == "postgresql"

    def sign_up(volunteer):
        by = type(director).objects.get(pk=director.pk)
        return services.sign_up(activity=Activity.objects.get(pk=activity.pk), volunteer=volunteer, by=by)

    results = _race(*[(lambda v=v: sign_up(v)) for v in volunteers])

    signed = [r for r in results if isinstance(r, SignUp)]
    refused = [r for r in results if isinstance(r, IllegalTransition)]
    assert len(signed) == 5 and len(refused) == 7, results
    activity.refresh_from_db()
    assert activity.seats_taken == 5
    assert SignUp.objects.filter(activity=activity).exclude(status=SignUp.Status.CANCELLED).count() == 5


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_one_volunteer_double_clicking_gets_one_seat(area):
    from communities.models import Role
    from tests.factories import CommunityFactory, StreetFactory, staff

    community = CommunityFactory(parent=StreetFactory(parent=area))
    director = staff(community, Role.DIRECTOR)
    activity = ActivityFactory(unit=community, capacity=5)
    volunteer = VolunteerFactory(unit=community)

    results = _race(*[
        (lambda: services.sign_up(activity=Activity.objects.get(pk=activity.pk), volunteer=volunteer,
                                  by=type(director).objects.get(pk=director.pk)))
        for _i in range(4)
    ])

    assert len([r for r in results if isinstance(r, SignUp)]) == 1, results
    activity.refresh_from_db()
    assert activity.seats_taken == 1


@pytest.mark.django_db
def test_a_stale_view_of_free_seats_does_not_overbook(community, director, monkeypatch):
    """Both sign-ups read "one seat left"; the conditional update lets only one through."""
    activity = ActivityFactory(unit=community, capacity=1)
    first, second = VolunteerFactory.create_batch(2, unit=community)
    stale = Activity.objects.select_related("unit", "team").get(pk=activity.pk)
    monkeypatch.setattr(services.activities, "lock_activity", lambda a: stale)

    services.sign_up(activity=activity, volunteer=first, by=director)
    with pytest.raises(IllegalTransition):
        services.sign_up(activity=activity, volunteer=second, by=director)

    activity.refresh_from_db()
    assert activity.seats_taken == 1
    assert SignUp.objects.filter(activity=activity).count() == 1
