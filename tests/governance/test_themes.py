"""Monthly themes (每月一题): adopting, linking, closing, the before/after effect, scoping, query counts."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from cases import rates
from cases.models import TimelineEvent
from cases.services import IllegalTransition
from communities.models import Role
from governance.models import Theme, ThemeEvent
from governance.themes import selectors, services
from tests.cases.factories import CategoryFactory
from tests.factories import DepartmentFactory, staff
from tests.governance.proactive_factories import cases_in, months_back, query_count

pytestmark = pytest.mark.django_db

ADOPTED = months_back(rates.current_month(), 3)


@pytest.fixture
def charging():
    return CategoryFactory(code="ebike", name="电动自行车充电")


@pytest.fixture
def department(area):
    return DepartmentFactory(unit=area, name="燕山住建委")


@pytest.fixture
def theme(street_director, street, charging, department):
    return services.adopt_theme(
        unit=street, month=ADOPTED, title="电动自行车充电难", category=charging, lead_department=department,
        problems=["星城二里没有充电桩", "飞线充电"], source=Theme.Source.HOTSPOT, by=street_director,
    )


def test_adopting_names_the_department_and_problems_and_writes_the_history(theme, department):
    assert theme.lead_department == department
    assert [p.text for p in theme.problems.all()] == ["星城二里没有充电桩", "飞线充电"]
    assert list(theme.events.values_list("action", flat=True)) == ["adopted"]


def test_the_same_category_twice_in_a_month_is_refused(theme, street_director, street, charging):
    with pytest.raises(ValidationError) as error:
        services.adopt_theme(unit=street, month=ADOPTED, title="again", category=charging, by=street_director)
    assert "already has a theme" in str(error.value)


def test_a_community_cannot_adopt_for_its_street(director, street, charging):
    with pytest.raises(IllegalTransition):
        services.adopt_theme(unit=street, month=ADOPTED, title="x", category=charging, by=director)


def test_before_and_after_counts(theme, street, community, grid, charging):
    for back, count in {5: 6, 4: 8, 3: 4, 2: 2, 1: 1}.items():  # adopted three months ago
        cases_in(months_back(rates.current_month(), back), count, place=grid, category=charging, handled_by=community)
    cases_in(months_back(rates.current_month(), 4), 5, place=grid, category=CategoryFactory())  # other category
    effect = selectors.effect(theme)
    by_month = dict(zip(effect.months, effect.counts))
    assert effect.months[0] == months_back(ADOPTED, selectors.MONTHS_BEFORE)
    assert effect.months[-1] == rates.current_month()
    assert by_month[months_back(rates.current_month(), 4)] == 8
    assert effect.before[-2:] == [6, 8] and effect.after == [4, 2, 1, 0]
    assert effect.baseline == [0, 0, 6, 8]  # as many months before as after
    assert effect.before_average == Decimal("3.5")
    assert effect.after_average == Decimal("1.8")  # 7 over four months
    assert effect.change == Decimal("-0.50")  # 1.75 against 3.5


def test_linked_cases_count_even_outside_the_rule(theme, street_director, community, charging):
    other = CategoryFactory(name="楼道堆物")
    case = cases_in(rates.current_month(), 1, place=community, category=other)[0]
    services.link_case(theme=theme, case=case, by=street_director)
    assert selectors.effect(theme).counts[-1] == 1
    assert TimelineEvent.objects.filter(case=case, action="theme_linked").exists()
    with pytest.raises(IllegalTransition):
        services.link_case(theme=theme, case=case, by=street_director)


def test_a_case_of_another_street_cannot_be_linked(theme, street_director, sibling_street, charging):
    from tests.factories import CommunityFactory

    case = cases_in(rates.current_month(), 1, place=CommunityFactory(parent=sibling_street), category=charging)[0]
    with pytest.raises(ValidationError):
        services.link_case(theme=theme, case=case, by=street_director)


def test_closing_twice_is_refused(theme, street_director):
    services.close_theme(theme=theme, by=street_director, outcome="建成充电桩40个")
    with pytest.raises(IllegalTransition):
        services.close_theme(theme=theme, by=street_director, outcome="again")
    assert ThemeEvent.objects.filter(theme=theme, action="closed").count() == 1


def test_closing_needs_an_outcome(theme, street_director):
    with pytest.raises(ValidationError):
        services.close_theme(theme=theme, by=street_director, outcome="  ")


# ------------------------------------------------------------------ pages


def test_adopt_from_a_hotspot_link_fills_the_form(client, street_director, street, charging, community):
    client.force_login(street_director)
    url = reverse("proactive:theme_new")
    query = {"unit": street.code, "category": charging.pk, "place": community.pk, "source": "hotspot"}
    response = client.get(url, query)
    form = response.context["form"]
    assert form.initial["category"] == charging.pk and form.initial["unit"] == street.pk
    response = client.post(url, {
        "unit": street.pk, "month": ADOPTED.strftime("%Y-%m"), "title": "电动自行车充电难", "category": charging.pk,
        "place": community.pk, "problems": "没有充电桩\n飞线充电", "source": "hotspot",
    })
    theme = Theme.objects.get()
    assert response.status_code == 302 and response.url == theme.get_absolute_url()
    assert theme.place == community and theme.problems.count() == 2


def test_bad_input_keeps_what_was_typed(client, street_director, street):
    client.force_login(street_director)
    response = client.post(reverse("proactive:theme_new"), {"unit": street.pk, "month": "2026-13", "title": "充电难"})
    assert response.status_code == 200
    assert 'value="充电难"' in response.content.decode()


def test_theme_page_shows_the_chart_data(client, theme, street_director, community, grid, charging):
    cases_in(ADOPTED, 3, place=grid, category=charging, handled_by=community)
    client.force_login(street_director)
    response = client.get(theme.get_absolute_url())
    html = response.content.decode()
    assert 'id="theme-data"' in html and "js/themes.js" in html
    assert response.context["chart_data"]["adopted"] == ADOPTED.strftime("%Y-%m")


def test_linking_a_case_on_the_page(client, theme, street_director, community, charging):
    case = cases_in(rates.current_month(), 1, place=community, category=CategoryFactory())[0]
    client.force_login(street_director)
    response = client.post(reverse("proactive:theme_link", kwargs={"pk": theme.pk}), {"code": case.code.lower()})
    assert response.status_code == 302
    assert theme.links.filter(case=case).exists()
    response = client.post(reverse("proactive:theme_link", kwargs={"pk": theme.pk}), {"code": "NOSUCHCODE"})
    assert "No case NOSUCHCODE" in response.content.decode()


def test_sibling_street_theme_is_404(client, theme, sibling_street):
    client.force_login(staff(sibling_street, Role.DIRECTOR))
    assert client.get(theme.get_absolute_url()).status_code == 404
    assert client.post(reverse("proactive:theme_close", kwargs={"pk": theme.pk}), {"outcome": "x"}).status_code == 404
    assert theme.title not in client.get(reverse("proactive:themes")).content.decode()


def test_community_does_not_see_its_streets_theme(client, theme, director):
    """Themes are scoped on the adopting unit: a community does not see its street's theme."""
    client.force_login(director)
    assert client.get(theme.get_absolute_url()).status_code == 404


