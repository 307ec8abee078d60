"""A 2025-07-style reform of the real Lâm Đồng communes, computed in PostGIS and written as the files a
province would send: a crosswalk (CSV or XLSX) and the boundaries of the units a split creates.

Used by tests/gis_ioc/test_crosswalk_real_communes.py and benchmarks/unit_sets.py. Deterministic: the
groups are picked in code order among communes that share a boundary (ST_Touches, so no overlapping
pair is merged and a merged unit's area is exactly the sum of its parts), and the split commune is cut
by the north–south line through its centroid.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

from django.db import connection

from tests.conftest import shared_file

LAM_DONG = "lam_dong_communes.geojson"
# The 2009 census id is the one code every one of the 148 features carries (7 have no GSO code).
LOAD_ARGS = [
    "--code-field=census2009_commune_id",
    "--name-field=full_name",
    "--type-field=type",
    "--population-field=2009=pop_2009",
    "--population-field=2019=pop_2019",
    "--district-field=gso_district_code:district_full",
    "--province-field=gso_province_code:province",
]
REFORM_DAY = dt.date(2025, 7, 1)
LEGAL_BASIS = "Nghị quyết 1671/NQ-UBTVQH15"


def load_lam_dong() -> None:
    """The 148 communes as the 2009–2024 commune set (the command documented in docs/boundaries.md)."""
    from django.core.management import call_command

    call_command("import_admin_units", str(shared_file(LAM_DONG)), *LOAD_ARGS, stdout=open("/dev/null", "w"))  # noqa: SIM115


@dataclass
class Half:
    code: str
    name: str
    share: float  # of the split commune's area
    area_km2: float
    geojson: str


@dataclass
class Reform:
    day: dt.date
    old_codes: list[str]  # every unit of the old set
    merges: list[tuple[str, str, list[str]]] = field(default_factory=list)  # (new code, new name, old codes)
    split_code: str = ""
    halves: list[Half] = field(default_factory=list)

    @property
    def changed(self) -> set[str]:
        return {c for _, _, olds in self.merges for c in olds} | {self.split_code}

    def rows(self) -> list[list[object]]:
        """Crosswalk rows: old code, new code, new name, date, area share, population share, legal basis."""
        out: list[list[object]] = []
        for new, name, olds in self.merges:
            out += [[old, new, name, self.day, "", "", LEGAL_BASIS] for old in olds]
        out += [[self.split_code, h.code, h.name, self.day, h.share, h.share, LEGAL_BASIS] for h in self.halves]
        out += [[c, c, "", self.day, "", "", ""] for c in self.old_codes if c not in self.changed]
        return out


HEADER = ["old_code", "new_code", "new_name", "effective_date", "area_share", "population_share", "legal_basis"]
HEADER_VI = ["Mã cũ", "Mã mới", "Tên mới", "Ngày hiệu lực", "Tỷ lệ diện tích", "Tỷ lệ dân số", "Căn cứ"]


def plan_reform(set_slug: str, sizes: tuple[int, ...] = (2, 3, 4, 2), code_base: int = 90001) -> Reform:
    """Merge groups of neighbouring communes of the set (one group per size) and split one commune."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT u.code, u.id FROM gis_ioc_adminunit u
            JOIN gis_ioc_unitset_members m ON m.adminunit_id = u.id
            JOIN gis_ioc_unitset s ON s.id = m.unitset_id AND s.slug = %s
            ORDER BY u.code
            """,
            [set_slug],
        )
        ids = dict(cursor.fetchall())
        cursor.execute(
            """
            SELECT a.code, b.code, ST_Touches(a.geom, b.geom) FROM gis_ioc_adminunit a
            JOIN gis_ioc_adminunit b ON a.id <> b.id AND a.geom && b.geom AND ST_Intersects(a.geom, b.geom)
            WHERE a.id = ANY(%s) AND b.id = ANY(%s) ORDER BY a.code, b.code
            """,
            [list(ids.values()), list(ids.values())],
        )
        touching: dict[str, list[str]] = {}
        overlapping: set[tuple[str, str]] = set()
        for a, b, touches in cursor.fetchall():
            if touches:
                touching.setdefault(a, []).append(b)
            else:
                overlapping.add((a, b))
    reform = Reform(day=REFORM_DAY, old_codes=sorted(ids))
    used: set[str] = set()
    for i, size in enumerate(sizes):
        for seed in sorted(touching):
            if seed in used:
                continue
            group = [seed]
            for other in touching[seed]:  # neighbours of the seed: the group is connected
                # Members that overlap (thinned slivers) would make the union smaller than the sum.
                if other not in used and len(group) < size and not any((other, g) in overlapping for g in group):
                    group.append(other)
            if len(group) == size:
                break
        else:
            raise AssertionError(f"no free group of {size} touching communes")
        used.update(group)
        reform.merges.append((str(code_base + i), f"Xã Hợp Nhất {i + 1}", sorted(group)))
    reform.split_code = next(c for c in sorted(ids) if c not in used)
    reform.halves = _halves(ids[reform.split_code], code_base + len(sizes))
    return reform


def _halves(unit_id: int, first_code: int) -> list[Half]:
    """The commune west and east of the meridian through its centroid, with geodesic areas and shares."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH u AS (SELECT geom, ST_X(ST_Centroid(geom)) AS cx FROM gis_ioc_adminunit WHERE id = %s),
                 h AS (SELECT side, ST_Multi(ST_CollectionExtract(ST_Intersection(u.geom, CASE side
                          WHEN 0 THEN ST_MakeEnvelope(ST_XMin(u.geom) - 1, ST_YMin(u.geom) - 1, u.cx,
                                                      ST_YMax(u.geom) + 1, 4326)
                          ELSE ST_MakeEnvelope(u.cx, ST_YMin(u.geom) - 1, ST_XMax(u.geom) + 1,
                                               ST_YMax(u.geom) + 1, 4326) END), 3)) AS g
                       FROM u, generate_series(0, 1) AS side)
            SELECT side, ST_AsGeoJSON(g, 9), ST_Area(g::geography) / 1e6,
                   ST_Area(g::geography) / ST_Area((SELECT geom FROM u)::geography)
            FROM h ORDER BY side
            """,
            [unit_id],
        )
        rows = cursor.fetchall()
    names = ("Xã Tây Tách", "Xã Đông Tách")
    return [
        Half(code=str(first_code + side), name=names[side], share=round(share, 6), area_km2=area, geojson=geo)
        for side, geo, area, share in rows
    ]


def write_csv(reform: Reform, path: Path, *, vietnamese: bool = False) -> Path:
    """The crosswalk as a CSV (Vietnamese headers and DD/MM/YYYY dates when asked)."""
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER_VI if vietnamese else HEADER)
        for row in reform.rows():
            day = row[3]
            assert isinstance(day, dt.date)
            row[3] = f"{day:%d/%m/%Y}" if vietnamese else day.isoformat()
            writer.writerow(row)
    return path


def write_xlsx(reform: Reform, path: Path) -> Path:
    """The crosswalk as a spreadsheet: dates as dates, codes as numbers (as Excel turns them)."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    for row in reform.rows():
        sheet.append([int(c) if isinstance(c, str) and c.isdigit() else c for c in row])
    book.save(path)
    return path


def write_boundaries(reform: Reform, path: Path) -> Path:
    """The split's new units as GeoJSON (code, name)."""
    features = [
        {"type": "Feature", "properties": {"code": h.code, "name": h.name}, "geometry": json.loads(h.geojson)}
        for h in reform.halves
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False))
    return path
