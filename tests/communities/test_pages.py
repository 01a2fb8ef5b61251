"""The staff tree pages: workspace, unit page, building page, login and the base layout."""

import re
from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib import messages
from django.contrib.messages.storage.session import SessionStorage
from django.http import HttpResponse
from django.test import RequestFactory

from communities.models import Role
from tests import factories as f

MAX_QUERIES = 30


@pytest.fixture
def english(client):
    """Assertions on labels read English message ids, whatever the translations say."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def _count_queries(client, url: str, limit) -> int:
    """Queries of one request, failing above MAX_QUERIES (``limit`` is django_assert_max_num_queries)."""
    client.get(url)  # warm per-process caches (content types) so both sizes start equal
    with limit(MAX_QUERIES) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def _grow_grids(community, n: int) -> None:
    for _ in range(n):
        building = f.BuildingFactory(unit=f.GridFactory(parent=community))
        f.HouseholdFactory(stairwell=f.StairwellFactory(building=building))


# --- Workspace ----------------------------------------------------------------------


def test_workspace_shows_each_post_with_role_portfolio_and_unit_level(english, community, grid):
    user = f.staff(community, Role.DEPUTY_DIRECTOR, portfolio="safety", title="分管平安建设")
    english.force_login(user)

    page = english.get("/workspace/").content.decode()

    for text in ("Deputy director", "Public safety", "分管平安建设", community.name, "Community"):
        assert text in page
    assert community.get_absolute_url() in page
    assert grid.get_absolute_url() in page


def test_workspace_counts_the_subtree(client, community, grid, sibling_grid, building):
    f.HouseholdFactory.create_batch(4, stairwell=f.StairwellFactory(building=building), area=Decimal("70"))
    client.force_login(f.staff(community, Role.DIRECTOR))

    (entry,) = client.get("/workspace/").context["trees"]

    assert (entry["counts"].units, entry["counts"].buildings, entry["counts"].households) == (2, 1, 4)
    assert entry["counts"].area == Decimal("280")
    by_child = {child: counts for child, counts in entry["children"]}
    assert (by_child[grid].buildings, by_child[grid].households) == (1, 4)
    assert (by_child[sibling_grid].buildings, by_child[sibling_grid].households) == (0, 0)


def test_a_grid_workers_workspace_lists_the_buildings_of_the_grid(client, grid, building):
    client.force_login(f.staff(grid, Role.GRID_WORKER))

    (entry,) = client.get("/workspace/").context["trees"]

    assert entry["children"] == []
    assert entry["buildings"] == [building]


def test_a_superuser_workspace_starts_at_the_top_of_the_tree(client, area, street, sibling_street):
    client.force_login(f.UserFactory(is_superuser=True))

    (entry,) = client.get("/workspace/").context["trees"]

    assert entry["unit"] == area
    assert {child for child, _ in entry["children"]} == {street, sibling_street}


def test_a_user_without_a_post_is_told_why_the_workspace_is_empty(english, community):
    english.force_login(f.UserFactory())

    response = english.get("/workspace/")

    assert response.status_code == 200
    assert response.context["trees"] == []
    assert "You hold no post yet" in response.content.decode()
    assert community.get_absolute_url() not in response.content.decode()


def test_a_department_liaisons_workspace_shows_their_department(english, area):
    department = f.DepartmentFactory(unit=area, name="燕山住建委", contact_name="王科长", contact_phone="010-69341234")
    english.force_login(f.staff(area, Role.DEPARTMENT_LIAISON, department=department))

    page = english.get("/workspace/").content.decode()

    for text in ("Department liaison", "燕山住建委", "王科长", "010-69341234"):
        assert text in page


@pytest.mark.parametrize("size", [5, 50])
def test_workspace_queries_do_not_grow_with_the_tree(client, community, size, django_assert_max_num_queries):
    _grow_grids(community, 5)
    client.force_login(f.staff(community, Role.DIRECTOR))
    small = _count_queries(client, "/workspace/", django_assert_max_num_queries)
    _grow_grids(community, size)

    assert _count_queries(client, "/workspace/", django_assert_max_num_queries) == small


# --- Unit page -----------------------------------------------------------------------


def test_unit_page_lists_children_buildings_staff_and_partners(english, community, grid, sibling_grid):
    building = f.BuildingFactory(unit=community, name="星城三里1号楼")
    director = f.staff(community, Role.DIRECTOR)
    f.PartnerFactory(unit=community, name="星城物业", contact_phone="13900001111")
    english.force_login(director)

    response = english.get(community.get_absolute_url())

    page = response.content.decode()
    assert [child for child, _ in response.context["children"]] == [grid, sibling_grid]
    assert list(response.context["buildings"]) == [building]
    for text in (grid.name, sibling_grid.name, "星城三里1号楼", director.username, "Director", "星城物业", "13900001111"):
        assert text in page


def test_unit_page_of_the_area_lists_the_departments_serving_it(english, area):
    f.DepartmentFactory(unit=area, name="燕山人社局", kind="hr")
    english.force_login(f.staff(area, Role.SECRETARY))

    assert "燕山人社局" in english.get(area.get_absolute_url()).content.decode()


@pytest.mark.parametrize("size", [5, 50])
def test_unit_page_queries_do_not_grow_with_children_or_buildings(client, community, size, django_assert_max_num_queries):
    _grow_grids(community, 5)
    f.BuildingFactory.create_batch(5, unit=community)
    client.force_login(f.staff(community, Role.DIRECTOR))
    small = _count_queries(client, community.get_absolute_url(), django_assert_max_num_queries)
    _grow_grids(community, size)
    f.BuildingFactory.create_batch(size, unit=community)
    f.PartnerFactory.create_batch(size, unit=community)
    for _ in range(size // 5):
        f.staff(community, Role.CASEWORKER)

    assert _count_queries(client, community.get_absolute_url(), django_assert_max_num_queries) == small


# --- Building page -------------------------------------------------------------------


def test_building_page_shows_households_by_floor_with_areas_and_totals(english, grid, building):
    stairwell = f.StairwellFactory(building=building, number=1)
    f.HouseholdFactory(stairwell=stairwell, floor=2, room="201", area=Decimal("88.25"))
    f.HouseholdFactory(stairwell=stairwell, floor=1, room="101", area=Decimal("61.75"), occupied=False)
    english.force_login(f.staff(grid, Role.GRID_WORKER))

    response = english.get(building.get_absolute_url())

    page = response.content.decode()
    assert page.index("201") < page.index("101")  # top floor first, as the building stands
    for text in ("Stairwell unit 1", "88.25", "61.75", "150.00", "vacant", "2 households"):
        assert text in page
    layout = response.context["layout"]
    assert (layout.households, layout.occupied, layout.area) == (2, 1, Decimal("150.00"))


@pytest.mark.parametrize("size", [5, 50])
def test_building_page_queries_do_not_grow_with_households(client, grid, building, size, django_assert_max_num_queries):
    stairwells = [f.StairwellFactory(building=building, number=n) for n in (1, 2)]
    f.HouseholdFactory.create_batch(5, stairwell=stairwells[0])
    client.force_login(f.staff(grid, Role.GRID_WORKER))
    small = _count_queries(client, building.get_absolute_url(), django_assert_max_num_queries)
    for stairwell in stairwells:
        for floor in range(1, size // 5 + 1):
            f.HouseholdFactory.create_batch(5, stairwell=stairwell, floor=floor)
    f.StairwellFactory(building=building, number=3)

    assert _count_queries(client, building.get_absolute_url(), django_assert_max_num_queries) == small


# --- Login, logout and the layout ------------------------------------------------------


@pytest.mark.parametrize("page", ["workspace", "unit", "building"])
def test_staff_pages_send_a_logged_out_visitor_to_the_login_page(client, building, page):
    url = {"workspace": "/workspace/", "unit": building.unit.get_absolute_url(), "building": building.get_absolute_url()}[page]

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={url}"


def test_a_wrong_password_shows_an_error_and_keeps_the_username(english, community):
    user = f.staff(community)

    response = english.post("/accounts/login/", {"username": user.username, "password": "wrong"})

    page = response.content.decode()
    assert response.status_code == 200
    assert 'role="alert"' in page
    assert "Please enter a correct username and password" in page
    assert f'value="{user.username}"' in page
    assert "wrong" not in re.findall(r'name="password"[^>]*', page)[0]


def test_logging_in_lands_on_the_workspace(client, community):
    user = f.staff(community)

    response = client.post("/accounts/login/", {"username": user.username, "password": "pw-for-tests-123"})

    assert response.status_code == 302
    assert response["Location"] == "/workspace/"


def test_logging_in_returns_to_the_page_asked_for(client, community):
    user = f.staff(community)
    url = community.get_absolute_url()

    response = client.post(f"/accounts/login/?next={url}", {"username": user.username, "password": "pw-for-tests-123", "next": url})

    assert response["Location"] == url


def test_the_header_logs_out_with_a_post_form(client, community):
    client.force_login(f.staff(community))

    page = client.get("/workspace/").content.decode()

    form = re.search(r'<form method="post" action="/accounts/logout/"[^>]*>(.*?)</form>', page, re.S)
    assert form and "csrfmiddlewaretoken" in form.group(1)
    assert client.get("/accounts/logout/").status_code == 405
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/workspace/").status_code == 302


@pytest.mark.parametrize("url", ["/", "/accounts/login/", "/workspace/", "unit", "building"])
def test_pages_have_no_inline_styles_or_scripts(client, community, building, url):
    stairwell = f.StairwellFactory(building=building)
    f.HouseholdFactory(stairwell=stairwell)
    if url in ("/workspace/", "unit", "building"):
        client.force_login(f.staff(community, Role.ADMINISTRATOR))
    url = {"unit": community.get_absolute_url(), "building": building.get_absolute_url()}.get(url, url)

    page = client.get(url).content.decode()

    assert " style=" not in page
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page)
    assert not re.search(r"\son[a-z]+=", page)
    assert "/static/vendor/pico/pico.min.css" in page and "/static/css/portal.css" in page


def test_the_header_names_the_user_and_links_the_admin_for_administrators(client, community):
    admin = f.staff(community, Role.ADMINISTRATOR)
    client.force_login(admin)

    page = client.get("/workspace/").content.decode()

    assert admin.username in page
    assert 'href="/admin/"' in page


def test_the_header_has_no_admin_link_for_a_caseworker(client, community):
    client.force_login(f.staff(community, Role.CASEWORKER))
    assert 'href="/admin/"' not in client.get("/workspace/").content.decode()



def test_the_layout_shows_a_message_once(client, community):
    client.force_login(f.staff(community))
    session = client.session
    request = RequestFactory().get("/")
    request.session = session
    storage = SessionStorage(request)
    storage.add(messages.SUCCESS, "案件已接单")
    storage.update(HttpResponse())
    session.save()

    first = client.get("/workspace/").content.decode()
    second = client.get("/workspace/").content.decode()

    assert 'class="message message-success"' in first and "案件已接单" in first
    assert "案件已接单" not in second
