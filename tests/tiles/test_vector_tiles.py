"""Vector tiles: features and attributes as a map client decodes them, with permissions and filters."""

from __future__ import annotations

import datetime as dt
import gzip

import pytest
from django.utils import timezone

from tests.factories import (
    DossierFactory,
    HouseholdBusinessFactory,
    PetitionFactory,
    PlanningPlanFactory,
    PlanningZoneFactory,
    SchoolFactory,
)
from tests.tiles.conftest import decode, tile_of

pytestmark = pytest.mark.django_db


def url(slug, z, x, y, query=""):
    return f"/tiles/{slug}/{z}/{x}/{y}.mvt" + (f"?{query}" if query else "")


def test_a_school_tile_holds_the_school_with_only_its_whitelisted_attributes(client, district):
    school = SchoolFactory(name="Trường Tiểu học Lạc Xuân", pupils=321, in_commune="24934")
    z, x, y = tile_of(school.geom.x, school.geom.y, 14)
    response = client.get(url("schools", z, x, y), HTTP_ACCEPT_ENCODING="gzip")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.mapbox-vector-tile"
    assert response["Content-Encoding"] == "gzip"
    features = decode(response)["schools"]["features"]
    props = next(f["properties"] for f in features if f["id"] == school.pk)
    assert props["name"] == "Trường Tiểu học Lạc Xuân"
    assert props["pupils"] == 321
    assert props["commune_code"] == "24934"
    assert "is_demo" not in props and "created_at" not in props


def test_private_attributes_reach_only_the_roles_the_catalog_names(client, district, gis_staff, agency_staff):
    shop = HouseholdBusinessFactory(owner_name="Nguyễn Thị Nhung", owner_id_number="068190001234")
    z, x, y = tile_of(shop.geom.x, shop.geom.y, 15)
    client.force_login(gis_staff)
    staff_props = decode(client.get(url("household-businesses", z, x, y)))["household-businesses"]["features"][0]
    assert staff_props["properties"]["name"] == shop.name
    assert "owner_name" not in staff_props["properties"]
    assert "owner_id_number" not in staff_props["properties"]
    client.force_login(agency_staff)
    agency = decode(client.get(url("household-businesses", z, x, y)))["household-businesses"]["features"][0]
    assert agency["properties"]["owner_id_number"] == "068190001234"


def test_a_scoped_officer_gets_only_features_of_their_communes(client, district, scoped_officer):
    inside = PetitionFactory(in_commune="24931")
    outside = PetitionFactory(in_commune="24928")
    client.force_login(scoped_officer)
    features = decode(client.get(url("petitions", 8, *tile_of(108.5, 11.8, 8)[1:])))["petitions"]["features"]
    ids = {f["id"] for f in features}
    assert inside.pk in ids and outside.pk not in ids


def test_an_empty_tile_is_204_no_content(client, district):
    SchoolFactory()
    response = client.get(url("schools", 14, 0, 0))
    assert response.status_code == 204
    assert response.content == b""


