"""Helpers for petition tests: points inside communes, petitions in a given state, agencies, photos."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.contrib.gis.geos import Point
from django.core.cache import cache
from PIL import Image

from gis_ioc import roles
from gis_ioc.models import AdminUnit
from petitions import intake
from petitions.models import Agency, Petition, Status
from tests.conftest import make_user


def inside(code: str = "24931", dx: float = 0.0, dy: float = 0.0) -> Point:
    """A point inside the current commune `code`, shifted by dx/dy degrees."""
    unit = AdminUnit.objects.current().communes().get(code=code)
    p = unit.geom.point_on_surface
    return Point(p.x + dx, p.y + dy, srid=4326)


def metres_east(point: Point, metres: float) -> Point:
    """A point `metres` east of `point` (1° of longitude ≈ 109 km at 11.8° N)."""
    import math

    return Point(point.x + metres / (111_320 * math.cos(math.radians(point.y))), point.y, srid=4326)


def new_petition(
    category: str = "moi_truong",
    point: Point | None = None,
    description: str = "Rác thải đổ trộm bên đường",
    name: str = "Nguyễn Văn A",
    phone: str = "0912345678",
) -> Petition:
    """A petition through the real intake (spatial context, reporter row, first event)."""
    return intake.create_petition(
        category=category,
        description=description,
        point=point or inside(),
        reporter=intake.Reporter(name=name, phone=phone),
    ).petition


def set_status(petition: Petition, status: str, agency: Agency | None = None) -> Petition:
    """Jump a petition to a status (test set-up only; real changes go through the workflow)."""
    Petition.objects.filter(pk=petition.pk).update(status=status, agency=agency)
    petition.refresh_from_db()
    return petition


def jpeg(width: int = 64, height: int = 48, exif: Any = None, color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    out = io.BytesIO()
    image = Image.new("RGB", (width, height), color)
    if exif is not None:
        image.save(out, "JPEG", exif=exif)
    else:
        image.save(out, "JPEG")
    return out.getvalue()


@pytest.fixture(autouse=True)
def _fresh_throttle(settings: Any) -> None:
    """Generous rate limits unless a test lowers them (the throttle table is per test DB transaction)."""
    settings.PETITIONS = {"submit_per_minute": 1000, "read_per_minute": 10000}
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()


@pytest.fixture
def agency(db) -> Agency:
    return Agency.objects.create(code="tnmt", name="Phòng Tài nguyên và Môi trường")


@pytest.fixture
def other_agency(db) -> Agency:
    return Agency.objects.create(code="ktht", name="Phòng Kinh tế và Hạ tầng")


@pytest.fixture
def agency_member(agency: Agency):
    user = make_user("tnmt_staff", roles.AGENCY_STAFF)
    agency.members.add(user)
    return user


@pytest.fixture
def outsider_staff(other_agency: Agency):
    """Agency staff of another agency."""
    user = make_user("ktht_staff", roles.AGENCY_STAFF)
    other_agency.members.add(user)
    return user


__all__ = ["Status", "inside", "jpeg", "metres_east", "new_petition", "set_status"]
