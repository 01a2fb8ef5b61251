"""Onboarding an area from one workbook: all or nothing, idempotent by code, scoped, round trip."""

from __future__ import annotations

import io
import re
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation
from openpyxl import Workbook, load_workbook

from communities.models import Building, Department, Household, PartnerOrganisation, Post, Role, SecurityEvent, Stairwell, Unit
from communities.tabular import open_workbook
from governance.models import CareNeed
from governance.onboarding import services, workbook
from governance.onboarding.workbook import COLUMNS
from tests import factories as f

pytestmark = pytest.mark.django_db
User = get_user_model()

UNITS = [
    ["ls", "莲湖工委", "工委", ""],
    ["ls-1", "莲湖第一街道", "街道", "ls"],
    ["ls-2", "莲湖第二街道", "街道", "ls"],
    ["ls-1-c1", "第一社区", "社区", "ls-1"],
    ["ls-1-c1-g1", "第一网格", "网格", "ls-1-c1"],
    ["ls-1-c1-g2", "第二网格", "网格", "ls-1-c1"],
    ["ls-2-c1", "第二街道第一社区", "社区", "ls-2"],
    ["ls-2-c1-g1", "第二街道第一网格", "网格", "ls-2-c1"],
]
BUILDINGS = [
    ["ls-b1", "莲湖一里1号楼", "ls-1-c1-g1", "莲湖一里1号"],
    ["ls-b2", "莲湖一里2号楼", "ls-1-c1-g2", ""],
    ["ls-b3", "莲湖二里1号楼", "ls-2-c1-g1", ""],
]
STAIRWELLS = [["ls-b1", 1], ["ls-b1", 2], ["ls-b2", 1], ["ls-b3", 1]]
HOUSEHOLDS = [
    ["ls-b1", 1, "101", "杨大爷", "13811118601", 76.5, 1, "独居老人"],
    ["ls-b1", 1, "502", "刘奶奶", "010-69341234", "88.20", 2, "空巢老人、残疾"],
    ["ls-b1", 2, "201", "", "", 60, "", ""],
    ["ls-b3", 1, "301", "陈师傅", "13911112222", 90, 3, ""],
]
DEPARTMENTS = [["莲湖区住建委", "ls"], ["莲湖派出所", "ls"]]
PARTNERS = [["莲湖物业", "物业", "ls-1-c1"], ["一里业委会", "业委会", "ls-1-c1"]]
POSTS = [
    ["ls-wang", "王芳", "13900001111", "ls-1-c1", "社工"],
    ["ls-li", "李强", "", "ls-1-c1-g1", "网格员"],
    ["ls-zhao", "赵敏", "13900002222", "ls-1", "管理员"],
    ["ls-sun", "孙磊", "", "ls-1-c1", "副主任"],
]
FULL = {"单位": UNITS, "楼栋": BUILDINGS, "单元": STAIRWELLS, "住户": HOUSEHOLDS, "部门": DEPARTMENTS,
        "共建单位": PARTNERS, "岗位": POSTS}


def book(sheets: dict[str, list[list]], *, path=None):
    """An .xlsx with the given sheets (header row added), as a file object or written to ``path``."""
    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        sheet = wb.create_sheet(name)
        sheet.append([column.header for column in COLUMNS[name]])
        for row in rows:
            sheet.append(row)
    target = path or io.BytesIO()
    wb.save(target)
    if path is None:
        target.seek(0)
    return target


@pytest.fixture
def superuser(db):
    return User.objects.create_superuser("root", password="x")


def snapshot() -> dict:
    return {
        "units": sorted(Unit.objects.values_list("code", "name", "parent__code", "path")),
        "buildings": sorted(Building.objects.values_list("code", "name", "unit__code", "address")),
        "stairwells": sorted(Stairwell.objects.values_list("building__code", "number")),
        "households": sorted(Household.objects.values_list("stairwell_id", "room", "head_name", "phone", "area", "residents")),
        "needs": sorted(CareNeed.objects.values_list("household_id", "kind")),
        "departments": sorted(Department.objects.values_list("name", "unit__code")),
        "partners": sorted(PartnerOrganisation.objects.values_list("name", "kind", "unit__code")),
        "posts": sorted(Post.objects.values_list("user__username", "user__first_name", "unit__code", "role", "phone", "active")),
        "users": sorted(User.objects.values_list("username", "password")),
    }


