"""Who sees and changes what on the staff pages: a sibling's case is a 404 everywhere; roles are enforced."""

from __future__ import annotations

import csv
import io

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from cases import services
from cases.models import Attachment, Case, TimelineEvent
from cases.selectors import QUEUES
from cases.views.actions import ACTION_LIST
from communities.models import Role
from tests.cases.factories import CaseFactory, new_case, walk
from tests.factories import GridFactory, staff

pytestmark = pytest.mark.django_db
S = Case.Status
ACTION_NAMES = [action.name for action in ACTION_LIST]


@pytest.fixture
def caseworker(community):
    return staff(community, Role.CASEWORKER)


@pytest.fixture
def sibling_case(sibling_community):
    """A case handled by the sibling community: every status that has a form."""
    return CaseFactory(location_unit=sibling_community, title="七社区的诉求", status=S.ACCEPTED)


@pytest.fixture
def own_case(community):
    return CaseFactory(location_unit=community, title="三社区的诉求", status=S.ACCEPTED)


def action_url(case: Case, name: str) -> str:
    return reverse(f"cases:{name}", kwargs={"code": case.code})


def test_a_sibling_communitys_case_is_404_on_its_page(client, caseworker, own_case, sibling_case):
    client.force_login(caseworker)
    assert client.get(own_case.get_absolute_url()).status_code == 200
    assert client.get(sibling_case.get_absolute_url()).status_code == 404


@pytest.mark.parametrize("name", ACTION_NAMES)
def test_a_sibling_communitys_case_is_404_on_every_action(client, community, sibling_case, name):
    # Whatever the role, posted in the wrong community.
    for role in (Role.DISPATCHER, Role.CASEWORKER, Role.DIRECTOR):
        client.force_login(staff(community, role))
        assert client.post(action_url(sibling_case, name), {}).status_code == 404
    assert TimelineEvent.objects.filter(case=sibling_case).count() == 0


def test_a_sibling_communitys_photo_is_404(client, caseworker, sibling_case, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    from django.core.files.base import ContentFile

    attachment = Attachment(case=sibling_case, content_type="image/jpeg", size=3)
    attachment.file.save("x.jpg", ContentFile(b"abc"))
    client.force_login(caseworker)
    url = reverse("cases:photo", kwargs={"code": sibling_case.code, "pk": attachment.pk})
    assert client.get(url).status_code == 404


def test_a_photo_of_another_case_is_404_under_a_visible_code(client, caseworker, own_case, sibling_case, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    from django.core.files.base import ContentFile

    attachment = Attachment(case=sibling_case, content_type="image/jpeg", size=3)
    attachment.file.save("x.jpg", ContentFile(b"abc"))
    client.force_login(caseworker)
    url = reverse("cases:photo", kwargs={"code": own_case.code, "pk": attachment.pk})
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("name", [name for name, _label in QUEUES])
def test_a_sibling_communitys_case_is_in_no_queue(client, community, sibling_community, name):
    director = staff(community, Role.DIRECTOR)
    grid = GridFactory(parent=community)
    mine = staff(grid, Role.GRID_WORKER)
    hidden, shown = [], set()
    soon = {"contact_due_at": timezone.now() + timedelta(hours=1), "resolve_due_at": timezone.now() - timedelta(hours=1)}
    for status in (S.SUBMITTED, S.DISPATCHED, S.ACCEPTED, S.RESOLVED):
        handler = mine if status == S.ACCEPTED else None
        CaseFactory(location_unit=grid, status=status, is_supervised=True, handler=handler, **soon)
        hidden.append(CaseFactory(
            location_unit=sibling_community, status=status, is_supervised=True, handler=handler, **soon
        ))
    for user in (director, mine):
        client.force_login(user)
        response = client.get("/cases/", {"queue": name})
        html = response.content.decode()
        shown |= {case.code for case in response.context["rows"]}
        assert not any(case.code in html for case in hidden)
    assert shown and not shown & {case.code for case in hidden}


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_exports_hold_only_visible_cases(client, community, sibling_community, fmt):
    supervisor = staff(community, Role.SUPERVISOR)
    own = CaseFactory(location_unit=community)
    other = CaseFactory(location_unit=sibling_community)
    client.force_login(supervisor)
    response = client.get(reverse("cases:export", kwargs={"fmt": fmt}), {"queue": "unit"})
    body = b"".join(response.streaming_content)
    if fmt == "csv":
        codes = [row[0] for row in csv.reader(io.StringIO(body.decode("utf-8-sig")))][1:]
    else:
        sheet = load_workbook(io.BytesIO(body), read_only=True).active
        codes = [row[0] for row in sheet.iter_rows(values_only=True)][1:]
    assert codes == [own.code] and other.code not in codes


def test_a_co_handling_unit_sees_the_case(client, community, sibling_community, street):
    dispatcher = staff(street, Role.DISPATCHER)
    case = new_case(place=sibling_community)
    services.dispatch(case=case, to_unit=sibling_community, by=dispatcher, co_units=[community])
    client.force_login(staff(community, Role.CASEWORKER))
    assert client.get(case.get_absolute_url()).status_code == 200


def test_a_caseworker_cannot_dispatch(client, caseworker, community, street):
    case = new_case(place=community)
    walk_dispatcher = staff(street, Role.DISPATCHER)
    services.dispatch(case=case, to_unit=community, by=walk_dispatcher)
    case = Case.objects.get(pk=case.pk)
    client.force_login(caseworker)
    html = client.get(case.get_absolute_url()).content.decode()
    assert action_url(case, "dispatch") not in html
    response = client.post(action_url(case, "dispatch"), {"dispatch-to_unit": community.pk})
    assert response.status_code == 403
    assert Case.objects.get(pk=case.pk).dispatched_at == case.dispatched_at


@pytest.mark.parametrize("name", ACTION_NAMES)
def test_a_read_only_supervisor_cannot_change_anything(client, community, street, name):
    supervisor = staff(community, Role.SUPERVISOR)
    case = walk(
        new_case(place=community), to="accepted", dispatcher=staff(street, Role.DISPATCHER),
        handler=staff(community, Role.CASEWORKER),
    )
    before = TimelineEvent.objects.filter(case=case).count()
    client.force_login(supervisor)
    html = client.get(case.get_absolute_url()).content.decode()
    assert action_url(case, name) not in html
    assert client.post(action_url(case, name), {}).status_code == 403
    assert TimelineEvent.objects.filter(case=case).count() == before


def test_anonymous_users_are_sent_to_the_login(client, own_case):
    for url in (own_case.get_absolute_url(), action_url(own_case, "accept"), reverse("cases:new"),
                reverse("cases:notifications"), reverse("cases:export", kwargs={"fmt": "csv"})):
        response = client.post(url) if url.endswith("/accept/") else client.get(url)
        assert response.status_code == 302 and response.url.startswith(reverse("login"))
