"""The real boundary files go out through every export format and come back through the importer with
identical attributes and geometry (Hausdorff distance in metres, EPSG:5899)."""

from __future__ import annotations

import json
from pathlib import Path

import pyogrio
import pytest
from django.db import connection

from gis_ioc import roles
from layers.exporters.service import export_to_file
from layers.importers.base import ImportOptions
from layers.importers.pipeline import run_import
from layers.models import Layer
from tests.conftest import make_user, shared_file

FORMATS = {"geojson": "geojson", "gpkg": "gpkg", "shp": "zip", "csv": "csv", "kml": "kml", "xlsx": "xlsx"}


def _rows(layer: Layer) -> dict[str, dict]:
    """Rows of an imported table by their GSO commune code column, with every attribute by catalog title."""
    attrs = [a for a in layer.attributes if a["name"] != "commune_code"]
    cols = ", ".join(f'"{a["name"]}"' for a in attrs)
    with connection.cursor() as cur:
        cur.execute(f'SELECT {cols}, ST_AsText(geom) FROM "{layer.source_table}"')
        out = {}
        for row in cur.fetchall():
            values = {a["title_vi"]: v for a, v in zip(attrs, row[:-1], strict=True)}
            out[str(row[-1])] = values
    return out


def _same(a: object, b: object, fmt: str) -> bool:
    if a in (None, "") and b in (None, ""):
        return True
    if isinstance(a, float) or isinstance(b, float):
        return abs(float(a) - float(b)) <= 1e-9 * max(1.0, abs(float(a)))  # type: ignore[arg-type]
    if fmt == "csv":  # CSV carries no types: "24931" may come back as the number 24931
        return str(a) == str(b)
    return a == b


@pytest.mark.django_db
@pytest.mark.parametrize("source", ["don_duong_communes.geojson", "lam_dong_communes.geojson"])
@pytest.mark.parametrize("fmt", list(FORMATS))
def test_boundaries_round_trip_through_every_format(district, tmp_path: Path, source: str, fmt: str) -> None:
    path = shared_file(source)
    original = json.loads(path.read_text(encoding="utf-8"))
    run_import(path, path.name, ImportOptions(target="new:orig"))
    layer = Layer.objects.get(slug="orig")
    admin = make_user("admin-rt", roles.ADMINISTRATOR)

    out = export_to_file(layer, admin, fmt, tmp_path / f"out.{FORMATS[fmt]}")
    report = run_import(out, out.name, ImportOptions(target="new:back"))
    back_layer = Layer.objects.get(slug="back")
    assert report["inserted"] == len(original["features"]) and report["rejected"] == 0

    exported_names = [a["name"] for a in layer.attributes]
    if fmt == "shp":  # DBF names are cut to 10 characters: match them by position
        with __import__("zipfile").ZipFile(out) as zf:
            zf.extractall(tmp_path / "shp")
        shp_names = list(pyogrio.read_info(next((tmp_path / "shp").glob("*.shp")))["fields"])
        rename = dict(zip(exported_names, shp_names, strict=True))
    else:
        rename = {n: n for n in exported_names}
    back_attrs = {a["title_vi"].lower(): a["name"] for a in back_layer.attributes}
    fields = [f for f in original["features"][0]["properties"]]
    with connection.cursor() as cur:
        for feature in original["features"]:
            props = feature["properties"]
            cur.execute(
                f"SELECT {', '.join(chr(34) + back_attrs[rename[f].lower()] + chr(34) for f in fields)}, "
                f"ST_HausdorffDistance(ST_Transform(geom, 5899), ST_Transform(ST_SetSRID("
                f"ST_GeomFromGeoJSON(%s), 4326), 5899)) FROM {back_layer.source_table} "
                f'WHERE "{back_attrs[rename["name"].lower()]}" = %s AND '
                f'"{back_attrs[rename["full_name"].lower()]}" = %s',
                [json.dumps(feature["geometry"]), props["name"], props["full_name"]],
            )
            rows = cur.fetchall()
            assert len(rows) >= 1, props["full_name"]
            row = min(rows, key=lambda r: r[-1])
            for f, value in zip(fields, row[:-1], strict=True):
                assert _same(props[f], value, fmt), (fmt, props["full_name"], f, props[f], value)
            assert row[-1] < 0.01, (fmt, props["full_name"], row[-1])


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["gpkg", "shp", "geojson"])
def test_an_export_in_vn2000_declares_its_crs_and_comes_back_in_place(district, tmp_path: Path, fmt: str) -> None:
    path = shared_file("don_duong_communes.geojson")
    run_import(path, path.name, ImportOptions(target="new:orig"))
    admin = make_user("admin-vn", roles.ADMINISTRATOR)
    out = export_to_file(Layer.objects.get(slug="orig"), admin, fmt, tmp_path / f"out.{FORMATS[fmt]}", srid=5899)
    report = run_import(out, out.name, ImportOptions(target="new:back"))
    assert (report["srid"], report["crs_source"]) == (5899, "declared")
    with connection.cursor() as cur:
        cur.execute(
            "SELECT max(ST_HausdorffDistance(ST_Transform(a.geom, 5899), ST_Transform(b.geom, 5899))) "
            "FROM imp_orig a JOIN imp_back b ON a.full_name = b.full_name"
        )
        assert cur.fetchone()[0] < 0.01
