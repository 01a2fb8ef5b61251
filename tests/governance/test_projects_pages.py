"""Project list pages: staff list and item (scoped, fixed queries), forms, photos, and the residents' pages."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from communities.models import Role
from governance.models import Project, ProjectUpdate
from governance.projects import services
from tests import factories as f
from tests.api.conftest import client_for
from tests.cases.test_uploads import jpeg_bytes, upload
from tests.governance.test_projects import new_project

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(community):
    """A named grid worker with a phone on their account: nothing of them may reach residents."""
    user = f.staff(community, Role.CASEWORKER)
    get_user_model().objects.filter(pk=user.pk).update(first_name="梁艳", last_name="")
    return get_user_model().objects.get(pk=user.pk)


def _many(by, unit, n: int) -> list[Project]:
    found = []
    for i in range(n):
        project = new_project(by, unit, title=f"事项{i}", owner_user=by, owner_unit=unit, budget=1000)
        part = new_project(by, unit, parent=project, title=f"分项{i}")
        services.add_update(project=part, by=by, text="进展", progress=20)
        services.publish(project=project, by=by)
        found.append(project)
    return found


# --------------------------------------------------------------------------- staff pages


def test_the_list_runs_the_same_queries_for_5_and_50_items(client, director, community, django_assert_max_num_queries):
    client.force_login(director)
    _many(director, community, 5)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("projects:list")).status_code == 200
    _many(director, community, 45)
    with django_assert_max_num_queries(len(few)):
        page = client.get(reverse("projects:list")).content.decode()
    assert page.count('href="/projects/') >= 50


def test_a_sibling_units_item_is_404_and_not_listed(client, director, sibling_director, community, sibling_community):
    mine = new_project(director, community, title="本社区事项")
    theirs = new_project(sibling_director, sibling_community, title="七社区事项")
    client.force_login(director)
    page = client.get(reverse("projects:list")).content.decode()
    assert mine.title in page and theirs.title not in page
    assert client.get(theirs.get_absolute_url()).status_code == 404
    assert client.post(reverse("projects:action", args=[theirs.pk, "finish"])).status_code == 404
    assert client.get(reverse("projects:edit", args=[theirs.pk])).status_code == 404


def test_the_list_filters_by_status_flag_unit_and_year(client, director, community, grid):
    flagged = new_project(director, community, title="没有月更新")
    updated = new_project(director, grid, title="本月已更新", deadline=timezone.localdate() + timedelta(days=400))
    services.add_update(project=updated, by=director, text="进展", progress=10)
    client.force_login(director)

    def titles(query: str) -> str:
        return client.get(reverse("projects:list") + query).content.decode()

    assert flagged.title in titles("?flagged=on") and updated.title not in titles("?flagged=on")
    assert updated.title in titles("?status=in_progress") and flagged.title not in titles("?status=in_progress")
    assert updated.title in titles(f"?unit={grid.code}") and flagged.title not in titles(f"?unit={grid.code}")
    year = updated.deadline.year
    assert updated.title in titles(f"?year={year}") and (year == flagged.deadline.year) == (flagged.title in titles(f"?year={year}"))


def test_a_bad_filter_is_shown_back_with_its_message(client, director, community):
    client.force_login(director)
    page = client.get(reverse("projects:list") + "?year=abc&unit=nowhere").content.decode()
    assert 'value="abc"' in page or "abc" in page
    assert "Enter a whole number." in page


def test_the_detail_page_runs_a_fixed_number_of_queries(client, director, community, case, django_assert_max_num_queries):
    project = new_project(director, community)
    services.link(project=project, by=director, case=case)
    client.force_login(director)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        assert client.get(project.get_absolute_url()).status_code == 200
    for i in range(10):
        part = new_project(director, community, parent=project, title=f"分项{i}")
        services.add_update(project=part, by=director, text="进展", progress=i)
        services.add_update(project=project, by=director, text=f"月报{i}")
    with django_assert_max_num_queries(len(few)):
        page = client.get(project.get_absolute_url()).content.decode()
    assert "分项9" in page and "月报9" in page and case.code in page


def test_a_director_creates_an_item_and_a_sub_item_through_the_form(client, director, community, grid):
    client.force_login(director)
    deadline = (timezone.localdate() + timedelta(days=30)).isoformat()
    response = client.post(reverse("projects:new"), {
        "title": "燕和园便民菜店", "description": "引入菜店", "unit": community.pk, "deadline": deadline,
        "owner_unit": community.pk, "weight": 1, "source": "survey", "budget": "20000.00",
    })
    project = Project.objects.get(title="燕和园便民菜店")
    assert response.status_code == 302 and response["Location"] == project.get_absolute_url()
    client.post(reverse("projects:new_sub_item", args=[project.pk]), {
        "title": "铺面装修", "unit": grid.pk, "deadline": deadline, "owner_unit": community.pk, "weight": 2,
        "source": "survey",
    })
    assert project.sub_items.get().weight == 2


def test_bad_input_is_kept_with_a_clear_message(client, director, community):
    client.force_login(director)
    response = client.post(reverse("projects:new"), {
        "title": "漏雨修缮", "unit": community.pk, "deadline": "2026-13-40", "weight": 1, "source": "survey",
    })
    page = response.content.decode()
    assert response.status_code == 200 and "漏雨修缮" in page and "2026-13-40" in page
    assert "Name an owner" in page
    assert not Project.objects.exists()


def test_an_update_with_a_photo_is_served_to_staff_only_in_scope(
    client, director, sibling_director, community, media,
):
    project = new_project(director, community)
    client.force_login(director)
    response = client.post(reverse("projects:action", args=[project.pk, "update"]), {
        "on": timezone.localdate().isoformat(), "progress": 40, "text": "防水层完成", "public": "on",
        "photo": upload("roof.jpg", jpeg_bytes(gps=True)),
    })
    assert response.status_code == 302
    update = ProjectUpdate.objects.get()
    assert update.photo.name.startswith(f"projects/{project.pk}/")
    assert client.get(reverse("projects:photo", args=[update.pk]))["Content-Type"] == "image/jpeg"
    client.force_login(sibling_director)
    assert client.get(reverse("projects:photo", args=[update.pk])).status_code == 404


def test_a_file_that_is_not_a_photo_is_refused_and_the_text_kept(client, director, community, media):
    project = new_project(director, community)
    client.force_login(director)
    response = client.post(reverse("projects:action", args=[project.pk, "update"]), {
        "on": timezone.localdate().isoformat(), "progress": 40, "text": "防水层完成",
        "photo": upload("roof.jpg", b"not an image"),
    })
    page = response.content.decode()
    assert response.status_code == 200 and "is not a JPEG or PNG photo" in page and "防水层完成" in page
    assert not ProjectUpdate.objects.exists()


def test_finishing_an_item_with_open_sub_items_shows_the_refusal(client, director, community):
    project = new_project(director, community)
    new_project(director, community, parent=project, title="分项")
    client.force_login(director)
    response = client.post(reverse("projects:action", args=[project.pk, "finish"]), {"note": ""}, follow=True)
    assert "sub-items are still open" in response.content.decode()
    project.refresh_from_db()
    assert project.status == Project.Status.PLANNED


def test_a_supervisor_reads_but_cannot_change(client, community):
    supervisor = f.staff(community, Role.SUPERVISOR)
    director = f.staff(community, Role.DIRECTOR)
    project = new_project(director, community)
    client.force_login(supervisor)
    assert client.get(project.get_absolute_url()).status_code == 200
    assert client.get(reverse("projects:new")).status_code == 403
    client.post(reverse("projects:action", args=[project.pk, "start"]))
    project.refresh_from_db()
    assert project.status == Project.Status.PLANNED


# --------------------------------------------------------------------------- residents


def test_residents_see_only_published_items_and_no_personal_data(client, director, owner, community, case, media):
    published = new_project(director, community, title="45号楼漏雨修缮", owner_user=owner, owner_unit=community,
                             budget=88000)
    hidden = new_project(director, community, title="尚未公开的事项")
    services.link(project=published, by=director, case=case)
    services.add_update(project=published, by=owner, text="防水层铺设完成", progress=60,
                        photo=_photo())
    services.add_update(project=published, by=owner, text="内部备注：联系人电话", progress=60, public=False)
    services.publish(project=published, by=director)

    page = client.get(reverse("projects_public:community", args=[community.code])).content.decode()
    assert published.title in page and hidden.title not in page
    item = client.get(reverse("projects_public:item", args=[community.code, published.pk])).content.decode()
    assert "防水层铺设完成" in item and "60%" in item and community.name in item
    for private in ("梁艳", owner.username, director.username, case.code, case.resident_phone, "88000",
                    "内部备注"):
        assert private not in page and private not in item, private
    assert client.get(reverse("projects_public:item", args=[community.code, hidden.pk])).status_code == 404


def test_a_public_photo_is_served_only_while_its_item_is_published(client, director, community, media):
    project = new_project(director, community)
    shown = services.add_update(project=project, by=director, text="施工", progress=10, photo=_photo())
    staff_only = services.add_update(project=project, by=director, text="内部", progress=10, photo=_photo(),
                                     public=False)
    url = reverse("projects_public:photo", args=[shown.pk])
    assert client.get(url).status_code == 404
    services.publish(project=project, by=director)
    assert client.get(url).status_code == 200
    assert client.get(reverse("projects_public:photo", args=[staff_only.pk])).status_code == 404
    services.publish(project=project, by=director, published=False)
    assert client.get(url).status_code == 404


def test_residents_see_their_streets_and_areas_items_but_not_a_sibling_communitys(
    client, street_director, area, street, sibling_street, community, sibling_community,
):
    area_director = f.staff(area, Role.DIRECTOR)
    area_item = new_project(area_director, area, title="燕山充电桩")
    other_street_item = new_project(area_director, sibling_street, title="向阳街道事项")
    street_item = new_project(street_director, street, title="街道充电桩")
    sibling_item = new_project(street_director, sibling_community, title="七社区菜店")
    for project in (area_item, other_street_item, street_item, sibling_item):
        services.publish(project=project, by=area_director)
    page = client.get(reverse("projects_public:community", args=[community.code])).content.decode()
    assert area_item.title in page and street_item.title in page
    assert sibling_item.title not in page and other_street_item.title not in page
    url = reverse("projects_public:item", args=[community.code, sibling_item.pk])
    assert client.get(url).status_code == 404


def test_the_public_list_runs_the_same_queries_for_5_and_50_items(client, director, community,
                                                                  django_assert_max_num_queries):
    _many(director, community, 5)
    url = reverse("projects_public:community", args=[community.code])
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get(url)
    _many(director, community, 45)
    with django_assert_max_num_queries(len(few)):
        assert client.get(url).content.decode().count("<progress") >= 50
    assert client.get(reverse("projects_public:choose")).status_code == 200


def test_the_front_page_links_to_the_progress_pages(client):
    assert 'href="/progress/"' in client.get("/").content.decode()


def _photo():
    from cases.uploads import validate_photos

    return validate_photos([upload("p.jpg", jpeg_bytes())])[0]


# --------------------------------------------------------------------------- API and admin


def test_the_api_lists_items_in_scope_with_a_fixed_number_of_queries(
    director, sibling_director, community, sibling_community, django_assert_max_num_queries,
):
    from tests.api.test_query_counts import queries

    theirs = new_project(sibling_director, sibling_community, title="七社区事项")
    api = client_for(director)
    _many(director, community, 5)
    few = queries(api, "/api/v1/projects/?page_size=200")
    _many(director, community, 45)
    with django_assert_max_num_queries(few):
        rows = api.get("/api/v1/projects/?page_size=200").json()["results"]
    assert len(rows) == 100 and theirs.pk not in {row["id"] for row in rows}
    assert api.get(f"/api/v1/projects/{theirs.pk}/").status_code == 404
    top = api.get("/api/v1/projects/?top_level=true&flagged=true&page_size=200").json()["results"]
    assert len(top) == 50 and all(row["sub_items"] == 1 and row["progress"] == 20 for row in top)


def test_the_api_filters_by_unit_and_year(director, community, grid):
    new_project(director, community, title="社区")
    mine = new_project(director, grid, title="网格", deadline=date(2031, 6, 30))  # not today in 2031: no 29 Feb
    api = client_for(director)
    assert [row["id"] for row in api.get(f"/api/v1/projects/?unit={grid.code}").json()["results"]] == [mine.pk]
    assert [row["id"] for row in api.get("/api/v1/projects/?year=2031").json()["results"]] == [mine.pk]
    assert api.get("/api/v1/projects/?year=").status_code == 400


def test_the_admin_lists_only_the_subtrees_items(client, community, sibling_community):
    administrator = f.staff(community, Role.ADMINISTRATOR)
    get_user_model().objects.filter(pk=administrator.pk).update(is_staff=True)
    director, sibling = f.staff(community, Role.DIRECTOR), f.staff(sibling_community, Role.DIRECTOR)
    mine = new_project(director, community, title="本社区事项")
    theirs = new_project(sibling, sibling_community, title="七社区事项")
    client.force_login(administrator)
    page = client.get(reverse("admin:governance_project_changelist")).content.decode()
    assert mine.title in page and theirs.title not in page
    assert client.get(reverse("admin:governance_project_change", args=[theirs.pk])).status_code == 404


# --------------------------------------------------------------------------- panels on earlier pages


def test_the_case_page_shows_the_items_it_is_linked_to(client, director, community, case):
    project = new_project(director, community, title="45号楼漏雨修缮")
    services.link(project=project, by=director, case=case)
    client.force_login(director)
    page = client.get(case.get_absolute_url()).content.decode()
    assert project.title in page and project.get_absolute_url() in page


def test_the_unit_page_shows_the_lists_figures(client, director, community):
    project = new_project(director, community, deadline=timezone.localdate() - timedelta(days=1))
    client.force_login(director)
    page = client.get(community.get_absolute_url()).content.decode()
    assert "1 open, 1 past the deadline, 1 without an update this month." in page
    assert f"?unit={community.code}&amp;flagged=on" in page and project.title not in page
