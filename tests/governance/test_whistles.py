"""吹哨报到: the whistle, the departments' reports (one late), the figures, who sees what."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone
from guardian.models import GroupObjectPermission, UserObjectPermission

from cases import rates, tallies
from cases.models import Case, Notification, TimelineEvent
from cases.rates import RATE_TZ
from cases.selectors import visible_cases
from communities import services as community_services
from communities.models import Role
from governance.coordination import selectors, services
from governance.coordination.groups import group_name
from governance.coordination.services import IllegalTransition
from governance.models import Summons, Whistle
from tests import factories as f
from tests.cases.factories import CaseFactory

pytestmark = pytest.mark.django_db
MARCH = datetime(2026, 3, 1, tzinfo=RATE_TZ)
BLOWN = datetime(2026, 3, 10, 9, 0, tzinfo=RATE_TZ)


def blow(case, by, unit, *, departments=(), partners=(), reason=Whistle.Reason.JOINT_ENFORCEMENT, **extra) -> Whistle:
    return services.blow_whistle(
        case=case, unit=unit, reason=reason, description="工地欠薪，需住建、人社联合执法",
        departments=departments, partners=partners, by=by, **extra,
    )


def back_in_time(whistle: Whistle, blown_at: datetime) -> Whistle:
    """The whistle was blown at ``blown_at`` (so reports can be on time or late against it)."""
    Whistle.objects.filter(pk=whistle.pk).update(blown_at=blown_at, report_due_at=blown_at + whistle.report_within)
    whistle.refresh_from_db()
    return whistle


def summons_of(whistle: Whistle, party) -> Summons:
    field = "department" if party._meta.model_name == "department" else "partner"
    return Summons.objects.select_related("whistle").get(whistle=whistle, **{field: party})


# --------------------------------------------------------------------------- the whole story


def test_whistle_reports_one_late_and_the_month_figures(
    street, community, sibling_community, director, housing, hr, property_manager, housing_liaison, hr_liaison,
    case,
):
    Case.objects.filter(pk=case.pk).update(received_at=BLOWN - timedelta(hours=1))
    tallies.rebuild()  # the case was moved back in time past the services, which keep the tallies
    for _n in range(3):
        CaseFactory(location_unit=community, received_at=BLOWN)
    CaseFactory(location_unit=sibling_community, received_at=BLOWN)
    whistle = back_in_time(blow(case, director, community, departments=[housing, hr], partners=[property_manager]), BLOWN)

    services.report(summons=summons_of(whistle, housing), by=housing_liaison, presence="on_site",
                    at=BLOWN + timedelta(hours=2), commitment="现场核查工地")
    services.report(summons=summons_of(whistle, hr), by=hr_liaison, presence="remote",
                    at=BLOWN + timedelta(hours=30), commitment="督促支付工资")
    services.rate_response(summons=summons_of(whistle, housing), by=director, rating=5)
    services.rate_response(summons=summons_of(whistle, hr), by=director, rating=2, comment="迟到")
    services.rate_response(summons=summons_of(whistle, property_manager), by=director, rating=1)
    services.rate_justification(summons=summons_of(whistle, housing), by=housing_liaison, justification="justified")

    states = {str(s.party): s.state for s in selectors.summonses_of(whistle)}
    assert states == {"燕山住建委": "on_time", "燕山人社局": "late", "星城物业": "missing"}

    street_row = selectors.whistle_month_report(street, MARCH).total
    assert (street_row.cases, street_row.whistled_cases, str(street_row.whistle_rate)) == (5, 1, "0.2000")
    row = selectors.whistle_month_report(community, MARCH).total
    assert (row.cases, str(row.whistle_rate)) == (4, "0.2500")
    assert (row.whistles, row.summoned, row.reported, row.reported_on_time, row.late, row.missing) == (1, 3, 2, 1, 1, 1)
    assert selectors.whistle_month_report(sibling_community, MARCH) is None  # no whistle blown there

    figures = {d.name: d for d in selectors.whistle_month_report(street.parent, MARCH).departments}
    assert set(figures) == {"燕山住建委", "燕山人社局"}  # partners are not departments
    housing_row, hr_row = figures["燕山住建委"], figures["燕山人社局"]
    assert (housing_row.summoned, housing_row.reported_on_time, housing_row.on_site, housing_row.justified) == (1, 1, 1, 1)
    assert (hr_row.late, hr_row.remote, hr_row.average_rating, str(hr_row.on_time_rate)) == (1, 1, 2, "0.0000")
    assert (hr_row.rated, hr_row.unjustified, hr_row.partly) == (1, 0, 0)


def test_the_month_report_is_one_query_with_or_without_whistles(
    street, community, director, housing, hr, case, django_assert_num_queries
):
    blow(case, director, community, departments=[housing, hr])
    month = timezone.localdate()
    with django_assert_num_queries(1):
        report = selectors.whistle_month_report(street, month)
    assert [d.name for d in report.departments] == sorted([housing.name, hr.name])
    with django_assert_num_queries(1):
        assert selectors.whistle_month_report(street, rates.previous_month(month)) is None


def test_an_emergency_whistle_gives_30_minutes_unless_told_otherwise(director, community, housing, case):
    emergency = blow(case, director, community, departments=[housing], reason=Whistle.Reason.EMERGENCY)
    assert emergency.report_due_at - emergency.blown_at == timedelta(minutes=30)
    custom = blow(case, director, community, departments=[housing], reason=Whistle.Reason.EMERGENCY,
                  report_within=timedelta(minutes=15))
    assert custom.report_due_at - custom.blown_at == timedelta(minutes=15)


def test_blowing_records_on_the_timeline_and_tells_the_liaisons(director, community, housing, housing_liaison, case):
    blow(case, director, community, departments=[housing])
    event = TimelineEvent.objects.get(case=case, action="whistle_blown")
    assert event.data["summoned"] == ["燕山住建委"]
    notice = Notification.objects.get(user=housing_liaison, case=case)
    assert "Whistle: report by" in notice.message


# --------------------------------------------------------------------------- who sees what


def test_a_department_sees_only_the_cases_it_was_summoned_to(
    director, community, housing, hr, housing_liaison, hr_liaison, case, grid,
):
    other = CaseFactory(location_unit=grid, status="dispatched")
    blow(case, director, community, departments=[housing])

    assert list(visible_cases(housing_liaison)) == [case]
    assert list(visible_cases(hr_liaison)) == []
    assert list(selectors.visible_whistles(hr_liaison)) == []
    assert other not in visible_cases(housing_liaison)


def test_the_grant_goes_to_the_departments_group_not_to_each_liaison(area, director, community, housing, case):
    liaisons = [f.staff(area, Role.DEPARTMENT_LIAISON, department=housing) for _n in range(3)]
    blow(case, director, community, departments=[housing])

    group = Group.objects.get(name=group_name(housing.pk))
    assert set(group.user_set.all()) == set(liaisons)
    assert GroupObjectPermission.objects.filter(group=group, object_pk=str(case.pk)).count() == 1
    assert not UserObjectPermission.objects.exists()
    assert all(case in visible_cases(liaison) for liaison in liaisons)


def test_a_liaison_appointed_later_sees_the_earlier_case_and_one_who_leaves_does_not(
    area, director, community, housing, housing_liaison, case,
):
    blow(case, director, community, departments=[housing])
    newcomer = f.staff(area, Role.DEPARTMENT_LIAISON, department=housing)
    assert case in visible_cases(newcomer)

    post = housing_liaison.posts.get()
    community_services.end_post(post=post)
    assert case not in visible_cases(housing_liaison)


def test_a_summoned_liaison_opens_the_case_and_the_whistle_page(client, director, community, housing,
                                                              housing_liaison, case, sibling_case):
    whistle = blow(case, director, community, departments=[housing])
    client.force_login(housing_liaison)
    assert client.get(case.get_absolute_url()).status_code == 200
    page = client.get(whistle.get_absolute_url())
    assert page.status_code == 200 and "report" in page.context["summonses"][0].forms
    assert client.get(sibling_case.get_absolute_url()).status_code == 404


def test_a_sibling_communitys_whistle_is_404(client, sibling_director, sibling_community, housing, director, sibling_case):
    there = blow(sibling_case, sibling_director, sibling_community, departments=[housing])
    client.force_login(director)
    assert client.get(there.get_absolute_url()).status_code == 404
    assert list(client.get(reverse("coordination:whistles")).context["page"].object_list) == []


# --------------------------------------------------------------------------- refusals


def test_a_whistle_needs_someone_to_summon(director, community, case):
    with pytest.raises(Exception, match="Summon at least one department or partner"):
        blow(case, director, community)


def test_a_caseworker_may_not_blow_a_whistle(caseworker, community, housing, case):
    with pytest.raises(IllegalTransition, match="may not blow a whistle"):
        blow(case, caseworker, community, departments=[housing])


def test_a_sibling_community_may_not_blow_on_our_case(sibling_director, sibling_community, housing, case):
    with pytest.raises(IllegalTransition):
        blow(case, sibling_director, sibling_community, departments=[housing])


def test_no_whistle_on_a_closed_case(director, community, housing, case):
    Case.objects.filter(pk=case.pk).update(status="closed")
    with pytest.raises(IllegalTransition, match="cannot be blown on a case that is Closed"):
        blow(case, director, community, departments=[housing])


def test_a_department_reports_once(director, community, housing, housing_liaison, case):
    whistle = blow(case, director, community, departments=[housing])
    services.report(summons=summons_of(whistle, housing), by=housing_liaison, presence="on_site")
    with pytest.raises(IllegalTransition, match="has already reported"):
        services.report(summons=summons_of(whistle, housing), by=housing_liaison, presence="remote")


def test_another_departments_liaison_may_not_report_for_it(director, community, housing, hr_liaison, case):
    whistle = blow(case, director, community, departments=[housing])
    with pytest.raises(IllegalTransition, match="Only the summoned department's liaison"):
        services.report(summons=summons_of(whistle, housing), by=hr_liaison, presence="on_site")


def test_the_street_records_a_partners_report_on_its_behalf(director, community, property_manager, case):
    whistle = blow(case, director, community, partners=[property_manager])
    summons = services.report(summons=summons_of(whistle, property_manager), by=director, presence="on_site",
                              reporter_name="物业经理老王")
    assert (summons.reporter_name, summons.reported_by) == ("物业经理老王", director)


def test_a_response_is_rated_once_and_not_before_it_is_due(director, community, housing, housing_liaison, case):
    whistle = blow(case, director, community, departments=[housing])
    with pytest.raises(IllegalTransition, match="Wait until they report"):
        services.rate_response(summons=summons_of(whistle, housing), by=director, rating=4)
    services.report(summons=summons_of(whistle, housing), by=housing_liaison, presence="on_site")
    services.rate_response(summons=summons_of(whistle, housing), by=director, rating=4)
    with pytest.raises(IllegalTransition, match="already been rated"):
        services.rate_response(summons=summons_of(whistle, housing), by=director, rating=5)


def test_only_the_summoned_department_rates_the_whistle(director, community, housing, housing_liaison, case):
    whistle = blow(case, director, community, departments=[housing])
    with pytest.raises(IllegalTransition):
        services.rate_justification(summons=summons_of(whistle, housing), by=director, justification="justified")
    services.rate_justification(summons=summons_of(whistle, housing), by=housing_liaison, justification="partly")
    with pytest.raises(IllegalTransition, match="already rated"):
        services.rate_justification(summons=summons_of(whistle, housing), by=housing_liaison, justification="justified")


def test_the_summons_stays_until_the_case_is_finished(director, community, housing, housing_liaison, case):
    whistle = blow(case, director, community, departments=[housing])
    services.report(summons=summons_of(whistle, housing), by=housing_liaison, presence="on_site")
    services.update_commitment(summons=summons_of(whistle, housing), by=housing_liaison, commitment="已约谈施工方")
    assert list(selectors.department_summonses(housing_liaison)) == [summons_of(whistle, housing)]

    Case.objects.filter(pk=case.pk).update(status="closed")

    assert list(selectors.department_summonses(housing_liaison)) == []
    assert case in visible_cases(housing_liaison)  # the history stays readable
    with pytest.raises(IllegalTransition, match="the summons has ended"):
        services.update_commitment(summons=summons_of(whistle, housing), by=housing_liaison, commitment="再跟进")
    assert TimelineEvent.objects.filter(case=case, action="whistle_progress").count() == 1


# --------------------------------------------------------------------------- pages


def test_blowing_through_the_page(client, director, community, housing, property_manager, case):
    client.force_login(director)
    url = reverse("coordination:blow", kwargs={"code": case.code})
    form = client.get(url).context["form"]
    assert list(form.fields["unit"].queryset) == [community]
    response = client.post(url, {
        "unit": community.pk, "reason": "emergency", "description": "外墙脱落",
        "departments": [housing.pk], "partners": [property_manager.pk], "report_within_minutes": "20",
    })
    whistle = Whistle.objects.get()
    assert response.status_code == 302 and response.url == whistle.get_absolute_url()
    assert whistle.report_within == timedelta(minutes=20) and whistle.summonses.count() == 2


def test_a_bad_whistle_form_keeps_what_was_typed(client, director, community, case):
    client.force_login(director)
    response = client.post(reverse("coordination:blow", kwargs={"code": case.code}),
                           {"unit": community.pk, "reason": "emergency", "description": "外墙脱落"})
    assert response.status_code == 200 and "Summon at least one" in response.content.decode()
    assert "外墙脱落" in response.content.decode() and not Whistle.objects.exists()


def test_reporting_through_the_page(client, director, community, housing, housing_liaison, case):
    whistle = blow(case, director, community, departments=[housing])
    summons = summons_of(whistle, housing)
    client.force_login(housing_liaison)
    url = reverse("coordination:summons_action", kwargs={"pk": whistle.pk, "summons_pk": summons.pk, "action": "report"})
    bad = client.post(url, {f"s{summons.pk}-commitment": "明早到场"})
    assert bad.status_code == 200 and "明早到场" in bad.content.decode()
    assert client.post(url, {f"s{summons.pk}-presence": "on_site", f"s{summons.pk}-commitment": "明早到场"}).status_code == 302
    assert summons_of(whistle, housing).commitment == "明早到场"


def test_the_case_page_shows_the_whistle_and_offers_to_blow(client, director, community, housing, case):
    blow(case, director, community, departments=[housing])
    client.force_login(director)
    page = client.get(case.get_absolute_url()).content.decode()
    assert "燕山住建委" in page and reverse("coordination:blow", kwargs={"code": case.code}) in page


def test_whistle_list_runs_a_fixed_number_of_queries(client, director, community, grid, housing, hr,
                                                     django_assert_max_num_queries):
    client.force_login(director)
    url = reverse("coordination:whistles")

    def count() -> int:
        client.get(url)
        with django_assert_max_num_queries(20) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    def whistles(n: int) -> None:
        for _n in range(n):
            blow(CaseFactory(location_unit=grid, status="dispatched"), director, community, departments=[housing, hr])

    whistles(5)
    few = count()
    whistles(45)
    assert count() == few


def test_deleting_a_liaisons_account_takes_them_out_of_the_department_group(area, director, community, housing,
                                                                           housing_liaison, case):
    blow(case, director, community, departments=[housing])
    group = Group.objects.get(name=group_name(housing.pk))
    assert housing_liaison in group.user_set.all()

    housing_liaison.posts.all().delete()
    assert housing_liaison not in group.user_set.all()
    other = f.staff(area, Role.DEPARTMENT_LIAISON, department=housing)
    other.delete()  # the cascade removes their post first: nothing is re-added for a departing user
    assert list(group.user_set.all()) == []


def test_a_month_with_a_whistle_but_no_received_case_has_zero_cases(client, community, director, housing):
    """A community (no children) whose case came in the month before: its dashboard answered 500 (SUM of no rows)."""
    earlier = CaseFactory(location_unit=community, received_at=BLOWN - timedelta(days=20))
    back_in_time(blow(earlier, director, community, departments=[housing]), BLOWN)
    april = datetime(2026, 4, 1, tzinfo=RATE_TZ)

    row = selectors.whistle_month_report(community, MARCH).total
    assert (row.cases, row.whistles, row.summoned) == (0, 1, 1)
    assert selectors.whistle_month_report(community, april) is None

    client.force_login(director)
    response = client.get(reverse("dashboards:unit", args=[community.code]), {"month": "2026-03"})
    assert response.status_code == 200
    (section,) = [s for s in response.context["sections"] if s.key == "whistles"]
    assert [str(figure.value) for figure in section.figures][:2] == ["1", "0 (—)"]


def test_the_month_report_counts_the_whistles_of_its_month_and_subtree_only(
    street, sibling_street, community, director, housing, case
):
    blow(case, director, community, departments=[housing])
    month = timezone.localdate()
    report = selectors.whistle_month_report(street, month)
    assert (report.total.whistles, report.total.summoned) == (1, 1)
    assert [(d.name, d.summoned) for d in report.departments] == [(housing.name, 1)]
    assert selectors.whistle_month_report(sibling_street, month) is None
    assert selectors.whistle_month_report(street, rates.previous_month(month)) is None
    assert selectors.whistle_month_report(street, rates.next_month(month)) is None
