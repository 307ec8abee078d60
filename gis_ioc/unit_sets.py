"""Unit sets, crosswalks between them, and the weights that move a figure from the units a record was
filed under to the units a user asks for.

* A **unit set** is the units of one level in force together (`UnitSet`, administrative, with a period)
  or a named statistical grouping (no period). `load_units` files what it loads into the set in force on
  its first day (`attach`); `resolve(units, as_of)` is how every channel turns its `units` / `as_of`
  parameters into a set.
* A **crosswalk** (`import_crosswalk`) closes one set and opens the next on an effective date: whole
  merges are dissolved in PostGIS, a split needs the new boundaries (loaded beforehand with
  `import_admin_units --valid-from DATE`, or given with the crosswalk), unchanged units simply continue.
  Everything is checked first and refused as a whole with every problem listed.
* **Weights** (`weights(target)`): for every version of every unit of the records' level, the share of
  it that belongs to each unit of the target set — 1 where units merged whole (exact), the crosswalk's
  area or population share where one was split, the reverse shares (area × share, population × share)
  when going back in time, and the spatial overlap for a grouping of another level (a statistical area).
  layers/statistics.py joins records to `versions` by code and date and multiplies by these weights.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.db import connection, transaction

from gis_ioc.lib.text import ascii_name
from gis_ioc.models import AdminUnit, AdminUnitPopulation, CrosswalkRow, Level, UnitSet, UnitSetKind

# Shares of one old unit must sum to 1 within this (files carry rounded percentages: 33.3 + 33.3 + 33.4).
SHARE_TOLERANCE = 0.005
# A spatial weight this close to 0 or 1 is a boundary sliver, not a split (thinned real boundaries).
SLIVER = 0.005
# A crosswalk may not add more overlap or gap area than this to what the old set already had (km²).
TOPOLOGY_TOLERANCE_KM2 = 0.05
BEGINNING = dt.date(1, 1, 1)
END_OF_TIME = dt.date(9999, 12, 31)
CODE_WIDTH: dict[str, int] = {Level.COMMUNE: 5, Level.DISTRICT: 3, Level.PROVINCE: 2}

LEVEL_NAMES: dict[str, tuple[str, str]] = {
    Level.COMMUNE: ("Cấp xã", "Communes"),
    Level.DISTRICT: ("Cấp huyện", "Districts"),
    Level.PROVINCE: ("Cấp tỉnh", "Provinces"),
    Level.AREA: ("Vùng thống kê", "Statistical areas"),
}


class UnitSetError(ValueError):
    """A unit set or date that cannot be used; the message says what to ask for instead."""


class CrosswalkError(ValueError):
    """A crosswalk refused as a whole; `problems` lists every problem found (file, row, field)."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: {len(problems)} problem(s):\n" + "\n".join(f"  - {p}" for p in problems))


# --- sets -------------------------------------------------------------------------------------------


def set_names(level: str, valid_from: dt.date | None, valid_to: dt.date | None = None) -> tuple[str, str]:
    """Default names of an administrative set: "Cấp xã 01/2009 – 12/2024", "Communes 01/2025 –"."""
    vi, en = LEVEL_NAMES.get(level, (level, level))
    if valid_from is None:
        return vi, en
    last = f"{valid_to - dt.timedelta(days=1):%m/%Y}" if valid_to else ""
    span = f"{valid_from:%m/%Y} – {last}".rstrip()
    return f"{vi} {span}", f"{en} {span}"


def _default_names(unit_set: UnitSet) -> bool:
    return (unit_set.name, unit_set.name_en) in {
        set_names(unit_set.level, unit_set.valid_from, None),
        set_names(unit_set.level, unit_set.valid_from, unit_set.valid_to),
    }