def run(sheets, **kwargs) -> services.AreaReport:
    return services.import_area(book(sheets), **kwargs)


# ---------------------------------------------------------------- a whole area


def test_the_command_loads_the_whole_area_and_prints_one_time_links(superuser, tmp_path, client):
    path = tmp_path / "area.xlsx"
    book(FULL, path=path)
    out = io.StringIO()

    call_command("import_area", str(path), stdout=out, stderr=io.StringIO())

    grid = Unit.objects.get(code="ls-1-c1-g1")
    assert grid.parent.code == "ls-1-c1" and grid.path.startswith(Unit.objects.get(code="ls").path)
    assert Unit.objects.filter(code__startswith="ls").count() == 8
    assert Building.objects.get(code="ls-b1").unit == grid
    assert Stairwell.objects.filter(building__code="ls-b1").count() == 2
    liu = Household.objects.get(stairwell__building__code="ls-b1", room="502")
    assert (liu.head_name, liu.phone, liu.area, liu.residents, liu.floor) == ("刘奶奶", "01069341234", Decimal("88.20"), 2, 5)
    assert sorted(CareNeed.objects.filter(household=liu).values_list("kind", flat=True)) == ["disability", "empty_nest"]
    need = CareNeed.objects.get(household__room="101")
    assert (need.kind, need.unit, need.unit_path, need.person_name) == ("elderly_alone", grid, grid.path, "杨大爷")
    assert Department.objects.get(name="莲湖区住建委").kind == Department.Kind.HOUSING
    assert PartnerOrganisation.objects.get(name="一里业委会").kind == PartnerOrganisation.Kind.OWNERS_COMMITTEE
    wang = User.objects.get(username="ls-wang")
    assert wang.first_name == "王芳" and not wang.has_usable_password()
    assert list(wang.groups.values_list("name", flat=True)) == [Role.CASEWORKER]
    assert Post.objects.get(user__username="ls-sun").portfolio == "general"
    assert User.objects.get(username="ls-zhao").is_staff  # administrators reach the admin
    assert Post.objects.get(user=wang).phone == "13900001111"

    links = dict(re.findall(r"new account (\S+) .*? at (\S+)", out.getvalue()))
    assert sorted(links) == ["ls-li", "ls-sun", "ls-wang", "ls-zhao"]
    form = client.get(links["ls-wang"], follow=True)
    assert form.context["validlink"]
    client.post(form.redirect_chain[-1][0], {"new_password1": "Lianhu-2026-pass", "new_password2": "Lianhu-2026-pass"})
    assert User.objects.get(username="ls-wang").check_password("Lianhu-2026-pass")
    again = client.get(links["ls-wang"], follow=True)
    assert not again.context["validlink"]  # one time only


def test_importing_the_same_file_again_changes_nothing(superuser):
    first = run(FULL)
    before = snapshot()

    second = run(FULL)

    assert first.committed and second.committed and not second.accounts
    assert all(counts.created == counts.updated == 0 for counts in second.counts.values())
    assert second.counts["住户"].unchanged == 4
    assert snapshot() == before


def test_a_dry_run_reports_what_would_change_and_writes_nothing(superuser, tmp_path):
    before = snapshot()
    path = tmp_path / "area.xlsx"
    book(FULL, path=path)
    out = io.StringIO()

    call_command("import_area", str(path), "--dry-run", stdout=out, stderr=io.StringIO())

    assert snapshot() == before
    assert "住户: 4 rows, 4 new" in out.getvalue() and "new account" not in out.getvalue()
    assert not User.objects.filter(username="ls-wang").exists()


def test_a_changed_name_or_parent_updates_in_place_and_the_subtree_moves_along(superuser):
    run(FULL)
    community = Unit.objects.get(code="ls-1-c1")
    need = CareNeed.objects.get(household__room="101")
    units = [row[:] for row in UNITS]
    units[3] = ["ls-1-c1", "第一社区（新）", "社区", "ls-2"]

    report = run({"单位": units})

    assert report.committed and report.counts["单位"].updated == 1 and report.counts["单位"].unchanged == 7
    community.refresh_from_db()
    street2 = Unit.objects.get(code="ls-2")
    assert community.name == "第一社区（新）" and community.parent == street2 and community.pk == Unit.objects.get(code="ls-1-c1").pk
    grid = Unit.objects.get(code="ls-1-c1-g1")
    assert grid.path.startswith(street2.path)  # the grid came along
    need.refresh_from_db()
    assert need.unit_path == grid.path  # and so did what follows the grid's path


