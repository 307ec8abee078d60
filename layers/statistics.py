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

**Units.** Figures are given for the units of one unit set (gis_ioc/unit_sets.py): `units=<slug>`, or the
commune set in force on `as_of` (today by default). Records keep the code they were filed under; a
record's date (or the period's end, for stocks such as population) picks the version of that code, and
`weights()` moves the version's figure to the requested units: whole where units merged (exact), by the
crosswalk's area or population shares where one was split (the method is reported by `methods()`).
Counts and sums are weighted; rates are Σ weighted numerator / Σ weighted denominator. So a five-year
series on today's communes has no break at a reform, and the same series on the old communes exists too.
Population comes from the `population` indicator of the latest year not after the period's end, filed
under the version valid then, else from that version's census (AdminUnitPopulation).

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

from gis_ioc import replica
from gis_ioc.models import UnitSet
from gis_ioc.unit_sets import UnitSetError, Weights, resolve_with_weights
from layers.landuse import AGRICULTURAL, LAND_USE_CODES, NON_AGRICULTURAL, UNUSED
from layers.models.base import record_date_sql

FLOW = "flow"
STOCK = "stock"
INTERVALS = ("day", "week", "month", "quarter", "year")


@dataclass(frozen=True)
class Statistic:
    """One statistic: its names and unit in both languages, and the SQL computing it.

    `sql` selects (ps, code, num, den) — code of a requested unit — from the CTEs `p` (periods: ps, pe
    exclusive, ps_ts, pe_ts, yr = year of the period's last day, asof / asof_ts = the period's end capped at
    now), `v` (versions of the records' units: vid, code, lo, hi = the dates the version answers for, area)
    and `e` (weights: vid, code of the requested unit, wa = area weight, wp = population weight); build
    it with `_dated`, `_timeless`, `_at_date` and `_ratio_of`, which apply the weights.
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
    # How a figure is shared out when a unit was split: by population (people, petitions, money) or by
    # area (land); reported next to the figure as the method.
    weight: str = "population"

    def title(self, language: str | None = None) -> str:
        """The title in the given language (Vietnamese unless "en")."""
        return self.title_en if (language or "").startswith("en") else self.title_vi


def _indicator(code: str) -> str:
    """The version's indicator value of the latest year not after the period's end (filed while it was valid)."""
    return (
        "(SELECT i.value FROM layers_indicator i WHERE i.commune_code = v.code AND i.code = "
        f"'{code}' AND i.year <= p.yr AND make_date(i.year, 12, 31) >= v.lo ORDER BY i.year DESC LIMIT 1)"
    )


POPULATION = (
    f"COALESCE({_indicator('population')}, (SELECT ap.population::float FROM gis_ioc_adminunitpopulation ap "
    "WHERE ap.unit_id = v.vid AND ap.year <= p.yr ORDER BY ap.year DESC LIMIT 1))"
)

_WEIGHT = {"population": "e.wp", "area": "e.wa"}


def _codes_of(group: str) -> str:
    """A SQL array literal of the land-use codes of a legal group (constants, not input)."""
    return "ARRAY[" + ",".join(f"'{k}'" for k, (_n, g) in LAND_USE_CODES.items() if g == group) + "]::varchar[]"


def _weighted(inner: str, weight: str, per_period: bool) -> str:
    """Per-version figures (vid, [ps,] num, den) shared out onto the requested units by the weights."""
    keys = "x.ps, e.code" if per_period else "e.code"
    w = _WEIGHT[weight]
    return (
        f"SELECT {keys}, sum(x.num * {w}) AS num, sum(x.den * {w}) AS den "
        f"FROM ({inner}) x JOIN e ON e.vid = x.vid GROUP BY {keys}"
    )


def _model_of(table: str) -> Any:
    """The sector model stored in a table (its `dated_by` says which date files a record under a unit)."""
    from django.apps import apps

    return next(m for m in apps.get_models() if m._meta.db_table == table)


def _dated(table: str, num: str, den: str = "NULL::float", where: str = "TRUE", weight: str = "population") -> str:
    """Records dated by their own date (petitions, dossiers, revenue, businesses), counted per period.

    Each record joins the version of its code valid on its date — an equality PostgreSQL can hash-join,
    then a range check — and the per-version figures are weighted onto the requested units.
    """
    date = record_date_sql(_model_of(table), "t")
    inner = (
        f"SELECT p.ps, v.vid, ({num})::float AS num, ({den})::float AS den FROM p CROSS JOIN v "
        f"JOIN {table} t ON t.commune_code = v.code AND {date} >= v.lo AND {date} < v.hi AND ({where}) "
        "GROUP BY p.ps, v.vid"
    )
    return _weighted(inner, weight, per_period=True)


def _timeless(table: str, num: str, den: str = "NULL::float", where: str = "TRUE", weight: str = "population") -> str:
    """Records with no date (parcels, schools): filed under today's version of their code, aggregated once
    and repeated per period."""
    inner = (
        f"SELECT v.vid, ({num})::float AS num, ({den})::float AS den FROM v JOIN {table} t "
        f"ON t.commune_code = v.code AND v.lo <= %(today)s AND v.hi > %(today)s AND ({where}) GROUP BY v.vid"
    )
    return f"SELECT p.ps, y.code, y.num, y.den FROM p CROSS JOIN ({_weighted(inner, weight, per_period=False)}) y"


def _at_date(num: str, den: str = "NULL::float", num_weight: str = "population", den_weight: str = "") -> str:
    """A stock describing the units on the period's last day (population, area): evaluated once per
    (period, version valid that day) by correlated sub-queries over `v`, then weighted."""
    return (
        f"SELECT p.ps, e.code, sum(({num})::float * {_WEIGHT[num_weight]}) AS num, "
        f"sum(({den})::float * {_WEIGHT[den_weight or num_weight]}) AS den "
        "FROM p CROSS JOIN v JOIN e ON e.vid = v.vid WHERE p.asof >= v.lo AND p.asof < v.hi GROUP BY p.ps, e.code"
    )


def _ratio_of(num_sql: str, den_sql: str, factor: float = 1.0) -> str:
    """A rate whose numerator and denominator are statistics of their own (schools per 10,000 people)."""
    return (
        f"SELECT b.ps, b.code, {factor} * COALESCE(a.num, 0) AS num, b.num AS den "
        f"FROM ({den_sql}) b LEFT JOIN ({num_sql}) a ON a.ps = b.ps AND a.code = b.code"
    )


def _open_at_period_end(table: str, opens: str, closes: str, where: str, open_bound: str = "pe_ts") -> str:
    """A stock of things open at each period's end (petitions open, overdue), counted from events.

    A record opens at `opens` and closes at `closes` (NULL: still open); it is open at a period's end when it
    opened before the period's `open_bound` (its end, or its as-of time) and had not closed before its end.
    Each record is placed once in the period it opened and the one it closed (width_bucket over the sorted
    period ends), and the periods then sum those buckets: the cost grows as periods + records, not as their
    product (a range join of every record to every period). `where` keeps only records that are ever open,
    so a closing event always follows its own opening.
    """
    date = record_date_sql(_model_of(table), "t")
    events = (
        "SELECT v.vid, "
        f"width_bucket({opens}, b.o) AS bo, "
        f"CASE WHEN {closes} IS NULL THEN NULL ELSE width_bucket({closes}, b.c) END AS bc, "
        "count(*) AS n "
        f"FROM (SELECT array_agg({open_bound} ORDER BY ps) AS o, array_agg(pe_ts ORDER BY ps) AS c FROM p) b "
        f"CROSS JOIN v JOIN {table} t ON t.commune_code = v.code AND {date} >= v.lo AND {date} < v.hi "
        f"WHERE {where} GROUP BY 1, 2, 3"
    )
    # Period k counts the records opened before its bound (bucket < k) and not closed before its end.
    inner = (
        "SELECT k.ps, ev.vid, sum(ev.n)::float AS num, NULL::float AS den "
        "FROM (SELECT ps, row_number() OVER (ORDER BY ps) AS k FROM p) k "
        f"JOIN ({events}) ev ON ev.bo < k.k AND (ev.bc IS NULL OR ev.bc >= k.k) GROUP BY k.ps, ev.vid"
    )
    return _weighted(inner, "population", per_period=True)


_STILL_OPEN = "t.status IN ('received', 'verified', 'assigned', 'in_progress')"
_PETITIONS_OPEN = _open_at_period_end(
    "petitions_petition",
    "t.received_at",
    "t.resolved_at",
    f"((t.resolved_at IS NULL AND {_STILL_OPEN}) OR t.resolved_at >= t.received_at)",
)
# Overdue from the later of its receipt and its deadline (the as-of time of the current period is now).
_PETITIONS_OVERDUE = _open_at_period_end(
    "petitions_petition",
    "GREATEST(t.received_at, t.due_at)",
    "t.resolved_at",
    f"t.due_at IS NOT NULL AND ((t.resolved_at IS NULL AND {_STILL_OPEN}) "
    "OR t.resolved_at >= GREATEST(t.received_at, t.due_at))",
    open_bound="asof_ts",
)

_OVERDUE_DOSSIER = (
    # The first line restates the partial index dossier_late_idx, so the planner can use it.
    "(t.resolved_date IS NULL OR t.resolved_date > t.due_date) AND "
    "t.received_date < p.pe AND t.due_date < p.asof AND (t.resolved_date > p.asof "
    "OR (t.resolved_date IS NULL AND t.status <> 'returned'))"
)


def _observations(prop: str, value: str) -> str:
    """Observations of one observed property (its code, a constant) in each period; an average is a value of
    each station-hour, so a group of communes averages its stations' hours, not its communes' averages."""
    stream = (
        "t.datastream_id IN (SELECT d.id FROM sensors_datastream d JOIN sensors_observedproperty o "
        f"ON o.id = d.observed_property_id WHERE o.code = '{prop}')"
    )
    where = f"t.phenomenon_time >= p.ps_ts AND t.phenomenon_time < p.pe_ts AND {stream}"
    if value.startswith("avg("):
        return _dated("sensors_observation", "sum(t.result)", "count(*)", where=where)
    return _dated("sensors_observation", value, where=where)


_SCHOOLS = _timeless("layers_school", "count(*)")
_HEALTH = _timeless("layers_healthfacility", "count(*)")
_POPULATION = _at_date(POPULATION)

_STATS: list[Statistic] = [
    # --- population and land ----------------------------------------------------------------------
    Statistic("population", "Dân số", "Population", "người", "people", _POPULATION),
    Statistic("households", "Số hộ", "Households", "hộ", "households", _at_date(_indicator("households"))),
    Statistic(
        "poor_household_rate",
        "Tỷ lệ hộ nghèo",
        "Poor-household rate",
        "%",
        "%",
        # Weighted by households so that a group of communes gets the true rate.
        _at_date(
            f"{_indicator('poor_household_rate')} * COALESCE({_indicator('households')}, 1)",
            f"CASE WHEN {_indicator('poor_household_rate')} IS NOT NULL "
            f"THEN COALESCE({_indicator('households')}, 1) END",
        ),
        ratio=True,
    ),
    Statistic(
        "area_km2", "Diện tích tự nhiên", "Area", "km²", "km²", _at_date("v.area", num_weight="area"), weight="area"
    ),
    Statistic(
        "population_density",
        "Mật độ dân số",
        "Population density",
        "người/km²",
        "people/km²",
        _at_date(POPULATION, "NULLIF(v.area, 0)", den_weight="area"),
        ratio=True,
    ),
    # --- education and health ---------------------------------------------------------------------
    Statistic("schools", "Số trường học", "Schools", "trường", "schools", _SCHOOLS, zero=True),
    Statistic(
        "schools_per_10k",
        "Trường học trên 10.000 dân",
        "Schools per 10,000 residents",
        "trường/10.000 dân",
        "per 10,000",
        _ratio_of(_SCHOOLS, _POPULATION, 10000.0),
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
        _HEALTH,
        zero=True,
    ),
    Statistic(
        "health_facilities_per_10k",
        "Cơ sở y tế trên 10.000 dân",
        "Health facilities per 10,000 residents",
        "cơ sở/10.000 dân",
        "per 10,000",
        _ratio_of(_HEALTH, _POPULATION, 10000.0),
        ratio=True,
    ),
    # --- economy and land -------------------------------------------------------------------------
    Statistic(
        "household_businesses_active",
        "Hộ kinh doanh đang hoạt động",
        "Active household businesses",
        "hộ",
        "businesses",
        _dated("layers_householdbusiness", "count(*)", where="t.status = 'active' AND t.registration_date < p.pe"),
        zero=True,
    ),
    Statistic(
        "parcels",
        "Số thửa đất",
        "Land parcels",
        "thửa",
        "parcels",
        _timeless("layers_landparcel", "count(*)", weight="area"),
        zero=True,
        weight="area",
    ),
    Statistic(
        "parcel_area_ha",
        "Diện tích các thửa đất",
        "Parcel area",
        "ha",
        "ha",
        _timeless("layers_landparcel", "sum(t.area_m2) / 10000.0", weight="area"),
        zero=True,
        weight="area",
    ),
    *[
        Statistic(
            f"land_{slug}_ha",
            f"Diện tích {vi}",
            f"{en} land area",
            "ha",
            "ha",
            _timeless(
                "layers_landparcel",
                "sum(t.area_m2) / 10000.0",
                where=f"t.land_use = ANY({_codes_of(group)})",
                weight="area",
            ),
            zero=True,
            weight="area",
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
        _dated("petitions_petition", "count(*)", where="t.received_at >= p.ps_ts AND t.received_at < p.pe_ts"),
        kind=FLOW,
        zero=True,
    ),
    Statistic(
        "petitions_open",
        "Phản ánh đang xử lý",
        "Open petitions",
        "phản ánh",
        "petitions",
        _PETITIONS_OPEN,
        zero=True,
    ),
    Statistic(
        "petitions_overdue",
        "Phản ánh quá hạn",
        "Overdue petitions",
        "phản ánh",
        "petitions",
        _PETITIONS_OVERDUE,
        zero=True,
    ),
    Statistic(
        "petition_resolution_rate",
        "Tỷ lệ phản ánh đã giải quyết",
        "Petition resolution rate",
        "%",
        "%",
        _dated(
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
        _dated(
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
        _dated("layers_dossier", "count(*)", where="t.received_date >= p.ps AND t.received_date < p.pe"),
        kind=FLOW,
        zero=True,
    ),
    Statistic(
        "dossier_on_time_rate",
        "Tỷ lệ hồ sơ giải quyết đúng hạn",
        "Dossiers resolved on time",
        "%",
        "%",
        _dated(
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
        _dated("layers_dossier", "count(*)", where=_OVERDUE_DOSSIER),
        zero=True,
    ),
    # --- budget -----------------------------------------------------------------------------------
    Statistic(
        "revenue_actual",
        "Thực thu ngân sách",
        "Revenue collected",
        "VND",
        "VND",
        _dated("layers_budgetrevenue", "sum(t.actual)", where="t.month >= p.ps AND t.month < p.pe"),
        kind=FLOW,
        zero=True,
    ),
    Statistic(
        "revenue_planned",
        "Dự toán thu ngân sách",
        "Planned revenue",
        "VND",
        "VND",
        _dated("layers_budgetrevenue", "sum(t.planned)", where="t.month >= p.ps AND t.month < p.pe"),
        kind=FLOW,
        zero=True,
    ),
    Statistic(
        "revenue_vs_plan",
        "Thu ngân sách so với dự toán",
        "Revenue against plan",
        "%",
        "%",
        _dated(
            "layers_budgetrevenue",
            "100.0 * sum(t.actual)",
            "NULLIF(sum(t.planned), 0)",
            where="t.month >= p.ps AND t.month < p.pe",
        ),
        kind=FLOW,
        ratio=True,
    ),
    # --- landslide exposure (issue 19, item 2; layers/landslide.py computes each parcel's slope) ----------
    # Slope classes of Vietnamese land evaluation: 15–25° steep (dốc), 25° and more very steep (rất dốc).
    *[
        stat
        for degrees, vi, en in ((15, "dốc", "steep"), (25, "rất dốc", "very steep"))
        for stat in (
            Statistic(
                f"parcels_slope_{degrees}",
                f"Thửa đất trên sườn {vi} (≥ {degrees}°)",
                f"Parcels on {en} slopes ({degrees}° or more)",
                "thửa",
                "parcels",
                _timeless("layers_landparcel", f"count(*) FILTER (WHERE t.slope_deg >= {degrees})", weight="area"),
                zero=True,
                weight="area",
            ),
            Statistic(
                f"parcel_area_slope_{degrees}_share",
                f"Tỷ lệ diện tích thửa đất trên sườn {vi} (≥ {degrees}°)",
                f"Share of parcel area on {en} slopes ({degrees}° or more)",
                "%",
                "%",
                _timeless(
                    "layers_landparcel",
                    f"100.0 * COALESCE(sum(t.area_m2) FILTER (WHERE t.slope_deg >= {degrees}), 0)",
                    "NULLIF(sum(t.area_m2) FILTER (WHERE t.slope_deg IS NOT NULL), 0)",
                    weight="area",
                ),
                ratio=True,
                weight="area",
            ),
        )
    ],
    # --- agriculture (issue 19, item 2) -----------------------------------------------------------------
    # Planted area (diện tích gieo trồng) of the year the period ends in: a field sown in two seasons counts
    # twice, a greenhouse block once a year; figures shared out by area when a commune was split.
    Statistic(
        "crop_area_ha",
        "Diện tích gieo trồng",
        "Planted area",
        "ha",
        "ha",
        _dated("layers_croparea", "sum(t.area_m2) / 10000.0", where="t.year = p.yr", weight="area"),
        zero=True,
        weight="area",
    ),
    Statistic(
        "greenhouse_area_ha",
        "Diện tích nhà kính, nhà lưới",
        "Area under greenhouses",
        "ha",
        "ha",
        _dated("layers_croparea", "sum(t.area_m2) / 10000.0", where="t.year = p.yr AND t.greenhouse", weight="area"),
        zero=True,
        weight="area",
    ),
    Statistic(
        "greenhouse_share",
        "Tỷ lệ diện tích nhà kính",
        "Greenhouse share of planted area",
        "%",
        "%",
        _dated(
            "layers_croparea",
            "100.0 * sum(t.area_m2) FILTER (WHERE t.greenhouse)",
            "NULLIF(sum(t.area_m2), 0)",
            where="t.year = p.yr",
            weight="area",
        ),
        ratio=True,
        weight="area",
    ),
    Statistic(
        "certified_crop_share",
        "Tỷ lệ diện tích đạt chứng nhận (VietGAP, GlobalGAP, hữu cơ)",
        "Certified share of planted area (VietGAP, GlobalGAP, organic)",
        "%",
        "%",
        _dated(
            "layers_croparea",
            "100.0 * sum(t.area_m2) FILTER (WHERE t.certification <> 'none')",
            "NULLIF(sum(t.area_m2), 0)",
            where="t.year = p.yr",
            weight="area",
        ),
        ratio=True,
        weight="area",
    ),
    Statistic(
        "farms",
        "Hợp tác xã, trang trại",
        "Cooperatives and farms",
        "cơ sở",
        "farms",
        _timeless("layers_farm", "count(*)"),
        zero=True,
    ),
    Statistic(
        "cooperatives",
        "Hợp tác xã nông nghiệp",
        "Agricultural cooperatives",
        "HTX",
        "cooperatives",
        _timeless("layers_farm", "count(*)", where="t.kind = 'htx'"),
        zero=True,
    ),
    # --- tourism (issue 19, item 3) ---------------------------------------------------------------------
    Statistic(
        "accommodation_beds",
        "Số giường lưu trú",
        "Accommodation beds",
        "giường",
        "beds",
        _timeless("layers_tourismsite", "sum(t.beds)"),
        zero=True,
    ),
    Statistic(
        "visitors",
        "Lượt khách du lịch",
        "Visitors",
        "lượt",
        "visits",
        _dated("layers_visitorcount", "sum(t.visitors)", where="t.month >= p.ps AND t.month < p.pe"),
        kind=FLOW,
        zero=True,
    ),
    Statistic(
        "overnight_share",
        "Tỷ lệ khách lưu trú",
        "Overnight share of visitors",
        "%",
        "%",
        _dated(
            "layers_visitorcount",
            "100.0 * sum(t.overnight)",
            "NULLIF(sum(t.visitors), 0)",
            where="t.month >= p.ps AND t.month < p.pe",
        ),
        kind=FLOW,
        ratio=True,
    ),
    # --- environment (issue 19, item 1; sensors/): observations of one observed property, per period ----
    *[
        Statistic(
            code,
            vi,
            en,
            unit,
            unit,
            _observations(prop, "sum(t.result)" if total else "avg(t.result)"),
            kind=FLOW,
            ratio=not total,  # a commune without a gauge has no data, not zero rain
        )
        for code, prop, vi, en, unit, total in (
            ("rain_mm", "rain", "Lượng mưa", "Rainfall", "mm", True),
            ("pm25_avg", "pm25", "Bụi PM2.5 trung bình", "Mean PM2.5", "µg/m³", False),
            ("water_ph_avg", "ph", "pH nước trung bình", "Mean water pH", "pH", False),
            ("turbidity_avg", "turbidity", "Độ đục nước trung bình", "Mean turbidity", "NTU", False),
            ("lake_level_avg", "lake_level", "Mực nước hồ trung bình", "Mean lake level", "m", False),
        )
    ],
]

# Boundaries and census population: reference data every user of the map already sees.
# The sensor network's catalogue (which stream measures which property) is read only to pick a series: it holds
# no measurement, so it is reference data too; the observations themselves follow their layer.
REFERENCE_TABLES = frozenset(
    {"gis_ioc_adminunit", "gis_ioc_adminunitpopulation", "sensors_datastream", "sensors_observedproperty"}
)
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
    **dict.fromkeys(
        ("parcels_slope_15", "parcel_area_slope_15_share", "parcels_slope_25", "parcel_area_slope_25_share"),
        ("layers_landparcel",),
    ),
    "crop_area_ha": ("layers_croparea",),
    "greenhouse_area_ha": ("layers_croparea",),
    "greenhouse_share": ("layers_croparea",),
    "certified_crop_share": ("layers_croparea",),
    "farms": ("layers_farm",),
    "cooperatives": ("layers_farm",),
    "accommodation_beds": ("layers_tourismsite",),
    "visitors": ("layers_visitorcount",),
    "overnight_share": ("layers_visitorcount",),
    # The datastream and observed-property tables are only read to pick the property's series (reference).
    **dict.fromkeys(
        ("rain_mm", "pm25_avg", "water_ph_avg", "turbidity_avg", "lake_level_avg"),
        ("sensors_observation", "sensors_datastream", "sensors_observedproperty"),
    ),
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
    "greenhouse_area_ha",
    "visitors",
]

# The units and their weights come from gis_ioc.unit_sets.weights(), passed as arrays (a few hundred rows).
_UNITS_CTE = """
v AS (SELECT * FROM unnest(%(v_id)s::int[], %(v_code)s::varchar[], %(v_lo)s::date[], %(v_hi)s::date[],
                           %(v_area)s::float[]) AS v(vid, code, lo, hi, area)),
