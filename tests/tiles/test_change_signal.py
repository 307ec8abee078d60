"""One change signal: every writer (REST, admin, imports, the petitions workflow, notebooks) calls
`Layer.objects.record_change`, and the cached tiles of EVERY layer over the changed table are refreshed —
a second slug over the same model included. Before, REST edits bumped one layer and purged nothing, a
second layer over the same model kept stale tiles, and petitions hard-coded their slug.

Each test goes through the writer's real entry point, never through the cache by hand.
"""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from layers.models import Layer
from layers.registry import register_model_layer, register_table_layer
from tests.factories import PetitionFactory, SchoolFactory
from tests.tiles.conftest import decode, tile_of


def _url(slug: str, z: int, x: int, y: int) -> str:
    return f"/tiles/{slug}/{z}/{x}/{y}.mvt"


def _names(response, slug: str, field: str = "name") -> set[str]:
    if response.status_code == 204:
        return set()
    return {f["properties"].get(field) for f in decode(response)[slug]["features"]}


@pytest.fixture
def second_school_layer(district) -> Layer:
    """A second catalog layer over the schools table (public, like a published view of it)."""
    return register_model_layer(
        "layers.School",
        "schools-second",
        "Trường học (bản công khai)",
        "Schools (public copy)",
        visibility="public",
        attributes=[{"name": "name", "visibility": "public"}],
    )


def _warm(client, slugs: list[str], tile: tuple[int, int, int]) -> None:
    for slug in slugs:
        client.get(_url(slug, *tile))
        assert client.get(_url(slug, *tile))["X-Cache"] == "HIT"


def test_a_rest_edit_refreshes_every_layer_over_the_table(
    client, second_school_layer, gis_staff, django_capture_on_commit_callbacks
):
    school = SchoolFactory(name="Trường cũ", in_commune="24931")
    tile = tile_of(school.geom.x, school.geom.y, 14)
    client.force_login(gis_staff)
    _warm(client, ["schools", "schools-second"], tile)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.patch(
            f"/api/v1/layers/schools/features/{school.pk}/",
            json.dumps({"properties": {"name": "Trường mới"}}),
            content_type="application/json",
        )
    assert response.status_code == 200, response.content[:300]
    for slug in ("schools", "schools-second"):
        fresh = client.get(_url(slug, *tile))
        assert fresh["X-Cache"] == "MISS", slug
        assert _names(fresh, slug) == {"Trường mới"}


def test_a_rest_move_purges_the_old_and_the_new_place_only(
    client, second_school_layer, gis_staff, django_capture_on_commit_callbacks
):
    moved = SchoolFactory(name="Trường di dời", in_commune="24931")
    far = SchoolFactory(name="Trường xa", in_commune="24952")
    old_tile, far_tile = tile_of(moved.geom.x, moved.geom.y, 14), tile_of(far.geom.x, far.geom.y, 14)
    client.force_login(gis_staff)
    _warm(client, ["schools-second"], old_tile)
    _warm(client, ["schools-second"], far_tile)
    target = SchoolFactory.build(in_commune="24928").geom
    with django_capture_on_commit_callbacks(execute=True):
        response = client.patch(
            f"/api/v1/layers/schools/features/{moved.pk}/",
            json.dumps({"geometry": json.loads(target.geojson)}),
            content_type="application/json",
        )
    assert response.status_code == 200, response.content[:300]
    assert client.get(_url("schools-second", *old_tile)).status_code == 204  # the school left
    new_tile = tile_of(target.x, target.y, 14)
    assert "Trường di dời" in _names(client.get(_url("schools-second", *new_tile)), "schools-second")
    assert client.get(_url("schools-second", *far_tile))["X-Cache"] == "HIT"  # exactly the touched tiles


