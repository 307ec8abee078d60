"""manage.py import_admin_units FILE --level commune --code-field F --name-field F ...

Loads a boundary file in one transaction: on any error nothing is written and the command names the
file, row and field. Communes are dissolved into their district and province (given as CODE:NAME, or
read per feature with --district-field/--province-field) unless those units were loaded with their
own boundaries. Prints a topology report (overlapping pairs, gaps) rather than failing on the slivers
that real, thinned boundary data has.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, transaction

from gis_ioc.admin_units import AdminUnitLoadError, UnitInput, dissolve_into, load_units
from gis_ioc.boundary_files import read_units
from gis_ioc.lib.text import ascii_name, nfc
from gis_ioc.models import AdminUnit, Level


def _pair(value: str, option: str, sep: str = ":") -> tuple[str, str]:
    left, found, right = value.partition(sep)
    if not found or not left.strip() or not right.strip():
        raise CommandError(f"{option} expects A{sep}B, got {value!r}")
    return left.strip(), right.strip()


class Command(BaseCommand):
    help = "Import administrative units from a GeoJSON, GeoPackage or zipped Shapefile (one transaction)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")
        parser.add_argument("--level", choices=[c for c, _ in Level.choices], default=Level.COMMUNE)
        parser.add_argument("--code-field", required=True, help="Field with the GSO code")
        parser.add_argument("--name-field", required=True, help="Field with the Vietnamese name")
        parser.add_argument("--type-field", help="Field with the unit type (Xã, Phường, Thị trấn, ...)")
        parser.add_argument("--ascii-field", help="Field with the name without accents")
        parser.add_argument("--population-field", action="append", default=[], metavar="YEAR=FIELD", help="Repeatable")
        parser.add_argument("--valid-from", default="2009-01-01", help="First day of validity (YYYY-MM-DD)")
        parser.add_argument("--district", metavar="CODE:NAME", help="The district all the units belong to")
        parser.add_argument("--province", metavar="CODE:NAME", help="The province all the units belong to")
        parser.add_argument("--district-field", metavar="CODE_FIELD:NAME_FIELD", help="District per feature")
        parser.add_argument("--province-field", metavar="CODE_FIELD:NAME_FIELD", help="Province per feature")
        parser.add_argument("--replace", action="store_true", help="Update the versions valid on --valid-from")
        parser.add_argument("--layer", help="Layer of a multi-layer file (GeoPackage)")
        parser.add_argument("--dry-run", action="store_true", help="Check and report, then roll everything back")
        parser.add_argument(
            "--skip-empty-codes", action="store_true", help="Leave out (and list) features with an empty code"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            valid_from = dt.date.fromisoformat(options["valid_from"])
        except ValueError as exc:
            raise CommandError(f"--valid-from {options['valid_from']!r} is not a date (YYYY-MM-DD)") from exc
        populations: dict[int, str] = {}
        for item in options["population_field"]:
            year, field = _pair(item, "--population-field", "=")
            if not year.isdigit():
                raise CommandError(f"--population-field expects YEAR=FIELD, got {item!r}")
            populations[int(year)] = field
        group_fields = {
            level: _pair(options[f"{level}_field"], f"--{level}-field")
            for level in ("district", "province")
            if options[f"{level}_field"]
        }
        skipped: list[str] = []
        try:
            units = read_units(
                options["file"],
                code_field=options["code_field"],
                name_field=options["name_field"],
                type_field=options["type_field"],
                ascii_field=options["ascii_field"],
                population_fields=populations,
                layer=options["layer"],
                extra_fields=[f for pair in group_fields.values() for f in pair],
                skip_empty_codes=options["skip_empty_codes"],
                skipped=skipped,
            )
            with transaction.atomic():
                created, report = load_units(
                    units,
                    level=options["level"],
                    valid_from=valid_from,
                    source=str(options["file"]),
                    replace=options["replace"],
                )
                parents = self._attach_parents(units, created, options, group_fields, valid_from)
                for unit in parents:
                    unit.refresh_from_db()
                self._report(options, skipped, created, parents, report)
                if options["dry_run"]:
                    transaction.set_rollback(True)
                    self.stdout.write("--dry-run: nothing was written")
        except AdminUnitLoadError as exc:
            raise CommandError(f"{exc} (nothing was imported)") from exc
        except DatabaseError as exc:
            raise CommandError(f"{options['file']}: the database refused the import: {exc} (nothing imported)") from exc

    def _report(self, options: dict[str, Any], skipped: list[str], created: list, parents: list, report: Any) -> None:
        if skipped:
            self.stdout.write(f"Bỏ qua/skipped {len(skipped)} features without a code: {', '.join(skipped)}")
        self.stdout.write(f"Đã nhập/imported {len(created)} {options['level']} units from {options['file']}")
        for unit in parents:
            self.stdout.write(f"  {unit.get_level_display()} {unit.code} {unit.name}: {unit.area_km2:.2f} km²")
        for line in report.lines():
            self.stdout.write(line)

    def _attach_parents(
        self,
        units: list[UnitInput],
        created: list[AdminUnit],
        options: dict[str, Any],
        group_fields: dict[str, tuple[str, str]],
        valid_from: dt.date,
    ) -> list[AdminUnit]:
        """Dissolve the loaded units into their district/province (or attach them to supplied ones)."""
        levels = [Level.PROVINCE, Level.DISTRICT]
        if options["level"] == Level.DISTRICT:
            levels = [Level.PROVINCE]
        elif options["level"] == Level.PROVINCE:
            return []
        ids_by_row = {unit.row: obj.id for unit, obj in zip(units, created, strict=True)}
        source = str(options["file"])
        made: list[AdminUnit] = []
        province_of: dict[int, AdminUnit] = {}  # child unit id -> its province unit
        for level in levels:
            groups: dict[tuple[str, str], list[int]] = defaultdict(list)
            for unit in units:
                if options[level]:
                    key = _pair(options[level], f"--{level}")
                elif level in group_fields:
                    code_field, name_field = group_fields[level]
                    key = (str(unit.extra[code_field] or "").strip(), nfc(str(unit.extra[name_field] or "")))
                    if not key[0]:
                        raise AdminUnitLoadError(f"{source}: row {unit.row}: field {code_field!r} is empty")
                else:
                    continue
                groups[key].append(ids_by_row[unit.row])
            for (code, name), ids in groups.items():
                parent = province_of.get(ids[0]) if level == Level.DISTRICT else None
                made.append(
                    dissolve_into(
                        ids,
                        code=code,
                        name=name,
                        name_ascii=ascii_name(name),
                        level=level,
                        valid_from=valid_from,
                        source=source,
                        parent=parent,
                    )
                )
                if level == Level.PROVINCE:
                    province_of.update(dict.fromkeys(ids, made[-1]))
        return made
