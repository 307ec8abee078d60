"""REST and OGC API feature pages over distributed tables: bbox, commune filter, scope, counts and paging."""

from __future__ import annotations

import json

import pytest

from tests.factories import LandParcelFactory, PetitionFactory

pytestmark = pytest.mark.django_db


def body(response) -> dict:
    assert response.status_code == 200, response.content[:500]
    return json.loads(response.content)


def around(*features, pad: float = 0.0005) -> str:
    """minx,miny,maxx,maxy around the features' geometries (longitude first)."""
    xs = [c for f in features for c in (f.geom.extent[0], f.geom.extent[2])]
    ys = [c for f in features for c in (f.geom.extent[1], f.geom.extent[3])]
    return f"{min(xs) - pad},{min(ys) - pad},{max(xs) + pad},{max(ys) + pad}"


def test_a_rest_page_filters_parcels_by_bbox_and_commune_across_shards(client, district, gis_staff):
    mine = [LandParcelFactory(in_commune="24931", parcel_number=n) for n in (1, 2, 3)]
    other = LandParcelFactory(in_commune="24937")
    client.force_login(gis_staff)
    base = "/api/v1/layers/land-parcels/features/"
    data = body(client.get(f"{base}?bbox={around(*mine)}&limit=2&ordering=parcel_number"))
    assert data["numberMatched"] == 3 and [f["properties"]["parcel_number"] for f in data["features"]] == [1, 2]
    second = body(client.get(data["next"]))
    assert [f["properties"]["parcel_number"] for f in second["features"]] == [3]
    both = body(client.get(f"{base}?bbox={around(*mine, other)}"))
    assert {f["id"] for f in both["features"]} == {p.pk for p in [*mine, other]}
    only = body(client.get(f"{base}?bbox={around(*mine, other)}&commune=24937"))
    assert [f["id"] for f in only["features"]] == [other.pk]


def test_an_ogc_items_page_with_bbox_counts_and_pages_over_the_shards(client, district, gis_staff):
    parcels = [LandParcelFactory(in_commune=code) for code in ("24931", "24931", "24937", "24928")]
    client.force_login(gis_staff)
    items = "/ogc/collections/land-parcels/items"
    data = body(client.get(f"{items}?bbox={around(*parcels)}&limit=3&f=json"))
    assert data["numberMatched"] == 4 and data["numberReturned"] == 3
    rest = body(client.get(next(link["href"] for link in data["links"] if link["rel"] == "next")))
    assert {f["id"] for f in data["features"] + rest["features"]} == {p.pk for p in parcels}
    one = body(client.get(f"{items}/{parcels[2].pk}?f=json"))
    assert one["properties"]["commune_code"] == "24937"


def test_a_scoped_officer_pages_only_the_petitions_of_their_communes(client, district, scoped_officer):
    inside = [PetitionFactory(in_commune="24931"), PetitionFactory(in_commune="24937")]
    outside = PetitionFactory(in_commune="24928")
    client.force_login(scoped_officer)
    data = body(client.get("/api/v1/layers/petitions/features/?limit=50"))
    assert {f["id"] for f in data["features"]} == {p.pk for p in inside}
    ogc = body(client.get(f"/ogc/collections/petitions/items?bbox={around(*inside, outside)}&f=json"))
    assert {f["id"] for f in ogc["features"]} == {p.pk for p in inside} and ogc["numberMatched"] == 2
    assert client.get(f"/ogc/collections/petitions/items/{outside.pk}?f=json").status_code == 404
