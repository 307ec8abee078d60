"""Commune statistics: counts, sums and rates of every layer per commune and period, computed in PostGIS.

Every statistic is one SQL query for all communes and all periods at once (no Python loop over
communes). Each statistic yields, per (period, commune), a numerator and an optional denominator:

    value = num                    (counts, sums, stocks)
    value = num / den              (rates, densities, per-10,000 figures)

so a group of communes (the district, or a user's scope) combines as sum(num) / sum(den): a weighted
rate, never an average of rates.

Periods are inclusive date ranges [start, end] in the local time zone (settings.TIME_ZONE).
*Flow* statistics count what happened inside the period (petitions received, revenue collected);
*stock* statistics describe the state at the period's end (open petitions, population of that year).

Communes are the *current* ones (after the 2025 merger of Pró into Quảng Lập, 9 communes); records
still carrying the code of a commune merged into a current one (an import made before the merger) are
counted under the current commune. Population comes from the commune's `population` indicator of the
latest year not after the period's end, else from AdminUnitPopulation (census years).

    >>> commune_values("petitions_open", date(2024, 1, 1), date(2024, 12, 31))
    {"24928": 12.0, "24931": 7.0, ...}
    >>> timeseries("revenue_vs_plan", date(2024, 1, 1), date(2024, 12, 31), interval="quarter")
    [(date(2024, 1, 1), 93.1), (date(2024, 4, 1), 101.7), ...]
"""

# ruff: noqa: S608 - the SQL is assembled from module constants only; every input is a bound parameter.
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from django.conf import settings
from django.db import connection

from layers.landuse import AGRICULTURAL, LAND_USE_CODES, NON_AGRICULTURAL, UNUSED

FLOW = "flow"
STOCK = "stock"
INTERVALS = ("day", "week", "month", "quarter", "year")


@dataclass(frozen=True)
class Statistic:
    """One statistic: its names and unit in both languages, and the SQL computing it.

    `sql` selects (ps, code, num, den) from the CTEs `p` (periods: ps, pe exclusive, ps_ts, pe_ts,
    yr = year of the period's last day, asof / asof_ts = the period's end capped at now) and `c`
    (communes: id, code, area_km2, codes = own code + codes of communes merged into it).
    """

    code: str
    title_vi: str
    title_en: str
    unit: str
    unit_en: str
    sql: str
    kind: str = STOCK
    ratio: bool = False  # value = num / den
    zero: bool = False  # a commune with no rows counts 0 (counts and sums), not "no data"
    description: str = ""
    # The tables the SQL reads (declared in SOURCES below): a user sees the statistic only when he may see
    # a layer showing each whole table (dashboard.stats.can_view); a table no layer shows hides it.
    sources: tuple[str, ...] = ()

    def title(self, language: str | None = None) -> str:
        """The title in the given language (Vietnamese unless "en")."""
        return self.title_en if (language or "").startswith("en") else self.title_vi


def _indicator(code: str) -> str:
    """The commune's indicator value of the latest year not after the period's end."""
    return (
        "(SELECT i.value FROM layers_indicator i WHERE i.commune_code = c.code AND i.code = "
        f"'{code}' AND i.year <= p.yr ORDER BY i.year DESC LIMIT 1)"
    )


POPULATION = (
    f"COALESCE({_indicator('population')}, (SELECT ap.population::float FROM gis_ioc_adminunitpopulation ap "
    "WHERE ap.unit_id = c.id AND ap.year <= p.yr ORDER BY ap.year DESC LIMIT 1))"
)


def _codes_of(group: str) -> str:
    """A SQL array literal of the land-use codes of a legal group (constants, not input)."""
    return "ARRAY[" + ",".join(f"'{k}'" for k, (_n, g) in LAND_USE_CODES.items() if g == group) + "]::varchar[]"


def _per_commune(expr_num: str, expr_den: str = "NULL::float") -> str:
    """A stock statistic evaluated once per (period, commune) by correlated sub-queries."""
    return f"SELECT p.ps, c.code, ({expr_num})::float AS num, ({expr_den})::float AS den FROM p CROSS JOIN c"


