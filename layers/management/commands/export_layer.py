"""manage.py export_layer SLUG --format gpkg --output FILE [--srid 5899] [--commune …] [--bbox …] [--filter k=v]"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser

from gis_ioc import roles
from layers import query as lq
from layers.exporters.formats import REGISTRY
from layers.exporters.rows import ExportError
from layers.exporters.service import export_to_file
from layers.models import Layer


class Command(BaseCommand):
    help = "Export a layer (filtered) to GeoJSON, GeoPackage, zipped Shapefile, CSV, KML or XLSX."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--format", default="geojson", choices=sorted(REGISTRY))
        parser.add_argument("--output", type=Path, required=True)
        parser.add_argument("--srid", type=int, default=4326, help="4326 (WGS 84) or 5899 (VN-2000 Lâm Đồng)")
        parser.add_argument("--commune", default="", help="GSO commune codes, comma-separated")
        parser.add_argument("--bbox", default="", help="minlon,minlat,maxlon,maxlat")
        parser.add_argument("--filter", action="append", default=[], help="attribute=value (repeatable)")
        parser.add_argument("--user", help="export with this user's rights (default: full rights)")

    def handle(self, *args: Any, **opts: Any) -> None:
        layer = Layer.objects.filter(slug=opts["slug"]).first()
        if layer is None:
            raise CommandError(f"no layer {opts['slug']}")
        if opts.get("user"):
            user = User.objects.filter(username=opts["user"]).first()
            if user is None:
                raise CommandError(f"no user {opts['user']}")
        else:
            # The operator at the console has full rights: an unsaved administrator stands in for them.
            user = User(username="console", is_superuser=True)
            user._ioc_roles = frozenset({roles.ADMINISTRATOR})  # type: ignore[attr-defined]
        filters = []
        for item in opts["filter"]:
            if "=" not in item:
                raise CommandError(f"--filter {item!r}: expected attribute=value")
            k, v = item.split("=", 1)
            filters.append((k.strip(), "eq", v.strip()))
        try:
            query = lq.FeatureQuery(
                bbox=lq.parse_bbox(opts["bbox"] or None),
                communes=[c.strip() for c in opts["commune"].split(",") if c.strip()],
                filters=filters,
            )
            out = export_to_file(layer, user, opts["format"], opts["output"], query, opts["srid"])
        except (ExportError, lq.QueryError) as exc:
            raise CommandError(str(exc)) from exc
        except lq.LayerNotFound as exc:
            raise CommandError(f"layer {opts['slug']} may not be exported by this user") from exc
        self.stdout.write(f"{layer.slug} → {out} ({out.stat().st_size} bytes, EPSG:{opts['srid']})")
