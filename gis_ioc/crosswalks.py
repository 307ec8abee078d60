"""Importing a crosswalk: the file that says how the units of one set became those of the next.

Columns (CSV or XLSX; English or Vietnamese headers, any case or accents):

    old_code | ma_cu          the unit of the old set (every one must appear)
    new_code | ma_moi         the unit it became (or part of)
    new_name | ten_moi        the new unit's name (needed unless the unit continues unchanged)
    effective_date | ngay_hieu_luc   YYYY-MM-DD or DD/MM/YYYY
    area_share | ty_le_dien_tich      share of the OLD unit's area that went to the new one (0–1 or "60%")
    population_share | ty_le_dan_so  same for its population (defaults to the area share)
    legal_basis | can_cu      the resolution, e.g. "Nghị quyết 1671/NQ-UBTVQH15"

An old unit on one row goes to its new unit whole (shares may be left empty). Everything is checked
before anything is written, and every problem is reported at once (`CrosswalkError.problems`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import connection, transaction
from django.db.models import Q

from gis_ioc.admin_units import (
    AdminUnitLoadError,
    TopologyReport,
    UnitInput,
    _as_multipolygon,
    _union,
    _update_areas,
    topology_report,
    unit_type_from_text,
)
from gis_ioc.lib.text import ascii_name, fold, nfc
from gis_ioc.models import AdminUnit, AdminUnitPopulation, Crosswalk, CrosswalkRow, Level, UnitSet
from gis_ioc.unit_sets import (
    CODE_WIDTH,
    SHARE_TOLERANCE,
    TOPOLOGY_TOLERANCE_KM2,
    CrosswalkError,
    _default_names,
    set_names,
)

COLUMNS: dict[str, tuple[str, ...]] = {
    "old_code": ("old_code", "ma_cu", "ma_don_vi_cu", "ma_xa_cu", "old"),
    "new_code": ("new_code", "ma_moi", "ma_don_vi_moi", "ma_xa_moi", "new"),
    "new_name": ("new_name", "ten_moi", "ten_don_vi_moi", "ten_xa_moi", "name"),
    "effective_date": ("effective_date", "ngay_hieu_luc", "hieu_luc", "effective", "date"),
    "area_share": ("area_share", "ty_le_dien_tich", "dien_tich", "area"),
    "population_share": ("population_share", "ty_le_dan_so", "dan_so", "population"),
    "legal_basis": ("legal_basis", "can_cu", "can_cu_phap_ly", "nghi_quyet", "decision"),
}
REQUIRED = ("old_code", "new_code", "effective_date")


@dataclass
class CrosswalkInput:
    row: int
    old_code: str
    new_code: str
    new_name: str = ""
    effective_date: dt.date | None = None
    area_share: float | None = None
    population_share: float | None = None
    legal_basis: str = ""


@dataclass
class CrosswalkResult:
    crosswalk: Crosswalk
    unchanged: list[str] = field(default_factory=list)
    merged: dict[str, list[str]] = field(default_factory=dict)  # new code -> old codes (whole)
    split_into: dict[str, list[str]] = field(default_factory=dict)  # new code -> old codes (some in part)
    closed: list[AdminUnit] = field(default_factory=list)
    topology: TopologyReport | None = None

    def lines(self) -> list[str]:
        """A short report for the command line and the API."""
        cw = self.crosswalk
        out = [
            f"{cw.from_set.name} → {cw.to_set.name} ({cw.effective_date:%Y-%m-%d}): "
            f"{len(self.unchanged)} giữ nguyên/unchanged, {len(self.merged)} nhập/merged, "
            f"{len(self.split_into)} chia tách/from splits, {len(self.closed)} đóng/closed"
        ]
        out += [f"  {new} ← {' + '.join(olds)}" for new, olds in sorted(self.merged.items())]
        out += [f"  {new} ← {' + '.join(olds)} (một phần/in part)" for new, olds in sorted(self.split_into.items())]
        return out


def _header_key(text: Any) -> str:
    return re.sub(r"[^a-z0-9]+", "_", fold(str(text or ""))).strip("_")


def _code(value: Any, level: str) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = nfc(str(value)).strip()
    # Spreadsheets drop leading zeros of GSO codes ("00001" → 1): pad numbers to the level's width.
    width = CODE_WIDTH.get(level)
    return text.zfill(width) if width and text.isdigit() else text


def _date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"{text!r} is not a date (YYYY-MM-DD or DD/MM/YYYY)")


def _share(value: Any) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, (int, float)):
        number = float(value)
    else:
        text = str(value).strip().replace(" ", "")
        percent = text.endswith("%")
        text = text.rstrip("%").replace(",", ".")
        try:
            number = float(text)
        except ValueError:
            raise ValueError(f"{value!r} is not a number") from None
        if percent:
            number /= 100
    if not 0 <= number <= 1:
        raise ValueError(f"{value!r} is not a share between 0 and 1 (write 60% for a percentage)")
    return number


def read_crosswalk(path: Path, name: str | None = None, level: str = Level.COMMUNE) -> list[CrosswalkInput]:
    """The rows of a CSV or XLSX crosswalk, read through the import pipeline's checks and table readers."""
    import tempfile

    from layers.importers.base import ImportOptions
    from layers.importers.formats import TabularImporter
    from layers.importers.pipeline import open_source
    from layers.importers.safety import ImportRefused

    source = name or path.name
    with tempfile.TemporaryDirectory() as workdir:
        try:
            importer = open_source(path, source, ImportOptions(), Path(workdir))
            if not isinstance(importer, TabularImporter):
                raise CrosswalkError(source, [f"a crosswalk is a CSV or XLSX table, not {importer.label}"])
            header, rows = importer.rows()
        except ImportRefused as exc:
            raise CrosswalkError(source, [str(exc)]) from None
    keys = [_header_key(h) for h in header]
    index: dict[str, int] = {}
    for column, aliases in COLUMNS.items():
        for alias in aliases:
            if alias in keys:
                index[column] = keys.index(alias)
                break
    missing = [c for c in REQUIRED if c not in index]
    if missing:
        raise CrosswalkError(
            source, [f"missing column(s) {', '.join(missing)}; the header is: {', '.join(map(str, header))}"]
        )
    problems: list[str] = []
    result = []
    for number, values in enumerate(rows, start=2):  # row 1 is the header

        def cell(column: str, values: list[Any] = values) -> Any:
            i = index.get(column)
            return values[i] if i is not None and i < len(values) else None

        item = CrosswalkInput(
            row=number,
            old_code=_code(cell("old_code"), level),
            new_code=_code(cell("new_code"), level),
            new_name=nfc(str(cell("new_name") or "")).strip(),
            legal_basis=nfc(str(cell("legal_basis") or "")).strip(),
        )
        for column in ("old_code", "new_code"):
            if not getattr(item, column):
                problems.append(f"row {number}, {column}: empty")
        try:
            item.effective_date = _date(cell("effective_date")) if cell("effective_date") not in (None, "") else None
            if item.effective_date is None:
                problems.append(f"row {number}, effective_date: empty")
        except ValueError as exc:
            problems.append(f"row {number}, effective_date: {exc}")
        for column in ("area_share", "population_share"):
            try:
                setattr(item, column, _share(cell(column)))
            except ValueError as exc:
                problems.append(f"row {number}, {column}: {exc}")
        result.append(item)
    if not result:
        problems.append("the file has no rows")
    if problems:
        raise CrosswalkError(source, problems)
    return result