def test_a_file_with_only_households_updates_households(superuser):
    run(FULL)

    report = run({"住户": [["ls-b1", 1, "101", "杨大爷", "13811118601", 80, 1, "独居老人"]]})

    assert report.committed and report.counts["住户"].updated == 1 and list(report.counts) == ["住户"]
    assert Household.objects.get(room="101").area == Decimal("80.00")


# ---------------------------------------------------------------- all or nothing, every error listed


ERRORS = [
    ("单位", ["ls-x", "某社区", "社区", "nowhere"], "上级编码", "No unit with this code in the workbook or the portal."),
    ("单位", ["ls-x", "网格下的网格", "网格", "ls-1-c1-g1"], "上级编码", "Nothing can be placed under a grid."),
    ("单位", ["ls-1", "重复街道", "街道", "ls"], "编码", "The same code is already on row 3."),
    ("单位", ["ls-x", "某处", "小区", "ls"], "层级", "Unknown value; use one of: 工委、街道、社区、网格"),
    ("楼栋", ["ls-b9", "某楼", "nowhere", ""], "所属网格编码", "No unit with this code in the workbook or the portal."),
    ("单元", ["ls-b9", 1], "楼栋编码", "No building with this code in the workbook or the portal."),
    ("住户", ["ls-b1", 1, "601", "某人", "12345", 70, 1, ""], "联系电话",
     "Not a phone number: 11 digits for a mobile, or a landline with its area code."),
    ("住户", ["ls-b1", 1, "602", "某人", "", "七十", 1, ""], "建筑面积", "Not a number: write the floor area in m², e.g. 76.5."),
    ("住户", ["ls-b1", 9, "603", "某人", "", 70, 1, ""], "单元", "No such unit in this building: list it on the 单元 sheet."),
    ("住户", ["ls-b1", 1, "604", "某人", "", 70, 1, "有钱"], "标签", "Unknown tag “有钱”; use one of: 独居老人、空巢老人、残疾、重病、困难、其他"),
    ("岗位", ["ls-q", "某人", "", "ls-1-c1", "队长"], "岗位",
     "Unknown value; use one of: 书记、主任、副主任、派单员、社工、网格员、督查、管理员"),
    ("岗位", ["ls-q", "某人", "", "ls-1-c1", "网格员"], "岗位", "This role does not exist at the level of 第一社区."),
    ("岗位", ["ls-q", "某人", "12345", "ls-1-c1", "社工"], "手机", "Not a mainland mobile number (11 digits starting with 1)."),
]


@pytest.mark.parametrize("sheet, row, column, message", ERRORS, ids=[f"{e[0]}-{e[2]}-{i}" for i, e in enumerate(ERRORS)])
def test_one_bad_row_imports_nothing_and_is_named_by_sheet_row_and_column(superuser, sheet, row, column, message):
    before = snapshot()
    sheets = {name: [list(r) for r in rows] for name, rows in FULL.items()}
    sheets[sheet].append(row)

    with translation.override("en"):
        report = run(sheets)

    assert not report.committed and report.error_count == 1
    error = report.errors[0]
    assert (error.sheet, error.row, error.column, error.message) == (sheet, len(sheets[sheet]) + 1, column, message)
    assert snapshot() == before


def test_every_error_is_listed_in_chinese_and_masked(superuser):
    sheets = {
        "单位": UNITS + [["ls-x", "网格下的网格", "网格", "ls-1-c1-g1"]],
        "住户": [["ls-b1", 1, "601", "某人", "1381111860", "七十", 1, ""]],
    }

    with translation.override("zh-hans"):
        report = run(sheets)

    assert report.error_count == 3
    assert [(e.sheet, e.row, e.column) for e in report.errors] == [
        ("单位", 10, "上级编码"), ("住户", 2, "联系电话"), ("住户", 2, "建筑面积"),
    ]
    assert report.errors[0].message == "网格下不能再设下级。"
    assert "*" in report.errors[1].value and "1381111860" not in report.errors[1].value
    assert not Unit.objects.exists()