def test_an_admin_edit_refreshes_every_layer_over_the_table(
    admin_client, second_school_layer, django_capture_on_commit_callbacks
):
    school = SchoolFactory(name="Trường cũ", in_commune="24931")
    tile = tile_of(school.geom.x, school.geom.y, 14)
    _warm(admin_client, ["schools-second"], tile)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:layers_school_change", args=[school.pk]),
            {
                "name": "Trường đổi tên",
                "level": school.level,
                "ownership": school.ownership,
                "pupils": 500,
                "teachers": 30,
                "classrooms": 14,
                "figures_year": 2024,
                "geom": school.geom.ewkt,
            },
        )
    assert response.status_code == 302, response.content[:500]
    assert _names(admin_client.get(_url("schools-second", *tile)), "schools-second") == {"Trường đổi tên"}


def test_the_petitions_workflow_refreshes_every_layer_over_petitions(
    client, district, leader, django_capture_on_commit_callbacks
):
    from petitions import workflow

    register_model_layer(
        "petitions.Petition",
        "petitions-second",
        "Phản ánh (bản hai)",
        "Petitions (second)",
        visibility="public",
        attributes=[{"name": "status", "visibility": "public"}],
    )
    petition = PetitionFactory(status="received")
    tile = tile_of(petition.geom.x, petition.geom.y, 14)
    _warm(client, ["petitions-second"], tile)
    with django_capture_on_commit_callbacks(execute=True):
        workflow.transition(petition.pk, "verify", leader, "đã xác minh")
    assert _names(client.get(_url("petitions-second", *tile)), "petitions-second", "status") == {"verified"}


def test_a_reimport_refreshes_every_layer_over_the_imported_table(
    client, district, gis_staff, tmp_path, django_capture_on_commit_callbacks
):
    from layers.importers.base import ImportOptions
    from layers.importers.pipeline import run_import

    def write(name: str) -> object:
        path = tmp_path / "wells.geojson"
        feature = {
            "type": "Feature",
            "properties": {"code": "W1", "name": name},
            "geometry": {"type": "Point", "coordinates": [108.55, 11.78]},
        }
        path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}), encoding="utf-8")
        return path

    path = write("Giếng cũ")
    run_import(path, path.name, ImportOptions(target="new:gieng", title="Giếng"))
    table = Layer.objects.get(slug="gieng").source_table
    register_table_layer(table, "gieng-second", "Giếng (bản hai)", "Wells (second)")
    Layer.objects.filter(slug="gieng-second").update(
        attributes=[{"name": "name", "visibility": "staff"}, {"name": "code", "visibility": "staff"}]
    )
    tile = tile_of(108.55, 11.78, 14)
    client.force_login(gis_staff)
    _warm(client, ["gieng-second"], tile)
    path = write("Giếng mới")
    with django_capture_on_commit_callbacks(execute=True):
        run_import(path, path.name, ImportOptions(target="gieng", key=["code"]))
    assert _names(client.get(_url("gieng-second", *tile)), "gieng-second") == {"Giếng mới"}


def test_republishing_from_a_notebook_refreshes_the_layers_tiles(
    client, district, gis_staff, django_capture_on_commit_callbacks
):
    import geopandas as gpd
    from shapely.geometry import Point

    from gis_ioc.notebook import publish_layer

    def frame(name: str) -> gpd.GeoDataFrame:
        return gpd.GeoDataFrame({"name": [name]}, geometry=[Point(108.55, 11.78)], crs=4326)

    publish_layer(frame("Điểm cũ"), "diem", "Điểm", "Points", gis_staff, visibility="public")
    tile = tile_of(108.55, 11.78, 14)
    client.force_login(gis_staff)  # published attributes are staff-only
    _warm(client, ["diem"], tile)
    with django_capture_on_commit_callbacks(execute=True):
        publish_layer(frame("Điểm mới"), "diem", "Điểm", "Points", gis_staff, visibility="public")
    assert _names(client.get(_url("diem", *tile)), "diem") == {"Điểm mới"}
