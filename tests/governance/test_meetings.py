"""议事协商: a meeting, its decisions, action items followed to done, overdue ones, the public notice."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.models import TimelineEvent
from communities.models import Role
from governance.coordination import selectors, services
from governance.coordination.services import IllegalTransition
from governance.models import ActionItem, ActionUpdate, Meeting, Participant
from tests import factories as f
from tests.cases.factories import CaseFactory

pytestmark = pytest.mark.django_db
A = ActionItem.Status


def convene(by, unit, *, starts_at=None, **extra) -> Meeting:
    return services.create_meeting(
        title=extra.pop("title", "大栅栏停车圆桌会"), format=extra.pop("format", Meeting.Format.ROUND_TABLE),
        level=extra.pop("level", Meeting.Level.COMMUNITY), unit=unit, place="社区小广场石桌",
        starts_at=starts_at or timezone.now() - timedelta(hours=1), by=by, **extra,
    )


def held(by, unit, **extra) -> Meeting:
    meeting = convene(by, unit, **extra)
    return services.record_minutes(meeting=meeting, by=by, minutes="各方同意加强巡查")


def item(by, meeting, *, due_in_days=7, text="加强街面巡查", **owner) -> ActionItem:
    decision = services.add_decision(meeting=meeting, by=by, text="加强巡查，提醒车主尽早驶离")
    owner = owner or {"owner_unit": meeting.unit}
    return services.add_action_item(decision=decision, by=by, description=text,
                                     due_on=timezone.localdate() + timedelta(days=due_in_days), **owner)


# --------------------------------------------------------------------------- the whole story


def test_meeting_decision_action_items_to_done_on_the_case_timeline(
    director, community, housing, housing_liaison, property_manager, case, caseworker,
):
    meeting = convene(director, community, format=Meeting.Format.JOINT, title="六方联席会：41号楼加装电梯")
    services.invite(meeting=meeting, kind="department", department=housing, by=director)
    resident = services.invite(meeting=meeting, kind="resident_rep", name="杨阿姨", by=director)
    services.invite(meeting=meeting, kind="property_manager", partner=property_manager, by=director)
    agenda = services.add_agenda_item(meeting=meeting, case=case, by=director)
    services.add_agenda_item(meeting=meeting, topic="楼道堆物清理", by=director)
    services.record_minutes(meeting=meeting, by=director, minutes="住建委讲解政策", attended=[resident.pk],
                            discussions={agenda.pk: "5单元意见统一"})
    decision = services.add_decision(meeting=meeting, agenda_item=agenda, text="启动加装电梯征询", by=director)
    by_department = services.add_action_item(decision=decision, description="出具加装电梯确认书", by=director,
                                             owner_department=housing, due_on=timezone.localdate() + timedelta(days=30))
    by_person = services.add_action_item(decision=decision, description="入户征询意见", by=director,
                                         owner_user=caseworker, due_on=timezone.localdate() + timedelta(days=36))

    services.update_action_item(item=by_person, by=caseworker, note="已走访3单元", status=A.IN_PROGRESS)
    services.update_action_item(item=by_person, by=caseworker, note="72户征询完毕", status=A.DONE)
    services.update_action_item(item=by_department, by=housing_liaison, note="确认书已下发", status=A.DONE)

    assert {i.status for i in ActionItem.objects.all()} == {A.DONE}
    assert ActionUpdate.objects.filter(action_item=by_person).count() == 2
    actions = list(TimelineEvent.objects.filter(case=case).values_list("action", flat=True))
    assert actions == ["meeting_agenda", "meeting_decision", "meeting_action_done", "meeting_action_done"]
    assert Participant.objects.get(pk=resident.pk).attended is True
    assert Participant.objects.filter(meeting=meeting, attended=False).count() == 2
    with pytest.raises(IllegalTransition, match="This action item is Done"):
        services.update_action_item(item=by_person, by=caseworker, note="再改", status=A.IN_PROGRESS)


def test_decisions_wait_for_the_minutes(director, community):
    meeting = convene(director, community)
    with pytest.raises(IllegalTransition, match="Record the minutes before the decisions"):
        services.add_decision(meeting=meeting, by=director, text="x")


def test_minutes_wait_for_the_meeting_to_start(director, community):
    meeting = convene(director, community, starts_at=timezone.now() + timedelta(days=1))
    with pytest.raises(IllegalTransition, match="has not started yet"):
        services.record_minutes(meeting=meeting, by=director, minutes="x")


def test_a_cancelled_meeting_takes_no_minutes(director, community):
    meeting = services.cancel_meeting(meeting=convene(director, community), by=director, reason="下雨")
    with pytest.raises(IllegalTransition):
        services.record_minutes(meeting=meeting, by=director, minutes="x")


def test_an_action_item_has_exactly_one_owner(director, community, housing, caseworker):
    meeting = held(director, community)
    decision = services.add_decision(meeting=meeting, by=director, text="x")
    with pytest.raises(Exception, match="exactly one owner"):
        services.add_action_item(decision=decision, by=director, description="x", due_on=timezone.localdate(),
                                 owner_user=caseworker, owner_department=housing)


def test_an_item_cannot_jump_back_from_in_progress_to_open(director, community):
    entry = item(director, held(director, community))
    services.update_action_item(item=entry, by=director, note="开始", status=A.IN_PROGRESS)
    with pytest.raises(IllegalTransition, match="cannot become Open"):
        services.update_action_item(item=entry, by=director, note="x", status=A.OPEN)


# --------------------------------------------------------------------------- overdue


def test_overdue_action_items_are_listed_for_their_unit(
    street, community, sibling_community, director, sibling_director, street_director,
):
    late = item(director, held(director, community), due_in_days=-2, text="清理消防通道")
    item(director, held(director, community), due_in_days=3, text="未到期")
    finished = item(director, held(director, community), due_in_days=-5, text="已完成")
    services.update_action_item(item=finished, by=director, note="完成", status=A.DONE)
    there = item(sibling_director, held(sibling_director, sibling_community), due_in_days=-1, text="第七社区")

    assert list(selectors.overdue_action_items(director)) == [late]
    assert set(selectors.overdue_action_items(street_director)) == {late, there}
    assert list(selectors.overdue_action_items(street_director, unit=sibling_community)) == [there]
    assert selectors.overdue_action_counts(street) == {street.pk: 2, community.pk: 1, sibling_community.pk: 1}


def test_overdue_counts_are_two_queries(street, director, community, django_assert_num_queries):
    item(director, held(director, community), due_in_days=-2)
    with django_assert_num_queries(2):
        selectors.overdue_action_counts(street)


def test_action_item_list_shows_overdue_by_default(client, director, community):
    late = item(director, held(director, community), due_in_days=-2, text="清理消防通道")
    item(director, held(director, community), due_in_days=3, text="未到期")
    client.force_login(director)
    response = client.get(reverse("coordination:action_items"))
    assert list(response.context["page"].object_list) == [late]
    assert "Overdue" in response.content.decode()


# --------------------------------------------------------------------------- who sees what


def test_an_invited_department_sees_the_meeting_and_others_do_not(director, community, housing, housing_liaison,
                                                                 hr_liaison):
    meeting = convene(director, community)
    services.invite(meeting=meeting, kind="department", department=housing, by=director)
    assert list(selectors.visible_meetings(housing_liaison)) == [meeting]
    assert list(selectors.visible_meetings(hr_liaison)) == []


def test_a_department_owning_an_item_sees_it_and_updates_it(director, community, housing, housing_liaison):
    entry = item(director, held(director, community), owner_department=housing)
    assert list(selectors.visible_action_items(housing_liaison)) == [entry]
    services.update_action_item(item=entry, by=housing_liaison, note="已安排", status=A.IN_PROGRESS)


def test_someone_else_may_not_update_an_item(director, community, sibling_director):
    entry = item(director, held(director, community))
    with pytest.raises(IllegalTransition, match="Only the meeting's unit or the item's owner"):
        services.update_action_item(item=entry, by=sibling_director, note="x")


def test_a_sibling_communitys_meeting_and_items_are_404(client, director, sibling_director, sibling_community):
    meeting = held(sibling_director, sibling_community)
    entry = item(sibling_director, meeting)
    client.force_login(director)
    assert client.get(meeting.get_absolute_url()).status_code == 404
    assert client.get(entry.get_absolute_url()).status_code == 404
    assert list(client.get(reverse("coordination:meetings")).context["page"].object_list) == []


def test_the_street_sees_its_communities_meetings(street_director, director, community):
    meeting = convene(director, community)
    assert list(selectors.visible_meetings(street_director)) == [meeting]


def test_a_street_meeting_is_not_changed_by_a_community(street, street_director, director):
    meeting = convene(street_director, street)
    with pytest.raises(IllegalTransition):
        services.invite(meeting=meeting, kind="resident_rep", name="x", by=director)


# --------------------------------------------------------------------------- pages and the public notice


def test_convening_through_the_page_puts_the_case_on_the_agenda(client, director, community, case):
    client.force_login(director)
    starts = (timezone.localtime() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(reverse("coordination:meeting_new"), {
        "title": "板凳会", "format": "bench", "level": "building", "unit": community.pk,
        "place": "41号楼下", "starts_at": starts, "case": case.code.lower(),
    })
    meeting = Meeting.objects.get()
    assert response.status_code == 302 and response.url == meeting.get_absolute_url()
    assert meeting.agenda.get().case == case


def test_a_bad_meeting_form_keeps_what_was_typed(client, director, community):
    client.force_login(director)
    response = client.post(reverse("coordination:meeting_new"), {
        "title": "板凳会", "format": "bench", "level": "building", "unit": community.pk,
        "place": "41号楼下", "starts_at": "", "case": "NOSUCHCODE",
    })
    assert response.status_code == 200 and not Meeting.objects.exists()
    assert "41号楼下" in response.content.decode()


def test_meeting_page_actions_run_one_service_each(client, director, community):
    meeting = convene(director, community)
    client.force_login(director)
    url = lambda action: reverse("coordination:meeting_action", kwargs={"pk": meeting.pk, "action": action})  # noqa: E731
    assert client.post(url("invite"), {"kind": "resident_rep", "name": "居民代表李大爷"}).status_code == 302
    assert client.post(url("minutes"), {"minutes": "同意"}).status_code == 302
    assert client.post(url("decision"), {"text": "安装充电桩"}).status_code == 302
    bad = client.post(url("action_item"), {"decision": meeting.decisions.get().pk, "description": "选址",
                                           "due_on": "2026-12-01"})
    assert bad.status_code == 200 and bad.context["failed"] == "action_item"
    assert "exactly one owner" in bad.content.decode() and "选址" in bad.content.decode()


def test_the_public_notice_shows_the_outcome_without_personal_data(client, director, community, caseworker):
    director.first_name = "胡斌"
    director.save()
    meeting = held(director, community)
    services.invite(meeting=meeting, kind="resident_rep", name="杨阿姨", by=director)
    item(director, meeting, text="物业清理消防通道", owner_user=caseworker)
    url = reverse("coordination:notice", kwargs={"pk": meeting.pk})
    assert client.get(url).status_code == 404  # not published yet

    services.publish_notice(meeting=meeting, by=director, summary="各方同意加强巡查、清理消防通道。")
    page = client.get(url).content.decode()

    assert "各方同意加强巡查" in page and "物业清理消防通道" in page and community.name in page
    assert "胡斌" not in page and "杨阿姨" not in page and caseworker.username not in page


def test_only_a_held_meeting_publishes_a_notice(director, community):
    with pytest.raises(IllegalTransition):
        services.publish_notice(meeting=convene(director, community), by=director, summary="x")


def test_a_caseworker_may_not_publish_a_notice(caseworker, director, community):
    with pytest.raises(IllegalTransition, match="may not publish"):
        services.publish_notice(meeting=held(director, community), by=caseworker, summary="x")


def test_updating_an_item_through_its_page(client, director, community):
    entry = item(director, held(director, community))
    client.force_login(director)
    response = client.post(entry.get_absolute_url(), {"status": "done", "note": "已完成"})
    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.status == A.DONE and entry.done_at is not None


def test_case_page_shows_the_meeting_and_its_decision(client, director, community, case):
    meeting = convene(director, community, title="议事厅：电梯")
    agenda = services.add_agenda_item(meeting=meeting, case=case, by=director)
    services.record_minutes(meeting=meeting, by=director, minutes="x")
    services.add_decision(meeting=meeting, agenda_item=agenda, text="启动征询", by=director)
    client.force_login(director)
    page = client.get(case.get_absolute_url()).content.decode()
    assert "议事厅：电梯" in page and "启动征询" in page


@pytest.mark.parametrize("url_name", ["coordination:meetings", "coordination:action_items"])
def test_lists_run_a_fixed_number_of_queries(client, area, director, community, url_name,
                                             django_assert_max_num_queries):
    client.force_login(director)
    url = reverse(url_name) + ("?show=all" if url_name.endswith("items") else "")

    def count() -> int:
        client.get(url)
        with django_assert_max_num_queries(20) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    def meetings(n: int) -> None:
        for _n in range(n):
            item(director, held(director, community), owner_department=f.DepartmentFactory(unit=area))

    meetings(5)
    few = count()
    meetings(45)
    assert count() == few


def test_meeting_page_queries_do_not_grow_with_parties_and_items(client, director, community, django_assert_max_num_queries):
    meeting = held(director, community)
    client.force_login(director)

    def count() -> int:
        client.get(meeting.get_absolute_url())
        with django_assert_max_num_queries(40) as captured:
            assert client.get(meeting.get_absolute_url()).status_code == 200
        return len(captured)

    def grow(n: int) -> None:
        for k in range(n):
            services.invite(meeting=meeting, kind="resident_rep", name=f"代表{k}", by=director)
            services.add_agenda_item(meeting=meeting, topic=f"议题{k}", case=CaseFactory(location_unit=community),
                                     by=director)
            item(director, meeting, owner_user=f.staff(community, Role.CASEWORKER))

    grow(2)
    few = count()
    grow(10)
    assert count() == few