e AS (SELECT * FROM unnest(%(e_vid)s::int[], %(e_code)s::varchar[], %(e_wa)s::float[], %(e_wp)s::float[])
        AS e(vid, code, wa, wp)),
c AS (SELECT * FROM unnest(%(c_code)s::varchar[]) AS c(code))"""

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


@dataclass
class Units:
    """The requested units for one call: the set, its weights, the selected codes (all, or a scope)."""

    unit_set: UnitSet | None  # None: no units loaded yet (every figure is empty)
    weights: Weights | None
    codes: list[str]

    def method(self, stat: Statistic, code: str) -> str:
        """ "exact", or the weighting used for a unit that received part of a split unit."""
        return self.weights.method(code, stat.weight) if self.weights else "exact"


def units_for(units: str | None = None, as_of: dt.date | None = None, communes: Iterable[str] | None = None) -> Units:
    """Resolve `units` / `as_of` (gis_ioc.unit_sets.resolve, UnitSetError on a bad one) and compute weights."""
    try:
        unit_set, weights = resolve_with_weights(units, as_of)
    except UnitSetError:
        if units or as_of or UnitSet.objects.exists():
            raise
        return Units(unit_set=None, weights=None, codes=[])  # an empty platform: no units, no figures
    members = weights.codes
    wanted = members if communes is None else [c for c in members if c in {str(x) for x in communes}]
    return Units(unit_set=unit_set, weights=weights, codes=wanted)


def _params(
    start: dt.date,
    end: dt.date,
    communes: Iterable[str] | None,
    interval: str | None = None,
    *,
    units: str | None = None,
    as_of: dt.date | None = None,
) -> dict[str, Any]:
    if end < start:
        raise ValueError(f"period end {end} is before its start {start}")
    if interval is not None and interval not in INTERVALS:
        raise ValueError(f"unknown interval {interval!r}; one of {', '.join(INTERVALS)}")
    chosen = units_for(units, as_of, communes)
    spans = periods(start, end, interval)
    selected = set(chosen.codes)
    edges = [edge for edge in chosen.weights.edges if edge[1] in selected] if chosen.weights else []
    versions = chosen.weights.versions if chosen.weights else []
    return {
        "labels": [s[0] for s in spans],
        "starts": [s[1] for s in spans],
        "ends": [s[2] for s in spans],
        "today": dt.date.today(),
        "tz": settings.TIME_ZONE,
        "v_id": [v[0] for v in versions],
        "v_code": [v[1] for v in versions],
        "v_lo": [v[2] for v in versions],
        "v_hi": [v[3] for v in versions],
        "v_area": [v[4] for v in versions],
        "e_vid": [e[0] for e in edges],
        "e_code": [e[1] for e in edges],
        "e_wa": [e[2] for e in edges],
        "e_wp": [e[3] for e in edges],
        "c_code": chosen.codes,
    }


def _head(stats: dict[str, Statistic]) -> str:
    """The shared CTEs (units, periods) and one CTE per statistic, named by the keys of `stats`."""
    own = ", ".join(f"{name} AS ({stat.sql})" for name, stat in stats.items())
    return f"WITH {_UNITS_CTE}, {_PERIODS_CTE.format(periods=_PERIODS)}, {own}"


def _group(stat: Statistic, s: str) -> str:
    """(label, num, den, units) per period for the units taken together, from the statistic's CTE `s`.

    The numerators are summed (only where a denominator exists, for rates), and so are the denominators,
    so the result is the group's own rate."""
    num = f"COALESCE({s}.num, 0)" if stat.zero else f"{s}.num"
    keep = f"{s}.den IS NOT NULL" if stat.ratio else "TRUE"
    return (
        f"SELECT p.label, sum({num}) FILTER (WHERE {keep}) AS num, sum({s}.den) AS den, count(c.code) AS n "
        f"FROM p CROSS JOIN c LEFT JOIN {s} ON {s}.ps = p.ps AND {s}.code = c.code GROUP BY p.label"
    )


