"""Shared sample data for the feature-API tests (query module, REST, OGC): a handful of features per layer.

Other modules import the fixtures from here: `from tests.layers.test_query_data import sample_fixture  # noqa: F401`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from tests.factories import (
    DossierFactory,
    HouseholdBusinessFactory,
    LandParcelFactory,
    PetitionFactory,
    PlanningPlanFactory,
    SchoolFactory,
)


@dataclass
class Sample:
    schools: list[Any]
    businesses: list[Any]
    petitions: list[Any]
    parcels: list[Any]
    dossier: Any
    plan: Any


def _create_sample() -> Sample:
    schools = [
        SchoolFactory(name="Trường THCS Thạnh Mỹ", level="thcs", pupils=650, in_commune="24931"),
        SchoolFactory(name="Trường Tiểu học Đà Loan", level="tieu_hoc", pupils=320, in_commune="24931"),
        SchoolFactory(name="Trường Mầm non Hoa Hồng", level="mam_non", pupils=150, in_commune="24931"),
        SchoolFactory(name="Trường THPT Đơn Dương", level="thpt", pupils=900, in_commune="24937"),
        SchoolFactory(name="Trường Tiểu học Đạ Ròn", level="tieu_hoc", pupils=410, in_commune="24937"),
    ]
    businesses = [
        HouseholdBusinessFactory(name="Tạp hóa Minh Châu", in_commune="24931", registration_date=dt.date(2021, 3, 1)),
        HouseholdBusinessFactory(name="Cà phê Đồi Thông", in_commune="24937", registration_date=dt.date(2023, 7, 9)),
    ]
    now = timezone.now()
    petitions = [
        PetitionFactory(tracking_code="PA-000001", received_at=now - dt.timedelta(days=40), in_commune="24931"),
        PetitionFactory(tracking_code="PA-000002", received_at=now - dt.timedelta(days=2), in_commune="24937"),
    ]
    parcels = [LandParcelFactory(in_commune="24931", land_use=lu) for lu in ("CLN", "LUC", "ONT")]
    dossier = DossierFactory(in_commune="24928")
    plan = PlanningPlanFactory(name="Quy hoạch chung thị trấn Thạnh Mỹ")
    return Sample(schools, businesses, petitions, parcels, dossier, plan)


@pytest.fixture(scope="module")
def sample_module(django_db_setup, django_db_blocker) -> Iterator[Sample]:
    """The sample, created once per test module inside a transaction rolled back at the module's end.

    Each test's own `db` transaction nests inside it as a savepoint, so tests stay isolated from each other
    while the ~15 factory objects (each placed by PostGIS) are built once, not once per test."""
    from gis_ioc.demo.district import district_loaded, load_district

    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            if not district_loaded():
                load_district()
            yield _create_sample()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture(name="sample")
def sample_fixture(sample_module: Sample, db) -> Sample:
    """Five schools (three in Thạnh Mỹ 24931, two in Đạ Ròn 24937), two businesses, two petitions, three
    parcels, one dossier, one planning plan; read-only for the tests that use it."""
    return sample_module


def body(response: Any) -> Any:
    """The JSON body of a response (also for streaming ones)."""
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return json.loads(content)
