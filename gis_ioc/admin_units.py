"""Loading administrative units: one transaction per load, geodesic areas and dissolves done in PostGIS,
and a topology report (overlaps, gaps) instead of failing on the slivers real boundary data has."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.contrib.gis.geos import GeometryCollection, GEOSGeometry, MultiPolygon, Polygon
from django.db import connection, transaction
from django.db.models import Q

from gis_ioc.lib.text import ascii_name, nfc
from gis_ioc.models import AdminUnit, AdminUnitPopulation, Level, UnitType
from gis_ioc.unit_sets import attach


class AdminUnitLoadError(ValueError):
    """A load that cannot proceed; the message names the file, row and field where it can."""


@dataclass
class UnitInput:
    code: str
    name: str
    geom: GEOSGeometry
    unit_type: str = UnitType.XA
    name_ascii: str = ""
    populations: dict[int, int] = field(default_factory=dict)
    row: int = 0  # 1-based position in the source file, for error messages
    extra: dict[str, object] = field(default_factory=dict)  # other requested attributes (e.g. district code)


@dataclass
class TopologyReport:
    overlaps: list[tuple[str, str, float]] = field(default_factory=list)  # (code, code, km²)
    gaps: list[float] = field(default_factory=list)  # km² of each hole inside the union
    repaired: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """A short human-readable report."""
        out = [
            f"Chồng lấn/overlapping pairs: {len(self.overlaps)} ({sum(a for _, _, a in self.overlaps):.3f} km²)",
            f"Khoảng hở/gaps: {len(self.gaps)} ({sum(self.gaps):.3f} km²)",
        ]
        out += [f"  overlap {a} × {b}: {km2:.4f} km²" for a, b, km2 in self.overlaps[:50]]
        if self.repaired:
            out.append(f"Đã sửa hình học không hợp lệ/repaired invalid geometries: {', '.join(self.repaired)}")
        return out


def unit_type_from_text(text: str | None, level: str = Level.COMMUNE) -> str:
    """Map "Thị trấn", "Xã", "Phường", "Huyện", "Tỉnh" (any accents/case) to a UnitType."""
    from gis_ioc.lib.text import fold

    folded = fold(text or "")
    for prefix, value in (
        ("thi tran", UnitType.THI_TRAN),
        ("phuong", UnitType.PHUONG),
        ("xa", UnitType.XA),
        ("huyen", UnitType.HUYEN),
        ("thanh pho", UnitType.THANH_PHO),
        ("tinh", UnitType.TINH),
    ):
        if folded.startswith(prefix):
            return value
    defaults: dict[str, str] = {Level.PROVINCE: UnitType.TINH, Level.DISTRICT: UnitType.HUYEN}
    return defaults.get(level, UnitType.XA)


def _as_multipolygon(unit: UnitInput, source: str, report: TopologyReport) -> MultiPolygon:
    geom = unit.geom
    if geom.srid is None:
        geom.srid = 4326
    if geom.srid != 4326:
        geom.transform(4326)
    if geom.empty:
        raise AdminUnitLoadError(f"{source}: row {unit.row} (code {unit.code}): empty geometry")
    if geom.geom_type not in ("Polygon", "MultiPolygon"):
        raise AdminUnitLoadError(
            f"{source}: row {unit.row} (code {unit.code}): geometry is a {geom.geom_type}, expected a polygon"
        )
    if not geom.valid:
        reason = geom.valid_reason
        fixed = geom.make_valid()
        polys = [
            g
            for g in (fixed if isinstance(fixed, GeometryCollection) else [fixed])
            if g.geom_type in ("Polygon", "MultiPolygon")
        ]
        if not polys:
            raise AdminUnitLoadError(f"{source}: row {unit.row} (code {unit.code}): invalid polygon ({reason})")
        parts: list[GEOSGeometry] = []
        for p in polys:
            parts.extend(list(p) if isinstance(p, MultiPolygon) else [p])
        geom = MultiPolygon(parts, srid=4326)
        report.repaired.append(f"{unit.code} ({reason})")
    if isinstance(geom, Polygon):
        return MultiPolygon([geom], srid=4326)
    assert isinstance(geom, MultiPolygon)  # a Polygon or a MultiPolygon, checked above
    return geom


def update_areas(ids: list[int]) -> None:
    """Recompute the geodesic area (km²) of the given units in PostGIS."""
    _update_areas(ids)


def _update_areas(ids: list[int]) -> None:
    # Geodesic area on the WGS84 ellipsoid: degrees² would be meaningless and a projected CRS distorts.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE gis_ioc_adminunit SET area_km2 = ST_Area(geom::geography) / 1e6 WHERE id = ANY(%s)", [ids]
        )


def _union(ids: list[int]) -> MultiPolygon:
    """The union of the units as one valid MultiPolygon, computed in PostGIS."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ST_AsEWKB(ST_Multi(ST_CollectionExtract(ST_MakeValid(ST_Union(geom)), 3))) "
            "FROM gis_ioc_adminunit WHERE id = ANY(%s)",
            [ids],
        )
        union = GEOSGeometry(memoryview(bytes(cursor.fetchone()[0])))
    assert isinstance(union, MultiPolygon)  # ST_Multi of polygons, even when empty
    return union


