"""Edits reach the map on the next request; tiles the edit did not touch stay cached."""

from __future__ import annotations

import pytest
from django.contrib.gis.geos import Point

from layers.models import Layer
from tests.factories import PetitionFactory, SchoolFactory, point_in
from tests.tiles.conftest import decode, tile_of

pytestmark = pytest.mark.django_db


def url(slug, z, x, y):
    return f"/tiles/{slug}/{z}/{x}/{y}.mvt"


def names(response, layer="schools"):
    return (
        {f["properties"]["name"] for f in decode(response)[layer]["features"]} if response.status_code == 200 else set()
    )


def test_a_feature_edit_purges_its_tiles_and_leaves_the_others_cached(
    client, district, django_capture_on_commit_callbacks
):
    edited = SchoolFactory(name="Trường A", in_commune="24931")
    other = SchoolFactory(name="Trường B", in_commune="24928")
    t_edited = tile_of(edited.geom.x, edited.geom.y, 14)
    t_other = tile_of(other.geom.x, other.geom.y, 14)
    assert t_edited != t_other
    assert client.get(url("schools", *t_edited))["X-Cache"] == "MISS"
    assert client.get(url("schools", *t_other))["X-Cache"] == "MISS"
    assert client.get(url("schools", *t_edited))["X-Cache"] == "HIT"

    layer = Layer.objects.get(slug="schools")
    old_geom = edited.geom.clone()
    edited.name = "Trường A (đổi tên)"
    edited.save()
    with django_capture_on_commit_callbacks(execute=True):
        layer.record_change([old_geom, edited.geom])

    changed = client.get(url("schools", *t_edited))
    assert changed["X-Cache"] == "MISS"
    assert names(changed) == {"Trường A (đổi tên)"}
    untouched = client.get(url("schools", *t_other))
    assert untouched["X-Cache"] == "HIT"
    assert names(untouched) == {"Trường B"}


def test_moving_a_feature_clears_both_its_old_and_new_tiles(client, district, django_capture_on_commit_callbacks):
    school = SchoolFactory(name="Trường di dời", in_commune="24931")
    old_tile = tile_of(school.geom.x, school.geom.y, 14)
    target: Point = point_in("24928", 77)
    new_tile = tile_of(target.x, target.y, 14)
    assert client.get(url("schools", *old_tile)).status_code == 200
    assert client.get(url("schools", *new_tile)).status_code == 204  # cached as empty

    old_geom = school.geom.clone()
    school.geom = target
    school.save()
    with django_capture_on_commit_callbacks(execute=True):
        layer = Layer.objects.get(slug="schools")
        layer.record_change([old_geom, school.geom])

    assert client.get(url("schools", *old_tile)).status_code == 204
    assert names(client.get(url("schools", *new_tile))) == {"Trường di dời"}


def test_a_touch_nobody_accounted_for_drops_the_whole_layer_cache(client, district):
    a = SchoolFactory(name="Trường A", in_commune="24931")
    b = SchoolFactory(name="Trường B", in_commune="24928")
    tiles = [tile_of(s.geom.x, s.geom.y, 14) for s in (a, b)]
    for t in tiles:
        client.get(url("schools", *t))
    b.name = "Trường B (nhập lại)"
    b.save()
    Layer.objects.get(slug="schools").record_change()  # e.g. an import
    assert [client.get(url("schools", *t))["X-Cache"] for t in tiles] == ["MISS", "MISS"]
    assert names(client.get(url("schools", *tiles[1]))) == {"Trường B (nhập lại)"}


def test_a_change_without_geometries_drops_every_tile_of_the_layer(
    client, district, django_capture_on_commit_callbacks
):
    school = SchoolFactory()
    t = tile_of(school.geom.x, school.geom.y, 13)
    client.get(url("schools", *t))
    with django_capture_on_commit_callbacks(execute=True):
        Layer.objects.get(slug="schools").record_change()
    assert client.get(url("schools", *t))["X-Cache"] == "MISS"


def test_users_who_see_different_attributes_never_share_a_cached_tile(client, district, agency_staff):
    petition = PetitionFactory(reporter_name="Trần Văn An")
    t = tile_of(petition.geom.x, petition.geom.y, 14)
    anonymous = decode(client.get(url("petitions", *t)))["petitions"]["features"][0]["properties"]
    client.force_login(agency_staff)
    staff = decode(client.get(url("petitions", *t)))["petitions"]["features"][0]["properties"]
    client.logout()
    again = decode(client.get(url("petitions", *t)))["petitions"]["features"][0]["properties"]
    assert "reporter_name" not in anonymous and "reporter_name" not in again
    assert staff["reporter_name"] == "Trần Văn An"


def test_the_purge_covers_every_cached_zoom(client, district, django_capture_on_commit_callbacks):
    school = SchoolFactory()
    zooms = [tile_of(school.geom.x, school.geom.y, z) for z in (8, 12, 16)]
    for t in zooms:
        client.get(url("schools", *t))
    with django_capture_on_commit_callbacks(execute=True):
        layer = Layer.objects.get(slug="schools")
        layer.record_change([school.geom])
    assert [client.get(url("schools", *t))["X-Cache"] for t in zooms] == ["MISS", "MISS", "MISS"]
