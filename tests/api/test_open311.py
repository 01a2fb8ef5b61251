"""Open311 GeoReport v2 (/open311/v2/): the spec's field names, XML and JSON shapes, errors."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode
from xml.etree import ElementTree as ET

import pytest
from django.test import Client
from django.utils import timezone, translation
from rest_framework.authtoken.models import Token

from cases.models import Case, TimelineEvent
from communities.models import Role
from governance.api.open311.views import BAD_KEY
from tests.cases.factories import CaseFactory, CategoryFactory, new_case, walk
from tests.factories import UserFactory, staff

pytestmark = pytest.mark.django_db
S = Case.Status

SERVICE_FIELDS = ["service_code", "service_name", "description", "metadata", "type", "keywords", "group"]
REQUEST_FIELDS = [
    "service_request_id", "status", "status_notes", "service_name", "service_code", "description",
    "agency_responsible", "service_notice", "requested_datetime", "updated_datetime", "expected_datetime",
    "address", "address_id", "zipcode", "lat", "long", "media_url",
]
ATTRIBUTE_FIELDS = ["variable", "code", "datatype", "required", "datatype_description", "order", "description", "values"]


def zh(message) -> str:
    """What the facade answers (in the portal's default language, Chinese)."""
    with translation.override("zh-hans"):
        return translation.gettext(message) if isinstance(message, str) else str(message)


def not_found(what: str, value) -> str:
    return zh("%(what)s %(value)s was not found.") % {"what": what, "value": value}


def xml(response) -> ET.Element:
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    return ET.fromstring(response.content)


def json_of(response):
    assert response["Content-Type"] == "application/json; charset=utf-8"
    return response.json()


def post(path: str, data: dict):
    return Client().post(path, urlencode(data), content_type="application/x-www-form-urlencoded; charset=utf-8")


@pytest.fixture
def api_key(street):
    """The 12345 platform's or a mini-program's system account: a dispatcher post, a token."""
    return Token.objects.create(user=staff(street, Role.DISPATCHER)).key


@pytest.fixture
def lighting(db):
    parent = CategoryFactory(code="zz-housing", public_name="房屋问题")
    return CategoryFactory(code="zz-lighting", name="楼道照明", public_name="楼道灯不亮", parent=parent)


# --- services ------------------------------------------------------------------------------


def test_service_list_json_has_the_specs_fields(lighting):
    services = json_of(Client().get("/open311/v2/services.json"))
    row = next(s for s in services if s["service_code"] == "zz-lighting")
    assert list(row) == SERVICE_FIELDS
    assert row == {
        "service_code": "zz-lighting", "service_name": "楼道灯不亮", "description": "楼道照明",
        "metadata": False, "type": "realtime", "keywords": "楼道照明, 楼道灯不亮", "group": "房屋问题",
    }
    assert "zz-housing" not in [s["service_code"] for s in services]  # a group, not a service


def test_service_list_xml_shape(lighting):
    root = xml(Client().get("/open311/v2/services.xml"))
    assert root.tag == "services" and {child.tag for child in root} == {"service"}
    service = next(s for s in root if s.findtext("service_code") == "zz-lighting")
    assert [child.tag for child in service] == SERVICE_FIELDS
    assert (service.findtext("metadata"), service.findtext("type")) == ("false", "realtime")


def test_an_inactive_category_is_not_a_service(lighting):
    lighting.active = False
    lighting.save()
    assert "zz-lighting" not in [s["service_code"] for s in Client().get("/open311/v2/services.json").json()]
    assert Client().get("/open311/v2/services/zz-lighting.json").status_code == 404


def test_service_definition_json_and_xml(lighting):
    definition = json_of(Client().get("/open311/v2/services/zz-lighting.json"))
    assert list(definition) == ["service_code", "attributes"]
    attribute = definition["attributes"][0]
    assert list(attribute) == ATTRIBUTE_FIELDS
    assert (attribute["code"], attribute["datatype"], attribute["required"]) == ("kind", "singlevaluelist", False)
    assert {value["key"] for value in attribute["values"]} == set(Case.Kind.values)

    root = xml(Client().get("/open311/v2/services/zz-lighting.xml"))
    assert root.tag == "service_definition" and root.findtext("service_code") == "zz-lighting"
    values = root.findall("./attributes/attribute/values/value")
    assert [v.findtext("key") for v in values] == list(Case.Kind.values)


def test_an_unknown_service_is_404_in_the_error_format():
    assert json_of(Client().get("/open311/v2/services/nope.json")) == [
        {"code": 404, "description": not_found("service_code", "nope")}
    ]
    root = xml(Client().get("/open311/v2/services/nope.xml"))
    assert root.tag == "errors"
    assert [(e.findtext("code"), e.findtext("description")) for e in root] == [("404", not_found("service_code", "nope"))]


def test_an_unknown_jurisdiction_is_404_and_a_known_one_is_accepted(area, lighting):
    assert Client().get("/open311/v2/services.json?jurisdiction_id=nowhere").status_code == 404
    assert Client().get(f"/open311/v2/services.json?jurisdiction_id={area.code}").status_code == 200


# --- POST a request ------------------------------------------------------------------------


def spec_example(api_key: str, place, **extra) -> dict:
    """The spec's example request, with this jurisdiction's address_id (a unit code)."""
    return {
        "api_key": api_key, "service_code": "zz-lighting", "lat": "39.7", "long": "115.9",
        "address_id": place.code, "address_string": "星城二里41号楼5单元", "email": "yang@example.org",
        "device_id": "tt222111", "account_id": "123456", "first_name": "阿姨", "last_name": "杨",
        "phone": "13812345678", "description": "楼道灯坏了一周\n晚上看不见台阶",
        "media_url": "http://example.org/a.jpg", "attribute[kind]": "complaint", **extra,
    }


def test_post_creates_a_case_through_intake(api_key, lighting, grid, street):
    response = post("/open311/v2/requests.json", spec_example(api_key, grid))

    assert response.status_code == 201
    body = json_of(response)
    assert len(body) == 1 and list(body[0]) == ["service_request_id", "service_notice", "account_id"]
    case = Case.objects.get(public_id=body[0]["service_request_id"])
    assert body[0]["account_id"] == "123456" and case.code in body[0]["service_notice"]
    assert (case.source, case.kind, case.category, case.location_unit, case.unit) == ("api", "complaint", lighting, grid, street)
    assert (case.title, case.resident_name, case.resident_phone) == ("楼道灯坏了一周", "杨阿姨", "13812345678")
    assert case.address == "星城二里41号楼5单元" and case.consent_at is not None
    assert TimelineEvent.objects.get(case=case).action == "submitted"


def test_post_answers_in_xml(api_key, lighting, grid):
    root = xml(post("/open311/v2/requests.xml", spec_example(api_key, grid, account_id="")))
    assert root.tag == "service_requests"
    request = root.find("request")
    assert [child.tag for child in request] == ["service_request_id", "service_notice", "account_id"]
    assert request.find("account_id").text is None  # <account_id/>


@pytest.mark.parametrize("key", ["", "wrong"])
def test_post_without_a_valid_api_key_is_403(lighting, grid, key):
    response = post("/open311/v2/requests.json", spec_example(key, grid))
    assert response.status_code == 403
    assert response.json() == [{"code": 403, "description": zh(BAD_KEY)}]
    assert Case.objects.count() == 0


def test_the_key_of_an_account_that_may_not_register_requests_is_refused(community, lighting, grid):
    key = Token.objects.create(user=staff(community, Role.SUPERVISOR)).key
    assert post("/open311/v2/requests.json", spec_example(key, grid)).status_code == 403
    inactive = UserFactory(is_active=False)
    assert post("/open311/v2/requests.json", spec_example(Token.objects.create(user=inactive).key, grid)).status_code == 403


def test_post_without_or_with_an_unknown_service_code(api_key, lighting, grid):
    missing = post("/open311/v2/requests.json", spec_example(api_key, grid, service_code=""))
    assert missing.status_code == 400 and missing.json()[0]["code"] == 400
    assert post("/open311/v2/requests.json", spec_example(api_key, grid, service_code="zz-housing")).status_code == 404


def test_post_is_checked_like_the_web_form_and_lists_every_error(api_key, lighting, grid):
    data = spec_example(api_key, grid, description="坏了", phone="12345", **{"attribute[kind]": "rant"})
    response = post("/open311/v2/requests.json", data)
    assert response.status_code == 400
    descriptions = [error["description"] for error in response.json()]
    assert {error["code"] for error in response.json()} == {400}
    assert [d.split(":")[0] for d in descriptions] == ["description", "phone", "kind"]
    assert Case.objects.count() == 0


def test_post_needs_an_address_id_in_the_users_tree(api_key, lighting, grid, sibling_street):
    data = spec_example(api_key, grid)
    del data["address_id"]
    assert post("/open311/v2/requests.json", data).status_code == 400
    outside = post("/open311/v2/requests.json", spec_example(api_key, sibling_street))
    assert outside.status_code == 400 and outside.json()[0]["description"].startswith("address_id:")


def test_post_refuses_json_bodies_with_the_error_format(api_key, lighting, grid):
    response = Client().post("/open311/v2/requests.json", spec_example(api_key, grid), content_type="application/json")
    assert response.status_code == 400 and response.json()[0]["code"] == 400


# --- GET requests --------------------------------------------------------------------------


@pytest.fixture
def handled(street, grid, building, lighting):
    dispatcher, worker = staff(street, Role.DISPATCHER), staff(grid, Role.GRID_WORKER)
    case = new_case(
        place=grid, building=building, category=lighting, resident_name="杨秀英", resident_phone="13812345678",
        address="41号楼5单元501", description="杨秀英反映楼道灯坏了，电话138 1234 5678，邮箱yang@example.org",
    )
    return walk(case, to="resolved", dispatcher=dispatcher, handler=worker)


def test_requests_json_has_the_specs_fields_and_no_personal_data(handled, grid, building, settings):
    settings.OPEN311_PUBLIC_DESCRIPTION = True
    rows = json_of(Client().get("/open311/v2/requests.json"))
    assert len(rows) == 1 and list(rows[0]) == REQUEST_FIELDS
    row = rows[0]
    assert (row["service_request_id"], row["status"], row["service_code"]) == (handled.public_id, "closed", "zz-lighting")
    assert row["status_notes"] == zh("Resolved: %(result)s") % {"result": "已更换灯泡"}
    assert row["expected_datetime"] == timezone.localtime(handled.resolve_due_at).isoformat(timespec="seconds")
    assert row["requested_datetime"].endswith("+08:00")
    assert row["address"] == f"{building.name}, {grid.name}" and row["address_id"] == grid.code
    assert row["agency_responsible"] == grid.name
    text = str(rows)
    for personal in ("杨秀英", "13812345678", "138 1234 5678", "yang@example.org", "501", handled.code):
        assert personal not in text
    assert row["description"] == "****反映楼道灯坏了，电话****，邮箱****"


def test_requests_xml_shape(handled):
    root = xml(Client().get("/open311/v2/requests.xml"))
    assert root.tag == "service_requests"
    request = root.find("request")
    assert [child.tag for child in request] == REQUEST_FIELDS
    assert request.findtext("status") == "closed" and request.find("lat").text is None


def test_internal_states_map_to_open_and_closed(street, grid, lighting):
    dispatcher = staff(street, Role.DISPATCHER)
    waiting = new_case(place=grid, category=lighting)
    dispatched = walk(new_case(place=grid, category=lighting), to="dispatched", dispatcher=dispatcher, handler=None)
    rows = {r["service_request_id"]: r for r in Client().get("/open311/v2/requests.json").json()}
    assert rows[waiting.public_id]["status"] == rows[dispatched.public_id]["status"] == "open"
    assert rows[dispatched.public_id]["status_notes"] == zh("Dispatched to %(unit)s.") % {"unit": grid.name}


def test_reports_of_wrongdoing_are_never_published(grid, lighting):
    report = new_case(place=grid, category=lighting, kind=Case.Kind.REPORT)
    assert Client().get("/open311/v2/requests.json").json() == []
    assert Client().get(f"/open311/v2/requests/{report.public_id}.json").status_code == 404


def test_requests_filter_by_status_service_code_and_ids(handled, grid, lighting):
    other = new_case(place=grid, category=CategoryFactory(code="zz-leak"))
    ids = lambda query: [r["service_request_id"] for r in Client().get(f"/open311/v2/requests.json?{query}").json()]  # noqa: E731
    assert ids("status=open") == [other.public_id]
    assert ids("status=closed") == [handled.public_id]
    assert ids("status=open,closed") == [other.public_id, handled.public_id]
    assert ids("service_code=zz-lighting") == [handled.public_id]
    assert ids(f"service_request_id={handled.public_id},{other.public_id}&status=open") == [
        other.public_id, handled.public_id,
    ]
    assert ids(f"service_request_id={handled.pk},{other.pk}") == []  # the sequential keys are not ids here


def test_requests_filter_by_dates_within_90_days(grid, lighting):
    old = CaseFactory(location_unit=grid, category=lighting, received_at=timezone.now() - timedelta(days=120))
    recent = CaseFactory(location_unit=grid, category=lighting)
    get = lambda query: Client().get(f"/open311/v2/requests.json?{query}")  # noqa: E731
    assert [r["service_request_id"] for r in get("").json()] == [recent.public_id]  # the latest 90 days by default
    start = (timezone.now() - timedelta(days=150)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert [r["service_request_id"] for r in get(f"start_date={start}").json()] == [old.public_id]
    too_long = get(f"start_date={start}&end_date={timezone.now().strftime('%Y-%m-%dT%H:%M:%SZ')}")
    assert too_long.status_code == 400 and too_long.json()[0]["code"] == 400
    assert get("start_date=yesterday").status_code == 400
    assert get("status=pending").status_code == 400


def test_one_request_and_its_token(handled):
    one = json_of(Client().get(f"/open311/v2/requests/{handled.public_id}.json"))
    assert [row["service_request_id"] for row in one] == [handled.public_id]
    assert xml(Client().get(f"/open311/v2/requests/{handled.public_id}.xml")).find("request/status").text == "closed"
    assert Client().get(f"/open311/v2/requests/{handled.pk}.json").json() == [
        {"code": 404, "description": not_found("service_request_id", handled.pk)}
    ]
    assert json_of(Client().get(f"/open311/v2/tokens/{handled.code}.json")) == [
        {"service_request_id": handled.public_id, "token": handled.code}
    ]
    root = xml(Client().get(f"/open311/v2/tokens/{handled.code}.xml"))
    assert [child.tag for child in root.find("request")] == ["service_request_id", "token"]
    assert Client().get("/open311/v2/tokens/ZZZZZZZZ.json").status_code == 404


def test_a_jurisdiction_limits_the_requests_to_its_area(handled, area):
    from tests.factories import AreaFactory, CommunityFactory, StreetFactory

    elsewhere = AreaFactory(code="elsewhere")
    CaseFactory(location_unit=CommunityFactory(parent=StreetFactory(parent=elsewhere)), category=handled.category)
    rows = Client().get(f"/open311/v2/requests.json?jurisdiction_id={area.code}").json()
    assert [r["service_request_id"] for r in rows] == [handled.public_id]


def test_discovery_names_the_endpoint_and_formats():
    body = json_of(Client().get("/open311/v2/discovery.json"))
    endpoint = body["endpoints"][0]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "http://testserver/open311/v2"
    assert endpoint["formats"] == ["text/xml", "application/json"]
    assert xml(Client().get("/open311/v2/discovery.xml")).findall("endpoints/endpoint/formats/format")


def test_open311_is_throttled_per_address_with_the_error_format(settings, lighting):
    from rest_framework.settings import api_settings

    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {
        **api_settings.DEFAULT_THROTTLE_RATES, "open311.read": "2/min"}}
    client = Client()
    assert [client.get("/open311/v2/services.json").status_code for _i in range(2)] == [200, 200]
    refused = client.get("/open311/v2/services.json")
    assert refused.status_code == 429 and refused["Retry-After"]
    assert refused.json()[0]["code"] == 429
    assert Client(REMOTE_ADDR="10.0.0.9").get("/open311/v2/services.json").status_code == 200


# --- robustness: any parameters, never a server error, always the spec's formats ------------

from hypothesis import HealthCheck, given, settings as hypothesis_settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

PARAMS = ["service_request_id", "service_code", "start_date", "end_date", "status", "jurisdiction_id",
          "address_id", "address_string", "description", "phone", "first_name", "lat", "long", "attribute[kind]"]
VALUES = st.one_of(
    st.text(max_size=30), st.sampled_from(["open,closed", "2026-10-01T00:00:00Z", "1900-01-01", "9999-12-31",
                                           "xc-3-g1", "zz-lighting", "13812345678", "-1", "1e309", "0001-01-01"]),
)


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["service_code", "service_request_id", "jurisdiction_id", "status", "api_key"])
def test_a_nul_character_in_any_argument_is_a_400_in_the_specs_format(unthrottled, api_key, name):
    listed = Client().get("/open311/v2/requests.json", {name: "a\x00b"})
    created = post("/open311/v2/requests.xml", {"api_key": api_key, name: "x\x00"})
    for response in (listed, created):
        assert response.status_code == 400, response.content
    assert json_of(listed) == [{"code": 400, "description": "参数不能包含NUL字符。"}]
    assert xml(created).tag == "errors"


@pytest.fixture
def unthrottled(settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {}}


@pytest.mark.django_db
@hypothesis_settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(params=st.dictionaries(st.sampled_from(PARAMS), VALUES, max_size=6), fmt=st.sampled_from(["json", "xml"]),
       keyed=st.booleans())
def test_any_parameters_get_an_answer_in_the_specs_format(unthrottled, handled, api_key, params, fmt, keyed):
    listed = Client().get(f"/open311/v2/requests.{fmt}", params)
    created = post(f"/open311/v2/requests.{fmt}", {**params, "api_key": api_key if keyed else "x"})
    for response in (listed, created):
        assert response.status_code in (200, 201, 400, 403, 404), response.content
        if fmt == "xml":
            root = xml(response)
            assert root.tag in ("service_requests", "errors")
        elif response.status_code >= 400:
            assert all(set(error) == {"code", "description"} for error in json_of(response))