def _cycle(rows: list[CrosswalkInput]) -> list[str] | None:
    """A cycle among the codes (a → b → a), which would make a code mean two units at once."""
    edges: dict[str, set[str]] = defaultdict(set)
    for r in rows:
        if r.old_code != r.new_code:
            edges[r.old_code].add(r.new_code)
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(edges):
        if start not in state and (found := visit(start)):
            return found
    return None


@dataclass
class _Plan:
    old_set: UnitSet
    day: dt.date
    old_units: dict[str, AdminUnit]
    rows: list[CrosswalkInput]
    continuing: dict[str, AdminUnit] = field(default_factory=dict)
    merged: dict[str, list[str]] = field(default_factory=dict)
    split: dict[str, list[str]] = field(default_factory=dict)
    preloaded: dict[str, AdminUnit] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)


def _plan(
    rows: list[CrosswalkInput], day: dt.date, level: str, from_set: UnitSet | None, boundaries: dict[str, UnitInput]
) -> tuple[_Plan | None, list[str]]:
    problems: list[str] = []
    old_set = from_set or (
        UnitSet.objects.administrative().filter(level=level).valid_on(day - dt.timedelta(days=1)).first()
    )
    if old_set is None:
        return None, [
            f"no {level} unit set is in force on {day - dt.timedelta(days=1):%Y-%m-%d}, the day before {day:%Y-%m-%d}"
        ]
    if old_set.valid_from and old_set.valid_from >= day:
        problems.append(
            f"effective date {day:%Y-%m-%d} is not after the start of {old_set.name} ({old_set.valid_from:%Y-%m-%d}): "
            "a crosswalk cannot lead back in time"
        )
    if old_set.valid_to is not None:
        problems.append(
            f"{old_set.name} was already replaced on {old_set.valid_to:%Y-%m-%d}: a crosswalk from it exists"
        )
    # Units beginning on the effective day are boundaries loaded beforehand for this reform (`attach` filed
    # them into the set in force that day, this one): they are new units, not old ones.
    members = list(old_set.members.filter(level=level))
    old_units = {u.code: u for u in members if u.valid_from < day}
    loaded_for_day = {u.code for u in members if u.valid_from >= day}
    plan = _Plan(old_set=old_set, day=day, old_units=old_units, rows=rows)
    by_old: dict[str, list[CrosswalkInput]] = defaultdict(list)
    by_new: dict[str, list[CrosswalkInput]] = defaultdict(list)
    pairs: Counter[tuple[str, str]] = Counter()
    for r in rows:
        pairs[(r.old_code, r.new_code)] += 1
        if pairs[(r.old_code, r.new_code)] == 2:
            problems.append(f"row {r.row}: {r.old_code} → {r.new_code} appears twice")
        if r.old_code not in old_units:
            problems.append(f"row {r.row}, old_code: {r.old_code} is not a unit of {old_set.name}")
            continue
        by_old[r.old_code].append(r)
        by_new[r.new_code].append(r)
    uncovered = sorted(set(old_units) - set(by_old))
    if uncovered:
        problems.append(f"{len(uncovered)} unit(s) of {old_set.name} are not covered: {', '.join(uncovered)}")
    # Shares: one row = the whole unit; several rows = a split whose shares must add up to 1.
    for code, parts in by_old.items():
        for column in ("area_share", "population_share"):
            values = [getattr(r, column) for r in parts]
            if len(parts) == 1:
                if values[0] is not None and abs(values[0] - 1) > SHARE_TOLERANCE:
                    problems.append(
                        f"row {parts[0].row}, {column}: {code} goes to one unit only, "
                        f"so its share must be 1, not {values[0]:g}"
                    )
                continue
            if column == "population_share" and all(v is None for v in values):
                continue  # defaults to the area shares
            if any(v is None for v in values):
                rows_missing = ", ".join(str(r.row) for r, v in zip(parts, values, strict=True) if v is None)
                problems.append(f"rows {rows_missing}, {column}: {code} is split, so every part needs its share")
                continue
            total = sum(v for v in values if v is not None)
            if abs(total - 1) > SHARE_TOLERANCE:
                problems.append(
                    f"rows {', '.join(str(r.row) for r in parts)}, {column}: the shares of {code} add up to "
                    f"{total:.3f}, not 1"
                )
        for r in parts:
            if len(parts) == 1:
                r.area_share = 1.0 if r.area_share is None else r.area_share
            if r.population_share is None:
                r.population_share = r.area_share
    if cycle := _cycle(rows):
        problems.append(f"the codes form a cycle: {' → '.join(cycle)}")
    for new_code, parts in by_new.items():
        names = {r.new_name for r in parts if r.new_name}
        if len(names) > 1:
            problems.append(
                f"rows {', '.join(str(r.row) for r in parts)}, new_name: "
                f"{new_code} is named {' / '.join(sorted(names))}"
            )
        whole = all(len(by_old[r.old_code]) == 1 for r in parts)
        old_unit = old_units.get(new_code)
        name = next(iter(names), "")
        if (
            whole
            and len(parts) == 1
            and parts[0].old_code == new_code
            and name in ("", old_unit.name if old_unit else "")
        ):
            assert old_unit is not None
            plan.continuing[new_code] = old_unit
            continue
        # A new version of the code begins on `day`: no other version may be valid then (except a boundary
        # loaded beforehand for exactly this reform).
        clash = (
            AdminUnit.objects.filter(code=new_code)
            .exclude(id__in=[u.id for u in old_units.values()])
            .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=day))
        )
        preloaded = [u for u in clash if u.valid_from == day and u.level == level]
        others = [u for u in clash if u not in preloaded]
        if others:
            u = others[0]
            problems.append(
                f"row {parts[0].row}, new_code: {new_code} already has a version valid on {day:%Y-%m-%d} "
                f"({u.name}, {u.valid_from:%Y-%m-%d} – {u.valid_to or ''}); "
                "validity periods of one code may not overlap"
            )
        if whole:
            plan.merged[new_code] = [r.old_code for r in parts]
            if preloaded:
                plan.preloaded[new_code] = preloaded[0]
        else:
            plan.split[new_code] = [r.old_code for r in parts]
            if preloaded:
                plan.preloaded[new_code] = preloaded[0]
            elif new_code not in boundaries:
                shared = [r.old_code for r in parts if len(by_old[r.old_code]) > 1]
                problems.append(
                    f"row {parts[0].row}: {new_code} takes part of {', '.join(shared)}, "
                    f"so its boundary is needed: pass it with --boundaries FILE, or load it first with "
                    f"`import_admin_units FILE --valid-from {day:%Y-%m-%d}`"
                )
        if not name and new_code not in plan.preloaded and new_code not in boundaries:
            problems.append(f"row {parts[0].row}, new_name: empty for the new unit {new_code}")
        plan.names[new_code] = name
    for code in sorted(loaded_for_day - set(by_new)):
        problems.append(f"{code} was loaded to begin on {day:%Y-%m-%d} but no row makes it a new unit (new_code)")
    return plan, problems


