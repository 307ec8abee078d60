"""File the units loaded before unit sets existed into sets, and record the reforms they went through.

For each level, every date on which some unit began or ended cuts time into periods; each period becomes
an administrative set holding the units valid in it. A unit that ended on the day others began is, at
that one time only, taken to have gone whole into the new unit covering its interior point: those rows
are recorded as a crosswalk whose legal basis says it was inferred here, so they can be corrected in the
admin. From now on reforms arrive as crosswalks (manage.py import_crosswalk), never inferred.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

NAMES = {
    "commune": ("Cấp xã", "Communes"),
    "district": ("Cấp huyện", "Districts"),
    "province": ("Cấp tỉnh", "Provinces"),
    "area": ("Vùng thống kê", "Statistical areas"),
}
INFERRED = "suy ra khi nâng cấp dữ liệu (migration 0004) / inferred when upgrading (migration 0004)"


def forwards(apps: Any, schema_editor: Any) -> None:
    import datetime as dt

    AdminUnit = apps.get_model("gis_ioc", "AdminUnit")
    UnitSet = apps.get_model("gis_ioc", "UnitSet")
    Crosswalk = apps.get_model("gis_ioc", "Crosswalk")
    CrosswalkRow = apps.get_model("gis_ioc", "CrosswalkRow")
    for level in sorted(set(AdminUnit.objects.values_list("level", flat=True))):
        units = list(AdminUnit.objects.filter(level=level))
        cuts = sorted({u.valid_from for u in units} | {u.valid_to for u in units if u.valid_to})
        previous = None
        for i, start in enumerate(cuts):
            end = cuts[i + 1] if i + 1 < len(cuts) else None
            members = [u for u in units if u.valid_from <= start and (u.valid_to is None or u.valid_to > start)]
            if not members:
                previous = None
                continue
            vi, en = NAMES.get(level, (level, level))
            last = f"{end - dt.timedelta(days=1):%m/%Y}" if end else ""
            span = f"{start:%m/%Y} – {last}".rstrip()
            unit_set = UnitSet.objects.create(
                slug=f"{level}-{start:%Y-%m-%d}",
                name=f"{vi} {span}",
                name_en=f"{en} {span}",
                level=level,
                kind="administrative",
                valid_from=start,
                valid_to=end,
            )
            unit_set.members.add(*members)
            if previous is not None:
                crosswalk = Crosswalk.objects.create(
                    from_set=previous[0], to_set=unit_set, effective_date=start, legal_basis=INFERRED, source=INFERRED
                )
                new_ids = {u.id for u in members}
                for number, old in enumerate(previous[1], start=1):
                    if old.id in new_ids:
                        target = old.id
                    else:
                        with schema_editor.connection.cursor() as cursor:
                            cursor.execute(
                                "SELECT n.id FROM gis_ioc_adminunit n, gis_ioc_adminunit o WHERE o.id = %s "
                                "AND n.id = ANY(%s) AND ST_Covers(n.geom, ST_PointOnSurface(o.geom)) LIMIT 1",
                                [old.id, list(new_ids)],
                            )
                            found = cursor.fetchone()
                        if found is None:
                            continue
                        target = found[0]
                    CrosswalkRow.objects.create(
                        crosswalk=crosswalk, old_unit_id=old.id, new_unit_id=target, row=number, legal_basis=INFERRED
                    )
            previous = (unit_set, members)


class Migration(migrations.Migration):
    dependencies = [("gis_ioc", "0003_unit_sets")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
