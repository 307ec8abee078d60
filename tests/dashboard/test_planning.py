"""The planners' comparison of two plans."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_the_comparison_shows_changes_in_hectares_and_the_conflicting_parcel(demo, planner):
    from tests.dashboard.conftest import client_for

    client = client_for(planner)
    a, b = demo["plan_a"], demo["plan_b"]
    r = client.get("/planning/compare/", {"a": a.pk, "b": b.pk})
    assert r.status_code == 200
    change = next(x for x in r.context["changes"] if x["commune_code"] == "24931")
    assert (change["from_class"], change["to_class"]) == ("CLN", "ODT")
    assert 4 < change["hectares"] < 5.5  # a 0.002° square at 11.8° N: about 4.8 ha
    html = r.content.decode()
    assert 'id="changes-table"' in html and 'id="conflicts-table"' in html
    body = client.get("/planning/api/compare", {"a": a.pk, "b": b.pk, "commune": "24931"}).json()
    found = [(c["sheet_number"], c["parcel_number"], c["planned_land_use"]) for c in body["conflicts"]]
    assert found == [(12, 345, "ODT")]
    fc = client.get(f"/planning/api/plans/{b.pk}/conflicts", {"commune": "24931"}).json()
    assert [f["properties"]["parcel_number"] for f in fc["features"]] == [345]
    assert fc["total"] == 1 and fc["truncated"] is False
    # Another commune has none; the "group" rule keeps CLN -> ODT (agricultural to non-agricultural).
    assert client.get(f"/planning/api/plans/{b.pk}/conflicts", {"commune": "24937"}).json()["total"] == 0
    grouped = client.get(f"/planning/api/plans/{b.pk}/conflicts", {"commune": "24931", "rule": "group"}).json()
    assert grouped["total"] == 1
    assert client.get(f"/planning/api/plans/{b.pk}/conflicts", {"rule": "vibes"}).status_code == 400


def test_the_change_table_downloads_as_csv(demo, planner):
    from tests.dashboard.conftest import client_for

    client = client_for(planner)
    r = client.get("/dashboard/tables/plan-changes.csv", {"a": demo["plan_a"].pk, "b": demo["plan_b"].pk})
    assert r.status_code == 200
    assert "24931,Thị trấn Thạnh Mỹ,CLN,ODT," in r.content.decode("utf-8-sig")
    r = client.get("/dashboard/tables/conflicts.csv", {"plan": demo["plan_b"].pk})
    assert r.content.decode("utf-8-sig").splitlines()[1] == "24931,12,345,CLN,ODT,B-01"


def test_visitors_see_the_plans_but_not_the_parcels(demo, anon_client):
    r = anon_client.get("/planning/compare/", {"a": demo["plan_a"].pk, "b": demo["plan_b"].pk})
    assert r.status_code == 200 and r.context["changes"]
    assert r.context["can_see_parcels"] is False
    assert anon_client.get(f"/planning/api/plans/{demo['plan_b'].pk}/conflicts").status_code == 404


def test_the_same_plan_twice_or_an_unknown_plan_is_refused(demo, planner):
    from tests.dashboard.conftest import client_for

    client = client_for(planner)
    a = demo["plan_a"].pk
    r = client.get("/planning/api/compare", {"a": a, "b": a})
    assert r.status_code == 400 and "khác nhau" in r.json()["error"]
    assert client.get("/planning/api/compare", {"a": a, "b": 999999}).status_code == 404
    assert client.get("/planning/api/compare", {"a": a, "b": "x"}).status_code == 400
    assert client.get("/planning/compare/", {"a": a, "b": 999999}).status_code == 404
