"""Work queues at /cases/: tabs, filters, search, pages, badges, exports and a flat query count."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from cases.models import Case, Urgency
from cases.selectors import QUEUES
from communities.models import Role
from tests.cases.factories import CaseFactory, CategoryFactory, new_case, walk
from tests.factories import BuildingFactory, GridFactory, staff

pytestmark = pytest.mark.django_db
S = Case.Status
QUEUE = "/cases/"




def codes(response) -> list[str]:
    return [case.code for case in response.context["rows"]]


def open_cases(unit, n: int, **fields) -> list[Case]:
    return CaseFactory.create_batch(n, location_unit=unit, unit=unit, **fields)


# --- tabs ----------------------------------------------------------------------------


def test_dispatcher_opens_on_the_cases_to_dispatch(client, dispatcher, grid):
    waiting = new_case(place=grid)
    client.force_login(dispatcher)
    response = client.get(QUEUE)
    assert response.context["current"] == "to_dispatch" and codes(response) == [waiting.code]


def test_grid_worker_opens_on_their_own_cases(client, dispatcher, worker, grid):
    mine = walk(new_case(place=grid), to="accepted", dispatcher=dispatcher, handler=worker)
    walk(new_case(place=grid), to="dispatched", dispatcher=dispatcher, handler=worker)
    client.force_login(worker)
    response = client.get(QUEUE)
    assert response.context["current"] == "mine" and codes(response) == [mine.code]


@pytest.mark.parametrize("name", [name for name, _label in QUEUES])
def test_every_queue_tab_renders(client, dispatcher, name):
    client.force_login(dispatcher)
    response = client.get(QUEUE, {"queue": name})
    assert response.status_code == 200 and response.context["current"] == name


def test_an_unknown_queue_is_404(client, dispatcher):
    client.force_login(dispatcher)
    assert client.get(QUEUE, {"queue": "everything"}).status_code == 404


def test_the_queues_need_a_login(client):
    response = client.get(QUEUE)
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_a_user_without_a_post_is_refused(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("nobody", password="x-123456789"))
    assert client.get(QUEUE).status_code == 403


# --- filters and search --------------------------------------------------------------


def test_filters_by_status_category_channel_and_urgency(client, dispatcher, grid):
    category = CategoryFactory()
    wanted = CaseFactory(location_unit=grid, category=category, source="hotline", urgency=Urgency.URGENT,
                         status=S.DISPATCHED)
    CaseFactory(location_unit=grid, category=category, source="hotline", urgency=Urgency.ORDINARY,
                status=S.DISPATCHED)
    CaseFactory(location_unit=grid, source="hotline", urgency=Urgency.URGENT, status=S.DISPATCHED)
    CaseFactory(location_unit=grid, category=category, source="web", urgency=Urgency.URGENT, status=S.DISPATCHED)
    CaseFactory(location_unit=grid, category=category, source="hotline", urgency=Urgency.URGENT, status=S.ACCEPTED)
    client.force_login(dispatcher)
    response = client.get(QUEUE, {
        "queue": "unit", "status": "dispatched", "category": category.pk, "source": "hotline", "urgency": "urgent",
    })
    assert codes(response) == [wanted.code]


def test_filters_by_grid_in_the_users_subtree(client, dispatcher, grid, sibling_grid, sibling_community):
    here = CaseFactory(location_unit=grid)
    CaseFactory(location_unit=sibling_grid)
    client.force_login(dispatcher)
    response = client.get(QUEUE, {"queue": "unit", "place": grid.pk})
    assert codes(response) == [here.code]
    choices = [str(value) for value, _label in response.context["filter"].form.fields["place"].choices]
    assert str(sibling_community.pk) in choices  # a street dispatcher sees both communities


def test_the_grid_filter_offers_no_unit_outside_the_subtree(client, grid, sibling_community):
    worker = staff(grid, Role.GRID_WORKER)
    client.force_login(worker)
    response = client.get(QUEUE, {"queue": "unit"})
    choices = [str(value) for value, _label in response.context["filter"].form.fields["place"].choices]
    assert str(grid.pk) in choices and str(sibling_community.pk) not in choices


def test_filters_by_received_date_range(client, dispatcher, grid):
    now = timezone.now()
    old = CaseFactory(location_unit=grid, received_at=now - timedelta(days=20))
    recent = CaseFactory(location_unit=grid, received_at=now - timedelta(days=2))
    client.force_login(dispatcher)
    after = timezone.localdate() - timedelta(days=5)
    response = client.get(QUEUE, {"queue": "unit", "received_after": after.isoformat()})
    assert codes(response) == [recent.code]
    before = timezone.localdate() - timedelta(days=10)
    response = client.get(QUEUE, {"queue": "unit", "received_before": before.isoformat()})
    assert codes(response) == [old.code]


def test_filters_overdue_yes_and_no(client, dispatcher, grid):
    late = CaseFactory(location_unit=grid, resolve_due_at=timezone.now() - timedelta(hours=1))
    on_time = CaseFactory(location_unit=grid)
    client.force_login(dispatcher)
    assert codes(client.get(QUEUE, {"queue": "unit", "overdue": "yes"})) == [late.code]
    assert codes(client.get(QUEUE, {"queue": "unit", "overdue": "no"})) == [on_time.code]


@pytest.mark.parametrize("field, value, query", [
    ("code", "ABCDEFGH23", "ABCDEFGH23"),
    ("hotline_order_no", "GD2026110400123", "110400123"),
    ("title", "电梯停运三天", "电梯停运"),
    ("address", "星城商场南门", "商场南门"),
])
def test_search_box_finds_by_code_hotline_number_title_and_address(client, dispatcher, grid, field, value, query):
    found = CaseFactory(location_unit=grid, **{field: value})
    CaseFactory(location_unit=grid, title="别的事", address="别处")
    client.force_login(dispatcher)
    assert codes(client.get(QUEUE, {"queue": "unit", "q": query})) == [found.code]


def test_search_and_filters_stay_when_switching_page(client, dispatcher, grid):
    open_cases(grid, 51, title="楼道灯")
    client.force_login(dispatcher)
    response = client.get(QUEUE, {"queue": "unit", "q": "楼道灯"})
    html = response.content.decode()
    assert "q=%E6%A5%BC%E9%81%93%E7%81%AF" in html and "page=2" in html


# --- rows ----------------------------------------------------------------------------


def test_fifty_rows_per_page(client, dispatcher, grid):
    open_cases(grid, 51)
    client.force_login(dispatcher)
    assert len(codes(client.get(QUEUE, {"queue": "unit"}))) == 50
    assert len(codes(client.get(QUEUE, {"queue": "unit", "page": 2}))) == 1


def test_rows_show_masked_phones_only(client, dispatcher, grid):
    CaseFactory(location_unit=grid, resident_phone="13912345678")
    client.force_login(dispatcher)
    html = client.get(QUEUE, {"queue": "unit"}).content.decode()
    assert "139****5678" in html and "13912345678" not in html


def test_deadline_badges_for_overdue_and_due_within_two_hours(client, dispatcher, grid):
    now = timezone.now()
    CaseFactory(location_unit=grid, resolve_due_at=now - timedelta(minutes=5), contacted_at=now)
    CaseFactory(location_unit=grid, resolve_due_at=now + timedelta(minutes=90), contacted_at=now)
    CaseFactory(location_unit=grid, resolve_due_at=now + timedelta(days=3), contacted_at=now)
    client.force_login(dispatcher)
    response = client.get(QUEUE, {"queue": "unit"})
    states = sorted(case.deadline.state for case in response.context["rows"])
    assert states == ["", "due_soon", "overdue"]
    html = response.content.decode()
    assert "badge-overdue" in html and "badge-due_soon" in html


# --- constant queries ------------------------------------------------------------------


def build_cases(n: int, grid, worker) -> None:
    """``n`` cases spread over every queue: states, places, categories, deadlines, supervision."""
    buildings = [BuildingFactory(unit=grid) for _ in range(3)]
    other_grid = GridFactory(parent=grid.parent)
    now = timezone.now()
    for i in range(n):
        place = grid if i % 4 in (1, 2) else other_grid
        status = [S.SUBMITTED, S.DISPATCHED, S.ACCEPTED, S.RESOLVED][i % 4]
        CaseFactory(
            location_unit=place, unit=place, building=buildings[i % 3] if place == grid else None,
            category=CategoryFactory(), address=f"{i}号", is_supervised=i % 3 == 0, status=status,
            handler=worker if status == S.ACCEPTED else None,
            contact_due_at=now + timedelta(hours=i % 3), resolve_due_at=now + timedelta(hours=(i % 5) - 2),
        )


def queries_for(client, path: str, params: dict) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, params)
        if response.streaming:
            b"".join(response.streaming_content)
        else:
            response.content
    assert response.status_code == 200
    return len(captured)


# Session, user, posts, notifications, the units and places of the filters, the keys granted
# and co-handled (read once, so the case filter can use the path index), count, page.
QUEUE_PAGE_MAX_QUERIES = 16


@pytest.mark.parametrize("name", [name for name, _label in QUEUES])
def test_queue_pages_run_a_fixed_number_of_queries(
    client, dispatcher, worker, grid, name, django_assert_max_num_queries
):
    client.force_login(worker if name == "mine" else dispatcher)
    build_cases(5, grid, worker)
    client.get(QUEUE, {"queue": name})  # warm the per-process caches (content types)
    with django_assert_max_num_queries(QUEUE_PAGE_MAX_QUERIES):
        assert 0 < len(codes(client.get(QUEUE, {"queue": name}))) <= 5
    small = queries_for(client, QUEUE, {"queue": name})
    build_cases(45, grid, worker)
    with django_assert_max_num_queries(QUEUE_PAGE_MAX_QUERIES):
        assert len(codes(client.get(QUEUE, {"queue": name}))) > 5
    assert queries_for(client, QUEUE, {"queue": name}) == small


def test_filtered_queue_query_count_does_not_grow(client, dispatcher, worker, grid):
    client.force_login(dispatcher)
    params = {"queue": "unit", "q": "号", "place": grid.pk, "overdue": "yes", "received_after": "2000-01-01"}
    build_cases(5, grid, worker)
    assert codes(client.get(QUEUE, params))
    small = queries_for(client, QUEUE, params)
    build_cases(45, grid, worker)
    assert len(codes(client.get(QUEUE, params))) > 5
    assert queries_for(client, QUEUE, params) == small <= QUEUE_PAGE_MAX_QUERIES


# --- exports -------------------------------------------------------------------------


def export_rows(client, fmt: str, params: dict) -> list[list[str]]:
    response = client.get(reverse("cases:export", kwargs={"fmt": fmt}), params)
    assert response.status_code == 200
    if fmt == "csv":
        text = b"".join(response.streaming_content).decode("utf-8-sig")
        return list(csv.reader(io.StringIO(text)))
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True).active
    return [["" if cell is None else str(cell) for cell in row] for row in sheet.iter_rows(values_only=True)]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_is_the_filtered_queue_with_masked_phones(client, dispatcher, grid, fmt):
    wanted = CaseFactory(location_unit=grid, title="电梯故障", resident_phone="13912345678", resident_name="杨阿姨")
    CaseFactory(location_unit=grid, title="别的事")
    client.force_login(dispatcher)
    rows = export_rows(client, fmt, {"queue": "unit", "q": "电梯"})
    assert len(rows) == 2 and rows[1][0] == wanted.code
    line = ",".join(rows[1])
    assert "139****5678" in line and "13912345678" not in line
    assert "杨**" in line and "杨阿姨" not in line


def test_export_neutralises_spreadsheet_formulas(client, dispatcher, grid):
    CaseFactory(location_unit=grid, title="=HYPERLINK(\"http://x\")")
    client.force_login(dispatcher)
    rows = export_rows(client, "csv", {"queue": "unit"})
    assert rows[1][7].startswith("'=")


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_runs_a_fixed_number_of_queries(client, dispatcher, worker, grid, fmt):
    client.force_login(dispatcher)
    path = reverse("cases:export", kwargs={"fmt": fmt})
    build_cases(5, grid, worker)
    client.get(path, {"queue": "unit"})
    small = queries_for(client, path, {"queue": "unit"})
    build_cases(45, grid, worker)
    assert queries_for(client, path, {"queue": "unit"}) == small


def test_export_needs_the_export_permission(client, grid):
    client.force_login(staff(grid, Role.GRID_WORKER))
    assert client.get(reverse("cases:export", kwargs={"fmt": "csv"})).status_code == 403


def test_the_all_queue_filtered_by_handling_unit_counts_what_the_dashboards_count(client, dispatcher, street, grid):
    """A dashboard's volume links here: every case handled in the unit, whatever its state,
    and not the cases located there but still handled above it (at the street's desk)."""
    handled = CaseFactory(location_unit=grid, unit=grid, status=Case.Status.CLOSED)
    CaseFactory(location_unit=grid, unit=street, status=Case.Status.SUBMITTED)
    client.force_login(dispatcher)

    response = client.get(QUEUE, {"queue": "all", "handled_in": grid.pk})

    assert codes(response) == [handled.code]
    assert len(codes(client.get(QUEUE, {"queue": "all", "place": grid.pk}))) == 2


def test_the_unit_picker_renders_django_selects_markup_without_a_template_per_option(grid, sibling_community):
    """A top-tier picker has hundreds of units: one template include each was a third of the queue page."""
    from django import forms
    from django.test.signals import template_rendered

    from cases.widgets import UnitChoiceField
    from communities.models import Unit

    grid.name = 'Grid <3 & "friends"'
    grid.save(update_fields=["name"])

    class Picker(forms.Form):
        fast = UnitChoiceField(Unit.objects.order_by("path"))
        plain = UnitChoiceField(Unit.objects.order_by("path"), widget=forms.Select)

    form = Picker(initial={"fast": grid.pk, "plain": grid.pk})
    rendered = []
    template_rendered.connect(receiver := lambda sender, template, **kwargs: rendered.append(template.name))
    try:
        fast = str(form["fast"])
    finally:
        template_rendered.disconnect(receiver)
    plain = str(form["plain"])
    assert "select_option.html" not in rendered
    assert fast.replace("fast", "plain") == "".join(line.strip() for line in plain.splitlines())
    assert f'<option value="{grid.pk}" selected>' in fast and "Grid &lt;3 &amp; &quot;friends&quot;" in fast
