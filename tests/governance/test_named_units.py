"""A unit named on a higher tier's theme, project or sub-item reads it (never edits it);
a sibling unit still gets 404."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cases import rates
from communities.models import Role
from governance.models import Theme
from governance.projects import selectors as project_selectors
from governance.projects import services as project_services
from governance.projects.services import IllegalTransition
from governance.themes import selectors as theme_selectors
from governance.themes import services as theme_services
from tests import factories as f
from tests.cases.factories import CategoryFactory
from tests.governance.test_projects import new_project

pytestmark = pytest.mark.django_db


@pytest.fixture
def charging():
    return CategoryFactory(name="电动自行车充电")


@pytest.fixture
def street_theme(street_director, street, community, charging):
    return theme_services.adopt_theme(
        unit=street, month=rates.current_month(), title="燕和园电动车充电", category=charging, place=community,
        source=Theme.Source.HOTSPOT, by=street_director,
    )


def test_a_community_named_on_its_streets_theme_reads_it_but_does_not_act(client, director, street_theme,
                                                                          community):
    client.force_login(director)

    listed = client.get(reverse("proactive:themes")).content.decode()
    page = client.get(reverse("proactive:theme", kwargs={"pk": street_theme.pk}))

    assert street_theme.title in listed and "No monthly themes here yet." not in listed
    assert page.status_code == 200
    assert page.context["link_form"] is None and page.context["close_form"] is None
    with pytest.raises(IllegalTransition):
        theme_services.close_theme(theme=street_theme, by=director, outcome="建成充电桩")
    assert client.post(reverse("proactive:theme_close", kwargs={"pk": street_theme.pk}),
                       {"outcome": "建成充电桩"}).status_code in (302, 403)
    street_theme.refresh_from_db()
    assert street_theme.status == Theme.Status.ADOPTED


def test_a_sibling_community_still_gets_404_on_the_theme(client, sibling_director, street_theme):
    client.force_login(sibling_director)

    assert client.get(reverse("proactive:theme", kwargs={"pk": street_theme.pk})).status_code == 404
    assert street_theme not in theme_selectors.visible_themes(sibling_director)


@pytest.fixture
def area_director(area):
    return f.staff(area, Role.DIRECTOR)


@pytest.fixture
def area_item(area_director, area, street, sibling_street, charging):
    """The area's item, from the area's theme, with a sub-item for the street."""
    theme = theme_services.adopt_theme(unit=area, month=rates.current_month(), title="全区电动车充电",
                                       category=charging, by=area_director)
    parent = new_project(area_director, area, title="全区充电桩建设", source="theme", source_theme=theme)
    part = new_project(area_director, street, parent=parent, title="星城街道充电桩")
    return parent, part, theme


def test_a_street_opens_its_sub_items_parent_and_the_theme_it_came_from(client, street_director, area_item):
    parent, part, theme = area_item
    client.force_login(street_director)

    part_page = client.get(part.get_absolute_url()).content.decode()
    parent_page = client.get(parent.get_absolute_url())

    assert parent.get_absolute_url() in part_page
    assert parent_page.status_code == 200 and parent_page.context["may_change"] is False
    assert theme.get_absolute_url() in parent_page.content.decode()
    assert client.get(theme.get_absolute_url()).status_code == 200
    assert client.get(reverse("projects:edit", kwargs={"pk": parent.pk})).status_code == 403
    with pytest.raises(IllegalTransition):
        project_services.edit_project(project=parent, by=street_director, title="改名")
    assert parent in project_selectors.visible_projects(street_director)
    assert parent not in project_selectors.own_projects(street_director)


def test_a_sibling_street_gets_404_and_does_not_see_the_other_parts(client, area_director, street_director,
                                                                   sibling_street, area_item):
    parent, part, _theme = area_item
    sibling_part = new_project(area_director, sibling_street, parent=parent, title="向阳街道充电桩")
    sibling = f.staff(sibling_street, Role.DIRECTOR)
    client.force_login(sibling)

    assert client.get(part.get_absolute_url()).status_code == 404  # the street's own part stays its own
    client.force_login(street_director)
    page = client.get(parent.get_absolute_url())
    assert [row.pk for row in page.context["sub_items"]] == [part.pk]
    assert sibling_part.get_absolute_url() not in page.content.decode()  # no link that would 404
    assert client.get(sibling_part.get_absolute_url()).status_code == 404


def test_an_unnamed_street_gets_404_on_the_area_item_and_theme(client, area_item, sibling_street):
    parent, _part, theme = area_item
    client.force_login(f.staff(sibling_street, Role.DIRECTOR))

    assert client.get(parent.get_absolute_url()).status_code == 404
    assert client.get(theme.get_absolute_url()).status_code == 404
