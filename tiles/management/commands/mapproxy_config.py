"""manage.py mapproxy_config: write the MapProxy configuration from the layer catalog."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = (
        "Write mapproxy.yaml (Django's /mapproxy/ mount), mapproxy-public.yaml (MapProxy alone), seed.yaml "
        "and district.geojson from the catalog's raster layers, and validate them."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", help="Directory (default: IOC_MAPPROXY_DIR or ./mapproxy)")
        parser.add_argument(
            "--upstream", help="Base URL of this platform, for MapProxy's sources (IOC_MAPPROXY_UPSTREAM)"
        )
        parser.add_argument("--basemap-url", help="Online XYZ basemap with %%(z)s/%%(x)s/%%(y)s; off unless given")

    def handle(self, *args: Any, **options: Any) -> None:
        from tiles.mapproxy import layer_names, write_config

        try:
            paths = write_config(
                Path(options["output"]) if options["output"] else None,
                upstream=options["upstream"],
                basemap_url=options["basemap_url"],
            )
        except Exception as exc:  # noqa: BLE001 - MapProxy raises several types for a bad configuration
            raise CommandError(f"MapProxy configuration rejected: {exc}") from exc
        for key, path in paths.items():
            self.stdout.write(f"{key:9} {path}")
        names = sorted(layer_names(paths["internal"]))
        self.stdout.write(self.style.SUCCESS(f"MapProxy: {len(names)} layer(s): {', '.join(names) or '—'}"))