def _grouped(table: str, num: str, den: str = "NULL::float", where: str = "TRUE") -> str:
    """A statistic aggregated from a feature table joined to the periods and communes, grouped once.

    The join goes through `m` (commune code -> member codes) on equality, so PostgreSQL can hash-join
    the feature table instead of probing it once per commune.
    """
    return (
        f"SELECT p.ps, m.code, ({num})::float AS num, ({den})::float AS den "
        f"FROM p CROSS JOIN m JOIN {table} t ON t.commune_code = m.member AND ({where}) GROUP BY p.ps, m.code"
    )


def _timeless(table: str, num: str, den: str = "NULL::float", where: str = "TRUE") -> str:
    """A statistic with no time dimension (parcels, school figures): aggregated once, repeated per period."""
    return (
        f"SELECT p.ps, x.code, x.num, x.den FROM p CROSS JOIN (SELECT m.code, ({num})::float AS num, "
        f"({den})::float AS den FROM m JOIN {table} t ON t.commune_code = m.member AND ({where}) GROUP BY m.code) x"
    )


def _count(table: str, where: str = "TRUE") -> str:
    return f"(SELECT count(*) FROM {table} t WHERE t.commune_code = ANY(c.codes) AND {where})"


_OPEN_PETITION = (
    "t.received_at < p.pe_ts AND (t.resolved_at >= p.pe_ts OR (t.resolved_at IS NULL "
    "AND t.status IN ('received', 'verified', 'assigned', 'in_progress')))"
)
_OVERDUE_DOSSIER = (
    # The first line restates the partial index dossier_late_idx, so the planner can use it.
    "(t.resolved_date IS NULL OR t.resolved_date > t.due_date) AND "
    "t.received_date < p.pe AND t.due_date < p.asof AND (t.resolved_date > p.asof "
    "OR (t.resolved_date IS NULL AND t.status <> 'returned'))"
)
_SCHOOLS = _count("layers_school")
_HEALTH = _count("layers_healthfacility")

