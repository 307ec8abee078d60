"""The province demo (`manage.py load_demo --scale province`, `make demo SCALE=province`): the 148 real
communes of Lâm Đồng (before the 2025 reforms) from ../shared/data, filled by the same generator as the
Đơn Dương demo at Đơn Dương's densities — about 2 million parcels on 9,787 km².

Counts that the generator takes as totals for the district (petitions, dossiers, household businesses)
are multiplied by the ratio of the loaded area to Đơn Dương's; the others are per commune already
(parcels per map sheet, schools and clinics per commune, revenue and indicators per commune and month).
"""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings
from django.core.management.base import CommandError
from django.db import connection

# Đơn Dương's area (km²), the reference of the district demo's totals.
DISTRICT_AREA_KM2 = 612.0
PROVINCE_FILE = "lam_dong_communes.geojson"
# The file's fields (SOURCES.md of ../shared/data): GSO commune codes repeat there (140 for 148 units), so the
# census 2009 identifier is the unit code, as in the reform tests.
PROVINCE_FILE_ARGS = [
    "--code-field=census2009_commune_id",
    "--name-field=full_name",
    "--type-field=type",
    "--ascii-field=name_ascii",
    "--population-field=2009=pop_2009",
    "--population-field=2019=pop_2019",
    "--district-field=gso_district_code:district_full",
    "--province-field=gso_province_code:province",
]


def shared_province_file() -> Path:
    """../shared/data/lam_dong_communes.geojson next to the checkout (IOC_SHARED_DATA elsewhere)."""
    folder = Path(os.environ.get("IOC_SHARED_DATA") or Path(settings.BASE_DIR).parent / "shared" / "data")
    path = folder / PROVINCE_FILE
    if not path.exists():
        raise CommandError(
            f"{PROVINCE_FILE} not found in {folder}: give the province's communes with --boundaries FILE "
            "or set IOC_SHARED_DATA to the folder holding it."
        )
    return path


def density_scale(only: list[str] | None = None) -> float:
    """Area of the current communes loaded (or of `only`) over Đơn Dương's: the factor for district totals."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(sum(ST_Area(geom::geography)), 0) / 1e6 FROM gis_ioc_adminunit "
            "WHERE level = 'commune' AND valid_from <= CURRENT_DATE AND (valid_to IS NULL OR valid_to > CURRENT_DATE) "
            "AND (%s::varchar[] IS NULL OR code = ANY(%s::varchar[]))",
            [only, only],
        )
        area = float(cursor.fetchone()[0])
    if area <= 0:
        raise CommandError("No commune loaded for the province demo (check --province-communes).")
    return area / DISTRICT_AREA_KM2
