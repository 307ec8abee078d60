"""Filing records under the units valid on their dates after a crosswalk (the re-assignment job).

A crosswalk closes units; records filed under them that are dated on or after the effective date (and
undated ones, which belong to today's units) must move to the units valid on their dates:

* located records (a geometry): to the unit covering them that day (`refile_by_date`);
* tabular records (a commune code only): to the version of their code valid that day, else — when their
  old unit went whole into one new unit — to that unit; a tabular record of a unit that was split cannot
  be placed without a location and is counted as left for review, never guessed.

Runs as a procrastinate job (layers.tasks.refile_crosswalk) with progress on the Crosswalk row; running it
twice moves nothing the second time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.apps import apps
from django.db import connection, transaction

from gis_ioc.models import Crosswalk
from layers.models import Layer
from layers.models.base import SectorFeature, record_date_sql, refile_by_date


def sector_models() -> list[type[SectorFeature]]:
    """Every concrete sector model of every installed app."""
    return [m for m in apps.get_models() if issubclass(m, SectorFeature) and not m._meta.abstract]


def _whole_moves(crosswalk: Crosswalk) -> list[tuple[int, int, str]]:
    """(old unit, new unit, new code) for the old units that went whole into one other unit."""
    targets: dict[int, list[tuple[int, str]]] = {}
    for old, new, code in crosswalk.rows.values_list("old_unit_id", "new_unit_id", "new_unit__code"):
        targets.setdefault(old, []).append((new, code))
    return [(old, news[0][0], news[0][1]) for old, news in targets.items() if len(news) == 1 and news[0][0] != old]


def refile(crosswalk: Crosswalk, progress: Callable[[int, str], None] | None = None) -> dict[str, Any]:
    """Move the records of the crosswalk's closed units; returns {table: {"moved": n, "left": n}}."""
    progress = progress or (lambda p, m: None)
    closed = sorted({old for old, new in crosswalk.rows.values_list("old_unit_id", "new_unit_id") if old != new})
    models = sector_models()
    report: dict[str, Any] = {}
    for i, model in enumerate(models):
        table = model._meta.db_table
        progress(round(100 * i / max(len(models), 1)), table)
        with transaction.atomic():
            moved = refile_by_date(model, unit_ids=closed)
            left = 0
            if model.locate_by is None:
                day = record_date_sql(model, "t")
                with connection.cursor() as cursor:
                    for old, new, code in _whole_moves(crosswalk):
                        cursor.execute(
                            f"UPDATE {table} t SET commune_id = %s, commune_code = %s "  # noqa: S608 - model metadata
                            f"WHERE t.commune_id = %s AND {day} >= %s",
                            [new, code, old, crosswalk.effective_date],
                        )
                        moved += cursor.rowcount
                    cursor.execute(
                        f"SELECT count(*) FROM {table} t WHERE t.commune_id = ANY(%s) AND {day} >= %s",  # noqa: S608
                        [closed, crosswalk.effective_date],
                    )
                    left = cursor.fetchone()[0]
            if moved:
                Layer.objects.record_change(model)
        report[table] = {"moved": moved, "left": left}
    progress(100, "")
    return report


def run(crosswalk_id: int) -> Crosswalk:
    """The job's body: status and percent on the crosswalk, written as it goes."""
    crosswalk = Crosswalk.objects.get(pk=crosswalk_id)
    Crosswalk.objects.filter(pk=crosswalk_id).update(refile_status="running", refile_percent=0)

    def progress(percent: int, _message: str) -> None:
        Crosswalk.objects.filter(pk=crosswalk_id).update(refile_percent=percent)

    try:
        report = refile(crosswalk, progress)
    except Exception:
        Crosswalk.objects.filter(pk=crosswalk_id).update(refile_status="failed")
        raise
    Crosswalk.objects.filter(pk=crosswalk_id).update(refile_status="done", refile_percent=100, refile_report=report)
    crosswalk.refresh_from_db()
    return crosswalk