def attach(units: list[AdminUnit], *, level: str, valid_from: dt.date, source: str = "") -> UnitSet:
    """File freshly loaded units into the administrative set of their level in force on `valid_from`.

    The set in force that day is extended (a second district's communes join the first's); when none
    is, a set starting that day is opened, ending where the next set of that level begins.
    """
    unit_set = UnitSet.objects.administrative().filter(level=level).valid_on(valid_from).first()
    if unit_set is None:
        following = (
            UnitSet.objects.administrative()
            .filter(level=level, valid_from__gt=valid_from)
            .order_by("valid_from")
            .first()
        )
        valid_to = following.valid_from if following else None
        name, name_en = set_names(level, valid_from, valid_to)
        unit_set = UnitSet.objects.create(
            slug=f"{level}-{valid_from:%Y-%m-%d}",
            name=name,
            name_en=name_en,
            level=level,
            valid_from=valid_from,
            valid_to=valid_to,
            description=source,
        )
    unit_set.members.add(*units)
    return unit_set


def resolve(units: str | None = None, as_of: dt.date | None = None, level: str = Level.COMMUNE) -> UnitSet:
    """The set a request asks for: `units` by slug, else the administrative set of `level` in force on
    `as_of` (today by default). UnitSetError names the sets that exist when there is no such set."""
    return _resolve(_state(), units, as_of, level)


def resolve_with_weights(
    units: str | None = None, as_of: dt.date | None = None, level: str = Level.COMMUNE
) -> tuple[UnitSet, Weights]:
    """`resolve` and `weights` with one check of the memo (statistics call it once per query)."""
    state = _state()
    target = _resolve(state, units, as_of, level)
    return target, _weights(state, target, level)


def _resolve(state: _State, units: str | None, as_of: dt.date | None, level: str) -> UnitSet:
    sets = state.sets
    if units:
        found = next((s for s in sets if s.slug == units), None)
        if found is None:
            known = ", ".join(s.slug for s in sets) or "—"
            raise UnitSetError(f"unknown unit set {units!r}; known: {known}")
        return found
    day = as_of or dt.date.today()
    administrative = sorted(
        (s for s in sets if s.kind == UnitSetKind.ADMINISTRATIVE and s.level == level and s.valid_from),
        key=lambda s: s.valid_from or BEGINNING,
    )
    found = next(
        (
            s
            for s in administrative
            if s.valid_from and s.valid_from <= day and (s.valid_to is None or s.valid_to > day)
        ),
        None,
    )
    if found is None:
        first = administrative[0] if administrative else None
        if first is None:
            raise UnitSetError(f"no {level} unit set is loaded yet")
        if first.valid_from and day < first.valid_from:
            raise UnitSetError(
                f"as_of {day:%Y-%m-%d} is before the first {level} unit set ({first.valid_from:%Y-%m-%d})"
            )
        raise UnitSetError(f"no {level} unit set is in force on {day:%Y-%m-%d}")
    return found


# --- weights ----------------------------------------------------------------------------------------


@dataclass
class Weights:
    """Versions of the records' level and the share of each that belongs to each target unit."""

    target: UnitSet
    # (unit id, code, first day, day after the last day): the validity of each version, stretched so the
    # versions of one code tile all time (a record dated before the code's first version belongs to it).
    versions: list[tuple[int, str, dt.date, dt.date, float]] = field(default_factory=list)  # + area km²
    # (version id, target code, area weight, population weight)
    edges: list[tuple[int, str, float, float]] = field(default_factory=list)
    # Target codes that receive a fractional share of some version (a split): their figures are estimates.
    estimated: set[str] = field(default_factory=set)
    codes: list[str] = field(default_factory=list)  # the target set's members, sorted

    def method(self, code: str, weight: str) -> str:
        """How the figure of one target unit was obtained: "exact", or "area" / "population" weighted."""
        return weight if code in self.estimated else "exact"


def _versions(
    level: str,
) -> tuple[list[tuple[int, str, dt.date, dt.date, float]], dict[int, tuple[dt.date, dt.date | None]]]:
    """The stretched versions (see Weights.versions) and each version's real validity."""
    by_code: dict[str, list[tuple[int, dt.date, dt.date | None, float]]] = defaultdict(list)
    for uid, code, start, end, area in AdminUnit.objects.filter(level=level).values_list(
        "id", "code", "valid_from", "valid_to", "area_km2"
    ):
        by_code[code].append((uid, start, end, area))
    stretched, real = [], {}
    for code, rows in by_code.items():
        rows.sort(key=lambda r: r[1])
        for i, (uid, start, end, area) in enumerate(rows):
            lo = BEGINNING if i == 0 else start
            # A gap before the code's next version still belongs to this one; the last runs to the end.
            hi = rows[i + 1][1] if i + 1 < len(rows) else END_OF_TIME
            stretched.append((uid, code, lo, hi, area))
            real[uid] = (start, end)
    return stretched, real