def _query(stat: Statistic, *, by_commune: bool) -> str:
    head = _head({"s": stat})
    if by_commune:
        num = "COALESCE(s.num, 0)" if stat.zero else "s.num"
        return (
            f"{head} SELECT p.label, c.code, {num}, s.den "
            "FROM p CROSS JOIN c LEFT JOIN s ON s.ps = p.ps AND s.code = c.code ORDER BY p.label, c.code"
        )
    return f"{head} {_group(stat, 's')} ORDER BY p.label"


def _value(stat: Statistic, num: Any, den: Any) -> float | None:
    if num is None:
        return None
    if stat.ratio:
        return float(num) / float(den) if den else None
    return float(num)


def commune_values(
    code: str,
    start: dt.date,
    end: dt.date,
    communes: Iterable[str] | None = None,
    *,
    units: str | None = None,
    as_of: dt.date | None = None,
) -> dict[str, float | None]:
    """The statistic for each unit of the requested set over [start, end] (inclusive), in one query."""
    stat = _statistic(code)
    with replica.reader().cursor() as cursor:
        cursor.execute(_query(stat, by_commune=True), _params(start, end, communes, units=units, as_of=as_of))
        return {row[1]: _value(stat, row[2], row[3]) for row in cursor.fetchall()}


def district_value(
    code: str,
    start: dt.date,
    end: dt.date,
    communes: Iterable[str] | None = None,
    *,
    units: str | None = None,
    as_of: dt.date | None = None,
) -> float | None:
    """The statistic for the units taken together (all of the set by default), in one query."""
    series = timeseries_for(code, start, end, communes, interval=None, units=units, as_of=as_of)
    return series[0][1] if series else None


