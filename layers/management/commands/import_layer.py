"""manage.py import_layer FILE --target land-parcels|new:<slug> [--mapping …] — the command-line door of the
import pipeline (the same preview and commit as the web page and the API, with a progress bar)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser

from layers.importers import jobs
from layers.importers.pipeline import ImportRejected, run_import
from layers.importers.safety import ImportRefused


class ProgressBar:
    """A one-line progress bar on stderr (redrawn in place on a terminal, one line per step otherwise)."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.last = -1
        self.tty = stream.isatty()

    def __call__(self, percent: int, message: str) -> None:
        if percent == self.last:
            return
        self.last = percent
        filled = percent * 30 // 100
        line = f"[{'#' * filled}{'.' * (30 - filled)}] {percent:3d}% {message}"
        self.stream.write(("\r" + line.ljust(100)) if self.tty else line + "\n")
        self.stream.flush()


class Command(BaseCommand):
    help = "Import a GIS file (GeoJSON, zipped Shapefile, GeoPackage, KML/KMZ, CSV, XLSX, GeoTIFF) into a layer."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--target", default="", help="sector layer slug (land-parcels) or new:<slug>")
        parser.add_argument("--mapping", default="", help="field=COLUMN,… or JSON or a saved mapping name")
        parser.add_argument("--layer", help="layer inside a GeoPackage/KML/zip")
        parser.add_argument("--srid", type=int, help="EPSG code overriding the declared/guessed CRS")
        parser.add_argument("--swap-xy", dest="swap_xy", action="store_true", default=None)
        parser.add_argument("--no-swap-xy", dest="swap_xy", action="store_false")
        parser.add_argument("--encoding", help="utf-8, cp1258, tcvn3 or vni (overrides detection)")
        parser.add_argument("--skip-bad-rows", action="store_true", help="write good rows, export the rejects")
        parser.add_argument("--key", default="", help="upsert key: target fields, comma-separated")
        parser.add_argument("--title", default="", help="title of a new layer")
        parser.add_argument("--x-field")
        parser.add_argument("--y-field")
        parser.add_argument("--wkt-field")
        parser.add_argument("--save-mapping", help="save the mapping under this name")
        parser.add_argument("--preview", action="store_true", help="only show what the file holds")
        parser.add_argument("--user", help="record the import as this user")

    def handle(self, *args: Any, **opts: Any) -> None:
        path: Path = opts["file"]
        if not path.exists():
            raise CommandError(f"{path}: no such file")
        data = {
            k: opts.get(k)
            for k in ("target", "layer", "srid", "encoding", "key", "title", "x_field", "y_field", "wkt_field")
        }
        data.update(
            mapping=opts["mapping"],
            skip_bad_rows="1" if opts["skip_bad_rows"] else "",
            swap_xy="" if opts["swap_xy"] is None else str(opts["swap_xy"]),
        )
        user = User.objects.filter(username=opts["user"]).first() if opts.get("user") else None
        try:
            options = jobs.options_from(data)
            if opts["preview"]:
                summary = jobs.inspect_file(path.resolve(), path.name, options)
                self.stdout.write(json.dumps(summary, ensure_ascii=False, indent=2, default=str))
                return
            if opts.get("save_mapping"):
                jobs.save_mapping(opts["save_mapping"], options, user)
            report = run_import(
                path.resolve(),
                path.name,
                options,
                user=user,
                progress=ProgressBar(getattr(self.stderr, "_out", sys.stderr)),
            )
        except ImportRejected as exc:
            for issue in exc.report["issues"][:20]:
                self.stderr.write(
                    f"{path.name}: row {issue['row']}, field {issue['field']}: {issue['reason']}"
                    + (f" ({issue['value']})" if issue.get("value") else "")
                )
            raise CommandError(f"{path.name}: {exc}") from exc
        except ImportRefused as exc:
            raise CommandError(f"{path.name}: {exc}") from exc
        self.stderr.write("")
        self.stdout.write(
            f"{path.name} → {report.get('target')}: {report['inserted']} inserted, {report['updated']} updated, "
            f"{report['rejected']} rejected (EPSG:{report.get('srid')}, {report.get('crs_source', '')}"
            f"{', axes swapped' if report.get('swapped') else ''}, encoding {report.get('encoding') or '—'})"
        )
        if report.get("repaired"):
            self.stdout.write(f"repaired geometries (rows): {', '.join(map(str, report['repaired'][:50]))}")
        if report.get("outside_district"):
            self.stdout.write(f"outside the district (rows): {', '.join(map(str, report['outside_district'][:50]))}")
        if report.get("rejects_file"):
            self.stdout.write(f"rejected rows written to MEDIA_ROOT/{report['rejects_file']}")
