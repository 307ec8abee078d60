"""manage.py parcel_slopes [--raster slope]: each parcel's mean slope, for the landslide-exposure statistics."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from analysis.registry import AnalysisError
from layers import landslide


class Command(BaseCommand):
    help = "Compute every land parcel's mean slope from a slope raster layer (landslide exposure)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--raster", default="slope", help="slug of the slope raster layer (degrees)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            count = landslide.compute(options["raster"], stdout=self.stdout)
        except AnalysisError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(self.style.SUCCESS(f"{count:,} thửa đất / parcels"))