_STATS: list[Statistic] = [
    # --- population and land ----------------------------------------------------------------------
    Statistic("population", "Dân số", "Population", "người", "people", _per_commune(POPULATION)),
    Statistic("households", "Số hộ", "Households", "hộ", "households", _per_commune(_indicator("households"))),
    Statistic(
        "poor_household_rate",
        "Tỷ lệ hộ nghèo",
        "Poor-household rate",
        "%",
        "%",
        # Weighted by households so that a group of communes gets the true rate.
        "SELECT ps, code, r * COALESCE(h, 1) AS num, CASE WHEN r IS NOT NULL THEN COALESCE(h, 1) END AS den FROM ("
        f"SELECT p.ps, c.code, {_indicator('poor_household_rate')} AS r, {_indicator('households')} AS h "
        "FROM p CROSS JOIN c) x",
        ratio=True,
    ),
    Statistic("area_km2", "Diện tích tự nhiên", "Area", "km²", "km²", _per_commune("c.area_km2")),
    Statistic(
        "population_density",
        "Mật độ dân số",
        "Population density",
        "người/km²",
        "people/km²",
        _per_commune(POPULATION, "NULLIF(c.area_km2, 0)"),
        ratio=True,
    ),
    # --- education and health ---------------------------------------------------------------------
    Statistic("schools", "Số trường học", "Schools", "trường", "schools", _per_commune(_SCHOOLS), zero=True),
    Statistic(
        "schools_per_10k",
        "Trường học trên 10.000 dân",
        "Schools per 10,000 residents",
        "trường/10.000 dân",
        "per 10,000",
        _per_commune(f"10000.0 * {_SCHOOLS}", POPULATION),
        ratio=True,
    ),
    Statistic(
        "pupils_per_teacher",
        "Số học sinh trên một giáo viên",
        "Pupils per teacher",
        "HS/GV",
        "pupils/teacher",
        _timeless("layers_school", "sum(t.pupils)", "NULLIF(sum(t.teachers), 0)"),
        ratio=True,
    ),
    Statistic(
        "health_facilities",
        "Số cơ sở y tế",
        "Health facilities",
        "cơ sở",
        "facilities",
        _per_commune(_HEALTH),
        zero=True,
    ),
    Statistic(
        "health_facilities_per_10k",
        "Cơ sở y tế trên 10.000 dân",
        "Health facilities per 10,000 residents",
        "cơ sở/10.000 dân",
        "per 10,000",
        _per_commune(f"10000.0 * {_HEALTH}", POPULATION),
        ratio=True,
    ),
    # --- economy and land -------------------------------------------------------------------------
    Statistic(
        "household_businesses_active",
        "Hộ kinh doanh đang hoạt động",
        "Active household businesses",
        "hộ",
        "businesses",
        _grouped("layers_householdbusiness", "count(*)", where="t.status = 'active' AND t.registration_date < p.pe"),
        zero=True,
    ),
    Statistic(
        "parcels",
        "Số thửa đất",
        "Land parcels",
        "thửa",
        "parcels",
        _timeless("layers_landparcel", "count(*)"),
        zero=True,
    ),
    Statistic(
        "parcel_area_ha",
        "Diện tích các thửa đất",
        "Parcel area",
        "ha",
        "ha",
        _timeless("layers_landparcel", "sum(t.area_m2) / 10000.0"),
        zero=True,
    ),
    *[
        Statistic(
            f"land_{slug}_ha",
            f"Diện tích {vi}",
            f"{en} land area",
            "ha",
            "ha",
            _timeless("layers_landparcel", "sum(t.area_m2) / 10000.0", where=f"t.land_use = ANY({_codes_of(group)})"),
            zero=True,
        )
        for slug, group, vi, en in [
            ("agricultural", AGRICULTURAL, "đất nông nghiệp", "Agricultural"),
            ("non_agricultural", NON_AGRICULTURAL, "đất phi nông nghiệp", "Non-agricultural"),
            ("unused", UNUSED, "đất chưa sử dụng", "Unused"),
        ]
    ],
    # --- petitions --------------------------------------------------------------------------------
    Statistic(
        "petitions_received",
        "Phản ánh tiếp nhận",
        "Petitions received",
        "phản ánh",
        "petitions",
        _grouped("petitions_petition", "count(*)", where="t.received_at >= p.ps_ts AND t.received_at < p.pe_ts"),
        kind=FLOW,
        zero=True,
    ),
    Statistic(
        "petitions_open",
        "Phản ánh đang xử lý",
        "Open petitions",
        "phản ánh",
        "petitions",
        _grouped("petitions_petition", "count(*)", where=_OPEN_PETITION),
        zero=True,
    ),
    Statistic(
        "petitions_overdue",
        "Phản ánh quá hạn",
        "Overdue petitions",
        "phản ánh",
        "petitions",
        _grouped("petitions_petition", "count(*)", where=f"{_OPEN_PETITION} AND t.due_at < p.asof_ts"),
        zero=True,
    ),
    Statistic(
        "petition_resolution_rate",
        "Tỷ lệ phản ánh đã giải quyết",
        "Petition resolution rate",
        "%",
        "%",
        _grouped(
            "petitions_petition",
            "100.0 * count(*) FILTER (WHERE t.resolved_at IS NOT NULL)",
            "count(*)",
            where="t.received_at >= p.ps_ts AND t.received_at < p.pe_ts",
        ),
        kind=FLOW,
        ratio=True,
        description="Of the petitions received in the period, the share resolved so far.",
    ),
    Statistic(
        "petition_avg_resolution_days",
        "Thời gian giải quyết phản ánh bình quân",
        "Average petition resolution time",
        "ngày",
        "days",
        _grouped(
            "petitions_petition",
            "sum(EXTRACT(epoch FROM t.resolved_at - t.received_at)) / 86400.0",
            "count(*)",
            where="t.resolved_at >= p.ps_ts AND t.resolved_at < p.pe_ts",
        ),
        kind=FLOW,
        ratio=True,
    ),
    # --- administrative dossiers ------------------------------------------------------------------
    Statistic(
        "dossiers_received",
        "Hồ sơ TTHC tiếp nhận",
        "Dossiers received",
        "hồ sơ",
        "dossiers",
        _grouped("layers_dossier", "count(*)", where="t.received_date >= p.ps AND t.received_date < p.pe"),
        kind=FLOW,
        zero=True,
    ),
    Statistic(
        "dossier_on_time_rate",
        "Tỷ lệ hồ sơ giải quyết đúng hạn",
        "Dossiers resolved on time",
        "%",
        "%",
        _grouped(
            "layers_dossier",
            "100.0 * count(*) FILTER (WHERE t.resolved_date <= t.due_date)",
            "count(*)",
            where="t.resolved_date >= p.ps AND t.resolved_date < p.pe",
        ),
        kind=FLOW,
        ratio=True,
        description="Of the dossiers resolved in the period, the share resolved by their due date.",
    ),
    Statistic(
        "dossiers_overdue",
        "Hồ sơ TTHC quá hạn",
        "Overdue dossiers",
        "hồ sơ",
        "dossiers",
        _grouped("layers_dossier", "count(*)", where=_OVERDUE_DOSSIER),
        zero=True,
    ),
    # --- budget -----------------------------------------------------------------------------------
    Statistic(
        "revenue_actual",
        "Thực thu ngân sách",
        "Revenue collected",
        "VND",
        "VND",
        _grouped("layers_budgetrevenue", "sum(t.actual)", where="t.month >= p.ps AND t.month < p.pe"),
        kind=FLOW,
        zero=True,
    ),
    Statistic(
        "revenue_planned",
        "Dự toán thu ngân sách",
        "Planned revenue",
        "VND",
        "VND",
        _grouped("layers_budgetrevenue", "sum(t.planned)", where="t.month >= p.ps AND t.month < p.pe"),
        kind=FLOW,
        zero=True,
    ),
    Statistic(
        "revenue_vs_plan",
        "Thu ngân sách so với dự toán",
        "Revenue against plan",
        "%",
        "%",
        _grouped(
            "layers_budgetrevenue",
            "100.0 * sum(t.actual)",
            "NULLIF(sum(t.planned), 0)",
            where="t.month >= p.ps AND t.month < p.pe",
        ),
        kind=FLOW,
        ratio=True,
    ),
]

