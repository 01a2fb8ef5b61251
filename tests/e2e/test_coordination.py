"""一呼百应 in a real browser: a community worker takes a case to the households door to door
(a consent poll on a phone) and to a round-table meeting whose decision becomes an action
item followed to done."""

from datetime import timedelta

from django.utils import timezone

from cases.models import Case
from communities.models import Role
from governance.models import ActionItem, Meeting, Poll
from tests import factories as f
from tests.cases.factories import CategoryFactory, new_case, walk
from tests.governance.coordination_factories import households

from .steps import act, fill_form, log_in, table_rows, text_of


def record_ballot(page, room: str, vote: str) -> None:
    """On the poll page: tap the household's room in the floor grid, tick the vote, record it."""
    page.locator(".progress-grid").get_by_role("link", name=room, exact=True).click()
    ballot = page.locator("form[action$='/ballot/']")
    ballot.get_by_role("group", name="表决意见").get_by_label(vote, exact=True).check()
    ballot.get_by_role("button").click()
    page.wait_for_load_state()


def poll_result(page) -> str:
    return text_of(page.locator(".poll-result h2 .badge"))


def test_consent_poll_door_to_door_and_a_meeting_whose_action_item_is_done(
    live_server, page, phone_page, street, community, grid, building
):
    base = live_server.url
    households(building, units=3, floors=3, per_floor=2)
    property_manager = f.PartnerFactory(unit=community, name="燕化物业星城分公司")
    worker = f.staff(community, Role.CASEWORKER)
    case = walk(
        new_case(
            place=grid, building=building, category=CategoryFactory(code="housing-e2e", name="房屋设施"),
            title="41号楼3单元想加装电梯", description="3单元老人多，上下楼困难，希望加装电梯。",
        ),
        to="accepted", dispatcher=f.staff(street, Role.DISPATCHER), handler=worker, unit=community,
    )

    # From the case page the worker opens a poll of the households of unit 3, on a phone.
    log_in(phone_page, base, worker)
    phone_page.goto(f"{base}/cases/{case.code}/")
    phone_page.get_by_role("link", name="发起住户意见征询").click()
    form = phone_page.locator("main form")
    assert form.locator("#id_case").input_value() == case.code
    fill_form(form, {
        "#id_title": "41号楼3单元加装电梯意见征询",
        "#id_question": "是否同意在41号楼3单元加装电梯？",
        "#id_stairwell_numbers": "3",
        "#id_closes_on": (timezone.localdate() + timedelta(days=14)).isoformat(),
    })
    form.get_by_role("button").click()
    phone_page.wait_for_url("**/polls/*/")
    poll = Poll.objects.get()
    assert (poll.case, poll.electors.count()) == (case, 6)
    assert poll_result(phone_page) == "未通过"

    # The door-to-door list: every household of unit 3, floor by floor from the top.
    phone_page.get_by_role("link", name="尚待入户走访的住户清单").click()
    assert [row[:2] for row in table_rows(phone_page.locator(".visit-stairwell table"))] == [
        ["3", "301"], ["3", "302"], ["2", "201"], ["2", "202"], ["1", "101"], ["1", "102"],
    ]
    phone_page.go_back()

    # Three households agree: two-thirds is four, so the poll has not passed yet.
    for room in ("101", "102", "201"):
        record_ballot(phone_page, room, "同意")
    assert poll_result(phone_page) == "未通过"
    # The fourth agrees: passed, and only two households are left on the list.
    record_ballot(phone_page, "301", "同意")
    assert poll_result(phone_page) == "通过"
    phone_page.get_by_role("link", name="尚待入户走访的住户清单").click()
    assert [row[1] for row in table_rows(phone_page.locator(".visit-stairwell table"))] == ["302", "202"]
    phone_page.go_back()
    # The last two doors: once every household is reached the poll may close before its date.
    record_ballot(phone_page, "302", "弃权")
    record_ballot(phone_page, "202", "同意")
    phone_page.get_by_role("button", name="结束意见征询并锁定结果").click()
    phone_page.wait_for_load_state()
    poll.refresh_from_db()
    assert (poll.status, poll_result(phone_page)) == (Poll.Status.CLOSED, "通过")

    # At the desk: a round-table meeting with the case on its agenda, started from the case page.
    log_in(page, base, worker)
    page.goto(f"{base}/cases/{case.code}/")
    assert "41号楼3单元加装电梯意见征询" in text_of(page.locator(".coordination-panel"))
    page.get_by_role("link", name="列入会议议程").click()
    form = page.locator("main form")
    starts = timezone.localtime() - timedelta(hours=2)
    fill_form(form, {
        "#id_title": "41号楼加装电梯圆桌会",
        "#id_format": Meeting.Format.ROUND_TABLE,
        "#id_level": Meeting.Level.BUILDING,
        "#id_building": str(building.pk),
        "#id_place": "41号楼前小广场",
        "#id_starts_at": starts.strftime("%Y-%m-%dT%H:%M"),
    })
    form.get_by_role("button").click()
    page.wait_for_url("**/meetings/*/")
    meeting = Meeting.objects.get()
    assert case.code in text_of(page.locator("section[aria-labelledby=agenda]"))

    act(page, "invite", {"#id_kind": "property_manager", "#id_partner": str(property_manager.pk)})
    act(page, "minutes", {"#id_minutes": "物业、居民代表到会。意见征询已通过，物业配合勘测。"},
        tick=("物业 · 燕化物业星城分公司",))
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.HELD
    act(page, "decision", {
        "#id_text": "由物业联系电梯公司两周内完成现场勘测。", "#id_agenda_item": str(meeting.agenda.get().pk),
    })
    act(page, "action_item", {
        "#id_description": "联系电梯公司完成41号楼3单元现场勘测",
        "#id_due_on": (timezone.localdate() + timedelta(days=14)).isoformat(),
        "#id_owner_partner": str(property_manager.pk),
    })
    assert "联系电梯公司完成41号楼3单元现场勘测" in text_of(page.locator("section[aria-labelledby=decisions]"))

    # The action item is followed from the list of those not done, to done.
    page.get_by_role("link", name="落实事项", exact=True).click()
    page.get_by_role("link", name="尚未完成").click()
    page.get_by_role("link", name="联系电梯公司完成41号楼3单元现场勘测").click()
    for status, note in ((ActionItem.Status.IN_PROGRESS, "电梯公司已约好周三勘测。"),
                         (ActionItem.Status.DONE, "勘测完成，方案已交居民代表。")):
        fill_form(page.locator("main form"), {"#id_status": status, "#id_note": note})
        page.locator("main form").get_by_role("button").click()
        page.wait_for_load_state()
    item = ActionItem.objects.get()
    assert (item.status, item.updates.count()) == (ActionItem.Status.DONE, 2)
    assert "勘测完成，方案已交居民代表。" in text_of(page.locator("section[aria-labelledby=updates]"))

    # The case's timeline says so.
    page.goto(f"{base}/cases/{case.code}/")
    assert "勘测完成，方案已交居民代表。" in text_of(page.locator("ol.timeline"))
    case.refresh_from_db()
    assert case.status == Case.Status.ACCEPTED
