"""Demo data for every sector layer: deterministic (seeded), inside the current demo communes, at scale.

`load(stdout, reset)` is a step of `manage.py load_demo`; it skips a layer that already has demo rows
(idempotent) and prints what it loaded with the time taken. Everything is flagged `is_demo`, so
`clear()` removes exactly the demo rows. Bulk paths only: parcels (>100,000) are generated with
numpy/shapely and written with COPY; the other layers with multi-row INSERTs (bulk_create in batches).
Time-dependent records (petitions, dossiers, revenue) end at the day of the load, so "open" and
"overdue" mean something on the dashboard; everything else is fixed by SEED.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import Any, TextIO

import numpy as np
import pandas as pd
import shapely
from django.contrib.gis.geos import GEOSGeometry, MultiPolygon
from django.db import connection, transaction
from django.utils import timezone
from shapely.geometry.base import BaseGeometry

from gis_ioc.demo.facts import COMMUNES as FACTS
from gis_ioc.models import AdminUnit, CrosswalkRow
from layers.demo import by_date, geometry, records, rural
from layers.demo.geometry import Commune, to_metres
from layers.models import (
    BudgetRevenue,
    CropArea,
    Dossier,
    Farm,
    HealthFacility,
    HouseholdBusiness,
    Indicator,
    LandParcel,
    Layer,
    PlanningPlan,
    PlanningZone,
    School,
    SectorFeature,
    TourismSite,
    VisitorCount,
)

SEED = 24931
BATCH = 2000

# Catalog slug -> the model(s) it shows; used to skip loaded layers and to bump versions.
LAYERS: list[tuple[str, Any]] = [
    ("schools", School),
    ("health-facilities", HealthFacility),
    ("household-businesses", HouseholdBusiness),
    ("land-parcels", LandParcel),
    ("planning-zones", PlanningZone),
    ("petitions", None),  # petitions.Petition, imported lazily (another app)
    ("dossiers", Dossier),
    ("budget-revenue", BudgetRevenue),
    ("indicators", Indicator),
    ("crop-areas", CropArea),
    ("farms", Farm),
    ("tourism-sites", TourismSite),
    ("tourism-visitors", VisitorCount),
]


def current_communes() -> list[Commune]:
    """The current demo communes in metres, with their settlement centres (a merged commune has several)."""
    facts = {f.code: f for f in FACTS}
    result = []
    for unit in AdminUnit.objects.current().communes().order_by("code"):
        shape = to_metres(shapely.from_wkb(bytes(unit.geom.wkb)))
        # Predecessors in the crosswalk keep their centres (Quảng Lập 2025 = Pró + old Quảng Lập).
        codes = {unit.code} | set(CrosswalkRow.objects.filter(new_unit=unit).values_list("old_unit__code", flat=True))
        points = [to_metres(shapely.Point(facts[c].lon, facts[c].lat)) for c in sorted(codes) if c in facts]
        centres = [(p.x, p.y) for p in points if shape.contains(p)] or _settlements(shape)
        result.append(Commune(id=unit.id, code=unit.code, name=unit.name, shape=shape, centres=centres))
    return result


# A commune with no known settlement centre (the province demo's real communes) gets its centroid and one
# village per SETTLEMENT_SPACING_M square inside it, about as many per km² as the Đơn Dương demo has.
SETTLEMENT_SPACING_M = 8000.0


def _settlements(shape: BaseGeometry) -> list[tuple[float, float]]:
    minx, miny, maxx, maxy = shape.bounds
    step = SETTLEMENT_SPACING_M
    grid = [
        shapely.Point(x, y)
        for x in np.arange(np.floor(minx / step) * step + step / 2, maxx, step)
        for y in np.arange(np.floor(miny / step) * step + step / 2, maxy, step)
    ]
    inside = [(p.x, p.y) for p in grid if shape.contains(p)]
    return [(shape.centroid.x, shape.centroid.y), *inside]


def _model(slug: str) -> Any:
    if slug == "petitions":
        from petitions.models import Petition

        return Petition
    return dict(LAYERS)[slug]


def load(
    stdout: TextIO, reset: bool = False, *, only: list[str] | None = None, scale: float = 1.0, progress: bool = False
) -> None:
    """Load every sector's demo data (skipping layers that already have it) and report counts and times.

    `only` (commune codes) and `scale` (factor of the district's record totals) make a small demo for tests,
    or the province (gis_ioc/demo/province.py); `progress` reports the parcels commune by commune.
    """
    communes = [c for c in current_communes() if only is None or c.code in only]
    if not communes:
        stdout.write("Chưa có xã nào: hãy nạp đơn vị hành chính trước / no communes loaded")
        return
    today = timezone.localdate()
    generated: dict[str, Any] = {}  # the parcel table, reused by the plans instead of reading it back
    steps: list[tuple[str, Callable[[], int]]] = [
        ("schools", lambda: records.schools(communes, SEED)),
        ("health-facilities", lambda: records.health_facilities(communes, SEED)),
        ("household-businesses", lambda: records.household_businesses(communes, SEED, today, round(3000 * scale))),
        ("land-parcels", lambda: _load_parcels(communes, generated, stdout if progress else None)),
        ("planning-zones", lambda: _load_plans(communes, generated)),
        ("petitions", lambda: records.petitions(communes, SEED, today, round(5000 * scale))),
        ("dossiers", lambda: records.dossiers(communes, SEED, today, round(20000 * scale))),
        ("budget-revenue", lambda: records.revenue(communes, SEED, today)),
        ("indicators", lambda: records.indicators(communes, SEED, today)),
        ("crop-areas", lambda: rural.crop_areas(communes, SEED, today, round(300 * scale))),
        ("farms", lambda: rural.farms(communes, SEED)),
        ("tourism-sites", lambda: rural.tourism_sites(communes, SEED)),
        ("tourism-visitors", lambda: rural.visitors(SEED, today)),
    ]
    started = time.monotonic()
    for slug, step in steps:
        model = _model(slug)
        t0 = time.monotonic()
        if model.objects.filter(is_demo=True).exists():
            stdout.write(f"  {slug:<22} đã có / already loaded ({model.objects.filter(is_demo=True).count():,})")
            continue
        with transaction.atomic():
            count = step()
            _record_change(model)
        _analyze(model)
        stdout.write(f"  {slug:<22} {count:>8,} bản ghi / rows   {time.monotonic() - t0:5.1f} s")
    with transaction.atomic():
        filed = by_date.file_by_date()
        for model in (HouseholdBusiness, Dossier, BudgetRevenue, Indicator, CropArea, VisitorCount):
            if filed.get(model._meta.db_table):
                _record_change(model)
        if filed.get("petitions_petition"):
            _record_change(_model("petitions"))
    moved = ", ".join(f"{table} {n:,}" for table, n in filed.items() if n)
    stdout.write(f"  theo đơn vị của ngày ghi / filed under the units of their dates: {moved or '—'}")
    publish_cadastre()
    stdout.write(f"  Dữ liệu mẫu các lớp / sector demo data: {time.monotonic() - started:.1f} s")


def publish_cadastre() -> None:
    """The demo district publishes its cadastral map, as districts do for the citizens' planning lookup:
    the parcels' key, area, land use and outline become public; the certificate status stays with staff.
    A catalog decision an administrator can reverse in the admin (the default catalog keeps parcels staff)."""
    layer = Layer.objects.filter(slug="land-parcels").first()
    if layer is None or layer.visibility == "public":
        return
    layer.visibility = "public"
    for attribute in layer.attributes:
        attribute["visibility"] = "staff" if attribute["name"] == "certificate_status" else "public"
    layer.save()


def _record_change(model: Any) -> None:
    """The one change signal for every layer over the model (the plans are loaded with their zones)."""
    Layer.objects.record_change(model)
    if model is PlanningZone:
        Layer.objects.record_change(PlanningPlan)


def _analyze(model: Any) -> None:
    # Fresh planner statistics: the first tile and statistics queries after a load otherwise misestimate.
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {model._meta.db_table}")


def _load_parcels(communes: list[Commune], generated: dict[str, Any], stdout: TextIO | None = None) -> int:
    """Generate the cadastral parcels and COPY them in (the only layer big enough to need COPY)."""
    started = time.monotonic()

    def report(done: int, rows: int) -> None:
        if stdout is not None and (done == len(communes) or done % max(1, len(communes) // 10) == 0):
            took = time.monotonic() - started
            stdout.write(f"    thửa đất / parcels: {done}/{len(communes)} xã, {rows:,} thửa, {took:.0f} s")

    table = geometry.parcels(communes, SEED, report)
    generated["parcels"] = table
    rng = np.random.default_rng(SEED + 7)
    now = timezone.now().isoformat()
    # One tab-separated buffer written by pandas, streamed to COPY: no Python call per row.
    rows = pd.DataFrame(
        {
            "commune_id": table["commune_id"],
            "commune_code": table["commune_code"],
            "is_demo": "t",
            "created_at": now,
            "updated_at": now,
            "sheet_number": table["sheet_number"],
            "parcel_number": table["parcel_number"],
            "area_m2": table["area_m2"],
            "land_use": table["land_use"],
            "certificate_status": rng.choice(["granted", "pending", "none"], size=len(table), p=[0.76, 0.09, 0.15]),
            "geom": shapely.to_wkb(shapely.set_srid(table["geom"].to_numpy(), 4326), hex=True, include_srid=True),
        }
    )
    buffer = rows.to_csv(sep="\t", header=False, index=False).encode()
    with connection.cursor() as cursor:
        raw = cursor.cursor  # the psycopg 3 cursor under Django's wrapper
        with raw.copy(f"COPY {LandParcel._meta.db_table} ({', '.join(rows.columns)}) FROM STDIN") as copy:
            for start in range(0, len(buffer), 1 << 20):
                copy.write(buffer[start : start + (1 << 20)])
    return len(table)


def _parcel_centroids() -> pd.DataFrame:
    """Demo parcels already in the database (plans loaded in a later run): centroids in metres."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT commune_code, land_use, area_m2, ST_AsBinary(ST_Centroid(geom)) FROM layers_landparcel "
            "WHERE is_demo"
        )
        rows = cursor.fetchall()
    table = pd.DataFrame(rows, columns=["commune_code", "land_use", "area_m2", "wkb"])
    table["geom_m"] = list(to_metres(shapely.from_wkb([bytes(w) for w in table["wkb"]])))
    return table