# Boundaries and census population: reference data every user of the map already sees.
REFERENCE_TABLES = frozenset({"gis_ioc_adminunit", "gis_ioc_adminunitpopulation"})
_POP = ("gis_ioc_adminunitpopulation", "layers_indicator")
# What each statistic reads, declared — never inferred from its SQL text. A statistic missing here fails
# at import, so a new one cannot be published without saying whose data it aggregates.
SOURCES: dict[str, tuple[str, ...]] = {
    "population": _POP,
    "households": ("layers_indicator",),
    "poor_household_rate": ("layers_indicator",),
    "area_km2": ("gis_ioc_adminunit",),
    "population_density": _POP,
    "schools": ("layers_school",),
    "schools_per_10k": (*_POP, "layers_school"),
    "pupils_per_teacher": ("layers_school",),
    "health_facilities": ("layers_healthfacility",),
    "health_facilities_per_10k": (*_POP, "layers_healthfacility"),
    "household_businesses_active": ("layers_householdbusiness",),
    "parcels": ("layers_landparcel",),
    "parcel_area_ha": ("layers_landparcel",),
    "land_agricultural_ha": ("layers_landparcel",),
    "land_non_agricultural_ha": ("layers_landparcel",),
    "land_unused_ha": ("layers_landparcel",),
    "petitions_received": ("petitions_petition",),
    "petitions_open": ("petitions_petition",),
    "petitions_overdue": ("petitions_petition",),
    "petition_resolution_rate": ("petitions_petition",),
    "petition_avg_resolution_days": ("petitions_petition",),
    "dossiers_received": ("layers_dossier",),
    "dossier_on_time_rate": ("layers_dossier",),
    "dossiers_overdue": ("layers_dossier",),
    "revenue_actual": ("layers_budgetrevenue",),
    "revenue_planned": ("layers_budgetrevenue",),
    "revenue_vs_plan": ("layers_budgetrevenue",),
}
STATISTICS: dict[str, Statistic] = {s.code: replace(s, sources=SOURCES[s.code]) for s in _STATS}

