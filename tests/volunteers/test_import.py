"""Roster import: every row checked first, one bad row imports nothing, errors name row and column."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from communities.models import Role
from tests import factories as f
from volunteers import imports
from volunteers.models import Membership, Volunteer

from .factories import SkillFactory, TeamFactory, VolunteerFactory

pytestmark = pytest.mark.django_db
HEADER = "姓名,手机号码,所属社区/网格,楼栋,所在队伍,技能,是否党员,入党时间,报到单位党组织,报到日期,服务时间,备注"


def csv_file(*lines: str, encoding: str = "utf-8-sig", header: str = HEADER) -> SimpleUploadedFile:
    return SimpleUploadedFile("名册.csv", "\n".join([header, *lines]).encode(encoding), content_type="text/csv")


@pytest.fixture
def setup(community, grid, building):
    SkillFactory(code="heating", name="修暖气水阀")
    SkillFactory(code="haircut", name="理发")
    team = TeamFactory(unit=community, name="老工友志愿者服务队")
    return team


def test_a_good_file_imports_every_row_with_skills_teams_and_party_details(en_client, community, grid, building, setup):
    en_client.force_login(f.staff(community, Role.DIRECTOR))
    upload = csv_file(
        "杜维臣,138 1234 5678,xc-3-g1,星城二里41号楼,老工友志愿者服务队,修暖气水阀、理发,是,1988-07-01,,,工作日上午,会修自行车",
        "王秀英,13912345678,星城第三社区,,,,否,,,,,",
        "李在职,13712345678,xc-3,,,,党员,2010/7/1,燕山石化炼油厂党委,2024-03-05,周末,",
    )

    response = en_client.post("/volunteers/import/", {"file": upload})

    assert response.status_code == 200 and response.context["result"].committed
    du = Volunteer.objects.get(phone="13812345678")
    assert (du.unit, du.building, du.party_member, du.source, du.status) == (grid, building, True, "import", "active")
    assert sorted(s.code for s in du.skills.all()) == ["haircut", "heating"]
    assert Membership.objects.filter(team=setup, volunteer=du).exists()
    li = Volunteer.objects.get(phone="13712345678")
    assert li.is_in_service_party_member and str(li.reported_on) == "2024-03-05"
    assert Volunteer.objects.count() == 3


def test_one_bad_row_imports_nothing_and_names_each_problem(en_client, community, setup):
    en_client.force_login(f.staff(community, Role.DIRECTOR))
    upload = csv_file(
        "杜维臣,13812345678,xc-3-g1,,,,是,,,,,",
        "王秀英,1234,xc-3,,,,,,,,,",
        ",13912345678,不存在的社区,,不存在的队伍,会飞,也许,,,,,",
    )

    response = en_client.post("/volunteers/import/", {"file": upload})

    result = response.context["result"]
    assert not result.committed and Volunteer.objects.count() == 0
    problems = {(e.row, e.column) for e in result.errors}
    assert (3, "手机号码") in problems
    assert {(4, "姓名"), (4, "所属社区/网格"), (4, "技能"), (4, "是否党员")} <= problems
    page = response.content.decode()
    assert "Nothing was imported" in page and "不存在的社区" in page


def test_a_unit_outside_the_importers_area_is_a_row_error(en_client, community, sibling_community, setup):
    en_client.force_login(f.staff(community, Role.DIRECTOR))

    response = en_client.post("/volunteers/import/", {"file": csv_file("杜维臣,13812345678,xc-7,,,,,,,,,")})

    assert [e.column for e in response.context["result"].errors] == ["所属社区/网格"]
    assert not Volunteer.objects.exists()


def test_the_same_file_twice_skips_numbers_already_on_a_roster(en_client, community, setup):
    en_client.force_login(f.staff(community, Role.DIRECTOR))
    lines = ("杜维臣,13812345678,xc-3,,,,,,,,,", "王秀英,13912345678,xc-3,,,,,,,,,")
    en_client.post("/volunteers/import/", {"file": csv_file(*lines)})

    response = en_client.post("/volunteers/import/", {"file": csv_file(*lines)})

    result = response.context["result"]
    assert result.committed and result.rows == [] and len(result.skipped) == 2
    assert Volunteer.objects.count() == 2
    assert "138****5678" in response.content.decode()


def test_a_number_twice_in_the_file_is_an_error(community, setup):
    director = f.staff(community, Role.DIRECTOR)
    upload = csv_file("杜维臣,13812345678,xc-3,,,,,,,,,", "老杜,138-1234-5678,xc-3,,,,,,,,,")

    result = imports.import_file(upload, user=director)

    assert [(e.row, e.column) for e in result.errors] == [(3, "手机号码")]


def test_a_row_the_service_refuses_rolls_back_the_rows_before_it(community, setup, monkeypatch):
    director = f.staff(community, Role.DIRECTOR)
    upload = csv_file("杜维臣,13812345678,xc-3,,,,,,,,,", "王秀英,13912345678,xc-3,,,,,,,,,")
    result = imports.validate(imports.read_table(upload), user=director)
    VolunteerFactory(phone="13912345678", unit=community)  # registered between the check and the import

    imports.commit(result, by=director)

    assert not result.committed and [e.row for e in result.errors] == [3]
    assert not Volunteer.objects.filter(phone="13812345678").exists()


def test_gbk_csv_and_xlsx_files_are_read(community, setup):
    director = f.staff(community, Role.DIRECTOR)
    assert imports.read_table(csv_file("杜维臣,13812345678,xc-3,,,,,,,,,", encoding="gbk"))[0].cells["name"] == "杜维臣"
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["志愿者名册"])
    sheet.append(["姓名", "手机", "社区"])  # aliases, a title line above, columns in any order
    sheet.append(["杜维臣", 13812345678, "xc-3"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    upload = SimpleUploadedFile("名册.xlsx", buffer.getvalue())

    result = imports.import_file(upload, user=director)

    assert result.committed and Volunteer.objects.get().phone == "13812345678"


def test_a_file_without_the_header_is_refused_whole(en_client, community, setup):
    en_client.force_login(f.staff(community, Role.DIRECTOR))

    response = en_client.post("/volunteers/import/", {"file": csv_file("a,b", header="foo,bar")})

    assert "No header row" in response.content.decode() and response.context["result"] is None


def test_only_roles_that_import_may_import(client, community):
    client.force_login(f.staff(community, Role.SUPERVISOR))
    assert client.get("/volunteers/import/").status_code == 403


def test_the_blank_templates_carry_the_headers(en_client, community):
    en_client.force_login(f.staff(community, Role.DIRECTOR))
    csv_body = en_client.get("/volunteers/import/template.csv").content.decode("utf-8-sig")
    assert csv_body.startswith(HEADER)
    xlsx = en_client.get("/volunteers/import/template.xlsx")
    assert xlsx["Content-Type"].startswith("application/vnd.openxmlformats")


def test_the_command_imports_a_big_file_as_the_page_does(tmp_path, community, setup):
    from io import StringIO

    from django.core.management import CommandError, call_command

    director = f.staff(community, Role.DIRECTOR)
    good = tmp_path / "roster.csv"
    good.write_text("\n".join([HEADER] + [f"志愿者{i},1370000{i:04d},xc-3,,,,,,,,," for i in range(300)]), encoding="utf-8")
    out = StringIO()

    call_command("import_volunteers", str(good), user=director.username, stdout=out)

    assert Volunteer.objects.count() == 300 and "300" in out.getvalue()
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join([HEADER, "甲,13612345678,xc-3,,,,,,,,,", "乙,bad,xc-3,,,,,,,,,"]), encoding="utf-8")
    with pytest.raises(CommandError):
        call_command("import_volunteers", str(bad), user=director.username, stdout=StringIO(), stderr=StringIO())
    assert not Volunteer.objects.filter(phone="13612345678").exists()
