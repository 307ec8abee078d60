"""The demo's records filed under the units valid on their dates.

The generators place records in today's communes; records dated before a reform belong to the units of
their day. Located records move by geometry (`refile_by_date`, the same statement imports use); tabular
ones of a unit formed by a crosswalk are shared among its predecessors by their population shares —
dossiers one by one (a deterministic draw per row), revenue and additive indicators split in amount,
rates copied. Idempotent: only records dated before their unit began are touched.
"""

from __future__ import annotations

from typing import Any

from django.db import connection

from gis_ioc.models import AdminUnit
from gis_ioc.unit_sets import predecessors
from layers.models import BudgetRevenue, CropArea, Dossier, HouseholdBusiness, Indicator
from layers.models.base import record_date_sql, refile_by_date

# Indicators that add up over communes (the others are rates or averages: copied to each predecessor).
ADDITIVE = ("population", "households", "labour_force", "crop_area")


def _units_with_parts() -> list[tuple[AdminUnit, list[tuple[AdminUnit, float]]]]:
    parts = predecessors()
    units = AdminUnit.objects.in_bulk(list(parts) + [o for olds in parts.values() for o, *_ in olds])
    return [(units[new], [(units[o], pop) for o, _area, pop in olds]) for new, olds in parts.items()]


def _draw(shares: list[tuple[AdminUnit, float]], column: str) -> str:
    """A CASE giving each row one predecessor, by a deterministic draw in [0, 1) from its id."""
    cases, cumulative = [], 0.0
    for unit, share in shares[:-1]:
        cumulative += share
        value = unit.id if column == "id" else repr(unit.code)
        cases.append(f"WHEN ((t.id * 2654435761) %% 1000) / 1000.0 < {cumulative:.6f} THEN {value}")
    last = shares[-1][0]
    return f"CASE {' '.join(cases)} ELSE {last.id if column == 'id' else repr(last.code)} END"


def file_by_date() -> dict[str, int]:
    """Move the demo's records to the units valid on their dates; returns rows touched per table."""
    touched = {}
    for model in (HouseholdBusiness, CropArea):
        touched[model._meta.db_table] = refile_by_date(model)
    touched["layers_visitorcount"] = refile_visitors()
    from petitions.models import Petition

    touched["petitions_petition"] = refile_by_date(Petition)
    with connection.cursor() as cursor:
        for unit, shares in _units_with_parts():
            # Dossiers: one predecessor each, drawn by population share.
            day = record_date_sql(Dossier, "t")
            cursor.execute(
                f"UPDATE layers_dossier t SET commune_id = {_draw(shares, 'id')}, "  # noqa: S608 - constants
                f"commune_code = {_draw(shares, 'code')} WHERE t.commune_id = %s AND {day} < %s",
                [unit.id, unit.valid_from],
            )
            touched["layers_dossier"] = touched.get("layers_dossier", 0) + cursor.rowcount
            touched["layers_budgetrevenue"] = touched.get("layers_budgetrevenue", 0) + _split(
                cursor,
                "layers_budgetrevenue",
                BudgetRevenue,
                unit,
                shares,
                "month, source, planned, actual",
                "t.month, t.source, round(t.planned * s.share::numeric, -3), round(t.actual * s.share::numeric, -3)",
            )
            touched["layers_indicator"] = touched.get("layers_indicator", 0) + _split(
                cursor, "layers_indicator", Indicator, unit, shares,
                "code, year, value, unit",
                "t.code, t.year, CASE WHEN t.code = ANY(%(additive)s) THEN t.value * s.share ELSE t.value END, t.unit",
            )  # fmt: skip
    return touched


def refile_visitors() -> int:
    """A month's visitors belong to the commune that covered their site that month (a site in today's Quảng
    Lập counted in 2024 belongs to Pró or to the old Quảng Lập, by where it lies)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE layers_visitorcount v SET commune_id = u.id, commune_code = u.code
            FROM layers_tourismsite s, gis_ioc_adminunit u
            WHERE v.site_id = s.id AND u.level = 'commune' AND u.valid_from <= v.month
              AND (u.valid_to IS NULL OR u.valid_to > v.month) AND ST_Covers(u.geom, s.geom)
              AND v.commune_id IS DISTINCT FROM u.id
            """
        )
        return cursor.rowcount


def _split(
    cursor: Any,
    table: str,
    model: Any,
    unit: AdminUnit,
    shares: list[tuple[AdminUnit, float]],
    columns: str,
    values: str,
) -> int:
    """Replace each row of `unit` dated before it began by one row per predecessor (values × share)."""
    day = record_date_sql(model, "t")
    cursor.execute(
        f"CREATE TEMP TABLE _moving ON COMMIT DROP AS SELECT * FROM {table} t WHERE t.commune_id = %s AND {day} < %s",  # noqa: S608
        [unit.id, unit.valid_from],
    )
    cursor.execute(f"DELETE FROM {table} WHERE id IN (SELECT id FROM _moving)")  # noqa: S608
    cursor.execute(
        f"INSERT INTO {table} (commune_id, commune_code, is_demo, created_at, updated_at, {columns}) "  # noqa: S608
        f"SELECT s.id, s.code, t.is_demo, t.created_at, t.updated_at, {values} FROM _moving t "
        "CROSS JOIN unnest(%(ids)s::int[], %(codes)s::varchar[], %(shares)s::float[]) AS s(id, code, share)",
        {
            "ids": [u.id for u, _s in shares],
            "codes": [u.code for u, _s in shares],
            "shares": [share for _u, share in shares],
            "additive": list(ADDITIVE),
        },
    )
    moved = cursor.rowcount
    cursor.execute("DROP TABLE _moving")
    return moved
