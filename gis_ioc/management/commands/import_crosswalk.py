"""manage.py import_crosswalk FILE [--boundaries GEOFILE --code-field F --name-field F] [--from SET] [--dry-run]

Applies a crosswalk (CSV/XLSX: old code, new code, new name, effective date, area and population shares,
legal basis) in one transaction: closes the old set, opens the new one, dissolves whole merges, takes
split units' boundaries from --boundaries (or from units loaded beforehand with import_admin_units
--valid-from DATE). A crosswalk with any problem is refused whole, every problem listed; nothing is
written. Records of the changed units are then re-assigned to the units valid at their date by a job.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from gis_ioc.admin_units import AdminUnitLoadError
from gis_ioc.boundary_files import read_units
from gis_ioc.crosswalks import import_crosswalk, read_crosswalk
from gis_ioc.models import Level
from gis_ioc.unit_sets import CrosswalkError


class Command(BaseCommand):
    help = "Import a crosswalk between unit sets (CSV/XLSX), refusing it whole on any problem."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")
        parser.add_argument("--level", choices=[c for c, _ in Level.choices], default=Level.COMMUNE)
        parser.add_argument(
            "--from",
            dest="from_set",
            metavar="SET",
            help="Slug of the old unit set (default: the set in force the day before)",
        )
        parser.add_argument("--boundaries", metavar="GEOFILE", help="Boundaries of the units formed by splits")
        parser.add_argument("--code-field", default="code", help="Code field of --boundaries")
        parser.add_argument("--name-field", default="name", help="Name field of --boundaries")
        parser.add_argument("--dry-run", action="store_true", help="Check and report, then roll everything back")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        try:
            rows = read_crosswalk(path, path.name, options["level"])
            boundaries = None
            if options["boundaries"]:
                boundaries = read_units(
                    options["boundaries"], code_field=options["code_field"], name_field=options["name_field"]
                )
            with transaction.atomic():
                results = import_crosswalk(
                    rows, source=path.name, level=options["level"], from_set=options["from_set"], boundaries=boundaries
                )
                for result in results:
                    for line in result.lines():
                        self.stdout.write(line)
                if options["dry_run"]:
                    transaction.set_rollback(True)
                    self.stdout.write("--dry-run: nothing was written")
        except CrosswalkError as exc:
            raise CommandError(str(exc)) from None
        except AdminUnitLoadError as exc:
            raise CommandError(str(exc)) from None