# What the dashboard's headline cards show, in order.
KPI_CODES = [
    "population",
    "population_density",
    "schools_per_10k",
    "health_facilities_per_10k",
    "poor_household_rate",
    "household_businesses_active",
    "petitions_received",
    "petitions_open",
    "petitions_overdue",
    "petition_resolution_rate",
    "dossiers_received",
    "dossier_on_time_rate",
    "dossiers_overdue",
    "revenue_actual",
    "revenue_vs_plan",
]

_COMMUNES_CTE = """
c AS (
    SELECT u.id, u.code, u.area_km2,
           -- Codes of communes merged into this one keep counting here (records imported before a merger).
           ARRAY(SELECT DISTINCT o.code FROM gis_ioc_adminunit o
                 WHERE o.level = 'commune' AND o.valid_to = u.valid_from
                   AND ST_Covers(u.geom, ST_PointOnSurface(o.geom))) || u.code::varchar AS codes
    FROM gis_ioc_adminunit u
    WHERE u.level = 'commune' AND u.valid_from <= %(today)s AND (u.valid_to IS NULL OR u.valid_to > %(today)s)
      AND (%(all_communes)s OR u.code = ANY(%(codes)s))
),
m AS (SELECT DISTINCT c.code, unnest(c.codes) AS member FROM c)"""

# The periods are computed in Python and passed as arrays: the planner then knows how many there are
# (a generate_series over dates is estimated at 1,000 rows, which wrongly triggers JIT compilation).
_PERIODS = "SELECT * FROM unnest(%(labels)s::date[], %(starts)s::date[], %(ends)s::date[]) AS t(label, ps, pe)"

_PERIODS_CTE = """
p AS (
    SELECT label, ps, pe,
           ps::timestamp AT TIME ZONE %(tz)s AS ps_ts, pe::timestamp AT TIME ZONE %(tz)s AS pe_ts,
           EXTRACT(year FROM pe - 1)::int AS yr,
           LEAST(pe - 1, CURRENT_DATE) AS asof, LEAST(pe::timestamp AT TIME ZONE %(tz)s, now()) AS asof_ts
    FROM ({periods}) periods
)"""


def _statistic(code: str) -> Statistic:
    try:
        return STATISTICS[code]
    except KeyError:
        raise KeyError(f"unknown statistic {code!r}; known: {', '.join(STATISTICS)}") from None


def _truncate(day: dt.date, interval: str) -> dt.date:
    if interval == "week":
        return day - dt.timedelta(days=day.weekday())
    if interval == "month":
        return day.replace(day=1)
    if interval == "quarter":
        return dt.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    if interval == "year":
        return dt.date(day.year, 1, 1)
    return day


def _advance(day: dt.date, interval: str) -> dt.date:
    if interval in ("day", "week"):
        return day + dt.timedelta(days=1 if interval == "day" else 7)
    months = {"month": 1, "quarter": 3, "year": 12}[interval]
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def periods(start: dt.date, end: dt.date, interval: str | None) -> list[tuple[dt.date, dt.date, dt.date]]:
    """(label, first day, day after the last) of each period; interval None: the whole range as one."""
    stop = end + dt.timedelta(days=1)
    if interval is None:
        return [(start, start, stop)]
    result = []
    label = _truncate(start, interval)
    while label < stop:
        following = _advance(label, interval)
        result.append((label, max(label, start), min(following, stop)))
        label = following
    return result


def _params(
    start: dt.date, end: dt.date, communes: Iterable[str] | None, interval: str | None = None
) -> dict[str, Any]:
    if end < start:
        raise ValueError(f"period end {end} is before its start {start}")
    if interval is not None and interval not in INTERVALS:
        raise ValueError(f"unknown interval {interval!r}; one of {', '.join(INTERVALS)}")
    codes = None if communes is None else [str(c) for c in communes]
    spans = periods(start, end, interval)
    return {
        "labels": [s[0] for s in spans],
        "starts": [s[1] for s in spans],
        "ends": [s[2] for s in spans],
        "today": dt.date.today(),
        "tz": settings.TIME_ZONE,
        "all_communes": codes is None,
        "codes": codes or [],
    }