def _populations(new: AdminUnit, parts: list[AdminUnit]) -> None:
    """A unit merged whole has, for each census year all its parts share, the sum of their populations."""
    totals: dict[int, int] = defaultdict(int)
    counts: Counter[int] = Counter()
    for row in AdminUnitPopulation.objects.filter(unit__in=parts):
        totals[row.year] += row.population
        counts[row.year] += 1
    AdminUnitPopulation.objects.bulk_create(
        [AdminUnitPopulation(unit=new, year=y, population=p) for y, p in totals.items() if counts[y] == len(parts)]
    )


def _apply(plan: _Plan, level: str, source: str, boundaries: dict[str, UnitInput], user: Any) -> CrosswalkResult:
    day, old_units = plan.day, plan.old_units
    staying = {u.id for u in plan.continuing.values()}
    closing = [u for u in old_units.values() if u.id not in staying]
    AdminUnit.objects.filter(id__in=[u.id for u in closing]).update(valid_to=day)
    legal = Counter(r.legal_basis for r in plan.rows if r.legal_basis).most_common(1)
    legal_basis = legal[0][0] if legal else ""
    is_demo = all(u.is_demo for u in old_units.values())
    created: dict[str, AdminUnit] = {}
    report = TopologyReport()
    for new_code in [*plan.merged, *plan.split]:
        if new_code in plan.preloaded:
            created[new_code] = plan.preloaded[new_code]
            continue
        olds = [old_units[c] for c in (plan.merged.get(new_code) or plan.split[new_code])]
        given = boundaries.get(new_code)
        name = plan.names[new_code] or (given.name if given else "")
        unit = AdminUnit(
            code=new_code,
            name=nfc(name),
            name_ascii=ascii_name(given.name_ascii if given and given.name_ascii else name),
            level=level,
            unit_type=given.unit_type if given and given.unit_type else unit_type_from_text(name, level),
            parent=olds[0].parent,
            geom=_as_multipolygon(given, source, report) if given else _union([u.id for u in olds]),
            area_km2=0,
            valid_from=day,
            source=f"{source}: {legal_basis}" if legal_basis else source,
            is_demo=is_demo,
        )
        unit.save()
        if new_code in plan.merged:
            _populations(unit, olds)
        elif given:
            AdminUnitPopulation.objects.bulk_create(
                [AdminUnitPopulation(unit=unit, year=y, population=p) for y, p in sorted(given.populations.items())]
            )
        created[new_code] = unit
    _update_areas([u.id for u in created.values()])
    old_set = plan.old_set
    old_set.members.remove(*plan.preloaded.values())  # loaded beforehand into the set then in force
    renamed = _default_names(old_set)
    old_set.valid_to = day
    if renamed:
        old_set.name, old_set.name_en = set_names(old_set.level, old_set.valid_from, day)
    old_set.save()
    name, name_en = set_names(level, day)
    new_set = UnitSet.objects.create(
        slug=f"{level}-{day:%Y-%m-%d}",
        name=name,
        name_en=name_en,
        level=level,
        valid_from=day,
        legal_basis=legal_basis,
        description=source,
    )
    members = [*plan.continuing.values(), *created.values()]
    new_set.members.add(*members)
    crosswalk = Crosswalk.objects.create(
        from_set=old_set, to_set=new_set, effective_date=day, legal_basis=legal_basis, source=source, imported_by=user
    )
    units_now = {**plan.continuing, **created}
    CrosswalkRow.objects.bulk_create(
        [
            CrosswalkRow(
                crosswalk=crosswalk,
                old_unit=old_units[r.old_code],
                new_unit=units_now[r.new_code],
                area_share=r.area_share if r.area_share is not None else 1.0,
                population_share=r.population_share if r.population_share is not None else 1.0,
                legal_basis=r.legal_basis,
                row=r.row,
            )
            for r in plan.rows
        ]
    )
    before = topology_report([u.id for u in old_units.values()])
    after = topology_report([u.id for u in members], report)
    problems = []
    for what, old_km2, new_km2 in (
        ("overlap", sum(a for *_, a in before.overlaps), sum(a for *_, a in after.overlaps)),
        ("gaps", sum(before.gaps), sum(after.gaps)),
    ):
        if new_km2 - old_km2 > TOPOLOGY_TOLERANCE_KM2:
            problems.append(
                f"the new set has {new_km2:.3f} km² of {what}, the old one {old_km2:.3f} km² "
                f"(tolerance {TOPOLOGY_TOLERANCE_KM2} km²): check the boundaries of the split units"
            )
    problems += _uncovered_by_split(plan, old_units, created)
    if problems:
        raise CrosswalkError(source, problems)
    return CrosswalkResult(
        crosswalk=crosswalk,
        unchanged=sorted(plan.continuing),
        merged=plan.merged,
        split_into=plan.split,
        closed=closing,
        topology=after,
    )