def dissolve_into(
    child_ids: list[int],
    *,
    code: str,
    name: str,
    level: str,
    valid_from: dt.date,
    source: str,
    is_demo: bool = False,
    parent: AdminUnit | None = None,
    name_ascii: str = "",
) -> AdminUnit:
    """Make the children's parent unit: dissolve them into it unless it was supplied with its own boundary.

    A parent loaded earlier from its own file (source not "dissolved from ...") keeps its boundary: the
    official line beats a union of thinned commune polygons. A missing or previously dissolved parent
    is (re)built as the union of the children, computed in PostGIS. The children are re-pointed to it.
    """
    existing = AdminUnit.objects.current(valid_from).filter(code=code, level=level).first()
    supplied = existing is not None and not existing.source.startswith("dissolved from")
    unit = existing or AdminUnit(code=code, level=level, valid_from=valid_from)
    if not supplied:
        unit.name, unit.name_ascii = nfc(name), ascii_name(name_ascii or name)
        unit.unit_type = unit_type_from_text(name, level)
        unit.geom = _union(child_ids)
        unit.area_km2, unit.source, unit.is_demo = 0, f"dissolved from {source}", is_demo
    if parent is not None:
        unit.parent = parent
    unit.save()
    if not supplied:
        _update_areas([unit.id])
    AdminUnit.objects.filter(id__in=child_ids).update(parent=unit)
    attach([unit], level=level, valid_from=valid_from, source=source)
    return unit


