"""Vector tiles of the distributed parcels and petitions: ST_AsMVT over the shards, merged on the coordinator."""

from __future__ import annotations

import pytest

from tests.distributed.conftest import decode, tile_of
from tests.factories import LandParcelFactory, PetitionFactory

pytestmark = pytest.mark.django_db


def url(slug: str, z: int, x: int, y: int) -> str:
    return f"/tiles/{slug}/{z}/{x}/{y}.mvt"


def test_a_parcel_tile_holds_the_parcels_of_every_shard_it_covers(client, district, gis_staff):
    here = LandParcelFactory(in_commune="24931", sheet_number=4, parcel_number=17, land_use="ONT")
    z, x, y = tile_of(here.geom.centroid.x, here.geom.centroid.y, 14)
    client.force_login(gis_staff)
    response = client.get(url("land-parcels", z, x, y))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.mapbox-vector-tile"
    features = decode(response)["land-parcels"]["features"]
    props = next(f["properties"] for f in features if f["id"] == here.pk)
    assert props["sheet_number"] == 4 and props["parcel_number"] == 17 and props["land_use"] == "ONT"
    assert props["commune_code"] == "24931"


def test_a_district_tile_merges_parcels_of_two_communes_living_on_different_shards(client, district, gis_staff):
    a = LandParcelFactory(in_commune="24931")
    b = LandParcelFactory(in_commune="24937")
    client.force_login(gis_staff)
    # Zoom 13 is the layer's minimum; the district spans a few tiles: gather the two parcels' tiles.
    ids = set()
    for parcel in (a, b):
        z, x, y = tile_of(parcel.geom.centroid.x, parcel.geom.centroid.y, 13)
        ids |= {f["id"] for f in decode(client.get(url("land-parcels", z, x, y)))["land-parcels"]["features"]}
    assert {a.pk, b.pk} <= ids


def test_a_scoped_officer_gets_only_the_petitions_of_their_communes(client, district, scoped_officer):
    inside = PetitionFactory(in_commune="24931")
    outside = PetitionFactory(in_commune="24928")
    client.force_login(scoped_officer)
    features = decode(client.get(url("petitions", 8, *tile_of(108.5, 11.8, 8)[1:])))["petitions"]["features"]
    ids = {f["id"] for f in features}
    assert inside.pk in ids and outside.pk not in ids
