"""An analysis over distributed petitions: read from the shards, its result table written on the coordinator."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from gis_ioc import distributed
from petitions.models import Petition
from tests.analysis.conftest import run_now
from tests.analysis.factories import origin, point

pytestmark = pytest.mark.django_db
WHEN = timezone.make_aware(dt.datetime(2024, 6, 15, 9))


def test_a_hotspot_analysis_reads_petitions_of_every_shard(gis_staff, district):
    o = origin("24931")
    for i in range(12):
        Petition.objects.create(
            category="moi_truong", description="Rác", geom=point(o, i * 10, i * 7), received_at=WHEN
        )
    for code in ("24928", "24937", "24952"):
        Petition.objects.create(
            category="moi_truong", description="Rác", geom=point(origin(code), 0, 0), received_at=WHEN
        )
    params = {"start": "2024-01-01", "end": "2024-12-31", "category": "moi_truong", "cell_m": 500, "eps_m": 100,
              "min_points": 4}  # fmt: skip
    done = run_now(gis_staff, "hotspots", params)
    assert done.status == "succeeded", done.error
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT sum(petitions) FROM analysis_result_{done.pk}")
        assert cursor.fetchone()[0] == 15
    assert f"analysis_result_{done.pk}" not in distributed.table_kinds()  # a plain table on the coordinator
    assert done.table("clusters")["rows"][0]["commune_code"] == "24931"
