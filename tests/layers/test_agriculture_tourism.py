"""Agriculture and tourism (issue 19, items 2 and 3): the seeded demo looks like the district, the statistics
add up from the records, the dashboard draws them, and bad records are refused with a reason.

Every channel (REST, OGC API, tiles, exports, dashboard) and the policy are checked for these layers by the
leak matrix (tests/leak_matrix: the world has a crop area, a farm, a site and its visitors per commune)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from layers import statistics
from layers.demo import current_communes, rural
from layers.models import CropArea, Farm, TourismSite, VisitorCount
from tests.dashboard.conftest import client_for
from tests.factories import CropAreaFactory, TourismSiteFactory, VisitorCountFactory, point_in

pytestmark = pytest.mark.django_db

BELT, SOUTH = "24931", "24952"  # Thạnh Mỹ (greenhouse belt), Tu Tra (rice, fodder, dairy)


@pytest.fixture
def rural_demo(district):
    communes = [c for c in current_communes() if c.code in (BELT, SOUTH, "24955")]
    today = timezone.localdate()
    counts = {
        "crops": rural.crop_areas(communes, 7, today, per_commune=60),
        "farms": rural.farms(communes, 7),
        "sites": rural.tourism_sites(communes, 7),
    }
    counts["visitors"] = rural.visitors(7, today)
    return counts


def _share(code: str, year: int) -> float:
    rows = CropArea.objects.filter(commune_code=code, year=year)
    total = sum(r.area_m2 for r in rows)
    return sum(r.area_m2 for r in rows if r.greenhouse) / total


def test_the_demo_puts_greenhouses_in_the_belt_and_dairy_in_the_south(rural_demo):
    year = timezone.localdate().year
    assert rural_demo["crops"] > 100 and rural_demo["farms"] >= 6 and rural_demo["sites"] >= 6
    # Shares of planted area: an open field is sown twice a year, a greenhouse block counted once.
    assert _share(BELT, year) > 0.4 > 0.2 > _share(SOUTH, year)
    assert Farm.objects.filter(commune_code=SOUTH, product="bo_sua").exists()
    assert not Farm.objects.filter(commune_code=BELT, product="bo_sua").exists()
    # Visitors peak at Tết and the December flower festival, not in the rainy September.
    by_month: dict[int, int] = {}
    for row in VisitorCount.objects.all():
        by_month[row.month.month] = by_month.get(row.month.month, 0) + row.visitors
    assert by_month[1] > 1.5 * by_month[9] and by_month[12] > 1.5 * by_month[9]
    assert rural_demo["visitors"] == 24 * TourismSite.objects.count()


def test_statistics_add_up_from_the_records(rural_demo):
    today = timezone.localdate()
    start, end = dt.date(today.year, 1, 1), today
    rows = CropArea.objects.filter(year=today.year)
    greenhouse_ha = sum(r.area_m2 for r in rows if r.greenhouse) / 10000
    assert statistics.district_value("greenhouse_area_ha", start, end) == pytest.approx(greenhouse_ha)
    assert statistics.district_value("crop_area_ha", start, end) == pytest.approx(sum(r.area_m2 for r in rows) / 1e4)
    by_commune = statistics.commune_values("greenhouse_share", start, end)
    assert by_commune[BELT] > 40 > 20 > by_commune[SOUTH]
    last_year = dt.date(today.year - 1, 1, 1), dt.date(today.year - 1, 12, 31)
    visits = sum(v.visitors for v in VisitorCount.objects.filter(month__year=today.year - 1))
    assert statistics.district_value("visitors", *last_year) == visits
    beds = sum(s.beds or 0 for s in TourismSite.objects.all())
    assert statistics.district_value("accommodation_beds", start, end) == beds


def test_visitors_before_a_merger_belong_to_the_commune_that_held_the_site(district):
    # Quảng Lập (24955 since 2025) took in Pró (old 24955) and old Quảng Lập (24946): a site in the old
    # Quảng Lập's part counted in 2024 belongs to 24946 of that year.
    site = TourismSiteFactory(in_commune="24955", geom=point_in("24955", 3))
    count = VisitorCount(site=site, month=dt.date(2024, 6, 1), visitors=100, overnight=40)
    count.full_clean()
    count.save()
    from gis_ioc.models import AdminUnit

    held = AdminUnit.objects.current(dt.date(2024, 6, 30)).communes().containing(site.geom).get()
    assert count.commune_id == held.id and held.valid_to == dt.date(2025, 1, 1)


def test_the_dashboard_shows_the_crop_mix_by_season_and_the_new_kpis(rural_demo, leader):
    today = timezone.localdate()
    view = (
        client_for(leader).get("/dashboard/api/view", {"start": f"{today.year}-01-01", "end": today.isoformat()}).json()
    )
    mix = next(c for c in view["categories"] if c["slug"] == "crop-areas")
    assert mix["stacked"] and {s["label"] for s in mix["series"]} >= {"Quanh năm"}
    assert "Hoa" in mix["labels"] and "Rau các loại" in mix["labels"]
    kinds = next(c for c in view["categories"] if c["slug"] == "tourism-sites")
    assert "Homestay" in kinds["labels"]
    cards = {c["key"] for c in view["kpis"]}
    assert {"greenhouse_area_ha", "visitors"} <= cards


def test_a_visitor_sees_crop_areas_without_the_growers_name(rural_demo, client):
    body = client.get("/api/v1/layers/crop-areas/features/", {"limit": 5}).json()
    properties = body["features"][0]["properties"]
    assert properties["crop"] and "grower" not in properties


def _outside():
    """A field far outside the district (in Laos)."""
    from django.contrib.gis.geos import MultiPolygon, Polygon

    ring = ((100.0, 20.0), (100.001, 20.0), (100.001, 20.001), (100.0, 20.001), (100.0, 20.0))
    return MultiPolygon(Polygon(ring), srid=4326)


@pytest.mark.parametrize(
    ("record", "field"),
    [
        (lambda: TourismSite(name="Nhà nghỉ A", kind="nha_nghi", rooms=10, beds=6, geom=point_in(BELT, 1)), "beds"),
        (
            lambda: VisitorCount(site=TourismSiteFactory(), month=dt.date(2025, 3, 1), visitors=10, overnight=20),
            "overnight",
        ),  # fmt: skip
        (
            lambda: CropArea(crop="hoa", season="mua_mua", year=2025, area_m2=100, geom=CropAreaFactory.build().geom),
            "season",
        ),  # fmt: skip
        (lambda: CropArea(crop="hoa", season="quanh_nam", year=2025, area_m2=100, geom=_outside()), "geom"),
    ],
)
def test_a_bad_record_is_refused_naming_its_field(district, record, field):
    with pytest.raises(ValidationError) as refused:
        record().full_clean()
    assert field in refused.value.message_dict


def test_one_site_has_one_figure_per_month(district):
    first = VisitorCountFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        VisitorCount.objects.create(site=first.site, month=first.month, visitors=5, overnight=0,
                                    commune=first.commune, commune_code=first.commune_code)  # fmt: skip
