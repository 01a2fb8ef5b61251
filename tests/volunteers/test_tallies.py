"""The corps figures a dashboard shows come from tallies the services keep (one row per home unit)."""

from __future__ import annotations

import pytest

from communities.models import Role
from tests import factories as f
from volunteers import selectors, services, tallies
from volunteers.models import Volunteer, VolunteerTally

pytestmark = pytest.mark.django_db
S = Volunteer.Status


def corps(user, unit) -> tuple[int, int]:
    totals = selectors.corps_totals(user, unit, selectors.Period())
    return totals.volunteers, totals.party_members


def test_joining_approval_pauses_moves_and_party_membership_keep_the_tallies_exact(
    street, community, sibling_community, grid, director
):
    secretary = f.staff(street, Role.SECRETARY)
    du = services.register(name="杜维臣", phone="13812345678", unit=grid, party_member=True)
    assert corps(secretary, street) == (0, 0) and tallies.differences() == []  # applied, not active yet

    services.approve(volunteer=du, by=director)
    yang = services.add_volunteer(name="杨阿姨", phone="13912345678", unit=community, by=director)
    assert corps(secretary, street) == (2, 1) and corps(secretary, grid) == (1, 1)

    services.set_status(volunteer=du, to=S.PAUSED, by=director)
    assert corps(secretary, street) == (1, 0) and tallies.differences() == []
    services.set_status(volunteer=du, to=S.ACTIVE, by=director)

    street_director = f.staff(street, Role.DIRECTOR)
    services.update_volunteer(volunteer=yang, by=street_director, unit=sibling_community, party_member=True)
    assert corps(secretary, community) == (1, 1)  # 杜维臣, in the grid
    assert corps(secretary, sibling_community) == (1, 1) and corps(secretary, street) == (2, 2)
    assert tallies.differences() == []


def test_the_admin_change_form_keeps_the_tallies_exact(admin_client, community):
    from django.urls import reverse

    from .factories import VolunteerFactory

    volunteer = VolunteerFactory(unit=community, party_member=False)
    url = reverse("admin:volunteers_volunteer_change", args=[volunteer.pk])
    form = admin_client.get(url).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None and name != "skills"}
    data.update({"party_member": "on", "events-TOTAL_FORMS": "0", "events-INITIAL_FORMS": "0"})

    response = admin_client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert VolunteerTally.objects.get(unit=community).party_members == 1
    assert tallies.differences() == []


def test_rebuild_recounts_rows_written_past_the_services(community):
    from .factories import VolunteerFactory

    volunteer = VolunteerFactory(unit=community)
    Volunteer.objects.filter(pk=volunteer.pk).update(status=S.LEFT)  # SQL by hand
    assert tallies.differences()

    tallies.rebuild()

    assert tallies.differences() == [] and VolunteerTally.objects.filter(active__gt=0).count() == 0
