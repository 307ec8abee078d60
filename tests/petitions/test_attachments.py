"""Photos: checked on their bytes, EXIF orientation applied, EXIF GPS/time read, stripped from public copies."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from petitions import attachments
from petitions.models import Attachment, Petition
from tests.petitions.conftest import inside, jpeg


def exif_photo(lat: float, lon: float, orientation: int = 6, when: str = "2025:03:14 09:26:53") -> bytes:
    """A 64×48 JPEG whose camera was turned (orientation 6 = rotate 90° on display) with GPS and time."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "Camera Co"

    def dms(value: float) -> tuple[float, float, float]:
        d = int(value)
        m = int((value - d) * 60)
        return (float(d), float(m), round(((value - d) * 60 - m) * 60, 4))

    exif[0x8825] = {1: "N", 2: dms(lat), 3: "E", 4: dms(lon)}
    exif[0x8769] = {36867: when}
    return jpeg(64, 48, exif=exif)


def test_a_photo_keeps_its_evidence_privately_and_loses_it_publicly(district):
    here = inside()
    img = attachments.process_image(exif_photo(here.y, here.x), "a.jpg")
    assert (img.width, img.height) == (48, 64), "EXIF orientation applied: the portrait photo stands upright"
    assert img.gps is not None and abs(img.gps.y - here.y) < 1e-4 and abs(img.gps.x - here.x) < 1e-4
    assert img.taken_at is not None and img.taken_at.isoformat().startswith("2025-03-14T09:26:53")
    public = Image.open(io.BytesIO(img.public))
    assert public.size == (48, 64)
    assert not public.getexif(), "the public copy carries no EXIF (no GPS, no camera)"
    assert b"Camera Co" not in img.public and b"Camera Co" not in img.thumbnail
    assert b"Camera Co" in img.original, "staff keep the original as evidence"
    assert max(Image.open(io.BytesIO(img.thumbnail)).size) <= 320


def test_large_photos_are_thumbnailed(district):
    img = attachments.process_image(jpeg(2400, 1800), "big.jpg")
    assert Image.open(io.BytesIO(img.thumbnail)).size == (320, 240)
    assert Image.open(io.BytesIO(img.public)).size == (1600, 1200)


def test_an_executable_renamed_jpg_is_refused(client, district):
    exe = (
        b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff"
        + b"\x00" * 200
        + b"This program cannot be run in DOS mode"
    )
    with pytest.raises(attachments.AttachmentError, match="không phải ảnh"):
        attachments.process_image(exe, "anh.jpg")
    here = inside()
    response = client.post(
        "/petitions/",
        {
            "category": "khac",
            "description": "x",
            "lat": here.y,
            "lon": here.x,
            "photos": SimpleUploadedFile("anh.jpg", exe, content_type="image/jpeg"),
        },
    )
    assert response.status_code == 400
    assert "không phải ảnh" in response.content.decode()
    assert not Petition.objects.exists() and not Attachment.objects.exists()


def test_a_jpeg_header_on_garbage_is_refused(district):
    with pytest.raises(attachments.AttachmentError):
        attachments.process_image(b"\xff\xd8\xff\xe0" + b"garbage" * 100, "x.jpg")


def test_a_20_mb_photo_is_refused_with_its_size(client, district):
    big = jpeg() + b"\x00" * (20 * 1024 * 1024)
    here = inside()
    response = client.post(
        "/petitions/",
        {
            "category": "khac",
            "description": "x",
            "lat": here.y,
            "lon": here.x,
            "photos": SimpleUploadedFile("lon.jpg", big, content_type="image/jpeg"),
        },
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "quá lớn" in body and "20.0 MB" in body
    assert not Petition.objects.exists()


def test_a_photo_with_gps_locates_a_petition_sent_without_coordinates(client, district):
    here = inside("24937")
    response = client.post(
        "/petitions/",
        {
            "category": "moi_truong",
            "description": "Cháy rừng nhỏ",
            "photos": SimpleUploadedFile("gps.jpg", exif_photo(here.y, here.x), content_type="image/jpeg"),
        },
    )
    assert response.status_code == 302
    petition = Petition.objects.get()
    assert petition.commune_code == "24937"
    attachment = petition.attachments.get()
    assert attachment.exif_location is not None and attachment.taken_at is not None
    public = client.get(f"/petitions/photos/{attachment.key}/public.jpg")
    data = b"".join(public.streaming_content)
    assert not Image.open(io.BytesIO(data)).getexif()
    # The original with its EXIF is not for the public.
    assert client.get(f"/petitions/photos/{attachment.key}/original.jpg").status_code == 404


def test_the_original_is_served_to_entitled_staff(client, district, leader):
    here = inside()
    client.post(
        "/petitions/",
        {
            "category": "khac",
            "description": "x",
            "lat": here.y,
            "lon": here.x,
            "photos": SimpleUploadedFile("a.png", _png(), content_type="image/png"),
        },
    )
    attachment = Attachment.objects.get()
    client.force_login(leader)
    response = client.get(f"/petitions/photos/{attachment.key}/original.jpg")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (10, 10), (0, 0, 255, 128)).save(out, "PNG")
    return out.getvalue()
