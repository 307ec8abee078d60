"""manage.py load_demo: a deterministic demo Đơn Dương, with no network and no shared file."""

from __future__ import annotations

import time
from importlib import import_module
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

# Each app contributes one step: a function load(stdout, reset: bool) -> None, idempotent on its own.
DEMO_STEPS = [
    "layers.demo",
    "petitions.demo",
    "tiles.demo",
    "analysis.demo",
]


class Command(BaseCommand):
    help = "Load the demo district (communes, then every sector's demo data). Idempotent."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--boundaries", help="A real commune boundary file to use instead of generated ones")
        parser.add_argument("--code-field", default="gso_commune_code")
        parser.add_argument("--name-field", default="full_name")
        parser.add_argument("--communes-only", action="store_true", help="Load the admin units only")
        parser.add_argument("--reset", action="store_true", help="Delete and rebuild the demo data")

    def handle(self, *args: Any, **options: Any) -> None:
        from gis_ioc.demo.district import district_loaded, load_district

        started = time.monotonic()
        if options["reset"]:
            self._reset()
        if district_loaded():
            self.stdout.write("Đơn vị hành chính đã có / admin units already loaded")
        else:
            units = None
            source = "demo"
            if options["boundaries"]:
                from gis_ioc.boundary_files import read_units

                try:
                    units = read_units(
                        options["boundaries"],
                        code_field=options["code_field"],
                        name_field=options["name_field"],
                        codes={
                            "24928",
                            "24931",
                            "24934",
                            "24937",
                            "24940",
                            "24943",
                            "24946",
                            "24949",
                            "24952",
                            "24955",
                        },
                    )
                except ValueError as exc:
                    raise CommandError(str(exc)) from exc
                source = str(options["boundaries"])
            report = load_district(units, source=source) if units else load_district()
            self.stdout.write(
                f"Đã nạp 10 xã, thị trấn + huyện + tỉnh / loaded 10 communes ({time.monotonic() - started:.1f} s)"
            )
            for line in report.lines()[:2]:
                self.stdout.write("  " + line)
        if options["communes_only"]:
            return
        for step in DEMO_STEPS:
            try:
                module = import_module(step)
            except ModuleNotFoundError:
                continue
            module.load(self.stdout, reset=options["reset"])
        self.stdout.write(self.style.SUCCESS(f"Demo ready in {time.monotonic() - started:.1f} s"))

    def _reset(self) -> None:
        from gis_ioc.models import AdminUnit

        for step in reversed(DEMO_STEPS):
            try:
                module = import_module(step)
            except ModuleNotFoundError:
                continue
            if hasattr(module, "clear"):
                module.clear()
        AdminUnit.objects.filter(is_demo=True, level="commune").delete()
        AdminUnit.objects.filter(is_demo=True, level="district").delete()
        AdminUnit.objects.filter(is_demo=True).delete()
