"""Residents' and staff's photos: checked by content, re-encoded without metadata, stored privately.

A photo is accepted only if Pillow recognises it as JPEG or PNG (whatever its name says), it is
at most ``MAX_PHOTO_BYTES`` and at most ``MAX_PIXELS`` pixels (a small file can decode to a huge
bitmap). It is then re-encoded from its pixels, so EXIF (GPS position, phone model, time) and any
other metadata or trailing payload are gone from what is stored. Files go to the default storage
under MEDIA_ROOT, which is never served as a folder: see the attachment views.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps, UnidentifiedImageError

try:
    from botocore.exceptions import ClientError  # a missing object on S3 (django-storages)
except ImportError:  # pragma: no cover - boto3 comes with django-storages[s3]
    ClientError = OSError

MAX_PHOTOS = 5
MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000  # ~ a 48-megapixel phone photo is refused; 40 MP is ample for evidence
MAX_SIDE = 4096  # larger photos are scaled down when re-encoded: smaller files, same evidence
# MPO is the multi-picture JPEG many phone cameras write; only its first frame is kept.
FORMATS = {"JPEG": "image/jpeg", "MPO": "image/jpeg", "PNG": "image/png"}


@dataclass(frozen=True)
class ValidatedPhoto:
    """A photo that passed the checks, already re-encoded without metadata."""

    name: str
    content: bytes
    content_type: str
    width: int
    height: int

    @property
    def size(self) -> int:
        return len(self.content)

    @property
    def extension(self) -> str:
        return "png" if self.content_type == "image/png" else "jpg"


def validate_photos(files: Iterable) -> list[ValidatedPhoto]:
    """Check and clean uploaded photos; raise one ValidationError listing every bad file."""
    files = [f for f in files if f]
    if len(files) > MAX_PHOTOS:
        raise ValidationError(
            _("At most %(max)d photos can be added (you chose %(count)d)."),
            code="too_many", params={"max": MAX_PHOTOS, "count": len(files)},
        )
    photos, errors = [], []
    for upload in files:
        try:
            photos.append(_validate_one(upload))
        except ValidationError as error:
            errors.extend(error.error_list)
    if errors:
        raise ValidationError(errors)
    return photos


def _validate_one(upload) -> ValidatedPhoto:
    name = _display_name(upload)
    if upload.size > MAX_PHOTO_BYTES:
        raise ValidationError(
            _("%(name)s is larger than %(max)d MB."),
            code="too_large", params={"name": name, "max": MAX_PHOTO_BYTES // (1024 * 1024)},
        )
    try:
        image = _open(upload)
        return _reencode(image, name)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ValidationError(
            _("%(name)s is not a JPEG or PNG photo."), code="not_image", params={"name": name}
        ) from None
    except _TooManyPixels:
        raise ValidationError(
            _("%(name)s has too many pixels to be processed."), code="too_big_image", params={"name": name}
        ) from None


class _TooManyPixels(Exception):
    pass


def _open(upload) -> Image.Image:
    upload.seek(0)
    image = Image.open(upload)  # reads the header only: format and size, no pixels yet
    if image.format not in FORMATS:
        raise UnidentifiedImageError(image.format)
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise _TooManyPixels
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        image.load()
    return image


def _reencode(image: Image.Image, name: str) -> ValidatedPhoto:
    source_format = image.format
    image = ImageOps.exif_transpose(image)  # keep the photo upright once the orientation tag is gone
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    buffer = io.BytesIO()
    if source_format == "PNG":
        if image.mode not in ("RGB", "RGBA", "L", "LA", "P"):
            image = image.convert("RGBA")
        image.save(buffer, format="PNG", optimize=True)
    else:
        if image.mode != "RGB":
            image = image.convert("RGB")
        image.save(buffer, format="JPEG", quality=85, optimize=True)
    return ValidatedPhoto(
        name=name, content=buffer.getvalue(), content_type=FORMATS[source_format],
        width=image.width, height=image.height,
    )


def _display_name(upload) -> str:
    name = getattr(upload, "name", "") or ""
    return name.rsplit("/", 1)[-1][:80] or str(_("photo"))


def store_photos(*, case, photos: Sequence[ValidatedPhoto], event=None, by=None, public: bool = True) -> list:
    """Write validated photos to private storage as Attachment rows of ``case`` (and ``event``)."""
    from .models import Attachment

    stored = []
    for photo in photos:
        if not isinstance(photo, ValidatedPhoto):
            raise TypeError("store_photos takes photos returned by validate_photos().")
        attachment = Attachment(
            case=case, event=event, content_type=photo.content_type, size=photo.size,
            uploaded_by=by, public=public,
        )
        attachment.file.save(f"photo.{photo.extension}", ContentFile(photo.content), save=False)
        attachment.save()
        stored.append(attachment)
    return stored


def private_file_response(field_file, *, content_type: str, filename: str) -> HttpResponse:
    """Hand a stored upload to a client the calling view has already checked.

    On the local (or shared) folder the file is streamed. On an object store (S3_BUCKET set) the
    bucket is private: with ``MEDIA_DELIVERY = "redirect"`` the client is sent to a signed URL that
    expires after ``S3_URL_SECONDS`` and names the type and file name the store must answer with;
    with ``"stream"`` (a store the browsers cannot reach) the app streams the object itself.
    """
    disposition = f'inline; filename="{filename}"'
    storage = field_file.storage
    if getattr(settings, "MEDIA_DELIVERY", "stream") == "redirect" and hasattr(storage, "bucket_name"):
        url = storage.url(
            field_file.name,
            parameters={"ResponseContentType": content_type, "ResponseContentDisposition": disposition},
        )
        response = HttpResponseRedirect(url)
        response["Cache-Control"] = "private, no-store"  # the signed URL expires; never reuse the redirect
        return response
    try:
        handle = field_file.open("rb")
    except (OSError, ClientError):
        raise Http404 from None
    response = FileResponse(handle, content_type=content_type)
    response["Content-Disposition"] = disposition
    response["Cache-Control"] = "private, max-age=3600"
    return response
