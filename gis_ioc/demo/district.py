"""The demo district: Đơn Dương's 10 communes (2009–2024) with generated boundaries, the district and
province dissolved from them, and the 2025-01-01 merger of Pró into Quảng Lập (code 24955 kept)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from gis_ioc.admin_units import TopologyReport, UnitInput, load_units, merge_units
from gis_ioc.demo.communes import generate
from gis_ioc.demo.facts import COMMUNES, DISTRICT, PROVINCE
from gis_ioc.models import AdminUnit, Level

MERGER_DATE = dt.date(2025, 1, 1)
DEMO_SOURCE = "demo: generated around the communes' interior points"


def district_loaded() -> bool:
    return AdminUnit.objects.filter(level=Level.DISTRICT, code=DISTRICT[0]).exists()


@transaction.atomic
def load_district(units: list[UnitInput] | None = None, *, source: str = DEMO_SOURCE) -> TopologyReport:
    """Load the communes (generated, or the given real boundaries), dissolve, apply the 2025 merger."""
    is_demo = units is None
    if units is None:
        shapes = generate()
        units = []
        for row, fact in enumerate(COMMUNES, start=1):
            from django.contrib.gis.geos import GEOSGeometry

            geom = GEOSGeometry(shapes[fact.code].wkt, srid=4326)
            units.append(
                UnitInput(
                    code=fact.code,
                    name=fact.name,
                    name_ascii=fact.name_ascii,
                    unit_type=fact.unit_type,
                    geom=geom,
                    populations={2009: fact.pop_2009, 2019: fact.pop_2019},
                    row=row,
                )
            )
    _created, report = load_units(
        units,
        level=Level.COMMUNE,
        valid_from=dt.date(2009, 1, 1),
        source=source,
        is_demo=is_demo,
        district=DISTRICT,
        province=PROVINCE,
    )
    merge_units(
        ["24946", "24955"],
        into_code="24955",
        name="Xã Quảng Lập",
        on=MERGER_DATE,
        source="Nghị quyết sáp nhập đơn vị hành chính cấp xã, hiệu lực 01/01/2025",
    )
    return report