def _uncovered_by_split(plan: _Plan, old_units: dict[str, AdminUnit], created: dict[str, AdminUnit]) -> list[str]:
    """Area of each split unit that none of its new units covers. The gap check above only sees holes
    inside the set's union, so a strip missing along the province's edge would be lost unnoticed."""
    problems = []
    for old_code in sorted({c for olds in plan.split.values() for c in olds}):
        parts = [created[new].id for new, olds in plan.split.items() if old_code in olds]
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT ST_Area(ST_Difference(o.geom, (SELECT ST_Union(geom) FROM gis_ioc_adminunit "
                "WHERE id = ANY(%s)))::geography) / 1e6 FROM gis_ioc_adminunit o WHERE o.id = %s",
                [parts, old_units[old_code].id],
            )
            uncovered = float(cursor.fetchone()[0] or 0)
        if uncovered > TOPOLOGY_TOLERANCE_KM2:
            problems.append(
                f"{uncovered:.3f} km² of {old_code} is in none of the units it was split into "
                f"(tolerance {TOPOLOGY_TOLERANCE_KM2} km²): check the boundaries of the split units"
            )
    return problems


def import_crosswalk(
    rows: list[CrosswalkInput],
    *,
    source: str,
    level: str = Level.COMMUNE,
    from_set: str | None = None,
    boundaries: list[UnitInput] | None = None,
    user: Any = None,
    refile: bool = True,
) -> list[CrosswalkResult]:
    """Apply a crosswalk (one step per effective date, in order) in one transaction, or refuse it whole.

    After commit, every layer over the units is bumped and the records of the changed units are
    re-assigned to the units valid at their date by a job.
    """
    by_code = {u.code: u for u in boundaries or []}
    steps: dict[dt.date, list[CrosswalkInput]] = defaultdict(list)
    for r in rows:
        assert r.effective_date is not None  # read_crosswalk refuses rows without one
        steps[r.effective_date].append(r)
    results: list[CrosswalkResult] = []
    try:
        with transaction.atomic():
            start_set = UnitSet.objects.filter(slug=from_set).first() if from_set else None
            if from_set and start_set is None:
                raise CrosswalkError(source, [f"unknown unit set {from_set!r}"])
            for i, day in enumerate(sorted(steps)):
                plan, problems = _plan(steps[day], day, level, start_set if i == 0 else None, by_code)
                if problems or plan is None:
                    raise CrosswalkError(source, problems)
                results.append(_apply(plan, level, source, by_code, user))
    except AdminUnitLoadError as exc:
        raise CrosswalkError(source, [str(exc)]) from None
    _after_commit(results, refile)
    return results


def _after_commit(results: list[CrosswalkResult], refile: bool = True) -> None:
    """Bump the layers over the units and queue the job that files records under the new units (not when
    there are no records yet: a platform being set up, the demo, whose generator files them by date)."""
    from layers.models import Layer
    from layers.tasks import refile_crosswalk

    geometries = [u.geom for r in results for u in r.closed]
    Layer.objects.record_change(AdminUnit, geometries)
    for result in results:
        if not refile:
            Crosswalk.objects.filter(pk=result.crosswalk.pk).update(refile_status="skipped")
            continue
        # Deferred in the same transaction as the crosswalk: a rolled-back import queues nothing.
        refile_crosswalk.defer(crosswalk_id=result.crosswalk.pk)
