"""cases.uploads: photos checked by content, metadata stripped, stored privately."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from cases.models import Attachment
from cases.uploads import MAX_PHOTO_BYTES, ValidatedPhoto, store_photos, validate_photos
from tests.cases.factories import CaseFactory

GPS_IFD = 0x8825


def jpeg_bytes(*, size=(64, 48), gps=False, color=(200, 30, 30)) -> bytes:
    image = Image.new("RGB", size, color)
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # camera make
    if gps:
        exif[GPS_IFD] = {1: "N", 2: (39.0, 54.0, 27.0), 3: "E", 4: (116.0, 23.0, 17.0)}
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif.tobytes())
    return buffer.getvalue()


def png_bytes(*, size=(40, 40), mode="RGBA") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size).save(buffer, format="PNG")
    return buffer.getvalue()


def upload(name: str, content: bytes, content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def test_jpeg_with_gps_is_accepted_and_reencoded_without_exif():
    original = jpeg_bytes(gps=True)
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(GPS_IFD)  # the fixture really has GPS

    [photo] = validate_photos([upload("IMG_0001.jpg", original)])

    assert photo.content_type == "image/jpeg"
    cleaned = Image.open(io.BytesIO(photo.content))
    assert cleaned.format == "JPEG"
    assert not cleaned.getexif()
    assert b"PhoneMaker" not in photo.content


def test_text_file_named_jpg_is_refused_by_content():
    with pytest.raises(ValidationError) as error:
        validate_photos([upload("photo.jpg", b"this is not an image at all\n" * 100)])
    assert "photo.jpg" in error.value.messages[0]


def test_png_named_jpg_is_kept_as_png():
    [photo] = validate_photos([upload("screenshot.jpg", png_bytes())])
    assert photo.content_type == "image/png"
    assert Image.open(io.BytesIO(photo.content)).format == "PNG"


def test_gif_is_refused_even_though_pillow_reads_it():
    buffer = io.BytesIO()
    Image.new("RGB", (10, 10)).save(buffer, format="GIF")
    with pytest.raises(ValidationError):
        validate_photos([upload("anim.gif", buffer.getvalue(), "image/gif")])


def test_file_over_ten_megabytes_is_refused():
    content = jpeg_bytes() + b"\0" * (11 * 1024 * 1024)
    assert len(content) > MAX_PHOTO_BYTES
    with pytest.raises(ValidationError) as error:
        validate_photos([upload("big.jpg", content)])
    assert "big.jpg" in error.value.messages[0]
    assert "10" in error.value.messages[0]


def test_six_files_are_refused():
    files = [upload(f"p{i}.jpg", jpeg_bytes()) for i in range(6)]
    with pytest.raises(ValidationError) as error:
        validate_photos(files)
    assert error.value.code == "too_many"


def test_five_files_are_accepted():
    assert len(validate_photos([upload(f"p{i}.jpg", jpeg_bytes()) for i in range(5)])) == 5


def test_decompression_bomb_is_refused_before_decoding():
    bomb = png_bytes(size=(9000, 9000), mode="1")  # tiny file, 81 megapixels once decoded
    assert len(bomb) < 1024 * 1024
    with pytest.raises(ValidationError) as error:
        validate_photos([upload("bomb.png", bomb, "image/png")])
    assert error.value.error_list[0].code == "too_big_image"


def test_every_bad_file_gets_its_own_message():
    files = [upload("a.jpg", b"nope"), upload("good.jpg", jpeg_bytes()), upload("b.png", b"nope")]
    with pytest.raises(ValidationError) as error:
        validate_photos(files)
    messages = error.value.messages
    assert len(messages) == 2
    assert "a.jpg" in messages[0] and "b.png" in messages[1]


def test_truncated_jpeg_is_refused():
    with pytest.raises(ValidationError):
        validate_photos([upload("cut.jpg", jpeg_bytes(size=(400, 300))[:300])])


@pytest.mark.django_db
def test_stored_file_has_no_gps_and_lives_under_media_root(media, community):
    case = CaseFactory(location_unit=community)
    photos = validate_photos([upload("gps.jpg", jpeg_bytes(gps=True))])

    [attachment] = store_photos(case=case, photos=photos, event=None)

    attachment.refresh_from_db()
    path = Path(attachment.file.path)
    assert path.is_relative_to(Path(media))
    assert attachment.file.name.startswith(f"cases/{case.pk}/") and attachment.file.name.endswith(".jpg")
    assert "gps" not in attachment.file.name  # the resident's file name is not reused
    stored = Image.open(path)
    assert not stored.getexif().get_ifd(GPS_IFD)
    assert not stored.getexif()
    assert (attachment.content_type, attachment.size, attachment.public) == ("image/jpeg", path.stat().st_size, True)


@pytest.mark.django_db
def test_store_photos_refuses_unchecked_files(media, community):
    case = CaseFactory(location_unit=community)
    with pytest.raises(TypeError):
        store_photos(case=case, photos=[upload("raw.jpg", jpeg_bytes())])
    assert not Attachment.objects.exists()


def test_validated_photo_reports_its_size():
    photo = ValidatedPhoto(name="x.png", content=b"1234", content_type="image/png", width=1, height=1)
    assert (photo.size, photo.extension) == (4, "png")