def test_the_command_lists_errors_and_fails(superuser, tmp_path):
    path = tmp_path / "bad.xlsx"
    book({"单位": [["ls", "莲湖工委", "工委", ""], ["ls-1", "街道", "街道", "nope"]]}, path=path)
    err = io.StringIO()

    with pytest.raises(CommandError, match="Nothing imported: 1 problems"):
        call_command("import_area", str(path), stdout=io.StringIO(), stderr=err)

    assert "单位 row 3 上级编码" in err.getvalue()
    assert not Unit.objects.exists()


def test_a_workbook_without_any_known_sheet_is_refused(superuser):
    wb = Workbook()
    wb.active.title = "Sheet1"
    buffer = io.BytesIO()
    wb.save(buffer)
    buffer.seek(0)

    with translation.override("en"), pytest.raises(services.ImportFileError, match="none of the sheets"):
        services.import_area(buffer)


# ---------------------------------------------------------------- scoping


def test_an_administrator_imports_only_inside_their_subtree(superuser):
    run(FULL)
    admin = f.staff(Unit.objects.get(code="ls-1"), Role.ADMINISTRATOR)
    before = snapshot()

    with translation.override("en"):
        report = run({
            "单位": [["ls-2-c1", "改名", "社区", "ls-2"], ["ls-1-c9", "新社区", "社区", "ls-1"]],
            "楼栋": [["ls-b3", "改名楼", "ls-2-c1-g1", ""]],
            "住户": [["ls-b3", 1, "301", "陈师傅", "13911112222", 95, 3, ""]],
            "岗位": [["ls-new", "新人", "", "ls-2-c1", "社工"]],
        }, user=admin)

    assert not report.committed
    assert {(e.sheet, e.column) for e in report.errors} == {
        ("单位", "编码"), ("楼栋", "所属网格编码"), ("住户", "楼栋编码"), ("岗位", "单位编码"),
    }
    assert snapshot() == before

    inside = run({"单位": [["ls-1-c9", "新社区", "社区", "ls-1"]]}, user=admin)
    assert inside.committed and Unit.objects.get(code="ls-1-c9").parent.code == "ls-1"


def test_an_administrator_cannot_take_over_an_account_of_another_area(superuser):
    run(FULL)
    outsider = f.staff(Unit.objects.get(code="ls-2-c1"), Role.CASEWORKER)
    admin = f.staff(Unit.objects.get(code="ls-1"), Role.ADMINISTRATOR)

    with translation.override("en"):
        report = run({"岗位": [[outsider.username, "冒名", "", "ls-1-c1", "社工"]]}, user=admin)

    assert [e.message for e in report.errors] == ["This account belongs to someone outside your area."]
    assert not Post.objects.filter(user=outsider, unit__code="ls-1-c1").exists()


# ---------------------------------------------------------------- export, round trip, masking


def test_export_then_import_changes_nothing(superuser):
    run(FULL)
    hand_typed = Building.objects.create(unit=Unit.objects.get(code="ls-1-c1-g2"), name="手工录入楼")
    f.StairwellFactory(building=hand_typed, number=1)
    admin = f.staff(Unit.objects.get(code="ls-1"), Role.ADMINISTRATOR)
    before = snapshot()
    buffer = io.BytesIO()

    workbook.export_xlsx(buffer, unit=Unit.objects.get(code="ls-1"), user=admin)
    buffer.seek(0)
    report = services.import_area(buffer, user=admin)

    assert report.committed, report.errors
    assert all(counts.created == counts.updated == 0 for counts in report.counts.values())
    assert report.counts["住户"].unchanged == 3 and report.counts["单位"].unchanged == 4
    assert snapshot() == before


def test_an_export_masks_phones_unless_the_administrator_reveals_them_and_that_is_logged(superuser):
    run(FULL)
    street = Unit.objects.get(code="ls-1")
    admin = f.staff(street, Role.ADMINISTRATOR)
    supervisor = f.staff(street, Role.SUPERVISOR)

    def households(user, reveal):
        buffer = io.BytesIO()
        workbook.export_xlsx(buffer, unit=street, user=user, reveal=reveal)
        buffer.seek(0)
        rows = list(load_workbook(buffer, read_only=True)["住户"].iter_rows(values_only=True))
        return {row[2]: row[4] for row in rows[1:]}

    assert households(admin, False)["101"] == "138****8601"
    assert households(supervisor, True)["101"] == "138****8601"  # may not reveal: still masked
    assert not SecurityEvent.objects.filter(kind="pii_revealed").exists()
    assert households(admin, True)["101"] == "13811118601"
    event = SecurityEvent.objects.get(kind="pii_revealed")
    assert event.user == admin and event.detail["unit"] == "ls-1"


