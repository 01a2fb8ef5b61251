"""The queue's search box: description and resident-visible timeline text, the exact-code fast
path, newest first, a capped count; on PostgreSQL through the pg_trgm indexes, Chinese included."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cases import queries_staff, search, services
from cases.models import Case
from cases.views import queues
from communities.models import Role
from tests.cases.factories import CaseFactory, new_case, walk
from tests.factories import staff

pytestmark = pytest.mark.django_db
QUEUE = reverse("cases:queue")



def codes(response) -> list[str]:
    assert response.status_code == 200
    return [case.code for case in response.context["rows"]]


def found(client, term: str, queue: str = "all") -> list[str]:
    return codes(client.get(QUEUE, {"queue": queue, "q": term}))


def test_the_description_is_searched(client, dispatcher, grid):
    wanted = CaseFactory(location_unit=grid, title="家里没有热水", description="暖气片漏水，地板都湿了")
    CaseFactory(location_unit=grid, title="别的事", description="楼下有噪音")
    client.force_login(dispatcher)
    assert found(client, "暖气片漏水") == [wanted.code]
    assert found(client, "暖气") == [wanted.code]  # two characters: too short for a trigram, still found


def test_the_timeline_text_the_resident_sees_is_searched_not_internal_notes(client, dispatcher, grid, worker_of_grid):
    public = walk(new_case(place=grid, title="甲"), to="accepted", dispatcher=dispatcher, handler=worker_of_grid)
    internal = walk(new_case(place=grid, title="乙"), to="accepted", dispatcher=dispatcher, handler=worker_of_grid)
    services.add_progress(case=public, by=worker_of_grid, note="物业已更换电梯钢丝绳", public=True)
    services.add_progress(case=internal, by=worker_of_grid, note="电梯钢丝绳由维保单位负责", public=False)
    client.force_login(dispatcher)
    assert found(client, "电梯钢丝绳") == [public.code]


def test_a_public_line_whose_note_is_for_staff_only_is_not_searched(client, dispatcher, grid, worker_of_grid):
    case = walk(new_case(place=grid, title="丙"), to="accepted", dispatcher=dispatcher, handler=worker_of_grid)
    services.record_contact(case=case, by=worker_of_grid, method="phone", summary="居民说明天上午在家")
    assert case.events.filter(action="contacted", public=True).exists()
    client.force_login(dispatcher)
    assert found(client, "明天上午在家") == []


@pytest.fixture
def worker_of_grid(grid):
    return staff(grid, Role.GRID_WORKER)


def test_an_exact_code_or_order_number_finds_that_case_alone(client, dispatcher, grid):
    wanted = CaseFactory(location_unit=grid, code="ABCD2345", hotline_order_no="GD2026110400123")
    mentions = CaseFactory(location_unit=grid, description="与 ABCD2345、GD2026110400123 是同一件事")
    client.force_login(dispatcher)
    assert found(client, "abcd2345") == [wanted.code]
    assert found(client, "GD2026110400123") == [wanted.code]
    assert set(found(client, "110400123")) == {wanted.code, mentions.code}  # part of a number: a text search


def test_results_come_newest_first_whatever_the_queue_order(client, dispatcher, grid):
    now = timezone.now()
    old = CaseFactory(location_unit=grid, title="路灯不亮", received_at=now - timedelta(days=3),
                      resolve_due_at=now + timedelta(days=1))
    new = CaseFactory(location_unit=grid, title="路灯不亮了", received_at=now - timedelta(hours=1),
                      resolve_due_at=now + timedelta(days=5))
    client.force_login(dispatcher)
    assert codes(client.get(QUEUE, {"queue": "unit"}))[:2] == [old.code, new.code]  # the queue: deadline first
    assert found(client, "路灯不亮", queue="unit") == [new.code, old.code]


def test_the_count_of_a_search_stops_at_the_cap(client, dispatcher, grid, monkeypatch):
    monkeypatch.setattr(queries_staff, "SEARCH_COUNT_CAP", 3)
    for n in range(5):
        CaseFactory(location_unit=grid, title=f"垃圾清运{n}")
    client.force_login(dispatcher)
    response = client.get(QUEUE, {"queue": "all", "q": "垃圾清运"})
    assert len(codes(response)) == 5
    assert response.context["page"].paginator.count == 4 and response.context["page"].paginator.capped
    assert "3+" in response.content.decode()
    response = client.get(QUEUE, {"queue": "all", "q": "垃圾清运1"})
    assert not response.context["page"].paginator.capped


def test_search_stays_in_scope(client, grid, sibling_street):
    CaseFactory(location_unit=grid, title="井盖丢失")
    client.force_login(staff(sibling_street, Role.DISPATCHER))
    assert found(client, "井盖丢失") == []


# --- PostgreSQL: the trigram indexes ---------------------------------------------------


def plan(queryset) -> str:
    with connection.cursor() as cursor:
        # A test table is tiny: ask for an index that narrows the rows (not a walk in date order).
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        sql, params = queryset.order_by().query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.postgres
def test_the_database_reads_chinese_as_word_characters():
    """pg_trgm builds trigrams of Chinese only under a UTF-8 locale; the C locale would drop them."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_encoding_to_char(encoding), datctype FROM pg_database WHERE datname = current_database()"
        )
        encoding, ctype = cursor.fetchone()
        cursor.execute("SELECT show_trgm(%s), similarity(%s, %s)", ["暖气漏水", "暖气漏水", "暖气片"])
        trigrams, unrelated = cursor.fetchone()
    assert encoding == "UTF8" and "utf" in ctype.lower().replace("-", "")
    # "  暖", " 暖气", "暖气漏", "气漏水", "漏水 " (pg_trgm shows non-ASCII trigrams as hashes)
    assert len(trigrams) == 5 and 0 < unrelated < 1


