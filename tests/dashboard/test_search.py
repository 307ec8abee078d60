"""The search box: accents ignored, parcels by commune + sheet + parcel, tracking codes, scoped."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def labels(client, q):
    r = client.get("/dashboard/api/search", {"q": q})
    assert r.status_code == 200
    return [(x["kind"], x["label"]) for x in r.json()["results"]]


def test_a_commune_is_found_without_accents(demo, anon_client):
    assert ("commune", "Thị trấn Thạnh Mỹ") in labels(anon_client, "thanh my")
    assert ("commune", "Xã Đạ Ròn") in labels(anon_client, "da ron")


def test_facilities_are_found_without_accents(demo, anon_client):
    from layers.models import School

    name = School.objects.first().name  # "Trường Tiểu học số N"
    found = labels(anon_client, name.replace("Trường Tiểu học", "truong tieu hoc"))
    assert ("schools", name) in found
    assert any(kind == "health-facilities" for kind, _ in labels(anon_client, "TRAM Y TE"))


def test_a_parcel_is_found_by_commune_sheet_and_number(demo, leader_client):
    for q in ("Thạnh Mỹ 12 345", "thanh my to 12 thua 345", "24931 12/345"):
        assert ("land-parcels", "Tờ 12, thửa 345") in labels(leader_client, q), q
    assert labels(leader_client, "Đạ Ròn 12 345") == []


def test_visitors_cannot_find_parcels(demo, anon_client):
    assert labels(anon_client, "Thạnh Mỹ 12 345") == []


def test_a_petition_is_found_by_its_tracking_code_without_personal_data(demo, anon_client):
    from petitions.models import Petition

    code = Petition.objects.order_by("tracking_code").last().tracking_code
    r = anon_client.get("/dashboard/api/search", {"q": code.lower()})
    results = r.json()["results"]
    assert [x["label"] for x in results] == [code]
    assert "Trần Văn An" not in r.content.decode()


def test_markup_in_the_query_is_never_echoed_as_markup(demo, anon_client):
    r = anon_client.get("/dashboard/api/search", {"q": '<img src=x onerror="alert(1)">'})
    assert r.status_code == 200
    assert r["Content-Type"] == "application/json"
    assert r.json() == {"results": []}
    assert b"<img" not in r.content


def test_a_scoped_user_only_finds_features_of_their_communes(demo, scoped_client):
    assert labels(scoped_client, "lac lam") == []
    assert ("commune", "Xã Đạ Ròn") in labels(scoped_client, "da ron")
    schools = [x for x in scoped_client.get("/dashboard/api/search", {"q": "truong"}).json()["results"]]
    assert schools and {x["commune_code"] for x in schools} <= {"24931", "24937"}