def test_tiles_carry_etag_and_cache_control_and_answer_304_when_unchanged(client, district):
    school = SchoolFactory()
    z, x, y = tile_of(school.geom.x, school.geom.y, 13)
    first = client.get(url("schools", z, x, y))
    assert first.status_code == 200
    assert first["ETag"] and "no-cache" in first["Cache-Control"] and "public" in first["Cache-Control"]
    again = client.get(url("schools", z, x, y), HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    assert again.content == b""


def test_a_client_without_gzip_gets_the_plain_tile(client, district):
    school = SchoolFactory()
    z, x, y = tile_of(school.geom.x, school.geom.y, 13)
    response = client.get(url("schools", z, x, y), HTTP_ACCEPT_ENCODING="identity")
    assert "Content-Encoding" not in response
    assert decode(response)["schools"]["features"]


def test_the_commune_layer_draws_the_current_communes(client, district):
    features = decode(client.get(url("communes", 10, *tile_of(108.53, 11.78, 10)[1:])))["communes"]["features"]
    codes = {f["properties"]["code"] for f in features}
    assert "24955" in codes and "24946" not in codes  # Quảng Lập absorbed Pró in 2025
    assert all(f["geometry"]["type"] in {"Polygon", "MultiPolygon"} for f in features)


def test_the_commune_filter_keeps_the_named_communes(client, district):
    a = PetitionFactory(in_commune="24931")
    b = PetitionFactory(in_commune="24928")
    z, x, y = tile_of(108.5, 11.8, 8)
    ids = {f["id"] for f in decode(client.get(url("petitions", z, x, y, "commune=24928")))["petitions"]["features"]}
    assert ids == {b.pk} and a.pk not in ids


def test_the_plan_filter_shows_one_plans_zones(client, district):
    plan_a, plan_b = PlanningPlanFactory(), PlanningPlanFactory()
    zone_a = PlanningZoneFactory(plan=plan_a, in_commune="24931")
    PlanningZoneFactory(plan=plan_b, in_commune="24931")
    z, x, y = tile_of(108.5, 11.8, 10)
    features = decode(client.get(url("planning-zones", z, x, y, f"plan={plan_a.pk}")))["planning-zones"]["features"]
    assert [f["id"] for f in features] == [zone_a.pk]
    assert features[0]["properties"]["plan_id"] == plan_a.pk


def test_the_date_range_filters_on_the_layers_temporal_field(client, district):
    old = PetitionFactory(received_at=timezone.make_aware(dt.datetime(2023, 5, 1, 9)))
    new = PetitionFactory(received_at=timezone.make_aware(dt.datetime(2024, 6, 30, 16)))
    z, x, y = tile_of(108.5, 11.8, 8)
    ids = {
        f["id"]
        for f in decode(client.get(url("petitions", z, x, y, "start=2024-06-01&end=2024-06-30")))["petitions"][
            "features"
        ]
    }
    assert ids == {new.pk} and old.pk not in ids


def test_tabular_dossiers_are_drawn_with_their_commune_boundary(client, district, gis_staff):
    dossier = DossierFactory(in_commune="24937", received_date=dt.date(2024, 3, 1))
    DossierFactory(in_commune="24937", received_date=dt.date(2022, 3, 1))
    client.force_login(gis_staff)
    z, x, y = tile_of(108.5, 11.8, 8)
    features = decode(client.get(url("dossiers", z, x, y, "start=2024-01-01")))["dossiers"]["features"]
    assert [f["id"] for f in features] == [dossier.pk]
    assert features[0]["geometry"]["type"] in {"Polygon", "MultiPolygon"}
    assert features[0]["properties"]["received_date"] == "2024-03-01"


@pytest.mark.parametrize(
    ("query", "fragment"),
    [("start=2024-13-01", "YYYY-MM-DD"), ("plan=abc", "plan"), ("commune=abc", "abc")],
)
def test_a_malformed_filter_is_a_400_that_says_what_is_wrong(client, district, query, fragment):
    response = client.get(url("petitions", 10, 815, 475, query))
    assert response.status_code == 400
    assert fragment in response.json()["detail"]


def test_a_filter_the_layer_cannot_apply_is_a_400(client, district):
    response = client.get(url("schools", 10, 815, 475, "plan=1"))
    assert response.status_code == 400


def test_the_composite_tile_holds_several_layers(client, district):
    school = SchoolFactory(in_commune="24931")
    PetitionFactory(in_commune="24931")
    z, x, y = tile_of(school.geom.x, school.geom.y, 10)
    response = client.get(f"/tiles/composite/{z}/{x}/{y}.mvt?layers=schools,petitions,communes")
    assert response.status_code == 200
    layers = decode(response)
    assert {"schools", "petitions", "communes"} <= set(layers)
    assert gzip.decompress(response.content) if response.get("Content-Encoding") == "gzip" else response.content


def test_the_composite_refuses_a_private_layer_to_an_anonymous_user(client, district):
    response = client.get("/tiles/composite/10/815/475.mvt?layers=schools,land-parcels")
    assert response.status_code == 404
