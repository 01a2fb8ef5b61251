"""Residents' and staff's photos: checked by content, re-encoded without metadata, stored privately.

A photo is accepted only if Pillow recognises it as JPEG or PNG (whatever its name says) and it
is at most ``MAX_PHOTO_BYTES``. Its pixel count is read from the file's header, before anything is
decoded (a 165 KB PNG can decode to 40 megapixels): at most ``settings.PHOTO_MAX_PIXELS`` per
photo and ``settings.PHOTO_MAX_PIXELS_PER_REQUEST`` for all photos of one request. Forms check
headers while cleaning (``check_photos``) and decode only once every other field is valid
(``DecodePhotosLastMixin``), one photo at a time, so a worker holds at most one decoded bitmap.

A photo is then re-encoded from its pixels with no metadata at all: EXIF (GPS position, phone
model, time), JPEG comments and APPn segments, XMP, PNG text chunks and ICC profiles (the colours
are converted to sRGB first) are gone from what is stored, as is any trailing payload. Files go
to the default storage under MEDIA_ROOT, which is never served as a folder: see the attachment
views.
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
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

try:
    from botocore.exceptions import ClientError  # a missing object on S3 (django-storages)
except ImportError:  # pragma: no cover - boto3 comes with django-storages[s3]
    ClientError = OSError

MAX_PHOTOS = 5
MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_SIDE = 4096  # larger photos are scaled down when re-encoded: smaller files, same evidence
# MPO is the multi-picture JPEG many phone cameras write; only its first frame is kept.
FORMATS = {"JPEG": "image/jpeg", "MPO": "image/jpeg", "PNG": "image/png"}
# The only entry of a decoded image's info that is pixels rather than metadata.
KEPT_INFO = ("transparency",)
_BAD_IMAGE = (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError)


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


@dataclass(frozen=True)
class CheckedUpload:
    """An upload whose header passed the checks; not decoded yet."""

    upload: object
    name: str
    width: int
    height: int

    @property
    def pixels(self) -> int:
        return self.width * self.height


def _megapixels(pixels: int) -> str:
    return f"{pixels / 1_000_000:.1f}"


def check_photos(files: Iterable) -> list[CheckedUpload]:
    """Count, size, format and pixels from each header, without decoding; one ValidationError
    lists every problem."""
    files = [f for f in files if f]
    if len(files) > MAX_PHOTOS:
        raise ValidationError(
            _("At most %(max)d photos can be added (you chose %(count)d)."),
            code="too_many", params={"max": MAX_PHOTOS, "count": len(files)},
        )
    checked, errors = [], []
    for upload in files:
        try:
            checked.append(upload if isinstance(upload, CheckedUpload) else _check_one(upload))
        except ValidationError as error:
            errors.extend(error.error_list)
    total = sum(photo.pixels for photo in checked)
    limit = settings.PHOTO_MAX_PIXELS_PER_REQUEST
    if total > limit:
        errors.append(ValidationError(
            _("The photos have %(megapixels)s megapixels together; at most %(max)s can be sent at once. "
              "Send fewer photos, or smaller ones."),
            code="too_many_pixels", params={"megapixels": _megapixels(total), "max": _megapixels(limit)},
        ))
    if errors:
        raise ValidationError(errors)
    return checked


def _check_one(upload) -> CheckedUpload:
    name = _display_name(upload)
    if upload.size > MAX_PHOTO_BYTES:
        raise ValidationError(
            _("%(name)s is larger than %(max)d MB."),
            code="too_large", params={"name": name, "max": MAX_PHOTO_BYTES // (1024 * 1024)},
        )
    try:
        upload.seek(0)
        with Image.open(upload) as image:  # reads the header only: format and size, no pixels
            if image.format not in FORMATS:
                raise UnidentifiedImageError(image.format)
            width, height = image.size
    except _BAD_IMAGE:
        raise _not_an_image(name) from None
    limit = settings.PHOTO_MAX_PIXELS
    if width * height > limit:
        raise ValidationError(
            _("%(name)s has %(megapixels)s megapixels; at most %(max)s are accepted per photo."),
            code="too_big_image",
            params={"name": name, "megapixels": _megapixels(width * height), "max": _megapixels(limit)},
        )
    return CheckedUpload(upload=upload, name=name, width=width, height=height)


def _not_an_image(name: str) -> ValidationError:
    return ValidationError(_("%(name)s is not a JPEG or PNG photo."), code="not_image", params={"name": name})


def decode_photos(checked: Sequence[CheckedUpload]) -> list[ValidatedPhoto]:
    """Decode and re-encode header-checked photos, one at a time."""
    photos, errors = [], []
    for photo in checked:
        try:
            photos.append(_decode_one(photo))
        except _BAD_IMAGE:
            errors.append(_not_an_image(photo.name))
    if errors:
        raise ValidationError(errors)
    return photos


def validate_photos(files: Iterable) -> list[ValidatedPhoto]:
    """Check and clean uploaded photos; raise one ValidationError listing every bad file."""
    return decode_photos(check_photos(files))


def _decode_one(photo: CheckedUpload) -> ValidatedPhoto:
    upload = photo.upload
    upload.seek(0)
    with Image.open(upload) as image:
        source_format = image.format
        if source_format not in FORMATS or image.size != (photo.width, photo.height):
            raise UnidentifiedImageError(source_format)  # not the file whose header was checked
        # A JPEG decodes straight to a reduced scale (1/2, 1/4, 1/8) when that still covers MAX_SIDE.
        image.draft(None, (MAX_SIDE, MAX_SIDE))
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image.load()
        return _reencode(image, photo.name, source_format)


def _reencode(image: Image.Image, name: str, source_format: str) -> ValidatedPhoto:
    icc_profile = image.info.get("icc_profile")
    image.thumbnail((MAX_SIDE, MAX_SIDE))  # first, in place: no copy of the full-size bitmap
    ImageOps.exif_transpose(image, in_place=True)  # keep the photo upright once the orientation tag is gone
    image = _to_srgb(image, icc_profile)
    # Pillow writes back what the decoder put in ``info`` (a JPEG's comment, a PNG's profile):
    # nothing of it goes out but transparency, which is pixels, not metadata.
    image.info = {key: value for key, value in image.info.items() if key in KEPT_INFO}
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


def _to_srgb(image: Image.Image, icc_profile: bytes | None) -> Image.Image:
    """The colours as the embedded profile meant them, in sRGB, so the profile can be dropped."""
    if not icc_profile or image.mode not in ("RGB", "RGBA"):
        return image
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
        return ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"), outputMode=image.mode)
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return image  # an unreadable profile: keep the pixels as they are


class DecodePhotosLastMixin:
    """For forms with photo fields (listed in ``photo_fields``) that clean to ``CheckedUpload``
    lists (or one ``CheckedUpload``): the photos are decoded only once every other field is
    valid, so an invalid form costs no decoding. They then clean to ``ValidatedPhoto``s."""

    photo_fields: tuple[str, ...] = ("photos",)

    def full_clean(self) -> None:
        super().full_clean()
        if not self.is_bound or self._errors:
            return
        for name in self.photo_fields:
            value = self.cleaned_data.get(name)
            if not value:
                continue
            many = isinstance(value, (list, tuple))
            try:
                photos = decode_photos(value if many else [value])
            except ValidationError as error:
                self.add_error(name, error)
                continue
            self.cleaned_data[name] = photos if many else photos[0]


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
