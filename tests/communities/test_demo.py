"""manage.py load_demo: the Yanshan demo area, its logins, and that it is safe to run twice."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command

from communities import demo
from communities.models import (
    ROLE_LEVELS,
    Building,
    Department,
    Household,
    PartnerOrganisation,
    Post,
    Role,
    Stairwell,
    Unit,
)

MODELS = [Unit, Building, Stairwell, Household, Department, PartnerOrganisation, Post, Group]


@pytest.fixture
def debug(settings):
    settings.DEBUG = True


def load_demo() -> str:
    out = StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in [*MODELS, get_user_model()]}


def test_running_twice_leaves_the_same_rows(db, debug):
    load_demo()
    first = counts()

    output = load_demo()

    assert counts() == first
    assert "area_secretary" in output


def test_building_41_has_six_stairwells_and_72_households(db, debug):
    load_demo()

    building = Building.objects.get(name="星城二里41号楼")
    households = Household.objects.filter(stairwell__building=building)

    assert building.unit.code == "xc-3-g1" and building.unit.parent.name == "星城第三社区"
    assert building.stairwells.count() == 6
    assert households.count() == 72
    assert all(56 <= household.area <= 78 for household in households)


def test_the_tree_has_the_four_streets_of_yanshan(db, debug):
    load_demo()

    area = Unit.objects.get(code="yanshan")

    assert set(area.children.values_list("name", flat=True)) == {"星城街道", "向阳街道", "迎风街道", "东风街道"}
    assert Unit.objects.get(name="东流水社区").parent.code == "dongfeng"
    assert Unit.objects.get(name="燕和园社区").parent.code == "yingfeng"


def test_refuses_to_run_with_debug_off(db, settings):
    settings.DEBUG = False

    with pytest.raises(CommandError):
        load_demo()

    assert not Unit.objects.exists()


def test_prints_one_line_per_login(db, debug):
    lines = load_demo().splitlines()

    for username in [*(row[0] for row in demo.STAFF), demo.LIAISON[0], demo.SUPERUSER[0]]:
        assert len([line for line in lines if line.split()[0] == username]) == 1
    from volunteers.demo import PEOPLE  # the corps' demo volunteers with a login are listed too

    assert len(lines) >= 1 + len(demo.STAFF) + 2  # a header, then one line per login
    assert len(lines) <= 1 + len(demo.STAFF) + 2 + len(PEOPLE)
    assert all(demo.DEMO_PASSWORD in line for line in lines[1:])


def test_each_role_exists_once_per_tier_where_the_tier_has_it(db, debug):
    load_demo()

    for code, level in [("yanshan", "area"), ("xingcheng", "street"), ("xc-3", "community"), ("xc-3-g1", "grid")]:
        held = set(Post.objects.filter(unit__code=code).values_list("role", flat=True))
        expected = {role for role, levels in ROLE_LEVELS.items() if level in levels}
        assert held == expected, code


def test_demo_staff_hold_their_role_groups(db, debug):
    load_demo()
    User = get_user_model()

    assert User.objects.get(username="xc3g1_grid_worker").groups.filter(name=Role.GRID_WORKER).exists()
    assert User.objects.get(username="street_administrator").is_staff
    assert not User.objects.get(username="xc3_caseworker").is_staff
    assert User.objects.get(username="admin").is_superuser
    liaison = Post.objects.get(user__username="housing_liaison")
    assert liaison.department.name == "燕山住建委"


def test_demo_community_worker_logs_in_to_their_workspace(client, db, debug):
    load_demo()

    response = client.post(
        "/accounts/login/", {"username": "xc3_caseworker", "password": demo.DEMO_PASSWORD}
    )

    assert response.status_code == 302
    assert response.url == "/workspace/"
    assert "星城第三社区" in client.get(response.url).content.decode()


def test_demo_administrators_sign_in_with_the_published_second_factor(client, db, debug, settings):
    settings.TWO_FACTOR_REQUIRED_ROLES = ["administrator", "superuser"]  # the production rule
    load_demo()
    client.post("/accounts/login/", {"username": "street_administrator", "password": demo.DEMO_PASSWORD})
    assert client.get("/admin/")["Location"].startswith("/account/two-factor/verify/")
    assert client.post("/account/two-factor/verify/", {"code": demo.demo_totp_code()}).status_code == 302
    assert client.get("/admin/").status_code == 200
    out = StringIO()
    call_command("demo_code", stdout=out)
    assert out.getvalue().strip().isdigit() and len(out.getvalue().strip()) == 6
