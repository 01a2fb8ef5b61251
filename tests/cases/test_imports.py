"""12345 dispatch-file import: encodings and formats, all-or-nothing, idempotence, scope, access."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from cases import imports
from cases.models import Case, TimelineEvent, Urgency
from communities.models import Role
from tests.cases.factories import CategoryFactory
from tests.factories import GridFactory, staff

pytestmark = pytest.mark.django_db
BEIJING = ZoneInfo("Asia/Shanghai")
URL = "/cases/import/"
HEADERS = [column.header for column in imports.COLUMNS]


@pytest.fixture
def lighting(db):
    return CategoryFactory(code="lighting", name="楼道照明")



@pytest.fixture
def logged_in(client, dispatcher):
    client.force_login(dispatcher)
    return client


def row(number: int, *, unit: str = "xc-3", **overrides) -> dict[str, str]:
    values = {
        "工单编号": f"2026103100{number:03d}",
        "受理时间": f"2026-10-{number % 28 + 1:02d} 09:30",
        "诉求类别": "楼道照明",
        "诉求类型": "投诉",
        "紧急程度": "一般",
        "标题": f"楼道灯不亮{number}",
        "诉求内容": f"41号楼{number}单元楼道灯坏了一周",
        "诉求地址": "星城二里41号楼",
        "所属街道/社区": unit,
        "来电人": "杨女士",
        "联系电话": "138-1234-5678",
        "首次联系时限": "",
        "办结时限": "",
    }
    values.update(overrides)
    return values


def csv_bytes(rows: list[dict], *, encoding: str = "utf-8-sig") -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=HEADERS)
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def upload(data: bytes, name: str = "dispatch.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def post(client, data: bytes, name: str = "dispatch.csv", **extra):
    return client.post(URL, {"file": upload(data, name), **extra})


def hotline_cases():
    return Case.objects.filter(source=Case.Source.HOTLINE).order_by("hotline_order_no")


# ---------------------------------------------------------------- good files


def test_utf8_csv_with_bom_imports_every_row_with_its_fields(logged_in, street, community, lighting, dispatcher):
    rows = [row(1, 首次联系时限="2026-10-02 11:30", 办结时限="2026-10-09"), row(2), row(3)]
    response = post(logged_in, csv_bytes(rows))

    assert response.status_code == 200
    cases = list(hotline_cases())
    assert len(cases) == 3
    first = cases[0]
    assert first.hotline_order_no == "2026103100001"
    assert first.received_at == datetime(2026, 10, 2, 9, 30, tzinfo=BEIJING)
    assert (first.category, first.kind, first.urgency) == (lighting, Case.Kind.COMPLAINT, Urgency.ORDINARY)
    assert (first.title, first.description, first.address) == ("楼道灯不亮1", "41号楼1单元楼道灯坏了一周", "星城二里41号楼")
    assert (first.location_unit, first.unit, first.status) == (community, street, Case.Status.SUBMITTED)
    assert (first.resident_name, first.resident_phone) == ("杨女士", "13812345678")
    assert first.contact_due_at == datetime(2026, 10, 2, 11, 30, tzinfo=BEIJING)
    assert first.resolve_due_at == datetime(2026, 10, 9, 23, 59, 59, tzinfo=BEIJING)
    event = TimelineEvent.objects.get(case=first, action="submitted")
    assert (event.actor, event.actor_label) == (dispatcher, "12345")
    assert "2026103100003" in response.content.decode()


def test_hotline_deadlines_win_over_category_deadlines(logged_in, community, lighting):
    post(logged_in, csv_bytes([row(1, 受理时间="2026-10-01 08:00", 首次联系时限="2026-10-01 10:00",
                                   办结时限="2026-10-03 18:00")]))
    case = hotline_cases().get()
    assert case.contact_due_at == datetime(2026, 10, 1, 10, 0, tzinfo=BEIJING)
    assert case.resolve_due_at == datetime(2026, 10, 3, 18, 0, tzinfo=BEIJING)


def test_empty_deadlines_come_from_the_category(logged_in, community, lighting):
    post(logged_in, csv_bytes([row(1, 受理时间="2026-10-01 08:00")]))
    case = hotline_cases().get()
    assert case.contact_due_at == datetime(2026, 10, 2, 8, 0, tzinfo=BEIJING)  # ordinary: 24 h
    assert case.resolve_due_at == datetime(2026, 10, 8, 8, 0, tzinfo=BEIJING)  # ordinary: 7 days


def test_utf8_csv_without_bom_imports(logged_in, community, lighting):
    post(logged_in, csv_bytes([row(1), row(2)], encoding="utf-8"))
    assert hotline_cases().count() == 2


def test_gbk_csv_as_saved_by_chinese_office_software_imports(logged_in, community, lighting):
    data = csv_bytes([row(1), row(2, 来电人="龘先生")], encoding="gb18030")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    post(logged_in, data)
    cases = list(hotline_cases())
    assert [c.title for c in cases] == ["楼道灯不亮1", "楼道灯不亮2"]
    assert cases[1].resident_name == "龘先生"
    assert cases[0].description == "41号楼1单元楼道灯坏了一周"


def xlsx_bytes(rows: list[list], *, headers=HEADERS, title_row: str | None = None) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    if title_row:
        sheet.append([title_row])
    sheet.append(headers)
    for values in rows:
        sheet.append(values)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_xlsx_with_date_and_number_cells_imports(logged_in, community, lighting):
    rows = [
        [2026103100001 + n, datetime(2026, 10, 5, 14, n), "lighting", "求助", "紧急", "", f"楼道灯坏了{n}",
         "", "星城第三社区", "杨女士", 13812345670 + n, datetime(2026, 10, 5, 16, 0), None]
        for n in range(3)
    ]
    post(logged_in, xlsx_bytes(rows, title_row="12345派单明细"), name="派单.xlsx")
    cases = list(hotline_cases())
    assert [c.hotline_order_no for c in cases] == ["2026103100001", "2026103100002", "2026103100003"]
    assert cases[1].received_at == datetime(2026, 10, 5, 14, 1, tzinfo=BEIJING)
    assert cases[1].resident_phone == "13812345671"
    assert (cases[1].urgency, cases[1].kind) == (Urgency.EMERGENCY, Case.Kind.HELP)
    assert cases[1].title == "楼道灯坏了1"  # no title: the start of the request text
    assert cases[1].location_unit == community
    assert cases[1].contact_due_at == datetime(2026, 10, 5, 16, 0, tzinfo=BEIJING)


def test_unit_given_as_street_and_community_names_is_found(logged_in, community, sibling_street, lighting):
    from tests.factories import CommunityFactory

    CommunityFactory(parent=sibling_street, name="星城第三社区", code="xy-3")  # same name, other street
    post(logged_in, csv_bytes([row(1, unit="星城街道/星城第三社区")]))
    assert hotline_cases().get().location_unit == community


# ---------------------------------------------------------------- all or nothing


def test_one_bad_row_imports_nothing_and_names_the_row_and_column(logged_in, community, lighting):
    rows = [row(1), row(2), row(3, 受理时间="十月三日上午"), row(4)]
    response = post(logged_in, csv_bytes(rows))

    assert hotline_cases().count() == 0
    result = response.context["result"]
    assert [(e.row, e.column) for e in result.errors] == [(4, "受理时间")]
    assert not result.committed
    html = response.content.decode()
    assert "十月三日上午" in html and "受理时间" in html


@pytest.mark.parametrize(
    ("overrides", "column"),
    [
        ({"工单编号": ""}, "工单编号"),
        ({"诉求内容": ""}, "诉求内容"),
        ({"诉求类别": "不存在的类别"}, "诉求类别"),
        ({"紧急程度": "非常急"}, "紧急程度"),
        ({"诉求类型": "表扬"}, "诉求类型"),
        ({"联系电话": "12345"}, "联系电话"),
        ({"联系电话": "打不通"}, "联系电话"),
        ({"所属街道/社区": "nowhere"}, "所属街道/社区"),
        ({"办结时限": "2026-09-01 10:00"}, "办结时限"),
        ({"受理时间": "2099-01-01 10:00"}, "受理时间"),
        ({"标题": "长" * 121}, "标题"),
    ],
)
def test_each_kind_of_bad_value_is_reported_by_row_and_column(dispatcher, community, lighting, overrides, column):
    result = imports.import_file(upload(csv_bytes([row(1), row(2, **overrides)])), user=dispatcher)
    assert [(e.row, e.column) for e in result.errors] == [(3, column)]
    assert hotline_cases().count() == 0


def test_a_failing_intake_rolls_back_the_rows_before_it(dispatcher, community, lighting, monkeypatch):
    from django.core.exceptions import ValidationError

    from cases import services

    real_intake = services.intake

    def intake(**fields):
        if fields["hotline_order_no"] == "2026103100003":
            raise ValidationError("refused")
        return real_intake(**fields)

    monkeypatch.setattr(services, "intake", intake)
    result = imports.import_file(upload(csv_bytes([row(1), row(2), row(3)])), user=dispatcher)
    assert [(e.row, e.message) for e in result.errors] == [(4, "refused")]
    assert hotline_cases().count() == 0 and not result.committed


def test_reimporting_the_same_file_creates_nothing(logged_in, community, lighting):
    data = csv_bytes([row(1), row(2), row(3)])
    post(logged_in, data)
    events = TimelineEvent.objects.count()

    response = post(logged_in, data)
    result = response.context["result"]
    assert (len(result.rows), len(result.skipped), result.errors) == (0, 3, [])
    assert hotline_cases().count() == 3 and TimelineEvent.objects.count() == events


def test_a_file_with_new_and_known_orders_imports_only_the_new(logged_in, community, lighting):
    post(logged_in, csv_bytes([row(1)]))
    response = post(logged_in, csv_bytes([row(1), row(2)]))
    result = response.context["result"]
    assert [r.order_no for r in result.skipped] == ["2026103100001"]
    assert [r.order_no for r in result.rows] == ["2026103100002"]
    assert hotline_cases().count() == 2


def test_duplicate_order_numbers_inside_the_file_are_refused(logged_in, community, lighting):
    rows = [row(1), row(2), row(3, 工单编号="2026103100001")]
    response = post(logged_in, csv_bytes(rows))
    errors = response.context["result"].errors
    assert [(e.row, e.column) for e in errors] == [(4, "工单编号")]
    assert "2" in errors[0].message  # names the row it repeats
    assert hotline_cases().count() == 0


def test_unit_outside_the_importers_subtree_is_refused(logged_in, community, sibling_street, lighting):
    from tests.factories import CommunityFactory

    CommunityFactory(parent=sibling_street, name="向阳第一社区", code="xy-1")
    response = post(logged_in, csv_bytes([row(1), row(2, unit="xy-1")]))
    assert [(e.row, e.column) for e in response.context["result"].errors] == [(3, "所属街道/社区")]
    assert hotline_cases().count() == 0


def test_community_dispatcher_cannot_import_for_the_sibling_community(
    client, community, sibling_community, lighting
):
    client.force_login(staff(community, Role.DISPATCHER))
    response = post(client, csv_bytes([row(1, unit="xc-7")]))
    assert response.context["result"].errors[0].column == "所属街道/社区"
    assert hotline_cases().count() == 0


def test_dry_run_previews_without_importing(logged_in, community, lighting):
    response = post(logged_in, csv_bytes([row(1), row(2)]), dry_run="on")
    result = response.context["result"]
    assert len(result.rows) == 2 and not result.committed
    assert hotline_cases().count() == 0
    assert "楼道灯不亮2" in response.content.decode()


# ---------------------------------------------------------------- the file as a whole


def test_missing_required_column_is_reported(logged_in, community, lighting):
    data = "工单编号,受理时间\n1,2026-10-01 09:00\n".encode()
    response = post(logged_in, data)
    assert "诉求类别" in str(response.context["form"].errors["file"])
    assert hotline_cases().count() == 0


def test_file_over_5_mb_is_refused(logged_in, community, lighting):
    data = csv_bytes([row(1)]) + b" " * (5 * 1024 * 1024)
    response = post(logged_in, data)
    assert response.context["form"].errors["file"]
    assert hotline_cases().count() == 0


def test_a_file_over_the_row_limit_is_refused_as_a_whole(dispatcher, community, lighting):
    data = csv_bytes([row(n) for n in range(4)])
    with pytest.raises(imports.ImportFileError, match="3"):
        imports.import_file(upload(data), user=dispatcher, max_rows=3)
    assert hotline_cases().count() == 0


def test_command_imports_a_file_and_is_idempotent(tmp_path, dispatcher, community, lighting, capsys):
    from django.core.management import call_command

    path = tmp_path / "dispatch.csv"
    path.write_bytes(csv_bytes([row(1), row(2)], encoding="gb18030"))
    call_command("import_hotline", str(path), "--user", dispatcher.username)
    call_command("import_hotline", str(path), "--user", dispatcher.username)
    assert "0 imported, 2 already" in capsys.readouterr().out
    assert hotline_cases().count() == 2


def test_command_refuses_a_bad_file_and_a_user_without_permission(tmp_path, dispatcher, community, lighting):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    path = tmp_path / "dispatch.csv"
    path.write_bytes(csv_bytes([row(1), row(2, 联系电话="12")]))
    with pytest.raises(CommandError, match="1 problems"):
        call_command("import_hotline", str(path), "--user", dispatcher.username)
    with pytest.raises(CommandError, match="not an active user allowed"):
        call_command("import_hotline", str(path), "--user", staff(community, Role.CASEWORKER).username)
    assert hotline_cases().count() == 0


def test_a_file_that_is_neither_text_nor_xlsx_is_refused(logged_in):
    response = post(logged_in, b"\x00\x81\xff\xfe\x00garbage\xff" * 10, name="x.csv")
    assert response.context["form"].errors["file"]


def test_validation_queries_do_not_grow_with_rows(dispatcher, community, lighting, django_assert_num_queries):
    for size in (5, 50):
        # Who is asking, read anew for each count (kept on the user, and shared by communities.identity).
        cache.clear()
        dispatcher = type(dispatcher).objects.get(pk=dispatcher.pk)
        rows = imports.read_table(upload(csv_bytes([row(n) for n in range(size)])))
        with django_assert_num_queries(4):  # categories, units, known orders, the user's posts
            result = imports.validate(rows, user=dispatcher)
        assert len(result.rows) == size


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-10-31 23:30", datetime(2026, 10, 31, 23, 30)),
        ("2026-10-31 23:30:15", datetime(2026, 10, 31, 23, 30, 15)),
        ("2026/10/31 9:05", datetime(2026, 10, 31, 9, 5)),
        ("2026年10月31日 09:05", datetime(2026, 10, 31, 9, 5)),
        ("2026-10-31T09:05", datetime(2026, 10, 31, 9, 5)),
        ("2026.10.31 09：05", datetime(2026, 10, 31, 9, 5)),
        ("20261031093000", datetime(2026, 10, 31, 9, 30)),
        ("2026-10-31", datetime(2026, 10, 31, 0, 0)),
    ],
)
def test_common_date_formats_are_read_as_beijing_time(text, expected):
    assert imports.parse_datetime(text) == expected.replace(tzinfo=BEIJING)


# ---------------------------------------------------------------- access and the template


def test_user_without_the_import_permission_gets_403(client, community):
    client.force_login(staff(community, Role.CASEWORKER))
    assert client.get(URL).status_code == 403
    assert client.post(URL, {"file": upload(b"x")}).status_code == 403
    assert client.get(reverse("cases:import_template", kwargs={"fmt": "csv"})).status_code == 403


def test_anonymous_is_sent_to_login(client):
    response = client.get(URL)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_upload_page_documents_every_column(logged_in):
    html = logged_in.get(URL).content.decode()
    assert all(header in html for header in HEADERS)
    assert 'enctype="multipart/form-data"' in html


def test_csv_template_has_the_headers_with_a_bom(logged_in):
    response = logged_in.get(reverse("cases:import_template", kwargs={"fmt": "csv"}))
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")
    assert response.content.decode("utf-8-sig").strip().split(",") == HEADERS


def test_xlsx_template_has_the_headers(logged_in):
    response = logged_in.get(reverse("cases:import_template", kwargs={"fmt": "xlsx"}))
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert [cell.value for cell in sheet[1]] == HEADERS


def test_a_filled_in_template_imports(logged_in, community, lighting):
    template = load_workbook(io.BytesIO(imports.template_xlsx()))
    template.active.append(list(row(7).values()))
    buffer = io.BytesIO()
    template.save(buffer)
    post(logged_in, buffer.getvalue(), name="template.xlsx")
    assert hotline_cases().get().hotline_order_no == "2026103100007"


def test_grid_code_is_accepted_as_the_place(logged_in, community, lighting):
    grid = GridFactory(parent=community, code="xc-3-g9")
    post(logged_in, csv_bytes([row(1, unit="xc-3-g9")]))
    assert hotline_cases().get().location_unit == grid
