"""Every metadata segment is gone from stored photos, whatever the upload path (case, status page, project)."""

from __future__ import annotations

import io
import struct

import pytest
from django.urls import reverse
from django.utils import timezone
from PIL import Image, ImageCms, PngImagePlugin

from cases.models import Attachment
from cases.uploads import validate_photos
from governance.models import ProjectUpdate
from governance.projects import services as projects
from communities.models import Role
from tests import factories as f
from tests.cases.test_uploads import upload
from tests.governance.test_projects import new_project

PLANTED = b"PLANTED-4f1c9e-secret"


def _jpeg(**params) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(buffer, format="JPEG", **params)
    return buffer.getvalue()


def _with_segment(jpeg: bytes, marker: int, payload: bytes) -> bytes:
    """``jpeg`` with one more segment (e.g. APP15) right after its start-of-image marker."""
    return jpeg[:2] + struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload + jpeg[2:]


def _png(**chunks) -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", PLANTED.decode())  # tEXt
    info.add_text("Author", PLANTED.decode(), zip=True)  # zTXt
    info.add_itxt("Description", PLANTED.decode(), lang="zh", tkey="描述")  # iTXt
    buffer = io.BytesIO()
    Image.new("RGBA", (40, 40), (0, 90, 200, 255)).save(buffer, format="PNG", pnginfo=info, **chunks)
    return buffer.getvalue()


def _icc_with_planted_description() -> bytes:
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    return profile + PLANTED  # readers ignore bytes past the tag table; a leak would carry them


PLANTED_FILES = {
    "jpeg comment (COM)": lambda: _jpeg(comment=PLANTED),
    "jpeg XMP": lambda: _jpeg(xmp=b"<x:xmpmeta>" + PLANTED + b"</x:xmpmeta>"),
    "jpeg APP15": lambda: _with_segment(_jpeg(), 0xEF, PLANTED),
    "jpeg APP13 (Photoshop IPTC)": lambda: _with_segment(_jpeg(), 0xED, b"Photoshop 3.0\x00" + PLANTED),
    "jpeg EXIF": lambda: _jpeg(exif=b"Exif\x00\x00" + PLANTED),
    "jpeg ICC profile": lambda: _jpeg(icc_profile=_icc_with_planted_description()),
    "png text chunks": lambda: _png(),
    "png ICC profile": lambda: _png(icc_profile=_icc_with_planted_description()),
    "trailing bytes": lambda: _jpeg() + PLANTED,
}


@pytest.mark.parametrize("make", PLANTED_FILES.values(), ids=PLANTED_FILES.keys())
def test_no_planted_metadata_survives_the_reencoding(make):
    original = make()
    assert PLANTED in original

    [photo] = validate_photos([upload("planted.jpg", original)])

    assert PLANTED not in photo.content
    cleaned = Image.open(io.BytesIO(photo.content))
    assert not set(cleaned.info) - {"dpi", "jfif", "jfif_version", "jfif_unit", "jfif_density", "transparency"}


def test_colours_of_a_profiled_photo_survive_as_srgb():
    original = _jpeg(icc_profile=ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    [photo] = validate_photos([upload("profiled.jpg", original)])
    red, green, blue = Image.open(io.BytesIO(photo.content)).getpixel((32, 24))
    assert abs(red - 200) < 8 and green < 40 and blue < 40


@pytest.mark.django_db
def test_a_planted_comment_never_reaches_residents_from_a_project_photo(client, community, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    director = f.staff(community, Role.DIRECTOR)
    project = new_project(director, community)
    client.force_login(director)
    response = client.post(reverse("projects:action", args=[project.pk, "update"]), {
        "on": timezone.localdate().isoformat(), "progress": 40, "text": "防水层完成", "public": "on",
        "photo": upload("roof.jpg", _jpeg(comment=PLANTED)),
    })
    assert response.status_code == 302
    update = ProjectUpdate.objects.get()
    assert PLANTED not in update.photo.read()
    projects.publish(project=project, by=director)
    client.logout()
    served = client.get(reverse("projects_public:photo", args=[update.pk]))
    assert served.status_code == 200 and PLANTED not in b"".join(served.streaming_content)


@pytest.mark.django_db
def test_a_planted_comment_is_not_stored_from_the_residents_form(client, report_form_data, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    report_form_data["photos"] = [upload("stairs.jpg", _jpeg(comment=PLANTED))]
    assert client.post("/report/", report_form_data).status_code == 302
    [attachment] = Attachment.objects.all()
    assert PLANTED not in attachment.file.read()


def test_a_rotated_photo_stays_upright_once_its_orientation_tag_is_gone():
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    buffer = io.BytesIO()
    Image.new("RGB", (80, 40), (200, 30, 30)).save(buffer, format="JPEG", exif=exif.tobytes())
    [photo] = validate_photos([upload("rotated.jpg", buffer.getvalue())])
    cleaned = Image.open(io.BytesIO(photo.content))
    assert cleaned.size == (40, 80) and not cleaned.getexif()