def _latest_population(unit_ids: list[int]) -> dict[int, int]:
    """The latest census population of each unit (an old unit's census predates its end)."""
    result: dict[int, int] = {}
    for uid, pop in (
        AdminUnitPopulation.objects.filter(unit_id__in=unit_ids)
        .order_by("unit_id", "year")
        .values_list("unit_id", "population")
    ):
        result[uid] = pop  # ordered by year: the last one wins
    return result


def _crosswalk_graph(
    level: str,
) -> tuple[dict[int, list[tuple[int, float, float]]], dict[int, list[tuple[int, float, float]]]]:
    """Forward edges old → new (the crosswalk's shares) and backward edges new → old (reverse shares:
    the part of the new unit's area and population that came from each old one)."""
    forward: dict[int, list[tuple[int, float, float]]] = defaultdict(list)
    parts: dict[int, list[tuple[int, float, float, dt.date]]] = defaultdict(list)
    rows = CrosswalkRow.objects.filter(crosswalk__from_set__level=level).values_list(
        "old_unit_id", "new_unit_id", "area_share", "population_share", "crosswalk__effective_date"
    )
    for old, new, area_share, pop_share, day in rows:
        if old == new:
            continue  # a unit the reform left alone continues as itself
        forward[old].append((new, area_share, pop_share))
        parts[new].append((old, area_share, pop_share, day))
    areas = dict(
        AdminUnit.objects.filter(id__in={o for p in parts.values() for o, *_ in p}).values_list("id", "area_km2")
    )
    backward: dict[int, list[tuple[int, float, float]]] = {}
    all_pops = _latest_population([o for olds in parts.values() for o, *_ in olds])
    for new, olds in parts.items():
        pops = {o: all_pops[o] for o, *_ in olds if o in all_pops}
        area_in = [areas.get(o, 0.0) * share for o, share, _p, _d in olds]
        pop_in = [pops.get(o, 0) * share for o, _a, share, _d in olds]
        total_area, total_pop = sum(area_in), sum(pop_in)
        backward[new] = [
            (
                o,
                a / total_area if total_area else 1 / len(olds),
                # No census for a part: its population share follows its area share.
                p / total_pop
                if total_pop and all(o2 in pops for o2, *_ in olds)
                else (a / total_area if total_area else 1 / len(olds)),
            )
            for (o, *_), a, p in zip(olds, area_in, pop_in, strict=True)
        ]
    return forward, backward


def predecessors(level: str = Level.COMMUNE) -> dict[int, list[tuple[int, float, float]]]:
    """For each unit formed by a crosswalk, the units it was made from with the share of its area and of
    its population that each contributed (reverse shares, as `weights` uses going back in time)."""
    return _crosswalk_graph(level)[1]


def _walk(
    start: int, members: set[int], edges: dict[int, list[tuple[int, float, float]]]
) -> dict[int, tuple[float, float]]:
    """Follow crosswalk edges from one version until every share sits on a member of the target set."""
    frontier: dict[int, tuple[float, float]] = {start: (1.0, 1.0)}
    reached: dict[int, tuple[float, float]] = defaultdict(lambda: (0.0, 0.0))
    for _step in range(64):  # a chain of reforms is short; the bound only guards against bad data
        following: dict[int, tuple[float, float]] = defaultdict(lambda: (0.0, 0.0))
        for node, (wa, wp) in frontier.items():
            if node in members:
                ra, rp = reached[node]
                reached[node] = (ra + wa, rp + wp)
                continue
            for nxt, sa, sp in edges.get(node, []):
                fa, fp = following[nxt]
                following[nxt] = (fa + wa * sa, fp + wp * sp)
        if not following:
            break
        frontier = dict(following)
    return dict(reached)


