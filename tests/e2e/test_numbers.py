"""Dispatcher → caseworker, then the numbers: the 社区 dashboard and the street's ranking of
its communities change as the case is routed, handled and rated, as a reader sees them."""

from cases import services
from cases.models import Case, ReturnVisit
from communities.models import Role
from tests import factories as f
from tests.cases.factories import CategoryFactory, new_case, walk

from .steps import act, handle, log_in, rate_on_phone, table_rows, text_of

# The columns of the ranking table (rank, unit, counted, response, resolution, satisfaction,
# composite, completion, open, overdue, under supervision).
RANK, UNIT, COUNTED, RESPONSE, RESOLUTION, SATISFACTION, COMPOSITE, COMPLETION, OPEN = range(9)


def ranking(page, base, street) -> dict[str, list[str]]:
    """The street dashboard's ranking, by community name (the 末位 badge stays in the name cell)."""
    page.goto(f"{base}/dashboards/{street.code}/")
    return {row[UNIT].split(" ")[0]: row for row in table_rows(page.locator("table.ranking"))}


def community_board(page) -> dict[str, str]:
    """The community dashboard's headline: the open tile and the month's own figures."""
    figures = [text_of(dd) for dd in page.locator("dl.score-figures dd").all()]
    return {
        "open": text_of(page.locator(".tile-open .tile-count")),
        "counted": figures[0], "response": figures[1], "resolution": figures[2],
        "satisfaction": figures[3], "composite": figures[4],
    }


def test_routed_handled_and_rated_case_moves_the_dashboard_and_the_street_ranking(
    live_server, page, phone_page, street, community, sibling_community
):
    base = live_server.url
    category = CategoryFactory(code="road-lamp-e2e", name="路灯不亮")
    dispatcher = f.staff(street, Role.DISPATCHER)
    leader = f.staff(street, Role.DIRECTOR)
    caseworker = f.staff(community, Role.CASEWORKER)

    # Earlier this month 星城第七社区 handled one case; its caller was only basically satisfied.
    earlier = walk(
        new_case(place=sibling_community, category=category, title="小区门口路灯不亮"),
        to="resolved", dispatcher=dispatcher, handler=f.staff(sibling_community, Role.CASEWORKER),
    )
    services.rate(case=earlier, resolved=True, satisfaction=Case.Satisfaction.BASIC, channel=ReturnVisit.Channel.WEB)
    # A walk-in request for 星城第三社区 waits at the street's dispatch desk.
    case = new_case(
        place=community, category=category, title="32号楼北侧路灯不亮",
        resident_name="钱阿姨", resident_phone="13600002468",
    )

    # Before: the street's director opens Dashboards: only 第七社区 is ranked, 第三社区 has nothing.
    log_in(page, base, leader)
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="数据看板").click()
    page.wait_for_url(f"{base}/dashboards/{street.code}/")
    before = ranking(page, base, street)
    assert [before["星城第七社区"][i] for i in (RANK, COUNTED, RESOLUTION, SATISFACTION, COMPOSITE, COMPLETION)] == [
        "1", "1", "100.0%", "90.0%", "96.00", "100.0%"
    ]
    assert [before["星城第三社区"][i] for i in (RANK, COUNTED, COMPOSITE, OPEN)] == ["—", "0", "—", "0"]
    page.get_by_role("link", name="星城第三社区").first.click()
    page.wait_for_url(f"{base}/dashboards/{community.code}/*")
    assert community_board(page) == {
        "open": "0", "counted": "0", "response": "—", "resolution": "—", "satisfaction": "—", "composite": "—",
    }

    # The dispatcher finds it in the queue and routes it to the community.
    log_in(page, base, dispatcher)
    page.goto(f"{base}/cases/?queue=to_dispatch")
    page.click(f'a[href="/cases/{case.code}/"]')
    act(page, "dispatch", {"#id_dispatch-to_unit": str(community.pk)})
    case.refresh_from_db()
    assert (case.status, case.unit) == (Case.Status.DISPATCHED, community)

    # The community's caseworker sees one open case on the dashboard, then handles it.
    log_in(page, base, caseworker)
    page.goto(f"{base}/dashboards/{community.code}/")
    routed = community_board(page)
    assert (routed["open"], routed["counted"], routed["resolution"]) == ("1", "1", "—")
    page.locator(".tile-open a").click()  # the open tile lists them in the work queue
    page.click(f'a[href="/cases/{case.code}/"]')
    handle(page, summary="已电话联系钱阿姨，今晚派电工检修。", result="已更换32号楼北侧两盏路灯。")
    rate_on_phone(phone_page, base, case, phone_last4="2468", expect_result="已更换32号楼北侧两盏路灯")
    case.refresh_from_db()
    assert case.status == Case.Status.CLOSED

    # After: nothing open, every rate full, and 第三社区 overtakes 第七社区, now named the lowest.
    page.goto(f"{base}/dashboards/{community.code}/")
    assert community_board(page) == {
        "open": "0", "counted": "1", "response": "100.0%", "resolution": "100.0%",
        "satisfaction": "100.0%", "composite": "100.00",
    }
    log_in(page, base, leader)
    after = ranking(page, base, street)
    assert [after["星城第三社区"][i] for i in (RANK, COUNTED, RESOLUTION, COMPOSITE, OPEN)] == [
        "1", "1", "100.0%", "100.00", "0"
    ]
    assert (after["星城第七社区"][RANK], after["星城第七社区"][COMPOSITE]) == ("2", "96.00")
    assert "末位" in after["星城第七社区"][UNIT]
    assert list(after) == ["星城第三社区", "星城第七社区"]