def _load_plans(communes: list[Commune], generated: dict[str, Any]) -> int:
    """The approved 2015–2025 land-use plan and the 2025–2035 draft, a few hundred zones each."""
    table = generated.get("parcels")
    approved_zones, draft_zones = geometry.zones(communes, table if table is not None else _parcel_centroids(), SEED)
    approved = PlanningPlan.objects.create(
        name="Quy hoạch sử dụng đất huyện Đơn Dương giai đoạn 2015–2025",
        level=PlanningPlan.Level.SU_DUNG_DAT,
        period_start=2015,
        period_end=2025,
        status=PlanningPlan.Status.APPROVED,
        approval_decision="Quyết định số 1234/QĐ-UBND (dữ liệu mẫu)",
        approved_on=dt.date(2016, 6, 20),
        is_demo=True,
    )
    draft = PlanningPlan.objects.create(
        name="Quy hoạch sử dụng đất huyện Đơn Dương thời kỳ 2025–2035 (dự thảo)",
        level=PlanningPlan.Level.SU_DUNG_DAT,
        period_start=2025,
        period_end=2035,
        status=PlanningPlan.Status.DRAFT,
        is_demo=True,
    )
    objects = []
    for plan, zones in [(approved, approved_zones), (draft, draft_zones)]:
        for z in zones:
            density, height = geometry.ZONE_LIMITS.get(z["land_use"], (5, 6))
            objects.append(
                PlanningZone(
                    plan=plan, commune_id=z["commune_id"], commune_code=z["commune_code"], zone_code=z["zone_code"],
                    land_use=z["land_use"], max_density=density, max_height=height, is_demo=True,
                    geom=_multipolygon(z["geom"]),
                )
            )  # fmt: skip
    PlanningZone.objects.bulk_create(objects, batch_size=BATCH)
    return len(objects)


