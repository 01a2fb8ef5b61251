"""Monthly themes (每月一题): adopting, linking, closing, the before/after effect, scoping, query counts."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
import time_machine
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
    assert effect.before[-2:] == [6, 8]
    assert effect.after == [2, 1]  # whole months only: not the adoption month (4) nor this one (0)
    assert effect.baseline == [6, 8]  # as many months before as after
    assert effect.before_average == Decimal("7.0")
    assert effect.after_average == Decimal("1.5")
    assert effect.change == Decimal("-0.79")  # 1.5 against 7


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


FALLING = {date(2026, 8, 1): 3, date(2026, 9, 1): 3, date(2026, 10, 1): 3,  # before
           date(2026, 11, 1): 11,  # adopted: the spike that made it the theme
           date(2026, 12, 1): 7, date(2027, 1, 1): 2,  # after
           date(2027, 2, 1): 1}  # the month in progress


@time_machine.travel(datetime(2027, 2, 10, 12, 0, tzinfo=rates.RATE_TZ), tick=False)
def test_the_effect_compares_whole_months_before_with_whole_months_after_across_a_year(
    client, street_director, street, grid, charging
):
    """11 → 7 → 2 with the adoption month and the partial month counted as "after" read as a
    rise; compared month for month (Sep–Oct vs Dec–Jan) it is +50 %, and the page says which months."""
    for month, count in FALLING.items():
        cases_in(month, count, place=grid, category=charging, handled_by=street)
    theme = services.adopt_theme(unit=street, month=date(2026, 11, 1), title="电动自行车充电难", category=charging,
                                 by=street_director)

    effect = selectors.effect(theme)

    assert effect.after_months == [date(2026, 12, 1), date(2027, 1, 1)] and effect.after == [7, 2]
    assert effect.baseline_months == [date(2026, 9, 1), date(2026, 10, 1)] and effect.baseline == [3, 3]
    assert (effect.baseline_span, effect.after_span) == ("2026-09–2026-10", "2026-12–2027-01")
    assert effect.change == Decimal("0.50")
    client.force_login(street_director)
    html = client.get(reverse("proactive:theme", kwargs={"pk": theme.pk})).content.decode()
    assert "2026-09–2026-10 vs 2026-12–2027-01" in html


@time_machine.travel(datetime(2027, 1, 1, 0, 30, tzinfo=rates.RATE_TZ), tick=False)  # still 31 Dec in UTC
def test_on_new_years_night_the_month_just_over_is_the_first_whole_month_after(street_director, street, grid, charging):
    for month, count in FALLING.items():
        if month < date(2027, 1, 1):
            cases_in(month, count, place=grid, category=charging, handled_by=street)
    theme = services.adopt_theme(unit=street, month=date(2026, 11, 1), title="电动自行车充电难", category=charging,
                                 by=street_director)

    effect = selectors.effect(theme)

    assert effect.current == date(2027, 1, 1)
    assert (effect.baseline_span, effect.after_span) == ("2026-10", "2026-12")
    assert effect.change == Decimal("1.33")  # 7 against 3


@time_machine.travel(datetime(2026, 11, 20, 12, 0, tzinfo=rates.RATE_TZ), tick=False)
def test_a_theme_of_this_month_has_nothing_to_compare_yet(client, street_director, street, grid, charging):
    for month, count in FALLING.items():
        if month <= date(2026, 11, 1):
            cases_in(month, count, place=grid, category=charging, handled_by=street)
    theme = services.adopt_theme(unit=street, month=date(2026, 11, 1), title="电动自行车充电难", category=charging,
                                 by=street_director)

    effect = selectors.effect(theme)

    assert effect.after == [] and effect.change is None
    client.force_login(street_director)
    html = client.get(reverse("proactive:theme", kwargs={"pk": theme.pk})).content.decode()
    assert "No whole month since adoption yet" in html and "2026-12" in html
