"""One rule for phone numbers everywhere: masked on every page, opened only by a logged reveal.

Cases, volunteers and home visits alike: the reveal (and a refused try) is in the security log
with who, when, what and from where; after a case is closed, a reveal needs a reason.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from cases.models import Case, PhoneReveal, TimelineEvent
from communities.models import Role, SecurityEvent
from communities.phones import mask_phone, normalise_phone
from governance.models import CareNeed
from governance.visits import services as visits
from tests import factories as f
from tests.api.conftest import client_for
from tests.cases.factories import CaseFactory, walk
from tests.volunteers.factories import VolunteerFactory

pytestmark = pytest.mark.django_db
Kind = SecurityEvent.Kind
FULL, MASKED = "13812345678", "138****5678"


@pytest.fixture
def grid_worker(grid):
    return f.staff(grid, Role.GRID_WORKER)


@pytest.fixture
def supervisor(community):
    return f.staff(community, Role.SUPERVISOR)


@pytest.fixture
def visit(building, grid_worker):
    household = f.HouseholdFactory(stairwell=f.StairwellFactory(building=building), room="501")
    need = visits.flag_need(
        household=household, kind=CareNeed.Kind.ELDERLY_ALONE, person_name="王奶奶", phone="138 1234 5678",
        visit_every_days=14, first_visit_on=timezone.localdate() - timedelta(days=3), by=grid_worker,
    )
    return need.visits.get()


def _case(grid, street, handler, to: str) -> Case:
    case = CaseFactory(location_unit=grid, resident_phone=FULL)
    return walk(case, to=to, dispatcher=f.staff(street, Role.DISPATCHER), handler=handler)


@pytest.fixture
def handled(grid, street, grid_worker):
    """A case its handler (the grid worker) has accepted, with the caller's number."""
    return _case(grid, street, grid_worker, "accepted")


def reveal_url(case: Case) -> str:
    return reverse("cases:reveal_phone", kwargs={"code": case.code})


def only(kind: str) -> SecurityEvent:
    return SecurityEvent.objects.get(kind=kind)


# --- item 4: home visits ------------------------------------------------------------------------


def test_the_visit_page_masks_the_phone_for_everyone(client, visit, supervisor, grid_worker):
    for user in (supervisor, grid_worker):
        client.force_login(user)
        page = client.get(visit.get_absolute_url()).content.decode()
        assert MASKED in page and FULL not in page
    assert visit.need.phone == FULL  # stored as digits, whatever spaces were typed


def test_a_visitor_reveals_the_phone_once_and_it_is_logged(client, visit, grid_worker):
    client.force_login(grid_worker)
    url = reverse("proactive:visit_reveal_phone", kwargs={"pk": visit.pk})
    page = client.post(url).content.decode()
    assert FULL in page
    event = only(Kind.PII_REVEALED)
    assert (event.user, event.ip, event.method, event.path) == (grid_worker, "127.0.0.1", "POST", url)
    assert event.detail == {"visit": visit.pk, "care_need": visit.need_id, "field": "phone"}
    assert FULL not in client.get(visit.get_absolute_url()).content.decode()


def test_a_supervisor_is_refused_the_visits_phone_and_the_try_is_logged(client, visit, supervisor):
    client.force_login(supervisor)
    page = client.get(visit.get_absolute_url()).content.decode()
    assert reverse("proactive:visit_reveal_phone", kwargs={"pk": visit.pk}) not in page
    response = client.post(reverse("proactive:visit_reveal_phone", kwargs={"pk": visit.pk}), follow=True)
    assert FULL not in response.content.decode()
    assert not SecurityEvent.objects.filter(kind=Kind.PII_REVEALED).exists()
    [refused] = SecurityEvent.objects.filter(kind=Kind.DENIED)
    assert refused.user == supervisor and refused.detail["visit"] == visit.pk and refused.detail["reveal"] == "refused"


def test_the_admin_shows_a_households_phone_masked(client, visit, community):
    admin_user = f.staff(community, Role.ADMINISTRATOR)
    client.force_login(admin_user)
    page = client.get(reverse("admin:governance_careneed_change", args=[visit.need_id])).content.decode()
    assert MASKED in page and FULL not in page


def test_no_template_prints_a_persons_phone_number_unmasked():
    """A person's number on a page is ``masked_phone`` or the one-off ``revealed_phone`` of a logged
    reveal. Offices' numbers (a unit's, a department's or partner's contact) are not personal."""
    printed = re.compile(r"\{\{\s*([\w.]*phone\w*)[^}]*\}\}")
    offices = {"unit.phone", "contact_phone"}
    offenders = []
    for template in Path(settings.BASE_DIR, "templates").rglob("*.html"):
        for name in printed.findall(template.read_text()):
            last = name.rsplit(".", 1)[-1]
            if last in ("masked_phone", "revealed_phone", "contact_phone") or name in offices:
                continue
            if name == "phone" and template.name == "import.html":  # a skipped row's number, masked by the import
                continue
            offenders.append(f"{template.relative_to(settings.BASE_DIR)}: {name}")
    assert offenders == []


