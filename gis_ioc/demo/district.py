"""The demo district: Đơn Dương's 10 communes (2009–2024) with generated boundaries, the district and
province dissolved from them, the 2025-01-01 merger of Pró and Quảng Lập (code 24955 kept) applied as a
crosswalk, and the district level abolished on 2025-07-01, the former district kept as a statistical area."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from gis_ioc.admin_units import TopologyReport, UnitInput, load_units
from gis_ioc.crosswalks import CrosswalkInput, import_crosswalk
from gis_ioc.demo.communes import generate
from gis_ioc.demo.facts import COMMUNES, DISTRICT, PROVINCE
from gis_ioc.models import AdminUnit, Level
from gis_ioc.unit_sets import abolish_level

MERGER_DATE = dt.date(2025, 1, 1)
DISTRICTS_ABOLISHED = dt.date(2025, 7, 1)
MERGER_BASIS = "Nghị quyết của UBTVQH về sắp xếp đơn vị hành chính cấp xã tỉnh Lâm Đồng (dữ liệu mẫu)"
REFORM_BASIS = "Nghị quyết 202/2025/QH15 và Luật Tổ chức chính quyền địa phương 2025: bỏ cấp huyện từ 01/07/2025"
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
    merger = [
        CrosswalkInput(
            row=i,
            old_code=unit.code,
            new_code="24955" if unit.code in ("24946", "24955") else unit.code,
            new_name="Xã Quảng Lập" if unit.code in ("24946", "24955") else "",
            effective_date=MERGER_DATE,
            legal_basis=MERGER_BASIS,
        )
        for i, unit in enumerate(units, start=2)
    ]
    # No refiling job: the demo's records do not exist yet, and its generator files them by date.
    import_crosswalk(merger, source="demo: sáp nhập Pró và Quảng Lập 01/01/2025", refile=False)
    abolish_level(Level.DISTRICT, DISTRICTS_ABOLISHED, reason=REFORM_BASIS)
    return report
