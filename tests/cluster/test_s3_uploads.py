"""Uploads on an S3-compatible store (django-storages), against a local S3 server (moto's).

The bucket is private: the access-checked views either redirect to a short-lived signed URL or
stream the object; nothing in the bucket is readable without a signature.
"""

from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
import requests
from django.core.files.base import ContentFile
from django.urls import reverse

from cases.models import Attachment, Case
from communities.models import Role
from governance.cluster.harness import free_port
from tests.cases.factories import CaseFactory
from tests.factories import staff

pytestmark = pytest.mark.django_db

BUCKET = "portal-uploads-test"
KEYS = {"access_key": "portal-test", "secret_key": "portal-test-secret"}


@pytest.fixture(scope="module")
def s3_endpoint():
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        endpoint = f"http://127.0.0.1:{port}"
        client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                              aws_access_key_id=KEYS["access_key"], aws_secret_access_key=KEYS["secret_key"])
        client.create_bucket(Bucket=BUCKET)
        yield endpoint, client
    finally:
        server.stop()


@pytest.fixture
def s3_settings(settings, s3_endpoint):
    endpoint, _client = s3_endpoint
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": BUCKET, "endpoint_url": endpoint, "region_name": "us-east-1", **KEYS,
                "default_acl": "private", "querystring_auth": True, "querystring_expire": 300,
                "file_overwrite": False, "addressing_style": "path", "signature_version": "s3v4",
            },
        },
    }
    settings.MEDIA_DELIVERY = "redirect"
    return settings


@pytest.fixture
def photo(s3_settings, community):
    case = CaseFactory(location_unit=community, status=Case.Status.ACCEPTED)
    attachment = Attachment(case=case, content_type="image/jpeg", size=9)
    attachment.file.save("x.jpg", ContentFile(b"jpeg-data"))
    return attachment


def test_a_photo_is_stored_in_the_bucket_privately(photo, s3_endpoint):
    _endpoint, client = s3_endpoint
    assert client.get_object(Bucket=BUCKET, Key=photo.file.name)["Body"].read() == b"jpeg-data"
    grants = client.get_object_acl(Bucket=BUCKET, Key=photo.file.name)["Grants"]
    assert [g["Permission"] for g in grants] == ["FULL_CONTROL"]
    assert all(g["Grantee"].get("URI") is None for g in grants)  # no AllUsers / AuthenticatedUsers grant


def test_the_checked_view_redirects_to_a_short_lived_signed_url(client, photo, community, s3_endpoint):
    endpoint, _client = s3_endpoint
    client.force_login(staff(community, Role.CASEWORKER))
    response = client.get(reverse("cases:photo", kwargs={"code": photo.case.code, "pk": photo.pk}))
    assert response.status_code == 302
    url = response["Location"]
    assert url.startswith(f"{endpoint}/{BUCKET}/")
    query = parse_qs(urlsplit(url).query)
    assert query["X-Amz-Expires"] == ["300"] and query["X-Amz-Signature"]
    assert response["Cache-Control"] == "private, no-store"
    fetched = requests.get(url, timeout=10)
    assert fetched.status_code == 200 and fetched.content == b"jpeg-data"
    assert fetched.headers["Content-Type"] == "image/jpeg"
    assert fetched.headers["Content-Disposition"] == f'inline; filename="photo-{photo.pk}.jpg"'


def test_outside_the_users_scope_there_is_no_signed_url(client, photo, sibling_community):
    client.force_login(staff(sibling_community, Role.CASEWORKER))
    response = client.get(reverse("cases:photo", kwargs={"code": photo.case.code, "pk": photo.pk}))
    assert response.status_code == 404 and "Location" not in response


def test_stream_mode_serves_the_object_through_the_app(client, photo, community, s3_settings):
    s3_settings.MEDIA_DELIVERY = "stream"
    client.force_login(staff(community, Role.CASEWORKER))
    response = client.get(reverse("cases:photo", kwargs={"code": photo.case.code, "pk": photo.pk}))
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"jpeg-data"
    assert response["Content-Type"] == "image/jpeg"


def test_stream_mode_answers_404_for_an_object_gone_from_the_bucket(client, photo, community, s3_settings, s3_endpoint):
    s3_settings.MEDIA_DELIVERY = "stream"
    s3_endpoint[1].delete_object(Bucket=BUCKET, Key=photo.file.name)
    client.force_login(staff(community, Role.CASEWORKER))
    response = client.get(reverse("cases:photo", kwargs={"code": photo.case.code, "pk": photo.pk}))
    assert response.status_code == 404