def district_values(
    codes: Iterable[str],
    start: dt.date,
    end: dt.date,
    communes: Iterable[str] | None = None,
    *,
    units: str | None = None,
    as_of: dt.date | None = None,
) -> dict[str, float | None]:
    """Several statistics for the units taken together, in one query: {statistic code: value}.

    The same figures as `district_value` for each code; one round trip and one resolution of the units
    for a page of KPI cards instead of one of each per statistic."""
    stats = {code: _statistic(code) for code in codes}
    if not stats:
        return {}
    names = {f"s{i}": code for i, code in enumerate(stats)}
    body = " UNION ALL ".join(
        f"SELECT '{name}' AS k, g.* FROM ({_group(stats[code], name)}) g" for name, code in names.items()
    )
    query = f"{_head({name: stats[code] for name, code in names.items()})} {body}"
    values: dict[str, float | None] = dict.fromkeys(stats)
    with replica.reader().cursor() as cursor:
        cursor.execute(query, _params(start, end, communes, units=units, as_of=as_of))
        for name, _label, num, den, n in cursor.fetchall():
            code = names[name]
            values[code] = _value(stats[code], num, den) if n else None
    return values


def timeseries(
    code: str,
    start: dt.date,
    end: dt.date,
    communes: Iterable[str] | None = None,
    interval: str = "month",
    *,
    units: str | None = None,
    as_of: dt.date | None = None,
) -> list[tuple[dt.date, float | None]]:
    """The statistic for the units together, per interval (day, week, month, quarter, year), in one query.

    Each period is labelled by its calendar start (the first period is counted from `start` only).
    """
    return timeseries_for(code, start, end, communes, interval=interval, units=units, as_of=as_of)


