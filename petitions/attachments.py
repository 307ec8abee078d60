"""Photo attachments: checked on their bytes, re-encoded without EXIF for the public, thumbnailed.

A file is accepted only when its first bytes are a JPEG, PNG or WebP signature AND Pillow decodes it as
that same format; the name and the browser's content type are ignored (an executable renamed `.jpg` is
refused). The original is kept for staff (it is evidence, EXIF included); the public copy and the
thumbnail are re-encoded from pixels with EXIF orientation applied, so no GPS or camera data leaks.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import warnings
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.gis.geos import Point
from django.core.files.base import ContentFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from petitions.conf import conf
from petitions.models import Attachment

SIGNATURES = {
    "JPEG": (b"\xff\xd8\xff",),
    "PNG": (b"\x89PNG\r\n\x1a\n",),
    "WEBP": (b"RIFF",),
}
CONTENT_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
EXTENSIONS = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp"}
GPS_IFD = 0x8825
EXIF_IFD = 0x8769
TAG_DATETIME = 306
TAG_DATETIME_ORIGINAL = 36867
TAG_OFFSET_TIME_ORIGINAL = 36881


class AttachmentError(ValueError):
    """A refused file, with a message the citizen or officer can act on."""


@dataclass
class ProcessedImage:
    original: bytes
    fmt: str
    width: int
    height: int
    public: bytes
    thumbnail: bytes
    sha256: str
    taken_at: dt.datetime | None
    gps: Point | None

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.fmt]


def read_upload(upload: Any, label: str = "") -> bytes:
    """Read an uploaded file, refusing it past the size cap before reading it all into memory."""
    cap = conf().max_photo_bytes
    size = getattr(upload, "size", None)
    name = label or getattr(upload, "name", "") or _("ảnh")
    if size is not None and size > cap:
        raise AttachmentError(
            _("Ảnh “%(n)s” quá lớn (%(s).1f MB); tối đa %(c).0f MB.")
            % {"n": name, "s": size / 1048576, "c": cap / 1048576}
        )
    data = upload.read(cap + 1)
    if len(data) > cap:
        raise AttachmentError(_("Ảnh “%(n)s” quá lớn; tối đa %(c).0f MB.") % {"n": name, "c": cap / 1048576})
    return data


def sniff_format(data: bytes) -> str | None:
    """The image format named by the file's magic number, or None."""
    for fmt, signatures in SIGNATURES.items():
        if any(data.startswith(sig) for sig in signatures):
            if fmt == "WEBP" and data[8:12] != b"WEBP":
                continue
            return fmt
    return None


def process_image(data: bytes, name: str = "") -> ProcessedImage:
    """Validate the bytes as a photo and build its public copy and thumbnail; raises AttachmentError."""
    cfg = conf()
    label = name or _("ảnh")
    if len(data) > cfg.max_photo_bytes:
        raise AttachmentError(
            _("Ảnh “%(n)s” quá lớn; tối đa %(c).0f MB.") % {"n": label, "c": cfg.max_photo_bytes / 1048576}
        )
    if not data:
        raise AttachmentError(_("Tệp “%(n)s” rỗng.") % {"n": label})
    fmt = sniff_format(data)
    if fmt is None:
        raise AttachmentError(_("Tệp “%(n)s” không phải ảnh JPEG, PNG hoặc WebP.") % {"n": label})
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            Image.MAX_IMAGE_PIXELS = cfg.max_pixels
            with Image.open(io.BytesIO(data)) as probe:
                if probe.format != fmt:
                    raise AttachmentError(_("Nội dung tệp “%(n)s” không khớp định dạng ảnh.") % {"n": label})
                probe.verify()
            image = Image.open(io.BytesIO(data))
            image.load()
    except AttachmentError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError, Warning) as exc:
        raise AttachmentError(_("Không đọc được ảnh “%(n)s”: %(e)s") % {"n": label, "e": str(exc)[:120]}) from exc
    exif = image.getexif()
    taken_at = _exif_time(exif)
    gps = _exif_gps(exif)
    upright = ImageOps.exif_transpose(image)
    rgb = _to_rgb(upright)
    public = _encode(rgb, cfg.public_px)
    thumbnail = _encode(rgb, cfg.thumbnail_px)
    return ProcessedImage(
        original=data,
        fmt=fmt,
        width=upright.width,
        height=upright.height,
        public=public,
        thumbnail=thumbnail,
        sha256=hashlib.sha256(data).hexdigest(),
        taken_at=taken_at,
        gps=gps,
    )