def _multipolygon(shape: BaseGeometry) -> MultiPolygon:
    """A shapely MultiPolygon in lon/lat as GEOS, for a MultiPolygon field."""
    geom = GEOSGeometry(memoryview(shape.wkb), srid=4326)
    assert isinstance(geom, MultiPolygon)  # geometry.zones builds every zone as a MultiPolygon
    return geom


def clear() -> None:
    """Delete every demo row of the sector layers (not the communes; load_demo --reset handles those)."""
    from petitions.models import Petition

    with transaction.atomic():
        demo_models: list[type[SectorFeature] | type[PlanningPlan]] = [
            VisitorCount,
            TourismSite,
            CropArea,
            Farm,
            Petition,
            Dossier,
            BudgetRevenue,
            Indicator,
            PlanningZone,
            PlanningPlan,
        ]
        for model in demo_models:
            model.objects.filter(is_demo=True).delete()
        # 100,000+ parcels: one DELETE, not the ORM collector (which loads every row to cascade). Real
        # petitions pointing at a demo parcel lose the link first; any other reference stops the delete.
        demo_parcels = LandParcel.objects.filter(is_demo=True)
        Petition.objects.filter(land_parcel__in=demo_parcels).update(land_parcel=None)
        demo_parcels._raw_delete(demo_parcels.db)
        for model in [HouseholdBusiness, HealthFacility, School]:
            model.objects.filter(is_demo=True).delete()
        for slug, _model_class in LAYERS:
            _record_change(_model(slug))