def test_grid_worker_may_read_but_not_adopt(client, grid):
    client.force_login(staff(grid, Role.GRID_WORKER))
    assert client.get(reverse("proactive:themes")).status_code == 200
    assert client.get(reverse("proactive:theme_new")).status_code == 403


def test_theme_pages_query_counts_do_not_grow(client, theme, street_director, street, community, grid, charging):
    client.force_login(street_director)

    def load(n):
        for i in range(n):
            case = cases_in(months_back(ADOPTED, i % 5), 1, place=grid, category=charging, handled_by=community)[0]
            services.link_case(theme=theme, case=case, by=street_director)
            services.adopt_theme(unit=street, month=date(2020, 1, 1), title=f"t{i}", category=CategoryFactory(),
                                 by=street_director)

    load(5)
    detail, listing = query_count(client, theme.get_absolute_url()), query_count(client, reverse("proactive:themes"))
    load(45)
    assert query_count(client, theme.get_absolute_url()) == detail
    assert query_count(client, reverse("proactive:themes")) == listing


def test_a_list_item_found_by_a_theme_links_back_to_it_and_a_hidden_theme_is_refused(
    theme, street_director, street, sibling_street,
):
    from django.core.exceptions import ValidationError

    from tests.governance.test_projects import new_project

    item = new_project(street_director, street, title="星城二里建充电桩", source="theme", source_theme=theme)
    assert list(theme.projects.all()) == [item]

    sibling_director = staff(sibling_street, Role.DIRECTOR)
    with pytest.raises(ValidationError) as refused:
        new_project(sibling_director, sibling_street, title="借用主题", source="theme", source_theme=theme)
    assert "source_theme" in refused.value.message_dict
