"""The public Open311 feed: no free text unless a deployment opts in, then masked; ids not enumerable;
every unknown address answers the spec's error list."""

from __future__ import annotations

import pytest
from django.test import Client

from communities.models import Role
from governance.api.open311.present import MASK, public_text
from tests.api.test_open311 import json_of, not_found, xml
from tests.cases.factories import CategoryFactory, new_case, walk
from tests.factories import staff

pytestmark = pytest.mark.django_db
SECRET_TEXT = "邻居赵德华在楼道堆放杂物，我是3号楼2单元501室，电话138 1234 5678"


@pytest.fixture
def lighting(db):
    return CategoryFactory(code="zz-lighting", name="楼道照明", public_name="楼道灯不亮")


@pytest.fixture
def resolved(street, grid, building, lighting):
    case = new_case(place=grid, building=building, category=lighting, resident_name="杨秀英",
                    resident_phone="13812345678", description=SECRET_TEXT)
    case = walk(case, to="resolved", dispatcher=staff(street, Role.DISPATCHER), handler=staff(grid, Role.GRID_WORKER))
    type(case).objects.filter(pk=case.pk).update(result="已联系邻居赵德华清理，回电13812345678")
    return case


def test_by_default_the_feed_has_status_category_place_and_dates_only(resolved, building, grid, settings):
    assert settings.OPEN311_PUBLIC_DESCRIPTION is False  # the shipped default
    [row] = json_of(Client().get("/open311/v2/requests.json"))
    assert row["description"] is None
    assert row["status_notes"] == "已解决。"  # no handler's words
    assert (row["status"], row["service_code"], row["address"]) == ("closed", "zz-lighting", f"{building.name}, {grid.name}")
    assert row["requested_datetime"] and row["expected_datetime"]
    assert row["service_request_id"] == resolved.public_id != resolved.code
    # The public id is random hex, so it may hold "501" or "1234" by chance (it did once): not searched.
    shown = str({key: value for key, value in row.items() if key != "service_request_id"})
    for private in ("赵德华", "501", "1234", "杨秀英", resolved.code):
        assert private not in shown, private
    assert xml(Client().get("/open311/v2/requests.xml")).find("request/description").text is None


def test_a_deployment_that_opts_in_gets_the_text_masked(resolved, settings):
    settings.OPEN311_PUBLIC_DESCRIPTION = True
    [row] = json_of(Client().get(f"/open311/v2/requests/{resolved.public_id}.json"))
    assert row["description"] == f"邻居{MASK}在楼道堆放杂物，我是3号楼2单元{MASK}，电话{MASK}"
    assert row["status_notes"] == f"已解决：已联系邻居{MASK}清理，回电{MASK}"


def test_ids_are_random_not_sequential(street, grid, lighting):
    first, second = new_case(place=grid, category=lighting), new_case(place=grid, category=lighting)
    rows = json_of(Client().get("/open311/v2/requests.json"))
    ids = {row["service_request_id"] for row in rows}
    assert ids == {first.public_id, second.public_id}
    assert not ids & {first.pk, second.pk, str(first.pk), str(second.pk), first.code, second.code}
    assert all(len(i) == 16 and int(i, 16) >= 0 for i in ids)


@pytest.mark.parametrize("path", [
    "/open311/v2/requests/1.json", "/open311/v2/requests/abc.json", "/open311/v2/requests/-1.json",
    "/open311/v2/requests/0123456789abcdef.json", "/open311/v2/requests/%E5%BE%88.json",
])
def test_an_unknown_or_non_numeric_id_is_the_specs_404_in_json(path, resolved):
    response = Client().get(path)
    assert response.status_code == 404
    [error] = json_of(response)
    assert error["code"] == 404 and error["description"] == not_found("service_request_id", path.rsplit("/", 1)[1][:-5]
                                                                       .replace("%E5%BE%88", "很"))


def test_an_unknown_id_in_xml_and_an_unknown_method_are_error_lists():
    response = Client().get("/open311/v2/requests/abc.xml")
    assert response.status_code == 404
    root = xml(response)
    assert root.tag == "errors" and root.find("error/code").text == "404"
    elsewhere = Client().get("/open311/v2/no-such-method.xml")
    assert elsewhere.status_code == 404 and xml(elsewhere).tag == "errors"
    [error] = json_of(Client().get("/open311/v2/requests/abc"))  # no format: JSON, the first one
    assert error["code"] == 404


# What the masking catches when a deployment publishes the text: the forms found in the field.
MASKED = [
    ("电话13812345678", f"电话{MASK}"),
    ("电话138 1234 5678", f"电话{MASK}"),
    ("电话138.1234.5678", f"电话{MASK}"),
    ("电话138/1234/5678", f"电话{MASK}"),
    ("电话138_1234_5678", f"电话{MASK}"),
    ("电话138－1234－5678", f"电话{MASK}"),  # full-width dashes
    ("电话138—1234—5678", f"电话{MASK}"),  # em dashes
    ("电话１３８１２３４５６７８", f"电话{MASK}"),  # full-width digits
    ("电话幺三八一二三四五六七八", f"电话{MASK}"),  # read out in Chinese numerals
    ("电话一三八 一二三四 五六七八", f"电话{MASK}"),
    ("手机壹叁捌壹贰叁肆伍陆柒捌", f"手机{MASK}"),
    ("电话(010) 6123-4567", f"电话{MASK}"),
    ("身份证11010519491231002X", f"身份证{MASK}"),
    ("邮箱yang@example.org", f"邮箱{MASK}"),
    ("邻居赵德华天天占车位", f"邻居{MASK}天天占车位"),
    ("楼上的孙丽家漏水", f"楼上的{MASK}家漏水"),
    ("物业经理：钱卫东不处理", f"物业经理：{MASK}不处理"),
    ("王先生说过两天修", f"{MASK}说过两天修"),
    ("李建国师傅来看过", f"{MASK}来看过"),
    ("张某把车停在消防通道", f"{MASK}把车停在消防通道"),
    ("老杜说他不管", f"{MASK}说他不管"),
    ("我住501室", f"我住{MASK}"),
    ("3号楼2单元501楼道灯坏了", f"3号楼2单元{MASK}楼道灯坏了"),
    ("41-5-501门口", f"{MASK}门口"),
    ("1102房漏水", f"{MASK}漏水"),
]
KEPT = [
    "楼道灯坏了一周，晚上看不见台阶",
    "小区东门的路灯不亮",
    "3号楼2单元的楼道灯",
    "等了3天还没人来",
    "高层电梯停运",
    "王府井方向的公交站",
]


@pytest.mark.parametrize("text, shown", MASKED, ids=[t for t, _ in MASKED])
def test_the_masking_rule_catches(text, shown):
    assert public_text(text) == shown


@pytest.mark.parametrize("text", KEPT)
def test_the_masking_rule_keeps_ordinary_text(text):
    assert public_text(text) == text


def test_the_residents_own_name_is_masked_wherever_it_stands():
    assert public_text("杨秀英反映楼道灯坏了", names=("杨秀英",)) == f"{MASK}反映楼道灯坏了"