def _spatial_edges(target: UnitSet, level: str) -> list[tuple[int, str, float, float]]:
    """Weights to a set of another level (a statistical area, a province): the share of each version's
    area inside each target unit, computed in PostGIS; slivers are snapped to 0 or 1."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT v.id, t.code,
                   ST_Area(ST_Intersection(v.geom, t.geom)::geography) / NULLIF(ST_Area(v.geom::geography), 0)
            FROM gis_ioc_adminunit v
            JOIN gis_ioc_unitset_members sm ON sm.unitset_id = %s
            JOIN gis_ioc_adminunit t ON t.id = sm.adminunit_id AND t.geom && v.geom AND ST_Intersects(t.geom, v.geom)
            WHERE v.level = %s
            """,
            [target.id, level],
        )
        edges = []
        for vid, code, share in cursor.fetchall():
            share = float(share or 0)
            if share <= SLIVER:
                continue
            share = 1.0 if share >= 1 - SLIVER else share
            edges.append((vid, code, share, share))
    return edges


@dataclass
class _State:
    fingerprint: str
    sets: list[UnitSet]
    weights: dict[tuple[int, str], Weights] = field(default_factory=dict)


_STATE: _State | None = None

# One row that changes whenever units, sets, memberships, crosswalks or census figures change, so each
# process can keep its weights and re-check them with one cheap query per call.
_FINGERPRINT = """
SELECT concat_ws('|',
  (SELECT md5(string_agg(concat_ws(':', id, code, valid_from, valid_to, area_km2, level), ',' ORDER BY id))
     FROM gis_ioc_adminunit),
  (SELECT md5(string_agg(concat_ws(':', id, slug, valid_from, valid_to, kind, level), ',' ORDER BY id))
     FROM gis_ioc_unitset),
  (SELECT concat_ws(':', count(*), sum(id), sum(adminunit_id)) FROM gis_ioc_unitset_members),
  (SELECT md5(string_agg(concat_ws(':', id, old_unit_id, new_unit_id, area_share, population_share), ','
                         ORDER BY id)) FROM gis_ioc_crosswalkrow),
  (SELECT concat_ws(':', count(*), sum(population), sum(id)) FROM gis_ioc_adminunitpopulation))
"""


# Inside `read_once()` the state checked on entry serves every call (a page of statistics asks for it once).
_PINNED: contextvars.ContextVar[_State | None] = contextvars.ContextVar("unit_sets_pinned", default=None)


@contextlib.contextmanager
def read_once() -> Iterator[None]:
    """Check the fingerprint once for a block that only reads (a dashboard view computing many
    statistics), instead of once per statistic. Never around code that changes units or crosswalks."""
    token = _PINNED.set(_state())
    try:
        yield
    finally:
        _PINNED.reset(token)


def fingerprint() -> str:
    """A string that changes whenever units, sets, memberships, crosswalks or census figures change."""
    return _state().fingerprint


def _state() -> _State:
    """The per-process memo of sets and weights, dropped when the fingerprint moves."""
    global _STATE  # noqa: PLW0603 - a per-process memo, checked against the database on every call
    pinned = _PINNED.get()
    if pinned is not None:
        return pinned
    with connection.cursor() as cursor:
        cursor.execute(_FINGERPRINT)
        fingerprint = cursor.fetchone()[0]
    if _STATE is None or _STATE.fingerprint != fingerprint:
        _STATE = _State(fingerprint=fingerprint, sets=list(UnitSet.objects.all()))
    return _STATE


def weights(target: UnitSet, level: str = Level.COMMUNE) -> Weights:
    """Where every version of the records' level goes in `target` (see the module docstring); memoised
    per process until units, sets or crosswalks change."""
    return _weights(_state(), target, level)


def _weights(state: _State, target: UnitSet, level: str) -> Weights:
    key = (target.id, level)
    if key not in state.weights:
        state.weights[key] = _compute_weights(target, level)
    return state.weights[key]


