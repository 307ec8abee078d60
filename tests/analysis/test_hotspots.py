"""Petition hotspots: Gi* over hexagons with significance levels, and DBSCAN clusters."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from django.db import connection
from django.utils import timezone

from analysis.hotspots import getis_ord_gi_star, significance
from petitions.models import Petition
from tests.analysis.conftest import run_now
from tests.analysis.factories import origin, point

pytestmark = pytest.mark.django_db

WHEN = timezone.make_aware(dt.datetime(2024, 6, 15, 9))


def _petition(p, category="moi_truong", when=WHEN):
    return Petition.objects.create(category=category, description="Rác thải", geom=p, received_at=when)


@pytest.fixture
def cluster(district):
    """25 petitions within 150 m in Thạnh Mỹ, and one petition in each of the other communes."""
    o = origin("24931")
    rng = np.random.default_rng(1)
    for dx, dy in rng.uniform(-150, 150, size=(25, 2)):
        _petition(point(o, dx, dy))
    for code in ("24928", "24934", "24937", "24940", "24943", "24949", "24952", "24955"):
        _petition(point(origin(code), 0, 0))
    # Outside the time range and of another category: must not count.
    for dx in range(5):
        _petition(point(origin("24952"), dx * 20, 0), when=WHEN - dt.timedelta(days=400))
        _petition(point(origin("24952"), dx * 20, 0), category="dat_dai")
    return o


def test_the_cluster_is_a_significant_hot_spot_and_a_dbscan_cluster(gis_staff, cluster):
    params = {
        "start": "2024-01-01",
        "end": "2024-12-31",
        "category": "moi_truong",
        "cell_m": 500,
        "eps_m": 100,
        "min_points": 4,
    }
    done = run_now(gis_staff, "hotspots", params)
    assert done.status == "succeeded", done.error
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT sum(petitions), max(confidence), count(*) FROM analysis_result_{done.pk}")
        total, top, cells = cursor.fetchone()
        cursor.execute(
            f"SELECT commune_code, confidence FROM analysis_result_{done.pk} WHERE confidence >= 95 ORDER BY gi_z DESC"
        )
        hot = cursor.fetchall()
    assert total == 33  # 25 + 8, not the old or other-category ones
    assert cells > 100  # the grid covers the district
    assert top == 99
    assert hot and hot[0][0] == "24931"
    clusters = done.table("clusters")["rows"]
    assert len(clusters) == 1
    assert clusters[0]["petitions"] == 25 and clusters[0]["commune_code"] == "24931"
    assert clusters[0]["radius_m"] < 300


def test_it_refuses_an_empty_time_range(gis_staff, district, client):
    client.force_login(gis_staff)
    response = client.post(
        "/api/v1/analyses/",
        {"type": "hotspots", "parameters": {"start": "2024-06-01", "end": "2024-05-01"}},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "Khoảng thời gian rỗng" in response.json()["errors"]["end"][0]


def test_a_period_without_petitions_fails_with_a_reason(gis_staff, district):
    done = run_now(gis_staff, "hotspots", {"start": "2020-01-01", "end": "2020-01-31"})
    assert done.status == "failed"
    assert "Không có phản ánh" in done.error


def test_gi_star_is_zero_mean_and_flags_levels():
    # A line of 9 cells with a peak in the middle; neighbours are the adjacent cells.
    from scipy import sparse

    x = np.array([0, 0, 0, 1, 9, 1, 0, 0, 0], dtype=float)
    n = len(x)
    w = sparse.diags([np.ones(n - 1), np.ones(n), np.ones(n - 1)], [-1, 0, 1], format="csr")
    z = getis_ord_gi_star(x, w)
    # By hand (Ord & Getis 1995): x̄ = 11/9, S = √(83/9 − x̄²) = 2.780; cell 4: Σwx = 11, Σw = Σw² = 3,
    # z = (11 − 3x̄) / (S·√((9·3 − 3²)/8)) = 1.7586.
    assert z.argmax() == 4 and z[4] == pytest.approx(1.7586, abs=1e-3)
    assert significance(z[4]) == 90 and significance(-2.0) == -95 and significance(2.6) == 99
    assert significance(0.5) == 0