@pytest.mark.parametrize("typed, stored, shown", [
    ("138 1234 5678", "13812345678", "138****5678"),
    ("+86 138-1234-5678", "13812345678", "138****5678"),
    ("(010) 6123 4567", "01061234567", "010****4567"),
    ("12345", "12345", "*****"),
])
def test_one_rule_cleans_and_masks_every_number(typed, stored, shown):
    assert normalise_phone(typed) == stored and mask_phone(stored) == shown


# --- item 9: the security log names who, what and from where ------------------------------------


def test_a_case_reveal_is_logged_with_the_address_method_and_path(client, handled, grid_worker, settings):
    settings.TRUSTED_PROXY_COUNT, settings.TRUSTED_PROXIES = 1, ["10.0.0.2"]
    client.force_login(grid_worker)
    response = client.post(reveal_url(handled), HTTP_X_FORWARDED_FOR="203.0.113.9", REMOTE_ADDR="10.0.0.2")
    assert FULL in response.content.decode()
    event = only(Kind.PII_REVEALED)
    assert (event.user, event.ip, event.method, event.path) == (grid_worker, "203.0.113.9", "POST", reveal_url(handled))
    assert event.detail == {"case": handled.code, "field": "resident_phone"}


def test_a_refused_case_reveal_is_logged(client, handled, grid):
    colleague = f.staff(grid, Role.GRID_WORKER)  # may reveal numbers, but is not this case's handler
    client.force_login(colleague)
    response = client.post(reveal_url(handled), follow=True)
    assert FULL not in response.content.decode()
    [refused] = SecurityEvent.objects.all()
    assert (refused.kind, refused.user, refused.method, refused.path) == (Kind.DENIED, colleague, "POST", reveal_url(handled))
    assert refused.detail["case"] == handled.code and refused.detail["reveal"] == "refused"
    assert not PhoneReveal.objects.exists()


def test_an_api_reveal_is_logged_with_its_path(handled, grid_worker):
    url = f"/api/v1/cases/{handled.code}/reveal-phone/"
    response = client_for(grid_worker).post(url, {}, format="json", REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 200 and response.json() == {"phone": FULL}
    event = only(Kind.PII_REVEALED)
    assert (event.ip, event.method, event.path) == ("10.1.2.3", "POST", url)


def test_a_volunteer_phone_reveal_reaches_the_security_log(client, community):
    volunteer = VolunteerFactory(unit=community, phone=FULL)
    director = f.staff(community, Role.DIRECTOR)
    client.force_login(director)
    url = reverse("volunteers:reveal_phone", kwargs={"pk": volunteer.pk})
    assert FULL in client.post(url).content.decode()
    event = only(Kind.PII_REVEALED)
    assert (event.user, event.ip, event.method, event.path) == (director, "127.0.0.1", "POST", url)
    assert event.detail == {"volunteer": volunteer.pk, "field": "phone"}


def test_a_refused_volunteer_reveal_is_logged_once(client, community, sibling_community):
    volunteer = VolunteerFactory(unit=sibling_community, phone=FULL)
    outsider = f.staff(community, Role.DIRECTOR)
    from volunteers import services as corps

    with pytest.raises(corps.IllegalTransition):
        corps.reveal_phone(volunteer=volunteer, by=outsider)
    [refused] = SecurityEvent.objects.all()
    assert (refused.kind, refused.user, refused.detail["volunteer"]) == (Kind.DENIED, outsider, volunteer.pk)


# --- item 10: after closing, a reveal needs a reason -----------------------------------------------


@pytest.fixture
def closed(grid, street, grid_worker):
    return _case(grid, street, grid_worker, "closed")


def test_revealing_a_closed_cases_phone_needs_a_reason(client, closed, grid_worker):
    assert closed.status == Case.Status.CLOSED
    client.force_login(grid_worker)
    page = client.get(closed.get_absolute_url()).content.decode()
    assert 'name="reveal_phone-reason"' in page
    response = client.post(reveal_url(closed), {"reveal_phone-reason": "  "})
    assert response.status_code == 200 and FULL not in response.content.decode()
    assert response.context["forms"]["reveal_phone"].errors["reason"]
    assert not PhoneReveal.objects.exists() and not SecurityEvent.objects.filter(kind=Kind.PII_REVEALED).exists()

    reason = "居民来电投诉处理结果，需回拨核实"
    response = client.post(reveal_url(closed), {"reveal_phone-reason": reason})
    assert FULL in response.content.decode()
    assert PhoneReveal.objects.get().reason == reason
    assert TimelineEvent.objects.get(case=closed, action="phone_revealed").note == reason
    assert only(Kind.PII_REVEALED).detail == {"case": closed.code, "field": "resident_phone", "reason": reason}


def test_an_open_case_needs_no_reason(client, handled, grid_worker):
    client.force_login(grid_worker)
    assert FULL in client.post(reveal_url(handled)).content.decode()
    assert PhoneReveal.objects.get().reason == ""


def test_the_api_refuses_a_closed_cases_reveal_without_a_reason(closed, grid_worker):
    api = client_for(grid_worker)
    url = f"/api/v1/cases/{closed.code}/reveal-phone/"
    refused = api.post(url, {}, format="json")
    assert refused.status_code == 400 and "reason" in refused.json()["errors"]
    assert SecurityEvent.objects.get(kind=Kind.DENIED).detail["case"] == closed.code
    assert api.post(url, {"reason": "复核回访记录"}, format="json").json() == {"phone": FULL}