@pytest.mark.postgres
@pytest.mark.parametrize("term", ["暖气漏", "暖气漏水", "REPAIR"])
def test_three_characters_or_more_go_through_the_case_index(term):
    CaseFactory(title="暖气漏水 repair")
    cases = Case.objects.alias(search_text=search.SEARCH_TEXT).filter(search_text__icontains=term)
    assert cases.count() == 1
    assert "case_search_trgm" in plan(cases)


@pytest.mark.postgres
def test_public_notes_go_through_the_note_index():
    from cases.models import TimelineEvent

    lines = TimelineEvent.objects.filter(public=True, note__icontains="钢丝绳")
    assert "event_public_note_trgm" in plan(lines.values("case_id"))


@pytest.mark.postgres
@pytest.mark.parametrize("term, expected", [("暖气", {"暖气片漏水", "暖气不热"}), ("漏水", {"暖气片漏水", "屋顶漏水"}),
                                            ("暖气片", {"暖气片漏水"}), ("气不热", {"暖气不热"}), ("电梯", set())])
def test_chinese_terms_of_two_and_three_characters_find_exactly_their_cases(client, dispatcher, grid, term, expected):
    for title in ["暖气片漏水", "暖气不热", "屋顶漏水", "楼道灯坏了"]:
        CaseFactory(location_unit=grid, title=title, description=f"{title}，请尽快处理")
    client.force_login(dispatcher)
    rows = client.get(QUEUE, {"queue": "all", "q": term}).context["rows"]
    assert {case.title for case in rows} == expected


def test_a_two_character_term_is_looked_for_among_the_newest_cases_only_and_the_page_says_so(
    client, dispatcher, grid, monkeypatch,
):
    # A rare two-character term has no trigram: unbounded, it scanned every case in scope (29 s at 1 M).
    monkeypatch.setattr(search, "SHORT_TERM_WINDOW", 2)
    now = timezone.now()
    oldest = CaseFactory(location_unit=grid, title="幕墙脱落", received_at=now - timedelta(days=3))
    CaseFactory(location_unit=grid, title="路灯不亮", received_at=now - timedelta(days=2))
    newest = CaseFactory(location_unit=grid, title="幕墙开裂", received_at=now - timedelta(days=1))
    client.force_login(dispatcher)
    response = client.get(QUEUE, {"queue": "all", "q": "幕墙"})
    assert codes(response) == [newest.code]
    assert "最新的2件工单" in response.content.decode()
    response = client.get(QUEUE, {"queue": "all", "q": "幕墙脱"})  # three characters: everything
    assert codes(response) == [oldest.code] and "最新的" not in response.content.decode()


# --- A common term's page: the newest cases walked in date order, not every match sorted ------


@pytest.fixture
def small_pages(monkeypatch):
    """Pages of 2, a count capped at 3, a walk over the newest 4 cases in scope."""
    monkeypatch.setattr(queues, "PAGE_SIZE", 2)
    monkeypatch.setattr(queries_staff, "SEARCH_COUNT_CAP", 3)
    monkeypatch.setattr(search, "NEWEST_FIRST", 4)


def matched_by_like(sql: str) -> bool:
    """The statement compares the case's text with LIKE (what the trigram index answers)."""
    return "%消防通道%" in sql or "%窨井盖%" in sql