def test_the_template_has_every_sheet_and_a_sheet_of_instructions(tmp_path):
    path = tmp_path / "template.xlsx"

    call_command("import_area", "--template", str(path), stdout=io.StringIO())

    book_ = open_workbook(str(path))
    assert book_.sheetnames == ["说明", "单位", "楼栋", "单元", "住户", "部门", "共建单位", "岗位"]
    header = next(book_.rows("住户"))[1]
    assert header == ["楼栋编码", "单元", "房号", "户主姓名", "联系电话", "建筑面积", "人数", "标签"]


# ---------------------------------------------------------------- the admin pages


def test_the_admin_previews_masked_then_imports_and_shows_the_links_once(client, superuser):
    run({"单位": UNITS})
    admin = f.staff(Unit.objects.get(code="ls-1"), Role.ADMINISTRATOR)
    client.force_login(admin)
    upload = book({
        "楼栋": BUILDINGS[:2], "单元": STAIRWELLS[:3], "住户": HOUSEHOLDS[:3], "岗位": POSTS[:2],
    })
    upload.name = "area.xlsx"

    preview = client.post("/admin/area/import/", {"file": upload})

    assert preview.status_code == 200 and preview.context["report"].ok
    page = preview.content.decode()
    assert "138****8601" in page and "13811118601" not in page
    assert not Household.objects.exists()

    done = client.post("/admin/area/import/", {"confirm": "1"})

    report = done.context["report"]
    assert report.committed and Household.objects.count() == 3
    assert [a.username for a in report.accounts] == ["ls-wang", "ls-li"]
    assert report.accounts[0].link.startswith("http://testserver/accounts/set-password/")
    assert report.accounts[0].link in done.content.decode()
    again = client.post("/admin/area/import/", {"confirm": "1"})
    assert again.context["report"] is None  # the file and its links are gone


def test_the_admin_page_refuses_rows_outside_the_subtree(client, superuser):
    run(FULL)
    admin = f.staff(Unit.objects.get(code="ls-1"), Role.ADMINISTRATOR)
    client.force_login(admin)
    upload = book({"楼栋": [["ls-b3", "改名楼", "ls-2-c1-g1", ""]]})
    upload.name = "area.xlsx"

    response = client.post("/admin/area/import/", {"file": upload})

    assert response.context["report"].error_count == 1
    assert Building.objects.get(code="ls-b3").name == "莲湖二里1号楼"


def test_only_administrators_reach_the_import_and_export_pages(client, superuser):
    run({"单位": UNITS})
    supervisor = f.staff(Unit.objects.get(code="ls-1"), Role.SUPERVISOR)
    supervisor.is_staff = True
    supervisor.save()
    client.force_login(supervisor)

    assert client.get("/admin/area/import/").status_code == 403
    assert client.get("/admin/area/export/", {"unit": Unit.objects.get(code="ls-1").pk}).status_code == 403


def test_the_admin_export_is_404_for_a_unit_outside_the_subtree(client, superuser):
    run(FULL)
    admin = f.staff(Unit.objects.get(code="ls-1"), Role.ADMINISTRATOR)
    client.force_login(admin)

    outside = client.get("/admin/area/export/", {"unit": Unit.objects.get(code="ls-2").pk})
    inside = client.get("/admin/area/export/", {"unit": Unit.objects.get(code="ls-1").pk})

    assert outside.status_code == 404
    assert inside["Content-Disposition"].startswith('attachment; filename="area-ls-1.xlsx"')
    rows = list(load_workbook(io.BytesIO(b"".join(inside.streaming_content)), read_only=True)["单位"].iter_rows(values_only=True))
    assert [row[0] for row in rows[1:]] == ["ls-1", "ls-1-c1", "ls-1-c1-g1", "ls-1-c1-g2"]
