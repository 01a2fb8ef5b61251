"""Photos of many pixels (decompression bombs): refused from the header, decoded last, memory bounded."""

from __future__ import annotations

import io
import json
import os
import resource
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from PIL import Image, ImageFile

from cases.models import Attachment, Case
from cases.uploads import validate_photos

pytestmark = pytest.mark.django_db
REPORT = "/report/"


def png(size: tuple[int, int], mode: str = "RGB") -> bytes:
    """A PNG of one colour: a few hundred KB on disk, ``width × height × 3`` bytes once decoded."""
    buffer = io.BytesIO()
    Image.new(mode, size).save(buffer, format="PNG")
    return buffer.getvalue()


def uploads(content: bytes, count: int) -> list[SimpleUploadedFile]:
    return [SimpleUploadedFile(f"p{i}.png", content, content_type="image/png") for i in range(count)]


FORTY_MP = (8000, 5000)


@pytest.fixture(scope="module")
def bomb() -> bytes:
    content = png(FORTY_MP)
    assert len(content) < 200 * 1024  # small on the wire, 120 MB decoded
    return content


def test_a_photo_over_the_per_photo_limit_is_refused_from_its_header(settings):
    settings.PHOTO_MAX_PIXELS = 24_000_000
    with pytest.raises(ValidationError) as error:
        validate_photos(uploads(png((5000, 5000), "1"), 1))  # 25 MP
    [refused] = error.value.error_list
    assert refused.code == "too_big_image"
    assert "p0.png" in error.value.messages[0] and "25.0" in error.value.messages[0]
    with translation.override("zh-hans"):
        assert "百万像素" in error.value.messages[0]


def test_photos_over_the_per_request_limit_together_are_refused(settings):
    settings.PHOTO_MAX_PIXELS, settings.PHOTO_MAX_PIXELS_PER_REQUEST = 24_000_000, 40_000_000
    with pytest.raises(ValidationError) as error:
        validate_photos(uploads(png((5000, 3000), "1"), 3))  # 15 MP each, 45 MP together
    assert [e.code for e in error.value.error_list] == ["too_many_pixels"]
    assert "45.0" in error.value.messages[0]


def test_photos_within_both_limits_are_accepted(settings):
    settings.PHOTO_MAX_PIXELS, settings.PHOTO_MAX_PIXELS_PER_REQUEST = 24_000_000, 40_000_000
    assert len(validate_photos(uploads(png((2000, 1000)), 5))) == 5


def test_an_invalid_form_decodes_no_photo(client, report_form_data):
    report_form_data["resident_name"] = ""  # invalid: photos would have to be chosen again anyway
    report_form_data["photos"] = uploads(png((400, 300)), 2)
    with mock.patch.object(ImageFile.ImageFile, "load", autospec=True, side_effect=ImageFile.ImageFile.load) as load:
        response = client.post(REPORT, report_form_data)
    assert response.status_code == 200 and response.context["form"].errors["resident_name"]
    assert load.call_count == 0
    assert not Case.objects.exists()


def test_a_valid_form_gets_its_photos_decoded_and_stored(client, report_form_data):
    report_form_data["photos"] = uploads(png((400, 300)), 2)
    response = client.post(REPORT, report_form_data)
    assert response.status_code == 302
    assert Attachment.objects.count() == 2


def _peak_growth_mb(client, data) -> tuple[float, int]:
    """(growth of the peak resident memory in MB, status) of one POST, measured in a forked child:
    Pillow's bitmaps are malloc'd in C, which tracemalloc does not see, and the test process's own
    peak may already be higher than what the request needs."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: same test database connection, same client
        try:
            os.close(read)
            before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            status = client.post(REPORT, data).status_code
            after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            os.write(write, json.dumps([(after - before) / 1024, status]).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        answer = pipe.read()
    os.waitpid(pid, 0)
    growth, status = json.loads(answer)
    return growth, status


def test_five_forty_megapixel_pngs_cost_a_worker_little_memory(client, report_form_data, bomb):
    report_form_data["photos"] = uploads(bomb, 5)
    growth, status = _peak_growth_mb(client, report_form_data)
    assert status == 200  # refused with a message, not a timeout
    assert growth < 40, f"peak grew by {growth:.0f} MB"


def test_photos_at_the_request_limit_are_decoded_one_at_a_time(client, report_form_data, settings):
    settings.PHOTO_MAX_PIXELS, settings.PHOTO_MAX_PIXELS_PER_REQUEST = 24_000_000, 40_000_000
    report_form_data["photos"] = uploads(png((4000, 2000)), 5)  # 8 MP each (24 MB decoded), 40 MP together
    growth, status = _peak_growth_mb(client, report_form_data)
    assert status == 302
    assert growth < 5 * 24, f"peak grew by {growth:.0f} MB"  # less than all five bitmaps at once