def _compute_weights(target: UnitSet, level: str) -> Weights:
    versions, real = _versions(level)
    result = Weights(target=target, versions=versions, codes=sorted(target.members.values_list("code", flat=True)))
    if target.level != level:
        result.edges = _spatial_edges(target, level)
    else:
        members = set(target.members.values_list("id", flat=True))
        codes = dict(AdminUnit.objects.filter(id__in=members).values_list("id", "code"))
        forward, backward = _crosswalk_graph(level)
        for vid, _code, _lo, _hi, _area in result.versions:
            if vid in members:
                result.edges.append((vid, codes[vid], 1.0, 1.0))
                continue
            start, end = real[vid]
            # Direction: a version that ended before the target began goes forward, one that began after
            # the target ended goes back; one living beside the target (another territory) has no share.
            if target.valid_from and end and end <= target.valid_from:
                reached = _walk(vid, members, forward)
            elif target.valid_to and start >= target.valid_to:
                reached = _walk(vid, members, backward)
            else:
                continue
            for tid, (wa, wp) in reached.items():
                result.edges.append((vid, codes[tid], wa, wp))
    for _vid, code, wa, wp in result.edges:
        if min(wa, wp) < 1 - 1e-9:
            result.estimated.add(code)
    return result


def within_scope(target: UnitSet, scope: frozenset[str] | set[str], level: str = Level.COMMUNE) -> set[str]:
    """Codes of the target set's units lying wholly inside a scope of today's communes.

    A user limited to today's Quảng Lập sees, on the 2009 communes, Pró and the old Quảng Lập (merged
    whole into it), but not a unit of which only a part went into his communes, nor a grouping of another
    level (a former district): scope fails closed."""
    state = _state()
    current = _resolve(state, None, None, level)
    if target.id == current.id:
        return {c for c in _weights(state, target, level).codes if c in scope}
    if target.level != level:
        return set()
    goes_to: dict[int, set[str]] = defaultdict(set)
    for vid, code, _wa, _wp in _weights(state, current, level).edges:
        goes_to[vid].add(code)
    return {
        code
        for uid, code in target.members.values_list("id", "code")
        if goes_to.get(uid) and goes_to[uid] <= set(scope)
    }


# --- abolished levels -------------------------------------------------------------------------------


@transaction.atomic
def abolish_level(level: str, on: dt.date, *, keep_as_areas: bool = True, reason: str = "") -> list[UnitSet]:
    """End a whole level on a date (the districts on 2025-07-01): its units and its set close, its
    communes now sit directly under the province, and each unit lives on — if asked — as a named
    statistical area with its own geometry, so "the former district" keeps its figures."""
    in_force = UnitSet.objects.administrative().filter(level=level).valid_on(on)
    units = list(AdminUnit.objects.filter(level=level, unit_sets__in=in_force).distinct())
    AdminUnit.objects.filter(id__in=[u.id for u in units]).update(valid_to=on)
    for unit_set in in_force:
        rename = _default_names(unit_set)
        unit_set.valid_to = on
        if rename:
            unit_set.name, unit_set.name_en = set_names(unit_set.level, unit_set.valid_from, on)
        unit_set.save()
    areas: list[UnitSet] = []
    if keep_as_areas:
        for unit in units:
            area = AdminUnit.objects.create(
                code=unit.code,
                name=f"{unit.name} (cũ)",
                name_ascii=ascii_name(f"{unit.name_ascii} (cu)"),
                level=Level.AREA,
                unit_type=unit.unit_type,
                parent=unit.parent,
                geom=unit.geom,
                area_km2=unit.area_km2,
                valid_from=on,
                source=reason or f"{unit.source} (kept as a statistical area)",
                is_demo=unit.is_demo,
            )
            unit_set = UnitSet.objects.create(
                slug=f"area-{unit.code}",
                name=f"{unit.name} (địa bàn cũ)",
                name_en=f"Former {ascii_name(unit.name)}",
                level=Level.AREA,
                kind=UnitSetKind.STATISTICAL,
                legal_basis=reason,
                description=f"{unit.name}, {unit.valid_from:%Y-%m-%d} – {on:%Y-%m-%d}",
            )
            unit_set.members.add(area)
            areas.append(unit_set)
    return areas
