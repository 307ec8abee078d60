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
    "layers.landslide",  # the parcels' slopes, from tiles.demo's slope raster
    "analysis.demo",
    "sensors.demo",
]


class Command(BaseCommand):
    help = "Load the demo district (communes, then every sector's demo data). Idempotent."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--boundaries", help="A real commune boundary file to use instead of generated ones")
        parser.add_argument("--code-field", default="gso_commune_code")
        parser.add_argument("--name-field", default="full_name")
        parser.add_argument("--communes-only", action="store_true", help="Load the admin units only")
        parser.add_argument("--reset", action="store_true", help="Delete and rebuild the demo data")
        parser.add_argument(
            "--scale",
            choices=["district", "province"],
            default="district",
            help="district: Đơn Dương (default); province: the 148 real Lâm Đồng communes at Đơn Dương's densities",
        )
        parser.add_argument(
            "--province-communes",
            help="With --scale province: only these commune codes (comma-separated), for a small trial",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from gis_ioc.demo.district import district_loaded, load_district

        started = time.monotonic()
        if options["reset"]:
            self._reset()
        if options["scale"] == "province":
            self._province(options, started)
            return
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

    def _province(self, options: dict[str, Any], started: float) -> None:
        """The province at the district's densities (issue 16): the real communes as the 2009–2024 unit set,
        then the same generator as the district's demo over all of them (about 2 million parcels)."""
        from django.core.management import call_command

        from gis_ioc.demo.province import PROVINCE_FILE_ARGS, density_scale, shared_province_file
        from gis_ioc.models import AdminUnit
        from layers import demo as sector_demo

        if not AdminUnit.objects.filter(level="commune").exists():
            path = options["boundaries"] or shared_province_file()
            self.stdout.write(f"Nạp các xã của tỉnh / loading the province's communes from {path}")
            call_command("import_admin_units", str(path), *PROVINCE_FILE_ARGS, stdout=self.stdout)
        elif AdminUnit.objects.filter(is_demo=True, level="commune").exists():
            raise CommandError(
                "This database holds the Đơn Dương demo: load the province into another database "
                "(`make demo SCALE=province` uses gis_ioc_province) or run with --reset."
            )
        only = [c.strip() for c in options["province_communes"].split(",")] if options["province_communes"] else None
        scale = density_scale(only)
        self.stdout.write(f"Mật độ huyện Đơn Dương × {scale:.2f} / district densities × {scale:.2f}")
        sector_demo.load(self.stdout, reset=options["reset"], only=only, scale=scale, progress=True)  # type: ignore[arg-type]
        self.stdout.write(self.style.SUCCESS(f"Province demo ready in {time.monotonic() - started:.1f} s"))

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