def topology_report(ids: list[int], report: TopologyReport | None = None) -> TopologyReport:
    """Overlapping pairs (with area) and gaps (holes of the union) among the given units."""
    report = report or TopologyReport()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT a.code, b.code, ST_Area(ST_Intersection(a.geom, b.geom)::geography) / 1e6
            FROM gis_ioc_adminunit a JOIN gis_ioc_adminunit b
              ON a.id < b.id AND a.geom && b.geom AND ST_Overlaps(a.geom, b.geom)
            WHERE a.id = ANY(%s) AND b.id = ANY(%s)
            ORDER BY 3 DESC
            """,
            [ids, ids],
        )
        report.overlaps = [(a, b, float(km2)) for a, b, km2 in cursor.fetchall()]
        cursor.execute(
            """
            WITH u AS (SELECT ST_Union(geom) AS g FROM gis_ioc_adminunit WHERE id = ANY(%s)),
                 polys AS (SELECT (ST_Dump(g)).geom AS p FROM u),
                 holes AS (SELECT ST_MakePolygon(ST_InteriorRingN(p, n)) AS h
                           FROM polys, generate_series(1, ST_NumInteriorRings(p)) AS n)
            SELECT ST_Area(h::geography) / 1e6 FROM holes ORDER BY 1 DESC
            """,
            [ids],
        )
        report.gaps = [float(a) for (a,) in cursor.fetchall()]
    return report


def _check_codes(units: list[UnitInput], source: str) -> dict[str, int]:
    seen: dict[str, int] = {}
    for unit in units:
        if not unit.code:
            raise AdminUnitLoadError(f"{source}: row {unit.row}: the code field is empty")
        if unit.code in seen:
            raise AdminUnitLoadError(
                f"{source}: row {unit.row}: code {unit.code} appears twice in the same validity period "
                f"(first at row {seen[unit.code]})"
            )
        seen[unit.code] = unit.row
    return seen


def _replaceable(seen: dict[str, int], *, level: str, valid_from: dt.date, replace: bool, source: str) -> dict:
    """Existing rows that the load updates in place (with `replace`); any other overlap is an error."""
    # The loaded units are open-ended [valid_from, ∞): every version not closed by valid_from overlaps.
    overlapping = AdminUnit.objects.filter(code__in=list(seen), level=level).filter(
        Q(valid_to__isnull=True) | Q(valid_to__gt=valid_from)
    )
    in_place: dict[str, AdminUnit] = {}
    # In file order, so the error names the first row that clashes.
    for unit in sorted(overlapping, key=lambda u: (seen[u.code], u.valid_from)):
        period = (
            f"{unit.valid_from:%Y-%m-%d}–{unit.valid_to:%Y-%m-%d}" if unit.valid_to else f"{unit.valid_from:%Y-%m-%d}–"
        )
        if replace and unit.valid_from <= valid_from:
            in_place[unit.code] = unit  # the version valid on valid_from: update it, keep its id and period
        elif replace and unit.code in in_place:
            continue  # a later version of a code whose current version is updated in place: untouched
        else:
            hint = "; use --replace to replace it" if not replace else "; close that version first"
            raise AdminUnitLoadError(
                f"{source}: row {seen[unit.code]}: code {unit.code} already exists for a period overlapping "
                f"{valid_from:%Y-%m-%d}– ({unit.name}, {period}){hint}"
            )
    return in_place


@transaction.atomic
def load_units(
    units: list[UnitInput],
    *,
    level: str = Level.COMMUNE,
    valid_from: dt.date = dt.date(2009, 1, 1),
    source: str = "",
    is_demo: bool = False,
    district: tuple[str, str, str] | None = None,
    province: tuple[str, str, str] | None = None,
    replace: bool = False,
) -> tuple[list[AdminUnit], TopologyReport]:
    """Load units of one level in one transaction; dissolve communes into district/province if given.

    `district`/`province` are (code, name, ascii name): the loaded units are attached to them, and they
    are built as the union of the loaded units unless they were supplied earlier with their own boundary.
    A code already present in an overlapping validity period is an error naming the row; with `replace`
    the version valid on `valid_from` is updated in place (same id, so features pointing to it stay).
    """
    if not units:
        raise AdminUnitLoadError(f"{source}: no features to load")
    report = TopologyReport()
    seen = _check_codes(units, source)
    in_place = _replaceable(seen, level=level, valid_from=valid_from, replace=replace, source=source)
    created: list[AdminUnit] = []
    for unit in units:
        geom = _as_multipolygon(unit, source, report)
        obj = in_place.get(unit.code) or AdminUnit(code=unit.code, level=level, valid_from=valid_from)
        obj.name, obj.name_ascii = nfc(unit.name), ascii_name(unit.name_ascii or unit.name)
        obj.unit_type, obj.geom, obj.area_km2, obj.source, obj.is_demo = unit.unit_type, geom, 0, source, is_demo
        obj.save()
        obj.populations.all().delete()
        AdminUnitPopulation.objects.bulk_create(
            [AdminUnitPopulation(unit=obj, year=y, population=p) for y, p in sorted(unit.populations.items())]
        )
        created.append(obj)
    ids = [u.id for u in created]
    _update_areas(ids)
    attach(created, level=level, valid_from=valid_from, source=source)
    topology_report(ids, report)
    parent_province = None
    if province:
        parent_province = dissolve_into(
            ids,
            code=province[0],
            name=province[1],
            name_ascii=province[2],
            level=Level.PROVINCE,
            valid_from=valid_from,
            source=source,
            is_demo=is_demo,
        )
    if district:
        dissolve_into(
            ids,
            code=district[0],
            name=district[1],
            name_ascii=district[2],
            level=Level.DISTRICT,
            valid_from=valid_from,
            source=source,
            is_demo=is_demo,
            parent=parent_province,
        )
    for obj in created:
        obj.refresh_from_db()
    return created, report