def _to_rgb(image: Image.Image) -> Image.Image:
    if image.mode in ("RGBA", "LA", "P"):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.split()[-1])
        return background
    return image.convert("RGB")


def _encode(image: Image.Image, max_px: int) -> bytes:
    """JPEG from pixels only: no EXIF, ICC or comments are carried over."""
    copy = image.copy()
    copy.thumbnail((max_px, max_px))
    out = io.BytesIO()
    copy.save(out, "JPEG", quality=85, optimize=True)
    return out.getvalue()


def _rational(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError, ZeroDivisionError):
        num, den = value
        return float(num) / float(den)


def _exif_gps(exif: Image.Exif) -> Point | None:
    """The photo's GPS position (lon/lat, EPSG:4326), or None when absent or malformed."""
    try:
        gps = exif.get_ifd(GPS_IFD)
        if not gps or 2 not in gps or 4 not in gps:
            return None
        lat = sum(_rational(v) / 60**i for i, v in enumerate(gps[2]))
        lon = sum(_rational(v) / 60**i for i, v in enumerate(gps[4]))
        if str(gps.get(1, "N")).upper().startswith("S"):
            lat = -lat
        if str(gps.get(3, "E")).upper().startswith("W"):
            lon = -lon
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or (lat == 0 and lon == 0):
        return None
    return Point(lon, lat, srid=4326)


def _exif_time(exif: Image.Exif) -> dt.datetime | None:
    """When the photo was taken; camera clocks carry no zone, so the district's zone is assumed."""
    sub = exif.get_ifd(EXIF_IFD)
    raw = sub.get(TAG_DATETIME_ORIGINAL) or exif.get(TAG_DATETIME)
    if not raw:
        return None
    try:
        naive = dt.datetime.strptime(str(raw).strip("\x00 "), "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    offset = sub.get(TAG_OFFSET_TIME_ORIGINAL)
    if offset:
        try:
            return dt.datetime.strptime(f"{naive:%Y-%m-%d %H:%M:%S}{offset}", "%Y-%m-%d %H:%M:%S%z")
        except ValueError:
            pass
    return naive.replace(tzinfo=ZoneInfo(settings.TIME_ZONE))


def save_attachment(img: ProcessedImage, *, petition: Any = None, report: Any = None) -> Attachment:
    """Store the three copies under MEDIA_ROOT with random names and record them."""
    ext = EXTENSIONS[img.fmt]
    attachment = Attachment(
        petition=petition,
        report=report,
        content_type=img.content_type,
        size=len(img.original),
        width=img.width,
        height=img.height,
        sha256=img.sha256,
        taken_at=img.taken_at,
        exif_location=img.gps,
    )
    attachment.original.save(f"-o{ext}", ContentFile(img.original), save=False)
    attachment.public.save("-p.jpg", ContentFile(img.public), save=False)
    attachment.thumbnail.save("-t.jpg", ContentFile(img.thumbnail), save=False)
    attachment.save()
    return attachment


def process_uploads(files: list[Any]) -> list[ProcessedImage]:
    """Validate every uploaded photo before anything is written (all or nothing)."""
    cfg = conf()
    if len(files) > cfg.max_photos:
        raise AttachmentError(_("Tối đa %(n)d ảnh cho mỗi phản ánh.") % {"n": cfg.max_photos})
    return [process_image(read_upload(f), getattr(f, "name", "")) for f in files]
