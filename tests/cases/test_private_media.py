"""Uploaded photos are never a public folder: only the access-checked views serve them."""

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from cases.models import Attachment, Case
from communities.models import Role
from tests.cases.factories import CaseFactory
from tests.factories import staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def photo(community, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    case = CaseFactory(location_unit=community, status=Case.Status.ACCEPTED)
    attachment = Attachment(case=case, content_type="image/jpeg", size=3)
    attachment.file.save("x.jpg", ContentFile(b"abc"))
    return attachment


def test_the_storage_url_of_a_photo_serves_nothing(client, photo, community):
    client.force_login(staff(community, Role.CASEWORKER))
    for url in (photo.file.url, f"/media/{photo.file.name}", f"/static/{photo.file.name}", f"/{photo.file.name}"):
        assert client.get(url).status_code == 404, url


def test_the_photo_view_needs_a_login_and_the_case_in_scope(client, photo, community, sibling_community):
    url = reverse("cases:photo", kwargs={"code": photo.case.code, "pk": photo.pk})
    assert client.get(url).status_code == 302  # to the login page
    client.force_login(staff(sibling_community, Role.CASEWORKER))
    assert client.get(url).status_code == 404
    client.force_login(staff(community, Role.CASEWORKER))
    response = client.get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"abc"
    assert response["Cache-Control"] == "private, max-age=3600"


def test_the_residents_photo_view_needs_the_verified_case(client, photo):
    url = reverse("cases_public:photo", kwargs={"code": photo.case.code, "pk": photo.pk})
    assert client.get(url).status_code in (302, 404)