def _query(stat: Statistic, *, by_commune: bool) -> str:
    num = "COALESCE(v.num, 0)" if stat.zero else "v.num"
    head = f"WITH {_COMMUNES_CTE}, {_PERIODS_CTE.format(periods=_PERIODS)}, v AS ({stat.sql})"
    join = "FROM p CROSS JOIN c LEFT JOIN v ON v.ps = p.ps AND v.code = c.code"
    if by_commune:
        return f"{head} SELECT p.label, c.code, {num}, v.den {join} ORDER BY p.label, c.code"
    # A group of communes: sum the numerators (only where a denominator exists, for rates) and the
    # denominators, so the result is the group's own rate.
    keep = "v.den IS NOT NULL" if stat.ratio else "TRUE"
    return (
        f"{head} SELECT p.label, sum({num}) FILTER (WHERE {keep}), sum(v.den), count(c.code) "
        f"{join} GROUP BY p.label ORDER BY p.label"
    )


def _value(stat: Statistic, num: Any, den: Any) -> float | None:
    if num is None:
        return None
    if stat.ratio:
        return float(num) / float(den) if den else None
    return float(num)


def commune_values(
    code: str, start: dt.date, end: dt.date, communes: Iterable[str] | None = None
) -> dict[str, float | None]:
    """The statistic for each current commune over [start, end] (inclusive), in one query."""
    stat = _statistic(code)
    with connection.cursor() as cursor:
        cursor.execute(_query(stat, by_commune=True), _params(start, end, communes))
        return {row[1]: _value(stat, row[2], row[3]) for row in cursor.fetchall()}


def district_value(code: str, start: dt.date, end: dt.date, communes: Iterable[str] | None = None) -> float | None:
    """The statistic for the communes taken together (the whole district by default), in one query."""
    series = timeseries_for(code, start, end, communes, interval=None)
    return series[0][1] if series else None


def timeseries(
    code: str, start: dt.date, end: dt.date, communes: Iterable[str] | None = None, interval: str = "month"
) -> list[tuple[dt.date, float | None]]:
    """The statistic for the communes together, per interval (day, week, month, quarter, year), in one query.

    Each period is labelled by its calendar start (the first period is counted from `start` only).
    """
    return timeseries_for(code, start, end, communes, interval=interval)


def timeseries_for(
    code: str, start: dt.date, end: dt.date, communes: Iterable[str] | None, interval: str | None
) -> list[tuple[dt.date, float | None]]:
    """Shared by district_value (interval None: one period) and timeseries."""
    stat = _statistic(code)
    params = _params(start, end, communes, interval)
    with connection.cursor() as cursor:
        cursor.execute(_query(stat, by_commune=False), params)
        return [(row[0], _value(stat, row[1], row[2]) if row[3] else None) for row in cursor.fetchall()]


def commune_timeseries(
    code: str, start: dt.date, end: dt.date, communes: Iterable[str] | None = None, interval: str = "month"
) -> dict[str, list[tuple[dt.date, float | None]]]:
    """The statistic per commune and interval, in one query (for small multiples and exports)."""
    stat = _statistic(code)
    result: dict[str, list[tuple[dt.date, float | None]]] = {}
    with connection.cursor() as cursor:
        cursor.execute(_query(stat, by_commune=True), _params(start, end, communes, interval))
        for label, commune, num, den in cursor.fetchall():
            result.setdefault(commune, []).append((label, _value(stat, num, den)))
    return result


def kpis(start: dt.date, end: dt.date, communes: Iterable[str] | None = None) -> dict[str, float | None]:
    """The headline figures (KPI_CODES) for the communes together: {statistic code: value}.

    One query per statistic; titles and units are in STATISTICS[code].
    """
    codes = None if communes is None else list(communes)
    return {code: district_value(code, start, end, codes) for code in KPI_CODES}