def timeseries_for(
    code: str,
    start: dt.date,
    end: dt.date,
    communes: Iterable[str] | None,
    interval: str | None,
    *,
    units: str | None = None,
    as_of: dt.date | None = None,
) -> list[tuple[dt.date, float | None]]:
    """Shared by district_value (interval None: one period) and timeseries."""
    stat = _statistic(code)
    params = _params(start, end, communes, interval, units=units, as_of=as_of)
    with replica.reader().cursor() as cursor:
        cursor.execute(_query(stat, by_commune=False), params)
        return [(row[0], _value(stat, row[1], row[2]) if row[3] else None) for row in cursor.fetchall()]


def commune_timeseries(
    code: str,
    start: dt.date,
    end: dt.date,
    communes: Iterable[str] | None = None,
    interval: str = "month",
    *,
    units: str | None = None,
    as_of: dt.date | None = None,
) -> dict[str, list[tuple[dt.date, float | None]]]:
    """The statistic per unit and interval, in one query (for small multiples and exports)."""
    stat = _statistic(code)
    result: dict[str, list[tuple[dt.date, float | None]]] = {}
    with replica.reader().cursor() as cursor:
        cursor.execute(_query(stat, by_commune=True), _params(start, end, communes, interval, units=units, as_of=as_of))
        for label, commune, num, den in cursor.fetchall():
            result.setdefault(commune, []).append((label, _value(stat, num, den)))
    return result


def methods(
    code: str, communes: Iterable[str] | None = None, *, units: str | None = None, as_of: dt.date | None = None
) -> dict[str, str]:
    """How each unit's figure of the statistic is obtained: "exact", "population" or "area" (weighted)."""
    stat = _statistic(code)
    chosen = units_for(units, as_of, communes)
    return {c: chosen.method(stat, c) for c in chosen.codes}


def kpis(
    start: dt.date,
    end: dt.date,
    communes: Iterable[str] | None = None,
    *,
    units: str | None = None,
    as_of: dt.date | None = None,
) -> dict[str, float | None]:
    """The headline figures (KPI_CODES) for the units together: {statistic code: value}.

    One query for all of them; titles and units are in STATISTICS[code].
    """
    codes = None if communes is None else list(communes)
    return district_values(KPI_CODES, start, end, codes, units=units, as_of=as_of)
