"""One display-name rule: Chinese names family name first with no space, Western names as given."""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from cases import services as case_services
from cases.services.rules import display_name
from communities import names
from communities.models import Role
from governance.api.serializers import display_name as api_display_name
from governance.coordination import services as coordination_services
from governance.models import Summons, Whistle
from governance.projects.forms import ProjectForm
from tests.cases.factories import new_case
from tests.factories import DepartmentFactory, staff
from tests.volunteers.factories import VolunteerFactory
from volunteers.services import hours

pytestmark = pytest.mark.django_db


def named(user, family: str, given: str):
    get_user_model().objects.filter(pk=user.pk).update(last_name=family, first_name=given)
    user.refresh_from_db()
    return user


@pytest.mark.parametrize("family, given, shown", [
    ("杜", "维臣", "杜维臣"),
    ("刘", "畅", "刘畅"),
    ("欧阳", "娜娜", "欧阳娜娜"),
    ("", "杨秀英", "杨秀英"),  # the whole name in one field, as the demo stores some
    ("Schmidt", "Anna", "Anna Schmidt"),
    ("", "", ""),
])
def test_the_rule(family, given, shown):
    assert names.person_name(family, given) == shown


def test_every_way_of_showing_an_account_follows_the_rule(street, community, grid):
    worker = named(staff(grid, Role.CASEWORKER), "杜", "维臣")
    assert worker.get_full_name() == "杜维臣"  # what templates and the admin call
    assert display_name(worker) == "杜维臣" == api_display_name(worker)
    western = named(staff(grid, Role.CASEWORKER), "Schmidt", "Anna")
    assert western.get_full_name() == "Anna Schmidt"


def test_the_case_timeline_shows_the_handler_family_name_first(client, street, grid):
    dispatcher, worker = staff(street, Role.DISPATCHER), named(staff(grid, Role.CASEWORKER), "杜", "维臣")
    case = case_services.dispatch(case=new_case(place=grid), to_unit=grid, by=dispatcher)
    case_services.accept(case=case, by=worker)
    client.force_login(worker)

    html = client.get(case.get_absolute_url()).content.decode()

    assert "杜维臣" in html and "维臣 杜" not in html


def test_a_whistle_report_is_signed_family_name_first(area, community, grid, street):
    housing = DepartmentFactory(unit=area, name="燕山住建委")
    liaison = named(staff(area, Role.DEPARTMENT_LIAISON, department=housing), "刘", "畅")
    director = staff(community, Role.DIRECTOR)
    case = case_services.dispatch(case=new_case(place=grid), to_unit=community, by=staff(street, Role.DISPATCHER))
    whistle = coordination_services.blow_whistle(
        case=case, unit=community, reason=Whistle.Reason.JOINT_ENFORCEMENT, description="联合执法",
        departments=[housing], partners=[], by=director,
    )
    summons = Summons.objects.get(whistle=whistle, department=housing)

    coordination_services.report(summons=summons, by=liaison, presence="on_site")

    summons.refresh_from_db()
    assert summons.reporter_name == "刘畅"


def test_the_project_owner_picker_lists_family_name_first(street):
    director = staff(street, Role.DIRECTOR)
    named(staff(street, Role.CASEWORKER), "刘", "畅")

    labels = [label for _value, label in ProjectForm(user=director).fields["owner_user"].choices]

    assert "刘畅" in labels and "畅 刘" not in labels


def test_the_hours_ledger_names_who_credited_the_hours(client, community):
    worker = named(staff(community, Role.DIRECTOR), "杜", "维臣")
    volunteer = VolunteerFactory(unit=community)
    hours.credit_service(volunteer=volunteer, by=worker, minutes=60, served_on=date(2026, 3, 1), unit=community,
                         description="帮邻居修水管")
    client.force_login(worker)

    html = client.get(reverse("volunteers:volunteer", kwargs={"pk": volunteer.pk})).content.decode()

    assert "杜维臣" in html and "维臣 杜" not in html


def test_the_admin_lists_names_by_the_same_rule(client, street):
    admin_user = get_user_model().objects.create_superuser("root", password="x")
    named(staff(street, Role.CASEWORKER), "Schmidt", "Anna")
    named(staff(street, Role.CASEWORKER), "杜", "维臣")
    client.force_login(admin_user)

    html = client.get(reverse("admin:auth_user_changelist")).content.decode()

    assert "Anna Schmidt" in html and "SchmidtAnna" not in html and "杜维臣" in html