def rows_statements(captured) -> list[str]:
    """The statements that read a page's keys (its rows are then read by key)."""
    return [query["sql"] for query in captured
            if query["sql"].startswith('SELECT "cases_case"."id" AS "pk" FROM') and "ORDER BY" in query["sql"]]


def test_a_common_terms_pages_come_newest_first_whether_walked_or_read_through_the_index(
    client, dispatcher, grid, small_pages,
):
    now = timezone.now()
    matches = [CaseFactory(location_unit=grid, title=f"消防通道堵塞{n}", received_at=now - timedelta(days=2 * n + 1))
               for n in range(5)]
    for n in range(5):
        CaseFactory(location_unit=grid, title="别的事", received_at=now - timedelta(days=2 * n + 2))
    client.force_login(dispatcher)
    pages = []
    for number in (1, 2):
        with CaptureQueriesContext(connection) as captured:
            response = client.get(QUEUE, {"queue": "all", "q": "消防通道", "page": number})
        assert response.context["page"].paginator.capped
        pages.append((codes(response), rows_statements(captured)))
    assert [page for page, _sql in pages] == [[matches[0].code, matches[1].code], [matches[2].code, matches[3].code]]
    # Page 1: the newest 4 cases hold 2 matches, a full page: walked, the text index not asked.
    (walk,) = pages[0][1]
    assert not matched_by_like(walk) and ("STRPOS" in walk or "INSTR" in walk)
    # Page 2 needs matches 3 and 4, older than the newest 4 cases: the walk falls short, the index answers.
    assert len(pages[1][1]) == 2 and matched_by_like(pages[1][1][1])


def test_a_rare_terms_page_is_read_through_the_index_at_once(client, dispatcher, grid, small_pages):
    wanted = CaseFactory(location_unit=grid, title="窨井盖松动")
    client.force_login(dispatcher)
    with CaptureQueriesContext(connection) as captured:
        assert found(client, "窨井盖") == [wanted.code]
    (rows,) = rows_statements(captured)
    assert matched_by_like(rows)


def test_a_searched_queue_page_reads_the_terms_buildings_and_notes_once(
    client, dispatcher, grid, small_pages, django_assert_max_num_queries,
):
    for n in range(4):
        CaseFactory(location_unit=grid, title=f"消防通道堵塞{n}")
    client.force_login(dispatcher)
    client.get(QUEUE, {"queue": "all", "q": "消防通道"})  # warm the per-process caches
    with CaptureQueriesContext(connection) as captured:
        assert len(found(client, "消防通道")) == 2
    assert sum('"communities_building"' in query["sql"] and "UNION" in query["sql"] for query in captured) == 1
    with django_assert_max_num_queries(len(captured)):
        assert len(found(client, "消防通道")) == 2


@pytest.mark.postgres
@pytest.mark.parametrize("term", ["暖气漏", "暖气漏水"])
def test_a_chinese_term_is_read_through_the_index_or_walked_never_both(term):
    """The search's own filter (with its building and note keys) can use the index; its walk cannot:
    PostgreSQL is given no choice to get wrong (see cases.search)."""
    wanted = CaseFactory(title="暖气漏水")
    CaseFactory(title="暖气不热")
    through_the_index = search.search(Case.objects.all(), term)
    walked = search.search(Case.objects.all(), term, newest=10)
    assert list(through_the_index) == list(walked) == [wanted]
    assert "case_search_trgm" in plan(through_the_index)
    assert "case_search_trgm" not in plan(walked)


@pytest.mark.parametrize("cap", [3, 1000], ids=["walked", "through the index"])
def test_a_searched_queue_page_runs_as_many_queries_for_fifty_rows_as_for_two(
    client, dispatcher, grid, worker_of_grid, monkeypatch, cap,
):
    monkeypatch.setattr(queries_staff, "SEARCH_COUNT_CAP", cap)
    CaseFactory.create_batch(2, location_unit=grid, title="消防通道堵塞", handler=worker_of_grid)
    client.force_login(dispatcher)
    client.get(QUEUE, {"queue": "all", "q": "消防通道"})  # warm the per-process caches
    with CaptureQueriesContext(connection) as few:
        assert len(found(client, "消防通道")) == 2
    CaseFactory.create_batch(48, location_unit=grid, title="消防通道堵塞", handler=worker_of_grid)
    with CaptureQueriesContext(connection) as many:
        assert len(found(client, "消防通道")) == 50
    assert len(many) == len(few)
