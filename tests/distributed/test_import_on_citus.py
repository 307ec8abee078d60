"""The normal import pipeline (staging temp tables, one INSERT … SELECT, UPDATE … FROM for upserts) into
distributed tables, and a new layer from a CSV (which stays a table on the coordinator: a tested difference)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import connection

from gis_ioc import distributed
from layers.importers.base import ImportOptions
from layers.importers.pipeline import run_import
from layers.models import LandParcel, Layer
from tests.distributed.conftest import decode, tile_of
from tests.layers import import_files as files

pytestmark = pytest.mark.django_db


def _import(path: Path, **options: object) -> dict:
    return run_import(path, path.name, ImportOptions(**options))  # type: ignore[arg-type]


def test_a_geopackage_of_parcels_lands_in_the_shards_and_a_reimport_with_a_key_upserts(
    district, tmp_path, client, gis_staff
):
    gpkg = tmp_path / "thua_dat.gpkg"
    files.parcels(8).to_file(gpkg, layer="thua_dat", driver="GPKG")
    version = Layer.objects.get(slug="land-parcels").version
    report = _import(gpkg, target="land-parcels", layer="thua_dat", mapping=files.PARCEL_MAPPING)
    assert report["inserted"] == 8
    assert LandParcel.objects.filter(commune_code="24931", sheet_number=7).count() == 8
    assert Layer.objects.get(slug="land-parcels").version > version  # the one change signal fired

    changed = files.parcels(8)
    changed["MDSD"] = "BHK"
    again = tmp_path / "again.gpkg"
    changed.to_file(again, layer="thua_dat", driver="GPKG")
    report = _import(
        again,
        target="land-parcels",
        layer="thua_dat",
        mapping=files.PARCEL_MAPPING,
        key=["sheet_number", "parcel_number"],
    )
    assert (report["inserted"], report["updated"]) == (0, 8)
    assert set(LandParcel.objects.values_list("land_use", flat=True)) == {"BHK"}

    parcel = LandParcel.objects.get(sheet_number=7, parcel_number=3)
    client.force_login(gis_staff)
    z, x, y = tile_of(parcel.geom.centroid.x, parcel.geom.centroid.y, 16)
    features = decode(client.get(f"/tiles/land-parcels/{z}/{x}/{y}.mvt"))["land-parcels"]["features"]
    assert {f["properties"]["land_use"] for f in features if f["id"] == parcel.pk} == {"BHK"}


def test_a_csv_becomes_a_new_layer_kept_on_the_coordinator_and_served_like_any_other(district, tmp_path, client):
    cm = files.communes().head(2)
    csv = tmp_path / "vung.csv"
    csv.write_text(
        "ma,ten,wkt\n" + "".join(f'{r.gso_commune_code},{r.full_name},"{r.geometry.wkt}"\n' for r in cm.itertuples()),
        "utf-8",
    )
    report = _import(csv, target="new:vung")
    assert report["inserted"] == 2
    # Difference: a table created by an import is a plain table on the coordinator (not distributed); run
    # manage.py citus_distribute's SQL by hand for one that grows (docs/scaling.md, section Citus).
    assert "imp_vung" not in distributed.table_kinds()
    with connection.cursor() as cursor:
        cursor.execute("SELECT ten FROM imp_vung WHERE ma = 24931")
        assert cursor.fetchone() == ("Thị trấn Thạnh Mỹ",)
    layer = Layer.objects.get(slug="vung")
    layer.visibility = "public"
    layer.save()
    response = client.get("/api/v1/layers/vung/features/")
    assert response.status_code == 200
